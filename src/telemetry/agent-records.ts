/**
 * The agent's own records: cnproc.loss (WARN) whenever anything was lost, with counts by cause,
 * and cnproc.stats (INFO) with every counter, periodically; both from one TelemetrySnapshot and the
 * one table of loss causes (./snapshot.ts).
 */
import { type LogRecord, SeverityNumber } from '@opentelemetry/api-logs';
import type { DowntimeGap } from '../delivery/continuity.js';
import { MALFORMED_REASONS } from '../kernel/decode.js';
import type { HrTime } from '../kernel/events.js';
import type { AttrName } from '../otel/attributes.js';
import type { StormSummary } from '../pressure/aggregator.js';
import { isoNanos } from '../util/time.js';
import { exporterTotals, LOSS_CAUSES, lossDelta, lossTotals, malformedTotal, type TelemetrySnapshot } from './snapshot.js';

/** The loss since `prev`, as a record; null when nothing was lost. Its body is also the agent's log line. */
export function lossRecord(prev: TelemetrySnapshot, now: TelemetrySnapshot, time: HrTime): LogRecord | null {
  const { counts, sum } = lossDelta(prev, now);
  // ENOBUFS is not a count of lost events (the kernel drops are), but it says loss happened even
  // when the kernel's drop counter cannot be read.
  const enobufs = Math.max(0, now.capture.enobufs - prev.capture.enobufs);
  if (sum === 0 && enobufs === 0) return null;
  const parts: string[] = [];
  const attributes: Record<string, number | string> = { 'cnproc.event.name': 'cnproc.loss' };
  for (const c of LOSS_CAUSES) {
    const n = counts[c.key];
    attributes[`cnproc.loss.${c.key}` satisfies AttrName] = n;
    if (n === 0) continue;
    if (c.key === 'malformed') {
      const pm = prev.capture.malformed;
      const nm = now.capture.malformed;
      const why = MALFORMED_REASONS.filter((r) => nm[r] > pm[r])
        .map((r) => `${r} ${nm[r] - pm[r]}`)
        .join(', ');
      parts.push(`${n} ${c.phrase} (${why})`);
    } else parts.push(`${n} ${c.phrase}`);
  }
  if (enobufs > 0) parts.splice(counts.kernel_drops > 0 ? 1 : 0, 0, `${enobufs} ENOBUFS`);
  return {
    eventName: 'cnproc.loss',
    timestamp: time,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: `events lost: ${parts.join('; ')}`,
    attributes,
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

export function statsRecord(now: TelemetrySnapshot, time: HrTime): LogRecord {
  const c = now.capture;
  const { exported, dropped } = exporterTotals(now);
  const attributes: Record<string, number | string> = {
    'cnproc.event.name': 'cnproc.stats',
    'cnproc.stats.datagrams': c.datagrams,
    'cnproc.stats.delivered': c.delivered,
    'cnproc.stats.filtered': c.filtered,
    'cnproc.stats.kernel_drops': Math.max(0, c.kernelDrops),
    'cnproc.stats.seq_gaps': c.seqGaps,
    'cnproc.stats.handoff_dropped': c.handoffDropped,
    'cnproc.stats.malformed': malformedTotal(c),
    'cnproc.stats.processes': now.process.processes,
    'cnproc.stats.processes_evicted': now.process.evicted,
    'cnproc.stats.exported': exported,
    'cnproc.stats.export_dropped': dropped,
    'cnproc.stats.aggregated': now.pressure.aggregated,
    'cnproc.pressure.level': now.pressure.level,
  };
  const h = now.process.hash;
  if (h) {
    attributes['cnproc.stats.executables_hashed' satisfies AttrName] = h.hashed;
    attributes['cnproc.stats.executable_hashes_skipped' satisfies AttrName] = Object.values(h.skipped).reduce((a, b) => a + b, 0);
    attributes['cnproc.stats.exec_hash_late' satisfies AttrName] = h.execsLate;
  }
  const lost = lossTotals(now);
  for (const cause of LOSS_CAUSES) attributes[`cnproc.stats.lost.${cause.key}` satisfies AttrName] = lost[cause.key];
  return {
    eventName: 'cnproc.stats',
    timestamp: time,
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: `stats: ${c.delivered} events, ${Math.max(0, c.kernelDrops)} kernel drops, ${now.process.processes} processes, ${exported} exported`,
    attributes,
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
