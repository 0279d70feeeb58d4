/**
 * The process table: tgid → ProcessInfo, bounded, least-recently-used first out.
 *
 * Exits remove entries, so the table holds the live processes. The bound matters when exits are
 * lost (kernel drops) or a storm outruns them: then the least recently touched entry goes, counted.
 * A Map keeps insertion order, so "touch" is delete + set and eviction takes the first key: O(1).
 */
import type { ProcessInfo } from './model.js';

export class ProcessTable {
  private readonly map = new Map<number, ProcessInfo>();
  /** Entries removed to stay under the limit (not by an exit). */
  evicted = 0;

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  /** Looks up without changing recency. */
  peek(tgid: number): ProcessInfo | undefined {
    return this.map.get(tgid);
  }

  /** Looks up and marks as recently used. */
  get(tgid: number): ProcessInfo | undefined {
    const v = this.map.get(tgid);
    if (v !== undefined) {
      this.map.delete(tgid);
      this.map.set(tgid, v);
    }
    return v;
  }

  set(info: ProcessInfo): void {
    this.map.delete(info.tgid);
    this.map.set(info.tgid, info);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as number;
      this.map.delete(oldest);
      this.evicted++;
    }
  }

  delete(tgid: number): boolean {
    return this.map.delete(tgid);
  }

  values(): IterableIterator<ProcessInfo> {
    return this.map.values();
  }
}
