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
function records(tag: string, n: number): ReadableLogRecord[] {
  const out: ReadableLogRecord[] = [];
  const capture: LogRecordProcessor = { onEmit: (r) => void out.push(r), forceFlush: async () => {}, shutdown: async () => {} };
  const logger = new LoggerProvider({ processors: [capture] }).getLogger('test');
  for (let i = 0; i < n; i++)
    logger.emit({ body: `${tag}-${i}`, attributes: { 'process.pid': i, 'process.executable.path': '/usr/bin/true' } });
  return out;
}

test('a batch is the processor’s export in flight until it is stored; forceFlush waits for it; onStored follows the store', async () => {
  const rx = await startOtlpReceiver();
  const { d, store } = delivery(rx);
  const noted: number[] = [];
  const exporter = new SpoolingLogExporter(d, 'protobuf', FastProtobufLogsSerializer, (r) => noted.push(r.length));
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
  const exporter = new SpoolingLogExporter(d, 'protobuf', broken, (r) => noted.push(r.length));
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
  const noted: string[] = [];
  const exporter = new SpoolingLogExporter(d, 'protobuf', FastProtobufLogsSerializer, (r) => noted.push(String(r[0]?.body)));
  try {
    const batches = [records('big', 5000), records('small', 1), records('mid', 300)];
    const calledBack: string[] = [];
    for (const b of batches) {
      exporter.export(b, (r) => {
        assert.equal(r.code, ExportResultCode.SUCCESS);
        calledBack.push(String(b[0]?.body));
      });
    }
    await exporter.forceFlush();
    assert.deepEqual(calledBack, ['big-0', 'small-0', 'mid-0']);
    assert.deepEqual(noted, ['big-0', 'small-0', 'mid-0']);
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
