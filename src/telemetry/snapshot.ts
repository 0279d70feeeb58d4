/**
 * One snapshot of every counter of the running agent, and the one table of loss causes. The
 * cnproc.loss and cnproc.stats records (./agent-records.ts), the Prometheus/OTLP metrics
 * (./self-telemetry.ts) and the stop summary (../agent/report.ts) are all derived from these, so
 * they cannot disagree about what was lost (test/telemetry/agree.test.ts holds them to it).
 */
import { type DeliveryStats, spoolDroppedRecords } from '../delivery/delivery.js';
import { MALFORMED_REASONS } from '../kernel/decode.js';
import type { HrTime } from '../kernel/events.js';
import type { CaptureStats } from '../kernel/source.js';
import type { ProcessorStats } from '../otel/accounting-processor.js';
import type { PressureStats } from '../pressure/pressure.js';
import type { EnricherStats } from '../process/enricher.js';
import type { WorkloadStats } from '../process/workload.js';

export interface TelemetrySnapshot {
  capture: CaptureStats;
  process: EnricherStats;
  /** Per exporter, named (console, otlp). */
  exporters: Array<{ name: string; stats: ProcessorStats }>;
  /** Records emitted and events dropped by the filter rules. */
  emitted: number;
  filtered: number;
  lastEventTime: HrTime | null;
  subscribed: boolean;
  pressure: PressureStats;
  /** The OTLP delivery loop and its store; null without OTLP. */
  delivery: DeliveryStats | null;
  /** Container names: known containers and runtime-state lookups. */
  workloads?: WorkloadStats;
}

/** Malformed datagrams, all reasons. */
export function malformedTotal(c: CaptureStats): number {
  let n = 0;
  for (const r of MALFORMED_REASONS) n += c.malformed[r];
  return n;
}

/** Exporter records over all exporters: exported, and dropped for any reason. */
export function exporterTotals(s: TelemetrySnapshot): { exported: number; dropped: number } {
  let exported = 0;
  let dropped = 0;
  for (const e of s.exporters) {
    exported += e.stats.exported;
    const d = e.stats.dropped;
    dropped += d.queue_full + d.export_failed + d.export_timeout + d.shutdown;
  }
  return { exported, dropped };
}

export interface LossCause {
  /** The cause's name: cnproc.loss.<key> (delta), cnproc.stats.lost.<key> (total), cnproc_loss_total{cause="<key>"}, "loss: <key>=". */
  key: LossKey;
  /** What one count is. */
  unit: 'event' | 'record' | 'batch';
  /** The log line / record body phrase after the count. */
  phrase: string;
  /** Cumulative count since start. */
  total(s: TelemetrySnapshot): number;
}

export const LOSS_KEYS = [
  'kernel_drops',
  'seq_gaps',
  'handoff',
  'malformed',
  'export_queue_full',
  'export_failed',
  'rate_limit',
  'priority',
  'export_rejected',
  'spool_full',
  'spool_corrupt',
] as const;
export type LossKey = (typeof LOSS_KEYS)[number];

function exporterDrops(s: TelemetrySnapshot, pick: (d: ProcessorStats['dropped']) => number): number {
  let n = 0;
  for (const e of s.exporters) n += pick(e.stats.dropped);
  return n;
}

/** Every way an event or record is lost, in report order. */
export const LOSS_CAUSES: readonly LossCause[] = [
  {
    key: 'kernel_drops',
    unit: 'event',
    phrase: 'dropped by the kernel (receive queue full)',
    // -1: /proc/net/netlink not read yet (the worker keeps the last value read, so it never goes back).
    total: (s) => Math.max(0, s.capture.kernelDrops),
  },
  {
    key: 'seq_gaps',
    unit: 'event',
    phrase: 'missing from kernel sequence numbers',
    // A filtered subscription skips numbers on purpose: only gaps while it was exact are loss.
    total: (s) => s.capture.seqGapsLost,
  },
  {
    key: 'handoff',
    unit: 'event',
    phrase: 'dropped between capture and main thread (main thread behind)',
    total: (s) => s.capture.handoffDropped,
  },
  { key: 'malformed', unit: 'event', phrase: 'malformed datagrams skipped', total: (s) => malformedTotal(s.capture) },
  {
    key: 'export_queue_full',
    unit: 'record',
    phrase: 'records dropped (export queue full)',
    total: (s) => exporterDrops(s, (d) => d.queue_full),
  },
  {
    key: 'export_failed',
    unit: 'record',
    phrase: 'records in failed exports',
    total: (s) => exporterDrops(s, (d) => d.export_failed + d.export_timeout),
  },
  { key: 'rate_limit', unit: 'event', phrase: 'dropped by rate limits', total: (s) => s.pressure.dropped.rate_limit },
  { key: 'priority', unit: 'event', phrase: 'low-priority events dropped under pressure', total: (s) => s.pressure.dropped.priority },
  {
    key: 'export_rejected',
    unit: 'record',
    phrase: 'records rejected by the collector',
    total: (s) => (s.delivery ? s.delivery.rejected + s.delivery.partiallyRejected : 0),
  },
  {
    key: 'spool_full',
    unit: 'record',
    phrase: 'records dropped from the full spool (oldest first)',
    total: (s) => (s.delivery ? spoolDroppedRecords(s.delivery) : 0),
  },
  {
    key: 'spool_corrupt',
    unit: 'batch',
    phrase: 'corrupt spool batches skipped',
    total: (s) => (s.delivery ? s.delivery.store.corrupt.batches : 0),
  },
];

export type LossCounts = Record<LossKey, number>;

/** Every cause's total since start. */
export function lossTotals(s: TelemetrySnapshot): LossCounts {
  const out = {} as LossCounts;
  for (const c of LOSS_CAUSES) out[c.key] = c.total(s);
  return out;
}

/** What was lost between two snapshots, by cause (a counter that went back counts 0), and the sum. */
export function lossDelta(prev: TelemetrySnapshot, now: TelemetrySnapshot): { counts: LossCounts; sum: number } {
  const counts = {} as LossCounts;
  let sum = 0;
  for (const c of LOSS_CAUSES) {
    const n = Math.max(0, c.total(now) - c.total(prev));
    counts[c.key] = n;
    sum += n;
  }
  return { counts, sum };
}
