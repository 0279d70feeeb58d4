/**
 * The agent: wires the pipeline (src/pipeline/pipeline.ts) to its exporters, runs it until a
 * signal, and stops it cleanly. Each job is its own unit: wiring.ts (exporters, provider, traces),
 * policy.ts (filter, redaction, subscription), signals.ts, reloader.ts (SIGHUP), pressure-control.ts,
 * loss-report.ts (cnproc.loss, cnproc.stats, downtime), shutdown.ts (teardown, once) and report.ts
 * (the log lines). The CLI loads the config and calls {@link runAgent}.
 */
import { ConfigError } from '../config/errors.js';
import type { AgentConfig } from '../config/schema.js';
import { readForkCount } from '../delivery/continuity.js';
import { namespaceReads } from '../kernel/config.js';
import { CaptureError } from '../kernel/errors.js';
import { logsUrl } from '../otel/otlp-exporter.js';
import { type ProcessLogs, startProcessLogs } from '../pipeline/pipeline.js';
import { readHostClock } from '../process/identity.js';
import { UserDb } from '../process/users.js';
import { metricsUrl } from '../telemetry/otlp-metrics.js';
import { SelfTelemetry } from '../telemetry/self-telemetry.js';
import type { TelemetrySnapshot } from '../telemetry/snapshot.js';
import { describeTraces } from '../traces/agent-traces.js';
import type { Logger } from '../util/log.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { LossReport } from './loss-report.js';
import { buildPolicy, describePolicy, type Policy } from './policy.js';
import { PressureControl, pressureStage } from './pressure-control.js';
import { Reloader } from './reloader.js';
import { describeExport, describeSubscription, stopReport } from './report.js';
import { teardown } from './shutdown.js';
import { installSignals } from './signals.js';
import { stopDocument, writeStopDocument } from './stop-document.js';
import { type Wiring, wire } from './wiring.js';

export { exporterKinds } from './wiring.js';

export interface AgentIo {
  stdout: NodeJS.WriteStream;
  log: Logger;
  version: string;
  /** Loads the configuration again from the same sources (SIGHUP); throws ConfigError. */
  reload?: () => AgentConfig;
}

/** Runs until SIGINT/SIGTERM (or a fatal error); resolves with the process exit code. */
export async function runAgent(config: AgentConfig, io: AgentIo): Promise<number> {
  const { log, stdout } = io;
  const host = readHostClock();
  const users = new UserDb();

  // Policy and exporters first: a bad rule, endpoint, header file or certificate is a
  // configuration error (78), found before the kernel hears from us.
  let policy: Policy;
  let w: Wiring;
  try {
    policy = buildPolicy(config, users);
    w = wire(config, { version: io.version, host, stdout, log, users, policy: () => reloader.policy });
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error(`config: ${err.message}`);
      return EXIT.CONFIG;
    }
    throw err;
  }

  const pressure = new PressureControl(pressureStage(config), config, log, w.ownLogger);
  let loss: LossReport | null = null;
  const reloader: Reloader = new Reloader({
    log,
    load: io.reload,
    users,
    config,
    policy,
    appliers: {
      log: (next) => log.setLevel(next.log.level),
      stats: (next) => loss?.setStatsInterval(next.stats.intervalMs),
      pressure: (next) => pressure.apply(next),
    },
  });

  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  // Signals before subscribing: a SIGTERM that arrives while starting (or seeding) is a clean stop too.
  let logs: ProcessLogs | null = null;
  const detach = installSignals({
    log,
    stdout,
    stop: (code) => finish(code),
    reload: () => reloader.hup(),
    emergencyUnsubscribe: () => logs?.source.emergencyUnsubscribe(),
  });
  const failed = { log, clean: false, exportTimeoutMs: config.batch.exportTimeoutMs, stopTimeoutMs: 0 };

  try {
    logs = await startPipeline(config, io, w, reloader.policy, users, pressure, (err) => {
      log.error(err.message);
      finish(exitCodeFor(err.category));
    });
  } catch (err) {
    await teardown({ wiring: w, detach }, failed);
    if (err instanceof CaptureError) {
      log.error(err.message);
      return exitCodeFor(err.category);
    }
    throw err;
  }
  const running = logs;
  pressure.start({ source: running.source, processors: w.processors, otlp: w.otlp });
  log.info(describeExport(w.kinds, logsUrl(config.otlp), config.otlp.protocol));
  if (w.traces) log.info(describeTraces(config));
  // Read right after subscribing: forks from here on are seen, so none is missed between the two.
  const forksAtStart = readForkCount();
  if (w.otlp) {
    log.info(`delivery: ${w.otlp.describe}`);
    const problem = w.otlp.continuity?.previousProblem;
    if (problem && problem !== 'missing') log.warn(`delivery: previous run's state unreadable (${problem}); no downtime report`);
  }

  let stopping = false;
  // The one snapshot of every counter: loss and stats records, metrics and the stop summary all read it.
  const snapshot = (): TelemetrySnapshot => {
    const s = running.stats();
    return {
      capture: s.capture,
      process: s.process,
      exporters: w.processors.map((p, i) => ({ name: w.exporterNames[i] ?? `exporter${i}`, stats: p.stats() })),
      emitted: s.emitted,
      filtered: s.filtered,
      lastEventTime: s.lastEventTime,
      subscribed: !stopping,
      pressure: pressure.stage.stats(),
      delivery: w.otlp?.delivery.stats() ?? null,
      workloads: w.workloads.stats(),
    };
  };

  let telemetry: SelfTelemetry | null = null;
  if (config.metrics.enabled || w.metricReaders.length > 0) {
    try {
      telemetry = await SelfTelemetry.start({
        host: config.metrics.host,
        port: config.metrics.port,
        listen: config.metrics.enabled,
        readers: w.metricReaders,
        resource: w.resource,
        snapshot,
      });
      if (config.metrics.enabled) log.info(`metrics on http://${config.metrics.host}:${telemetry.port}/metrics (also /healthz, /readyz)`);
      if (w.metricReaders.length > 0)
        log.info(`metrics pushed over OTLP to ${metricsUrl(config)} every ${config.metrics.otlpIntervalMs} ms`);
    } catch (err) {
      log.error((err as Error).message);
      await teardown({ wiring: w, detach, logs: running, pressure }, failed);
      return EXIT.CONFIG;
    }
  }

  // The first snapshot before the replay of what the previous run left, so that corrupt batches
  // found on the way show up in the first cnproc.loss record.
  loss = new LossReport({ snapshot, log, ownLogger: w.ownLogger, logs: running, otlp: w.otlp, forksAtStart });
  w.otlp?.delivery.kick();
  loss.start(config.capture.statsIntervalMs, config.stats.intervalMs);
  // SIGHUP from here on: every unit a reload can reach is running.
  reloader.attach(running);

  const code = await finished;
  stopping = true;
  await teardown(
    { wiring: w, detach, logs: running, pressure, loss, telemetry },
    {
      log,
      clean: true,
      exportTimeoutMs: config.batch.exportTimeoutMs,
      stopTimeoutMs: config.delivery.stopTimeoutMs,
      report: ({ flushed, delivered }) => {
        const input = {
          final: snapshot(),
          enrich: config.process.enrich,
          filter: reloader.policy.filter,
          spool: config.delivery.spool,
          flushed,
          delivered,
          otlpStored: w.otlpProcessor?.stats().exported ?? 0,
        };
        for (const line of stopReport(input)) log.info(line);
        if (config.log.reportFile) {
          try {
            writeStopDocument(config.log.reportFile, stopDocument(input));
          } catch (err) {
            log.error(`log.reportFile: cannot write ${config.log.reportFile}: ${(err as Error).message}`);
          }
        }
      },
    },
  );
  return code;
}

/** Starts the pipeline with the configured stages; logs what was subscribed and seeded. */
async function startPipeline(
  config: AgentConfig,
  io: AgentIo,
  w: Wiring,
  policy: Policy,
  users: UserDb,
  pressure: PressureControl,
  onError: (err: CaptureError) => void,
): Promise<ProcessLogs> {
  const t0 = performance.now();
  const logs = await startProcessLogs({
    pressure: pressure.stage,
    onBatchStart: pressure.onBatch,
    ...config.capture,
    loggerProvider: w.recordProvider,
    version: io.version,
    workloads: w.workloads,
    // The WorkloadResourceProcessor puts the names in each record's resource instead.
    workloadAttributes: false,
    redact: (argv) => policy.redactor.redactArgv(argv),
    filter: policy.filter,
    names: users,
    events: policy.events,
    exitNonzeroOnly: policy.exitNonzeroOnly,
    enrich: config.process.enrich,
    ancestryDepth: config.process.ancestryDepth,
    maxProcesses: config.process.maxProcesses,
    // Nothing to hash without the program file's identity.
    hashExecutables: config.process.hashExecutables &&
      config.process.executableFile && {
        maxFileBytes: config.process.hashMaxFileBytes,
        cacheEntries: config.process.hashCacheEntries,
        timeoutMs: config.process.hashTimeoutMs,
      },
    traceContext: w.traces?.traceContext,
    snapshot: {
      exec: config.process.enrich,
      fork: config.process.enrich && config.process.forkSnapshot,
      maxBytes: config.process.maxCommandLineBytes,
      namespaces: namespaceReads(config.process),
      executableFile: config.process.executableFile,
    },
    hostRoot: config.process.hostRoot,
    onError,
  });
  io.log.info(describeSubscription(logs.source.info, config.capture.receiveBufferBytes));
  io.log.info(describePolicy(policy));
  // Processes from the /proc scan get their spans when first needed (an event, or a child's fork).
  w.traces?.useProcessTable(logs.enricher.table);
  if (config.process.enrich)
    io.log.info(
      `process table seeded with ${logs.enricher.stats().processes} processes (${(performance.now() - t0).toFixed(0)} ms to start)`,
    );
  return logs;
}
