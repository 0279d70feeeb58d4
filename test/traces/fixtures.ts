/**
 * Hand-built processes and enriched events for the span tests: what the enricher would hand the
 * tracker, without a kernel. Times are [second, 0] from T0; entity ids are 32 hex digits made
 * from the pid, so expected span ids can be written down.
 */
import type { HrTime } from '../../src/kernel/events.js';
import { type EnrichedEvent, type ProcessInfo, unknownProcess } from '../../src/process/model.js';

export const T0 = 1_795_000_000;

export const at = (s: number): HrTime => [T0 + Math.floor(s), Math.round((s % 1) * 1e9)];

/** A 32-hex entity id for a pid (the real ones are SHA-256 prefixes; any 32 hex digits do here). */
export const entity = (pid: number): string => `e${String(pid).padStart(15, '0')}${'ab'.repeat(8)}`;

export function proc(tgid: number, ppid: number, startS: number, over: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    ...unknownProcess(tgid, ppid),
    entityId: entity(tgid),
    startTime: at(startS),
    parentEntityId: entity(ppid),
    exe: '/usr/bin/bash',
    argv: ['bash'],
    comm: 'bash',
    euid: 1000,
    ruid: 1000,
    suid: 1000,
    egid: 100,
    rgid: 100,
    sgid: 100,
    sid: 1,
    pgid: tgid,
    ttyNr: 0,
    source: 'fork',
    ...over,
  };
}

function x(event: EnrichedEvent['event'], process: ProcessInfo | undefined, lifetimeNs: number | null = null): EnrichedEvent {
  return { event, process, parent: undefined, ancestors: [], previous: undefined, tracer: undefined, lifetimeNs };
}

const hdr = (pid: number, tgid: number, s: number) => ({ cpu: 0, seq: 0, ktimeNs: 0n, time: at(s), pid, tgid });

export function forkOf(child: ProcessInfo, s: number): EnrichedEvent {
  const ppid = child.ppid as number;
  return x({ ...hdr(child.tgid, child.tgid, s), kind: 'fork', parentPid: ppid, parentTgid: ppid, isThread: false }, child);
}

export function threadOf(p: ProcessInfo, tid: number, s: number): EnrichedEvent {
  return x({ ...hdr(tid, p.tgid, s), kind: 'fork', parentPid: p.tgid, parentTgid: p.tgid, isThread: true }, p);
}

export function execOf(p: ProcessInfo, s: number): EnrichedEvent {
  return x({ ...hdr(p.tgid, p.tgid, s), kind: 'exec' }, p);
}

export function sidOf(p: ProcessInfo, s: number): EnrichedEvent {
  return x({ ...hdr(p.tgid, p.tgid, s), kind: 'sid' }, p);
}

export function exitOf(p: ProcessInfo, s: number, status = 0, signal: number | null = null): EnrichedEvent {
  const ppid = p.ppid as number;
  const start = p.startTime as HrTime;
  const lifetimeNs = (T0 + s - start[0]) * 1e9 - start[1];
  return x(
    {
      ...hdr(p.tgid, p.tgid, s),
      kind: 'exit',
      status,
      exitCode: signal === null ? status >> 8 : null,
      signal,
      coreDumped: false,
      exitSignal: 17,
      parentPid: ppid,
      parentTgid: ppid,
      isThread: false,
    },
    p,
    lifetimeNs,
  );
}
