/**
 * What the agent knows about a process (a thread group). Entries are immutable: a change (exec,
 * setuid, comm) replaces the entry, so an event that holds an entry keeps what was true then.
 */
import type { HrTime, ProcEvent } from '../kernel/events.js';
import type { ExecutableFile } from './executable-hash.js';
import type { ExecutableMount } from './mounts.js';
import type { Namespaces } from './namespaces.js';
import type { Workload } from './workload.js';

export interface ProcessInfo {
  readonly tgid: number;
  /** Stable id: hash of (boot id, pid, start ticks); null when the start time could not be read. */
  readonly entityId: string | null;
  readonly startTicks: number | null;
  /** Wall-clock start: the fork event's time when seen, else boot time + start ticks (10 ms). */
  readonly startTime: HrTime | null;
  readonly ppid: number | null;
  readonly parentEntityId: string | null;
  readonly comm: string | null;
  /** Executable path (readlink /proc/<pid>/exe), escaped. */
  readonly exe: string | null;
  /**
   * The program file (identity, mode, owner, build id, and its SHA-256 once hashed), read at exec
   * through the exe link; shared by every process running the same file (executable-hash.ts).
   * Null when not read (before the agent started, or the read failed: see missing).
   */
  readonly exeFile: ExecutableFile | null;
  /** Escaped argv; see util/escape.ts. */
  readonly argv: readonly string[] | null;
  readonly argvTruncated: boolean;
  readonly cwd: string | null;
  readonly ruid: number | null;
  readonly euid: number | null;
  readonly suid: number | null;
  readonly rgid: number | null;
  readonly egid: number | null;
  readonly sgid: number | null;
  /** Effective and permitted capability sets (CapEff/CapPrm of status, see capabilities.ts); null when unknown. */
  readonly capEffective: number | null;
  readonly capPermitted: number | null;
  /** Audit login uid; null when unset (4294967295: a daemon never logged in). */
  readonly loginUid: number | null;
  /** Audit session id; null when unset. */
  readonly auditSessionId: number | null;
  /** Session leader pid (setsid) and process group leader pid. */
  readonly sid: number | null;
  readonly pgid: number | null;
  /** Controlling terminal (tty_nr of stat); 0 = none. */
  readonly ttyNr: number | null;
  readonly cgroup: string | null;
  readonly containerId: string | null;
  readonly containerRuntime: string | null;
  readonly podUid: string | null;
  readonly systemdUnit: string | null;
  /** Mount namespace inode (ns/mnt at exec; process.executableMount or process.namespaces). */
  readonly mntNs: number | null;
  /** Every namespace at exec (process.namespaces); null when off or not read. */
  readonly namespaces: Namespaces | null;
  /** The executable's mount when it is flagged (tmpfs, a container's writable layer: mounts.ts); else null. */
  readonly exeMount: ExecutableMount | null;
  /** Fields the last /proc read could not get (the process was gone or access was denied). */
  readonly missing: readonly string[];
  /** How this entry was learned: the start-up scan, a fork, an exec, or an event for an unknown pid. */
  readonly source: 'scan' | 'fork' | 'exec' | 'event';
}

/** Values before a change, for uid/gid/comm/sid events (when the table knew them). */
export interface PreviousValues {
  ruid?: number | null;
  euid?: number | null;
  rgid?: number | null;
  egid?: number | null;
  comm?: string | null;
  sid?: number | null;
}

/**
 * How privileges were raised (computed by escalation.ts): on an exec, setuid / setgid /
 * file_capabilities / ptrace; on a ptrace attach, ptrace; on a uid change, uid_change.
 */
export type EscalationMechanism = 'setuid' | 'setgid' | 'file_capabilities' | 'ptrace' | 'uid_change';

export interface Escalation {
  readonly mechanisms: readonly EscalationMechanism[];
  /**
   * Permitted capabilities gained (a mask, see capabilities.ts); 0 when none or unknown. For a
   * ptrace attach: the tracee's permitted capabilities its tracer lacks.
   */
  readonly gained: number;
  /** Effective uid and gid before the exec or uid change (for a ptrace attach: the tracer's). */
  readonly previousEuid: number | null;
  readonly previousEgid: number | null;
  /** ptrace: the (less privileged) tracer, its effective capabilities (mask, null when unknown). */
  readonly tracerTgid?: number;
  readonly tracerCapEffective?: number | null;
  /** uid_change: saved uid and effective capabilities before the change (null when unknown). */
  readonly previousSuid?: number | null;
  readonly previousCapEffective?: number | null;
}

/** A kernel event with its process context. */
export interface EnrichedEvent {
  event: ProcEvent;
  /** The subject process (for fork: the child). Undefined when the table has no entry. */
  process: ProcessInfo | undefined;
  /** The subject's parent, when known. */
  parent: ProcessInfo | undefined;
  /** Executables of the ancestors, nearest first (parent, grandparent, ...), up to the configured depth. */
  ancestors: readonly string[];
  previous: PreviousValues | undefined;
  /** For ptrace: the tracer. */
  tracer: ProcessInfo | undefined;
  /** For exit: nanoseconds from start to exit, when the start is known. */
  lifetimeNs: number | null;
  /** For exec, ptrace and uid: how it raised privileges (escalation.ts); null when it did not or the ids before were unknown. */
  escalation?: Escalation | null;
  /** The subject's container and its names (null on the host; absent when the enricher has no resolver). */
  workload?: Workload | null;
}

export const UNSET_ID = 4294967295;

/** An entry for a pid the table never saw (its fields unknown). */
export function unknownProcess(tgid: number, ppid: number | null): ProcessInfo {
  return {
    tgid,
    entityId: null,
    startTicks: null,
    startTime: null,
    ppid,
    parentEntityId: null,
    comm: null,
    exe: null,
    exeFile: null,
    argv: null,
    argvTruncated: false,
    cwd: null,
    ruid: null,
    euid: null,
    suid: null,
    rgid: null,
    egid: null,
    sgid: null,
    capEffective: null,
    capPermitted: null,
    loginUid: null,
    auditSessionId: null,
    sid: null,
    pgid: null,
    ttyNr: null,
    cgroup: null,
    containerId: null,
    containerRuntime: null,
    podUid: null,
    systemdUnit: null,
    mntNs: null,
    namespaces: null,
    exeMount: null,
    missing: [],
    source: 'event',
  };
}
