import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AccountingLogRecordProcessor, chunkSizeFor, type ProcessorStats } from '../../src/otel/accounting-processor.js';
import { CHUNK_RECORDS, type EncodedChunk, type PreEncodingExporter } from '../../src/otel/pre-encoding.js';

/** An exporter whose outcome the test decides (a collector stand-in, not a mock of our code). */
class ScriptedExporter implements LogRecordExporter {
  batches: number[] = [];
  pending: Array<(r: ExportResult) => void> = [];
  constructor(private readonly mode: 'ok' | 'fail' | 'hang' | 'manual') {}
  export(records: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    this.batches.push(records.length);
    if (this.mode === 'ok') done({ code: ExportResultCode.SUCCESS });
    else if (this.mode === 'fail') done({ code: ExportResultCode.FAILED, error: new Error('503 Service Unavailable') });
    else if (this.mode === 'manual') this.pending.push(done);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

function identity(s: ProcessorStats): void {
  const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
  assert.equal(s.emitted, s.exported + dropped + s.queued + s.inFlight, JSON.stringify(s));
}

function setup(
  mode: ConstructorParameters<typeof ScriptedExporter>[0],
  over: Partial<ConstructorParameters<typeof AccountingLogRecordProcessor>[1]> = {},
) {
  const exporter = new ScriptedExporter(mode);
  const p = new AccountingLogRecordProcessor(exporter, {
    maxQueueSize: 10,
    maxExportBatchSize: 4,
    scheduledDelayMillis: 5,
    exportTimeoutMillis: 100,
    ...over,
  });
  const provider = new LoggerProvider({ processors: [p] });
  const logger = provider.getLogger('t');
  return {
    exporter,
    p,
    provider,
    emit: (n: number) => {
      for (let i = 0; i < n; i++) logger.emit({ body: `r${i}` });
    },
  };
}

test('batches by size and by delay; every record exported', async () => {
  const { exporter, p, emit } = setup('ok');
  emit(9);
  await p.forceFlush();
  assert.deepEqual(exporter.batches, [4, 4, 1]);
  const s = p.stats();
  assert.equal(s.exported, 9);
  identity(s);
});

test('queue full: dropped and counted as queue_full, never silently', async () => {
  const { exporter, p, emit } = setup('manual');
  emit(4); // first batch goes out and stays in flight
  emit(12); // 10 fit in the queue, 2 do not
  let s = p.stats();
  assert.equal(s.inFlight, 4);
  assert.equal(s.queued, 10);
  assert.equal(s.dropped.queue_full, 2);
  identity(s);
  for (let i = 0; i < 4 && exporter.pending.length > 0; i++) {
    (exporter.pending.shift() as (r: ExportResult) => void)({ code: ExportResultCode.SUCCESS });
    await new Promise((r) => setTimeout(r, 10));
  }
  s = p.stats();
  identity(s);
});

test('failed exports are counted with the error, not retried forever', async () => {
  const { p, emit } = setup('fail');
  emit(6);
  await p.forceFlush();
  const s = p.stats();
  assert.equal(s.dropped.export_failed, 6);
  assert.equal(s.failedExports, 2);
  assert.match(s.lastError ?? '', /503/);
  identity(s);
});

test('an export that never answers times out and is counted', async () => {
  const { p, emit } = setup('hang', { exportTimeoutMillis: 30 });
  emit(4);
  await p.forceFlush();
  const s = p.stats();
  assert.equal(s.dropped.export_timeout, 4);
  identity(s);
});

test('records after shutdown are counted as shutdown drops', async () => {
  const { p, provider, emit } = setup('ok');
  emit(3);
  await p.shutdown();
  emit(2);
  const s = p.stats();
  assert.equal(s.exported, 3);
  assert.equal(s.dropped.shutdown, 2);
  identity(s);
  await provider.shutdown().catch(() => undefined);
});

/** An exporter that takes records encoded ahead (pre-encoding.ts); its chunks list the records' bodies. */
class ChunkExporter extends ScriptedExporter implements PreEncodingExporter {
  readonly preEncoding = true;
  encoded: number[] = [];
  exportedBodies: string[][] = [];
  failEncodeAt = -1;
  encode(records: readonly ReadableLogRecord[]): EncodedChunk & { bodies: string[] } {
    if (this.encoded.length === this.failEncodeAt) {
      this.encoded.push(-records.length);
      throw new Error('disk full');
    }
    this.encoded.push(records.length);
    return { records: records.length, bodies: records.map((r) => String(r.body)) };
  }
  exportEncoded(chunks: readonly EncodedChunk[], done: (r: ExportResult) => void): void {
    this.exportedBodies.push(chunks.flatMap((c) => (c as EncodedChunk & { bodies: string[] }).bodies));
    this.export([] as ReadableLogRecord[], done);
    this.batches[this.batches.length - 1] = chunks.reduce((n, c) => n + c.records, 0);
  }
}

function setupChunks(over: Partial<ConstructorParameters<typeof AccountingLogRecordProcessor>[1]> = {}) {
  const exporter = new ChunkExporter('ok');
  const p = new AccountingLogRecordProcessor(exporter, {
    maxQueueSize: 1000,
    maxExportBatchSize: 256,
    scheduledDelayMillis: 5,
    exportTimeoutMillis: 100,
    ...over,
  });
  const logger = new LoggerProvider({ processors: [p] }).getLogger('t');
  let i = 0;
  return {
    exporter,
    p,
    emit: (n: number) => {
      for (let k = 0; k < n; k++) logger.emit({ body: `r${i++}` });
    },
  };
}

test('pre-encoding exporter: records become chunks of CHUNK_RECORDS as they come; batches are whole chunks, in order', async () => {
  const { exporter, p, emit } = setupChunks();
  emit(CHUNK_RECORDS * 3 + 5);
  // Encoded as they came, before any export ran: only the last 5 wait as objects.
  assert.deepEqual(exporter.encoded, [CHUNK_RECORDS, CHUNK_RECORDS, CHUNK_RECORDS]);
  assert.equal(p.stats().queued, CHUNK_RECORDS * 3 + 5);
  identity(p.stats());
  await p.forceFlush();
  // 256 per batch: the three chunks (192) and the 5 waiting records, encoded as a fourth chunk for it.
  assert.deepEqual(exporter.batches, [CHUNK_RECORDS * 3 + 5]);
  assert.deepEqual(exporter.encoded, [CHUNK_RECORDS, CHUNK_RECORDS, CHUNK_RECORDS, 5]);
  assert.deepEqual(
    exporter.exportedBodies.flat(),
    Array.from({ length: CHUNK_RECORDS * 3 + 5 }, (_, k) => `r${k}`),
  );
  const s = p.stats();
  assert.equal(s.exported, CHUNK_RECORDS * 3 + 5);
  identity(s);
});

test('pre-encoding exporter: a chunk that cannot be encoded is counted export_failed with its reason; the queue limit counts encoded records', async () => {
  const { exporter, p, emit } = setupChunks({ maxQueueSize: CHUNK_RECORDS * 2, maxExportBatchSize: 1024, scheduledDelayMillis: 60_000 });
  exporter.failEncodeAt = 1;
  emit(CHUNK_RECORDS * 3);
  let s = p.stats();
  assert.equal(s.dropped.export_failed, CHUNK_RECORDS, 'the second chunk');
  assert.match(s.lastError ?? '', /cannot encode records: disk full/);
  assert.equal(s.dropped.queue_full, 0);
  identity(s);
  assert.equal(s.queued, CHUNK_RECORDS * 2, 'the first and third chunks, encoded: the queue is full');
  emit(CHUNK_RECORDS * 2);
  s = p.stats();
  assert.equal(s.dropped.queue_full, CHUNK_RECORDS * 2);
  identity(s);
  await p.forceFlush();
  s = p.stats();
  assert.equal(s.exported, CHUNK_RECORDS * 2);
  identity(s);
});

test('a batch smaller than a chunk makes chunks of the batch size', async () => {
  const { exporter, p, emit } = setupChunks({ maxExportBatchSize: 10 });
  emit(25);
  await p.forceFlush();
  assert.deepEqual(exporter.batches, [10, 10, 5]);
  identity(p.stats());
});

test('chunks divide the batch size when they can, so batches stay full', () => {
  assert.equal(chunkSizeFor(1024), CHUNK_RECORDS);
  assert.equal(chunkSizeFor(100), 50);
  assert.equal(chunkSizeFor(10), 10);
  for (const n of [1, 7, 100, 999, 1021, 1024, 65_536]) {
    const c = chunkSizeFor(n);
    assert.ok(c >= 1 && c <= Math.min(n, CHUNK_RECORDS), `${n} → ${c}`);
  }
});
