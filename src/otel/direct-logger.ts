/**
 * The agent's own path from a mapped record to its processors, without the SDK's LogRecordImpl.
 *
 * Why: `Logger.emit` copies every attribute into a new object through `setAttribute`, which
 * validates each value (allocating a WeakSet per call, scalars included) and copies every array
 * (`truncateToSize`, even with no limit), then keeps the copy in an object that falls out of V8's
 * fast mode beyond ~19 properties. For an exec record (~40 attributes) that was the largest single
 * cost of the main thread together with the GC it causes (docs/benchmarks.md, "export").
 *
 * What stays: the records are `SdkLogRecord`s (so `ReadableLogRecord`s) handed to ordinary
 * `LogRecordProcessor`s, which hand them to ordinary `LogRecordExporter`s: any SDK processor or
 * exporter still plugs in. The attributes object is the one the mapping (attributes.ts) built,
 * used as is — the mapping writes only valid values (no null/undefined, strings, numbers, booleans
 * and arrays of strings) and never shares a record's object with another record; arrays in it
 * (argv) are per-process values nobody mutates. The library path (`startProcessLogs` with a
 * caller's SDK LoggerProvider) still goes through `Logger.emit`; both take their records from the
 * same `toLogRecord`. The pipeline hands this logger exec and exit records with their attributes
 * split (split-attributes.ts): the record joins them on the first read of `attributes`, so what any
 * processor or exporter sees is unchanged, while the agent's own encoder and processors read the
 * parts and never pay for the join.
 *
 * Flushing and shutting down are the SDK provider's job: the agent gives the same processor
 * instances to its LoggerProvider (for its own records) and to this one, and the provider's
 * forceFlush/shutdown reach them.
 */
import { context as apiContext, type Context, isSpanContextValid, type SpanContext, trace } from '@opentelemetry/api';
import type { AnyValue, LogAttributes, LogBody, Logger, LoggerProvider, SeverityNumber } from '@opentelemetry/api-logs';
import { type InstrumentationScope, millisToHrTime, timeInputToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordProcessor, SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { HrTime } from '../kernel/events.js';
import type { ProcessLogRecord } from './record.js';
import { joinAttributes, type SplitAttributes } from './split-attributes.js';

/** A record as the mapping made it: plain fields, the mapping's own attributes object. */
export class DirectLogRecord implements SdkLogRecord {
  hrTime: HrTime;
  hrTimeObserved: HrTime;
  spanContext: SpanContext | undefined;
  severityText: string | undefined;
  severityNumber: SeverityNumber | undefined;
  body: LogBody | undefined;
  eventName: string | undefined;
  /** Writable: a processor such as WorkloadResourceProcessor files the record under another resource. */
  resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  /**
   * The attributes in parts (split-attributes.ts) until `attributes` is first read; then undefined.
   * The agent's encoder and processors read the parts, so its own path never joins them.
   */
  split: SplitAttributes | undefined;
  private joined: LogAttributes | undefined;
  droppedAttributesCount = 0;

  constructor(resource: Resource, scope: InstrumentationScope, r: ProcessLogRecord, spanContext: SpanContext | undefined, now: HrTime) {
    this.resource = resource;
    this.instrumentationScope = scope;
    const ts = r.timestamp;
    // The pipeline passes HrTime already (the kernel's nanoseconds); other inputs as the SDK converts them.
    this.hrTime = ts === undefined ? now : Array.isArray(ts) ? (ts as HrTime) : timeInputToHrTime(ts);
    const obs = r.observedTimestamp;
    this.hrTimeObserved = obs === undefined ? now : Array.isArray(obs) ? (obs as HrTime) : timeInputToHrTime(obs);
    this.spanContext = spanContext;
    this.severityText = r.severityText;
    this.severityNumber = r.severityNumber;
    this.body = r.body;
    this.eventName = r.eventName;
    this.split = r.split;
    this.joined = r.split === undefined ? (r.attributes ?? {}) : undefined;
  }

  /** The whole attributes object (joined from the parts on first read, then kept). */
  get attributes(): LogAttributes {
    let a = this.joined;
    if (a === undefined) {
      a = joinAttributes(this.split as SplitAttributes);
      this.joined = a;
      this.split = undefined;
    }
    return a;
  }

  setAttribute(key: string, value?: AnyValue): this {
    // Same acceptance as the SDK's for what processors add: no empty key, no null/undefined value.
    if (key.length > 0 && value !== null && value !== undefined) (this.attributes as Record<string, AnyValue>)[key] = value;
    return this;
  }

  setAttributes(attributes: LogAttributes): this {
    for (const k of Object.keys(attributes)) this.setAttribute(k, attributes[k]);
    return this;
  }

  setBody(body: LogBody): this {
    this.body = body;
    return this;
  }

  setEventName(eventName: string): this {
    this.eventName = eventName;
    return this;
  }

  setSeverityNumber(severityNumber: SeverityNumber): this {
    this.severityNumber = severityNumber;
    return this;
  }

  setSeverityText(severityText: string): this {
    this.severityText = severityText;
    return this;
  }
}

const NO_TIME: HrTime = [0, 0];

/**
 * Emits DirectLogRecords to every processor, in order, as the SDK's MultiLogRecordProcessor does.
 * LogRecord.exception is not supported (the mapping never sets it).
 */
export class DirectLogger implements Logger {
  constructor(
    private readonly resource: Resource,
    private readonly scope: InstrumentationScope,
    private readonly processors: readonly LogRecordProcessor[],
  ) {}

  emit(r: ProcessLogRecord): void {
    // As LogRecordImpl: a record's span is the one of its explicit context, if valid. The active
    // context is only passed on to the processors (the pipeline's is the root one).
    const ctx: Context = r.context ?? apiContext.active();
    let sc: SpanContext | undefined;
    if (r.context !== undefined) {
      sc = trace.getSpanContext(r.context);
      if (sc !== undefined && !isSpanContextValid(sc)) sc = undefined;
    }
    // The pipeline always sets both timestamps (HrTime); "now" only for other callers.
    const now = r.timestamp === undefined || r.observedTimestamp === undefined ? millisToHrTime(Date.now()) : NO_TIME;
    const record = new DirectLogRecord(this.resource, this.scope, r, sc, now);
    const ps = this.processors;
    for (let i = 0; i < ps.length; i++) (ps[i] as LogRecordProcessor).onEmit(record, ctx);
  }

  enabled(): boolean {
    return true;
  }
}

/** A LoggerProvider (API) whose loggers emit DirectLogRecords to `processors` under `resource`. */
export class DirectLoggerProvider implements LoggerProvider {
  constructor(
    private readonly resource: Resource,
    private readonly processors: readonly LogRecordProcessor[],
  ) {}

  getLogger(name: string, version?: string, options?: { schemaUrl?: string }): Logger {
    return new DirectLogger(this.resource, { name, version, schemaUrl: options?.schemaUrl }, this.processors);
  }
}
