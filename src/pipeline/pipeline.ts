/**
 * The pipeline: the one place that knows the order of the stages and joins them.
 *
 *   source (kernel/) → process model (process/) → filter (filter/) → pressure (pressure/)
 *     → records (otel/) → delivery (the LoggerProvider's processors: otel/ exporters, delivery/)
 *
 * Each stage knows only the interface of the next one's input; none imports the pipeline, and
 * none imports a stage after it (docs/architecture.md, enforced by `npm run lint:deps`). The loop
 * below is the whole join: one plain pass per batch, no closure per event.
 *
 * It is also the library entry point for embedding: process events as log records on a
 * LoggerProvider the host program owns (its own resource, processors and exporters), or on the
 * agent's own.
 *
 * ```ts
 * const logs = await startProcessLogs({ loggerProvider, events: ['exec', 'exit'] });
 * // ... later
 * await logs.stop();
 * ```
 */
import type { Context } from '@opentelemetry/api';
import type { LoggerProvider } from '@opentelemetry/api-logs';
import { defaultsOf } from '../config/section.js';
import type { EventFilter } from '../filter/filter.js';
import { captureSection, namespaceReads } from '../kernel/config.js';
import { EVENT_TYPES, type EventType, type HrTime, type ProcEvent } from '../kernel/events.js';
import { type CaptureStats, ProcEventSource, type ProcEventSourceOptions } from '../kernel/source.js';
import type { MappingContext } from '../otel/attributes.js';
import { DirectLogger } from '../otel/direct-logger.js';
import { SCOPE_NAME, toLogRecord } from '../otel/record.js';
import { PASS, type PressureStage } from '../pressure/pressure.js';
import { processSection } from '../process/config.js';
import { Enricher, type EnricherStats } from '../process/enricher.js';
import { ExecutableHasher, type HashOptions } from '../process/executable-hash.js';
import { type HostClock, readHostClock } from '../process/identity.js';
import type { EnrichedEvent } from '../process/model.js';
import { MountTables } from '../process/mounts.js';
import { readHostNamespaces } from '../process/namespaces.js';
import { scanProc } from '../process/seed.js';
import { UserDb } from '../process/users.js';
import { WorkloadResolver } from '../process/workload.js';

export { SCOPE_NAME };

export interface ProcessLogsOptions extends Omit<ProcEventSourceOptions, 'onEvents'> {
  /** Where records go: the host program's provider (anything implementing the API's LoggerProvider). */
  loggerProvider: LoggerProvider;
  /** Scope version reported on records. */
  version?: string;
  /** Read /proc for process context (default true). */
  enrich?: boolean;
  /** Where the host's root is mounted for the agent ('' = /; process.hostRoot): overlay upperdirs are looked up under it. */
  hostRoot?: string;
  ancestryDepth?: number;
  maxProcesses?: number;
  /**
   * SHA-256 of exec'd program files on a thread of its own (default: the process section's
   * hashExecutables and hash* limits); false: none.
   */
  hashExecutables?: boolean | HashOptions;
  /** Redacts secrets from argv before it becomes an attribute (default: no redaction). */
  redact?: MappingContext['redact'];
  /** User and group names (default: a UserDb reading /etc/passwd and /etc/group). */
  names?: { userName(uid: number): string | undefined; groupName(gid: number): string | undefined };
  /**
   * Names containers from runtime state, once per container (default: a WorkloadResolver with its
   * defaults). Pass the agent's to share its cache with spans and resources.
   */
  workloads?: WorkloadResolver;
  /**
   * Full records carry their container's names (container.name, container.image.*, k8s.pod.name,
   * k8s.namespace.name, k8s.container.name). Default true: a caller's LoggerProvider has one
   * resource for all records, so the records must say who ran them. To group records under a
   * resource per workload instead, add a WorkloadResourceProcessor first in the provider's
   * processors and set this to false (the agent does).
   */
  workloadAttributes?: boolean;
  /** Decides which events become records (after enrichment); dropped ones are counted by the filter. */
  filter?: EventFilter;
  /** Rate limits, ladder and storm aggregation (after the filter); its stats count what it holds back. */
  pressure?: PressureStage;
  /** Called before each batch with the current time (ms, performance clock): the agent re-reads pressure here, so the ladder reacts even when a backlog starves timers. */
  onBatchStart?: (nowMs: number) => void;
  /** Called with each batch after its records were emitted (e.g. for console output or tests). */
  onEnriched?: (events: readonly EnrichedEvent[]) => void;
  /**
   * Called with every event, before the filter (e.g. ProcessTraces.traceContext, which builds
   * process spans from them); the Context it returns is the record's, so it carries a trace and span id.
   */
  traceContext?: (x: EnrichedEvent) => Context | undefined;
}

export interface ProcessLogs {
  readonly source: ProcEventSource;
  readonly enricher: Enricher;
  readonly host: HostClock;
  /** The container names in use (shared with spans and resources). */
  readonly workloads: WorkloadResolver;
  /** Capture and process-table counters. */
  stats(): { capture: CaptureStats; process: EnricherStats; emitted: number; filtered: number; lastEventTime: HrTime | null };
  /** Kernel seq of the first and the last event handled on each CPU (cpu → seq). */
  seqByCpu(): { first: Map<number, number>; last: Map<number, number> };
  /** Replaces the filter (configuration reload); null removes it. */
  setFilter(filter: EventFilter | null): void;
  /**
   * Changes the event types that become records (configuration reload); the subscription follows
   * (with every exit kept for the process table, see {@link tableSubscription}).
   */
  setEvents(types: readonly EventType[], exitNonzeroOnly: boolean): void;
  /** Replaces the redaction function (configuration reload). */
  setRedact(redact: MappingContext['redact']): void;
  /** Unsubscribes and delivers what was queued. Flushing the provider is the caller's job. */
  stop(): Promise<CaptureStats>;
}

const NO_REDACTION: MappingContext['redact'] = (argv) => ({ argv, redacted: false });

/**
 * What to subscribe to for the event types asked for, when a process table is kept: every exit too.
 * The table learns that a process ended only from its exit; without exits (`events: [exec]`, or
 * non-zero exits only) every process that ever exec'd stayed in it until evicted, 65,536 entries by
 * default, and at a steady 1,600 exec/s of short programs that pushed memory past half the ceiling
 * within seconds, so the ladder shed and aggregated execs that nothing else was pressing
 * (measured: 16,160 of 32,001 execs aggregated in 20 s). The exits asked for are still the only ones
 * that become records; the others update the table (and process spans) and are counted as filtered.
 */
export function tableSubscription(types: readonly EventType[]): { types: EventType[]; exitNonzeroOnly: false } {
  return { types: types.includes('exit') ? [...types] : [...types, 'exit'], exitNonzeroOnly: false };
}

/** Which exits become records: all, the non-zero ones (exitNonzeroOnly), or none (exit not asked for). */
type ExitRecords = 'all' | 'nonzero' | 'none';

function exitRecordsOf(types: readonly EventType[], exitNonzeroOnly: boolean): ExitRecords {
  if (!types.includes('exit')) return 'none';
  return exitNonzeroOnly ? 'nonzero' : 'all';
}

function seqMap(byCpu: number[]): Map<number, number> {
  const m = new Map<number, number>();
  // A sparse array: only CPUs that had an event.
  for (let cpu = 0; cpu < byCpu.length; cpu++) {
    const seq = byCpu[cpu];
    if (seq !== undefined) m.set(cpu, seq);
  }
  return m;
}

/** Wall-clock now as HrTime (the records' observed timestamp). */
function nowHrTime(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const s = Math.floor(ms / 1000);
  return [s, Math.floor((ms - s * 1000) * 1e6)];
}

export async function startProcessLogs(opts: ProcessLogsOptions): Promise<ProcessLogs> {
  const pd = defaultsOf(processSection);
  const enrich = opts.enrich ?? pd.enrich;
  const host = readHostClock();
  const users = opts.names ?? new UserDb();
  const workloads = opts.workloads ?? new WorkloadResolver();
  const snapshot = opts.snapshot ?? {
    exec: enrich,
    fork: enrich && pd.forkSnapshot,
    maxBytes: pd.maxCommandLineBytes,
    executableFile: pd.executableFile,
    namespaces: namespaceReads(pd),
  };
  const nsReads = snapshot.namespaces ?? 'none';
  // The executable's mount needs ns/mnt of each exec; "which are the host's" needs every namespace.
  const mounts = snapshot.exec && nsReads !== 'none' ? new MountTables({ hostRoot: opts.hostRoot ?? pd.hostRoot }) : undefined;
  const hostNamespaces = snapshot.exec && nsReads === 'all' ? readHostNamespaces() : undefined;
  // Nothing to hash without the program file's identity (process.executableFile).
  const hash = (opts.snapshot?.executableFile ?? pd.executableFile) ? (opts.hashExecutables ?? pd.hashExecutables) : false;
  const hasher =
    enrich && hash !== false
      ? new ExecutableHasher(
          hash === true ? { maxFileBytes: pd.hashMaxFileBytes, cacheEntries: pd.hashCacheEntries, timeoutMs: pd.hashTimeoutMs } : hash,
        )
      : null;
  const enricher = new Enricher(host, {
    ancestryDepth: opts.ancestryDepth ?? pd.ancestryDepth,
    maxProcesses: opts.maxProcesses ?? pd.maxProcesses,
    workloads,
    ...(mounts ? { mounts } : {}),
    ...(hostNamespaces ? { hostNamespaces } : {}),
    hasher,
  });
  const ctx: MappingContext = {
    userName: (uid) => users.userName(uid),
    groupName: (gid) => users.groupName(gid),
    redact: opts.redact ?? NO_REDACTION,
    workloadAttributes: opts.workloadAttributes ?? true,
  };
  const logger = opts.loggerProvider.getLogger(SCOPE_NAME, opts.version);
  // The agent's DirectLogger takes exec and exit records with their attributes split
  // (otel/split-attributes.ts); any other Logger (a caller's SDK provider) gets them whole.
  const split = logger instanceof DirectLogger;
  const batch: EnrichedEvent[] = [];
  let emitted = 0;
  let filtered = 0;
  let filter = opts.filter ?? null;
  let lastEventTime: HrTime | null = null;
  // With a process table, every exit is subscribed (tableSubscription); these say which become records.
  const askedTypes = opts.events ?? EVENT_TYPES;
  const askedNonzero = opts.exitNonzeroOnly ?? defaultsOf(captureSection).exitNonzeroOnly;
  let exitRecords = exitRecordsOf(askedTypes, askedNonzero);
  // Kernel seq per CPU of the first and last event handled: restart continuity compares them.
  const firstSeq: number[] = [];
  const lastSeq: number[] = [];
  const pressure = opts.pressure;

  const onEvents = (events: ProcEvent[]): void => {
    const observed = nowHrTime();
    const nowMs = performance.now();
    opts.onBatchStart?.(nowMs);
    batch.length = 0;
    if (events.length > 0) lastEventTime = (events[events.length - 1] as ProcEvent).time;
    for (let i = 0; i < events.length; i++) {
      // 1. source: a decoded event, in kernel order per CPU.
      const e = events[i] as ProcEvent;
      if (firstSeq[e.cpu] === undefined) firstSeq[e.cpu] = e.seq;
      lastSeq[e.cpu] = e.seq;
      // 2. process model: the table follows every event, kept or not.
      const x: EnrichedEvent = enrich
        ? enricher.enrich(e, e.procSnapshot)
        : {
            event: e,
            process: undefined,
            parent: undefined,
            ancestors: [],
            previous: undefined,
            tracer: undefined,
            lifetimeNs: null,
            workload: null,
          };
      // Process spans (traces) are built from every event too, before anything is dropped.
      const traceCtx = opts.traceContext?.(x);
      // An exit subscribed only for the table (not asked for, or a zero exit with exitNonzeroOnly).
      if (exitRecords !== 'all' && e.kind === 'exit' && (exitRecords === 'none' || e.status === 0)) {
        filtered++;
        continue;
      }
      // 3. filter: the rules (counted by the filter per rule, here in total).
      if (filter !== null && !filter.keep(x)) {
        filtered++;
        continue;
      }
      // 4. pressure: rate limits, storm aggregation, priority drops (each counted by the stage).
      if (pressure !== undefined && pressure.decide(x, nowMs) !== PASS) continue;
      // 5. records; 6. delivery is the provider's processors, from emit on.
      const record = toLogRecord(x, ctx, observed, split);
      if (traceCtx !== undefined) record.context = traceCtx;
      logger.emit(record);
      emitted++;
      batch.push(x);
    }
    opts.onEnriched?.(batch);
  };

  let source: ProcEventSource;
  try {
    const sub = enrich ? tableSubscription(askedTypes) : null;
    source = await ProcEventSource.start({
      ...opts,
      ...(sub !== null ? { events: sub.types, exitNonzeroOnly: sub.exitNonzeroOnly } : {}),
      snapshot,
      onEvents,
    });
  } catch (err) {
    await hasher?.close();
    mounts?.close();
    throw err;
  }
  // After subscribing, so no process can start unseen between the scan and the first event.
  if (enrich)
    enricher.seed(scanProc(host, snapshot.maxBytes, '/proc', nsReads, hostNamespaces ?? null, hasher, snapshot.executableFile ?? true));
  return {
    source,
    enricher,
    host,
    workloads,
    seqByCpu: () => ({ first: seqMap(firstSeq), last: seqMap(lastSeq) }),
    stats: () => ({ capture: source.stats(), process: enricher.stats(), emitted, filtered, lastEventTime }),
    setFilter: (f) => {
      filter = f;
    },
    setEvents: (types, exitNonzeroOnly) => {
      const s = enrich ? tableSubscription(types) : { types, exitNonzeroOnly };
      source.setEvents(s.types, s.exitNonzeroOnly);
      exitRecords = exitRecordsOf(types, exitNonzeroOnly);
    },
    setRedact: (r) => {
      ctx.redact = r;
    },
    stop: async () => {
      const stats = await source.stop();
      mounts?.close();
      await hasher?.close();
      return stats;
    },
  };
}
