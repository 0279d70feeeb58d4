/**
 * Console output of events: one readable line per event (pretty) or one JSON object per line.
 * Formats a whole batch into one string and writes it once.
 */
import type { HrTime, ProcEvent } from '../kernel/events.js';

export type ResolvedConsoleFormat = 'pretty' | 'json';

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

/** What follows the kind on a pretty line. */
function details(e: ProcEvent): string {
  const who = e.pid === e.tgid ? `pid=${e.tgid}` : `pid=${e.tgid} tid=${e.pid}`;
  switch (e.kind) {
    case 'fork':
      return e.isThread
        ? `pid=${e.tgid} new-thread tid=${e.pid} by tid=${e.parentPid}`
        : `pid=${e.tgid} ppid=${e.parentTgid}${e.parentPid !== e.parentTgid ? ` (by tid=${e.parentPid})` : ''}`;
    case 'exec':
      return who;
    case 'uid':
      return `${who} ruid=${e.ruid} euid=${e.euid}`;
    case 'gid':
      return `${who} rgid=${e.rgid} egid=${e.egid}`;
    case 'sid':
      return who;
    case 'ptrace':
      return e.attach ? `${who} attach tracer=${e.tracerTgid}` : `${who} detach`;
    case 'comm':
      return `${who} comm="${e.comm.replace(/"/g, '\\"')}"`;
    case 'coredump':
      return `${who} ppid=${e.parentTgid}`;
    case 'exit': {
      const how = e.signal === null ? `code=${e.exitCode}` : `signal=${e.signal}${e.coreDumped ? ' core-dumped' : ''}`;
      return `${who} ${how}${e.isThread ? ' thread' : ` ppid=${e.parentTgid}`}`;
    }
    case 'unknown':
      return `${who} what=0x${e.what.toString(16)} raw=${hex(e.raw)}`;
  }
}

export function formatPretty(e: ProcEvent): string {
  return `${isoNanos(e.time)} ${e.kind.padEnd(8)} ${details(e)}`;
}

/** Module-level (not per event) replacer: bigint and bytes to strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return hex(value);
  return value;
}

export function formatJson(e: ProcEvent): string {
  const { time, ...rest } = e;
  return JSON.stringify({ time: isoNanos(time), timeUnixNano: unixNanos(time), ...rest }, jsonReplacer);
}

export class ConsoleWriter {
  private readonly format: (e: ProcEvent) => string;

  constructor(
    format: ResolvedConsoleFormat,
    private readonly write: (text: string) => void,
  ) {
    this.format = format === 'json' ? formatJson : formatPretty;
  }

  writeBatch(events: readonly ProcEvent[]): void {
    let text = '';
    for (let i = 0; i < events.length; i++) text += `${this.format(events[i] as ProcEvent)}\n`;
    this.write(text);
  }
}
