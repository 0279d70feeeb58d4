/**
 * The batch store for diskless hosts (spool disabled): the same FIFO, size cap and counters as the
 * disk spool, held in memory, so the sender's retry logic is identical either way. Batches are lost
 * when the process exits.
 */

import {
  BatchLedger,
  type BatchStore,
  type BatchStoreStats,
  type BodyCompression,
  type LedgerEntry,
  type PayloadEncoding,
  type StoredBatch,
  validateAppend,
  validateMaxBytes,
} from './batch-store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Upper bound on the sum of held payload sizes (compressed, as stored); the oldest batches are dropped beyond it. */
  maxBytes: number;
}

interface MemoryEntry extends LedgerEntry {
  batch: StoredBatch;
}

/**
 * An in-memory {@link BatchStore}. `bytes` counts payload bytes. The store keeps a reference to each
 * payload rather than a copy: do not modify a payload after appending it.
 */
export class MemoryStore implements BatchStore {
  readonly maxBytes: number;
  private readonly ledger = new BatchLedger<MemoryEntry>();
  private nextId = 1;
  private closed = false;

  /** @throws RangeError if maxBytes is not a positive integer. */
  constructor(options: MemoryStoreOptions) {
    validateMaxBytes(options.maxBytes);
    this.maxBytes = options.maxBytes;
  }

  append(records: number, encoding: PayloadEncoding, payload: Uint8Array, compression: BodyCompression = 'none'): number | null {
    this.assertOpen();
    validateAppend(records, encoding, payload, compression);
    this.ledger.countAppended(records);
    const bytes = payload.byteLength;
    if (bytes > this.maxBytes) {
      this.ledger.countRefusedOversize(records, bytes, this.maxBytes);
      return null;
    }
    // Bounded: every iteration removes one held entry.
    for (let e = this.ledger.oldest(); e !== undefined && this.ledger.bytes + bytes > this.maxBytes; e = this.ledger.oldest()) {
      this.ledger.release(e.id);
      this.ledger.countDroppedOldest(e.records);
    }
    const id = this.nextId++;
    const batch: StoredBatch = { id, records, encoding, compression, payload, createdMs: Date.now() };
    this.ledger.hold({ id, bytes, records, batch });
    return id;
  }

  peek(): StoredBatch | null {
    this.assertOpen();
    return this.ledger.oldest()?.batch ?? null;
  }

  ack(id: number): boolean {
    this.assertOpen();
    const e = this.ledger.release(id);
    if (e === undefined) return false;
    this.ledger.countAcked(e.records);
    return true;
  }

  stats(): BatchStoreStats {
    return this.ledger.stats();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryStore is closed');
  }
}
