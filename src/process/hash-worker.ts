/**
 * The executable hasher's thread: SHA-256 of one program file at a time, off the capture thread and
 * off the main thread's event loop (./executable-hash.ts sends the jobs). Runs at nice 10, so a
 * new large binary takes CPU only where the workload and the capture thread leave some.
 *
 * Which bytes: the file is opened through /proc/<pid>/exe while the process lives (the file it
 * runs, even deleted or a memfd), else by its path; either way the open file's identity (device,
 * inode, size, mtime, ctime) must equal what the capture thread saw at exec, before and after
 * reading, or the result is "changed" and no hash is given. A file replaced after the exec is a new
 * inode (or a new ctime), so it can never lend its hash to the program that ran.
 */

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';

/** A file to hash: where to find it and what it must be. Times and inode as decimal strings (bigint). */
export interface HashJob {
  id: number;
  pid: number;
  /** The executable's path, or null when it cannot be opened by path (memfd, deleted). */
  path: string | null;
  dev: number;
  ino: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  timeoutMs: number;
}

export type HashOutcome = 'hashed' | 'gone' | 'denied' | 'changed' | 'timeout' | 'failed';

export interface HashAnswer {
  id: number;
  outcome: HashOutcome;
  sha256: string | null;
  /** Bytes read (hashed or not). */
  bytes: number;
  /** Thread CPU time the job took, microseconds. */
  cpuUs: number;
}

const CHUNK = 1 << 20;

function sameFile(fd: number, j: HashJob): boolean {
  const st = fstatSync(fd, { bigint: true });
  return (
    st.dev === BigInt(j.dev) &&
    st.ino === BigInt(j.ino) &&
    st.size === BigInt(j.size) &&
    st.mtimeNs === BigInt(j.mtimeNs) &&
    st.ctimeNs === BigInt(j.ctimeNs)
  );
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? '';
}

/**
 * Opens the file the job names, verified; a file descriptor or why not. Never blocks on or touches
 * anything but the file that ran: O_NONBLOCK (a FIFO put at the path does not hang the open), and
 * the path is opened only if an lstat shows a regular file with the same device and inode (a
 * device node or a symlink put there is never opened; O_NOFOLLOW closes the window between).
 */
function openVerified(j: HashJob): number | 'gone' | 'denied' | 'changed' | 'failed' {
  let why: 'gone' | 'denied' | 'changed' | 'failed' = 'gone';
  for (const p of [`/proc/${j.pid}/exe`, j.path]) {
    if (p === null) continue;
    const byPath = p === j.path;
    let fd: number;
    try {
      if (byPath) {
        const st = lstatSync(p, { bigint: true });
        if (!st.isFile() || st.dev !== BigInt(j.dev) || st.ino !== BigInt(j.ino)) {
          why = 'changed';
          continue;
        }
      }
      // The exe link is a magic link: it must be followed, and leads to the file itself.
      fd = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK | (byPath ? constants.O_NOFOLLOW : 0));
    } catch (err) {
      const c = codeOf(err);
      // The /proc answer decides denied; a path that is gone after that changes nothing.
      if (c === 'EACCES' || c === 'EPERM') why = 'denied';
      else if (c === 'ELOOP') why = 'changed';
      else if (c !== 'ENOENT' && c !== 'ESRCH' && why === 'gone') why = 'failed';
      continue;
    }
    try {
      if (sameFile(fd, j)) return fd;
    } catch {
      // fstat failing on an open fd: treat as not the file.
    }
    closeSync(fd);
    why = 'changed';
  }
  return why;
}

const buf = Buffer.allocUnsafe(CHUNK);

export function hashJob(j: HashJob): HashAnswer {
  const cpu0 = process.cpuUsage();
  const answer = (outcome: HashOutcome, sha256: string | null, bytes: number): HashAnswer => {
    const c = process.cpuUsage(cpu0);
    return { id: j.id, outcome, sha256, bytes, cpuUs: c.user + c.system };
  };
  const fd = openVerified(j);
  if (typeof fd !== 'number') return answer(fd, null, 0);
  const deadline = performance.now() + j.timeoutMs;
  const h = createHash('sha256');
  let total = 0;
  try {
    for (;;) {
      // One byte past the size: a file that grew meanwhile shows here (and in its ctime).
      const n = readSync(fd, buf, 0, Math.min(CHUNK, j.size + 1 - total), total);
      if (n === 0) break;
      h.update(n === CHUNK ? buf : buf.subarray(0, n));
      total += n;
      if (total > j.size) return answer('changed', null, total);
      if (performance.now() > deadline) return answer('timeout', null, total);
    }
    if (total !== j.size || !sameFile(fd, j)) return answer('changed', null, total);
    return answer('hashed', h.digest('hex'), total);
  } catch {
    return answer('failed', null, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * This thread's id, from /proc/thread-self ("<pid>/task/<tid>"). Read there rather than through
 * koffi: a native addon loading in a worker that the agent terminates at once (a configuration
 * error found right after start) is a risk this thread does not need to take.
 */
function threadId(): number {
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}

const port = parentPort;
if (port) {
  try {
    // setpriority(PRIO_PROCESS, tid) sets one thread's nice value on Linux.
    setPriority(threadId(), 10);
  } catch {
    // Hashing at the default priority is still correct.
  }
  port.on('message', (j: HashJob) => port.postMessage(hashJob(j)));
}
