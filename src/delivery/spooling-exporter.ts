/**
 * A LogRecordExporter that serializes each batch once into an OTLP request body and hands it to
 * {@link Delivery} (write-ahead into the store), then reports success at once: from here on the
 * batch is the delivery loop's to retry, spool and replay, and the batch processor never waits
 * for a collector. Works with any LogRecordProcessor that calls export() (the agent's
 * AccountingLogRecordProcessor, or the SDK's BatchLogRecordProcessor in a host program).
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { IExportLogsServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { PayloadEncoding } from './batch-store.js';
import type { Delivery } from './delivery.js';

export class SpoolingLogExporter implements LogRecordExporter {
  /**
   * @param delivery where serialized batches go
   * @param encoding the body's encoding (must match the serializer)
   * @param serializer OTLP request serializer, e.g. FastProtobufLogsSerializer or JsonLogsSerializer
   * @param onStored called with each batch once it is in the store (the agent records restart continuity)
   */
  constructor(
    private readonly delivery: Delivery,
    private readonly encoding: PayloadEncoding,
    private readonly serializer: ISerializer<ReadableLogRecord[], IExportLogsServiceResponse>,
    private readonly onStored?: (records: ReadableLogRecord[]) => void,
  ) {}

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    if (records.length === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    try {
      const body = this.serializer.serializeRequest(records);
      if (body === undefined) throw new Error('the serializer produced no request body');
      if (this.delivery.enqueue(records.length, this.encoding, body) === null)
        throw new Error(this.delivery.stats().store.lastError ?? 'the store refused the batch');
    } catch (err) {
      // Serializing or writing the spool failed (e.g. ENOSPC): the processor counts the batch as failed.
      const e = err instanceof Error ? err : new Error(String(err));
      resultCallback({ code: ExportResultCode.FAILED, error: new Error(`cannot store batch: ${e.message}`) });
      return;
    }
    this.onStored?.(records);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Nothing buffered here: batches are in the store as soon as export() returns. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** The delivery loop is closed by its owner, after its own flush deadline. */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
