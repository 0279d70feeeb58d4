/**
 * Console output of events with their process context: one readable line per event (pretty) or
 * one JSON object per line. Formats a whole batch into one string and writes it once.
 */
import type { HrTime, ProcEvent } from '../kernel/events.js';
import type { EnrichedEvent, ProcessInfo } from '../process/model.js';

export type ResolvedConsoleFormat = 'pretty' | 'json';

/** Resolves user and group names (the process model's UserDb). */
export interface NameLookup {
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
}

/** ISO-8601 UTC with nanoseconds, e.g. 2026-11-26T01:23:45.123456789Z. */
export function isoNanos(t: HrTime): string {
  const iso = new Date(t[0] * 1000).toISOString(); // ...T01:23:45.000Z
  return `${iso.slice(0, 19)}.${String(t[1]).padStart(9, '0')}Z`;
}

/** Unix nanoseconds as a decimal string (exact; a JS number cannot hold it). */
export function unixNanos(t: HrTime): string {
  return `${t[0]}${String(t[1]).padStart(9, '0')}`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Shell-style quoting for display: args are already escaped (no control characters). */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(quote).join(' ');
}

function user(names: NameLookup, uid: number | null | undefined): string {
  if (uid === null || uid === undefined) return '?';
  const n = names.userName(uid);
  return n === undefined ? String(uid) : `${uid}(${n})`;
}

function group(names: NameLookup, gid: number | null | undefined): string {
  if (gid === null || gid === undefined) return '?';
  const n = names.groupName(gid);
  return n === undefined ? String(gid) : `${gid}(${n})`;
}

function what(p: ProcessInfo | undefined): string {
  if (!p) return '';
  if (p.argv && p.argv.length > 0) return ` ${p.exe ?? '?'}: ${commandLine(p.argv)}${p.argvTruncated ? ' …(truncated)' : ''}`;
  if (p.exe) return ` ${p.exe}`;
  return p.comm !== null ? ` [${p.comm}]` : '';
}

function context(x: EnrichedEvent): string {
  const p = x.process;
  let s = '';
  if (p?.containerId) s += ` container=${p.containerId.slice(0, 12)}`;
  if (p && p.missing.length > 0) s += ` missing=${p.missing.join(',')}`;
  return s;
}

/** What follows the kind on a pretty line. */
function details(x: EnrichedEvent, names: NameLookup): string {
  const e = x.event;
  const p = x.process;
  const who = e.pid === e.tgid ? `pid=${e.tgid}` : `pid=${e.tgid} tid=${e.pid}`;
  switch (e.kind) {
    case 'fork':
      return e.isThread
        ? `pid=${e.tgid} new-thread tid=${e.pid} by tid=${e.parentPid}${what(p)}`
        : `pid=${e.tgid} ppid=${e.parentTgid}${e.parentPid !== e.parentTgid ? ` (by tid=${e.parentPid})` : ''}${what(p)}`;
    case 'exec':
      return `${who} ppid=${p?.ppid ?? '?'} uid=${user(names, p?.euid)}${p?.cwd ? ` cwd=${p.cwd}` : ''}${what(p)}${context(x)}`;
    case 'uid':
      return `${who} ruid=${user(names, x.previous?.ruid)}→${user(names, e.ruid)} euid=${user(names, x.previous?.euid)}→${user(names, e.euid)}${what(p)}`;
    case 'gid':
      return `${who} rgid=${group(names, x.previous?.rgid)}→${group(names, e.rgid)} egid=${group(names, x.previous?.egid)}→${group(names, e.egid)}${what(p)}`;
    case 'sid':
      return `${who} new session${what(p)}`;
    case 'ptrace':
      return e.attach
        ? `${who} attach tracer=${e.tracerTgid}${x.tracer?.exe ? ` (${x.tracer.exe})` : ''}${what(p)}`
        : `${who} detach${what(p)}`;
    case 'comm':
      return `${who} comm="${(x.previous?.comm ?? '?').replace(/"/g, '\\"')}"→"${e.comm.replace(/"/g, '\\"')}"`;
    case 'coredump':
      return `${who} ppid=${e.parentTgid}${what(p)}`;
    case 'exit': {
      const how = e.signal === null ? `code=${e.exitCode}` : `signal=${e.signal}${e.coreDumped ? ' core-dumped' : ''}`;
      const life = x.lifetimeNs !== null ? ` lifetime=${(x.lifetimeNs / 1e9).toFixed(3)}s` : '';
      return `${who} ${how}${e.isThread ? ' thread' : ` ppid=${e.parentTgid}${life}`}${e.isThread ? '' : what(p)}`;
    }
    case 'unknown':
      return `${who} what=0x${e.what.toString(16)} raw=${hex(e.raw)}`;
  }
}

export function formatPretty(x: EnrichedEvent, names: NameLookup): string {
  return `${isoNanos(x.event.time)} ${x.event.kind.padEnd(8)} ${details(x, names)}`;
}

/** Module-level (not per event) replacer: bigint and bytes to strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return hex(value);
  return value;
}

function processJson(p: ProcessInfo | undefined, names: NameLookup): Record<string, unknown> | undefined {
  if (!p) return undefined;
  const { source: _source, ...rest } = p;
  return {
    ...rest,
    user: p.euid !== null ? (names.userName(p.euid) ?? null) : null,
    group: p.egid !== null ? (names.groupName(p.egid) ?? null) : null,
    startTime: p.startTime ? isoNanos(p.startTime) : null,
  };
}

export function formatJson(x: EnrichedEvent, names: NameLookup): string {
  const { time, procSnapshot: _snap, ...rest } = x.event as ProcEvent;
  return JSON.stringify(
    {
      time: isoNanos(time),
      timeUnixNano: unixNanos(time),
      ...rest,
      process: processJson(x.process, names),
      parent: x.parent ? { pid: x.parent.tgid, entityId: x.parent.entityId, exe: x.parent.exe } : undefined,
      ancestors: x.ancestors,
      previous: x.previous,
      lifetimeNs: x.lifetimeNs ?? undefined,
    },
    jsonReplacer,
  );
}

export class ConsoleWriter {
  private readonly format: (x: EnrichedEvent, names: NameLookup) => string;

  constructor(
    format: ResolvedConsoleFormat,
    private readonly write: (text: string) => void,
    private readonly names: NameLookup,
  ) {
    this.format = format === 'json' ? formatJson : formatPretty;
  }

  writeBatch(events: readonly EnrichedEvent[]): void {
    let text = '';
    for (let i = 0; i < events.length; i++) text += `${this.format(events[i] as EnrichedEvent, this.names)}\n`;
    this.write(text);
  }
}
