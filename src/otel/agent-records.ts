/**
 * The agent's own records: cnproc.loss (WARN) whenever anything was lost, with counts by cause,
 * and cnproc.stats (INFO) with every counter, periodically.
 */
import { type LogRecord, SeverityNumber } from '@opentelemetry/api-logs';
import type { DowntimeGap } from '../delivery/continuity.js';
import { type DeliveryStats, spoolDroppedRecords } from '../delivery/delivery.js';
import { MALFORMED_REASONS } from '../kernel/decode.js';
import type { HrTime } from '../kernel/events.js';
import type { CaptureStats } from '../kernel/source.js';
import type { StormSummary } from '../pressure/aggregator.js';
import type { PressureStats } from '../pressure/pressure.js';
import type { EnricherStats } from '../process/enricher.js';
import { isoNanos } from '../util/time.js';
import type { ProcessorStats } from './accounting-processor.js';

export interface AgentCounters {
  capture: CaptureStats;
  process: EnricherStats;
  exporters: ProcessorStats[];
  pressure: PressureStats;
  /** The OTLP delivery loop (retries, spool); null without OTLP. */
  delivery?: DeliveryStats | null;
}

function malformed(s: CaptureStats): number {
  let n = 0;
  for (const r of MALFORMED_REASONS) n += s.malformed[r];
  return n;
}

function exportDrops(ex: ProcessorStats[]): { queueFull: number; failed: number } {
  let queueFull = 0;
  let failed = 0;
  for (const e of ex) {
    queueFull += e.dropped.queue_full;
    failed += e.dropped.export_failed + e.dropped.export_timeout;
  }
  return { queueFull, failed };
}

/** The loss since `prev`, as a record; null when nothing was lost. Its body is also the agent's log line. */
export function lossRecord(prev: AgentCounters, now: AgentCounters, time: HrTime): LogRecord | null {
  const d = (a: number, b: number): number => Math.max(0, b - a);
  const pc = prev.capture;
  const nc = now.capture;
  const kernel = pc.kernelDrops >= 0 && nc.kernelDrops >= 0 ? d(pc.kernelDrops, nc.kernelDrops) : 0;
  const enobufs = d(pc.enobufs, nc.enobufs);
  const gaps = nc.seqGapsExact ? d(pc.seqGaps, nc.seqGaps) : 0;
  const handoff = d(pc.handoffDropped, nc.handoffDropped);
  const mal = d(malformed(pc), malformed(nc));
  const pe = exportDrops(prev.exporters);
  const ne = exportDrops(now.exporters);
  const queueFull = d(pe.queueFull, ne.queueFull);
  const failed = d(pe.failed, ne.failed);
  const rate = d(prev.pressure.dropped.rate_limit, now.pressure.dropped.rate_limit);
  const priority = d(prev.pressure.dropped.priority, now.pressure.dropped.priority);
  const pd = prev.delivery;
  const nd = now.delivery;
  const rejected = pd && nd ? d(pd.rejected + pd.partiallyRejected, nd.rejected + nd.partiallyRejected) : 0;
  const spoolFull = pd && nd ? d(spoolDroppedRecords(pd), spoolDroppedRecords(nd)) : 0;
  const corrupt = pd && nd ? d(pd.store.corrupt.batches, nd.store.corrupt.batches) : 0;
  if (kernel + enobufs + gaps + handoff + mal + queueFull + failed + rate + priority + rejected + spoolFull + corrupt === 0) return null;
  const parts: string[] = [];
  if (kernel) parts.push(`${kernel} dropped by the kernel (receive queue full)`);
  if (enobufs) parts.push(`${enobufs} ENOBUFS`);
  if (gaps) parts.push(`${gaps} missing from kernel sequence numbers`);
  if (handoff) parts.push(`${handoff} dropped between capture and main thread (main thread behind)`);
  if (mal) {
    const why = MALFORMED_REASONS.filter((r) => nc.malformed[r] > pc.malformed[r])
      .map((r) => `${r} ${nc.malformed[r] - pc.malformed[r]}`)
      .join(', ');
    parts.push(`${mal} malformed datagrams skipped (${why})`);
  }
  if (queueFull) parts.push(`${queueFull} records dropped (export queue full)`);
  if (failed) parts.push(`${failed} records in failed exports`);
  if (rate) parts.push(`${rate} dropped by rate limits`);
  if (priority) parts.push(`${priority} low-priority events dropped under pressure`);
  if (rejected) parts.push(`${rejected} records rejected by the collector`);
  if (spoolFull) parts.push(`${spoolFull} records dropped from the full spool (oldest first)`);
  if (corrupt) parts.push(`${corrupt} corrupt spool batches skipped`);
  return {
    eventName: 'cnproc.loss',
    timestamp: time,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: `events lost: ${parts.join('; ')}`,
    attributes: {
      'cnproc.event.name': 'cnproc.loss',
      'cnproc.loss.kernel_drops': kernel,
      'cnproc.loss.seq_gaps': gaps,
      'cnproc.loss.handoff': handoff,
      'cnproc.loss.malformed': mal,
      'cnproc.loss.export_queue_full': queueFull,
      'cnproc.loss.export_failed': failed,
      'cnproc.loss.rate_limit': rate,
      'cnproc.loss.priority': priority,
      'cnproc.loss.export_rejected': rejected,
      'cnproc.loss.spool_full': spoolFull,
      'cnproc.loss.spool_corrupt': corrupt,
    },
  };
}

/** What the kernel did while the agent was down (restart continuity), as a cnproc.loss record; null when nothing. */
export function downtimeRecord(g: DowntimeGap, time: HrTime): LogRecord | null {
  if (!g.sameBoot || (g.forks === 0 && g.generated === 0)) return null;
  const bound = g.clean ? '' : ' (it did not stop cleanly: upper bounds)';
  const seq =
    g.cpusCompared > 0 ? `; the kernel generated ${g.generated} events (per-CPU sequence numbers, ${g.cpusCompared} CPUs compared)` : '';
  return {
    eventName: 'cnproc.loss',
    timestamp: time,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: `while the agent was down for ${(g.downMs / 1000).toFixed(1)} s${bound}, ${g.forks} processes and threads were forked${seq}`,
    attributes: {
      'cnproc.event.name': 'cnproc.loss',
      'cnproc.loss.downtime.ms': g.downMs,
      'cnproc.loss.downtime.forks': g.forks,
      'cnproc.loss.downtime.generated': g.generated,
      'cnproc.loss.downtime.clean': g.clean,
    },
  };
}

export function statsRecord(now: AgentCounters, time: HrTime): LogRecord {
  const c = now.capture;
  let exported = 0;
  let dropped = 0;
  for (const e of now.exporters) {
    exported += e.exported;
    for (const v of Object.values(e.dropped)) dropped += v;
  }
  return {
    eventName: 'cnproc.stats',
    timestamp: time,
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: `stats: ${c.delivered} events, ${Math.max(0, c.kernelDrops)} kernel drops, ${now.process.processes} processes, ${exported} exported`,
    attributes: {
      'cnproc.event.name': 'cnproc.stats',
      'cnproc.stats.datagrams': c.datagrams,
      'cnproc.stats.delivered': c.delivered,
      'cnproc.stats.filtered': c.filtered,
      'cnproc.stats.kernel_drops': Math.max(0, c.kernelDrops),
      'cnproc.stats.seq_gaps': c.seqGaps,
      'cnproc.stats.handoff_dropped': c.handoffDropped,
      'cnproc.stats.malformed': malformed(c),
      'cnproc.stats.processes': now.process.processes,
      'cnproc.stats.processes_evicted': now.process.evicted,
      'cnproc.stats.exported': exported,
      'cnproc.stats.export_dropped': dropped,
      'cnproc.stats.aggregated': now.pressure.aggregated,
      'cnproc.pressure.level': now.pressure.level,
    },
  };
}

/** One closed storm window as a record. */
export function stormRecord(s: StormSummary, level: number): LogRecord {
  const c = s.counts;
  return {
    eventName: 'cnproc.storm',
    timestamp: s.last,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: `storm: ${s.total} events (fork ${c.fork}, exec ${c.exec}, exit ${c.exit}, comm ${c.comm}, sid ${c.sid}) of ${s.executable ?? '?'} under ${s.parentExecutable ?? '?'} (pid ${s.parentPid ?? '?'}) in ${(s.windowMs / 1000).toFixed(1)} s`,
    attributes: {
      'cnproc.event.name': 'cnproc.storm',
      ...(s.parentPid !== null ? { 'cnproc.storm.parent.pid': s.parentPid } : {}),
      ...(s.parentEntityId !== null ? { 'cnproc.storm.parent_entity_id': s.parentEntityId } : {}),
      ...(s.parentExecutable !== null ? { 'cnproc.storm.parent.executable.path': s.parentExecutable } : {}),
      ...(s.executable !== null ? { 'cnproc.storm.executable.path': s.executable } : {}),
      'cnproc.storm.count.fork': c.fork,
      'cnproc.storm.count.exec': c.exec,
      'cnproc.storm.count.exit': c.exit,
      'cnproc.storm.count.comm': c.comm,
      'cnproc.storm.count.sid': c.sid,
      'cnproc.storm.count.total': s.total,
      'cnproc.storm.first_time': isoNanos(s.first),
      'cnproc.storm.last_time': isoNanos(s.last),
      'cnproc.storm.sample_pids': s.samplePids,
      'cnproc.storm.window_ms': Math.round(s.windowMs),
      'cnproc.pressure.level': level,
    },
  };
}
