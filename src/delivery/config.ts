/**
 * The delivery section (delivery.*): spool, retries, stop deadline.
 */

import { BOOLEAN, bytesFormat, intFormat, oneOf } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';

export interface DeliveryConfig {
  spool: boolean;
  spoolDir: string;
  spoolMaxBytes: number;
  fsync: 'always' | 'never';
  memoryMaxBytes: number;
  retryInitialMs: number;
  retryMaxMs: number;
  stopTimeoutMs: number;
}

export const deliverySection: ConfigSection<DeliveryConfig> = {
  reload: 'restart',
  keys: {
    spool: {
      doc: 'Keep OTLP batches in a disk spool until the collector took them (survives collector outages, restarts and kill -9). false: a bounded memory queue (diskless hosts); what it holds is lost at stop.',
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_SPOOL',
      arg: 'spool',
    },
    spoolDir: {
      doc: 'Spool directory (created with mode 0700; one agent per directory, locked). Also keeps the state that tells, after a restart, what happened while the agent was down.',
      format: String,
      default: '/var/lib/cnproc-otel/spool',
      env: 'CNPROC_OTEL_SPOOL_DIR',
      arg: 'spool-dir',
    },
    spoolMaxBytes: {
      doc: 'Spool size cap, in bytes as stored (gzip-compressed bodies with otlp.compression gzip: 10–25 times more records than uncompressed); beyond it the oldest batches are dropped and counted (spool_full).',
      format: bytesFormat(1_048_576, 1_099_511_627_776),
      default: 1_073_741_824,
      env: 'CNPROC_OTEL_SPOOL_MAX_BYTES',
    },
    fsync: {
      doc: 'Segments are written off the main thread, in order. never: a batch is sent as soon as it is stored and written behind it; the kernel writes it back (an agent crash, kill -9 or OOM loses only the batches still queued for writing, usually none; a power cut may lose the last seconds), like Fluent Bit storage.sync normal; always: a batch is sent only after it and the directory are fsynced (survives a power cut; costs the sender milliseconds per batch, not the main thread).',
      format: oneOf('fsync', ['always', 'never']),
      default: 'never',
    },
    memoryMaxBytes: {
      doc: 'With the spool off: most bytes of serialized batches held in memory (compressed, as with the spool); beyond it the oldest are dropped and counted.',
      format: bytesFormat(1_048_576, 17_179_869_184),
      default: 67_108_864,
    },
    retryInitialMs: {
      doc: 'First wait after a retryable failure (429, 502, 503, 504, network error); doubles each time, with jitter (ms).',
      format: intFormat(10, 600_000),
      default: 1000,
    },
    retryMaxMs: {
      doc: 'Longest wait between two attempts, a Retry-After from the collector included (ms).',
      format: intFormat(100, 3_600_000),
      default: 60_000,
    },
    stopTimeoutMs: {
      doc: 'At stop, how long to keep sending what is left before leaving it in the spool (ms).',
      format: intFormat(0, 600_000),
      default: 10_000,
    },
  },
};
