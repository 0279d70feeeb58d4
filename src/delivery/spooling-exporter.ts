/**
 * A LogRecordExporter that serializes each batch once into an OTLP request body and hands it to
 * {@link Delivery} (write-ahead into the store), then reports success at once: from here on the
 * batch is the delivery loop's to retry, spool and replay, and the batch processor never waits
 * for a collector. Works with any LogRecordProcessor that calls export() (the agent's
 * AccountingLogRecordProcessor, or the SDK's BatchLogRecordProcessor in a host program).
 *
 * With protobuf it also takes records encoded ahead (otel/pre-encoding.ts): the agent's processor
 * encodes every few records as they come, and a batch is the concatenation of its chunks.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { IExportLogsServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { EncodedChunk, PreEncodingExporter } from '../otel/pre-encoding.js';
import type { PayloadEncoding } from './batch-store.js';
import { mergeMarks, NO_MARKS, type SeqMarks, seqMarks } from './continuity.js';
import type { Delivery } from './delivery.js';

/** Serializing or writing the spool failed (e.g. ENOSPC): the processor counts the batch as failed. */
function failed(err: unknown): ExportResult {
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: ExportResultCode.FAILED, error: new Error(`cannot store batch: ${e.message}`) };
}

/** A chunk of this exporter's: an OTLP request of its own, and the last kernel seq per CPU among its records. */
interface SpoolChunk extends EncodedChunk {
  readonly bytes: Uint8Array;
  readonly marks: SeqMarks;
}

export class SpoolingLogExporter implements PreEncodingExporter {
  /** Protobuf requests concatenate into one request; JSON ones do not. */
  readonly preEncoding: boolean;

  /**
   * @param delivery where serialized batches go
   * @param encoding the body's encoding (must match the serializer)
   * @param serializer OTLP request serializer, e.g. FastProtobufLogsSerializer or JsonLogsSerializer
   * @param onStored called with each batch's last kernel seq per CPU once it is in the store (the agent records restart continuity)
   */
  constructor(
    private readonly delivery: Delivery,
    private readonly encoding: PayloadEncoding,
    private readonly serializer: ISerializer<ReadableLogRecord[], IExportLogsServiceResponse>,
    private readonly onStored?: (marks: SeqMarks) => void,
  ) {
    this.preEncoding = encoding === 'protobuf';
  }

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    if (records.length === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    let body: Uint8Array;
    try {
      const b = this.serializer.serializeRequest(records);
      if (b === undefined) throw new Error('the serializer produced no request body');
      body = b;
    } catch (err) {
      resultCallback(failed(err));
      return;
    }
    this.store(records.length, body, this.onStored ? seqMarks(records) : NO_MARKS, resultCallback);
  }

  /** A chunk of records as its own request (protobuf only, see preEncoding). */
  encode(records: readonly ReadableLogRecord[]): SpoolChunk {
    if (!this.preEncoding) throw new Error(`${this.encoding} requests cannot be encoded ahead`);
    const bytes = this.serializer.serializeRequest(records as ReadableLogRecord[]);
    if (bytes === undefined) throw new Error('the serializer produced no request body');
    return { records: records.length, bytes, marks: this.onStored ? seqMarks(records) : NO_MARKS };
  }

  exportEncoded(chunks: readonly EncodedChunk[], resultCallback: (result: ExportResult) => void): void {
    const cs = chunks as readonly SpoolChunk[];
    let records = 0;
    let bytes = 0;
    for (const c of cs) {
      records += c.records;
      bytes += c.bytes.length;
    }
    if (records === 0) {
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    // One request: concatenated ExportLogsServiceRequests are the request with all their ResourceLogs.
    const body = cs.length === 1 ? (cs[0] as SpoolChunk).bytes : new Uint8Array(bytes);
    if (cs.length > 1) {
      let at = 0;
      for (const c of cs) {
        body.set(c.bytes, at);
        at += c.bytes.length;
      }
    }
    this.store(records, body, this.onStored ? mergeMarks(cs.map((c) => c.marks)) : NO_MARKS, resultCallback);
  }

  private store(records: number, body: Uint8Array, marks: SeqMarks, resultCallback: (result: ExportResult) => void): void {
    try {
      if (this.delivery.enqueue(records, this.encoding, body) === null)
        throw new Error(this.delivery.stats().store.lastError ?? 'the store refused the batch');
    } catch (err) {
      resultCallback(failed(err));
      return;
    }
    this.onStored?.(marks);
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
