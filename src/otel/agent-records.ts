/**
 * The agent's own records: cnproc.loss (WARN) whenever anything was lost, with counts by cause,
 * and cnproc.stats (INFO) with every counter, periodically.
 */
import { type LogRecord, SeverityNumber } from '@opentelemetry/api-logs';
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

/** The loss since `prev`, as a record; null when nothing was lost. */
export function lossRecord(prev: AgentCounters, now: AgentCounters, time: HrTime): LogRecord | null {
  const d = (a: number, b: number): number => Math.max(0, b - a);
  const kernel = prev.capture.kernelDrops >= 0 && now.capture.kernelDrops >= 0 ? d(prev.capture.kernelDrops, now.capture.kernelDrops) : 0;
  const gaps = now.capture.seqGapsExact ? d(prev.capture.seqGaps, now.capture.seqGaps) : 0;
  const handoff = d(prev.capture.handoffDropped, now.capture.handoffDropped);
  const mal = d(malformed(prev.capture), malformed(now.capture));
  const pe = exportDrops(prev.exporters);
  const ne = exportDrops(now.exporters);
  const queueFull = d(pe.queueFull, ne.queueFull);
  const failed = d(pe.failed, ne.failed);
  const rate = d(prev.pressure.dropped.rate_limit, now.pressure.dropped.rate_limit);
  const priority = d(prev.pressure.dropped.priority, now.pressure.dropped.priority);
  if (kernel + gaps + handoff + mal + queueFull + failed + rate + priority === 0) return null;
  const parts: string[] = [];
  if (kernel) parts.push(`${kernel} dropped by the kernel`);
  if (gaps) parts.push(`${gaps} missing from kernel sequence numbers`);
  if (handoff) parts.push(`${handoff} dropped in the agent (main thread behind)`);
  if (mal) parts.push(`${mal} malformed datagrams`);
  if (queueFull) parts.push(`${queueFull} records dropped (export queue full)`);
  if (failed) parts.push(`${failed} records in failed exports`);
  if (rate) parts.push(`${rate} dropped by rate limits`);
  if (priority) parts.push(`${priority} low-priority events dropped under pressure`);
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
