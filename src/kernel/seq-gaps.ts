/**
 * Loss detection from cn_msg.seq, a per-CPU counter the kernel advances for every event it
 * generates. A jump on one CPU means events were generated that we never received. Exact as a
 * loss count only when the subscription receives every type (a filtered socket skips seqs of
 * types it does not want); otherwise it counts "generated but not delivered to us".
 */
export class SeqGapTracker {
  /** Last seq seen per CPU; -1 when none yet. */
  private readonly last: number[] = [];
  /** Events missing between consecutive seqs on the same CPU. */
  gaps = 0;
  /** Seqs that went backwards on a CPU (should not happen; counted, never treated as loss). */
  outOfOrder = 0;
  /** Events observed (one per observe call). */
  observed = 0;

  /** Records one received event and returns how many were missing just before it. */
  observe(cpu: number, seq: number): number {
    this.observed++;
    const prev = this.last[cpu];
    this.last[cpu] = seq;
    if (prev === undefined || prev < 0) return 0;
    // Unsigned 32-bit distance, so the counter's wrap-around is not a gap.
    const d = (seq - prev) >>> 0;
    if (d === 0 || d >= 0x80000000) {
      this.outOfOrder++;
      return 0;
    }
    const gap = d - 1;
    this.gaps += gap;
    return gap;
  }

  /** True when `seq` on `cpu` is at or before the last one observed there (already taken, or lost). */
  passed(cpu: number, seq: number): boolean {
    const last = this.last[cpu];
    if (last === undefined || last < 0) return false;
    return (last - seq) >>> 0 < 0x80000000;
  }

  /** Events the kernel generated since the first one we saw on each CPU (as far as seq tells). */
  get generated(): number {
    return this.observed + this.gaps;
  }
}
