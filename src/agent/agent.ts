/**
 * The agent: capture → process model → OpenTelemetry log records → console and/or OTLP, with loss
 * reporting in-band (cnproc.loss) and in the log, periodic cnproc.stats, and a clean shutdown.
 * The CLI loads the config and calls {@link runAgent}; the pipeline itself is the library's
 * startProcessLogs.
 */
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { AgentConfig } from '../config/schema.js';
import { readForkCount } from '../delivery/continuity.js';
import { createOtlpDelivery, type OtlpDelivery } from '../delivery/otlp-delivery.js';
import { EventFilter } from '../filter/filter.js';
import { Redactor } from '../filter/redact.js';
import { RuleError } from '../filter/rules.js';
import { CaptureError } from '../kernel/errors.js';
import type { HrTime } from '../kernel/events.js';
import { EVENT_TYPES, type EventType } from '../kernel/events.js';
import { AccountingLogRecordProcessor } from '../otel/accounting-processor.js';
import { type AgentCounters, downtimeRecord, lossRecord, statsRecord, stormRecord } from '../otel/agent-records.js';
import { ConsoleRecordExporter } from '../otel/console-exporter.js';
import { ExporterConfigError, logsUrl } from '../otel/otlp-exporter.js';
import { type ProcessLogs, SCOPE_NAME, startProcessLogs } from '../otel/process-logs.js';
import { buildResource } from '../otel/resource.js';
import { WorkloadResourceProcessor, WorkloadResources } from '../otel/workload-resource.js';
import type { StormSummary } from '../pressure/aggregator.js';
import { DEFAULT_LADDER, LEVELS } from '../pressure/ladder.js';
import { PressureStage } from '../pressure/pressure.js';
import { memoryInUse, memoryPressure, storePressure } from '../pressure/sources.js';
import { setCgroupHostRoot } from '../process/container.js';
import { readHostClock } from '../process/identity.js';
import { UserDb } from '../process/users.js';
import { WorkloadResolver } from '../process/workload.js';
import { createOtlpMetricReader, metricsUrl } from '../telemetry/otlp-metrics.js';
import { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { createAgentTraces, describeTraceStats, describeTraces } from '../traces/agent-traces.js';
import type { ProcessTraces } from '../traces/process-traces.js';
import type { Logger } from '../util/log.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { deliveryAccounting, describeDelivery, describeExport, describeLoss, describeSubscription } from './report.js';

export interface AgentIo {
  stdout: NodeJS.WriteStream;
  log: Logger;
  version: string;
  /** Loads the configuration again from the same sources (SIGHUP); throws ConfigError. */
  reload?: () => AgentConfig;
}

/** Filter, redaction and the kernel subscription they imply: what a reload can swap while running. */
interface Policy {
  filter: EventFilter;
  redactor: Redactor;
  events: EventType[];
  exitNonzeroOnly: boolean;
}

/** Builds the policy; throws RuleError / Error with a message for the operator. */
function buildPolicy(config: AgentConfig, names: UserDb): Policy {
  const filter = new EventFilter(config.filter.rules, config.filter.defaultAction, names);
  const redactor = new Redactor({
    enabled: config.redaction.enabled,
    marker: config.redaction.marker,
    extraPatterns: config.redaction.patterns,
  });
  const sub = filter.subscription();
  const events = config.capture.events.filter((t) => sub.events.includes(t));
  if (events.length === 0) throw new Error('filter: the rules and capture.events together keep no event type; nothing would be captured');
  return { filter, redactor, events, exitNonzeroOnly: config.capture.exitNonzeroOnly || sub.exitNonzeroOnly };
}

function describePolicy(p: Policy): string {
  const all = p.events.length === EVENT_TYPES.length && !p.exitNonzeroOnly;
  return `filter: ${p.filter.rules.length} rules, default ${p.filter.defaultAction}; kernel subscription: ${all ? 'all' : p.events.join(',')}${p.exitNonzeroOnly ? ' (exits: non-zero only)' : ''}`;
}

function now(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/** Which exporters run: auto = OTLP when an endpoint is configured, else the console. */
export function exporterKinds(config: AgentConfig): { console: boolean; otlp: boolean } {
  const k = config.exporter.kinds;
  if (k === 'auto') return logsUrl(config.otlp) ? { console: false, otlp: true } : { console: true, otlp: false };
  return { console: k.includes('console'), otlp: k.includes('otlp') };
}

/** Runs until SIGINT/SIGTERM (or a fatal error); resolves with the process exit code. */
export async function runAgent(config: AgentConfig, io: AgentIo): Promise<number> {
  const { log, stdout } = io;
  const host = readHostClock();

  // Exporters first: a bad endpoint, header file or certificate is a configuration error (78).
  const kinds = exporterKinds(config);
  const processors: AccountingLogRecordProcessor[] = [];
  let otlp: OtlpDelivery | null = null;
  let otlpProcessor: AccountingLogRecordProcessor | null = null;
  const metricReaders: MetricReader[] = [];
  let traces: ProcessTraces | null = null;
  let resource: ReturnType<typeof buildResource>;
  let workloadResources: WorkloadResources;
  const users = new UserDb();
  setCgroupHostRoot(config.process.hostRoot);
  const workloads = new WorkloadResolver({
    names: config.process.containerNames,
    hostRoot: config.process.hostRoot,
    maxStateFileBytes: config.process.maxStateFileBytes,
  });
  let policy: Policy;
  try {
    policy = buildPolicy(config, users);
    resource = buildResource({
      serviceName: config.service.name,
      serviceVersion: io.version,
      extraAttributes: config.resource.attributes,
      bootId: host.bootId,
    });
    // Process records and spans go under their workload's resource; the agent's own keep `resource`.
    workloadResources = new WorkloadResources(resource, workloads);
    if (kinds.console) {
      const format = config.console.format === 'auto' ? (stdout.isTTY ? 'pretty' : 'json') : config.console.format;
      processors.push(
        new AccountingLogRecordProcessor(new ConsoleRecordExporter(format, (t) => stdout.write(t)), {
          ...batchOptions(config),
          // A terminal wants events as they happen, not once a second.
          scheduledDelayMillis: Math.min(50, config.batch.scheduledDelayMs),
        }),
      );
    }
    if (config.metrics.otlp) metricReaders.push(createOtlpMetricReader(config));
    if (kinds.otlp) {
      otlp = createOtlpDelivery(config, { version: io.version, bootId: host.bootId, hooks: deliveryHooks(log) });
      otlpProcessor = new AccountingLogRecordProcessor(otlp.exporter, batchOptions(config));
      processors.push(otlpProcessor);
    }
    if (config.traces.enabled)
      traces = createAgentTraces(config, {
        resource: workloadResources.host,
        resourceFor: (p) => workloadResources.forProcess(p),
        version: io.version,
        names: users,
        redact: (argv) => policy.redactor.redactArgv(argv),
      });
  } catch (err) {
    if (
      err instanceof ExporterConfigError ||
      err instanceof RuleError ||
      (err instanceof Error && /attributes|redaction pattern|filter:/.test(err.message))
    ) {
      log.error(`config: ${err.message}`);
      return EXIT.CONFIG;
    }
    throw err;
  }
  const provider = new LoggerProvider({
    resource,
    processors: [new WorkloadResourceProcessor(workloadResources), ...(processors as LogRecordProcessor[])],
  });
  const ownLogger = provider.getLogger(SCOPE_NAME, io.version);

  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });

  // Signals first: a SIGTERM that arrives while starting (or seeding) is a clean stop too.
  let logs: ProcessLogs | undefined;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // A second signal while stopping: leave now, still unsubscribing.
      logs?.source.emergencyUnsubscribe();
      process.exit(EXIT.OK);
    }
    log.info(`${sig}: stopping`);
    finish(EXIT.OK);
  };
  const onHup = (): void => {
    if (!logs) return;
    if (!io.reload) {
      log.warn('SIGHUP: no configuration source to reload from; keeping the running configuration');
      return;
    }
    let next: AgentConfig;
    let nextPolicy: Policy;
    try {
      next = io.reload();
      nextPolicy = buildPolicy(next, users);
    } catch (err) {
      log.error(`SIGHUP: the new configuration is invalid, keeping the running one: ${(err as Error).message.replace(/\n/g, '; ')}`);
      return;
    }
    // Filter, redaction and subscription switch at once, between two batches (single thread).
    logs.source.setEvents(nextPolicy.events, nextPolicy.exitNonzeroOnly);
    logs.setFilter(nextPolicy.filter);
    logs.setRedact((argv) => nextPolicy.redactor.redactArgv(argv));
    policy = nextPolicy;
    const needRestart = (
      ['capture', 'process', 'exporter', 'otlp', 'batch', 'service', 'resource', 'console', 'traces', 'delivery', 'metrics'] as const
    ).filter(
      (k) => JSON.stringify(next[k]) !== JSON.stringify(config[k]) && !(k === 'capture' && sameExceptEvents(next.capture, config.capture)),
    );
    log.info(`SIGHUP: configuration reloaded; ${describePolicy(policy)}`);
    if (needRestart.length > 0) log.warn(`SIGHUP: changes to ${needRestart.join(', ')} take effect after a restart`);
  };
  const onFatal = (err: unknown): void => {
    logs?.source.emergencyUnsubscribe();
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

  const pressure = new PressureStage({
    ladder: { ...DEFAULT_LADDER, upMs: config.pressure.upMs, downMs: config.pressure.downMs },
    stormWindowMs: config.pressure.stormWindowMs,
    stormSamples: config.pressure.stormSamples,
    stormMaxKeys: 1024,
    dropTypes: config.pressure.dropTypes,
    rateLimits: {
      parentExecutable: {
        ratePerSec: config.pressure.rateLimitPerParentExecutable,
        burst: 2 * config.pressure.rateLimitPerParentExecutable,
      },
      container: { ratePerSec: config.pressure.rateLimitPerContainer, burst: 2 * config.pressure.rateLimitPerContainer },
      user: { ratePerSec: config.pressure.rateLimitPerUser, burst: 2 * config.pressure.rateLimitPerUser },
    },
  });
  // Re-read pressure at most every tickMs, from the event path as well as from a timer: a deep
  // backlog of batches can starve timers for seconds, which is exactly when the ladder must move.
  let lastTick = 0;
  let tickPressure: (nowMs: number) => void = () => undefined;
  try {
    const t0 = performance.now();
    logs = await startProcessLogs({
      pressure,
      onBatchStart: (nowMs) => {
        if (nowMs - lastTick >= config.pressure.tickMs) tickPressure(nowMs);
      },
      ...config.capture,
      loggerProvider: provider,
      version: io.version,
      workloads,
      workloadAttributes: false,
      redact: (argv) => policy.redactor.redactArgv(argv),
      filter: policy.filter,
      names: users,
      events: policy.events,
      exitNonzeroOnly: policy.exitNonzeroOnly,
      enrich: config.process.enrich,
      ancestryDepth: config.process.ancestryDepth,
      maxProcesses: config.process.maxProcesses,
      traceContext: traces?.traceContext,
      snapshot: {
        exec: config.process.enrich,
        fork: config.process.enrich && config.process.forkSnapshot,
        maxBytes: config.process.maxCommandLineBytes,
      },
      onError: (err) => {
        log.error(err.message);
        finish(exitCodeFor(err.category));
      },
    });
    log.info(describeSubscription(logs.source.info, config.capture.receiveBufferBytes));
    log.info(describePolicy(policy));
    // Processes from the /proc scan get their spans when first needed (an event, or a child's fork).
    traces?.useProcessTable(logs.enricher.table);
    if (config.process.enrich)
      log.info(
        `process table seeded with ${logs.enricher.stats().processes} processes (${(performance.now() - t0).toFixed(0)} ms to start)`,
      );
  } catch (err) {
    detach();
    await provider.shutdown();
    await otlp?.delivery.close();
    await traces?.shutdown();
    if (err instanceof CaptureError) {
      log.error(err.message);
      return exitCodeFor(err.category);
    }
    throw err;
  }
  const running = logs;
  log.info(describeExport(kinds, logsUrl(config.otlp), config.otlp.protocol));
  if (traces) log.info(describeTraces(config));
  // Read right after subscribing: forks from here on are seen, so none is missed between the two.
  const forksAtStart = readForkCount();
  if (otlp) {
    log.info(`delivery: ${otlp.describe}`);
    const problem = otlp.continuity?.previousProblem;
    if (problem && problem !== 'missing') log.warn(`delivery: previous run's state unreadable (${problem}); no downtime report`);
  }
  const exporterNames = [...(kinds.console ? ['console'] : []), ...(kinds.otlp ? ['otlp'] : [])];
  let stopping = false;
  let telemetry: SelfTelemetry | null = null;
  if (config.metrics.enabled || metricReaders.length > 0) {
    try {
      telemetry = await SelfTelemetry.start({
        host: config.metrics.host,
        port: config.metrics.port,
        listen: config.metrics.enabled,
        readers: metricReaders,
        resource,
        snapshot: () => {
          const s = running.stats();
          return {
            capture: s.capture,
            process: s.process,
            exporters: processors.map((p, i) => ({ name: exporterNames[i] ?? `exporter${i}`, stats: p.stats() })),
            emitted: s.emitted,
            filtered: s.filtered,
            lastEventTime: s.lastEventTime,
            subscribed: !stopping,
            pressure: pressure.stats(),
            delivery: otlp?.delivery.stats() ?? null,
            workloads: workloads.stats(),
          };
        },
      });
      if (config.metrics.enabled) log.info(`metrics on http://${config.metrics.host}:${telemetry.port}/metrics (also /healthz, /readyz)`);
      if (metricReaders.length > 0) log.info(`metrics pushed over OTLP to ${metricsUrl(config)} every ${config.metrics.otlpIntervalMs} ms`);
    } catch (err) {
      log.error((err as Error).message);
      await running.stop();
      await provider.shutdown();
      await otlp?.delivery.close();
      await traces?.shutdown();
      detach();
      return EXIT.CONFIG;
    }
  }

  const counters = (): AgentCounters => {
    const s = running.stats();
    return {
      capture: s.capture,
      process: s.process,
      exporters: processors.map((p) => p.stats()),
      pressure: pressure.stats(),
      delivery: otlp?.delivery.stats() ?? null,
    };
  };

  // Pressure (0..1): how full the bounded queues are (the handoff read live from the shared
  // counter: the main thread's own view lags exactly when it is behind), and memory.
  const handoffMax = config.capture.handoffMaxEvents;
  const storeCap = config.delivery.spool ? config.delivery.spoolMaxBytes : config.delivery.memoryMaxBytes;
  // The source of the last reading: the ladder's log line says what holds it up.
  let pressureSource = 'handoff';
  const measure = (): number => {
    let p = running.source.backlog() / handoffMax;
    pressureSource = 'handoff';
    for (const proc of processors) {
      const st = proc.stats();
      const q = (st.queued + st.inFlight) / config.batch.maxQueueSize;
      if (q > p) [p, pressureSource] = [q, 'export queue'];
    }
    if (otlp) {
      const s = storePressure(otlp.delivery.store.stats().bytes / storeCap);
      if (s > p) [p, pressureSource] = [s, 'delivery store'];
    }
    const m = memoryPressure(memoryInUse(process.memoryUsage()) / config.pressure.memoryLimitBytes);
    if (m > p) [p, pressureSource] = [m, 'memory'];
    return p;
  };
  const emitStorms = (storms: StormSummary[]): void => {
    for (const st of storms) ownLogger.emit(stormRecord(st, pressure.level));
  };
  tickPressure = (nowMs: number): void => {
    lastTick = nowMs;
    const p = measure();
    const { change, storms } = pressure.tick(p, nowMs);
    if (change) {
      running.source.setShed(change.to >= 1);
      const verb = change.to > change.from ? 'up' : 'down';
      const why = change.pressure > 0 ? ` (${pressureSource})` : '';
      log.warn(`pressure ${(change.pressure * 100).toFixed(0)} %${why}: ladder ${verb} to ${change.to} (${LEVELS[change.to]})`);
    }
    emitStorms(storms);
  };
  const pressureTimer = setInterval(() => {
    const nowMs = performance.now();
    if (nowMs - lastTick >= config.pressure.tickMs) tickPressure(nowMs);
  }, config.pressure.tickMs);
  pressureTimer.unref();
  let last = counters();
  // Replay what the previous run left, after the first snapshot so that corrupt batches found on
  // the way show up in the first cnproc.loss record.
  otlp?.delivery.kick();
  const reportLoss = (): void => {
    const cur = counters();
    const rec = lossRecord(last, cur, now());
    if (rec) {
      log.warn(String(rec.body));
      ownLogger.emit(rec);
    }
    if (!downtimeReported) reportDowntime();
    for (let i = 0; i < processors.length; i++) {
      const a = last.exporters[i];
      const b = cur.exporters[i];
      if (a && b && b.failedExports > a.failedExports) log.warn(`export failed (${b.failedExports - a.failedExports}x): ${b.lastError}`);
    }
    last = cur;
  };
  // Restart continuity, once: as soon as every CPU the previous run saved a seq for has had an event
  // (so its seq gap can be measured), or after DOWNTIME_WAIT_MS with the CPUs seen by then.
  let downtimeReported = otlp?.continuity?.previous == null;
  const startedMs = performance.now();
  const reportDowntime = (): void => {
    const cont = otlp?.continuity;
    if (!cont) return;
    const first = running.seqByCpu().first;
    const saved = Object.keys(cont.previous?.lastSeq ?? {});
    if (saved.some((cpu) => !first.has(Number(cpu))) && performance.now() - startedMs < DOWNTIME_WAIT_MS) return;
    downtimeReported = true;
    // Our LISTEN's acknowledgement takes a seq, and so did the previous run's IGNORE after a clean stop.
    const ownAcks = 1 + (cont.previous?.clean ? 1 : 0);
    const gap = cont.gap(first, forksAtStart, ownAcks);
    const rec = gap ? downtimeRecord(gap, now()) : null;
    if (rec) {
      log.warn(String(rec.body));
      ownLogger.emit(rec);
    }
  };
  const lossTimer = setInterval(reportLoss, config.capture.statsIntervalMs);
  lossTimer.unref();
  const statsTimer =
    config.stats.intervalMs > 0 ? setInterval(() => ownLogger.emit(statsRecord(counters(), now())), config.stats.intervalMs) : null;
  statsTimer?.unref();

  const code = await finished;
  stopping = true;
  clearInterval(lossTimer);
  clearInterval(pressureTimer);
  if (statsTimer) clearInterval(statsTimer);
  await running.stop();
  emitStorms(pressure.drain(performance.now()));
  reportLoss();
  // Flush what is queued, within a deadline: a dead collector must not hold the stop forever.
  const flushed = await Promise.race([
    provider.shutdown().then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), config.batch.exportTimeoutMs).unref()),
  ]);
  if (traces) {
    // Ended spans within the same deadline; spans of running processes are left to the next run.
    await Promise.race([traces.shutdown(), new Promise<void>((r) => setTimeout(r, config.batch.exportTimeoutMs).unref())]);
    log.info(describeTraceStats(traces.stats()));
  }
  // Every record is now in the store: send what the deadline allows; a disk spool keeps the rest.
  let delivered = true;
  if (otlp) {
    delivered = await otlp.delivery.flush(config.delivery.stopTimeoutMs);
    try {
      otlp.continuity?.saveClean(running.seqByCpu().last);
    } catch (err) {
      log.warn(`delivery: cannot save the restart state: ${(err as Error).message}`);
    }
    await otlp.delivery.close();
  }
  const final = counters();
  log.info(`stopped: ${describeLoss(final.capture)}`);
  if (config.process.enrich) {
    const es = final.process;
    log.info(
      `process table: ${es.processes} live, ${es.evicted} evicted; ${es.execs} execs, ${es.execIncomplete} with fields missing (flagged)`,
    );
    const ws = workloads.stats();
    log.info(
      `containers: ${ws.containers} known; ${ws.lookups} runtime-state lookups (${ws.lookupMs.toFixed(1)} ms), ${ws.unresolved} left a container unresolved (flagged)`,
    );
  }
  const fin = running.stats();
  const ps = final.pressure;
  // One parseable line with the whole accounting (checked by the storm test).
  log.info(
    `accounting: generated=${fin.capture.generated} kernel_lost=${Math.max(0, fin.capture.kernelDrops)} received=${fin.capture.delivered} ` +
      `handoff_dropped=${fin.capture.handoffDropped} emitted=${fin.emitted} filtered=${fin.filtered} aggregated=${ps.aggregated} ` +
      `rate_limited=${ps.dropped.rate_limit} priority_dropped=${ps.dropped.priority} storm_records=${ps.stormRecords}`,
  );
  log.info(
    `pressure: level ${ps.level}, ${ps.transitions} transitions; ${ps.aggregated} events in ${ps.stormRecords} storm records, dropped: rate limit ${ps.dropped.rate_limit}, priority ${ps.dropped.priority}`,
  );
  const fs = policy.filter.stats();
  if (policy.filter.rules.length > 0) {
    log.info(
      `filter: ${fs.kept} kept, ${fs.dropped} dropped; hits: ${fs.rules.map((r) => `${r.name} ${r.hits}`).join(', ')}, default ${fs.defaultHits}`,
    );
  }
  for (const [i, p] of final.exporters.entries()) {
    const d = p.dropped;
    log.info(
      `exporter ${i + 1}: ${p.exported} exported, dropped: queue full ${d.queue_full}, failed ${d.export_failed}, timeout ${d.export_timeout}, shutdown ${d.shutdown}; ${p.queued + p.inFlight} not sent${flushed ? '' : ' (flush deadline passed)'}`,
    );
  }
  if (final.delivery) {
    log.info(describeDelivery(final.delivery, config.delivery.spool, delivered));
    log.info(deliveryAccounting(otlpProcessor?.stats().exported ?? 0, final.delivery));
  }
  await telemetry?.stop();
  detach();
  return code;
}

/** Longest wait after a restart for an event on every CPU before the downtime is reported. */
const DOWNTIME_WAIT_MS = 15_000;

/**
 * Log lines for the delivery loop: the first failure of an outage and then every tenth (an outage
 * of hours must not flood the log), each rejection, and the recovery.
 */
function deliveryHooks(log: Logger) {
  return {
    onAttemptFailed: (reason: string, delayMs: number, failures: number): void => {
      if (failures === 1 || failures % 10 === 0)
        log.warn(
          `export: collector not accepting (${reason}); attempt ${failures}, next in ${(delayMs / 1000).toFixed(1)} s; batches wait in the store`,
        );
    },
    onRejected: (reason: string, records: number): void => log.warn(`export: ${records} records rejected for good: ${reason}`),
    onRecovered: (failures: number, outageMs: number): void =>
      log.info(`export: collector accepting again after ${failures} failed attempts (${(outageMs / 1000).toFixed(1)} s)`),
  };
}

function sameExceptEvents(a: AgentConfig['capture'], b: AgentConfig['capture']): boolean {
  return JSON.stringify({ ...a, events: [], exitNonzeroOnly: false }) === JSON.stringify({ ...b, events: [], exitNonzeroOnly: false });
}

function batchOptions(config: AgentConfig) {
  return {
    maxQueueSize: config.batch.maxQueueSize,
    maxExportBatchSize: config.batch.maxExportBatchSize,
    scheduledDelayMillis: config.batch.scheduledDelayMs,
    exportTimeoutMillis: config.batch.exportTimeoutMs,
  };
}
