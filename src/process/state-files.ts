/**
 * Bounded, read-only reads of container runtimes' state files. A runtime's state is somebody
 * else's data: it can be huge, half-written, or gone by the time it is read (a container exiting
 * while the agent resolves it). Every outcome is a value, never an exception, so the caller can
 * flag the container and go on; nothing here can stall longer than one read of `maxBytes`.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Why a state file gave nothing: the flag a container's records carry (cnproc.container.unresolved). */
export type StateProblem = 'missing' | 'too-large' | 'malformed' | 'vanished' | 'denied' | 'io-error';

export type StateRead<T> = { ok: true; value: T; mtimeMs: number } | { ok: false; problem: StateProblem };

function problemOf(err: unknown): StateProblem {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return 'io-error';
}

/**
 * Reads and parses a JSON file of at most `maxBytes`. A file larger than that is not read at all
 * ('too-large'); one that shrinks or grows while read, or does not parse, is 'malformed'.
 */
export function readJsonBounded(path: string, maxBytes: number): StateRead<unknown> {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO in place of a state file would block a plain open until a writer comes;
    // it changes nothing for a regular file.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { ok: false, problem: problemOf(err) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, problem: 'malformed' };
    if (st.size > maxBytes) return { ok: false, problem: 'too-large' };
    // One byte more than the size: a file still being written shows up as a size mismatch.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    if (n !== st.size) return { ok: false, problem: n > maxBytes ? 'too-large' : 'malformed' };
    try {
      return { ok: true, value: JSON.parse(buf.toString('utf8', 0, n)), mtimeMs: st.mtimeMs };
    } catch {
      return { ok: false, problem: 'malformed' };
    }
  } catch (err) {
    // The directory of an exiting container can go away between open and read.
    const p = problemOf(err);
    return { ok: false, problem: p === 'missing' ? 'vanished' : p };
  } finally {
    closeSync(fd);
  }
}

/** A plain JSON object, or undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A non-empty string, or null. */
export function asString(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The string values of an object (OCI annotations, docker labels); other values are skipped. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const o = asObject(v);
  if (o) for (const k of Object.keys(o)) if (typeof o[k] === 'string') out[k] = o[k] as string;
  return out;
}
