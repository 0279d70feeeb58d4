/**
 * The capture worker: owns the proc connector socket, blocks in recvmmsg, tracks kernel loss
 * (ENOBUFS, per-CPU seq gaps, /proc/net/netlink drops) and hands datagrams to the main thread in
 * transferable batches. Nothing here decodes events into objects: that is the main thread's job,
 * so this loop stays a plain copy of bytes and the socket is drained as fast as the kernel fills it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as abi from './abi.js';
import {
  type CaptureWorkerOptions,
  CTL_FD,
  CTL_INFLIGHT,
  CTL_SHED,
  CTL_STOP,
  CTL_SUBSCRIBED,
  CTL_WAKE_FD,
  type SubscriptionInfo,
  WAKEUP_EXEC_MIN_BUFFER,
  type WakeupMode,
  type WorkerCounters,
  type WorkerMessage,
  zeroWorkerCounters,
} from './capture-protocol.js';
import { checkDatagram, type MalformedReason } from './decode.js';
import { noAckDiagnosis } from './diagnose.js';
import { EarlySnapshots } from './early-snapshots.js';
import { CaptureError, ERRNO, errnoName } from './errors.js';
import { ExecReads, SUPERSEDED_HANDED_OVER } from './exec-reads.js';
import { BatchEncoder, RECORD_HEADER, verdictOf } from './handoff-codec.js';
import { libc } from './libc.js';
import { readNetlinkSocketStats } from './netlink-stats.js';
import { type Attachment, ProcFile, ProcFileReader, ReadStatus } from './proc-files.js';
import { SeqGapTracker } from './seq-gaps.js';
import { ProcConnectorSocket, type RecvBatch, type SubscriptionMode } from './socket.js';

const port = parentPort;
if (!port) throw new Error('capture-worker must run as a worker thread');
const opts = workerData as CaptureWorkerOptions;
const control = new Int32Array(opts.control);

const counters: WorkerCounters = zeroWorkerCounters();
const seq = new SeqGapTracker();

// The batch being built; copied out at its exact size on flush. Room for a full batch of bare
// datagrams plus the largest /proc snapshots.
const maxRecord = RECORD_HEADER + 256;
const batch = new BatchEncoder(Math.max(opts.batchMaxEvents * maxRecord, 4 * opts.snapshot.maxBytes + 65_536, 1 << 20));
let stagingSince = 0;
/** Set when a received datagram was our ack (what = NONE): its errno. */
let ackErr: number | null = null;
/** The ack field of the answer awaited (ProcConnectorSocket.expectedAck); -1: none awaited. */
let expectedAck = -1;
const reader =
  opts.snapshot.exec || opts.snapshot.fork
    ? new ProcFileReader(opts.snapshot.maxBytes, '/proc', opts.snapshot.executableFile ?? true, opts.snapshot.namespaces ?? 'none')
    : null;
const attachments: Attachment[] = [];
/** Exec snapshots read at an exec wakeup, until the main socket's copy of the exec claims them ('exec' wakeups only). */
let early: EarlySnapshots | null = null;
/** How long a blocking receive waits before the loop looks at stop, flush and stats (and, with exec wakeups, drains the main socket). */
const RECEIVE_TIMEOUT_MS = Math.max(1, Math.min(opts.batchMaxDelayMs, 100));
/** Most non-blocking receives of the main socket per wakeup before the wakeup socket is looked at again. */
const MAX_DRAIN_CALLS = 64;

function post(msg: WorkerMessage, transfer?: ArrayBuffer[]): void {
  port?.postMessage(msg, transfer);
}

function snapshot(): WorkerCounters {
  counters.seqGaps = seq.gaps;
  counters.seqOutOfOrder = seq.outOfOrder;
  counters.seqObserved = seq.observed;
  if (early) {
    counters.execSnapshotsEarly = early.counters.matched;
    counters.execSnapshotsUnclaimed = early.counters.expired;
  }
  return { ...counters };
}

function flush(): void {
  if (batch.count === 0) return;
  execReads.handOver();
  const count = batch.count;
  if (Atomics.load(control, CTL_INFLIGHT) + count > opts.handoffMaxEvents) {
    // The main thread is too far behind: drop here, counted, rather than stop reading and let
    // the kernel's congested queue drop far more (see ../../docs/capture.md).
    counters.handoffDropped += count;
    batch.reset();
  } else {
    const buf = batch.take();
    Atomics.add(control, CTL_INFLIGHT, count);
    counters.handoffs++;
    post({ type: 'batch', buf, count, counters: snapshot() }, [buf]);
  }
}

/** Read times of the exec snapshots in flight, to flag one read after a later exec (./exec-reads.ts). */
const execReads = new ExecReads();
/** The exec snapshot just read by snapshotFor, registered once its record has an offset. */
let pendingExec: { tgid: number; readNs: bigint; exe: Uint8Array | null; cmdline: Uint8Array | null } | null = null;

/** The bytes of one file of a snapshot, if it was read. */
function fileBytes(snap: readonly Attachment[], file: number): Uint8Array | null {
  for (let i = 0; i < snap.length; i++) {
    const a = snap[i] as Attachment;
    if (a.file === file) return a.status === ReadStatus.ok || a.status === ReadStatus.truncated ? a.bytes : null;
  }
  return null;
}

/**
 * The exec of `tgid` at `ktimeNs` has its snapshot in `attachments`: flags (or counts) the
 * previous exec's record if that one's snapshot shows this program (./exec-reads.ts), and keeps
 * this one's for the next exec.
 */
function checkSuperseded(tgid: number, ktimeNs: bigint, readNs: bigint): void {
  const exe = fileBytes(attachments, ProcFile.exe);
  const cmdline = fileBytes(attachments, ProcFile.cmdline);
  const r = execReads.check(tgid, ktimeNs, exe, cmdline);
  if (r >= 0) {
    batch.flagSuperseded(r);
    counters.execSuperseded++;
  } else if (r === SUPERSEDED_HANDED_OVER) counters.execSupersededUnflagged++;
  pendingExec = { tgid, readNs, exe, cmdline };
}

/** Reads /proc for an exec (everything) or a process fork (stat) while the process still exists. */
function snapshotFor(data: DataView, off: number, what: number): void {
  if (!reader) return;
  const u = off + abi.EV_DATA;
  if (what === abi.PROC_EVENT_EXEC && opts.snapshot.exec) {
    const tgid = data.getInt32(u + abi.U_PROCESS_TGID, true);
    const ktimeNs = data.getBigUint64(off + abi.EV_TIMESTAMP, true);
    if (early !== null) {
      const got = early.take(data.getUint32(off + abi.EV_CPU, true), data.getUint32(off + abi.CN_SEQ, true));
      if (got !== undefined) {
        for (const a of got.attachments) attachments.push(a);
        checkSuperseded(tgid, ktimeNs, got.readNs);
        return;
      }
      counters.execSnapshotsLate++;
    }
    reader.execSnapshot(tgid, attachments);
    checkSuperseded(tgid, ktimeNs, reader.programReadNs);
  } else if (what === abi.PROC_EVENT_FORK && opts.snapshot.fork && Atomics.load(control, CTL_SHED) === 0) {
    const childPid = data.getInt32(u + abi.U_FORK_CHILD_PID, true);
    const childTgid = data.getInt32(u + abi.U_FORK_CHILD_TGID, true);
    if (childPid === childTgid) reader.forkSnapshot(childTgid, attachments);
  }
}

/**
 * Copies a received batch into the handoff batch, checking each datagram once (the verdict travels
 * with it), tracking seq, spotting acks, attaching /proc snapshots.
 */
function take(b: RecvBatch): void {
  const { data, slot, lengths, truncated } = b;
  const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  counters.recvCalls++;
  for (let i = 0; i < b.count; i++) {
    counters.datagrams++;
    const off = i * slot;
    const len = lengths[i] as number;
    // Emptied only when used: setting an array's length goes through the V8 runtime, per datagram.
    if (attachments.length !== 0) attachments.length = 0;
    const bad: MalformedReason | null = truncated[i] === 1 ? 'truncated' : checkDatagram(data, off, len);
    if (bad === null) {
      const cpu = data.getUint32(off + abi.EV_CPU, true);
      const what = data.getUint32(off + abi.EV_WHAT, true);
      // Only the answer to our own LISTEN (its ack field): other listeners' answers reach us too.
      if (what === abi.PROC_EVENT_NONE && data.getUint32(off + abi.CN_ACK, true) === expectedAck) {
        ackErr = data.getUint32(off + abi.EV_DATA + abi.U_ACK_ERR, true);
      }
      // Since 5.2 acks (ours and other listeners') take a number from the per-CPU counter like
      // events; older kernels mark them cpu = -1 and leave the counter alone.
      if (cpu !== abi.ACK_CPU) seq.observe(cpu, data.getUint32(off + abi.CN_SEQ, true));
      snapshotFor(data, off, what);
    }
    if (!batch.fits(BatchEncoder.recordSize(len, attachments))) flush();
    if (batch.count === 0) stagingSince = performance.now();
    const rec = batch.add(src, off, len, verdictOf(bad), attachments);
    if (pendingExec !== null) {
      execReads.record(pendingExec.tgid, pendingExec.readNs, rec, pendingExec.exe, pendingExec.cmdline);
      pendingExec = null;
    }
    if (batch.count >= opts.batchMaxEvents) flush();
  }
}

/**
 * Execs from the wakeup socket: read each one's /proc now (the reason to wake at all), and keep the
 * snapshot for the main socket's copy of the same exec. Nothing else from this socket is used.
 */
function takeWakeup(b: RecvBatch, store: EarlySnapshots): void {
  const { data, slot, lengths, truncated } = b;
  counters.execWakeups++;
  for (let i = 0; i < b.count; i++) {
    const off = i * slot;
    if (truncated[i] === 1 || checkDatagram(data, off, lengths[i] as number) !== null) continue;
    if (data.getUint32(off + abi.EV_WHAT, true) !== abi.PROC_EVENT_EXEC) continue;
    const cpu = data.getUint32(off + abi.EV_CPU, true);
    const seqNo = data.getUint32(off + abi.CN_SEQ, true);
    // The main socket got there first (its drain read this exec's /proc already): no second read.
    if (seq.passed(cpu, seqNo)) {
      counters.execWakeupsLate++;
      continue;
    }
    const snap: Attachment[] = [];
    reader?.execSnapshot(data.getInt32(off + abi.EV_DATA + abi.U_PROCESS_TGID, true), snap);
    store.put(cpu, seqNo, snap, reader?.programReadNs ?? 0n);
  }
}

function refreshNetlinkStats(sock: ProcConnectorSocket): void {
  const s = readNetlinkSocketStats(sock.inode);
  if (s) {
    counters.netlinkDrops = s.drops;
    counters.netlinkRmem = s.rmem;
  }
}

/** One blocking (or non-blocking) receive. Returns false when nothing was queued. */
function receiveOnce(sock: ProcConnectorSocket, wait: boolean): boolean {
  const r = sock.receive(wait);
  if (typeof r !== 'number') {
    take(r);
    return true;
  }
  if (r === ERRNO.ENOBUFS) {
    // The queue overflowed; the kernel reports it once and keeps dropping until we drain.
    counters.enobufs++;
    return true;
  }
  if (r === ERRNO.EAGAIN || r === ERRNO.EINTR) return false;
  throw new CaptureError(`recvmmsg on the proc connector socket failed: errno ${r}`, 'internal');
}

/** Waits up to the ack timeout for an ack; events that arrive meanwhile are kept. */
function awaitAck(sock: ProcConnectorSocket): number | null {
  ackErr = null;
  expectedAck = sock.expectedAck;
  const deadline = performance.now() + opts.ackTimeoutMs;
  while (ackErr === null && performance.now() < deadline) receiveOnce(sock, true);
  return ackErr;
}

function subscribe(sock: ProcConnectorSocket): SubscriptionMode {
  // Start with every type: only then does the kernel's filter let our ack through, which proves
  // the subscription took. Then narrow to the mask we need.
  Atomics.store(control, CTL_SUBSCRIBED, 1);
  sock.sendOp(abi.PROC_CN_MCAST_LISTEN, abi.PROC_EVENT_ALL);
  let err = awaitAck(sock);
  let mode: SubscriptionMode = 'filtered';
  if (err === null) {
    // Kernels before 6.6 ignore the 8-byte form without an ack: try the legacy op.
    sock.sendOp(abi.PROC_CN_MCAST_LISTEN, null);
    err = awaitAck(sock);
    mode = 'legacy';
  }
  if (err === null) {
    Atomics.store(control, CTL_SUBSCRIBED, 0);
    throw new CaptureError(noAckDiagnosis(opts.ackTimeoutMs), 'unavailable', 'NOACK');
  }
  if (err !== 0) {
    Atomics.store(control, CTL_SUBSCRIBED, 0);
    if (err === ERRNO.EPERM) {
      throw new CaptureError(
        'The proc connector refused LISTEN with EPERM: this kernel (before 6.6) requires CAP_NET_ADMIN. Run as root or grant CAP_NET_ADMIN.',
        'permission',
        'EPERM',
      );
    }
    throw new CaptureError(`The proc connector refused LISTEN with errno ${err}.`, 'internal');
  }
  if (mode === 'filtered' && opts.mask >>> 0 !== abi.PROC_EVENT_ALL) sock.sendOp(abi.PROC_CN_MCAST_LISTEN, opts.mask);
  return mode;
}

function unsubscribe(sock: ProcConnectorSocket, wake: ProcConnectorSocket | null): void {
  if (Atomics.compareExchange(control, CTL_SUBSCRIBED, 1, 0) !== 1) return;
  // The 4-byte IGNORE is understood by every kernel, filtered subscription or not. Each socket
  // that sent LISTEN counts as a listener in the kernel until it sends IGNORE.
  for (const s of wake ? [sock, wake] : [sock]) {
    try {
      s.sendOp(abi.PROC_CN_MCAST_IGNORE, null);
    } catch {
      // Nothing more can be done from here; the socket is closed next either way.
    }
  }
}

/**
 * Opens the exec-only wakeup socket when it can help and is safe: a 6.6+ kernel (filtered
 * subscriptions), execs read from /proc, other types subscribed too (else the main socket is that
 * socket already), and a main receive buffer deep enough to wait batchMaxDelayMs in a fork storm.
 */
function openWakeup(mode: SubscriptionMode, obtained: number): { wake: ProcConnectorSocket | null; note: string | null } {
  if (opts.wakeup !== 'exec') return { wake: null, note: null };
  const mask = opts.mask >>> 0;
  if (mode !== 'filtered') return { wake: null, note: 'the kernel is older than 6.6 (no per-socket filter)' };
  if (!opts.snapshot.exec) return { wake: null, note: 'exec enrichment is off' };
  if ((mask & abi.PROC_EVENT_EXEC) === 0 || mask === abi.PROC_EVENT_EXEC) {
    return { wake: null, note: 'execs alone or no execs are subscribed: the main socket is the wakeup' };
  }
  if (obtained < WAKEUP_EXEC_MIN_BUFFER) {
    return {
      wake: null,
      note: `the receive buffer (${obtained} bytes) is under ${WAKEUP_EXEC_MIN_BUFFER}: events would overflow it between wakeups`,
    };
  }
  let wake: ProcConnectorSocket | null = null;
  try {
    wake = new ProcConnectorSocket(64);
    // Only a trigger: an overflow here loses nothing (the main socket has every exec), it only
    // makes those execs' /proc reads late. 4 MiB holds about 5,000 execs.
    wake.setReceiveBuffer(4 * 1_048_576);
    wake.setReceiveTimeout(RECEIVE_TIMEOUT_MS);
    Atomics.store(control, CTL_WAKE_FD, wake.fd);
    wake.sendOp(abi.PROC_CN_MCAST_LISTEN, abi.PROC_EVENT_EXEC);
    return { wake, note: null };
  } catch (err) {
    Atomics.store(control, CTL_WAKE_FD, -1);
    wake?.close();
    return { wake: null, note: `the exec-only socket failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Raises the capture thread's priority. Measured (bench enrich, 2 vCPUs busy with a fork+exec
 * storm): at nice 0 the /proc read came too late for 18 % of /bin/true execs, at -10 for 3 %.
 */
function setNice(): { nice: number; error: string | null } {
  if (opts.threadNice === 0) return { nice: 0, error: null };
  const c = libc();
  if (c.setThreadNice(c.gettid(), opts.threadNice) === 0) return { nice: opts.threadNice, error: null };
  return { nice: 0, error: errnoName(c.errno()) };
}

function run(): void {
  let sock: ProcConnectorSocket | undefined;
  let wake: ProcConnectorSocket | null = null;
  try {
    sock = new ProcConnectorSocket(opts.recvBatch);
    Atomics.store(control, CTL_FD, sock.fd);
    const rb = sock.setReceiveBuffer(opts.receiveBufferBytes);
    sock.setReceiveTimeout(RECEIVE_TIMEOUT_MS);
    const nice = setNice();
    const mode = subscribe(sock);
    const w = openWakeup(mode, rb.obtained);
    wake = w.wake;
    const wakeup: WakeupMode = wake ? 'exec' : 'every';
    if (wake) early = new EarlySnapshots();
    const info: SubscriptionInfo = {
      fd: sock.fd,
      inode: sock.inode,
      portId: sock.portId,
      mode,
      mask: mode === 'filtered' ? opts.mask >>> 0 : abi.PROC_EVENT_ALL,
      receiveBufferRequested: opts.receiveBufferBytes,
      receiveBufferObtained: rb.obtained,
      receiveBufferForced: rb.forced,
      threadNice: nice.nice,
      threadNiceError: nice.error,
      wakeup,
      wakeupNote: w.note,
    };
    refreshNetlinkStats(sock);
    post({ type: 'ready', info });

    let lastStats = performance.now();
    // 'exec' wakeups: true when the last drain stopped at its bound with the main socket still
    // full, so the next look at the wakeup socket must not block.
    let behind = false;
    while (Atomics.load(control, CTL_STOP) === 0) {
      let got: boolean;
      if (wake !== null && early !== null) {
        const r = wake.receive(!behind);
        if (typeof r !== 'number') takeWakeup(r, early);
        else if (r !== ERRNO.EAGAIN && r !== ERRNO.EINTR && r !== ERRNO.ENOBUFS) {
          throw new CaptureError(`recvmmsg on the exec wakeup socket failed: errno ${r}`, 'internal');
        }
        got = false;
        let calls = 0;
        while (calls < MAX_DRAIN_CALLS && receiveOnce(sock, false)) {
          got = true;
          calls++;
        }
        behind = calls === MAX_DRAIN_CALLS;
        early.drained();
        // Idle only when the wakeup socket had nothing either. The kernel queues an exec to the
        // wakeup socket (the newer one) first, so a drain right after that wakeup often finds the
        // main socket empty: flushing then handed the main thread 2-4 times the batches (measured
        // at 1,600 exec/s: ~+15 µs of main-thread CPU per exec), against batches due by time.
        if (typeof r !== 'number') got = true;
      } else {
        got = receiveOnce(sock, true);
      }
      const now = performance.now();
      if (batch.count > 0 && (!got || now - stagingSince >= opts.batchMaxDelayMs)) {
        // Due by time while events keep coming: take what is queued already first. A process that
        // exec'd again before its first exec's /proc read has that later exec in the queue now,
        // and the first exec's record can still be flagged while it is in this batch.
        if (got) receiveOnce(sock, false);
        flush();
      }
      if (now - lastStats >= opts.netlinkStatsIntervalMs) {
        lastStats = now;
        refreshNetlinkStats(sock);
        post({ type: 'stats', counters: snapshot() });
      }
    }

    // Stop: unsubscribe first, then take what the kernel had already queued for us.
    unsubscribe(sock, wake);
    for (let i = 0; i < 100_000 && receiveOnce(sock, false); i++);
    flush();
    refreshNetlinkStats(sock);
    closeAll(sock, wake);
    post({ type: 'stopped', counters: snapshot() });
  } catch (err) {
    if (sock) {
      unsubscribe(sock, wake);
      closeAll(sock, wake);
    }
    const e = err instanceof CaptureError ? err : new CaptureError(`capture worker failed: ${String(err)}`, 'internal');
    post({ type: 'error', message: e.message, category: e.category, ...(e.code ? { code: e.code } : {}) });
  }
}

function closeAll(sock: ProcConnectorSocket, wake: ProcConnectorSocket | null): void {
  Atomics.store(control, CTL_FD, -1);
  Atomics.store(control, CTL_WAKE_FD, -1);
  sock.close();
  wake?.close();
}

run();
