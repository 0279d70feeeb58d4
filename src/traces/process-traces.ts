/**
 * The library entry point for process lifetimes as traces: a span tracker whose ended spans go,
 * batched and counted, to a SpanExporter the caller chooses.
 *
 * ```ts
 * const traces = new ProcessTraces({ exporter: new OTLPTraceExporter() });
 * const logs = await startProcessLogs({ loggerProvider, traceContext: traces.traceContext });
 * traces.useProcessTable(logs.enricher.table); // processes seen by the /proc scan get their spans lazily
 * // ... later
 * await logs.stop();
 * await traces.shutdown();
 * ```
 */
import type { Context } from '@opentelemetry/api';
import { defaultResource, type Resource } from '@opentelemetry/resources';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { defaultsOf } from '../config/section.js';
import type { HrTime } from '../kernel/events.js';
import type { AccountingProcessorOptions, ProcessorStats } from '../otel/accounting-processor.js';
import type { MappingContext } from '../otel/attributes.js';
import { batchSection } from '../otel/config.js';
import { SCOPE_NAME } from '../otel/record.js';
import type { EnrichedEvent, ProcessInfo } from '../process/model.js';
import { UserDb } from '../process/users.js';
import type { TraceRoot } from './config.js';
import { tracesSection } from './config.js';
import { type SpanOrigin, toReadableSpan } from './readable-span.js';
import { compileRootRules } from './roots.js';
import { AccountingSpanQueue } from './span-queue.js';
import { ProcessSpanTracker, type TrackerStats } from './tracker.js';

export interface ProcessTracesOptions {
  /** Where ended spans go (e.g. an OTLPTraceExporter). */
  exporter: SpanExporter;
  /** Resource of the spans (default: the SDK's default resource). */
  resource?: Resource;
  /**
   * Resource of each span by its process, overriding `resource`: the agent passes its
   * WorkloadResources, so a container's spans are exported under that container's resource
   * (one ResourceSpans per workload), as its log records are.
   */
  resourceFor?: (p: ProcessInfo) => Resource;
  /** Scope version reported on spans. */
  version?: string;
  /** Root rules (default: traces.root, ['session']). See docs/traces.md. */
  root?: readonly TraceRoot[];
  /** Executables for the `executable` root rule. */
  rootExecutables?: readonly string[];
  maxOpenSpans?: number;
  maxEventsPerSpan?: number;
  /** > 0: export long-lived processes in parts of this many ms. */
  snapshotIntervalMs?: number;
  /** Export batching (default: the batch.* defaults). */
  batch?: Partial<AccountingProcessorOptions>;
  /** User and group names for attributes (default: a UserDb). */
  names?: { userName(uid: number): string | undefined; groupName(gid: number): string | undefined };
  /** The same redaction as the log records (default: none). Called at export, so a reload applies. */
  redact?: MappingContext['redact'];
}

export interface ProcessTracesStats extends TrackerStats {
  /** Spans of running processes forgotten at shutdown (the next run builds them again, same ids). */
  openAtStop: number;
  /** The span export queue: exported, dropped by reason, queued, in flight. */
  export: ProcessorStats;
}

const NO_REDACTION: MappingContext['redact'] = (argv) => ({ argv, redacted: false });

/** Wall-clock now as HrTime (the end of a part of a long-lived process). */
function nowHrTime(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/**
 * Process spans for one event stream: feed every event through {@link ProcessTraces.traceContext}
 * (startProcessLogs does), and ended spans are exported with every drop counted in
 * {@link ProcessTraces.stats}. See docs/traces.md.
 */
export class ProcessTraces {
  readonly tracker: ProcessSpanTracker;
  private readonly queue: AccountingSpanQueue;
  private readonly sweepTimer: NodeJS.Timeout | null = null;
  private table: { peek(tgid: number): ProcessInfo | undefined } | null = null;
  private openAtStop = 0;

  /**
   * Gives an event's log record its process's span context (startProcessLogs' `traceContext`).
   * It must see every event, in order: it also builds the spans.
   */
  readonly traceContext: (x: EnrichedEvent) => Context | undefined;

  constructor(opts: ProcessTracesOptions) {
    const d = { batch: defaultsOf(batchSection), traces: defaultsOf(tracesSection) };
    const users = opts.names ?? new UserDb();
    const origin: SpanOrigin = {
      resource: opts.resource ?? defaultResource(),
      resourceFor: opts.resourceFor,
      scope: opts.version !== undefined ? { name: SCOPE_NAME, version: opts.version } : { name: SCOPE_NAME },
      mapping: {
        userName: (uid) => users.userName(uid),
        groupName: (gid) => users.groupName(gid),
        redact: opts.redact ?? NO_REDACTION,
      },
    };
    this.queue = new AccountingSpanQueue(opts.exporter, {
      maxQueueSize: opts.batch?.maxQueueSize ?? d.batch.maxQueueSize,
      maxExportBatchSize: opts.batch?.maxExportBatchSize ?? d.batch.maxExportBatchSize,
      scheduledDelayMillis: opts.batch?.scheduledDelayMillis ?? d.batch.scheduledDelayMs,
      exportTimeoutMillis: opts.batch?.exportTimeoutMillis ?? d.batch.exportTimeoutMs,
    });
    const snapshotIntervalMs = opts.snapshotIntervalMs ?? d.traces.snapshotIntervalMs;
    this.tracker = new ProcessSpanTracker({
      rules: compileRootRules(opts.root ?? d.traces.root, opts.rootExecutables ?? d.traces.rootExecutables),
      maxOpenSpans: opts.maxOpenSpans ?? d.traces.maxOpenSpans,
      maxEventsPerSpan: opts.maxEventsPerSpan ?? d.traces.maxEventsPerSpan,
      snapshotIntervalMs,
      lookup: (tgid) => this.table?.peek(tgid),
      onEnd: (span, end, exit) => this.queue.push(toReadableSpan(span, end, exit, origin)),
    });
    this.traceContext = (x) => this.tracker.observe(x);
    if (snapshotIntervalMs > 0) {
      // Quiet long-lived processes have no events to roll their spans over: check a few times per interval.
      const every = Math.min(60_000, Math.max(1000, Math.floor(snapshotIntervalMs / 10)));
      this.sweepTimer = setInterval(() => this.tracker.sweep(nowHrTime()), every);
      this.sweepTimer.unref();
    }
  }

  /** Where processes without a span are looked up (the enricher's table: /proc scan, forks, execs). */
  useProcessTable(table: { peek(tgid: number): ProcessInfo | undefined }): void {
    this.table = table;
  }

  stats(): ProcessTracesStats {
    return { ...this.tracker.stats(), openAtStop: this.openAtStop, export: this.queue.stats() };
  }

  /**
   * Exports what is queued and stops. Spans of processes still running are not exported: the
   * next run builds them again with the same ids (ids.ts) and exports them at their exit; they
   * are counted in stats().openAtStop.
   */
  async shutdown(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.openAtStop += this.tracker.clear();
    await this.queue.shutdown();
  }
}
