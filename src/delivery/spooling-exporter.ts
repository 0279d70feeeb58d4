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
   * @param onStored called with each batch's record count and last kernel seq per CPU once it is in the store, in export order (the agent records restart continuity)
   */
  constructor(
    private readonly delivery: Delivery,
    private readonly encoding: PayloadEncoding,
    private readonly serializer: ISerializer<ReadableLogRecord[], IExportLogsServiceResponse>,
    private readonly onStored?: (records: number, marks: SeqMarks) => void,
  ) {
    this.preEncoding = encoding === 'protobuf';
  }

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
    let body = (cs[0] as SpoolChunk).bytes;
    if (cs.length > 1) {
      body = new Uint8Array(bytes);
      let at = 0;
      for (const c of cs) {
        body.set(c.bytes, at);
        at += c.bytes.length;
      }
    }
    this.store(records, body, this.onStored ? mergeMarks(cs.map((c) => c.marks)) : NO_MARKS, resultCallback);
  }

  /** Hands a body to the delivery (compressed, then stored); success once it is in the store. */
  private store(records: number, body: Uint8Array, marks: SeqMarks, resultCallback: (result: ExportResult) => void): void {
    this.delivery.enqueue(records, this.encoding, body).then(
      (id) => {
        if (id === null) {
          failed(resultCallback, new Error(this.delivery.stats().store.lastError ?? 'the store refused the batch'));
          return;
        }
        this.onStored?.(records, marks);
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
