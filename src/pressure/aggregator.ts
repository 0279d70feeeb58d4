/**
 * Storm aggregation: while the ladder is at "aggregate" or above, fork/exec/exit/comm/sid events of the same
 * parent and executable within a window are counted instead of exported, and each window closes
 * as one cnproc.storm record (counts per type, first and last time, sample pids, the parent). A
 * fork bomb becomes one readable line per second instead of a flood.
 */
import type { HrTime } from '../kernel/events.js';
import type { EnrichedEvent } from '../process/model.js';

export interface StormSummary {
  parentPid: number | null;
  parentEntityId: string | null;
  parentExecutable: string | null;
  executable: string | null;
  counts: { fork: number; exec: number; exit: number; comm: number; sid: number };
  total: number;
  first: HrTime;
  last: HrTime;
  samplePids: number[];
  /** How long the window was open (ms). */
  windowMs: number;
}

interface Bucket extends StormSummary {
  openedMs: number;
}

export class StormAggregator {
  private readonly buckets = new Map<string, Bucket>();
  /** Events absorbed into storm records. */
  aggregated = 0;
  /** Buckets closed early because there were too many keys (their records still go out). */
  evictedBuckets = 0;

  constructor(
    private readonly windowMs: number,
    private readonly samples: number,
    private readonly maxKeys: number,
  ) {}

  /**
   * True for events this stage may absorb: the lifecycle and naming noise of a storm. Privilege
   * changes (uid, gid), ptrace and core dumps always pass one by one.
   */
  static eligible(x: EnrichedEvent): boolean {
    const k = x.event.kind;
    return k === 'fork' || k === 'exec' || k === 'exit' || k === 'comm' || k === 'sid';
  }

  /** Absorbs the event; returns summaries of buckets pushed out by the key limit. */
  add(x: EnrichedEvent, nowMs: number): StormSummary[] {
    const e = x.event;
    const p = x.process;
    const parentPid = e.kind === 'fork' || e.kind === 'exit' ? e.parentTgid : (p?.ppid ?? null);
    const executable = p?.exe ?? (p?.comm ? `[${p.comm}]` : null);
    const key = `${p?.parentEntityId ?? parentPid}|${executable}`;
    const out: StormSummary[] = [];
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value as string;
        out.push(this.close(oldest, nowMs));
        this.evictedBuckets++;
      }
      b = {
        parentPid,
        parentEntityId: p?.parentEntityId ?? null,
        parentExecutable: x.parent?.exe ?? x.ancestors[0] ?? null,
        executable,
        counts: { fork: 0, exec: 0, exit: 0, comm: 0, sid: 0 },
        total: 0,
        first: e.time,
        last: e.time,
        samplePids: [],
        windowMs: 0,
        openedMs: nowMs,
      };
      this.buckets.set(key, b);
    }
    b.counts[e.kind as keyof StormSummary['counts']]++;
    b.total++;
    b.last = e.time;
    if (b.samplePids.length < this.samples && !b.samplePids.includes(e.tgid)) b.samplePids.push(e.tgid);
    this.aggregated++;
    return out;
  }

  /** Closes the windows that are due (all of them with `all`). */
  flush(nowMs: number, all = false): StormSummary[] {
    const out: StormSummary[] = [];
    for (const [key, b] of this.buckets) {
      if (all || nowMs - b.openedMs >= this.windowMs) out.push(this.close(key, nowMs));
    }
    return out;
  }

  private close(key: string, nowMs: number): StormSummary {
    const b = this.buckets.get(key) as Bucket;
    this.buckets.delete(key);
    const { openedMs, ...summary } = b;
    summary.windowMs = nowMs - openedMs;
    return summary;
  }

  get open(): number {
    return this.buckets.size;
  }
}
