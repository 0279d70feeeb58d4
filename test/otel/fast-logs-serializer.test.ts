/**
 * fast-logs-serializer against the stock ProtobufLogsSerializer: both outputs decoded with protobufjs
 * from the official .proto files must be deep-equal (and, today, the bytes are identical), plus checks
 * of decoded values that do not trust either serializer, and FastProtoLogExporter against a receiver.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import type { AnyValue } from '@opentelemetry/api-logs';
import { ExportResultCode } from '@opentelemetry/core';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { IConversionOptions } from 'protobufjs';
import { schemaDefaults } from '../../src/config/defaults.js';
import { FastProtobufLogsSerializer, serializeRequest } from '../../src/otel/fast-logs-serializer.js';
import { createOtlpExporter, FastProtoLogExporter } from '../../src/otel/otlp-exporter.js';
import { loadOtlpRoot, type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const root = loadOtlpRoot();
const Request = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const Response = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
/** Exact: 64-bit integers as decimal strings, bytes as Buffers, absent fields absent. */
const TO_OBJECT: IConversionOptions = { longs: String, enums: Number, defaults: false, arrays: false, objects: false, oneofs: false };

type Obj = Record<string, unknown>;

function decode(bytes: Uint8Array): Obj {
  return Request.toObject(Request.decode(bytes), TO_OBJECT);
}

/** The log records of resourceLogs[i].scopeLogs[j] in a decoded request. */
function logRecordsOf(decoded: Obj, i = 0, j = 0): Obj[] {
  const rl = (decoded.resourceLogs as Obj[] | undefined)?.[i];
  const sl = (rl?.scopeLogs as Obj[] | undefined)?.[j];
  return (sl?.logRecords as Obj[] | undefined) ?? [];
}

/** Decodes both encodings, asserts they are equal, returns ours decoded. */
function compare(records: ReadableLogRecord[]): Obj {
  const ours = serializeRequest(records);
  const stock = ProtobufLogsSerializer.serializeRequest(records);
  assert.ok(stock);
  const decoded = decode(ours);
  assert.deepStrictEqual(decoded, decode(stock));
  // Stronger than needed (and true for otlp-transformer 0.223.1): same fields, same order, same varints.
  assert.ok(Buffer.from(ours).equals(Buffer.from(stock)), 'byte-identical to the stock serializer');
  return decoded;
}

const resA = resourceFromAttributes({ 'service.name': 'cnproc-otel', 'host.name': 'hôte-1', 'process.pid': 4242 });
const resB = resourceFromAttributes(
  { 'service.name': 'other', 'k8s.pod.uid': 'a-b' },
  { schemaUrl: 'https://opentelemetry.io/schemas/1.44.0' },
);
const scope1: ReadableLogRecord['instrumentationScope'] = { name: 'cnproc-otel', version: '0.1.0' };
const scope2: ReadableLogRecord['instrumentationScope'] = {
  name: 'ünïcode-scope',
  schemaUrl: 'https://example.com/s',
  attributes: { 'scope.attr': 'x', n: 7 },
  droppedAttributesCount: 2,
};
const scope3: ReadableLogRecord['instrumentationScope'] = { name: '' };

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

function rec(over: Partial<ReadableLogRecord>): ReadableLogRecord {
  return {
    hrTime: [1795656087, 826617843],
    hrTimeObserved: [1795656088, 1],
    severityNumber: 9,
    severityText: 'INFO',
    body: 'exec /usr/bin/curl (pid 4242)',
    eventName: 'process.exec',
    resource: resA,
    instrumentationScope: scope1,
    attributes: {},
    droppedAttributesCount: 0,
    ...over,
  };
}

const longAscii = 'a/'.repeat(9000); // 18,000 bytes: 3-byte length varints
const longUnicode = 'é'.repeat(100); // 100 UTF-16 units, 200 bytes: the length varint grows past the ASCII guess
const nested: AnyValue = {
  list: [1, 'two', [3, [4, { five: 5 }]], { six: [true, null] }],
  'kv-ü': { inner: { deeper: 'ß', empty: {}, none: [] } },
  bytes: new Uint8Array([0, 255, 128]),
  d: -0.5,
};

const everyKind: Record<string, AnyValue> = {
  str: 'curl',
  empty: '',
  'ключ-ünïcode': 'значение ✓ 𝄞 日本語',
  emoji: '🦀🚀',
  lone: 'bad \ud800 surrogate',
  ascii32: 'x'.repeat(32),
  ascii127: 'y'.repeat(127),
  ascii128: 'z'.repeat(128),
  long: longAscii,
  longUnicode,
  mixedLong: `${'a'.repeat(40)}é${'b'.repeat(40)}`,
  t: true,
  f: false,
  zero: 0,
  negZero: -0,
  small: 1000,
  int31: 2 ** 31 - 1,
  int32: 2 ** 31,
  uint32: 2 ** 32 - 1,
  over32: 2 ** 32 + 5,
  big: 2 ** 53 - 1,
  bigPow: 2 ** 62,
  int64max: 2 ** 63 - 1024, // largest double below 2^63
  tooBig: 2 ** 63, // not an int64: a double, as in the stock serializer
  neg: -1,
  neg31: -(2 ** 31),
  neg40: -1099511627776,
  negBig: -(2 ** 53) + 1,
  int64min: -(2 ** 63),
  pi: Math.PI,
  tiny: 5e-324,
  inf: Number.POSITIVE_INFINITY,
  ninf: Number.NEGATIVE_INFINITY,
  nan: Number.NaN,
  bytes: new Uint8Array([1, 2, 3, 254]),
  emptyBytes: new Uint8Array(0),
  buffer: Buffer.from('buf'),
  strings: ['curl', '-s', '', 'https://api.example.com/v1/items?page=2', 'ü'],
  ints: [1, -2, 2 ** 40],
  emptyArray: [],
  mixed: ['a', 1, 2.5, false, new Uint8Array([9]), ['x'], { k: 'v' }],
  nested,
  nil: null,
  undef: undefined,
  ['k'.repeat(300)]: 'a key too long for the key cache',
};

test('every AnyValue kind, nested values, unicode, big and negative ints: same decoded request as the stock serializer', () => {
  const decoded = compare([
    rec({ attributes: everyKind }),
    rec({ attributes: { nested }, body: nested }),
    rec({ attributes: { long: longAscii }, body: longUnicode }),
  ]);
  // Independent of both serializers: a few decoded values.
  const lr = logRecordsOf(decoded)[0] as Obj;
  const attrs = new Map((lr.attributes as Obj[]).map((kv) => [kv.key as string, kv.value as Obj]));
  assert.equal(attrs.size, Object.keys(everyKind).length);
  assert.deepEqual(attrs.get('neg'), { intValue: '-1' });
  assert.deepEqual(attrs.get('int64min'), { intValue: '-9223372036854775808' });
  assert.deepEqual(attrs.get('int64max'), { intValue: '9223372036854774784' });
  assert.deepEqual(attrs.get('neg40'), { intValue: '-1099511627776' });
  assert.deepEqual(attrs.get('tooBig'), { doubleValue: 2 ** 63 });
  assert.deepEqual(attrs.get('ключ-ünïcode'), { stringValue: 'значение ✓ 𝄞 日本語' });
  assert.deepEqual(attrs.get('lone'), { stringValue: 'bad \ufffd surrogate' });
  assert.deepEqual(attrs.get('longUnicode'), { stringValue: longUnicode });
  assert.equal((attrs.get('long') as Obj).stringValue, longAscii);
  assert.deepEqual(attrs.get('nil'), {});
  assert.equal(lr.timeUnixNano, '1795656087826617843');
  assert.equal(lr.observedTimeUnixNano, '1795656088000000001');
  assert.equal(lr.eventName, 'process.exec');
});

test('two resources and three scopes, interleaved: grouped as the stock serializer groups them', () => {
  const decoded = compare([
    rec({ attributes: { i: 0 } }),
    rec({ attributes: { i: 1 }, resource: resB }),
    rec({ attributes: { i: 2 }, instrumentationScope: scope2 }),
    rec({ attributes: { i: 3 } }),
    rec({ attributes: { i: 4 }, resource: resB, instrumentationScope: scope3 }),
    rec({ attributes: { i: 5 }, resource: resB }),
  ]);
  const rl = decoded.resourceLogs as Obj[];
  assert.equal(rl.length, 2);
  assert.equal(rl[1]?.schemaUrl, 'https://opentelemetry.io/schemas/1.44.0');
  const order = rl.map((r) => (r.scopeLogs as Obj[]).map((s) => (s.logRecords as Obj[]).map((l) => (l.attributes as Obj[])[0]?.value)));
  assert.deepEqual(order, [
    [[{ intValue: '0' }, { intValue: '3' }], [{ intValue: '2' }]],
    [[{ intValue: '1' }, { intValue: '5' }], [{ intValue: '4' }]],
  ]);
});

test('timestamps are exact uint64 nanoseconds', () => {
  const times: Array<[number, number]> = [
    [1795656087, 826617843],
    [0, 0],
    [0, 999_999_999],
    [1, 0],
    [65535, 999_999_999],
    [65536, 1],
    [2 ** 31, 5],
    [4294967295, 999_999_999],
    [4294967296, 0],
    [18446744073, 709551615], // 2^64 - 1
  ];
  const decoded = compare(times.map((t, i) => rec({ hrTime: t, hrTimeObserved: times[times.length - 1 - i] as [number, number] })));
  const logRecords = logRecordsOf(decoded);
  times.forEach(([s, ns], i) => {
    const want = (BigInt(s) * 1_000_000_000n + BigInt(ns)).toString();
    // protobufjs leaves a zero fixed64 out of toObject (defaults: false)
    assert.equal(logRecords[i]?.timeUnixNano ?? '0', want, `[${s}, ${ns}]`);
  });
});

test('optional fields: severity, text, body, event name, dropped count, span context (flags, upper-case hex)', () => {
  compare([
    rec({ severityNumber: undefined, severityText: undefined, body: undefined, eventName: undefined }),
    rec({ severityNumber: 0, severityText: '', body: '', eventName: '' }),
    rec({ severityNumber: 24, severityText: 'FATAL4', body: { msg: 'kv body', n: [1, 2] }, droppedAttributesCount: 300 }),
    rec({ spanContext: { traceId: TRACE, spanId: SPAN, traceFlags: 1 } }),
    rec({ spanContext: { traceId: TRACE.toUpperCase(), spanId: SPAN.toUpperCase(), traceFlags: 0 } }),
    rec({ spanContext: { traceId: '', spanId: '', traceFlags: 0 } }),
    rec({ body: 42 }),
    rec({ body: new Uint8Array([1, 2]) }),
  ]);
});

test('records from the SDK (LogRecordImpl, dictionary-mode attributes), two loggers', async () => {
  const out: ReadableLogRecord[] = [];
  const capture: LogRecordProcessor = { onEmit: (r) => void out.push(r), forceFlush: async () => {}, shutdown: async () => {} };
  const provider = new LoggerProvider({ resource: resA, processors: [capture] });
  const a = provider.getLogger('cnproc-otel', '0.1.0');
  const b = provider.getLogger('other', undefined, { schemaUrl: 'https://example.com/x', attributes: { 'scope.k': 'v' } });
  for (let i = 0; i < 300; i++) {
    const attributes: Record<string, AnyValue> = {};
    for (let k = 0; k < 40; k++)
      attributes[`attr.${k}.${i % 3}`] = k % 3 === 0 ? `value ${i} ${k}` : k % 3 === 1 ? i * k - 5000 : [String(k), 'x'];
    (i % 4 === 0 ? b : a).emit({
      eventName: 'process.fork',
      timestamp: [1795656087, i],
      severityNumber: 9,
      severityText: 'INFO',
      body: `fork ${i}`,
      attributes,
    });
  }
  compare(out);
  await provider.shutdown();
});

test('no records, many keys (key cache starts over), growing buffer, and outputs that stay intact', () => {
  assert.equal(serializeRequest([]).length, 0);
  const many: Record<string, AnyValue> = {};
  for (let i = 0; i < 5000; i++) many[`key.${i}`] = i;
  compare([rec({ attributes: many }), rec({ attributes: many })]);
  // More than the initial 1 MiB buffer, then a small request: the first output must not change.
  const big = Array.from({ length: 40 }, (_, i) => rec({ attributes: { blob: 'b'.repeat(60_000 + i), i } }));
  const first = serializeRequest(big);
  const copy = Buffer.from(first);
  compare([rec({ attributes: { small: 1 } })]);
  compare(big);
  assert.ok(Buffer.from(first).equals(copy));
  assert.equal(logRecordsOf(decode(first)).length, 40);
});

test('a request that throws half-way leaves nothing behind for the next one', () => {
  const abc = rec({ attributes: { a: 1, b: 'two', c: [3] } });
  compare([abc]);
  const attributes = { x: 1 } as Record<string, AnyValue>;
  Object.defineProperty(attributes, 'y', {
    enumerable: true,
    get() {
      throw new Error('bad attribute');
    },
  });
  attributes.c = 3;
  assert.throws(() => serializeRequest([rec({ attributes })]), /bad attribute/);
  compare([abc, abc]);
});

test('response: partial success is decoded as by the stock deserializer', () => {
  const body = Response.encode(Response.fromObject({ partialSuccess: { rejectedLogRecords: 3, errorMessage: 'quota ✗' } })).finish();
  assert.deepEqual(FastProtobufLogsSerializer.deserializeResponse(body), {
    partialSuccess: { rejectedLogRecords: 3, errorMessage: 'quota ✗' },
  });
  assert.deepEqual(FastProtobufLogsSerializer.deserializeResponse(new Uint8Array(0)), {});
});

const receivers: OtlpReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

test('FastProtoLogExporter delivers to an OTLP receiver (gzip), and http/protobuf configuration selects it', async () => {
  const rx = await startOtlpReceiver();
  receivers.push(rx);
  const otlp = schemaDefaults().otlp;
  assert.ok(createOtlpExporter({ ...otlp, endpoint: rx.url, protocol: 'http/protobuf' }) instanceof FastProtoLogExporter);
  assert.ok(!(createOtlpExporter({ ...otlp, endpoint: rx.url, protocol: 'http/json' }) instanceof FastProtoLogExporter));

  const exporter = new FastProtoLogExporter({ url: `${rx.url}/v1/logs`, compression: CompressionAlgorithm.GZIP });
  const records = [
    rec({ attributes: { 'process.pid': 4242, 'process.command_args': ['sh', '-c', 'exit 3'], ü: 'ö' } }),
    rec({ resource: resB, attributes: { n: -7 }, spanContext: { traceId: TRACE, spanId: SPAN, traceFlags: 1 } }),
  ];
  const result = await new Promise<{ code: ExportResultCode }>((resolve) => exporter.export(records, resolve));
  assert.equal(result.code, ExportResultCode.SUCCESS);
  assert.equal(rx.records.length, 2);
  const req = rx.requests[0];
  assert.equal(req?.contentType, 'application/x-protobuf');
  assert.equal(req?.gzip, true);
  const [r0, r1] = rx.records;
  assert.equal(r0?.timeUnixNano, '1795656087826617843');
  assert.deepEqual(r0?.attributes, { 'process.pid': 4242, 'process.command_args': ['sh', '-c', 'exit 3'], ü: 'ö' });
  assert.equal(r0?.resource['host.name'], 'hôte-1');
  assert.equal(r1?.resource['service.name'], 'other');
  assert.equal(r1?.traceId, TRACE);
  assert.equal(r1?.spanId, SPAN);

  // A partial success is still reported (the stock delegate logs it through diag).
  const warnings: string[] = [];
  const logger: DiagLogger = {
    error: () => {},
    warn: (...args: unknown[]) => void warnings.push(args.map(String).join(' ')),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
  try {
    rx.setResponder(() => ({ status: 200, body: { partialSuccess: { rejectedLogRecords: '1', errorMessage: 'one was bad' } } }));
    const r2 = await new Promise<{ code: ExportResultCode }>((resolve) => exporter.export(records.slice(0, 1), resolve));
    assert.equal(r2.code, ExportResultCode.SUCCESS);
    assert.ok(
      warnings.some((w) => w.includes('Partial Success') && w.includes('one was bad') && w.includes('"rejectedLogRecords":1')),
      warnings.join('\n'),
    );
  } finally {
    diag.disable();
    rx.setResponder(null);
  }
  await exporter.shutdown();
});
