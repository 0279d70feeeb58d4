/**
 * The test OTLP receiver, checked against requests built without its decoder: protobuf encoded by
 * protobufjs from the vendored schema (and one message assembled byte by byte), OTLP/JSON written by
 * hand and the upstream OTLP/JSON examples, all POSTed raw with node:http.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  loadOtlpRoot,
  OTLP_PROTO_DIR,
  type OtlpReceiver,
  type ReceivedLogRecord,
  type ReceivedSpan,
  startOtlpReceiver,
} from '../helpers/otlp-receiver.js';

const LOGS_REQUEST = 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest';
const LOGS_RESPONSE = 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse';
const TRACE_REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';
const PROTOBUF = { 'Content-Type': 'application/x-protobuf' };
const JSON_TYPE = { 'Content-Type': 'application/json' };

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** POSTs raw bytes; an array of chunks goes out with chunked transfer encoding. */
function post(url: string, body: Buffer | Buffer[], headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunked = Array.isArray(body);
    const h = chunked ? headers : { ...headers, 'Content-Length': String(body.length) };
    const req = request(url, { method: 'POST', headers: h }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    for (const part of chunked ? body : [body]) req.write(part);
    req.end();
  });
}

async function receiver(t: TestContext): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver();
  t.after(() => r.close());
  return r;
}

const root = loadOtlpRoot();

function encode(type: string, message: Record<string, unknown>): Buffer {
  const t = root.lookupType(type);
  assert.equal(t.verify(t.fromObject(message)), null);
  return Buffer.from(t.encode(t.fromObject(message)).finish());
}

const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

/** Two log records; the attributes of the first use every AnyValue type. */
const PROTO_LOGS = {
  resourceLogs: [
    {
      resource: { attributes: [kv('service.name', { stringValue: 'cnproc-otel' }), kv('host.pid', { intValue: '4242' })] },
      scopeLogs: [
        {
          scope: { name: 'cnproc-otel', version: '0.1.0' },
          logRecords: [
            {
              timeUnixNano: '1795656087826617843',
              observedTimeUnixNano: '1795656087826619999',
              severityNumber: 9,
              severityText: 'INFO',
              eventName: 'process.exec',
              body: { stringValue: 'exec /bin/true' },
              attributes: [
                kv('s', { stringValue: 'text' }),
                kv('b', { boolValue: true }),
                kv('big', { intValue: '9007199254740993' }),
                kv('neg', { intValue: '-42' }),
                kv('d', { doubleValue: 3.25 }),
                kv('raw', { bytesValue: Buffer.from([0, 1, 254, 255]) }),
                kv('arr', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }, { boolValue: false }] } }),
                kv('map', {
                  kvlistValue: {
                    values: [kv('inner', { stringValue: 'v' }), kv('deeper', { kvlistValue: { values: [kv('n', { intValue: 7 })] } })],
                  },
                }),
                kv('none', {}),
              ],
              traceId: Buffer.from(TRACE_ID, 'hex'),
              spanId: Buffer.from(SPAN_ID, 'hex'),
            },
            {
              timeUnixNano: '1795656087826617844',
              severityNumber: 13,
              eventName: 'process.exit',
              body: { kvlistValue: { values: [kv('code', { intValue: 3 })] } },
              // values equal to the proto3 defaults must survive: oneof members have presence
              attributes: [kv('empty', { stringValue: '' }), kv('false', { boolValue: false }), kv('zero', { intValue: 0 })],
            },
          ],
        },
      ],
    },
  ],
};

/** The same two records in OTLP/JSON, as the spec writes them: camelCase, hex ids, int64 as strings. */
const JSON_LOGS = `{
  "resourceLogs": [{
    "resource": { "attributes": [
      { "key": "service.name", "value": { "stringValue": "cnproc-otel" } },
      { "key": "host.pid", "value": { "intValue": "4242" } }
    ] },
    "scopeLogs": [{
      "scope": { "name": "cnproc-otel", "version": "0.1.0" },
      "logRecords": [
        {
          "timeUnixNano": "1795656087826617843",
          "observedTimeUnixNano": "1795656087826619999",
          "severityNumber": 9,
          "severityText": "INFO",
          "eventName": "process.exec",
          "body": { "stringValue": "exec /bin/true" },
          "attributes": [
            { "key": "s", "value": { "stringValue": "text" } },
            { "key": "b", "value": { "boolValue": true } },
            { "key": "big", "value": { "intValue": "9007199254740993" } },
            { "key": "neg", "value": { "intValue": "-42" } },
            { "key": "d", "value": { "doubleValue": 3.25 } },
            { "key": "raw", "value": { "bytesValue": "AAH+/w==" } },
            { "key": "arr", "value": { "arrayValue": { "values": [{ "stringValue": "a" }, { "intValue": 1 }, { "boolValue": false }] } } },
            { "key": "map", "value": { "kvlistValue": { "values": [
              { "key": "inner", "value": { "stringValue": "v" } },
              { "key": "deeper", "value": { "kvlistValue": { "values": [{ "key": "n", "value": { "intValue": "7" } }] } } }
            ] } } },
            { "key": "none", "value": {} }
          ],
          "traceId": "5B8EFFF798038103D269B633813FC60C",
          "spanId": "eee19b7ec3c1b174"
        },
        {
          "timeUnixNano": 1795656087826617844,
          "severityNumber": 13,
          "eventName": "process.exit",
          "body": { "kvlistValue": { "values": [{ "key": "code", "value": { "intValue": 3 } }] } },
          "attributes": [
            { "key": "empty", "value": { "stringValue": "" } },
            { "key": "false", "value": { "boolValue": false } },
            { "key": "zero", "value": { "intValue": "0" } }
          ],
          "traceId": "",
          "unknownFieldsAreIgnored": true
        }
      ]
    }]
  }]
}`;

function expectedLogs(encoding: 'json' | 'protobuf', secondTime = '1795656087826617844'): ReceivedLogRecord[] {
  const resource = { 'service.name': 'cnproc-otel', 'host.pid': 4242 };
  const scope = { name: 'cnproc-otel', version: '0.1.0' };
  return [
    {
      resource,
      scope,
      timeUnixNano: '1795656087826617843',
      observedTimeUnixNano: '1795656087826619999',
      severityNumber: 9,
      severityText: 'INFO',
      eventName: 'process.exec',
      body: 'exec /bin/true',
      attributes: {
        s: 'text',
        b: true,
        big: 9007199254740993n,
        neg: -42,
        d: 3.25,
        raw: new Uint8Array([0, 1, 254, 255]),
        arr: ['a', 1, false],
        map: { inner: 'v', deeper: { n: 7 } },
        none: null,
      },
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      encoding,
    },
    {
      resource,
      scope,
      timeUnixNano: secondTime,
      observedTimeUnixNano: '0',
      severityNumber: 13,
      severityText: '',
      eventName: 'process.exit',
      body: { code: 3 },
      attributes: { empty: '', false: false, zero: 0 },
      traceId: '',
      spanId: '',
      encoding,
    },
  ];
}

test('binds to 127.0.0.1 on an ephemeral port', async (t) => {
  const r = await receiver(t);
  assert.match(r.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(r.url, 'http://127.0.0.1:0');
});

test('protobuf: every AnyValue type, exact nanoseconds, event_name, ids; answers an empty protobuf response', async (t) => {
  const r = await receiver(t);
  const sent = encode(LOGS_REQUEST, PROTO_LOGS);
  const reply = await post(`${r.url}/v1/logs`, sent, PROTOBUF);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'application/x-protobuf');
  assert.equal(reply.body.length, 0);
  assert.deepEqual(r.records, expectedLogs('protobuf'));
  assert.equal(r.requests.length, 1);
  assert.deepEqual(
    { ...r.requests[0], headers: undefined },
    {
      path: '/v1/logs',
      contentType: 'application/x-protobuf',
      encoding: 'protobuf',
      gzip: false,
      status: 200,
      headers: undefined,
      records: 2,
      bodyBytes: sent.length,
      bodySha256: createHash('sha256').update(sent).digest('hex'),
    },
  );
});

test('protobuf assembled byte by byte: field numbers of the schema', async (t) => {
  const r = await receiver(t);
  const ld = (tag: number, payload: Buffer) => Buffer.concat([Buffer.from([tag, payload.length]), payload]);
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(1795656087826617843n);
  const logRecord = Buffer.concat([
    Buffer.from([0x09]), // 1 time_unix_nano, fixed64
    time,
    ld(0x62, Buffer.from('e')), // 12 event_name
    ld(0x2a, ld(0x0a, Buffer.from('hi'))), // 5 body: AnyValue.string_value
    ld(0x4a, Buffer.from(TRACE_ID, 'hex')), // 9 trace_id
    ld(0x52, Buffer.from(SPAN_ID, 'hex')), // 10 span_id
  ]);
  const body = ld(0x0a, ld(0x12, ld(0x12, logRecord))); // resource_logs / scope_logs / log_records
  assert.equal((await post(`${r.url}/v1/logs`, body, PROTOBUF)).status, 200);
  assert.deepEqual(r.records, [
    {
      resource: {},
      scope: { name: '' },
      timeUnixNano: '1795656087826617843',
      observedTimeUnixNano: '0',
      severityNumber: 0,
      severityText: '',
      eventName: 'e',
      body: 'hi',
      attributes: {},
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      encoding: 'protobuf',
    },
  ]);
});

test('protobuf, gzip-compressed', async (t) => {
  const r = await receiver(t);
  const reply = await post(`${r.url}/v1/logs`, gzipSync(encode(LOGS_REQUEST, PROTO_LOGS)), { ...PROTOBUF, 'Content-Encoding': 'gzip' });
  assert.equal(reply.status, 200);
  assert.deepEqual(r.records, expectedLogs('protobuf'));
  assert.equal(r.requests[0]?.gzip, true);
});

test('protobuf, chunked transfer encoding', async (t) => {
  const r = await receiver(t);
  const body = encode(LOGS_REQUEST, PROTO_LOGS);
  const chunks = [body.subarray(0, 7), body.subarray(7, 100), body.subarray(100)];
  assert.equal((await post(`${r.url}/v1/logs`, chunks, PROTOBUF)).status, 200);
  assert.deepEqual(r.records, expectedLogs('protobuf'));
  assert.equal(r.requests[0]?.headers['transfer-encoding'], 'chunked');
  assert.equal(r.requests[0]?.headers['content-length'], undefined);
});

test('JSON: hex ids, int64 as strings or numbers; answers {}', async (t) => {
  const r = await receiver(t);
  const reply = await post(`${r.url}/v1/logs`, Buffer.from(JSON_LOGS), { 'Content-Type': 'application/json; charset=utf-8' });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(reply.body.toString()), {});
  // the second timeUnixNano was a JSON number: JSON.parse already rounded it to a double
  assert.deepEqual(r.records, expectedLogs('json', '1795656087826617856'));
  assert.equal(r.requests[0]?.encoding, 'json');
});

test('JSON, gzip-compressed and chunked', async (t) => {
  const r = await receiver(t);
  const gz = gzipSync(JSON_LOGS);
  const reply = await post(`${r.url}/v1/logs`, [gz.subarray(0, 10), gz.subarray(10)], { ...JSON_TYPE, 'Content-Encoding': 'gzip' });
  assert.equal(reply.status, 200);
  assert.equal(r.records.length, 2);
  assert.equal(r.records[0]?.traceId, TRACE_ID);
});

test('the upstream OTLP/JSON examples (logs, events)', async (t) => {
  const r = await receiver(t);
  for (const name of ['logs', 'events']) {
    const body = readFileSync(join(OTLP_PROTO_DIR, 'examples', `${name}.json`));
    assert.equal((await post(`${r.url}/v1/logs`, body, JSON_TYPE)).status, 200);
  }
  const [log, event] = r.records;
  assert.deepEqual(log, {
    resource: { 'service.name': 'my.service' },
    scope: { name: 'my.library', version: '1.0.0' },
    timeUnixNano: '1544712660300000000',
    observedTimeUnixNano: '1544712660300000000',
    severityNumber: 10,
    severityText: 'Information',
    eventName: '',
    body: 'Example log record',
    attributes: {
      'string.attribute': 'some string',
      'boolean.attribute': true,
      'int.attribute': 10,
      'double.attribute': 637.704,
      'array.attribute': ['many', 'values'],
      'map.attribute': { 'some.map.key': 'some value' },
    },
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    encoding: 'json',
  });
  assert.equal(event?.eventName, 'browser.page_view');
  assert.equal(event?.severityNumber, 9);
});

test('traces: protobuf and the upstream JSON example, flattened into spans', async (t) => {
  const r = await receiver(t);
  const span = {
    traceId: Buffer.from(TRACE_ID, 'hex'),
    spanId: Buffer.from(SPAN_ID, 'hex'),
    parentSpanId: Buffer.from('0102030405060708', 'hex'),
    name: 'scan',
    kind: 1,
    startTimeUnixNano: '1795656087826617843',
    endTimeUnixNano: '1795656087926617843',
    attributes: [kv('pids', { intValue: 12 })],
    events: [{ name: 'found', timeUnixNano: '1795656087876617843', attributes: [kv('pid', { intValue: 1 })] }],
    status: { code: 2, message: 'boom' },
  };
  const proto = encode(TRACE_REQUEST, {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'cnproc-otel' })] },
        scopeSpans: [{ scope: { name: 's' }, spans: [span] }],
      },
    ],
  });
  assert.equal((await post(`${r.url}/v1/traces`, proto, PROTOBUF)).status, 200);
  const example = readFileSync(join(OTLP_PROTO_DIR, 'examples', 'trace.json'));
  assert.equal((await post(`${r.url}/v1/traces`, example, JSON_TYPE)).status, 200);
  assert.deepEqual(r.records, []);
  assert.deepEqual(r.spans, [
    {
      resource: { 'service.name': 'cnproc-otel' },
      scope: { name: 's' },
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      parentSpanId: '0102030405060708',
      name: 'scan',
      kind: 1,
      startTimeUnixNano: '1795656087826617843',
      endTimeUnixNano: '1795656087926617843',
      attributes: { pids: 12 },
      events: [{ name: 'found', timeUnixNano: '1795656087876617843', attributes: { pid: 1 } }],
      status: { code: 2, message: 'boom' },
      encoding: 'protobuf',
    },
    {
      resource: { 'service.name': 'my.service' },
      scope: { name: 'my.library', version: '1.0.0' },
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      parentSpanId: 'eee19b7ec3c1b173',
      name: "I'm a server span",
      kind: 2,
      startTimeUnixNano: '1544712660000000000',
      endTimeUnixNano: '1544712661000000000',
      attributes: { 'my.span.attr': 'some value' },
      events: [],
      status: { code: 0, message: '' },
      encoding: 'json',
    },
  ] satisfies ReceivedSpan[]);
});

test('responder: 503 with Retry-After keeps nothing; back to the default afterwards', async (t) => {
  const r = await receiver(t);
  const seen: Array<{ path: string; records: number }> = [];
  r.setResponder((req) => {
    seen.push(req);
    return { status: 503, headers: { 'Retry-After': '7' } };
  });
  const body = encode(LOGS_REQUEST, PROTO_LOGS);
  const refused = await post(`${r.url}/v1/logs`, body, PROTOBUF);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers['retry-after'], '7');
  assert.deepEqual(seen, [{ path: '/v1/logs', records: 2 }]);
  assert.deepEqual(r.records, []);
  assert.deepEqual(
    r.requests.map((q) => [q.status, q.records]),
    [[503, 2]],
  );

  r.setResponder(() => null);
  assert.equal((await post(`${r.url}/v1/logs`, body, PROTOBUF)).status, 200);
  assert.equal(r.records.length, 2);
  r.setResponder(null);
  assert.equal((await post(`${r.url}/v1/logs`, body, PROTOBUF)).status, 200);
  assert.equal(r.records.length, 4);
});

test('responder: partial_success in both encodings, google.rpc.Status for an error', async (t) => {
  const r = await receiver(t);
  r.setResponder(({ records }) => ({
    status: 200,
    body: { partialSuccess: { rejectedLogRecords: String(records), errorMessage: 'too old' } },
  }));
  const proto = await post(`${r.url}/v1/logs`, encode(LOGS_REQUEST, PROTO_LOGS), PROTOBUF);
  const response = root.lookupType(LOGS_RESPONSE);
  assert.deepEqual(response.toObject(response.decode(proto.body), { longs: String }), {
    partialSuccess: { rejectedLogRecords: '2', errorMessage: 'too old' },
  });
  const json = await post(`${r.url}/v1/logs`, Buffer.from(JSON_LOGS), JSON_TYPE);
  assert.deepEqual(JSON.parse(json.body.toString()), { partialSuccess: { rejectedLogRecords: '2', errorMessage: 'too old' } });
  assert.equal(r.records.length, 4);

  r.setResponder(() => ({ status: 400, body: { code: 3, message: 'no thanks' } }));
  const bad = await post(`${r.url}/v1/logs`, encode(LOGS_REQUEST, PROTO_LOGS), PROTOBUF);
  assert.equal(bad.status, 400);
  const status = root.lookupType('google.rpc.Status');
  assert.deepEqual(status.toObject(status.decode(bad.body)), { code: 3, message: 'no thanks' });
  assert.equal(r.records.length, 4);
});

test('415 for an unknown Content-Type or Content-Encoding; 404 elsewhere', async (t) => {
  const r = await receiver(t);
  const body = encode(LOGS_REQUEST, PROTO_LOGS);
  assert.equal((await post(`${r.url}/v1/logs`, body, { 'Content-Type': 'text/plain' })).status, 415);
  assert.equal((await post(`${r.url}/v1/logs`, body, {})).status, 415);
  assert.equal((await post(`${r.url}/v1/logs`, body, { ...PROTOBUF, 'Content-Encoding': 'br' })).status, 415);
  assert.equal((await post(`${r.url}/v1/profiles`, body, PROTOBUF)).status, 404);
  assert.deepEqual(
    r.requests.map((q) => [q.status, q.encoding, q.records]),
    [
      [415, 'unknown', 0],
      [415, 'unknown', 0],
      [415, 'protobuf', 0],
      [404, 'protobuf', 0],
    ],
  );
  assert.match(r.requests[0]?.error ?? '', /Content-Type "text\/plain"/);
  assert.deepEqual(r.records, []);
});

test('400 for undecodable bodies, with a google.rpc.Status in the request encoding', async (t) => {
  const r = await receiver(t);
  const truncated = await post(`${r.url}/v1/logs`, Buffer.from([0x0a, 0x7f, 0x12]), PROTOBUF);
  assert.equal(truncated.status, 400);
  const status = root.lookupType('google.rpc.Status');
  const decoded = status.toObject(status.decode(truncated.body)) as { code: number; message: string };
  assert.equal(decoded.code, 3);
  assert.match(decoded.message, /undecodable protobuf body/);

  const notJson = await post(`${r.url}/v1/logs`, Buffer.from('{"resourceLogs": ['), JSON_TYPE);
  assert.equal(notJson.status, 400);
  assert.equal(JSON.parse(notJson.body.toString()).code, 3);

  // OTLP/JSON ids are hex, not base64
  const base64Id = JSON_LOGS.replace('"5B8EFFF798038103D269B633813FC60C"', `"${Buffer.from(TRACE_ID, 'hex').toString('base64')}"`);
  assert.equal((await post(`${r.url}/v1/logs`, Buffer.from(base64Id), JSON_TYPE)).status, 400);
  // OTLP/JSON enums are integers
  const enumName = JSON_LOGS.replace('"severityNumber": 9', '"severityNumber": "SEVERITY_NUMBER_INFO"');
  assert.equal((await post(`${r.url}/v1/logs`, Buffer.from(enumName), JSON_TYPE)).status, 400);
  assert.equal((await post(`${r.url}/v1/logs`, Buffer.from('not gzip'), { ...PROTOBUF, 'Content-Encoding': 'gzip' })).status, 400);

  assert.deepEqual(
    r.requests.map((q) => q.status),
    [400, 400, 400, 400, 400],
  );
  assert.match(r.requests[2]?.error ?? '', /logRecords\[0\]\.traceId/);
  assert.match(r.requests[3]?.error ?? '', /logRecords\[0\]\.severityNumber/);
  assert.match(r.requests[4]?.error ?? '', /undecodable gzip protobuf body/);
  assert.deepEqual(r.records, []);
});

test('waitFor resolves on arrival and times out with a count', async (t) => {
  const r = await receiver(t);
  const arrived = r.waitFor((records) => records.some((x) => x.eventName === 'process.exit'));
  await post(`${r.url}/v1/logs`, encode(LOGS_REQUEST, PROTO_LOGS), PROTOBUF);
  await arrived;
  await assert.rejects(
    r.waitFor((records) => records.length > 2, 50),
    /timed out after 50 ms waiting for OTLP log records \(2 received, 1 requests\)/,
  );
});
