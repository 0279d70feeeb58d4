/**
 * Typed, plain objects for every proc connector event.
 *
 * Naming: `pid` is the thread id the kernel calls pid, `tgid` the process id users call pid.
 * Every event names its subject in `pid`/`tgid` (for fork: the child), so later stages can key
 * on `tgid` without a switch on the kind.
 */

import type { HrTime } from '../util/time.js';
import {
  PROC_EVENT_COMM,
  PROC_EVENT_COREDUMP,
  PROC_EVENT_EXEC,
  PROC_EVENT_EXIT,
  PROC_EVENT_FORK,
  PROC_EVENT_GID,
  PROC_EVENT_PTRACE,
  PROC_EVENT_SID,
  PROC_EVENT_UID,
} from './abi.js';
import type { Attachment } from './proc-files.js';

export type { HrTime } from '../util/time.js';

/** The event types a user can subscribe to, by name. */
export const EVENT_TYPES = ['fork', 'exec', 'uid', 'gid', 'sid', 'ptrace', 'comm', 'coredump', 'exit'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The kernel's `what` bit for each event type. */
export const EVENT_TYPE_BITS: Readonly<Record<EventType, number>> = {
  fork: PROC_EVENT_FORK,
  exec: PROC_EVENT_EXEC,
  uid: PROC_EVENT_UID,
  gid: PROC_EVENT_GID,
  sid: PROC_EVENT_SID,
  ptrace: PROC_EVENT_PTRACE,
  comm: PROC_EVENT_COMM,
  coredump: PROC_EVENT_COREDUMP,
  exit: PROC_EVENT_EXIT,
};

/** Fields every event has. */
export interface EventHeader {
  /** CPU that generated the event. */
  cpu: number;
  /** cn_msg.seq: a per-CPU counter of events generated (also for events this socket never sees). */
  seq: number;
  /** Kernel time: CLOCK_MONOTONIC nanoseconds (ktime_get_ns). */
  ktimeNs: bigint;
  /** Kernel time converted to wall-clock, nanosecond precision. */
  time: HrTime;
  /** Subject thread id. */
  pid: number;
  /** Subject process id (thread group id). */
  tgid: number;
  /**
   * Raw /proc/<tgid> files read by the capture thread as soon as the event arrived (exec: all;
   * process fork: stat). Parsed by the process model (src/process/snapshot.ts).
   */
  procSnapshot?: Attachment[];
}

/** A process or thread was created. The subject (`pid`/`tgid`) is the child. */
export interface ForkEvent extends EventHeader {
  kind: 'fork';
  parentPid: number;
  parentTgid: number;
  /** True for a new thread (CLONE_THREAD: the child's pid differs from its tgid). */
  isThread: boolean;
}

export interface ExecEvent extends EventHeader {
  kind: 'exec';
  /**
   * True when the /proc snapshot was read after a later exec of the same process (it execs twice
   * before the capture thread reads /proc): executable, argv and ids then describe the later
   * program, and the record says so (cnproc.exec.snapshot_superseded).
   */
  snapshotSuperseded?: boolean;
}

/** Real and effective uid after a change (setuid family). */
export interface UidEvent extends EventHeader {
  kind: 'uid';
  ruid: number;
  euid: number;
}

/** Real and effective gid after a change (setgid family). */
export interface GidEvent extends EventHeader {
  kind: 'gid';
  rgid: number;
  egid: number;
}

/** The process became a session leader (setsid). */
export interface SidEvent extends EventHeader {
  kind: 'sid';
}

/** A tracer attached to (tracerTgid != 0) or detached from (tracer 0) the subject. */
export interface PtraceEvent extends EventHeader {
  kind: 'ptrace';
  tracerPid: number;
  tracerTgid: number;
  attach: boolean;
}

/** The thread's name (comm) changed. */
export interface CommEvent extends EventHeader {
  kind: 'comm';
  /** New comm, escaped as described in {@link escapeBytes}. */
  comm: string;
}

export interface CoredumpEvent extends EventHeader {
  kind: 'coredump';
  parentPid: number;
  parentTgid: number;
}

/** A thread or process exited. `pid !== tgid` (or exitSignal -1) means a non-leader thread. */
export interface ExitEvent extends EventHeader {
  kind: 'exit';
  /** Raw wait status as the kernel reports it (`_exit(3)` gives 768). */
  status: number;
  /** Exit code when the process exited normally, else null. */
  exitCode: number | null;
  /** Signal number that killed it, else null. */
  signal: number | null;
  /** True when the signal death produced a core dump (wait status bit 0x80). */
  coreDumped: boolean;
  /** Signal the parent is sent on exit (SIGCHLD = 17 normally; -1 for a non-leader thread). */
  exitSignal: number;
  parentPid: number;
  parentTgid: number;
  isThread: boolean;
}

/** An event whose `what` this agent does not know: kept, with its raw proc_event bytes. */
export interface UnknownEvent extends EventHeader {
  kind: 'unknown';
  what: number;
  /** The 40 bytes of struct proc_event (copied). */
  raw: Uint8Array;
}

export type ProcEvent =
  | ForkEvent
  | ExecEvent
  | UidEvent
  | GidEvent
  | SidEvent
  | PtraceEvent
  | CommEvent
  | CoredumpEvent
  | ExitEvent
  | UnknownEvent;

export type ProcEventKind = ProcEvent['kind'];

/** Builds a kernel subscription mask from event type names. */
export function eventMask(types: readonly EventType[]): number {
  let mask = 0;
  for (const t of types) mask |= EVENT_TYPE_BITS[t];
  return mask >>> 0;
}
