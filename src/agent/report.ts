/**
 * Human-readable lines about the subscription and about loss, for the agent's log; the stop
 * summary's accounting comes from the same functions as the stop document (./stop-document.ts).
 */

import { type DeliveryStats, spoolDroppedRecords } from '../delivery/delivery.js';
import type { EventFilter } from '../filter/filter.js';
import { PROC_EVENT_ALL, PROC_EVENT_NONZERO_EXIT } from '../kernel/abi.js';
import type { SubscriptionInfo } from '../kernel/capture-protocol.js';
import { EVENT_TYPE_BITS, EVENT_TYPES } from '../kernel/events.js';
import type { CaptureStats } from '../kernel/source.js';
import { HASH_SKIP_REASONS } from '../process/executable-hash.js';
import { LOSS_CAUSES, lossTotals, malformedTotal, type TelemetrySnapshot } from '../telemetry/snapshot.js';

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes % 1048576 === 0 ? 0 : 1)} MiB`;
}

/** Names the types in a kernel mask. */
export function maskNames(mask: number): string {
  if (mask >>> 0 === PROC_EVENT_ALL) return 'all';
  const names: string[] = EVENT_TYPES.filter((t) => (mask & EVENT_TYPE_BITS[t]) !== 0);
  if (mask & PROC_EVENT_NONZERO_EXIT) names.push('exit(non-zero)');
  return names.join(',');
}

export function describeSubscription(info: SubscriptionInfo, requested: number): string {
  const filter =
    info.mode === 'filtered'
      ? `kernel filter: ${maskNames(info.mask)}`
      : 'legacy kernel (before 6.6): every type arrives, the agent drops unwanted ones';
  const buf = info.receiveBufferForced
    ? `receive buffer ${mib(info.receiveBufferObtained)} (asked ${mib(requested)}, SO_RCVBUFFORCE)`
    : `receive buffer ${mib(info.receiveBufferObtained)} (asked ${mib(requested)}; capped by net.core.rmem_max: grant CAP_NET_ADMIN for more)`;
  const nice = info.threadNiceError
    ? `; capture thread priority not raised (${info.threadNiceError}: grant CAP_SYS_NICE)`
    : `; capture thread nice ${info.threadNice}`;
  const wake =
    info.wakeup === 'exec'
      ? '; capture thread wakes for execs only (exec-only second socket)'
      : `; capture thread wakes for every event${info.wakeupNote ? ` (${info.wakeupNote})` : ''}`;
  return `subscribed to the proc connector (${filter}; ${buf}${nice}${wake}; socket inode ${info.inode})`;
}

/** Totals for the stop line. */
export function describeLoss(s: CaptureStats): string {
  const lost = Math.max(s.kernelDrops, 0) + s.handoffDropped;
  return (
    `${s.delivered} events delivered, ${lost} lost ` +
    `(kernel drops ${s.kernelDrops < 0 ? 'unknown' : s.kernelDrops}, ENOBUFS ${s.enobufs}, ` +
    `seq gaps ${s.seqGaps}${s.seqGapsExact ? '' : ' (filtered subscription: not all loss)'}, ` +
    `handoff drops ${s.handoffDropped}), ${malformedTotal(s)} malformed, ${s.filtered} filtered, ${s.acks} acks`
  );
}

/**
 * One parseable line with every loss cause's total since start, from the same table as the
 * cnproc.loss records and cnproc_loss_total: "loss: kernel_drops=0 seq_gaps=0 ...".
 */
export function describeLossTotals(s: TelemetrySnapshot): string {
  const t = lossTotals(s);
  return `loss: ${LOSS_CAUSES.map((c) => `${c.key}=${t[c.key]}`).join(' ')}`;
}

export function describeExport(kinds: { console: boolean; otlp: boolean }, url: string | null, protocol: string): string {
  const parts: string[] = [];
  if (kinds.console) parts.push('console');
  if (kinds.otlp) parts.push(`OTLP ${protocol} to ${url ?? '?'}`);
  return `exporting to ${parts.join(' and ')}`;
}

/** The delivery summary at stop: what reached the collector and what waits for the next start. */
export function describeDelivery(d: DeliveryStats, spool: boolean, flushed: boolean): string {
  const st = d.store;
  const left = spool
    ? `${st.records} records left in the spool for the next start`
    : `${st.records} records lost with the memory queue (spool off)`;
  return (
    `delivery: ${d.delivered} records delivered in ${d.deliveredBatches} requests, ${d.rejected} rejected, ` +
    `${d.partiallyRejected} rejected in partial successes, ${d.retries} retried attempts; ` +
    `store: ${spoolDroppedRecords(d)} records dropped (full), ` +
    `${st.corrupt.batches} corrupt batches skipped, ${st.foundAtOpen.records} records found from before this start; ${left}` +
    (flushed ? '' : ' (stop deadline passed)')
  );
}

/**
 * The delivery identity (records): stored (by the export processor) + found_at_start = delivered +
 * rejected + partially_rejected + spool_dropped + corrupt + write_failed + left.
 */
export function deliveryAccountingOf(stored: number, d: DeliveryStats): Record<string, number> {
  const st = d.store;
  return {
    stored,
    found_at_start: st.foundAtOpen.records,
    delivered: d.delivered,
    rejected: d.rejected,
    partially_rejected: d.partiallyRejected,
    spool_dropped: spoolDroppedRecords(d),
    corrupt: st.corrupt.records,
    write_failed: st.writeFailed.records,
    left: st.records,
  };
}

/**
 * The event identity, kernel to records: generated = kernel_lost + received; received =
 * handoff_dropped + emitted + filtered + aggregated + rate_limited + priority_dropped.
 */
export function eventAccountingOf(f: TelemetrySnapshot): Record<string, number> {
  const c = f.capture;
  const ps = f.pressure;
  return {
    generated: c.generated,
    kernel_lost: Math.max(0, c.kernelDrops),
    received: c.delivered,
    handoff_dropped: c.handoffDropped,
    emitted: f.emitted,
    filtered: f.filtered,
    aggregated: ps.aggregated,
    rate_limited: ps.dropped.rate_limit,
    priority_dropped: ps.dropped.priority,
    storm_records: ps.stormRecords,
  };
}

function keyValues(o: Record<string, number>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** The delivery identity as one log line. */
export function deliveryAccounting(stored: number, d: DeliveryStats): string {
  return `delivery accounting: ${keyValues(deliveryAccountingOf(stored, d))}`;
}

export interface StopReportInput {
  final: TelemetrySnapshot;
  /** Processes were enriched (process.enrich): the process-table line is worth printing. */
  enrich: boolean;
  filter: Pick<EventFilter, 'rules' | 'stats'>;
  spool: boolean;
  flushed: boolean;
  delivered: boolean;
  /** Records the OTLP export processor handed to the store. */
  otlpStored: number;
}

/** The summary at stop, one line each: loss, process table, the accounting, pressure, filter, exporters, delivery. */
export function stopReport(r: StopReportInput): string[] {
  const f = r.final;
  const c = f.capture;
  const ps = f.pressure;
  const lines = [`stopped: ${describeLoss(c)}`, describeLossTotals(f)];
  if (r.enrich) {
    const es = f.process;
    lines.push(
      `process table: ${es.processes} live, ${es.evicted} evicted; ${es.execs} execs, ${es.execIncomplete} with fields missing (flagged), ` +
        `${c.execSuperseded.flagged} read after a later exec (flagged), ${c.execSuperseded.unflagged} found too late to flag`,
    );
    const ms = es.mounts;
    if (ms) {
      lines.push(
        `executable mounts: ${ms.namespaces} mount namespaces, their tables read ${ms.reads} times; ${ms.unknown} lookups could not say (flagged exe_mount:*)`,
      );
    }
    const h = es.hash;
    if (h) {
      const skipped = HASH_SKIP_REASONS.filter((k) => h.skipped[k] > 0).map((k) => `${k}=${h.skipped[k]}`);
      lines.push(
        `executable hashes: ${h.hashed} files hashed (${(h.bytes / 1_048_576).toFixed(1)} MiB, ${(h.cpuUs / 1000).toFixed(0)} ms CPU), ` +
          `skipped: ${skipped.length > 0 ? skipped.join(' ') : 'none'}; ${h.execsWithHash} exec records with the hash, ${h.execsLate} without it yet (late)`,
      );
    }
    const ws = f.workloads;
    if (ws) {
      lines.push(
        `containers: ${ws.containers} known; ${ws.lookups} runtime-state lookups (${ws.lookupMs.toFixed(1)} ms), ${ws.unresolved} left a container unresolved (flagged)`,
      );
    }
  }
  // The same numbers as the stop document's "accounting" (log.reportFile), for a reader of the log.
  lines.push(`accounting: ${keyValues(eventAccountingOf(f))}`);
  lines.push(
    `pressure: level ${ps.level}, ${ps.transitions} transitions; ${ps.aggregated} events in ${ps.stormRecords} storm records, dropped: rate limit ${ps.dropped.rate_limit}, priority ${ps.dropped.priority}`,
  );
  if (r.filter.rules.length > 0) {
    const fs = r.filter.stats();
    lines.push(
      `filter: ${fs.kept} kept, ${fs.dropped} dropped; hits: ${fs.rules.map((x) => `${x.name} ${x.hits}`).join(', ')}, default ${fs.defaultHits}`,
    );
  }
  for (const [i, { stats: p }] of f.exporters.entries()) {
    const d = p.dropped;
    lines.push(
      `exporter ${i + 1}: ${p.exported} exported, dropped: queue full ${d.queue_full}, failed ${d.export_failed}, timeout ${d.export_timeout}, shutdown ${d.shutdown}; ${p.queued + p.inFlight} not sent${r.flushed ? '' : ' (flush deadline passed)'}`,
    );
  }
  if (f.delivery) {
    lines.push(describeDelivery(f.delivery, r.spool, r.delivered));
    lines.push(deliveryAccounting(r.otlpStored, f.delivery));
  }
  return lines;
}
