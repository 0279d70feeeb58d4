/**
 * The agent: capture → console, with loss reporting and a clean shutdown. The CLI is a thin
 * wrapper that loads the config and calls {@link runAgent}.
 */
import type { AgentConfig } from '../config/schema.js';
import { CaptureError } from '../kernel/errors.js';
import { type CaptureStats, ProcEventSource } from '../kernel/source.js';
import { ConsoleWriter, type ResolvedConsoleFormat } from '../output/console.js';
import type { Logger } from '../util/log.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { describeLoss, describeSubscription, lossDelta } from './report.js';

export interface AgentIo {
  stdout: NodeJS.WriteStream;
  log: Logger;
}

/** Runs until SIGINT/SIGTERM (or a fatal error); resolves with the process exit code. */
export async function runAgent(config: AgentConfig, io: AgentIo): Promise<number> {
  const { log, stdout } = io;
  const format: ResolvedConsoleFormat = config.console.format === 'auto' ? (stdout.isTTY ? 'pretty' : 'json') : config.console.format;
  const writer = new ConsoleWriter(format, (text) => stdout.write(text));

  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });

  let source: ProcEventSource;
  try {
    source = await ProcEventSource.start({
      ...config.capture,
      onEvents: (events) => writer.writeBatch(events),
      onError: (err) => {
        log.error(err.message);
        finish(exitCodeFor(err.category));
      },
    });
  } catch (err) {
    if (err instanceof CaptureError) {
      log.error(err.message);
      return exitCodeFor(err.category);
    }
    throw err;
  }
  log.info(describeSubscription(source.info, config.capture.receiveBufferBytes));

  const onFatal = (err: unknown): void => {
    source.emergencyUnsubscribe();
    log.error(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(EXIT.INTERNAL);
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);

  let last: CaptureStats = source.stats();
  const statsTimer = setInterval(() => {
    const now = source.stats();
    const delta = lossDelta(last, now);
    if (delta) log.warn(delta);
    last = now;
  }, config.capture.statsIntervalMs);
  statsTimer.unref();

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // A second signal while stopping: leave now, still unsubscribing.
      source.emergencyUnsubscribe();
      process.exit(EXIT.OK);
    }
    log.info(`${sig}: stopping`);
    finish(EXIT.OK);
  };
  const onHup = (): void => log.warn('SIGHUP: configuration reload is not supported yet; keeping the running configuration');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    // The reader went away (e.g. `| head`): stop cleanly rather than crash.
    if (err.code === 'EPIPE') finish(EXIT.OK);
    else onFatal(err);
  });

  const code = await finished;
  clearInterval(statsTimer);
  const final = await source.stop();
  const delta = lossDelta(last, final);
  if (delta) log.warn(delta);
  log.info(`stopped: ${describeLoss(final)}`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onHup);
  process.off('uncaughtException', onFatal);
  process.off('unhandledRejection', onFatal);
  return code;
}
