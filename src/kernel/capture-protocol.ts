/**
 * Messages and shared state between the capture worker and the main thread.
 *
 * Batches travel as transferable ArrayBuffers (moved, not copied), in the record format of
 * ./handoff-codec.ts. Measured with `npm run bench -- handoff` (docs/benchmarks.md): transferable
 * batches of 1,024 move about 8.9 million records/s at 0.03 s of main-thread CPU per million; a
 * SharedArrayBuffer ring with Atomics.waitAsync moved 6.0 million/s at 0.09 s per million. Both are
 * hundreds of times the kernel's peak rate here, so the simpler and cheaper one wins.
 */
import type { CaptureErrorCategory } from './errors.js';
import type { NamespaceReads } from './proc-files.js';
import type { SubscriptionMode } from './socket.js';

/** Int32 slots of the shared control array. */
export const CTL_STOP = 0;
/** 1 while the kernel has our LISTEN; whoever swaps it to 0 sends IGNORE (exactly once). */
export const CTL_SUBSCRIBED = 1;
/** Datagrams posted by the worker and not yet consumed by the main thread. */
export const CTL_INFLIGHT = 2;
/** The socket's fd once open (-1 before), so the main thread can send IGNORE in an emergency. */
export const CTL_FD = 3;
/** 1 while the pressure ladder sheds cost: no /proc reads for forks (exec still is read). */
export const CTL_SHED = 4;
/** The exec-only wakeup socket's fd (-1 when there is none), for the same emergency IGNORE. */
export const CTL_WAKE_FD = 5;
export const CTL_SLOTS = 6;

export interface CaptureWorkerOptions {
  receiveBufferBytes: number;
  /** Kernel subscription mask (abi PROC_EVENT_* bits). */
  mask: number;
  recvBatch: number;
  batchMaxEvents: number;
  batchMaxDelayMs: number;
  handoffMaxEvents: number;
  ackTimeoutMs: number;
  netlinkStatsIntervalMs: number;
  /** Nice value for the capture thread (negative: ahead of the workload; needs root or CAP_SYS_NICE). */
  threadNice: number;
  /**
   * What wakes the capture thread: 'exec' — an exec-only second subscription, the main socket
   * drained at each exec and every batchMaxDelayMs (one wakeup per exec, not per event); 'every' —
   * each datagram on the main socket.
   */
  wakeup: WakeupMode;
  /**
   * Which events get a /proc read in the worker, the most bytes read of one file, whether an exec
   * snapshot reads the program file, and which namespace links it adds (default none).
   */
  snapshot: { exec: boolean; fork: boolean; maxBytes: number; executableFile?: boolean; namespaces?: NamespaceReads };
  control: SharedArrayBuffer;
}

export type WakeupMode = 'exec' | 'every';

/** Least receive buffer (as SO_RCVBUF reports it) for 'exec' wakeups: ~20,000 queued events, ~1 s of the worst storm measured here. */
export const WAKEUP_EXEC_MIN_BUFFER = 16 * 1_048_576;

export interface SubscriptionInfo {
  fd: number;
  inode: number;
  portId: number;
  mode: SubscriptionMode;
  /** Mask the kernel applies ('filtered' mode); in 'legacy' mode everything arrives. */
  mask: number;
  receiveBufferRequested: number;
  /** What SO_RCVBUF reports after the request (the kernel doubles the value asked for). */
  receiveBufferObtained: number;
  /** True when SO_RCVBUFFORCE worked (CAP_NET_ADMIN); false: capped by net.core.rmem_max. */
  receiveBufferForced: boolean;
  /** Nice value the capture thread runs at, and the errno when the requested one was refused. */
  threadNice: number;
  threadNiceError: string | null;
  /** What wakes the capture thread, and why it is 'every' when 'exec' was asked for. */
  wakeup: WakeupMode;
  wakeupNote: string | null;
}

/** Counters kept by the worker (cumulative since start). */
export interface WorkerCounters {
  /** recvmmsg calls that returned data. */
  recvCalls: number;
  /** Datagrams received from the socket (events, acks, malformed). */
  datagrams: number;
  /** Times recv returned ENOBUFS: the receive queue overflowed and the kernel dropped events. */
  enobufs: number;
  /** Events missing from per-CPU seq sequences. */
  seqGaps: number;
  seqOutOfOrder: number;
  /** Datagrams numbered by the kernel's per-CPU counter that we received (events and, on 5.2+, acks). */
  seqObserved: number;
  /** Datagrams discarded because the main thread was behind by more than handoffMaxEvents. */
  handoffDropped: number;
  /** Batches handed to the main thread: each one wakes it once. */
  handoffs: number;
  /** Wakeups by the exec-only socket that returned execs ('exec' wakeup mode). */
  execWakeups: number;
  /** Execs the wakeup socket returned after the main socket's drain had taken them (not read twice). */
  execWakeupsLate: number;
  /** Exec snapshots read at the wakeup and claimed by the exec from the main socket. */
  execSnapshotsEarly: number;
  /** Exec snapshots read only when the main socket's exec came ('exec' mode: the wakeup socket had not seen it yet). */
  execSnapshotsLate: number;
  /** Snapshots read at a wakeup whose exec never came from the main socket (lost there, counted as kernel loss). */
  execSnapshotsUnclaimed: number;
  /** Exec records flagged: their snapshot was read after a later exec of the same process. */
  execSuperseded: number;
  /** The same, found after the earlier exec's record had been handed over: counted, not flagged. */
  execSupersededUnflagged: number;
  /** Kernel's drop count for this socket (/proc/net/netlink); -1 when unreadable. */
  netlinkDrops: number;
  /** Bytes queued in the socket at the last reading (/proc/net/netlink Rmem). */
  netlinkRmem: number;
}

/** Counters before anything happened (netlinkDrops -1: not read yet). */
export function zeroWorkerCounters(): WorkerCounters {
  return {
    recvCalls: 0,
    datagrams: 0,
    enobufs: 0,
    seqGaps: 0,
    seqOutOfOrder: 0,
    seqObserved: 0,
    handoffDropped: 0,
    handoffs: 0,
    execWakeups: 0,
    execWakeupsLate: 0,
    execSnapshotsEarly: 0,
    execSnapshotsLate: 0,
    execSnapshotsUnclaimed: 0,
    execSuperseded: 0,
    execSupersededUnflagged: 0,
    netlinkDrops: -1,
    netlinkRmem: 0,
  };
}

export type WorkerMessage =
  | { type: 'ready'; info: SubscriptionInfo }
  | { type: 'batch'; buf: ArrayBuffer; count: number; counters: WorkerCounters }
  | { type: 'stats'; counters: WorkerCounters }
  | { type: 'error'; message: string; category: CaptureErrorCategory; code?: string }
  | { type: 'stopped'; counters: WorkerCounters };
