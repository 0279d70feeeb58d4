/**
 * A small JSON state file (state.json) kept next to the spool, written atomically (temporary file,
 * then rename) and checksummed, so a restart can tell a torn or damaged write from real state. The
 * agent keeps there what it needs to report on the gap while it was down (last kernel sequence
 * number per CPU, boot id).
 *
 * Format: one header line, then the JSON text exactly:
 *
 *     cnproc-otel-state 1 sha256=<64 hex digits of the JSON bytes> bytes=<JSON length>\n
 *     <JSON>
 */

import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, errnoCode, type FsyncPolicy, SpoolError } from './batch-store.js';
import { closeQuietly, makeDirs, unlinkQuietly } from './fs-quiet.js';

/** The state file's name inside the directory. */
export const STATE_FILE_NAME = 'state.json';
/** Where the next state is written before being renamed over {@link STATE_FILE_NAME}. */
export const STATE_TEMP_NAME = 'state.json.tmp';

const HEADER_RE = /^cnproc-otel-state 1 sha256=([0-9a-f]{64}) bytes=(\d{1,10})$/;
/** A header line is about 100 bytes; anything longer without a newline is not ours. */
const MAX_HEADER_BYTES = 200;

/** The outcome of {@link readState}: the stored value, or why there is none. */
export type ReadStateResult =
  | { ok: true; value: unknown }
  | {
      ok: false;
      /** missing: no state file (first start); corrupt: torn, damaged or not ours; unreadable: I/O or permission error. */
      reason: 'missing' | 'corrupt' | 'unreadable';
      /** One line naming the file and what is wrong with it. */
      detail: string;
    };

/** Reads and verifies `<dir>/state.json`. Never throws. */
export function readState(dir: string): ReadStateResult {
  const path = join(dir, STATE_FILE_NAME);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return { ok: false, reason: 'missing', detail: `${path} does not exist` };
    return { ok: false, reason: 'unreadable', detail: `cannot read ${path}: ${describeError(err)}` };
  }
  const corrupt = (what: string): ReadStateResult => ({ ok: false, reason: 'corrupt', detail: `${path}: ${what}` });
  const nl = buf.subarray(0, MAX_HEADER_BYTES).indexOf(0x0a);
  if (nl < 0) return corrupt('no header line (not a cnproc-otel state file, or cut short)');
  const m = HEADER_RE.exec(buf.subarray(0, nl).toString('latin1'));
  if (m === null) return corrupt('unrecognized header line');
  const body = buf.subarray(nl + 1);
  const expectedBytes = Number(m[2]);
  if (body.length < expectedBytes) return corrupt(`truncated: ${body.length} of ${expectedBytes} bytes of JSON`);
  if (body.length > expectedBytes) return corrupt(`${body.length - expectedBytes} unexpected bytes after the JSON`);
  if (createHash('sha256').update(body).digest('hex') !== m[1]) return corrupt('checksum mismatch');
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (err) {
    // The checksum matched, so this was written that way: a bug, but still not a reason to crash.
    return corrupt(`checksum matches but the JSON does not parse: ${describeError(err)}`);
  }
}

/**
 * Atomically replaces `<dir>/state.json` with `value` (creating `dir`, mode 0700, if needed). With
 * fsync `always` (or true) the file and the directory are flushed before returning, so the new state survives
 * a power loss; with `never` (or false) a crash leaves either the old or the new state, never a mix.
 *
 * @throws RangeError if `value` cannot be represented as JSON (undefined, a function, a BigInt, a cycle).
 * @throws SpoolError naming the path and errno if the file cannot be written.
 */
export function writeState(dir: string, value: unknown, fsync: FsyncPolicy | boolean): void {
  const flush = fsync === true || fsync === 'always';
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new RangeError(`writeState(): value is not JSON-serializable: ${describeError(err)}`);
  }
  if (json === undefined) throw new RangeError(`writeState(): value of type ${typeof value} is not JSON-serializable`);
  const body = Buffer.from(json, 'utf8');
  const header = `cnproc-otel-state 1 sha256=${createHash('sha256').update(body).digest('hex')} bytes=${body.length}\n`;
  const content = Buffer.concat([Buffer.from(header, 'latin1'), body]);
  const tmp = join(dir, STATE_TEMP_NAME);
  const path = join(dir, STATE_FILE_NAME);
  let step = `create directory ${dir}`;
  let fd: number | undefined;
  try {
    makeDirs(dir, 0o700);
    step = `write ${tmp}`;
    fd = openSync(tmp, 'w', 0o600);
    let off = 0;
    // Bounded: each write makes progress or throws; a zero-byte write is treated as an error.
    while (off < content.length) {
      const n = writeSync(fd, content, off, content.length - off);
      if (n <= 0) throw new Error('write returned 0 bytes');
      off += n;
    }
    if (flush) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    step = `rename ${tmp} to ${path}`;
    renameSync(tmp, path);
    if (flush) {
      step = `fsync directory ${dir}`;
      const dirFd = openSync(dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    }
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd);
    if (step.startsWith('write')) unlinkQuietly(tmp);
    throw new SpoolError(`cannot save state: ${step} failed: ${describeError(err)}`, errnoCode(err), { cause: err });
  }
}
