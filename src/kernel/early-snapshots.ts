/**
 * Exec snapshots taken on the exec-only wakeup socket, waiting for the same exec to come out of
 * the main socket (which carries every event in kernel order and is drained right after).
 *
 * An exec is matched by its kernel identity: the CPU that generated it and that CPU's sequence
 * number, which the kernel puts in the same cn_msg for every listening socket. The main socket
 * usually has the exec already when the wakeup socket returns it; when the kernel had queued it
 * to the wakeup socket first, it comes out of the main socket on the next drain. An entry nobody
 * claims within `keepDrains` drains (the main socket lost that exec: counted there as kernel loss)
 * is discarded and counted here, and the store never holds more than `maxEntries`.
 */
import type { Attachment } from './proc-files.js';

export interface EarlySnapshot {
  attachments: Attachment[];
  /** CLOCK_MONOTONIC ns when the read ended (comparable with event kernel times). */
  readNs: bigint;
}

interface Entry extends EarlySnapshot {
  /** Drain number when it was stored. */
  drain: number;
}

export interface EarlySnapshotCounters {
  /** Snapshots stored from the wakeup socket. */
  stored: number;
  /** Exec events of the main socket that found their snapshot here. */
  matched: number;
  /** Snapshots nobody claimed in time, or pushed out by the size bound. */
  expired: number;
}

/** The key of an event: CPU and per-CPU seq in one exact number (cpu < 2^21 keeps it below 2^53). */
export function eventKey(cpu: number, seq: number): number {
  return cpu * 0x1_0000_0000 + (seq >>> 0);
}

export class EarlySnapshots {
  private readonly entries = new Map<number, Entry>();
  private drain = 0;
  readonly counters: EarlySnapshotCounters = { stored: 0, matched: 0, expired: 0 };

  constructor(
    private readonly keepDrains = 2,
    private readonly maxEntries = 4096,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Keeps the snapshot of the exec (cpu, seq). */
  put(cpu: number, seq: number, attachments: Attachment[], readNs: bigint): void {
    if (this.entries.size >= this.maxEntries) {
      // Map iteration is insertion order: the first key is the oldest.
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
      this.counters.expired++;
    }
    this.entries.set(eventKey(cpu, seq), { attachments, readNs, drain: this.drain });
    this.counters.stored++;
  }

  /** The snapshot of the exec (cpu, seq) if one was taken, removed from the store. */
  take(cpu: number, seq: number): EarlySnapshot | undefined {
    if (this.entries.size === 0) return undefined;
    const key = eventKey(cpu, seq);
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    this.counters.matched++;
    return e;
  }

  /** Marks the end of a drain of the main socket; forgets what waited `keepDrains` drains. */
  drained(): void {
    this.drain++;
    if (this.entries.size === 0) return;
    for (const [key, e] of this.entries) {
      if (this.drain - e.drain < this.keepDrains) break; // insertion order: the rest are newer
      this.entries.delete(key);
      this.counters.expired++;
    }
  }
}
