/**
 * Human-readable lines about the subscription and about loss, for the agent's log.
 */
import { PROC_EVENT_ALL, PROC_EVENT_NONZERO_EXIT } from '../kernel/abi.js';
import type { SubscriptionInfo } from '../kernel/capture-protocol.js';
import { MALFORMED_REASONS } from '../kernel/decode.js';
import { EVENT_TYPE_BITS, EVENT_TYPES } from '../kernel/events.js';
import type { CaptureStats } from '../kernel/source.js';

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
  return `subscribed to the proc connector (${filter}; ${buf}${nice}; socket inode ${info.inode})`;
}

function malformedTotal(s: CaptureStats): number {
  let n = 0;
  for (const r of MALFORMED_REASONS) n += s.malformed[r];
  return n;
}

/** One line about what was lost or rejected between two snapshots, or null if nothing. */
export function lossDelta(prev: CaptureStats, now: CaptureStats): string | null {
  const parts: string[] = [];
  const d = (a: number, b: number): number => Math.max(0, b - a);
  const kd = prev.kernelDrops >= 0 && now.kernelDrops >= 0 ? d(prev.kernelDrops, now.kernelDrops) : 0;
  if (kd) parts.push(`${kd} dropped by the kernel (receive queue full)`);
  const enob = d(prev.enobufs, now.enobufs);
  if (enob) parts.push(`${enob} ENOBUFS`);
  const gaps = d(prev.seqGaps, now.seqGaps);
  if (gaps && now.seqGapsExact) parts.push(`${gaps} missing from kernel sequence numbers`);
  const hd = d(prev.handoffDropped, now.handoffDropped);
  if (hd) parts.push(`${hd} dropped between capture and main thread (main thread behind)`);
  const mal = d(malformedTotal(prev), malformedTotal(now));
  if (mal) {
    const why = MALFORMED_REASONS.filter((r) => now.malformed[r] > prev.malformed[r])
      .map((r) => `${r} ${now.malformed[r] - prev.malformed[r]}`)
      .join(', ');
    parts.push(`${mal} malformed datagrams skipped (${why})`);
  }
  return parts.length ? `events lost: ${parts.join('; ')}` : null;
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

export function describeExport(kinds: { console: boolean; otlp: boolean }, url: string | null, protocol: string): string {
  const parts: string[] = [];
  if (kinds.console) parts.push('console');
  if (kinds.otlp) parts.push(`OTLP ${protocol} to ${url ?? '?'}`);
  return `exporting to ${parts.join(' and ')}`;
}
