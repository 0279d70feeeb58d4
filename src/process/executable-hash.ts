/**
 * What the program file is, and its SHA-256, shared by every process that runs it.
 *
 * The capture thread reads each exec's file identity and build id (kernel/exe-file.ts); here each
 * identity — device, inode, size, mtime and ctime: a file replaced or modified gets a new one —
 * maps to one ExecutableFile object, held by the process entries that run it. Its hash comes from
 * the hasher thread (./hash-worker.ts), one file at a time, after the exec record has gone out: a
 * record never waits. The exec record carries the hash when the cache had it; the process's later
 * records (its exit, ...) carry it once it is there, because they read the same object.
 *
 * Bounded: at most `cacheEntries` identities (least recently used evicted), at most `queueMax`
 * files waiting, files above `maxFileBytes` never read, and each file at most `timeoutMs` of reading
 * (a stuck read is abandoned and the thread replaced). Every file not hashed is counted by reason.
 */
import { Worker } from 'node:worker_threads';
import { decodeExeFile, type ExeFileFacts, exeFileKey } from '../kernel/exe-file.js';
import type { HashAnswer, HashJob, HashOutcome } from './hash-worker.js';

/** Why an executable has no hash (yet). */
export type HashState =
  /** Hashing is off (process.hashExecutables false), or the agent did not read the file. */
  | 'off'
  /** Waiting for the hasher. */
  | 'pending'
  | 'hashed'
  /** Larger than process.hashMaxFileBytes. */
  | 'too_large'
  /** Not a regular file. */
  | 'not_regular'
  /** Neither /proc/<pid>/exe nor the path could be opened (process gone, and memfd, deleted or moved). */
  | 'gone'
  | 'denied'
  /** The file found was not the one that ran (replaced or modified since the exec). */
  | 'changed'
  /** Reading took longer than process.hashTimeoutMs. */
  | 'timeout'
  /** More files were waiting than the queue holds. */
  | 'queue_full'
  | 'failed';

export const HASH_SKIP_REASONS = ['too_large', 'not_regular', 'gone', 'denied', 'changed', 'timeout', 'queue_full', 'failed'] as const;
export type HashSkipReason = (typeof HASH_SKIP_REASONS)[number];

/** An executable file, by identity. Shared: `sha256` and `hashState` are filled in later by the hasher. */
export interface ExecutableFile extends ExeFileFacts {
  sha256: string | null;
  hashState: HashState;
}

export interface HashOptions {
  maxFileBytes: number;
  cacheEntries: number;
  timeoutMs: number;
  queueMax?: number;
}

export interface HashStats {
  /** Files hashed, and bytes read to hash them. */
  hashed: number;
  bytes: number;
  /** CPU time of the hasher thread, microseconds. */
  cpuUs: number;
  /** Execs whose file's hash was already known (cache hit), and those whose record went out without it. */
  execsWithHash: number;
  execsLate: number;
  /** Files not hashed, by reason. */
  skipped: Record<HashSkipReason, number>;
  /** Identities in the cache, and files waiting to be hashed. */
  cached: number;
  queued: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** An ExecutableFile that nobody hashes (hashing off): its own object, hashState 'off'. */
export function unhashedFile(f: ExeFileFacts): ExecutableFile {
  return { ...f, sha256: null, hashState: 'off' };
}

const WORKER_URL = new URL('./hash-worker.js', import.meta.url);
/** How long the hasher thread stays without a job before it ends (see idleSoon). */
const IDLE_EXIT_MS = 10_000;

interface Pending {
  file: ExecutableFile;
  key: string;
  /** The latest process seen running it, and its path: the hasher opens /proc/<pid>/exe first. */
  pid: number;
  path: string | null;
}

export class ExecutableHasher {
  private readonly cache = new Map<string, ExecutableFile>();
  private readonly waiting = new Map<string, Pending>();
  private readonly queue: Pending[] = [];
  private worker: Worker | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private inFlight: { job: Pending; id: number; timer: NodeJS.Timeout } | null = null;
  private nextId = 1;
  private closed = false;
  private readonly queueMax: number;
  private readonly s: HashStats = {
    hashed: 0,
    bytes: 0,
    cpuUs: 0,
    execsWithHash: 0,
    execsLate: 0,
    skipped: { too_large: 0, not_regular: 0, gone: 0, denied: 0, changed: 0, timeout: 0, queue_full: 0, failed: 0 },
    cached: 0,
    queued: 0,
  };
  /** Called after each file's hash is settled (tests and the bench wait on it). */
  onSettled: ((f: ExecutableFile) => void) | null = null;

  constructor(private readonly opts: HashOptions) {
    this.queueMax = opts.queueMax ?? 1024;
  }

  stats(): HashStats {
    return { ...this.s, skipped: { ...this.s.skipped }, cached: this.cache.size, queued: this.queue.length + (this.inFlight ? 1 : 0) };
  }

  /**
   * The shared object for the file an exec of `pid` runs (`bytes`: the exe-file attachment read at
   * that exec, kernel/exe-file.ts), hashed when the cache knows it, else queued: the caller's record
   * goes out without waiting. A known file costs its key and one lookup, no decoding. null when the
   * attachment is not one. `exec` false: a process found by the start-up scan (no exec record to
   * count as late or not).
   */
  atExec(bytes: Uint8Array, pid: number, exe: string | null, exec = true): ExecutableFile | null {
    const key = exeFileKey(bytes);
    if (key === null) return null;
    const known = this.cache.get(key);
    if (known !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.cache.delete(key);
      this.cache.set(key, known);
      if (known.hashState === 'hashed') {
        if (exec) this.s.execsWithHash++;
      } else if (known.hashState === 'pending') {
        if (exec) this.s.execsLate++;
        const w = this.waiting.get(key);
        if (w !== undefined) {
          w.pid = pid;
          w.path = pathOf(exe);
        }
      }
      return known;
    }
    const facts = decodeExeFile(bytes);
    if (facts === null) return null;
    const file: ExecutableFile = { ...facts, sha256: null, hashState: 'pending' };
    this.remember(key, file);
    if ((facts.mode & S_IFMT) !== S_IFREG) this.settle(file, 'not_regular');
    else if (facts.size > this.opts.maxFileBytes) this.settle(file, 'too_large');
    else if (this.closed || this.queue.length >= this.queueMax) {
      this.settle(file, 'queue_full');
      // Not a property of the file: a later exec tries again.
      this.cache.delete(key);
    } else {
      if (exec) this.s.execsLate++;
      const p: Pending = { file, key, pid, path: pathOf(exe) };
      this.waiting.set(key, p);
      this.queue.push(p);
      this.pump();
    }
    return file;
  }

  /** Stops the hasher thread; files still waiting stay unhashed. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.queue.length = 0;
    if (this.inFlight) clearTimeout(this.inFlight.timer);
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private remember(key: string, file: ExecutableFile): void {
    this.cache.set(key, file);
    if (this.cache.size > this.opts.cacheEntries) {
      const oldest = this.cache.keys().next().value as string;
      // A file being hashed stays: its answer must find its object (it is dropped after).
      if (!this.waiting.has(oldest)) this.cache.delete(oldest);
      else {
        const v = this.cache.get(oldest) as ExecutableFile;
        this.cache.delete(oldest);
        this.cache.set(oldest, v);
      }
    }
  }

  private settle(file: ExecutableFile, state: HashState): void {
    file.hashState = state;
    if (state !== 'hashed' && state !== 'pending' && state !== 'off') this.s.skipped[state as HashSkipReason]++;
    this.onSettled?.(file);
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_URL, { name: 'cnproc-hash' });
    w.unref();
    w.on('message', (a: HashAnswer) => this.answered(a));
    w.on('error', () => this.lost(w, 'failed'));
    w.on('exit', () => this.lost(w, 'failed'));
    return w;
  }

  /** The thread died or was replaced: the file in flight is settled, the next one starts on a new thread. */
  private lost(w: Worker, outcome: HashOutcome): void {
    if (this.worker !== w) return;
    this.worker = null;
    const f = this.inFlight;
    if (f) {
      clearTimeout(f.timer);
      this.inFlight = null;
      this.finish(f.job, outcome, null);
    }
    this.pump();
  }

  private pump(): void {
    if (this.inFlight !== null || this.closed) return;
    const job = this.queue.shift();
    if (job === undefined) return;
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    if (this.worker === null) this.worker = this.spawn();
    const f = job.file;
    const id = this.nextId++;
    const msg: HashJob = {
      id,
      pid: job.pid,
      path: job.path,
      dev: f.dev,
      ino: String(f.ino),
      size: f.size,
      mtimeNs: String(f.mtimeNs),
      ctimeNs: String(f.ctimeNs),
      timeoutMs: this.opts.timeoutMs,
    };
    // The thread checks the time between reads; a read that never returns (a hung network file
    // system) is cut here, a second later, by replacing the thread.
    const w = this.worker;
    const timer = setTimeout(() => {
      void w.terminate();
      this.lost(w, 'timeout');
    }, this.opts.timeoutMs + 1000);
    timer.unref();
    this.inFlight = { job, id, timer };
    w.ref();
    w.postMessage(msg);
  }

  private answered(a: HashAnswer): void {
    const f = this.inFlight;
    if (f === null || f.id !== a.id) return;
    clearTimeout(f.timer);
    this.inFlight = null;
    this.s.bytes += a.bytes;
    this.s.cpuUs += a.cpuUs;
    this.finish(f.job, a.outcome, a.sha256);
    if (this.queue.length === 0) this.worker?.unref();
    this.pump();
    if (this.inFlight === null) this.idleSoon();
  }

  /**
   * An idle hasher thread gives its memory back: after IDLE_EXIT_MS without a job it ends (its
   * isolate is ~10-15 MB resident, which the memory pressure counts against the agent's ceiling);
   * the next new program starts a new one (tens of ms, at most once per idle period).
   */
  private idleSoon(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const w = this.worker;
      if (w === null || this.inFlight !== null || this.queue.length > 0) return;
      this.worker = null;
      void w.terminate();
    }, IDLE_EXIT_MS);
    this.idleTimer.unref();
  }

  private finish(job: Pending, outcome: HashOutcome, sha256: string | null): void {
    this.waiting.delete(job.key);
    if (outcome === 'hashed' && sha256 !== null) {
      job.file.sha256 = sha256;
      this.s.hashed++;
      this.settle(job.file, 'hashed');
      return;
    }
    this.settle(job.file, outcome as HashSkipReason);
    // gone and changed say nothing about the file: forget the identity, so its next exec (while
    // that process lives) tries again. denied, timeout and failed stay: no retry storm.
    if (outcome === 'gone' || outcome === 'changed') this.cache.delete(job.key);
  }
}

/** The path to open when /proc/<pid>/exe is gone: none for a memfd or a deleted file. */
function pathOf(exe: string | null): string | null {
  if (exe === null || exe.startsWith('/memfd:') || exe.endsWith(' (deleted)') || !exe.startsWith('/')) return null;
  return exe;
}
