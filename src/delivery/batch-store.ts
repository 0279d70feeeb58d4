/**
 * The contract of a batch store — a FIFO of opaque, already-serialized OTLP request bodies that the
 * sender appends before sending (write-ahead) and acknowledges after the collector accepted them —
 * and the bookkeeping both implementations share, so that the disk spool and the in-memory store
 * count drops, acks and corruption exactly the same way.
 */

/** How the payload is serialized; the sender needs it to pick the Content-Type when replaying. */
export type PayloadEncoding = 'protobuf' | 'json';

/**
 * How the stored body is compressed: `gzip` (Content-Encoding: gzip, sent as stored) or `none`.
 * Bodies are compressed once, before they are stored (delivery.ts), so the size cap, the spool's
 * bytes and its checksums are of the compressed body.
 */
export type BodyCompression = 'gzip' | 'none';

/** `always`: fsync each segment and its directory before append() returns; `never`: leave it to the kernel's writeback. */
export type FsyncPolicy = 'always' | 'never';

/** One batch as returned by {@link BatchStore.peek}. */
export interface StoredBatch {
  /** Increasing identifier; pass it to {@link BatchStore.ack}. */
  id: number;
  /** Number of log records in the payload (as given to append()). */
  records: number;
  encoding: PayloadEncoding;
  /** Whether `payload` is gzip-compressed (segments written before compression was stored say `none`). */
  compression: BodyCompression;
  /** The bytes given to append(), unchanged. */
  payload: Uint8Array;
  /** Wall-clock time (ms since the epoch) of the append. */
  createdMs: number;
}

/** A count of batches and of the log records they held. */
export interface BatchCount {
  batches: number;
  records: number;
}

/** Why a stored batch was found unusable and removed. */
export type CorruptReason =
  /** The file does not start with "CNPS" or is shorter than a header. */
  | 'bad-magic'
  /** A segment format version this build does not know. */
  | 'bad-version'
  /** The header checksum does not match, or the header contradicts the file name. */
  | 'header-checksum'
  /** The file is shorter than the header says (torn write or cut file). */
  | 'truncated'
  /** The file is longer than the header says. */
  | 'trailing-bytes'
  /** The payload checksum does not match (bit rot, partial overwrite). */
  | 'payload-checksum'
  /** A temporary file left by a crash between write and rename. */
  | 'temp-file'
  /** The file could not be read (I/O error, permission) or vanished; it is skipped but not deleted, so the next open retries it. */
  | 'unreadable';

export const CORRUPT_REASONS: readonly CorruptReason[] = [
  'bad-magic',
  'bad-version',
  'header-checksum',
  'truncated',
  'trailing-bytes',
  'payload-checksum',
  'temp-file',
  'unreadable',
];

/**
 * Counters of a {@link BatchStore}. Cumulative counters start at zero when the store is opened.
 * They balance, for batches and for records:
 * `appended + foundAtOpen = batches (held) + acked + droppedOldest + corrupt + writeFailed`.
 */
export interface BatchStoreStats {
  /** Batches held now. */
  batches: number;
  /** Bytes held now: segment file sizes (header included) for the disk spool, payload sizes in memory (compressed bodies when compressed). */
  bytes: number;
  /** Log records held now. */
  records: number;
  /** Every append() call, whether the batch was stored or not. */
  appended: BatchCount;
  /** Batches removed by ack(). */
  acked: BatchCount;
  /** Batches removed to stay under maxBytes, plus batches refused because they alone exceed maxBytes. */
  droppedOldest: BatchCount;
  /** The part of `droppedOldest` that was refused at append() for being larger than maxBytes. */
  refusedOversize: BatchCount;
  /** Batches found corrupt, truncated or unreadable and removed; records are counted when the header was readable. */
  corrupt: BatchCount;
  /** `corrupt.batches` broken down by reason. */
  corruptReasons: Record<CorruptReason, number>;
  /** Batches whose segment could not be written (e.g. ENOSPC, EIO) and that were still unsent at close: lost. */
  writeFailed: BatchCount;
  /** Segment and temporary files found in the directory when the spool was opened (always zero in memory). */
  foundAtOpen: BatchCount;
  /** Files in the spool directory that are not the spool's own; left alone and not counted in `bytes`. */
  foreignFiles: number;
  /**
   * Batches held whose segment is not on disk yet: queued for the disk spool's writer, or kept in
   * memory after a failed write (always zero in memory). A kill -9 loses these.
   */
  unwritten: number;
  /** The latest refusal, I/O failure or corruption, as a one-line message (naming the file if any); null if none. */
  lastError: string | null;
}

/**
 * A durable (or, for the in-memory variant, process-lifetime) FIFO of serialized batches.
 * Single-threaded; append, peek and ack return at once. The disk spool writes and deletes segment
 * files behind them, in order, off the event loop (see disk-spool.ts).
 */
export interface BatchStore {
  /**
   * Appends one batch; it can be peeked at once, and the disk spool has it on disk (durable per the
   * fsync policy) once its queued write is done. While the store would
   * exceed maxBytes, the oldest batches are removed and counted in `droppedOldest`. A single batch
   * larger than maxBytes on its own is refused: it is not stored, nothing else is dropped, and it is
   * counted in `droppedOldest` (and `refusedOversize`).
   *
   * @returns the id of the stored batch, or null if it was refused (oversize). A segment the disk
   *   spool then cannot write is kept in memory (still sent; `unwritten`) and counted as
   *   `writeFailed` if it is still held at close.
   * @param compression whether `payload` is gzip-compressed (kept with the batch for the sender)
   * @throws RangeError if `records` is not a non-negative 32-bit integer, or `encoding` or
   *   `compression` is unknown (caller bug).
   */
  append(records: number, encoding: PayloadEncoding, payload: Uint8Array, compression?: BodyCompression): number | null;
  /**
   * The oldest intact batch, or null when empty. Corrupt or truncated segments met on the way are
   * removed and counted in `corrupt`; this never throws for bad data on disk.
   */
  peek(): StoredBatch | null;
  /**
   * Removes the batch (normally the one peek() returned) and counts it in `acked`.
   * @returns false if no batch with that id is held (already acked, or dropped by the size cap meanwhile).
   */
  ack(id: number): boolean;
  /** A snapshot of the counters. */
  stats(): BatchStoreStats;
  /**
   * Finishes what the store has queued (the disk spool's writes), then releases its resources (the
   * directory lock). Idempotent. Afterwards stats() still works and the other methods throw.
   * Batches held by an in-memory store are lost (`batches` tells how many).
   */
  close(): Promise<void>;
}

/** Why a store cannot be opened or used: the message names the path, the errno and what holds it. */
export class SpoolError extends Error {
  override readonly name = 'SpoolError';
  constructor(
    message: string,
    /** errno name when the failure came from a syscall (e.g. 'EACCES'). */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The errno name of a Node fs error, or undefined. @internal */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A short description of a caught error for messages: `ENOSPC` or the message. @internal */
export function describeError(err: unknown): string {
  return errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
}

const MAX_U32 = 0xffff_ffff;

/** Throws RangeError for arguments no caller should pass (they would corrupt the segment header). @internal */
export function validateAppend(records: number, encoding: PayloadEncoding, payload: Uint8Array, compression: BodyCompression): void {
  if (!Number.isInteger(records) || records < 0 || records > MAX_U32) {
    throw new RangeError(`append(): records must be an integer in 0..${MAX_U32}, got ${records}`);
  }
  if (encoding !== 'protobuf' && encoding !== 'json') {
    throw new RangeError(`append(): encoding must be 'protobuf' or 'json', got ${String(encoding)}`);
  }
  if (compression !== 'gzip' && compression !== 'none') {
    throw new RangeError(`append(): compression must be 'gzip' or 'none', got ${String(compression)}`);
  }
  if (!(payload instanceof Uint8Array)) throw new RangeError('append(): payload must be a Uint8Array');
  if (payload.byteLength > MAX_U32) throw new RangeError(`append(): payload of ${payload.byteLength} bytes exceeds 4 GiB`);
}

/** Throws RangeError unless maxBytes is a positive safe integer. @internal */
export function validateMaxBytes(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  }
}

/** What the ledger needs to know of a held batch. @internal */
export interface LedgerEntry {
  id: number;
  /** Bytes this batch counts against maxBytes. */
  bytes: number;
  records: number;
}

function zero(): BatchCount {
  return { batches: 0, records: 0 };
}

function add(c: BatchCount, records: number): void {
  c.batches += 1;
  c.records += records;
}

/**
 * The in-memory index of held batches in id order, with the counters. O(1) append, peek and ack of
 * the oldest; ack of another id is O(1) too (the slot is skipped later). Both stores keep payloads
 * elsewhere (on disk, or in the entry itself).
 *
 * @internal shared by the store implementations; not part of the package API.
 */
export class BatchLedger<E extends LedgerEntry> {
  /** Entries in append order from `head`; acked entries in the middle stay until they reach the head. */
  private queue: E[] = [];
  private head = 0;
  private readonly live = new Map<number, E>();
  private heldBytes = 0;
  private heldRecords = 0;
  private readonly counts = {
    appended: zero(),
    acked: zero(),
    droppedOldest: zero(),
    refusedOversize: zero(),
    corrupt: zero(),
    writeFailed: zero(),
    foundAtOpen: zero(),
  };
  private readonly corruptReasons = Object.fromEntries(CORRUPT_REASONS.map((r) => [r, 0])) as Record<CorruptReason, number>;
  foreignFiles = 0;
  lastError: string | null = null;

  get size(): number {
    return this.live.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Adds an entry; ids must increase. */
  hold(entry: E): void {
    this.queue.push(entry);
    this.live.set(entry.id, entry);
    this.heldBytes += entry.bytes;
    this.heldRecords += entry.records;
  }

  /** The held entry with this id, if any. */
  get(id: number): E | undefined {
    return this.live.get(id);
  }

  /** Every held entry, oldest first (a copy: the caller may release entries while walking it). */
  held(): E[] {
    return [...this.live.values()];
  }

  /** The oldest held entry, if any. */
  oldest(): E | undefined {
    this.skipReleased();
    return this.queue[this.head];
  }

  /** Removes an entry from the index (counting is the caller's job via the count* methods). */
  release(id: number): E | undefined {
    const entry = this.live.get(id);
    if (entry === undefined) return undefined;
    this.live.delete(id);
    this.heldBytes -= entry.bytes;
    this.heldRecords -= entry.records;
    this.skipReleased();
    return entry;
  }

  countAppended(records: number): void {
    add(this.counts.appended, records);
  }
  countAcked(records: number): void {
    add(this.counts.acked, records);
  }
  countDroppedOldest(records: number): void {
    add(this.counts.droppedOldest, records);
  }
  countRefusedOversize(records: number, bytes: number, maxBytes: number): void {
    add(this.counts.droppedOldest, records);
    add(this.counts.refusedOversize, records);
    this.lastError = `batch of ${records} records refused: ${bytes} bytes exceed the store's maxBytes of ${maxBytes}`;
  }
  countCorrupt(records: number, reason: CorruptReason, message: string): void {
    add(this.counts.corrupt, records);
    this.corruptReasons[reason] += 1;
    this.lastError = message;
  }
  countWriteFailed(records: number, message: string): void {
    add(this.counts.writeFailed, records);
    this.lastError = message;
  }
  countFoundAtOpen(records: number): void {
    add(this.counts.foundAtOpen, records);
  }

  stats(): BatchStoreStats {
    const c = this.counts;
    return {
      batches: this.live.size,
      bytes: this.heldBytes,
      records: this.heldRecords,
      appended: { ...c.appended },
      acked: { ...c.acked },
      droppedOldest: { ...c.droppedOldest },
      refusedOversize: { ...c.refusedOversize },
      corrupt: { ...c.corrupt },
      corruptReasons: { ...this.corruptReasons },
      writeFailed: { ...c.writeFailed },
      foundAtOpen: { ...c.foundAtOpen },
      foreignFiles: this.foreignFiles,
      unwritten: 0,
      lastError: this.lastError,
    };
  }

  /** Advances past released entries and compacts the array once the dead prefix dominates. */
  private skipReleased(): void {
    const q = this.queue;
    while (this.head < q.length) {
      const e = q[this.head];
      if (e !== undefined && this.live.get(e.id) === e) break;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }
}
