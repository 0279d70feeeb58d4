/**
 * Restart continuity: what the kernel did while the agent was not listening.
 *
 * Two witnesses, saved in the spool directory's state file and compared on the next start:
 * - the kernel's per-CPU cn_proc sequence numbers (cn_msg.seq). They advance only while someone
 *   listens to the proc connector, so they count events generated while this agent was down only
 *   when another listener (a second agent, forkstat, a restart overlap) kept the connector on;
 * - /proc/stat "processes", the kernel's count of forks (processes and threads) since boot. It
 *   always advances, so it tells how many processes/threads started while nobody of ours listened.
 *
 * After a clean stop both are saved after the last event, so the gap is exact (up to the agent's own
 * subscribe/unsubscribe acknowledgements, which take sequence numbers on 5.2+ kernels and are
 * subtracted). After a crash (kill -9) they are as of the last batch stored in the spool, so the gap
 * also holds events the agent had received but not stored yet: an upper bound, and said so.
 */
import { readFileSync } from 'node:fs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { type MaybeSplit, recordAttribute } from '../otel/split-attributes.js';
import { readState, writeState } from './state-file.js';

/** What is saved; version 1. */
export interface ContinuityState {
  version: 1;
  bootId: string;
  /** Highest kernel seq per CPU ("cpu" → seq) among events the agent has settled. */
  lastSeq: Record<string, number>;
  /** /proc/stat processes at the time of saving. */
  forks: number;
  savedAtMs: number;
  /** True when written by a clean stop after the last event. */
  clean: boolean;
}

/** The gap between the previous run and this one, as far as it is knowable. */
export interface DowntimeGap {
  /** The previous run ended cleanly (exact) or not (upper bound). */
  clean: boolean;
  /** Same boot as the previous run; false means counters restarted and nothing can be compared. */
  sameBoot: boolean;
  /** From the previous save to this start (ms). */
  downMs: number;
  /** Processes and threads forked meanwhile (/proc/stat processes). */
  forks: number;
  /** Events the kernel generated meanwhile, from seq (0 when nobody kept the connector on). */
  generated: number;
  /** CPUs whose seq could be compared (those with an event since this start and a saved seq). */
  cpusCompared: number;
}

/** /proc/stat's "processes" line: forks since boot; -1 if unreadable. */
export function readForkCount(path = '/proc/stat'): number {
  try {
    const m = /^processes\s+(\d+)$/m.exec(readFileSync(path, 'latin1'));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

function isState(v: unknown): v is ContinuityState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    s.version === 1 &&
    typeof s.bootId === 'string' &&
    typeof s.lastSeq === 'object' &&
    s.lastSeq !== null &&
    typeof s.forks === 'number' &&
    typeof s.savedAtMs === 'number' &&
    typeof s.clean === 'boolean'
  );
}

/** The last kernel seq per CPU among some records: [cpu, seq, cpu, seq, ...]. */
export type SeqMarks = readonly number[];

export const NO_MARKS: SeqMarks = [];

/** Unsigned 32-bit comparison: the counter wraps. */
function later(seq: number, than: number): boolean {
  return (seq - than) >>> 0 < 0x80000000;
}

/** The last seq per CPU among `records` (the agent's own records, without one, are skipped). */
export function seqMarks(records: readonly ReadableLogRecord[]): SeqMarks {
  const last: number[] = [];
  for (let i = 0; i < records.length; i++) {
    // Read without joining a split record's attributes (otel/split-attributes.ts).
    const r = records[i] as ReadableLogRecord & MaybeSplit;
    const cpu = recordAttribute(r, 'cnproc.event.cpu');
    const seq = recordAttribute(r, 'cnproc.event.seq');
    if (typeof cpu !== 'number' || typeof seq !== 'number') continue;
    const prev = last[cpu];
    if (prev === undefined || later(seq, prev)) last[cpu] = seq;
  }
  const out: number[] = [];
  for (let cpu = 0; cpu < last.length; cpu++) {
    const seq = last[cpu];
    if (seq !== undefined) out.push(cpu, seq);
  }
  return out;
}

/** The marks of several record runs as one. */
export function mergeMarks(list: readonly SeqMarks[]): SeqMarks {
  if (list.length === 1) return list[0] as SeqMarks;
  const last = new Map<number, number>();
  for (const m of list) {
    for (let i = 0; i < m.length; i += 2) {
      const cpu = m[i] as number;
      const seq = m[i + 1] as number;
      const prev = last.get(cpu);
      if (prev === undefined || later(seq, prev)) last.set(cpu, seq);
    }
  }
  const out: number[] = [];
  for (const [cpu, seq] of last) out.push(cpu, seq);
  return out;
}

export class Continuity {
  private readonly lastSeq = new Map<number, number>();
  private lastSaveMs = 0;
  /** The previous run's state, read at open; null when there was none (or it was unreadable). */
  readonly previous: ContinuityState | null;
  /** Why there is no previous state ('missing', 'corrupt: …'), for the log. */
  readonly previousProblem: string | null;

  /**
   * @param dir the spool directory (the state file lives beside the segments)
   * @param bootId this boot's id (/proc/sys/kernel/random/boot_id)
   * @param fsync make each save durable before returning
   * @param minIntervalMs least time between two saves on the batch path (a clean stop always saves)
   */
  constructor(
    private readonly dir: string,
    private readonly bootId: string,
    private readonly fsync: boolean,
    private readonly minIntervalMs = 1000,
  ) {
    const r = readState(dir);
    if (r.ok && isState(r.value)) {
      this.previous = r.value;
      this.previousProblem = null;
    } else {
      this.previous = null;
      this.previousProblem = r.ok ? 'state file of an unknown shape' : r.reason;
    }
  }

  /** Notes a batch that is now stored; saves at most every minIntervalMs. */
  noteStored(records: readonly ReadableLogRecord[], nowMs = Date.now()): void {
    this.noteMarks(seqMarks(records), nowMs);
  }

  /** Notes a stored batch by its last seq per CPU (seqMarks); saves at most every minIntervalMs. */
  noteMarks(marks: SeqMarks, nowMs = Date.now()): void {
    for (let i = 0; i < marks.length; i += 2) {
      const cpu = marks[i] as number;
      const seq = marks[i + 1] as number;
      const prev = this.lastSeq.get(cpu);
      if (prev === undefined || later(seq, prev)) this.lastSeq.set(cpu, seq);
    }
    if (nowMs - this.lastSaveMs >= this.minIntervalMs) this.save(false, nowMs);
  }

  /**
   * Saves after a clean stop: `handled` is the last seq per CPU of every event the agent handled
   * (exported, filtered, aggregated or counted as dropped), which supersedes the stored records'.
   */
  saveClean(handled: ReadonlyMap<number, number>, nowMs = Date.now()): void {
    for (const [cpu, seq] of handled) this.lastSeq.set(cpu, seq);
    this.save(true, nowMs);
  }

  private save(clean: boolean, nowMs: number): void {
    this.lastSaveMs = nowMs;
    const state: ContinuityState = {
      version: 1,
      bootId: this.bootId,
      lastSeq: Object.fromEntries([...this.lastSeq].map(([c, s]) => [String(c), s])),
      forks: readForkCount(),
      savedAtMs: nowMs,
      clean,
    };
    writeState(this.dir, state, this.fsync);
  }

  /**
   * The gap since the previous run, given the first seq per CPU seen in this run, the fork count
   * read right after subscribing, and how many acknowledgements our own subscribe and the
   * previous unsubscribe took from the sequence. Null when there was no previous run.
   */
  gap(firstSeq: ReadonlyMap<number, number>, forksAtStart: number, ownAcks: number, nowMs = Date.now()): DowntimeGap | null {
    const p = this.previous;
    if (p === null) return null;
    const sameBoot = p.bootId === this.bootId;
    let generated = 0;
    let cpusCompared = 0;
    if (sameBoot) {
      for (const [cpu, first] of firstSeq) {
        const last = p.lastSeq[String(cpu)];
        if (typeof last !== 'number') continue;
        const d = (first - last) >>> 0;
        if (d === 0 || d >= 0x80000000) continue; // not after the saved one: nothing to say
        generated += d - 1;
        cpusCompared++;
      }
      generated = Math.max(0, generated - ownAcks);
    }
    return {
      clean: p.clean,
      sameBoot,
      downMs: Math.max(0, nowMs - p.savedAtMs),
      forks: sameBoot && p.forks >= 0 && forksAtStart >= 0 ? Math.max(0, forksAtStart - p.forks) : 0,
      generated,
      cpusCompared,
    };
  }
}
