/**
 * Token buckets, alone and keyed (per parent executable, per container, per user), for rate limits
 * that shed a flood from one source without touching the rest. Time comes from the caller, so
 * tests drive it.
 */

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** `ratePerSec` tokens are added per second, up to `burst`. */
  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.last = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    const dt = nowMs - this.last;
    if (dt > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (dt * this.ratePerSec) / 1000);
      this.last = nowMs;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/** One bucket per key, at most `maxKeys` of them (least recently used goes first). */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    readonly maxKeys: number,
  ) {}

  take(key: string, nowMs: number): boolean {
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
    } else {
      b = new TokenBucket(this.ratePerSec, this.burst, nowMs);
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(key, b);
    return b.take(nowMs);
  }

  get size(): number {
    return this.buckets.size;
  }
}
