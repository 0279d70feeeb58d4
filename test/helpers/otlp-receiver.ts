/**
 * A throwaway OTLP/HTTP receiver for tests: the agent exports to it and the tests assert on what arrived.
 *
 * It decodes both encodings itself, so that a test fails when the bytes on the wire are wrong, whichever
 * library produced them: http/json by plain JSON parsing under the OTLP/JSON rules (lowerCamelCase keys,
 * hex trace/span ids, 64-bit integers as decimal strings or numbers, enums as integers), http/protobuf with
 * protobufjs from the official opentelemetry-proto schema vendored in ./otlp-proto (see its README), never
 * with the OpenTelemetry JS serializers. Both decoders feed one walker that builds the flattened records,
 * and the walker is strict: a value of the wrong type answers 400 instead of being guessed at.
 *
 * Value mapping (AnyValue → JS): string, boolean, double → number, int64 → number when it is a safe
 * integer and bigint otherwise, bytes → Uint8Array, array → array, kvlist → plain object (a later
 * duplicate key wins), an empty or absent AnyValue → null. Timestamps are exact decimal strings ('0' when
 * absent), ids lower-case hex ('' when absent), an absent string is ''.
 *
 * Records are kept only when the answer is 2xx: a rejected export is retried by the exporter, and keeping
 * it too would count it twice.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import protobuf, { type IConversionOptions, type Root } from 'protobufjs';

export type OtlpEncoding = 'json' | 'protobuf';

/** One LogRecord with its resource and scope, flattened. */
export interface ReceivedLogRecord {
  /** Resource attributes as plain JS values. */
  resource: Record<string, unknown>;
  /** `version` is there only when it is not empty. */
  scope: { name: string; version?: string };
  /** Decimal string, exact. */
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  /** LogRecord.event_name (field 12). */
  eventName: string;
  body: unknown;
  attributes: Record<string, unknown>;
  /** Lower-case hex, '' when absent. */
  traceId: string;
  spanId: string;
  encoding: OtlpEncoding;
}

/** One Span with its resource and scope, flattened (links, trace state and flags are left out). */
export interface ReceivedSpan {
  resource: Record<string, unknown>;
  scope: { name: string; version?: string };
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** Span.SpanKind as its number. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; timeUnixNano: string; attributes: Record<string, unknown> }>;
  /** Status.StatusCode as its number. */
  status: { code: number; message: string };
  encoding: OtlpEncoding;
}

/** One data point of a Sum or Gauge metric, with its metric, resource and scope, flattened. */
export interface ReceivedMetricPoint {
  resource: Record<string, unknown>;
  scope: { name: string; version?: string };
  name: string;
  unit: string;
  kind: 'sum' | 'gauge';
  attributes: Record<string, unknown>;
  /** asInt (as a number, or bigint beyond the safe range) or asDouble. */
  value: number | bigint;
  timeUnixNano: string;
  encoding: OtlpEncoding;
}

/** One HTTP request as the receiver saw it, whatever became of it. */
export interface ReceivedRequest {
  path: string;
  /** The Content-Type header as sent ('' when absent). */
  contentType: string;
  encoding: OtlpEncoding | 'unknown';
  gzip: boolean;
  /** SHA-256 (hex) of the body as it came over the wire (compressed if gzip), and its length. */
  bodySha256: string;
  bodyBytes: number;
  /** The status the receiver answered. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Log records or spans decoded from the body (0 when it was not decoded). */
  records: number;
  /** Why the body was refused (415, 400, 500). */
  error?: string;
}

export interface ResponderReply {
  status: number;
  headers?: Record<string, string>;
  /**
   * A string or bytes are sent as they are. An object is sent in the request's encoding: as JSON, or as
   * protobuf with the signal's Export*ServiceResponse type when the status is 2xx (e.g.
   * `{ partialSuccess: { rejectedLogRecords: '1', errorMessage: '…' } }`) and google.rpc.Status
   * (`{ code, message }`) otherwise. Absent: an empty message.
   */
  body?: unknown;
}

/** Decides the answer to a decoded request; null means the default (200, empty response). */
export type Responder = (req: { path: string; records: number }) => ResponderReply | null;

export interface OtlpReceiver {
  /** Base URL, e.g. http://127.0.0.1:43xx (exporters append /v1/logs). */
  url: string;
  records: ReceivedLogRecord[];
  spans: ReceivedSpan[];
  /** Sum and Gauge data points (other metric types are not flattened). */
  metrics: ReceivedMetricPoint[];
  requests: ReceivedRequest[];
  /** Replaces the responder; null goes back to the default. */
  setResponder(fn: Responder | null): void;
  /** Resolves once `pred(records)` holds; rejects after `timeoutMs` (default 5000). */
  waitFor(pred: (records: ReceivedLogRecord[]) => boolean, timeoutMs?: number): Promise<void>;
  waitForSpans(pred: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const SERVICE_FILES = [
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
];

/**
 * The vendored schema: beside this file when it runs from source, and test/helpers/otlp-proto when it
 * runs from dist/test/helpers (tsc copies no .proto files).
 */
export const OTLP_PROTO_DIR: string = (() => {
  const candidates = [new URL('./otlp-proto/', import.meta.url), new URL('../../../test/helpers/otlp-proto/', import.meta.url)];
  const dirs = candidates.map((u) => fileURLToPath(u));
  const found = dirs.find((d) => existsSync(join(d, SERVICE_FILES[0] as string)));
  if (!found) throw new Error(`OTLP .proto files not found in ${dirs.join(' or ')}`);
  return found;
})();

/**
 * google.rpc.Status, the body of OTLP error answers. It comes from googleapis, not opentelemetry-proto;
 * `details` (repeated google.protobuf.Any) is kept as bytes, which is the same wire format.
 */
const RPC_STATUS_PROTO =
  'syntax = "proto3"; package google.rpc; message Status { int32 code = 1; string message = 2; repeated bytes details = 3; }';
const RPC_STATUS = 'google.rpc.Status';

/** A fresh protobufjs Root with the OTLP logs and traces services and google.rpc.Status, camelCase field names. */
export function loadOtlpRoot(): Root {
  if (!protobuf.util.Long) throw new Error('protobufjs found no "long" package: 64-bit values would lose precision');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(OTLP_PROTO_DIR, target));
  root.loadSync(SERVICE_FILES, { keepCase: false });
  protobuf.parse(RPC_STATUS_PROTO, root, { keepCase: false });
  root.resolveAll();
  return root;
}

/** Decoded messages look like OTLP/JSON: camelCase keys, 64-bit integers as strings, enums as numbers, bytes as bytes. */
const TO_OBJECT: IConversionOptions = { longs: String, enums: Number, defaults: false, arrays: false, objects: false, oneofs: false };

class DecodeError extends Error {}

type Obj = Record<string, unknown>;

function obj(v: unknown, at: string): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) return v as Obj;
  throw new DecodeError(`${at}: expected an object`);
}

function list(v: unknown, at: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  throw new DecodeError(`${at}: expected an array`);
}

function text(v: unknown, at: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  throw new DecodeError(`${at}: expected a string`);
}

/** uint32 and enums (OTLP/JSON: enums MUST be integers). */
function uint(v: unknown, at: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new DecodeError(`${at}: expected a non-negative integer`);
}

/** fixed64 nanoseconds → exact decimal string. */
function nanos(v: unknown, at: string): string {
  if (v === undefined || v === null) return '0';
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v).toString();
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v).toString();
  throw new DecodeError(`${at}: expected an unsigned 64-bit integer (decimal string or number)`);
}

/** int64 → number when safe, else bigint. */
function int64(v: unknown, at: string): number | bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) {
    const big = BigInt(v);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  throw new DecodeError(`${at}: expected a 64-bit integer (decimal string or number)`);
}

function double(v: unknown, at: string): number {
  if (typeof v === 'number') return v;
  // proto3 JSON writes the special values as strings, and allows numeric strings
  if (typeof v === 'string' && (v === 'NaN' || v === 'Infinity' || v === '-Infinity' || /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v)))
    return Number(v);
  throw new DecodeError(`${at}: expected a double`);
}

/** bytes: as decoded from protobuf, or base64 in JSON. */
function bytes(v: unknown, at: string): Uint8Array {
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (typeof v === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) return Uint8Array.from(Buffer.from(v, 'base64'));
  throw new DecodeError(`${at}: expected base64 bytes`);
}

/** Trace and span ids: bytes in protobuf, hex (not base64) in OTLP/JSON. Empty means absent. */
function id(v: unknown, size: number, at: string): string {
  if (v === undefined || v === null || v === '') return '';
  if (v instanceof Uint8Array) {
    if (v.length === 0) return '';
    if (v.length === size) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  } else if (typeof v === 'string' && v.length === size * 2 && /^[0-9a-fA-F]+$/.test(v)) {
    return v.toLowerCase();
  }
  throw new DecodeError(`${at}: expected a ${size}-byte id (hex in JSON)`);
}

function anyValue(v: unknown, at: string): unknown {
  const a = obj(v, at);
  if ('stringValue' in a) return text(a.stringValue, `${at}.stringValue`);
  if ('boolValue' in a) {
    if (typeof a.boolValue === 'boolean') return a.boolValue;
    throw new DecodeError(`${at}.boolValue: expected a boolean`);
  }
  if ('intValue' in a) return int64(a.intValue, `${at}.intValue`);
  if ('doubleValue' in a) return double(a.doubleValue, `${at}.doubleValue`);
  if ('arrayValue' in a)
    return list(obj(a.arrayValue, `${at}.arrayValue`).values, `${at}.arrayValue.values`).map((e, i) =>
      anyValue(e, `${at}.arrayValue.values[${i}]`),
    );
  if ('kvlistValue' in a) return attributes(obj(a.kvlistValue, `${at}.kvlistValue`).values, `${at}.kvlistValue.values`);
  if ('bytesValue' in a) return bytes(a.bytesValue, `${at}.bytesValue`);
  return null;
}

function attributes(v: unknown, at: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  list(v, at).forEach((e, i) => {
    const kv = obj(e, `${at}[${i}]`);
    // defineProperty: a key such as "__proto__" stays an ordinary key
    Object.defineProperty(out, text(kv.key, `${at}[${i}].key`), {
      value: anyValue(kv.value, `${at}[${i}].value`),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return out;
}

function scope(v: unknown, at: string): { name: string; version?: string } {
  const s = obj(v, at);
  const name = text(s.name, `${at}.name`);
  const version = text(s.version, `${at}.version`);
  return version ? { name, version } : { name };
}

function flattenLogs(request: unknown, encoding: OtlpEncoding): ReceivedLogRecord[] {
  const out: ReceivedLogRecord[] = [];
  list(obj(request, 'request').resourceLogs, 'resourceLogs').forEach((rlv, i) => {
    const rl = obj(rlv, `resourceLogs[${i}]`);
    const resource = attributes(obj(rl.resource, `resourceLogs[${i}].resource`).attributes, `resourceLogs[${i}].resource.attributes`);
    list(rl.scopeLogs, `resourceLogs[${i}].scopeLogs`).forEach((slv, j) => {
      const sl = obj(slv, `resourceLogs[${i}].scopeLogs[${j}]`);
      const sc = scope(sl.scope, `resourceLogs[${i}].scopeLogs[${j}].scope`);
      list(sl.logRecords, `resourceLogs[${i}].scopeLogs[${j}].logRecords`).forEach((lrv, k) => {
        const at = `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}]`;
        const lr = obj(lrv, at);
        out.push({
          resource,
          scope: sc,
          timeUnixNano: nanos(lr.timeUnixNano, `${at}.timeUnixNano`),
          observedTimeUnixNano: nanos(lr.observedTimeUnixNano, `${at}.observedTimeUnixNano`),
          severityNumber: uint(lr.severityNumber, `${at}.severityNumber`),
          severityText: text(lr.severityText, `${at}.severityText`),
          eventName: text(lr.eventName, `${at}.eventName`),
          body: anyValue(lr.body, `${at}.body`),
          attributes: attributes(lr.attributes, `${at}.attributes`),
          traceId: id(lr.traceId, 16, `${at}.traceId`),
          spanId: id(lr.spanId, 8, `${at}.spanId`),
          encoding,
        });
      });
    });
  });
  return out;
}

function flattenSpans(request: unknown, encoding: OtlpEncoding): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  list(obj(request, 'request').resourceSpans, 'resourceSpans').forEach((rsv, i) => {
    const rs = obj(rsv, `resourceSpans[${i}]`);
    const resource = attributes(obj(rs.resource, `resourceSpans[${i}].resource`).attributes, `resourceSpans[${i}].resource.attributes`);
    list(rs.scopeSpans, `resourceSpans[${i}].scopeSpans`).forEach((ssv, j) => {
      const ss = obj(ssv, `resourceSpans[${i}].scopeSpans[${j}]`);
      const sc = scope(ss.scope, `resourceSpans[${i}].scopeSpans[${j}].scope`);
      list(ss.spans, `resourceSpans[${i}].scopeSpans[${j}].spans`).forEach((spv, k) => {
        const at = `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
        const sp = obj(spv, at);
        const status = obj(sp.status, `${at}.status`);
        out.push({
          resource,
          scope: sc,
          traceId: id(sp.traceId, 16, `${at}.traceId`),
          spanId: id(sp.spanId, 8, `${at}.spanId`),
          parentSpanId: id(sp.parentSpanId, 8, `${at}.parentSpanId`),
          name: text(sp.name, `${at}.name`),
          kind: uint(sp.kind, `${at}.kind`),
          startTimeUnixNano: nanos(sp.startTimeUnixNano, `${at}.startTimeUnixNano`),
          endTimeUnixNano: nanos(sp.endTimeUnixNano, `${at}.endTimeUnixNano`),
          attributes: attributes(sp.attributes, `${at}.attributes`),
          events: list(sp.events, `${at}.events`).map((ev, n) => {
            const e = obj(ev, `${at}.events[${n}]`);
            return {
              name: text(e.name, `${at}.events[${n}].name`),
              timeUnixNano: nanos(e.timeUnixNano, `${at}.events[${n}].timeUnixNano`),
              attributes: attributes(e.attributes, `${at}.events[${n}].attributes`),
            };
          }),
          status: { code: uint(status.code, `${at}.status.code`), message: text(status.message, `${at}.status.message`) },
          encoding,
        });
      });
    });
  });
  return out;
}

function flattenMetrics(request: unknown, encoding: OtlpEncoding): ReceivedMetricPoint[] {
  const out: ReceivedMetricPoint[] = [];
  list(obj(request, 'request').resourceMetrics, 'resourceMetrics').forEach((rmv, i) => {
    const rm = obj(rmv, `resourceMetrics[${i}]`);
    const resource = attributes(obj(rm.resource, `resourceMetrics[${i}].resource`).attributes, `resourceMetrics[${i}].resource.attributes`);
    list(rm.scopeMetrics, `resourceMetrics[${i}].scopeMetrics`).forEach((smv, j) => {
      const sm = obj(smv, `resourceMetrics[${i}].scopeMetrics[${j}]`);
      const sc = scope(sm.scope, `resourceMetrics[${i}].scopeMetrics[${j}].scope`);
      list(sm.metrics, `resourceMetrics[${i}].scopeMetrics[${j}].metrics`).forEach((mv, k) => {
        const at = `resourceMetrics[${i}].scopeMetrics[${j}].metrics[${k}]`;
        const m = obj(mv, at);
        const kind = m.sum !== undefined ? 'sum' : m.gauge !== undefined ? 'gauge' : null;
        if (kind === null) return;
        const data = obj(m[kind], `${at}.${kind}`);
        list(data.dataPoints, `${at}.${kind}.dataPoints`).forEach((pv, n) => {
          const pat = `${at}.${kind}.dataPoints[${n}]`;
          const p = obj(pv, pat);
          out.push({
            resource,
            scope: sc,
            name: text(m.name, `${at}.name`),
            unit: text(m.unit, `${at}.unit`),
            kind,
            attributes: attributes(p.attributes, `${pat}.attributes`),
            value: p.asDouble !== undefined ? double(p.asDouble, `${pat}.asDouble`) : int64(p.asInt, `${pat}.asInt`),
            timeUnixNano: nanos(p.timeUnixNano, `${pat}.timeUnixNano`),
            encoding,
          });
        });
      });
    });
  });
  return out;
}

interface Signal {
  kind: 'logs' | 'traces' | 'metrics';
  request: string;
  response: string;
  flatten: (request: unknown, encoding: OtlpEncoding) => ReceivedLogRecord[] | ReceivedSpan[] | ReceivedMetricPoint[];
}

const SIGNALS: Record<string, Signal> = {
  '/v1/logs': {
    kind: 'logs',
    request: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
    response: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
    flatten: flattenLogs,
  },
  '/v1/traces': {
    kind: 'traces',
    request: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
    response: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
    flatten: flattenSpans,
  },
  '/v1/metrics': {
    kind: 'metrics',
    request: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
    response: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
    flatten: flattenMetrics,
  },
};

const CONTENT_TYPES: Record<OtlpEncoding, string> = { json: 'application/json', protobuf: 'application/x-protobuf' };

function encodingOf(contentType: string): OtlpEncoding | 'unknown' {
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (media === CONTENT_TYPES.json) return 'json';
  if (media === CONTENT_TYPES.protobuf) return 'protobuf';
  return 'unknown';
}

/** A message body in the request's encoding; `type` is the protobuf type for an object. */
function encodeBody(root: Root, encoding: OtlpEncoding, type: string, body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (encoding === 'json') return Buffer.from(JSON.stringify(body ?? {}), 'utf8');
  const t = root.lookupType(type);
  return Buffer.from(t.encode(t.fromObject((body ?? {}) as Obj)).finish());
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Answer {
  status: number;
  body: Buffer | string;
  type: string;
  headers?: Record<string, string>;
  error?: string;
  keep?: () => void;
}

function plain(status: number, message: string): Answer {
  return { status, body: `${message}\n`, type: 'text/plain; charset=utf-8', error: message };
}

interface Waiter {
  check: () => void;
  fail: (err: Error) => void;
}

/** Starts a receiver on 127.0.0.1 (an ephemeral port unless `port` is given). */
export async function startOtlpReceiver(opts: { port?: number } = {}): Promise<OtlpReceiver> {
  const root = loadOtlpRoot();
  const records: ReceivedLogRecord[] = [];
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetricPoint[] = [];
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<Waiter>();
  let responder: Responder | null = null;

  /** Decides the answer to one request; `keep` stores its items when they were accepted. */
  function decide(req: IncomingMessage, entry: ReceivedRequest, raw: Buffer): Answer {
    const { path, contentType, encoding } = entry;
    const signal = SIGNALS[path];
    if (!signal) return plain(404, `no OTLP endpoint at ${path}`);
    if (req.method !== 'POST') return { ...plain(405, `method ${req.method}: POST only`), headers: { Allow: 'POST' } };
    if (encoding === 'unknown')
      return plain(415, `unsupported Content-Type "${contentType}": use ${CONTENT_TYPES.json} or ${CONTENT_TYPES.protobuf}`);
    const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (contentEncoding !== 'gzip' && contentEncoding !== 'identity')
      return plain(415, `unsupported Content-Encoding "${contentEncoding}"`);

    let items: ReceivedLogRecord[] | ReceivedSpan[] | ReceivedMetricPoint[];
    try {
      const body = entry.gzip ? gunzipSync(raw) : raw;
      let decoded: unknown;
      if (encoding === 'json') {
        decoded = JSON.parse(body.toString('utf8'));
      } else {
        const type = root.lookupType(signal.request);
        decoded = type.toObject(type.decode(body), TO_OBJECT);
      }
      items = signal.flatten(decoded, encoding);
    } catch (err) {
      const message = `undecodable ${entry.gzip ? 'gzip ' : ''}${encoding} body: ${(err as Error).message}`;
      // google.rpc.Status with INVALID_ARGUMENT, as OTLP asks of a 400
      return {
        status: 400,
        body: encodeBody(root, encoding, RPC_STATUS, { code: 3, message }),
        type: CONTENT_TYPES[encoding],
        error: message,
      };
    }
    entry.records = items.length;

    const reply = responder?.({ path, records: items.length }) ?? { status: 200 };
    const ok = reply.status >= 200 && reply.status < 300;
    const answer: Answer = {
      status: reply.status,
      body: encodeBody(root, encoding, ok ? signal.response : RPC_STATUS, reply.body),
      type: CONTENT_TYPES[encoding],
    };
    if (reply.headers) answer.headers = reply.headers;
    if (ok) {
      const sink: unknown[] = signal.kind === 'logs' ? records : signal.kind === 'traces' ? spans : metrics;
      answer.keep = () => sink.push(...items);
    }
    return answer;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = req.headers['content-type'] ?? '';
    const entry: ReceivedRequest = {
      path: (req.url ?? '/').split('?')[0] ?? '/',
      contentType,
      encoding: encodingOf(contentType),
      gzip: (req.headers['content-encoding'] ?? '').trim().toLowerCase() === 'gzip',
      status: 0,
      headers: { ...req.headers },
      records: 0,
      bodySha256: '',
      bodyBytes: 0,
    };
    let answer: Answer;
    try {
      const raw = await readBody(req);
      entry.bodySha256 = createHash('sha256').update(raw).digest('hex');
      entry.bodyBytes = raw.length;
      answer = decide(req, entry, raw);
    } catch (err) {
      answer = plain(500, `test receiver failed: ${(err as Error).message}`);
    }
    entry.status = answer.status;
    if (answer.error !== undefined) entry.error = answer.error;
    requests.push(entry);
    answer.keep?.();
    res.writeHead(answer.status, { 'Content-Type': answer.type, ...answer.headers });
    res.end(answer.body);
    for (const w of [...waiters]) w.check();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  function waitOn<T>(items: T[], what: string, pred: (items: T[]) => boolean, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          let done: boolean;
          try {
            done = pred(items);
          } catch (err) {
            return waiter.fail(err as Error);
          }
          if (!done) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve();
        },
        fail: (err) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          reject(err);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.fail(
            new Error(`timed out after ${timeoutMs} ms waiting for OTLP ${what} (${items.length} received, ${requests.length} requests)`),
          ),
        timeoutMs,
      );
      waiters.add(waiter);
      waiter.check();
    });
  }

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    spans,
    metrics,
    requests,
    setResponder: (fn) => {
      responder = fn;
    },
    waitFor: (pred, timeoutMs = 5000) => waitOn(records, 'log records', pred, timeoutMs),
    waitForSpans: (pred, timeoutMs = 5000) => waitOn(spans, 'spans', pred, timeoutMs),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const w of [...waiters]) w.fail(new Error('OTLP receiver closed'));
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
