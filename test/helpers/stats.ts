/**
 * Counter fixtures for tests of reports and records.
 */
import type { CaptureStats } from '../../src/kernel/source.js';

/** Capture counters, all zero unless overridden. */
export function captureStats(over: Partial<CaptureStats> = {}): CaptureStats {
  return {
    datagrams: 0,
    delivered: 0,
    unknown: 0,
    acks: 0,
    malformed: { short: 0, truncated: 0, nlmsg_len: 0, nlmsg_error: 0, nlmsg_noop: 0, nlmsg_type: 0, cn_id: 0, cn_len: 0 },
    filtered: 0,
    handoffDropped: 0,
    inFlight: 0,
    enobufs: 0,
    seqGaps: 0,
    seqGapsExact: true,
    kernelDrops: 0,
    generated: 0,
    socketQueuedBytes: 0,
    wakeup: { execWakeups: 0, wakeupsLate: 0, snapshotsEarly: 0, snapshotsLate: 0, snapshotsUnclaimed: 0 },
    execSuperseded: { flagged: 0, unflagged: 0 },
    ...over,
  };
}
