/**
 * The persistent batch store: one segment file per batch in a dedicated directory, so batches the
 * collector did not accept survive restarts and are replayed oldest first. Files are written under
 * a temporary name and renamed, so a crash leaves either a whole segment or a leftover temp file;
 * every segment carries checksums so damage found later is detected, counted and skipped rather than
 * sent or crashed on. Only headers are read at open; payloads are read by peek().
 *
 * Writes and deletes run off the event loop, in order, on one queue of asynchronous file
 * operations (libuv's thread pool): append() holds the batch in memory and returns at once, and
 * the batch is on disk a moment later (flush() waits for it). With fsync `never` a batch is
 * sendable from the moment it is appended (a kill -9 loses only what is still queued: `unwritten`);
 * with `always`, peek() offers a batch only once its segment and the directory are fsynced, so
 * nothing is sent before it would survive a power cut, and `onWritten` wakes the sender then.
 * close() writes everything queued first.
 *
 * Segment file `<id, 16 digits>.seg`, little-endian, 80-byte header then the payload (the request
 * body as sent: gzip-compressed when the encoding byte has 0x80 set):
 *
 * | offset | size | field                                                        |
 * |-------:|-----:|--------------------------------------------------------------|
 * |      0 |    4 | magic "CNPS"                                                 |
 * |      4 |    1 | format version (1)                                           |
 * |      5 |    1 | encoding: 1 protobuf, 2 json; + 0x80 if the body is gzipped |
 * |      6 |    2 | header length (80)                                           |
 * |      8 |    4 | record count                                                 |
 * |     12 |    4 | payload length                                               |
 * |     16 |    8 | creation time, ms since the epoch                            |
 * |     24 |    8 | batch id (must match the file name)                          |
 * |     32 |   32 | SHA-256 of the payload                                       |
 * |     64 |   16 | SHA-256 of bytes 0..63, first 16 bytes                       |
 *
 * The gzip flag extends format version 1 without a new version: segments written before bodies
 * were stored compressed have codes 1 and 2 and read back as `compression: 'none'` (the sender
 * compresses them at send time). A build that predates the flag counts a gzipped segment as
 * corrupt (`bad-version`, unknown encoding) and removes it: a downgrade loses the spool's backlog.
 */

import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsync as fsyncCb,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open as openAsync, rename as renameAsync, unlink as unlinkAsync } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  BatchLedger,
  type BatchStore,
  type BatchStoreStats,
  type BodyCompression,
  type CorruptReason,
  describeError,
  errnoCode,
  type FsyncPolicy,
  type LedgerEntry,
  type PayloadEncoding,
  SpoolError,
  type StoredBatch,
  validateAppend,
  validateMaxBytes,
} from './batch-store.js';
import { closeQuietly, makeDirs, unlinkQuietly } from './fs-quiet.js';
import { STATE_FILE_NAME, STATE_TEMP_NAME } from './state-file.js';

/** Size of the segment header that precedes each payload; it counts against maxBytes. */
export const SEGMENT_HEADER_BYTES = 80;
/** The segment format version this build writes and reads. */
export const SEGMENT_FORMAT_VERSION = 1;
/** Name of the lock file holding the owner's pid (and process start time). */
export const LOCK_FILE_NAME = 'spool.lock';

const MAGIC = Buffer.from('CNPS', 'latin1');
const ENCODING_CODES: Record<PayloadEncoding, number> = { protobuf: 1, json: 2 };
/** Set in the encoding byte when the payload is gzip-compressed. */
const GZIP_FLAG = 0x80;
const SEGMENT_RE = /^(\d{16})\.seg$/;
const SEGMENT_TEMP_RE = /^(\d{16})\.seg\.tmp$/;
const LOCK_TEMP_RE = /^spool\.lock\.(\d+)\.tmp$/;
/** Attempts at taking the lock; more than one only when a stale lock is replaced (or raced for). */
const LOCK_ATTEMPTS = 3;

/** Options of {@link DiskSpool.open}. */
export interface DiskSpoolOptions {
  /** The spool directory; created with mode 0700 if missing. Must not be shared with other data. */
  dir: string;
  /** Upper bound on the total size of segment files (headers included); the oldest are dropped beyond it. */
  maxBytes: number;
  /** Whether append() flushes to stable storage before returning. */
  fsync: FsyncPolicy;
}

interface SegmentEntry extends LedgerEntry {
  path: string;
  /** The batch while its segment is not written (or could not be): peek() serves it from memory. */
  batch: StoredBatch | null;
  /** Taken out of the ledger (acked, dropped): the writer skips it or deletes what it wrote. */
  removed: boolean;
  /** Its segment could not be written: held in memory only, counted as writeFailed if still held at close. */
  failed: boolean;
}

/** One queued file operation; they run one at a time, in order. */
type Job = { kind: 'write'; entry: SegmentEntry } | { kind: 'unlink'; path: string };

const fsyncFd = promisify(fsyncCb);

interface SegmentHeader {
  encoding: PayloadEncoding;
  compression: BodyCompression;
  records: number;
  payloadBytes: number;
  createdMs: number;
  payloadSha256: Buffer;
}

/** A verified value, or why not; `records` is set when the header was intact but the rest was not. */
type Checked<T> = { ok: true; value: T } | { ok: false; reason: CorruptReason; detail: string; records?: number };

function segmentName(id: number): string {
  return `${String(id).padStart(16, '0')}.seg`;
}

function headerChecksum(header: Buffer): Buffer {
  return createHash('sha256').update(header.subarray(0, 64)).digest().subarray(0, 16);
}

function encodeHeader(b: StoredBatch): Buffer {
  const h = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt8(SEGMENT_FORMAT_VERSION, 4);
  h.writeUInt8(ENCODING_CODES[b.encoding] | (b.compression === 'gzip' ? GZIP_FLAG : 0), 5);
  h.writeUInt16LE(SEGMENT_HEADER_BYTES, 6);
  h.writeUInt32LE(b.records, 8);
  h.writeUInt32LE(b.payload.byteLength, 12);
  h.writeBigUInt64LE(BigInt(b.createdMs), 16);
  h.writeBigUInt64LE(BigInt(b.id), 24);
  createHash('sha256').update(b.payload).digest().copy(h, 32);
  headerChecksum(h).copy(h, 64);
  return h;
}

/** Checks a header against the file name's id and the file size (no payload read). */
function decodeHeader(h: Buffer, fileBytes: number, id: number): Checked<SegmentHeader> {
  if (h.length < MAGIC.length || !h.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { ok: false, reason: 'bad-magic', detail: 'does not start with "CNPS"' };
  }
  if (h.length < SEGMENT_HEADER_BYTES) {
    return { ok: false, reason: 'truncated', detail: `only ${h.length} of ${SEGMENT_HEADER_BYTES} header bytes` };
  }
  const version = h.readUInt8(4);
  const headerBytes = h.readUInt16LE(6);
  if (version !== SEGMENT_FORMAT_VERSION || headerBytes !== SEGMENT_HEADER_BYTES) {
    return { ok: false, reason: 'bad-version', detail: `format version ${version} (header ${headerBytes} bytes) is not supported` };
  }
  if (!headerChecksum(h).equals(h.subarray(64, 80))) return { ok: false, reason: 'header-checksum', detail: 'header checksum mismatch' };
  const headerId = h.readBigUInt64LE(24);
  if (headerId !== BigInt(id))
    return { ok: false, reason: 'header-checksum', detail: `header says batch ${headerId}, file name says ${id}` };
  const code = h.readUInt8(5);
  const base = code & ~GZIP_FLAG;
  const encoding = base === 1 ? 'protobuf' : base === 2 ? 'json' : undefined;
  // The checksum matched, so an unknown code was written deliberately by another format revision.
  if (encoding === undefined) return { ok: false, reason: 'bad-version', detail: `unknown payload encoding ${code}` };
  const records = h.readUInt32LE(8);
  const payloadBytes = h.readUInt32LE(12);
  const expected = SEGMENT_HEADER_BYTES + payloadBytes;
  if (fileBytes < expected) return { ok: false, reason: 'truncated', detail: `${fileBytes} bytes, header says ${expected}`, records };
  if (fileBytes > expected) {
    return { ok: false, reason: 'trailing-bytes', detail: `${fileBytes - expected} bytes after the payload`, records };
  }
  return {
    ok: true,
    value: {
      encoding,
      compression: (code & GZIP_FLAG) !== 0 ? 'gzip' : 'none',
      records,
      payloadBytes,
      createdMs: Number(h.readBigUInt64LE(16)),
      payloadSha256: h.subarray(32, 64),
    },
  };
}

/** Writes header and payload whole (a write may stop short; regular files rarely do). */
async function writeAllAsync(fh: Awaited<ReturnType<typeof openAsync>>, header: Uint8Array, payload: Uint8Array): Promise<void> {
  const total = header.byteLength + payload.byteLength;
  const { bytesWritten } = await fh.writev([header, payload]);
  if (bytesWritten === total) return;
  const rest = Buffer.concat([header, payload]).subarray(bytesWritten);
  let off = 0;
  // Bounded: each write makes progress or throws.
  while (off < rest.length) {
    const { bytesWritten: n } = await fh.write(rest, off);
    if (n <= 0) throw new Error('write returned 0 bytes');
    off += n;
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

// ---- directory lock ----

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** The live pid holding a lock with this content, or null if the lock is stale. */
function liveOwner(content: string): number | null {
  const [pidText = '', startTime = ''] = content.split('\n');
  const pid = Number(pidText);
  // Unparseable content cannot name an owner to wait for; lock files are written whole (link), so it is debris.
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  // A start time guards against pid reuse after a crash (and against pid 1 in every new container).
  if (startTime !== '') {
    const actual = processStartTime(pid);
    if (actual !== null && actual !== startTime) return null;
  }
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return errnoCode(err) === 'EPERM' ? pid : null;
  }
}

/**
 * Takes `<dir>/spool.lock`. The content is written to a private temporary file first and hard-linked
 * into place, so the lock appears atomically (O_EXCL semantics) and is never seen half-written.
 */
function acquireLock(dir: string): string {
  const lockPath = join(dir, LOCK_FILE_NAME);
  const tmp = join(dir, `${LOCK_FILE_NAME}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, `${process.pid}\n${processStartTime(process.pid) ?? ''}\n`, { mode: 0o600 });
  } catch (err) {
    throw new SpoolError(`spool directory ${dir} is not writable: cannot create ${tmp}: ${describeError(err)}`, errnoCode(err), {
      cause: err,
    });
  }
  try {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      try {
        linkSync(tmp, lockPath);
        return lockPath;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') {
          throw new SpoolError(`cannot create lock ${lockPath}: ${describeError(err)}`, errnoCode(err), { cause: err });
        }
      }
      let content: string;
      try {
        content = readFileSync(lockPath, 'latin1');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue; // released meanwhile: try again
        throw new SpoolError(`cannot read lock ${lockPath}: ${describeError(err)}`, errnoCode(err), { cause: err });
      }
      const owner = liveOwner(content);
      if (owner !== null) {
        const who = owner === process.pid ? ' (this process: the spool is already open)' : '';
        throw new SpoolError(`spool directory ${dir} is in use by pid ${owner}${who}`, 'EBUSY');
      }
      // Stale: its owner is gone. Remove it and retry the link; a concurrent opener racing for the
      // same stale lock is possible in theory, which is why the loop is bounded rather than assumed.
      try {
        unlinkIfPresent(lockPath);
      } catch (err) {
        throw new SpoolError(`cannot remove stale lock ${lockPath}: ${describeError(err)}`, errnoCode(err), { cause: err });
      }
    }
    throw new SpoolError(`cannot take lock ${lockPath}: another process keeps replacing it`, 'EBUSY');
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // A leftover lock temp file is removed by the next open.
    }
  }
}

/** Removes the lock if it is still ours (it is never taken over from a live process). */
function releaseLock(lockPath: string): void {
  try {
    const [pid] = readFileSync(lockPath, 'latin1').split('\n');
    if (Number(pid) === process.pid) unlinkSync(lockPath);
  } catch {
    // Gone or unreadable: nothing of ours to release; a stale lock is taken over on the next open.
  }
}

/** Creates (mode 0700) or checks the spool directory. */
function ensureDirectory(dir: string): void {
  try {
    makeDirs(dir, 0o700);
  } catch (err) {
    const code = errnoCode(err);
    const what = code === 'EEXIST' || code === 'ENOTDIR' ? 'a path component is not a directory' : describeError(err);
    throw new SpoolError(`cannot create spool directory ${dir}: ${what}`, code, { cause: err });
  }
  try {
    if (!statSync(dir).isDirectory()) throw new SpoolError(`spool directory ${dir} is not a directory`, 'ENOTDIR');
  } catch (err) {
    if (err instanceof SpoolError) throw err;
    throw new SpoolError(`cannot access spool directory ${dir}: ${describeError(err)}`, errnoCode(err), { cause: err });
  }
}

// ---- the spool ----

/**
 * A {@link BatchStore} persisted as segment files in a directory, which it locks for its lifetime.
 * `bytes` counts whole segment files ({@link SEGMENT_HEADER_BYTES} + payload each). Acks are not
 * flushed to disk: after a crash an acked batch may be replayed once more (at-least-once delivery).
 */
export class DiskSpool implements BatchStore {
  private readonly ledger = new BatchLedger<SegmentEntry>();
  private nextId = 1;
  private dirFd: number | null;
  private lockPath: string | null;
  /** The batch last returned by peek(), so a retry loop does not re-read and re-hash it. */
  private peeked: StoredBatch | null = null;
  /** Called after each segment is written (the sender waits for it with fsync `always`). */
  onWritten: (() => void) | null = null;
  /** File operations waiting for their turn, and the promise of the run in progress (null: idle). */
  private readonly jobs: Job[] = [];
  private idle: Promise<void> | null = null;
  /** Batches appended whose segment is not written yet (queued, or being written). */
  private unwritten = 0;
  /** Writes that failed since open: stats() walks the held batches for the memory-only ones only then. */
  private failedWrites = 0;
  private closing = false;
  private crashed = false;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    readonly fsync: FsyncPolicy,
    lockPath: string,
    dirFd: number,
  ) {
    this.lockPath = lockPath;
    this.dirFd = dirFd;
  }

  /**
   * Opens (creating if needed) and locks a spool directory, then indexes the segments in it: leftover
   * temporary files are removed and counted as corrupt, as are segments whose header is damaged or
   * whose size disagrees with it; the rest are replayed in id order, and new ids continue after the
   * highest one found. If the segments exceed maxBytes (the limit was lowered), the oldest are dropped.
   *
   * @throws SpoolError if the directory cannot be created or written (message names the path and
   *   errno), or if another live process (or this one) holds its lock ("spool directory X is in use by pid N").
   * @throws RangeError for an invalid maxBytes or fsync option.
   */
  static open(options: DiskSpoolOptions): DiskSpool {
    const { dir, maxBytes, fsync } = options;
    validateMaxBytes(maxBytes);
    if (fsync !== 'always' && fsync !== 'never') throw new RangeError(`fsync must be 'always' or 'never', got ${String(fsync)}`);
    ensureDirectory(dir);
    const lockPath = acquireLock(dir);
    let dirFd: number;
    try {
      // Kept open to fsync the directory after renames (the rename itself is only durable then).
      dirFd = openSync(dir, 'r');
    } catch (err) {
      releaseLock(lockPath);
      throw new SpoolError(`cannot open spool directory ${dir}: ${describeError(err)}`, errnoCode(err), { cause: err });
    }
    const spool = new DiskSpool(dir, maxBytes, fsync, lockPath, dirFd);
    try {
      spool.scan();
    } catch (err) {
      spool.release();
      throw err;
    }
    return spool;
  }

  append(records: number, encoding: PayloadEncoding, payload: Uint8Array, compression: BodyCompression = 'none'): number | null {
    this.assertOpen();
    validateAppend(records, encoding, payload, compression);
    this.ledger.countAppended(records);
    const bytes = SEGMENT_HEADER_BYTES + payload.byteLength;
    if (bytes > this.maxBytes) {
      this.ledger.countRefusedOversize(records, bytes, this.maxBytes);
      return null;
    }
    // Make room first, so the directory never exceeds maxBytes even transiently (deletes are queued
    // ahead of this write).
    for (let e = this.ledger.oldest(); e !== undefined && this.ledger.bytes + bytes > this.maxBytes; e = this.ledger.oldest()) {
      this.remove(e);
      this.ledger.countDroppedOldest(e.records);
    }
    const id = this.nextId++;
    const createdMs = Math.max(0, Date.now()); // the header field is unsigned
    const path = join(this.dir, segmentName(id));
    const entry: SegmentEntry = {
      id,
      bytes,
      records,
      path,
      batch: { id, records, encoding, compression, payload, createdMs },
      removed: false,
      failed: false,
    };
    this.ledger.hold(entry);
    this.unwritten++;
    this.enqueue({ kind: 'write', entry });
    return id;
  }

  /** Resolves once every write and delete queued so far is done (the batches are on disk). */
  flush(): Promise<void> {
    return this.idle ?? Promise.resolve();
  }

  peek(): StoredBatch | null {
    this.assertOpen();
    // Bounded: every iteration returns or removes one held entry.
    for (let e = this.ledger.oldest(); e !== undefined; e = this.ledger.oldest()) {
      if (this.peeked?.id === e.id) return this.peeked;
      if (e.batch !== null) {
        // fsync always: durable before it is sent; the writer calls onWritten when it is.
        if (this.fsync === 'always' && !e.failed) return null;
        return e.batch;
      }
      const read = this.read(e);
      if (read.ok) {
        this.peeked = read.value;
        return read.value;
      }
      this.removeCorrupt(e, read.reason, read.detail);
    }
    return null;
  }

  ack(id: number): boolean {
    this.assertOpen();
    const e = this.ledger.get(id);
    if (e === undefined) return false;
    this.remove(e);
    this.ledger.countAcked(e.records);
    return true;
  }

  stats(): BatchStoreStats {
    let failed = 0;
    if (this.failedWrites > 0) for (const e of this.ledger.held()) if (e.failed) failed++;
    return { ...this.ledger.stats(), unwritten: this.unwritten + failed };
  }

  /**
   * Writes what is queued, then releases the directory. Batches held whose segment could not be
   * written are lost with the process: they are counted as writeFailed here.
   */
  async close(): Promise<void> {
    if (this.lockPath === null) return;
    this.closing = true;
    await this.flush();
    for (const e of this.ledger.held()) {
      if (!e.failed) continue;
      this.ledger.release(e.id);
      this.ledger.countWriteFailed(e.records, this.ledger.stats().lastError ?? `spool segment ${e.path} was never written`);
    }
    this.release();
  }

  /**
   * For tests: dies like kill -9 between two file operations. The operation under way finishes
   * (a process cannot be stopped inside a syscall either); what is still queued never happens.
   */
  async crash(): Promise<void> {
    this.crashed = true;
    await this.flush();
    this.release();
  }

  private release(): void {
    if (this.dirFd !== null) closeQuietly(this.dirFd);
    this.dirFd = null;
    if (this.lockPath !== null) releaseLock(this.lockPath);
    this.lockPath = null;
    this.peeked = null;
  }

  private enqueue(job: Job): void {
    this.jobs.push(job);
    if (this.idle === null) {
      this.idle = this.runJobs().finally(() => {
        this.idle = null;
      });
    }
  }

  /** Runs the queue until it is empty; never rejects (failures are counted per job). */
  private async runJobs(): Promise<void> {
    // Bounded: every iteration takes one job; new ones are appended while it waits.
    for (let job = this.jobs.shift(); job !== undefined; job = this.jobs.shift()) {
      if (this.crashed) {
        this.jobs.length = 0;
        return;
      }
      if (job.kind === 'unlink') await this.unlinkLater(job.path);
      else await this.write(job.entry);
    }
  }

  private async write(e: SegmentEntry): Promise<void> {
    const batch = e.batch;
    if (e.removed || batch === null) {
      // Acked or dropped before its turn: nothing to write.
      this.unwritten--;
      return;
    }
    const tmp = `${e.path}.tmp`;
    let step = 'write';
    let fh: Awaited<ReturnType<typeof openAsync>> | undefined;
    try {
      fh = await openAsync(tmp, 'w', 0o600);
      const header = encodeHeader(batch);
      await writeAllAsync(fh, header, batch.payload);
      if (this.fsync === 'always') await fh.sync();
      await fh.close();
      fh = undefined;
      step = 'rename';
      await renameAsync(tmp, e.path);
    } catch (err) {
      if (fh !== undefined) await fh.close().catch(() => undefined);
      await unlinkAsync(tmp).catch(() => undefined); // a leftover temp file is removed and counted at the next open
      this.unwritten--;
      e.failed = true;
      this.failedWrites++;
      this.ledger.lastError = `cannot ${step} spool segment ${tmp}: ${describeError(err)}; the batch is held in memory only`;
      return;
    }
    this.unwritten--;
    if (e.removed) {
      // Acked or dropped while it was being written.
      await this.unlinkLater(e.path);
      return;
    }
    if (this.fsync === 'always' && this.dirFd !== null) {
      try {
        await fsyncFd(this.dirFd);
      } catch (err) {
        // The segment is in place and readable; only its durability across power loss is in doubt.
        this.ledger.lastError = `cannot fsync spool directory ${this.dir}: ${describeError(err)}`;
      }
    }
    // On disk now: peek() reads it from there, and the memory is given back.
    e.batch = null;
    this.onWritten?.();
  }

  private async unlinkLater(path: string): Promise<void> {
    try {
      await unlinkAsync(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      // The file outlives the index entry; it is found again (and replayed or counted) at the next open.
      this.ledger.lastError = `cannot delete spool segment ${path}: ${describeError(err)}`;
    }
  }

  private assertOpen(): void {
    if (this.lockPath === null || this.closing || this.crashed) throw new Error(`spool ${this.dir} is closed`);
  }

  /** Reads and verifies a whole segment. */
  private read(e: SegmentEntry): Checked<StoredBatch> {
    let buf: Buffer;
    try {
      buf = readFileSync(e.path);
    } catch (err) {
      return { ok: false, reason: 'unreadable', detail: describeError(err) };
    }
    const h = decodeHeader(buf.subarray(0, SEGMENT_HEADER_BYTES), buf.length, e.id);
    if (!h.ok) return h;
    const payload = buf.subarray(SEGMENT_HEADER_BYTES);
    if (!createHash('sha256').update(payload).digest().equals(h.value.payloadSha256)) {
      return { ok: false, reason: 'payload-checksum', detail: 'payload checksum mismatch' };
    }
    const { records, encoding, compression, createdMs } = h.value;
    return { ok: true, value: { id: e.id, records, encoding, compression, payload, createdMs } };
  }

  /**
   * Takes an entry out of the index and deletes its file (queued behind the writes); a segment not
   * written yet is simply not written. A failed delete is reported, not thrown.
   */
  private remove(e: SegmentEntry): void {
    this.ledger.release(e.id);
    if (this.peeked?.id === e.id) this.peeked = null;
    e.removed = true;
    // Not written yet (queued or under way): the writer skips it, or deletes what it wrote.
    if (e.batch !== null && !e.failed) return;
    if (!e.failed) this.enqueue({ kind: 'unlink', path: e.path });
  }

  private removeCorrupt(e: SegmentEntry, reason: CorruptReason, detail: string): void {
    if (reason === 'unreadable') {
      // A read error may be transient (EIO, EMFILE): skip the file but keep it for the next open.
      this.ledger.release(e.id);
      if (this.peeked?.id === e.id) this.peeked = null;
    } else {
      this.remove(e);
    }
    // Records come from the index: the header was readable when the segment was written or opened.
    this.ledger.countCorrupt(e.records, reason, `spool segment ${e.path} skipped (${reason}): ${detail}`);
  }

  /** Builds the index from the directory; runs once, at open. */
  private scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      throw new SpoolError(`cannot list spool directory ${this.dir}: ${describeError(err)}`, errnoCode(err), { cause: err });
    }
    names.sort(); // zero-padded ids: lexical order is id order
    let maxId = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      const seg = SEGMENT_RE.exec(name);
      const tmp = seg === null ? SEGMENT_TEMP_RE.exec(name) : null;
      const idText = seg?.[1] ?? tmp?.[1];
      if (idText !== undefined) {
        const id = Number(idText);
        // Beyond 2^53 ids cannot be represented (nor reached by this spool): not ours.
        if (!Number.isSafeInteger(id)) {
          this.ledger.foreignFiles += 1;
          continue;
        }
        maxId = Math.max(maxId, id);
        if (seg !== null) this.indexSegment(id, path);
        else this.dropTempFile(path);
        continue;
      }
      if (name === LOCK_FILE_NAME || name === STATE_FILE_NAME || name === STATE_TEMP_NAME) continue;
      const lockTmp = LOCK_TEMP_RE.exec(name);
      if (lockTmp !== null) {
        if (Number(lockTmp[1]) !== process.pid && liveOwner(lockTmp[1] ?? '') === null) unlinkQuietly(path);
        continue;
      }
      this.ledger.foreignFiles += 1;
    }
    if (!Number.isSafeInteger(maxId + 1)) throw new SpoolError(`spool directory ${this.dir} has exhausted segment ids (${maxId})`);
    this.nextId = maxId + 1;
    for (let e = this.ledger.oldest(); e !== undefined && this.ledger.bytes > this.maxBytes; e = this.ledger.oldest()) {
      this.remove(e);
      this.ledger.countDroppedOldest(e.records);
    }
  }

  /** Reads one segment's header and size at open; a bad one is deleted and counted. */
  private indexSegment(id: number, path: string): void {
    const h = Buffer.alloc(SEGMENT_HEADER_BYTES);
    let fileBytes: number;
    let got: number;
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const st = fstatSync(fd);
      if (!st.isFile()) {
        closeSync(fd);
        this.ledger.foreignFiles += 1;
        return;
      }
      fileBytes = st.size;
      got = readSync(fd, h, 0, SEGMENT_HEADER_BYTES, 0);
      closeSync(fd);
    } catch (err) {
      if (fd !== undefined) closeQuietly(fd);
      this.ledger.countFoundAtOpen(0);
      // Left in place: the error may be transient, and the next open tries again.
      this.ledger.countCorrupt(0, 'unreadable', `spool segment ${path} skipped (unreadable): ${describeError(err)}`);
      return;
    }
    const header = decodeHeader(h.subarray(0, got), fileBytes, id);
    // Records are known only when the header itself passed its checksum.
    const records = header.ok ? header.value.records : (header.records ?? 0);
    this.ledger.countFoundAtOpen(records);
    if (!header.ok) {
      this.removeUnindexed(path, records, header.reason, header.detail);
      return;
    }
    this.ledger.hold({ id, bytes: fileBytes, records, path, batch: null, removed: false, failed: false });
  }

  private dropTempFile(path: string): void {
    this.ledger.countFoundAtOpen(0);
    this.removeUnindexed(path, 0, 'temp-file', 'left by an interrupted write');
  }

  private removeUnindexed(path: string, records: number, reason: CorruptReason, detail: string): void {
    unlinkQuietly(path);
    this.ledger.countCorrupt(records, reason, `spool segment ${path} skipped (${reason}): ${detail}`);
  }
}
