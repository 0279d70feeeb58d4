/**
 * The agent's OTLP path from configuration: serializer → store (disk spool, or bounded memory) →
 * delivery loop → HTTP sender, plus restart continuity when there is a spool directory.
 */
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { OtlpConfig } from '../otel/config.js';
import { FastProtobufLogsSerializer } from '../otel/fast-logs-serializer.js';
import { ExporterConfigError, otlpHeaders, otlpTls, requireLogsUrl } from '../otel/otlp-exporter.js';
import type { BatchStore } from './batch-store.js';
import { SpoolError } from './batch-store.js';
import type { DeliveryConfig } from './config.js';
import { Continuity } from './continuity.js';
import { Delivery, type DeliveryOptions } from './delivery.js';
import { DiskSpool } from './disk-spool.js';
import { HttpSender } from './http-sender.js';
import { MemoryStore } from './memory-store.js';
import { SpoolingLogExporter } from './spooling-exporter.js';

export interface OtlpDelivery {
  delivery: Delivery;
  exporter: SpoolingLogExporter;
  /** Null without a spool (nothing persists across restarts). */
  continuity: Continuity | null;
  /** One line for the log: where batches wait. */
  describe: string;
}

/**
 * Builds the OTLP delivery. Throws ExporterConfigError for anything the operator must fix (no
 * endpoint, unreadable certificate or headers file, unusable or locked spool directory).
 */
export function createOtlpDelivery(
  config: { otlp: OtlpConfig; delivery: DeliveryConfig },
  opts: { version: string; bootId: string; hooks?: Omit<DeliveryOptions, 'backoff'> },
): OtlpDelivery {
  const otlp = config.otlp;
  const d = config.delivery;
  const url = requireLogsUrl(otlp);
  const sender = new HttpSender({
    url,
    headers: otlpHeaders(otlp),
    compression: otlp.compression,
    timeoutMs: otlp.timeoutMs,
    tls: otlpTls(otlp),
    userAgent: `cnproc-otel/${opts.version}`,
    decodeResponse: {
      protobuf: (b) => ProtobufLogsSerializer.deserializeResponse(b),
      json: (b) => JsonLogsSerializer.deserializeResponse(b),
    },
  });
  let store: BatchStore;
  let continuity: Continuity | null = null;
  if (d.spool) {
    try {
      store = DiskSpool.open({ dir: d.spoolDir, maxBytes: d.spoolMaxBytes, fsync: d.fsync });
      continuity = new Continuity(d.spoolDir, opts.bootId, d.fsync === 'always');
    } catch (err) {
      sender.close();
      if (err instanceof SpoolError)
        throw new ExporterConfigError(
          `delivery.spoolDir: ${err.message} (choose another with --spool-dir, or turn the spool off with --spool false)`,
        );
      throw err;
    }
  } else {
    store = new MemoryStore({ maxBytes: d.memoryMaxBytes });
  }
  const delivery = new Delivery(store, sender, {
    ...opts.hooks,
    backoff: { initialMs: d.retryInitialMs, maxMs: d.retryMaxMs },
  });
  const json = otlp.protocol === 'http/json';
  const cont = continuity;
  const exporter = new SpoolingLogExporter(
    delivery,
    json ? 'json' : 'protobuf',
    json ? JsonLogsSerializer : FastProtobufLogsSerializer,
    cont ? (_records, marks) => cont.noteMarks(marks) : undefined,
  );
  const held = store.stats();
  const describe = d.spool
    ? `spool ${d.spoolDir} (cap ${(d.spoolMaxBytes / 1048576).toFixed(0)} MiB, fsync ${d.fsync})${held.batches > 0 ? `: ${held.records} records from before this start to replay` : ''}`
    : `memory queue (cap ${(d.memoryMaxBytes / 1048576).toFixed(0)} MiB; spool off: lost at stop)`;
  return { delivery, exporter, continuity, describe };
}
