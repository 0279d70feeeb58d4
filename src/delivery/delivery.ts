/**
 * The delivery loop: sends the oldest stored batch, removes it once the collector took it (or
 * refused it for good), and waits as the OTLP rules say when the collector asks for time. One
 * request at a time, oldest first, so records arrive in the order they were made.
 *
 * Capture never waits for it: batches go to the store (disk spool or bounded memory) and this loop
 * drains the store in the background.
 *
 * With gzip (the sender's compression) each batch is compressed once, on libuv's thread pool,
 * before it enters the store: the store, its size cap and every send hold the compressed body.
 * Until its compression ends a batch is `compressing` (held here, in enqueue order); batches
 * enter the store in the order they were enqueued, whichever compression ends first.
 */

import type { BatchCount, BatchStore, BatchStoreStats, BodyCompression, PayloadEncoding, StoredBatch } from './batch-store.js';
import { gzipBody } from './body-compression.js';
import { DiskSpool } from './disk-spool.js';
import type { SendResult } from './http-sender.js';
import { type BackoffOptions, nextDelayMs } from './retry-policy.js';

/** What the loop needs of a sender (HttpSender, or anything that speaks the same results). */
export interface BatchSender {
  /** The form bodies go on the wire in; the delivery stores them in that form. */
  readonly compression: BodyCompression;
  /** Sends a body stored with `compression` (converted first if that is not the wire form). */
  send(payload: Uint8Array, encoding: PayloadEncoding, compression: BodyCompression, records: number): Promise<SendResult>;
  close(): void;
}

export interface DeliveryOptions {
  backoff: BackoffOptions;
  /** Told about each failed attempt (the agent logs the first of a run of failures and the recovery). */
  onAttemptFailed?: (reason: string, delayMs: number, consecutiveFailures: number) => void;
  /** Told when a batch is refused for good (non-retryable answer). */
  onRejected?: (reason: string, records: number) => void;
  /** Told when the first batch goes through after failures. */
  onRecovered?: (failures: number, outageMs: number) => void;
  /** Injectable jitter source for tests. */
  random?: () => number;
}

export interface DeliveryStats {
  /** Records the collector accepted (partial-success rejections excluded). */
  delivered: number;
  deliveredBatches: number;
  /** Records refused for good: non-retryable answers (4xx other than 429, 5xx other than 502-504). */
  rejected: number;
  /** Records the collector took but reported as rejected in a partial success. */
  partiallyRejected: number;
  /** Records the size cap dropped from the store while they were being sent (then delivered or rejected anyway). */
  sentAfterDrop: number;
  /** Attempts that will be repeated (429/502/503/504, network errors). */
  retries: number;
  consecutiveFailures: number;
  /** How the last attempt ended; null before the first. */
  lastOutcome: 'delivered' | 'rejected' | 'retry' | null;
  lastError: string | null;
  /** Wall-clock ms of the last accepted batch; null before the first. */
  lastDeliveredMs: number | null;
  /**
   * Batches enqueued and not in the store yet: being compressed (gzip), or compressed and waiting
   * for an earlier batch's compression to end. A kill -9 loses these; flush() and close() wait for them.
   */
  compressing: BatchCount;
  /** The store: what waits, and what it dropped (size cap) or found corrupt. */
  store: BatchStoreStats;
}

/**
 * Records the store's size cap really cost: batches refused at append are counted by the export
 * processor (export_failed) instead, and batches dropped while on the wire were sent anyway.
 */
export function spoolDroppedRecords(d: DeliveryStats): number {
  return d.store.droppedOldest.records - d.store.refusedOversize.records - d.sentAfterDrop;
}

/** The delivery loop's own counters before anything was sent (everything in DeliveryStats but the store's). */
export function zeroDeliveryCounters(): Omit<DeliveryStats, 'store'> {
  return {
    delivered: 0,
    deliveredBatches: 0,
    rejected: 0,
    partiallyRejected: 0,
    sentAfterDrop: 0,
    retries: 0,
    consecutiveFailures: 0,
    lastOutcome: null,
    lastError: null,
    lastDeliveredMs: null,
    compressing: { batches: 0, records: 0 },
  };
}

/** A batch enqueued and not stored yet; its compression fills in `body` or `error`. */
interface Pending {
  records: number;
  encoding: PayloadEncoding;
  body: Uint8Array | null;
  error: Error | null;
  resolve: (id: number | null) => void;
  reject: (err: Error) => void;
}

export class Delivery {
  private running: Promise<void> | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private wakeWait: (() => void) | null = null;
  private closed = false;
  private storeClosed = false;
  private firstFailureMs = 0;
  private readonly counters = zeroDeliveryCounters();
  /** Enqueued, not stored yet, in enqueue order (only with gzip). */
  private readonly pending: Pending[] = [];
  private pendingRecords = 0;
  /** Who waits for `pending` to empty (stored() callers). */
  private pendingWaiters: Array<() => void> = [];

  constructor(
    readonly store: BatchStore,
    private readonly sender: BatchSender,
    private readonly opts: DeliveryOptions,
  ) {
    // A spool with fsync always offers a batch only once it is on disk: its write wakes the loop.
    if (store instanceof DiskSpool && store.fsync === 'always') {
      store.onWritten = () => {
        this.kick();
        this.wake();
      };
    }
  }

  /**
   * Stores one serialized batch (write-ahead) and makes sure the loop runs. With gzip the batch is
   * compressed first, off the main thread, and stored once that is done and every batch enqueued
   * before it is stored; without, it is stored before this returns. Resolves to the batch's id,
   * or null when the store refused it (larger than the whole store): the store counted it and
   * says why in `stats().store.lastError`. Rejects when the batch cannot be compressed or stored
   * (the store is closed): then nothing holds it, and the caller counts it as failed.
   */
  enqueue(records: number, encoding: PayloadEncoding, payload: Uint8Array): Promise<number | null> {
    if (this.sender.compression === 'none') {
      try {
        return Promise.resolve(this.append(records, encoding, payload, 'none'));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<number | null>((resolve, reject) => {
      const p: Pending = { records, encoding, body: null, error: null, resolve, reject };
      this.pending.push(p);
      this.pendingRecords += records;
      gzipBody(payload).then(
        (body) => {
          p.body = body;
          this.storeCompressed();
        },
        (err: unknown) => {
          p.error = new Error(`cannot compress batch of ${records} records: ${err instanceof Error ? err.message : String(err)}`);
          this.storeCompressed();
        },
      );
    });
  }

  /** Resolves once every batch enqueued so far is in the store (or was refused or failed). */
  stored(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise<void>((r) => this.pendingWaiters.push(r));
  }

  private append(records: number, encoding: PayloadEncoding, payload: Uint8Array, compression: BodyCompression): number | null {
    const id = this.store.append(records, encoding, payload, compression);
    this.kick();
    return id;
  }

  /** Stores the compressed batches at the head of the queue, in enqueue order. */
  private storeCompressed(): void {
    // Bounded: every iteration takes one batch off the queue.
    for (let p = this.pending[0]; p !== undefined && (p.body !== null || p.error !== null); p = this.pending[0]) {
      this.pending.shift();
      this.pendingRecords -= p.records;
      if (p.body === null) {
        this.counters.lastError = p.error?.message ?? 'compression failed';
        p.reject(p.error ?? new Error(this.counters.lastError));
        continue;
      }
      try {
        p.resolve(this.append(p.records, p.encoding, p.body, 'gzip'));
      } catch (err) {
        p.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    // A flush() waiting for these batches looks again (they are in the store, or failed).
    this.wake();
    if (this.pending.length > 0) return;
    const waiters = this.pendingWaiters;
    this.pendingWaiters = [];
    for (const w of waiters) w();
  }

  /** Starts the loop (e.g. to replay a spool left by the previous run); no-op while running or waiting. */
  kick(): void {
    if (this.closed || this.running !== null || this.waitTimer !== null) return;
    this.running = this.drain().finally(() => {
      this.running = null;
    });
  }

  stats(): DeliveryStats {
    return {
      ...this.counters,
      compressing: { batches: this.pending.length, records: this.pendingRecords },
      store: this.store.stats(),
    };
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const batch = this.store.peek();
      if (batch === null) return;
      const r = await this.sender.send(batch.payload, batch.encoding, batch.compression, batch.records);
      // Closed while the request was out: the store may be gone; the batch stays stored (at-least-once).
      if (this.storeClosed) return;
      if (r.verdict === 'retry') {
        this.failed(r.reason, r.retryAfterMs);
        return;
      }
      this.settle(batch, r);
    }
  }

  private settle(batch: StoredBatch, r: Exclude<SendResult, { verdict: 'retry' }>): void {
    const c = this.counters;
    // Not held any more: the size cap dropped it while it was on the wire (counted there as spool_full).
    if (!this.store.ack(batch.id)) c.sentAfterDrop += batch.records;
    if (c.consecutiveFailures > 0) {
      this.opts.onRecovered?.(c.consecutiveFailures, Date.now() - this.firstFailureMs);
      c.consecutiveFailures = 0;
    }
    c.lastOutcome = r.verdict === 'reject' ? 'rejected' : 'delivered';
    if (r.verdict === 'reject') {
      c.rejected += batch.records;
      c.lastError = r.reason;
      this.opts.onRejected?.(r.reason, batch.records);
      return;
    }
    c.delivered += batch.records - r.rejected;
    c.partiallyRejected += r.rejected;
    c.deliveredBatches++;
    c.lastDeliveredMs = Date.now();
    if (r.rejected > 0) {
      c.lastError = `partial success: ${r.rejected} rejected${r.message ? `: ${r.message}` : ''}`;
      this.opts.onRejected?.(c.lastError, r.rejected);
    }
  }

  private failed(reason: string, retryAfterMs: number | null): void {
    const c = this.counters;
    if (c.consecutiveFailures === 0) this.firstFailureMs = Date.now();
    c.consecutiveFailures++;
    c.retries++;
    c.lastOutcome = 'retry';
    c.lastError = reason;
    const delay = nextDelayMs(c.consecutiveFailures, retryAfterMs, this.opts.backoff, this.opts.random);
    this.opts.onAttemptFailed?.(reason, delay, c.consecutiveFailures);
    this.waitTimer = setTimeout(() => this.endWait(), delay);
    this.waitTimer.unref();
  }

  private endWait(): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    this.wake();
    this.kick();
  }

  /** Lets a waiting flush() look again. */
  private wake(): void {
    const w = this.wakeWait;
    this.wakeWait = null;
    w?.();
  }

  /**
   * Waits until everything enqueued was stored and delivered (true) or the deadline passed
   * (false). During a backoff it does not hurry the collector: the wait is honoured, only bounded
   * by the deadline.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this.kick();
    while (!this.closed && (this.pending.length > 0 || this.store.stats().batches > 0)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      // Not sending: wait to be woken (a backoff ended, a compressed batch was stored, a segment
      // was written), never by kicking an empty drain, which would spin without yielding to I/O.
      const step = this.running ?? new Promise<void>((r) => (this.wakeWait = r));
      let t: NodeJS.Timeout | undefined;
      await Promise.race([step, new Promise<void>((r) => (t = setTimeout(r, left)))]);
      clearTimeout(t);
    }
    return this.pending.length === 0 && this.store.stats().batches === 0;
  }

  /**
   * Stops sending; batches being compressed are stored first, and what is stored stays in the
   * store (a disk spool keeps it for the next run).
   */
  async close(graceMs = 1000): Promise<void> {
    this.closed = true;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    this.wake();
    if (this.running) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.running, new Promise<void>((r) => (t = setTimeout(r, graceMs)))]);
      clearTimeout(t);
    }
    this.sender.close();
    await this.stored();
    this.storeClosed = true;
    await this.store.close();
  }
}
