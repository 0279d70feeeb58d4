/**
 * The agent's exporter behind the agent's export processor, with the real delivery (gzip, memory
 * store, HTTP sender to the test receiver): a batch is the processor's export in flight until its
 * compression ended and it is stored; a compression failure is a failed export with its reason;
 * concurrent exports (the SDK's processor flushes several batches at once) are stored in call order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExportResultCode } from '@opentelemetry/core';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { Delivery } from '../../src/delivery/delivery.js';
import { HttpSender } from '../../src/delivery/http-sender.js';
import { MemoryStore } from '../../src/delivery/memory-store.js';
import { SpoolingLogExporter } from '../../src/delivery/spooling-exporter.js';
import { AccountingLogRecordProcessor } from '../../src/otel/accounting-processor.js';
import { FastProtobufLogsSerializer } from '../../src/otel/fast-logs-serializer.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';

type Receiver = Awaited<ReturnType<typeof startOtlpReceiver>>;

function delivery(rx: Receiver): { d: Delivery; store: MemoryStore } {
  const store = new MemoryStore({ maxBytes: 1 << 26 });
  const sender = new HttpSender({
    url: `${rx.url}/v1/logs`,
    headers: {},
    compression: 'gzip',
    timeoutMs: 5000,
    userAgent: 'cnproc-otel-test',
    decodeResponse: {
      protobuf: (b) => ProtobufLogsSerializer.deserializeResponse(b),
      json: (b) => JsonLogsSerializer.deserializeResponse(b),
    },
  });
  return { d: new Delivery(store, sender, { backoff: { initialMs: 50, maxMs: 200 } }), store };
}

const OPTS = { maxQueueSize: 10_000, maxExportBatchSize: 100, scheduledDelayMillis: 60_000, exportTimeoutMillis: 30_000 };

/** Records as the SDK makes them, `${tag}-${i}` bodies with a few attributes. */
function records(tag: string, n: number, seq = 0): ReadableLogRecord[] {
  const out: ReadableLogRecord[] = [];
  const capture: LogRecordProcessor = { onEmit: (r) => void out.push(r), forceFlush: async () => {}, shutdown: async () => {} };
  const logger = new LoggerProvider({ processors: [capture] }).getLogger('test');
  for (let i = 0; i < n; i++)
    logger.emit({
      body: `${tag}-${i}`,
      attributes: { 'cnproc.event.cpu': 0, 'cnproc.event.seq': seq + i, 'process.pid': i, 'process.executable.path': '/usr/bin/true' },
    });
  return out;
}

test('a batch is the processor’s export in flight until it is stored; forceFlush waits for it; onStored follows the store', async () => {
  const rx = await startOtlpReceiver();
  const { d, store } = delivery(rx);
  const noted: number[] = [];
  const exporter = new SpoolingLogExporter(d, 'protobuf', FastProtobufLogsSerializer, (n) => noted.push(n));
  const processor = new AccountingLogRecordProcessor(exporter, OPTS);
  const provider = new LoggerProvider({ processors: [processor] });
  try {
    const logger = provider.getLogger('test');
    for (let i = 0; i < 250; i++) logger.emit({ body: `r-${i}` });
    // The 100th record started an export: serialized at once, now being compressed.
    assert.equal(processor.stats().inFlight, 100);
    assert.deepEqual(d.stats().compressing, { batches: 1, records: 100 });
    assert.equal(store.stats().appended.batches, 0);
    assert.deepEqual(noted, [], 'not noted as stored before it is');
    await provider.forceFlush();
    const p = processor.stats();
    assert.deepEqual({ exported: p.exported, inFlight: p.inFlight, queued: p.queued }, { exported: 250, inFlight: 0, queued: 0 });
    assert.deepEqual(noted, [100, 100, 50]);
    assert.deepEqual(d.stats().compressing, { batches: 0, records: 0 });
    assert.equal(store.stats().appended.records, 250, 'every exported record is in the store');
    assert.equal(await d.flush(5000), true);
    assert.equal(rx.records.length, 250);
    assert.ok(rx.requests.every((q) => q.gzip));
  } finally {
    await provider.shutdown();
    await d.close();
    await rx.close();
  }
});

test('a batch that cannot be compressed is a failed export, counted with its reason, and not noted as stored', async () => {
  const rx = await startOtlpReceiver();
  const { d, store } = delivery(rx);
  const noted: number[] = [];
  // A serializer handing over something that is not bytes: zlib itself refuses it.
  const broken = { serializeRequest: () => 42 as unknown as Uint8Array, deserializeResponse: () => ({}) };
  const exporter = new SpoolingLogExporter(d, 'protobuf', broken, (n) => noted.push(n));
  const processor = new AccountingLogRecordProcessor(exporter, OPTS);
  const provider = new LoggerProvider({ processors: [processor] });
  try {
    const logger = provider.getLogger('test');
    for (let i = 0; i < 30; i++) logger.emit({ body: `r-${i}` });
    await provider.forceFlush();
    const p = processor.stats();
    assert.equal(p.dropped.export_failed, 30);
    assert.equal(p.exported, 0);
    assert.match(p.lastError ?? '', /cannot store batch: cannot compress batch of 30 records/);
    assert.deepEqual(noted, []);
    assert.equal(store.stats().appended.batches, 0);
  } finally {
    await provider.shutdown();
    await d.close();
    await rx.close();
  }
});

test('concurrent exports are stored, called back and noted in call order, whichever compression ends first', async () => {
  const rx = await startOtlpReceiver();
  const { d, store } = delivery(rx);
  // Each batch noted by its last kernel seq (restart continuity's marks: [cpu, seq]).
  const noted: number[] = [];
  const exporter = new SpoolingLogExporter(d, 'protobuf', FastProtobufLogsSerializer, (_n, marks) => noted.push(marks[1] as number));
  try {
    const batches = [records('big', 5000, 10_000), records('small', 1, 20_000), records('mid', 300, 30_000)];
    const calledBack: string[] = [];
    for (const b of batches) {
      exporter.export(b, (r) => {
        assert.equal(r.code, ExportResultCode.SUCCESS);
        calledBack.push(String(b[0]?.body));
      });
    }
    await exporter.forceFlush();
    assert.deepEqual(calledBack, ['big-0', 'small-0', 'mid-0']);
    assert.deepEqual(noted, [14_999, 20_000, 30_299]);
    assert.equal(store.stats().appended.records, 5301);
    assert.equal(await d.flush(10_000), true);
    assert.deepEqual(
      rx.records.filter((r) => String(r.body).endsWith('-0')).map((r) => r.body),
      ['big-0', 'small-0', 'mid-0'],
    );
  } finally {
    await d.close();
    await rx.close();
  }
});

test('records encoded ahead by the processor arrive whole, in order, each under its resource; a batch is one request', async () => {
  const rx = await startOtlpReceiver();
  const { d } = delivery(rx);
  const noted: number[] = [];
  const exporter = new SpoolingLogExporter(d, 'protobuf', FastProtobufLogsSerializer, (n) => noted.push(n));
  assert.equal(exporter.preEncoding, true);
  assert.equal(new SpoolingLogExporter(d, 'json', JsonLogsSerializer).preEncoding, false, 'JSON requests do not concatenate');
  const processor = new AccountingLogRecordProcessor(exporter, OPTS);
  // Two workloads' resources, records interleaved, as the agent's workload processor files them.
  const a = new LoggerProvider({ resource: resourceFromAttributes({ 'container.id': 'a' }), processors: [processor] });
  const b = new LoggerProvider({ resource: resourceFromAttributes({ 'container.id': 'b' }), processors: [processor] });
  try {
    const la = a.getLogger('test');
    const lb = b.getLogger('test');
    for (let i = 0; i < 250; i++)
      (i % 3 === 0 ? lb : la).emit({ body: `r-${i}`, attributes: { 'cnproc.event.cpu': 0, 'cnproc.event.seq': i } });
    await a.forceFlush();
    assert.deepEqual(noted, [100, 100, 50], 'whole chunks of 50 (the batch size divided), full batches');
    assert.equal(await d.flush(10_000), true);
    assert.equal(rx.requests.length, 3);
    // A request groups its records by resource (OTLP has no order across resources): in order within each.
    const bodies = (id: string) => rx.records.filter((r) => r.resource['container.id'] === id).map((r) => r.body);
    const all = Array.from({ length: 250 }, (_, i) => i);
    assert.deepEqual(
      bodies('b'),
      all.filter((i) => i % 3 === 0).map((i) => `r-${i}`),
    );
    assert.deepEqual(
      bodies('a'),
      all.filter((i) => i % 3 !== 0).map((i) => `r-${i}`),
    );
    for (const r of rx.records) assert.equal(r.resource['container.id'], Number(String(r.body).slice(2)) % 3 === 0 ? 'b' : 'a');
    assert.equal(processor.stats().exported, 250);
  } finally {
    await a.shutdown();
    await d.close();
    await rx.close();
  }
});
