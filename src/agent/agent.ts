/**
 * The agent: capture → console, with loss reporting and a clean shutdown. The CLI is a thin
 * wrapper that loads the config and calls {@link runAgent}.
 */
import type { AgentConfig } from '../config/schema.js';
import { CaptureError } from '../kernel/errors.js';
import type { ProcEvent } from '../kernel/events.js';
import { type CaptureStats, ProcEventSource } from '../kernel/source.js';
import { ConsoleWriter, type ResolvedConsoleFormat } from '../output/console.js';
import { Enricher } from '../process/enricher.js';
import { readHostClock } from '../process/identity.js';
import type { EnrichedEvent } from '../process/model.js';
import { scanProc } from '../process/seed.js';
import { UserDb } from '../process/users.js';
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
  const users = new UserDb();
  const writer = new ConsoleWriter(format, (text) => stdout.write(text), users);
  const host = readHostClock();
  const enricher = new Enricher(host, { ancestryDepth: config.process.ancestryDepth, maxProcesses: config.process.maxProcesses });
  const enrichOn = config.process.enrich;
  const out: EnrichedEvent[] = [];
  const onEvents = (events: ProcEvent[]): void => {
    out.length = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as ProcEvent;
      out.push(
        enrichOn
          ? enricher.enrich(e, e.procSnapshot)
          : { event: e, process: undefined, parent: undefined, ancestors: [], previous: undefined, tracer: undefined, lifetimeNs: null },
      );
    }
    writer.writeBatch(out);
  };

  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });

  // Signals first: a SIGTERM that arrives while starting (or seeding) is a clean stop too.
  let source: ProcEventSource | undefined;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // A second signal while stopping: leave now, still unsubscribing.
      source?.emergencyUnsubscribe();
      process.exit(EXIT.OK);
    }
    log.info(`${sig}: stopping`);
    finish(EXIT.OK);
  };
  const onHup = (): void => log.warn('SIGHUP: configuration reload is not supported yet; keeping the running configuration');
  const onFatal = (err: unknown): void => {
    source?.emergencyUnsubscribe();
    log.error(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(EXIT.INTERNAL);
  };
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    // The reader went away (e.g. `| head`): stop cleanly rather than crash.
    if (err.code === 'EPIPE') finish(EXIT.OK);
    else onFatal(err);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  stdout.on('error', onStdoutError);
  const detach = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHup);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    stdout.off('error', onStdoutError);
  };

  try {
    source = await ProcEventSource.start({
      ...config.capture,
      snapshot: {
        exec: config.process.enrich,
        fork: config.process.enrich && config.process.forkSnapshot,
        maxBytes: config.process.maxCommandLineBytes,
      },
      onEvents,
      onError: (err) => {
        log.error(err.message);
        finish(exitCodeFor(err.category));
      },
    });
  } catch (err) {
    detach();
    if (err instanceof CaptureError) {
      log.error(err.message);
      return exitCodeFor(err.category);
    }
    throw err;
  }
  const src = source;
  log.info(describeSubscription(src.info, config.capture.receiveBufferBytes));
  if (enrichOn && signals === 0) {
    // After subscribing, so no process can start unseen between the scan and the first event.
    const t0 = performance.now();
    const seeded = scanProc(host, config.process.maxCommandLineBytes);
    enricher.seed(seeded);
    log.info(`process table seeded with ${seeded.length} processes from /proc in ${(performance.now() - t0).toFixed(0)} ms`);
  }

  let last: CaptureStats = src.stats();
  const statsTimer = setInterval(() => {
    const now = src.stats();
    const delta = lossDelta(last, now);
    if (delta) log.warn(delta);
    last = now;
  }, config.capture.statsIntervalMs);
  statsTimer.unref();

  const code = await finished;
  clearInterval(statsTimer);
  const final = await src.stop();
  const delta = lossDelta(last, final);
  if (delta) log.warn(delta);
  const es = enricher.stats();
  log.info(`stopped: ${describeLoss(final)}`);
  if (enrichOn) {
    log.info(
      `process table: ${es.processes} live, ${es.evicted} evicted; ${es.execs} execs, ${es.execIncomplete} with fields missing (flagged)`,
    );
  }
  detach();
  return code;
}
