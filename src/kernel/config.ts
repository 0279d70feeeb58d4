/**
 * The capture section (capture.*), and the keys of the process section that decide what the capture
 * thread reads from /proc (process.enrich, forkSnapshot, maxCommandLineBytes): the event source
 * takes its defaults from here without loading convict or the schema.
 */

import { BOOLEAN, bytesFormat, intFormat, listOf, oneOf } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';
import { EVENT_TYPES, type EventType } from './events.js';
import type { NamespaceReads } from './proc-files.js';

export interface CaptureConfig {
  events: EventType[];
  exitNonzeroOnly: boolean;
  threads: boolean;
  receiveBufferBytes: number;
  recvBatch: number;
  batchMaxEvents: number;
  batchMaxDelayMs: number;
  handoffMaxEvents: number;
  ackTimeoutMs: number;
  statsIntervalMs: number;
  clockRecalibrateMs: number;
  threadNice: number;
  wakeup: 'exec' | 'every';
}

export const captureSection: ConfigSection<CaptureConfig> = {
  reload: 'restart',
  keys: {
    events: {
      reload: 'live',
      doc: 'Event types to subscribe to. On Linux 6.6+ the kernel sends only these; older kernels send all and the agent drops the rest (counted).',
      format: listOf('event-types', EVENT_TYPES),
      default: [...EVENT_TYPES],
      env: 'CNPROC_OTEL_EVENTS',
      arg: 'events',
    },
    exitNonzeroOnly: {
      reload: 'live',
      doc: 'Report only exits with a non-zero status (kernel-side with PROC_EVENT_NONZERO_EXIT on 6.6+).',
      format: BOOLEAN,
      default: false,
      env: 'CNPROC_OTEL_EXIT_NONZERO_ONLY',
      arg: 'exit-nonzero-only',
    },
    threads: {
      doc: 'Report thread creation and thread exit (fork/exit events whose pid differs from the tgid). When false they are dropped and counted as filtered.',
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_THREADS',
      arg: 'threads',
    },
    receiveBufferBytes: {
      doc: 'Socket receive buffer to ask for. Each queued event costs about 832 bytes; 64 MiB holds about 80,000. Needs CAP_NET_ADMIN above net.core.rmem_max.',
      format: bytesFormat(65_536, 1_073_741_824),
      default: 67_108_864,
      env: 'CNPROC_OTEL_RECEIVE_BUFFER',
      arg: 'receive-buffer',
    },
    recvBatch: {
      doc: 'Datagrams taken per recvmmsg call.',
      format: intFormat(1, 4096),
      default: 256,
    },
    batchMaxEvents: {
      doc: 'Most datagrams handed from the capture thread to the main thread at once.',
      format: intFormat(1, 65_536),
      default: 1024,
    },
    batchMaxDelayMs: {
      doc: 'Longest an event waits in the capture thread before it is handed over.',
      format: intFormat(1, 1000),
      default: 20,
    },
    handoffMaxEvents: {
      doc: 'Most datagrams waiting for the main thread; beyond it the capture thread drops (counted as handoff_full) instead of letting the kernel queue overflow.',
      format: intFormat(1024, 16_777_216),
      default: 262_144,
    },
    ackTimeoutMs: {
      doc: 'How long to wait for the kernel to acknowledge the subscription.',
      format: intFormat(10, 60_000),
      default: 1000,
    },
    statsIntervalMs: {
      doc: 'How often the capture thread reads its kernel drop counters.',
      format: intFormat(100, 600_000),
      default: 1000,
    },
    clockRecalibrateMs: {
      doc: 'How often the monotonic-to-wall-clock offset is measured again (follows clock steps).',
      format: intFormat(100, 3_600_000),
      default: 10_000,
    },
    threadNice: {
      doc: 'Nice value of the capture thread (-20..19). Negative runs it ahead of a busy workload, so /proc is read before short-lived programs exit; needs root or CAP_SYS_NICE (refusal is logged, capture goes on at 0).',
      format: intFormat(-20, 19),
      default: -10,
    },
    wakeup: {
      doc: "What wakes the capture thread. 'every': each event, as soon as it is queued. 'exec': only execs, through a second, exec-only subscription; every other event is taken from the main socket at the same wakeup or after batchMaxDelayMs: one wakeup per exec instead of one per event, about a quarter less capture-thread CPU at a steady exec rate, but a thread that sleeps more reads /proc a little later (3-6 points fewer complete records of sub-millisecond programs in exec storms, each miss flagged). 'exec' needs Linux 6.6+ and a receive buffer of at least 16 MiB as obtained, else 'every' is used; the start log says which.",
      format: oneOf('wakeup', ['every', 'exec']),
      default: 'every',
      env: 'CNPROC_OTEL_WAKEUP',
    },
  },
};

/** The process keys that decide what the capture thread reads from /proc (part of the process section). */
export interface SnapshotConfig {
  enrich: boolean;
  forkSnapshot: boolean;
  maxCommandLineBytes: number;
  executableFile: boolean;
  executableMount: boolean;
  namespaces: boolean;
}

/** Which namespace links an exec snapshot reads for these settings (proc-files.ts). */
export function namespaceReads(c: Pick<SnapshotConfig, 'executableMount' | 'namespaces'>): NamespaceReads {
  return c.namespaces ? 'all' : c.executableMount ? 'mnt' : 'none';
}

export const snapshotKeys: ConfigSection<SnapshotConfig>['keys'] = {
  enrich: {
    doc: 'Read /proc for each exec (executable, argv, cwd, ids, cgroup, login uid) as soon as the event arrives, and keep a process table.',
    format: BOOLEAN,
    default: true,
    env: 'CNPROC_OTEL_ENRICH',
    arg: 'enrich',
  },
  forkSnapshot: {
    doc: "Read a forked child's /proc/<pid>/stat (its start time makes the stable process id exact). Costs one read per fork.",
    format: BOOLEAN,
    default: true,
  },
  maxCommandLineBytes: {
    doc: 'Most bytes of a command line kept; longer ones are cut and flagged truncated.',
    format: bytesFormat(256, 1_048_576),
    default: 32_768,
  },
  executableFile: {
    doc: 'At each exec, describe the program file through /proc/<pid>/exe: size, inode, device, mtime, owner, mode (one statx) and its GNU build id (a read of its first page). About 6-13 us of capture-thread CPU per exec in isolation; the whole agent at 1,600 exec/s spends about 30-40 us more per exec with it (docs/benchmarks.md, issue 15 second pass). false: none of these, and no executable hashes either.',
    format: BOOLEAN,
    default: true,
    env: 'CNPROC_OTEL_EXECUTABLE_FILE',
  },
  executableMount: {
    doc: "Find the mount each exec's program is on, in its own mount namespace, and flag a program on a tmpfs (tmpfs, ramfs, devtmpfs) or on a container's writable overlay layer (cnproc.process.executable.mount.*). Costs one readlink per exec on the capture thread (ns/mnt, ~3 µs) and ~1 µs per exec on the main thread (a mount table per mount namespace, re-read only when its mounts change); the whole agent at 1,600 exec/s spends about 30-40 µs more per exec with it (docs/benchmarks.md).",
    format: BOOLEAN,
    default: true,
    env: 'CNPROC_OTEL_EXECUTABLE_MOUNT',
  },
  namespaces: {
    doc: "Record each exec's namespace inodes (pid, mnt, net, user, uts, ipc, cgroup, time) and which of them are not the host's (cnproc.process.namespace.*). Costs 8 readlinks per exec on the capture thread (~25 µs under load: off by default).",
    format: BOOLEAN,
    default: false,
    env: 'CNPROC_OTEL_NAMESPACES',
  },
};
