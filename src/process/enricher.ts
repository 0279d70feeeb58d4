/**
 * Applies kernel events to the process table and attaches process context to each event.
 * One call per event, in kernel order; the result references immutable table entries.
 */
import type { ProcEvent } from '../kernel/events.js';
import type { Attachment } from '../kernel/proc-files.js';
import { EscalationTracker } from './escalation.js';
import { executableOrigin } from './executable.js';
import type { ExecutableHasher, HashStats } from './executable-hash.js';
import type { HostClock } from './identity.js';
import { type EnrichedEvent, type Escalation, type PreviousValues, type ProcessInfo, unknownProcess } from './model.js';
import type { MountTables, MountTablesStats } from './mounts.js';
import type { HostNamespaces } from './namespaces.js';
import { applySnapshot } from './snapshot.js';
import { ProcessTable } from './table.js';
import type { WorkloadResolver } from './workload.js';

export interface EnricherOptions {
  /** Most ancestors listed on a record. */
  ancestryDepth: number;
  /** Most processes in the table. */
  maxProcesses: number;
  /** Names each event's container (resolved once per container); without it events carry no workload. */
  workloads?: WorkloadResolver;
  /** Finds each exec's executable mount (needs ns/mnt in the exec snapshots); without it none is flagged. */
  mounts?: MountTables;
  /** The host's namespaces, to say which of a process's are not (with process.namespaces). */
  hostNamespaces?: HostNamespaces;
  /** Hashes each exec's program file (SHA-256, off the event loop); without it files are described, not hashed. */
  hasher?: ExecutableHasher | null;
}

export interface EnricherStats {
  processes: number;
  evicted: number;
  /** Exec events whose /proc read missed at least one field. */
  execIncomplete: number;
  execs: number;
  /** Mount tables (process.executableMount): open, reads, lookups that could not say. */
  mounts?: MountTablesStats | null;
  /** Executable hashing; null when off. */
  hash: HashStats | null;
}

export class Enricher {
  readonly table: ProcessTable;
  private execs = 0;
  private execIncomplete = 0;
  private readonly escalations: EscalationTracker;

  constructor(
    private readonly host: HostClock,
    private readonly opts: EnricherOptions,
  ) {
    this.table = new ProcessTable(opts.maxProcesses);
    this.escalations = new EscalationTracker(opts.maxProcesses);
  }

  /** Seeds the table with processes that existed before the agent (see seed.ts). */
  seed(entries: Iterable<ProcessInfo>): void {
    // An entry made from an event since subscribing is newer than the scan's: keep it.
    for (const e of entries) {
      if (this.table.peek(e.tgid)) continue;
      this.table.set(this.opts.mounts !== undefined && e.mntNs !== null && e.exe !== null ? this.locate({ ...e }) : e);
    }
  }

  stats(): EnricherStats {
    return {
      processes: this.table.size,
      evicted: this.table.evicted,
      execIncomplete: this.execIncomplete,
      execs: this.execs,
      mounts: this.opts.mounts?.stats() ?? null,
      hash: this.opts.hasher?.stats() ?? null,
    };
  }

  /** Applies one event; `snapshot` is the /proc read the capture thread attached to it, if any. */
  enrich(e: ProcEvent, snapshot: readonly Attachment[] | undefined): EnrichedEvent {
    const t = this.table;
    let process: ProcessInfo | undefined;
    let previous: PreviousValues | undefined;
    let tracer: ProcessInfo | undefined;
    let lifetimeNs: number | null = null;
    let escalation: Escalation | null = null;

    switch (e.kind) {
      case 'fork': {
        if (e.isThread) {
          process = t.get(e.tgid);
          break;
        }
        const parent = t.get(e.parentTgid);
        const inherited: ProcessInfo = parent
          ? {
              ...parent,
              tgid: e.tgid,
              ppid: e.parentTgid,
              parentEntityId: parent.entityId,
              entityId: null,
              startTicks: null,
              startTime: e.time,
              missing: [],
              source: 'fork',
            }
          : { ...unknownProcess(e.tgid, e.parentTgid), startTime: e.time, source: 'fork' };
        process = snapshot ? applySnapshot(e.tgid, snapshot, inherited, this.host, 'fork', e.time) : inherited;
        t.set(process);
        break;
      }
      case 'exec': {
        const before = t.get(e.tgid);
        process = applySnapshot(
          e.tgid,
          snapshot ?? [],
          before,
          this.host,
          'exec',
          null,
          this.opts.hostNamespaces ?? null,
          this.opts.hasher ?? null,
        );
        if (!snapshot) process = { ...process, missing: ['snapshot:skipped'] };
        else if (this.opts.mounts !== undefined && process.mntNs !== null && process.exe !== null) process = this.locate(process);
        if (process.parentEntityId === null && process.ppid !== null) {
          const parent = t.peek(process.ppid);
          if (parent) process = { ...process, parentEntityId: parent.entityId };
        }
        escalation = this.escalations.atExec(before, process);
        t.set(process);
        this.execs++;
        if (process.missing.length > 0) this.execIncomplete++;
        break;
      }
      case 'uid': {
        const before = t.get(e.tgid) ?? unknownProcess(e.tgid, null);
        // Equal to the new ids: the /proc snapshot was read after the change (setpriv switches
        // right after its exec), so what it holds is not the old value: unknown, not wrong.
        previous = before.ruid === e.ruid && before.euid === e.euid ? { ruid: null, euid: null } : { ruid: before.ruid, euid: before.euid };
        escalation = this.escalations.onUid(before, e.ruid, e.euid);
        // The capability sets (and the saved uid) changed with the ids in ways the event does not
        // say (escalation.ts); an event that changes nothing (the snapshot was read after it) keeps them.
        const same = before.ruid === e.ruid && before.euid === e.euid;
        process = same ? before : { ...before, ruid: e.ruid, euid: e.euid, suid: null, capEffective: null, capPermitted: null };
        t.set(process);
        break;
      }
      case 'gid': {
        const before = t.get(e.tgid) ?? unknownProcess(e.tgid, null);
        previous = before.rgid === e.rgid && before.egid === e.egid ? { rgid: null, egid: null } : { rgid: before.rgid, egid: before.egid };
        this.escalations.onGid(before, e.rgid, e.egid);
        process = { ...before, rgid: e.rgid, egid: e.egid };
        t.set(process);
        break;
      }
      case 'sid': {
        const before = t.get(e.tgid) ?? unknownProcess(e.tgid, null);
        // Already the new session: read after the setsid, so the old one is unknown (as for ids).
        previous = { sid: before.sid === e.tgid ? null : before.sid };
        // setsid makes the caller leader of a new session and process group, without a terminal.
        process = { ...before, sid: e.tgid, pgid: e.tgid, ttyNr: 0 };
        t.set(process);
        break;
      }
      case 'comm': {
        const before = t.get(e.tgid);
        // The same name as the new one: the snapshot was read after the change (unknown, as for ids).
        // Only a thread-group leader's comm is the process's; another thread's rename compares to it anyway.
        previous = { comm: before?.comm === e.comm ? null : (before?.comm ?? null) };
        // comm is per thread; the process's name is its leader's.
        if (e.pid === e.tgid) {
          process = { ...(before ?? unknownProcess(e.tgid, null)), comm: e.comm };
          t.set(process);
        } else process = before;
        break;
      }
      case 'ptrace':
        process = t.get(e.tgid);
        tracer = e.tracerTgid !== 0 ? t.get(e.tracerTgid) : undefined;
        if (e.attach) escalation = this.escalations.onPtrace(e.tgid, process, e.tracerTgid, tracer);
        break;
      case 'exit': {
        process = t.get(e.tgid);
        if (!e.isThread) {
          if (process?.startTime) {
            const ns = (e.time[0] - process.startTime[0]) * 1e9 + (e.time[1] - process.startTime[1]);
            lifetimeNs = Math.max(0, ns);
          }
          t.delete(e.tgid);
          this.escalations.onExit(e.tgid);
        }
        break;
      }
      default:
        process = t.get(e.tgid);
    }

    const ppid = process?.ppid ?? null;
    const parent = ppid !== null ? t.peek(ppid) : undefined;
    const workload = this.opts.workloads?.of(process) ?? null;
    // escalation on every event (null but for an escalating exec): one object shape for all of them.
    return { event: e, process, parent, ancestors: this.ancestors(ppid), previous, tracer, lifetimeNs, escalation, workload };
  }

  /**
   * The executable's mount for a new exec entry (not yet in the table, so it may be completed in
   * place): flagged, or the reason it is unknown in `missing`.
   */
  private locate(p: ProcessInfo): ProcessInfo {
    const exe = p.exe as string;
    if (executableOrigin(exe) !== null) return p; // memfd or deleted: on no mount (flagged fileless)
    const r = (this.opts.mounts as MountTables).locate(p.tgid, p.ppid, p.mntNs as number, exe, performance.now());
    if (r === null) return p;
    const m = p as { -readonly [K in keyof ProcessInfo]: ProcessInfo[K] };
    if (typeof r === 'string') m.missing = [...p.missing, `exe_mount:${r}`];
    else m.exeMount = r;
    return p;
  }

  /** Executables of ppid, its parent, ... up to the configured depth (stops at unknown or pid 0). */
  private ancestors(ppid: number | null): string[] {
    const out: string[] = [];
    let pid = ppid;
    for (let i = 0; i < this.opts.ancestryDepth && pid !== null && pid > 0; i++) {
      const p = this.table.peek(pid);
      if (!p) break;
      out.push(p.exe ?? (p.comm !== null ? `[${p.comm}]` : '?'));
      if (p.ppid === pid) break;
      pid = p.ppid;
    }
    return out;
  }
}
