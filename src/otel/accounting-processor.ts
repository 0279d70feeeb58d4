/**
 * A batching LogRecordProcessor that counts every record it does not deliver, by reason.
 *
 * It replaces the SDK's BatchLogRecordProcessor, which drops silently when its queue is full and
 * forgets a batch whose export failed (BatchLogRecordProcessorBase in @opentelemetry/sdk-logs). Same shape — bounded queue,
 * batches of maxExportBatchSize every scheduledDelayMillis or as soon as a batch is full, one
 * export in flight per processor — plus exact counters: every record emitted ends up exported,
 * dropped{reason}, queued or in flight.
 */
import type { Context } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, SdkLogRecord } from '@opentelemetry/sdk-logs';

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

export class AccountingLogRecordProcessor implements LogRecordProcessor {
  private queue: ReadableLogRecord[] = [];
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
  ) {}

  onEmit(record: SdkLogRecord, _context?: Context): void {
    this.counters.emitted++;
    if (this.closed) {
      this.counters.dropped.shutdown++;
      return;
    }
    if (this.queue.length >= this.opts.maxQueueSize) {
      this.counters.dropped.queue_full++;
      return;
    }
    this.queue.push(record);
    if (this.queue.length >= this.opts.maxExportBatchSize) this.kick();
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
      queued: this.queue.length,
      inFlight: this.inFlight,
    };
  }

  /** Starts an export if none is running; when it ends, continues while full batches wait. */
  private kick(): void {
    if (this.exporting || this.queue.length === 0) return;
    this.exporting = this.exportOne().finally(() => {
      this.exporting = null;
      if (this.queue.length >= this.opts.maxExportBatchSize) this.kick();
      else if (this.queue.length > 0 && this.timer === null) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.kick();
        }, this.opts.scheduledDelayMillis);
        this.timer.unref();
      }
    });
  }

  private exportOne(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.maxExportBatchSize);
    this.inFlight = batch.length;
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (ok: boolean, reason: DropReason, error?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timeout);
        this.inFlight = 0;
        this.counters.lastExportOk = ok;
        if (ok) this.counters.exported += batch.length;
        else {
          this.counters.dropped[reason] += batch.length;
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
        this.exporter.export(batch, (r) => {
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
      if (this.queue.length === 0) break;
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
