/**
 * Exporters that take their records encoded ahead of the export.
 *
 * Why: a batching processor holds records until a batch is full or its delay passes (up to
 * `scheduledDelayMillis`, 1 s by default). Records held that long outlive one or two young-generation
 * collections, are promoted, and die in the old generation, where only a full mark-compact finds
 * them: at a steady 800 exec/s one every ~1 s, with its concurrent marking on V8's helper threads
 * (docs/benchmarks.md, "Issue 15"). An exporter that can encode a few records at a time lets the
 * processor turn them into bytes within milliseconds of their emit (`encode`), keep only the bytes
 * (outside the JavaScript heap), and hand the chunks over as one batch (`exportEncoded`).
 *
 * The bytes of a batch are the concatenation of its chunks' OTLP requests: protobuf concatenation
 * of two ExportLogsServiceRequests is the request with both lists of ResourceLogs, so a batch is one
 * valid request in which a resource may appear once per chunk (the OTLP data model allows it; the
 * collector merges them).
 */
import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';

/** Records already encoded: an opaque chunk of the exporter's. */
export interface EncodedChunk {
  /** How many records the chunk holds. */
  readonly records: number;
}

export interface PreEncodingExporter extends LogRecordExporter {
  /** True when this instance can take chunks (a protobuf encoder; JSON requests do not concatenate). */
  readonly preEncoding: boolean;
  /** Encodes records into a chunk; throws when they cannot be encoded. */
  encode(records: readonly ReadableLogRecord[]): EncodedChunk;
  /** Exports chunks made by `encode`, in order, as one batch. */
  exportEncoded(chunks: readonly EncodedChunk[], resultCallback: (result: ExportResult) => void): void;
}

export function isPreEncoding(e: LogRecordExporter): e is PreEncodingExporter {
  const p = e as Partial<PreEncodingExporter>;
  return p.preEncoding === true && typeof p.encode === 'function' && typeof p.exportEncoded === 'function';
}

/** Records per chunk: small enough that records die young, large enough that each chunk's resource header is noise. */
export const CHUNK_RECORDS = 64;
