/**
 * Batches ended spans to a SpanExporter with exact accounting: every span handed over ends up
 * exported, dropped{queue_full, export_failed, export_timeout, shutdown}, queued or in flight.
 *
 * The SDK's BatchSpanProcessor drops silently when full, like its log twin, so this reuses the
 * agent's AccountingLogRecordProcessor: its queue, timers and counters never look inside an item,
 * only its declared types name log records. The two casts below are that bridge, nothing more.
 */
import type { LogRecordExporter, ReadableLogRecord, SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { AccountingLogRecordProcessor, type AccountingProcessorOptions, type ProcessorStats } from '../otel/accounting-processor.js';

export class AccountingSpanQueue {
  private readonly inner: AccountingLogRecordProcessor;

  constructor(
    readonly exporter: SpanExporter,
    opts: AccountingProcessorOptions,
  ) {
    const bridge: LogRecordExporter = {
      export: (items: ReadableLogRecord[], done) => exporter.export(items as unknown as ReadableSpan[], done),
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
    this.inner = new AccountingLogRecordProcessor(bridge, opts);
  }

  /** Queues one span (dropped and counted when the queue is full or shut down). */
  push(span: ReadableSpan): void {
    this.inner.onEmit(span as unknown as SdkLogRecord);
  }

  stats(): ProcessorStats {
    return this.inner.stats();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
