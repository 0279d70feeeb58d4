/**
 * Counter fixtures for tests of reports and records.
 */
import type { CaptureStats } from '../../src/kernel/source.js';
import type { TelemetrySnapshot } from '../../src/telemetry/snapshot.js';

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
    handoffs: 0,
    enobufs: 0,
    seqGaps: 0,
    seqGapsExact: true,
    seqGapsLost: 0,
    kernelDrops: 0,
    generated: 0,
    socketQueuedBytes: 0,
    wakeup: { execWakeups: 0, wakeupsLate: 0, snapshotsEarly: 0, snapshotsLate: 0, snapshotsUnclaimed: 0 },
    execSuperseded: { flagged: 0, unflagged: 0 },
    ...over,
  };
}

/** A whole telemetry snapshot, all zero unless overridden. */
export function telemetrySnapshot(over: Partial<TelemetrySnapshot> = {}): TelemetrySnapshot {
  return {
    capture: captureStats(),
    process: { processes: 1, evicted: 0, execIncomplete: 0, execs: 0, hash: null },
    exporters: [],
    emitted: 0,
    filtered: 0,
    lastEventTime: null,
    subscribed: true,
    pressure: { level: 0, passed: 0, aggregated: 0, dropped: { rate_limit: 0, priority: 0 }, stormRecords: 0, transitions: 0 },
    delivery: null,
    ...over,
  };
}
