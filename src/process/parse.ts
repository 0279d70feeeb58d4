/**
 * Parsers for the raw /proc/<pid>/* bytes read by proc-files.ts. Pure functions; each returns null
 * (or an empty result) for input it cannot read rather than throwing.
 */
import { escapeBytes } from '../util/escape.js';
import { cgroupIdentity } from './container.js';

export interface StatFields {
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  ttyNr: number;
  /** Start time in clock ticks since boot (field 22). */
  startTicks: number;
}

const latin1 = new TextDecoder('latin1');

/** Parses /proc/<pid>/stat. comm may hold spaces and parentheses: it ends at the last ')'. */
export function parseStat(bytes: Uint8Array): StatFields | null {
  const open = bytes.indexOf(0x28); // '('
  const close = bytes.lastIndexOf(0x29); // ')'
  if (open < 0 || close < open) return null;
  const rest = latin1.decode(bytes.subarray(close + 2)).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  if (rest.length < 20) return null;
  const num = (i: number): number => Number(rest[i]);
  const f = {
    comm: escapeBytes(bytes, open + 1, close),
    state: rest[0] as string,
    ppid: num(1),
    pgid: num(2),
    sid: num(3),
    ttyNr: num(4),
    startTicks: num(19),
  };
  return Number.isFinite(f.startTicks) && Number.isFinite(f.ppid) ? f : null;
}

export interface StatusIds {
  /** real, effective, saved, filesystem */
  uid: [number, number, number, number];
  gid: [number, number, number, number];
}

function idLine(text: string, key: string): [number, number, number, number] | null {
  const i = text.indexOf(`\n${key}:`);
  const start = i < 0 ? (text.startsWith(`${key}:`) ? 0 : -1) : i + 1;
  if (start < 0) return null;
  const end = text.indexOf('\n', start);
  const parts = text
    .slice(start + key.length + 1, end < 0 ? undefined : end)
    .trim()
    .split(/\s+/)
    .map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n))) return null;
  return parts as [number, number, number, number];
}

/** Uid/Gid lines of /proc/<pid>/status. */
export function parseStatusIds(bytes: Uint8Array): StatusIds | null {
  const text = latin1.decode(bytes);
  const uid = idLine(text, 'Uid');
  const gid = idLine(text, 'Gid');
  return uid && gid ? { uid, gid } : null;
}

export interface Argv {
  /** Escaped arguments (see util/escape.ts). */
  args: string[];
  /** True when the command line was longer than the read limit: the last argument may be cut. */
  truncated: boolean;
}

/**
 * Splits /proc/<pid>/cmdline on NUL. A process that rewrote its argv (setproctitle) may have one
 * long string with spaces and no NULs: it is kept as one argument, faithfully.
 */
export function parseCmdline(bytes: Uint8Array, truncated: boolean): Argv {
  const args: string[] = [];
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0) end--;
  let start = 0;
  if (end === 0) return { args, truncated };
  for (let i = 0; i <= end; i++) {
    if (i === end || bytes[i] === 0) {
      args.push(escapeBytes(bytes, start, i));
      start = i + 1;
    }
  }
  return { args, truncated };
}

/** A small decimal file such as loginuid; null when empty or not a number. */
export function parseDecimal(bytes: Uint8Array): number | null {
  const t = latin1.decode(bytes).trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

/**
 * The most telling cgroup path of /proc/<pid>/cgroup, which lists one line per hierarchy
 * ("hierarchy-id:controllers:path"; cgroup v2 has one "0::" line, hybrid hosts have both):
 * a path that names a container first, then the unified (v2) path unless it is just "/", then the
 * systemd (v1 "name=systemd") path, then the first line's.
 */
export function parseCgroup(bytes: Uint8Array): string | null {
  const lines = new TextDecoder().decode(bytes).split('\n');
  let first: string | null = null;
  let unified: string | null = null;
  let systemd: string | null = null;
  for (const line of lines) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const path = line.slice(b + 1);
    if (cgroupIdentity(path).containerId) return path;
    if (line.startsWith('0::')) unified = path;
    else if (line.slice(a + 1, b) === 'name=systemd') systemd = path;
    first ??= path;
  }
  if (unified !== null && unified !== '/') return unified;
  return systemd ?? unified ?? first;
}
