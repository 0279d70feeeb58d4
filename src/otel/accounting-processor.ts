/**
 * A batching LogRecordProcessor that counts every record it does not deliver, by reason.
 *
 * It replaces the SDK's BatchLogRecordProcessor, which drops silently when its queue is full and
 * forgets a batch whose export failed (BatchLogRecordProcessorBase in @opentelemetry/sdk-logs). Same shape — bounded queue,
 * batches of maxExportBatchSize every scheduledDelayMillis or as soon as a batch is full, one
 * export in flight per processor — plus exact counters: every record emitted ends up exported,
 * dropped{reason}, queued or in flight.
 *
 * With an exporter that takes records encoded ahead (pre-encoding.ts: the agent's spooling
 * exporter), records are encoded every CHUNK_RECORDS as they arrive and only the bytes wait for the
 * batch: the queue then counts records, encoded or not, and a chunk that cannot be encoded counts
 * its records as export_failed.
 */
import type { Context } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, SdkLogRecord } from '@opentelemetry/sdk-logs';
import { CHUNK_RECORDS, type EncodedChunk, isPreEncoding, type PreEncodingExporter } from './pre-encoding.js';

export interface AccountingProcessorOptions {
  /** Most records waiting (not counting the batch in flight). Beyond it records are dropped as queue_full. */
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  /** A export that has not called back by then counts as failed (timeout). */
  exportTimeoutMillis: number;
}

export const DROP_REASONS = ['queue_full', 'export_failed', 'export_timeout', 'shutdown'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface ProcessorStats {
  /** Records handed to the processor. */
  emitted: number;
  exported: number;
  dropped: Record<DropReason, number>;
  queued: number;
  inFlight: number;
  /** Export calls that failed, and the last error message (for the log). */
  failedExports: number;
  lastError: string | null;
  /** Outcome of the most recent export; null before the first. */
  lastExportOk: boolean | null;
}

/**
 * Records per chunk for a batch size: at most CHUNK_RECORDS, and a divisor of the batch size when
 * one is not too small, so batches are whole chunks and still full (1,024 → 64, 100 → 50).
 */
export function chunkSizeFor(maxExportBatchSize: number): number {
  const max = Math.max(1, maxExportBatchSize);
  const even = Math.ceil(max / Math.ceil(max / CHUNK_RECORDS));
  for (let k = Math.ceil(max / CHUNK_RECORDS); max / k >= CHUNK_RECORDS / 4; k++) if (max % k === 0) return max / k;
  return even;
}

export class AccountingLogRecordProcessor implements LogRecordProcessor {
  /** Records waiting, not encoded. */
  private queue: ReadableLogRecord[] = [];
  /** Records waiting, encoded (pre-encoding exporters only), and how many records they hold. */
  private chunks: EncodedChunk[] = [];
  private chunked = 0;
  private readonly pre: PreEncodingExporter | null;
  private readonly chunkSize: number;
  private inFlight = 0;
  private exporting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counters: Omit<ProcessorStats, 'queued' | 'inFlight'> = {
    emitted: 0,
    exported: 0,
    dropped: { queue_full: 0, export_failed: 0, export_timeout: 0, shutdown: 0 },
    failedExports: 0,
    lastError: null,
    lastExportOk: null,
  };

  constructor(
    readonly exporter: LogRecordExporter,
    private readonly opts: AccountingProcessorOptions,
  ) {
    this.pre = isPreEncoding(exporter) ? exporter : null;
    this.chunkSize = chunkSizeFor(opts.maxExportBatchSize);
  }

  /** Records waiting for export: encoded or not. */
  private queued(): number {
    return this.queue.length + this.chunked;
  }

  onEmit(record: SdkLogRecord, _context?: Context): void {
    this.counters.emitted++;
    if (this.closed) {
      this.counters.dropped.shutdown++;
      return;
    }
    if (this.queued() >= this.opts.maxQueueSize) {
      this.counters.dropped.queue_full++;
      return;
    }
    this.queue.push(record);
    if (this.pre !== null && this.queue.length >= this.chunkSize) this.encodeQueue(this.pre);
    if (this.queued() >= this.opts.maxExportBatchSize) this.kick();
    else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, this.opts.scheduledDelayMillis);
      this.timer.unref();
    }
  }

  stats(): ProcessorStats {
    return {
      ...this.counters,
      dropped: { ...this.counters.dropped },
      queued: this.queued(),
      inFlight: this.inFlight,
    };
  }

  /** Starts an export if none is running; when it ends, continues while full batches wait. */
  private kick(): void {
    if (this.exporting || this.queued() === 0) return;
    this.exporting = this.exportOne().finally(() => {
      this.exporting = null;
      if (this.queued() >= this.opts.maxExportBatchSize) this.kick();
      else if (this.queued() > 0 && this.timer === null) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.kick();
        }, this.opts.scheduledDelayMillis);
        this.timer.unref();
      }
    });
  }

  /** The records not encoded yet become a chunk; if they cannot be encoded, they count as export_failed. */
  private encodeQueue(pre: PreEncodingExporter): void {
    const records = this.queue;
    this.queue = [];
    try {
      const chunk = pre.encode(records);
      this.chunks.push(chunk);
      this.chunked += chunk.records;
    } catch (err) {
      this.counters.dropped.export_failed += records.length;
      this.counters.failedExports++;
      this.counters.lastExportOk = false;
      this.counters.lastError = `cannot encode records: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private exportOne(): Promise<void> {
    const max = this.opts.maxExportBatchSize;
    const pre = this.pre;
    if (pre === null) {
      const batch = this.queue.splice(0, max);
      return this.run(batch.length, (done) => this.exporter.export(batch, done));
    }
    // The records not encoded yet go with this batch if they fit in it.
    if (this.queue.length > 0 && this.chunked + this.queue.length <= max) this.encodeQueue(pre);
    const taken: EncodedChunk[] = [];
    let n = 0;
    while (this.chunks.length > 0) {
      const c = this.chunks[0] as EncodedChunk;
      if (n > 0 && n + c.records > max) break;
      this.chunks.shift();
      taken.push(c);
      n += c.records;
    }
    this.chunked -= n;
    if (n === 0) return Promise.resolve();
    return this.run(n, (done) => pre.exportEncoded(taken, done));
  }

  /** One export of `count` records: counted exported or dropped by reason when it calls back, fails or times out. */
  private run(count: number, call: (done: (r: ExportResult) => void) => void): Promise<void> {
    this.inFlight = count;
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (ok: boolean, reason: DropReason, error?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timeout);
        this.inFlight = 0;
        this.counters.lastExportOk = ok;
        if (ok) this.counters.exported += count;
        else {
          this.counters.dropped[reason] += count;
          this.counters.failedExports++;
          this.counters.lastError = error ?? reason;
        }
        resolve();
      };
      const timeout = setTimeout(
        () => finish(false, 'export_timeout', `export did not finish in ${this.opts.exportTimeoutMillis} ms`),
        this.opts.exportTimeoutMillis,
      );
      try {
        call((r) => {
          if (r.code === ExportResultCode.SUCCESS) finish(true, 'export_failed');
          else finish(false, 'export_failed', r.error?.message ?? 'export failed');
        });
      } catch (err) {
        finish(false, 'export_failed', err instanceof Error ? err.message : String(err));
      }
    });
  }

  /** Exports everything queued now (in batches), waiting for each. */
  async forceFlush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (;;) {
      if (this.exporting) await this.exporting;
      if (this.queued() === 0) break;
      this.kick();
    }
    await this.exporter.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
    await this.exporter.shutdown();
  }
}
