/**
 * An ended OpenSpan → the SDK's ReadableSpan, ready for any SpanExporter. Attributes come from the
 * one attribute mapping (otel/attributes.ts): the span carries what the process's exit record
 * carries, minus what identifies the single event (cnproc.event.*, thread.*).
 */
import { type Attributes, type Link, type SpanContext, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { hrTimeDuration, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { ExecEvent, ExitEvent, HrTime } from '../kernel/events.js';
import { type MappingContext, recordAttributes } from '../otel/attributes.js';
import type { EnrichedEvent, ProcessInfo } from '../process/model.js';
import type { ExecMark, OpenSpan } from './tracker.js';

/** Attributes of a log record that describe the event, not the process: left off spans. */
const EVENT_ONLY = new Set([
  'cnproc.event.name',
  'cnproc.event.id',
  'cnproc.event.cpu',
  'cnproc.event.seq',
  'thread.id',
  'cnproc.thread.is_thread',
]);

/** What an exec span event says: the new program. */
const EXEC_EVENT_KEYS = [
  'process.executable.path',
  'process.executable.name',
  'process.command_line',
  'process.args_count',
  'cnproc.process.args_truncated',
  'cnproc.process.args_redacted',
  'process.working_directory',
  'process.user.id',
  'cnproc.process.missing',
  'cnproc.exec.snapshot_superseded',
] as const;

/** Span event name of an exec (the log record's EventName). */
export const EXEC_EVENT_NAME = 'process.exec';

/** Where spans come from: the scope and resource they are exported under. */
export interface SpanOrigin {
  resource: Resource;
  /** The resource of a process's span, by its workload (the agent's WorkloadResources); else `resource`. */
  resourceFor?: (p: ProcessInfo) => Resource;
  scope: InstrumentationScope;
  mapping: MappingContext;
}

/** An exec event for `p` at `time`: how the mapping is asked for a process's attributes without an event of its own. */
function syntheticExec(p: ProcessInfo, time: HrTime, superseded: boolean): EnrichedEvent {
  const event: ExecEvent = { kind: 'exec', cpu: 0, seq: 0, ktimeNs: 0n, time, pid: p.tgid, tgid: p.tgid };
  if (superseded) event.snapshotSuperseded = true;
  return { event, process: p, parent: undefined, ancestors: [], previous: undefined, tracer: undefined, lifetimeNs: null };
}

function withoutEventKeys(all: Attributes): Attributes {
  const out: Attributes = {};
  for (const k in all) if (!EVENT_ONLY.has(k)) out[k] = all[k];
  return out;
}

function execEvent(m: ExecMark, mapping: MappingContext): TimedEvent {
  const time = m.time;
  const all = recordAttributes(syntheticExec(m.process, time, m.superseded), EXEC_EVENT_NAME, mapping) as Attributes;
  const attributes: Attributes = {};
  for (const k of EXEC_EVENT_KEYS) if (all[k] !== undefined) attributes[k] = all[k];
  return { name: EXEC_EVENT_NAME, time, attributes, droppedAttributesCount: 0 };
}

/** The span name: the executable's base name, else [comm], else the pid. */
export function spanName(p: ProcessInfo): string {
  if (p.exe !== null) {
    const i = p.exe.lastIndexOf('/');
    return i < 0 ? p.exe : p.exe.slice(i + 1);
  }
  return p.comm !== null ? `[${p.comm}]` : `pid ${p.tgid}`;
}

function exitStatus(e: ExitEvent): { code: SpanStatusCode; message?: string } {
  if (e.status === 0) return { code: SpanStatusCode.UNSET };
  const message = e.signal !== null ? `killed by signal ${e.signal}${e.coreDumped ? ' (core dumped)' : ''}` : `exit ${e.exitCode}`;
  return { code: SpanStatusCode.ERROR, message };
}

function ctx(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
}

/**
 * Builds the exported span of `s`, ended at `end`: by its exit (`exit` set) or as a part of a
 * process that goes on (`exit` undefined; marked cnproc.span.continued).
 *
 * Attributes and events are computed when the exporter first reads them, not here: the mapping
 * caches one attribute list per process entry and context (otel/attributes.ts), and this runs
 * inside the event loop right before the exit's own log record is built. Mapping the span first,
 * with its own context, would replace that cache entry and make the record map it again.
 */
export function toReadableSpan(s: OpenSpan, end: HrTime, exit: EnrichedEvent | undefined, origin: SpanOrigin): ReadableSpan {
  // Copies of what a continuing span changes after this call (tracker.ts roll).
  const execs = s.execs;
  const droppedExecs = s.droppedExecs;
  const segment = s.segment;
  const start = s.start;
  const process = s.process;
  const root = s.parentSpanId === null;
  const rootRule = s.rootRule;
  const spanContext = ctx(s.traceId, s.spanId);
  // The wall-clock offset is re-measured while running: never let a span end before it starts.
  const endTime: HrTime = end[0] < start[0] || (end[0] === start[0] && end[1] < start[1]) ? start : end;
  const links: Link[] = [];
  if (s.rerootedFrom !== null) {
    links.push({ context: ctx(s.rerootedFrom.traceId, s.rerootedFrom.spanId), attributes: { 'cnproc.link.type': 'forked_from' } });
  }
  const status = exit !== undefined && exit.event.kind === 'exit' ? exitStatus(exit.event) : { code: SpanStatusCode.UNSET };
  let attributes: Attributes | undefined;
  let events: TimedEvent[] | undefined;
  const span: ReadableSpan = {
    name: spanName(process),
    kind: SpanKind.INTERNAL,
    spanContext: () => spanContext,
    parentSpanContext: s.parentSpanId !== null ? ctx(s.traceId, s.parentSpanId) : undefined,
    startTime: start,
    endTime,
    status,
    get attributes(): Attributes {
      if (attributes === undefined) {
        const x = exit ?? syntheticExec(process, end, false);
        attributes = withoutEventKeys(recordAttributes(x, EXEC_EVENT_NAME, origin.mapping) as Attributes);
        if (root) attributes['cnproc.trace.root'] = rootRule;
        if (segment > 0) attributes['cnproc.span.segment'] = segment;
        if (exit === undefined) attributes['cnproc.span.continued'] = true;
      }
      return attributes;
    },
    links,
    get events(): TimedEvent[] {
      if (events === undefined) {
        events = [];
        for (let i = 0; i < execs.length; i++) {
          const m = execs[i] as OpenSpan['execs'][number];
          events.push(execEvent(m, origin.mapping));
        }
      }
      return events;
    },
    duration: hrTimeDuration(start, endTime),
    ended: true,
    resource: origin.resourceFor !== undefined ? origin.resourceFor(process) : origin.resource,
    instrumentationScope: origin.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: droppedExecs,
    droppedLinksCount: 0,
  };
  return span;
}
