/**
 * Process signals and fatal errors: SIGINT/SIGTERM stop (a second one leaves at once), SIGHUP
 * reloads, an uncaught error or a broken stdout ends the agent — each exit path unsubscribing
 * from the kernel first (a listener that never sends IGNORE keeps the kernel generating events).
 */
import type { Logger } from '../util/log.js';
import { EXIT } from './exit-codes.js';

export interface SignalHandlers {
  log: Logger;
  stdout: NodeJS.WriteStream;
  /** A clean stop was asked for, with this exit code. */
  stop: (code: number) => void;
  reload: () => void;
  /** Sends IGNORE synchronously (before process.exit). */
  emergencyUnsubscribe: () => void;
}

/** Installs the handlers; returns the function that removes them. */
export function installSignals(h: SignalHandlers): () => void {
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // A second signal while stopping: leave now, still unsubscribing.
      h.emergencyUnsubscribe();
      process.exit(EXIT.OK);
    }
    h.log.info(`${sig}: stopping`);
    h.stop(EXIT.OK);
  };
  const onHup = (): void => h.reload();
  const onFatal = (err: unknown): void => {
    h.emergencyUnsubscribe();
    h.log.error(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(EXIT.INTERNAL);
  };
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    // The reader went away (e.g. `| head`): stop cleanly rather than crash.
    if (err.code === 'EPIPE') h.stop(EXIT.OK);
    else onFatal(err);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  h.stdout.on('error', onStdoutError);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHup);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    h.stdout.off('error', onStdoutError);
  };
}
