/**
 * A LogRecordExporter that serializes each batch once into an OTLP request body and hands it to
 * {@link Delivery} (compressed off the main thread with gzip, then written ahead into the store),
 * and reports success as soon as the batch is in the store: from there on the batch is the
 * delivery loop's to retry, spool and replay, and the batch processor never waits for a collector,
 * only for the compression (a batch being compressed is the processor's export in flight, so it is
 * counted there, and a compression failure is a failed export with its reason). Works with any
 * LogRecordProcessor that calls export() (the agent's AccountingLogRecordProcessor, or the SDK's
 * BatchLogRecordProcessor in a host program, which may export several batches at once: they are
 * stored in the order of the export() calls).
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
   * @param onStored called with each batch once it is in the store, in export order (the agent records restart continuity)
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
    let body: Uint8Array | undefined;
    try {
      body = this.serializer.serializeRequest(records);
      if (body === undefined) throw new Error('the serializer produced no request body');
    } catch (err) {
      failed(resultCallback, err);
      return;
    }
    this.delivery.enqueue(records.length, this.encoding, body).then(
      (id) => {
        if (id === null) {
          failed(resultCallback, new Error(this.delivery.stats().store.lastError ?? 'the store refused the batch'));
          return;
        }
        this.onStored?.(records);
        resultCallback({ code: ExportResultCode.SUCCESS });
      },
      (err: unknown) => failed(resultCallback, err),
    );
  }

  /** Resolves once every batch exported so far is in the store (its compression done). */
  forceFlush(): Promise<void> {
    return this.delivery.stored();
  }

  /** Waits for the batches being compressed; the delivery loop is closed by its owner, after its own flush deadline. */
  shutdown(): Promise<void> {
    return this.delivery.stored();
  }
}

/** Serializing, compressing or storing failed (e.g. a refused batch): the processor counts the batch as failed. */
function failed(resultCallback: (result: ExportResult) => void, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  resultCallback({ code: ExportResultCode.FAILED, error: new Error(`cannot store batch: ${e.message}`) });
}
