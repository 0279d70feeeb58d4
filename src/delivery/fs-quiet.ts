/**
 * Small file-system helpers of the spool: clean-up on paths where the operation is already failing
 * or best effort (errors swallowed on purpose: the caller's own error, or the next open's scan, is
 * what gets reported), and a bounded mkdir -p.
 */
import { closeSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // The descriptor is gone either way.
  }
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // A leftover file is found and counted (segments) or overwritten (state) later.
  }
}

/**
 * `mkdir -p` with a bound. Node's `mkdirSync(dir, { recursive: true })` never returns where mkdir
 * answers ENOENT although the parent exists (/proc, /sys): it retries forever. Throws the errno
 * error of the component that cannot be made.
 */
export function makeDirs(dir: string, mode: number): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (let depth = 0; depth < 256; depth++) {
    try {
      mkdirSync(p, { mode });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') break;
      const parent = dirname(p);
      if (code !== 'ENOENT' || parent === p) throw err;
      missing.push(p);
      p = parent;
    }
  }
  // The parents that were missing, from the top down; an ENOENT here is final.
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i] as string, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
