import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AccountingLogRecordProcessor, type ProcessorStats } from '../../src/otel/accounting-processor.js';

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
