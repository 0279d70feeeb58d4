/**
 * Parsers for the raw /proc/<pid>/* bytes read by kernel/proc-files.ts. Pure functions; each returns null
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

/**
 * The unsigned decimal that starts at bytes[i] and ends at a space, newline or the end; -1 when
 * there is none (empty, a sign, anything else). Byte scanning, not split(): stat has 52 fields and
 * status 50-odd lines, and the agent needs six numbers of one and eight of the other, per process.
 */
function uintAt(bytes: Uint8Array, i: number, end: number): number {
  let v = 0;
  let n = 0;
  for (; i < end; i++, n++) {
    const c = bytes[i] as number;
    if (c === 0x20 || c === 0x0a) break;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return n === 0 ? -1 : v;
}

/** Index just past the next space at or after i (the start of the next field), or end. */
function nextField(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && bytes[i] !== 0x20) i++;
  return i + 1;
}

/** Parses /proc/<pid>/stat. comm may hold spaces and parentheses: it ends at the last ')'. */
export function parseStat(bytes: Uint8Array): StatFields | null {
  const open = bytes.indexOf(0x28); // '('
  const close = bytes.lastIndexOf(0x29); // ')'
  if (open < 0 || close < open) return null;
  const end = bytes.length;
  // Field 3 (state) starts after ") "; fields 4-7 are ppid, pgrp, session, tty_nr; 22 starttime.
  let i = close + 2;
  if (i >= end) return null;
  const state = String.fromCharCode(bytes[i] as number);
  i = nextField(bytes, i, end);
  const ppid = uintAt(bytes, i, end);
  i = nextField(bytes, i, end);
  const pgid = uintAt(bytes, i, end);
  i = nextField(bytes, i, end);
  const sid = uintAt(bytes, i, end);
  i = nextField(bytes, i, end);
  const ttyNr = uintAt(bytes, i, end);
  for (let f = 7; f < 22 && i < end; f++) i = nextField(bytes, i, end);
  const startTicks = i < end ? uintAt(bytes, i, end) : -1;
  if (ppid < 0 || startTicks < 0) return null;
  return {
    comm: escapeBytes(bytes, open + 1, close),
    state,
    ppid,
    pgid: pgid < 0 ? Number.NaN : pgid,
    sid: sid < 0 ? Number.NaN : sid,
    ttyNr: ttyNr < 0 ? Number.NaN : ttyNr,
    startTicks,
  };
}

export interface StatusIds {
  /** real, effective, saved, filesystem */
  uid: [number, number, number, number];
  gid: [number, number, number, number];
}

const UID_KEY = Uint8Array.from([0x55, 0x69, 0x64, 0x3a]); // "Uid:"
const GID_KEY = Uint8Array.from([0x47, 0x69, 0x64, 0x3a]); // "Gid:"

/** The four ids of the status line that starts with `key` (e.g. "Uid:\t0\t0\t0\t0"), or null. */
function idLine(bytes: Uint8Array, key: Uint8Array): [number, number, number, number] | null {
  const end = bytes.length;
  let i = 0;
  // Find `key` at the start of a line.
  for (;;) {
    if (i + key.length > end) return null;
    let k = 0;
    while (k < key.length && bytes[i + k] === key[k]) k++;
    if (k === key.length) break;
    while (i < end && bytes[i] !== 0x0a) i++;
    i++;
  }
  i += key.length;
  const out: number[] = [];
  for (;;) {
    while (i < end && (bytes[i] === 0x09 || bytes[i] === 0x20)) i++;
    if (i >= end || bytes[i] === 0x0a) break;
    let v = 0;
    let n = 0;
    for (; i < end; i++, n++) {
      const c = bytes[i] as number;
      if (c === 0x09 || c === 0x20 || c === 0x0a) break;
      if (c < 0x30 || c > 0x39) return null;
      v = v * 10 + (c - 0x30);
    }
    if (n === 0) return null;
    out.push(v);
  }
  return out.length === 4 ? (out as [number, number, number, number]) : null;
}

/** Uid/Gid lines of /proc/<pid>/status. */
export function parseStatusIds(bytes: Uint8Array): StatusIds | null {
  const uid = idLine(bytes, UID_KEY);
  const gid = uid ? idLine(bytes, GID_KEY) : null;
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

/** A small decimal file such as loginuid; null when empty or not a number. Leading and trailing whitespace is allowed. */
export function parseDecimal(bytes: Uint8Array): number | null {
  let i = 0;
  let end = bytes.length;
  while (i < end && isSpace(bytes[i] as number)) i++;
  while (end > i && isSpace(bytes[end - 1] as number)) end--;
  if (i === end) return null;
  let v = 0;
  for (; i < end; i++) {
    const c = bytes[i] as number;
    if (c < 0x30 || c > 0x39) return null;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
}

/**
 * The most telling cgroup path of /proc/<pid>/cgroup, which lists one line per hierarchy
 * ("hierarchy-id:controllers:path"; cgroup v2 has one "0::" line, hybrid hosts have both):
 * a path that names a container first, then the unified (v2) path unless it is just "/", then the
 * systemd (v1 "name=systemd") path, then the first line's.
 */
export function parseCgroup(bytes: Uint8Array): string | null {
  // Most processes share their parent's cgroups: the same file content recurs, so its answer is
  // kept (bounded; a host has few distinct cgroup sets).
  const text = utf8.decode(bytes);
  const hit = cgroupCache.get(text);
  if (hit !== undefined) return hit;
  const path = pickCgroup(text);
  if (cgroupCache.size >= CGROUP_CACHE_MAX) cgroupCache.clear();
  cgroupCache.set(text, path);
  return path;
}

const utf8 = new TextDecoder();
const cgroupCache = new Map<string, string | null>();
const CGROUP_CACHE_MAX = 1024;

function pickCgroup(text: string): string | null {
  const lines = text.split('\n');
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
