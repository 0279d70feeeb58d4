/**
 * The agent's tracer side (traces.enabled): ProcessTraces from the configuration, exporting to the
 * logs' collector, and the lines the agent logs about it.
 */
import type { Resource } from '@opentelemetry/resources';
import type { BatchConfig, OtlpConfig } from '../otel/config.js';
import type { ProcessConfig } from '../process/config.js';
import type { TracesConfig } from './config.js';

/** The sections the traces use: their own, and the OTLP connection and batching they share with the logs. */
export interface TracesAgentConfig {
  traces: TracesConfig;
  otlp: OtlpConfig;
  batch: BatchConfig;
  process: ProcessConfig;
}

import type { MappingContext } from '../otel/attributes.js';
import type { ProcessInfo } from '../process/model.js';
import { ProcessTraces, type ProcessTracesStats } from './process-traces.js';
import { createTraceExporter, tracesUrl } from './trace-exporter.js';

export interface AgentTracesDeps {
  resource: Resource;
  /** Each span's resource by its process's workload (see ProcessTracesOptions.resourceFor). */
  resourceFor?: (p: ProcessInfo) => Resource;
  version: string;
  names: { userName(uid: number): string | undefined; groupName(gid: number): string | undefined };
  /** The logs' redaction (follows reloads). */
  redact: MappingContext['redact'];
}

/** Throws ExporterConfigError (a configuration error) when the exporter cannot be built. */
export function createAgentTraces(config: TracesAgentConfig, deps: AgentTracesDeps): ProcessTraces {
  const t = config.traces;
  return new ProcessTraces({
    exporter: createTraceExporter(config.otlp, t),
    resource: deps.resource,
    resourceFor: deps.resourceFor,
    version: deps.version,
    root: t.root,
    rootExecutables: t.rootExecutables,
    maxOpenSpans: t.maxOpenSpans,
    maxEventsPerSpan: t.maxEventsPerSpan,
    snapshotIntervalMs: t.snapshotIntervalMs,
    batch: {
      maxQueueSize: config.batch.maxQueueSize,
      maxExportBatchSize: config.batch.maxExportBatchSize,
      scheduledDelayMillis: config.batch.scheduledDelayMs,
      exportTimeoutMillis: config.batch.exportTimeoutMs,
    },
    names: deps.names,
    redact: deps.redact,
  });
}

/** "traces: spans to <url> (http/protobuf), new trace at: session, parentless processes". */
export function describeTraces(config: TracesAgentConfig): string {
  const roots = config.traces.root.length > 0 ? `${config.traces.root.join(', ')} and ` : '';
  const warn = config.process.enrich ? '' : '; process.enrich is off, so no process has a span';
  return `traces: process spans to ${tracesUrl(config.otlp, config.traces)} (${config.otlp.protocol}); a trace begins at: ${roots}processes without a traced parent${warn}`;
}

/** The stop line: every span accounted for. */
export function describeTraceStats(s: ProcessTracesStats): string {
  const x = s.export;
  const d = x.dropped;
  return (
    `traces: ${s.started} spans started, ${s.ended} ended at exit, ${s.continued} parts of long-lived processes, ${s.openAtStop} open at stop (completed by the next run), ` +
    `${s.evicted} evicted, ${s.replaced} lost exits, ${s.rerooted} re-rooted, ${s.droppedEvents} exec events dropped; ` +
    `export: ${x.exported} exported, dropped: queue full ${d.queue_full}, failed ${d.export_failed}, timeout ${d.export_timeout}, shutdown ${d.shutdown}; ${x.queued + x.inFlight} not sent`
  );
}
