/**
 * ProcEventSource: the main-thread side of capture. Starts the capture worker, decodes the
 * batches it hands over into typed events, keeps the loss and decode counters, and guarantees the
 * kernel gets IGNORE however the process ends.
 */
import { Worker } from 'node:worker_threads';
import { defaultsOf } from '../config/section.js';
import * as abi from './abi.js';
import {
  type CaptureWorkerOptions,
  CTL_FD,
  CTL_INFLIGHT,
  CTL_SHED,
  CTL_SLOTS,
  CTL_STOP,
  CTL_SUBSCRIBED,
  CTL_WAKE_FD,
  type SubscriptionInfo,
  type WakeupMode,
  type WorkerCounters,
  type WorkerMessage,
  zeroWorkerCounters,
} from './capture-protocol.js';
import { WallClock } from './clock.js';
import { captureSection, namespaceReads, snapshotKeys } from './config.js';
import { decodeChecked, MALFORMED_REASONS, type MalformedReason, type MonotonicToWall } from './decode.js';
import { CaptureError } from './errors.js';
import { EVENT_TYPE_BITS, EVENT_TYPES, type EventType, eventMask, type ProcEvent } from './events.js';
import { BatchDecoder } from './handoff-codec.js';
import { libc } from './libc.js';
import type { NamespaceReads } from './proc-files.js';
import { sendMcast } from './socket.js';

/** Options of {@link ProcEventSource.start}. Every tuning value defaults to the config schema's default. */
export interface ProcEventSourceOptions {
  /** Called with each decoded batch, in kernel order per CPU. Keep it fast: it runs on the main thread. */
  onEvents: (events: ProcEvent[]) => void;
  /** Called when capture fails after start (the worker died, the socket broke). */
  onError?: (err: CaptureError) => void;
  /** Event types to subscribe to (default: all). */
  events?: readonly EventType[];
  /** Deliver only exits with non-zero status. */
  exitNonzeroOnly?: boolean;
  /** Deliver thread creation and thread exit events (default true); when false they are counted as filtered. */
  threads?: boolean;
  receiveBufferBytes?: number;
  recvBatch?: number;
  batchMaxEvents?: number;
  batchMaxDelayMs?: number;
  handoffMaxEvents?: number;
  ackTimeoutMs?: number;
  statsIntervalMs?: number;
  clockRecalibrateMs?: number;
  /** Nice value of the capture thread (default from the schema: -10). */
  threadNice?: number;
  /** What wakes the capture thread (default from the schema: 'every'); see the `capture.wakeup` setting. */
  wakeup?: WakeupMode;
  /**
   * /proc reads in the capture thread at receipt (attached to events as `procSnapshot`): the full
   * set for exec, stat for process forks. Default: on, as the config schema says.
   */
  snapshot?: { exec: boolean; fork: boolean; maxBytes: number; executableFile?: boolean; namespaces?: NamespaceReads };
  /** Clock conversion (default: a {@link WallClock}). */
  clock?: MonotonicToWall;
}

/**
 * Counters of the capture path. Identity (exact once stopped, when inFlight is 0):
 * datagrams = delivered + acks + malformed(total) + filtered + handoffDropped + inFlight.
 */
export interface CaptureStats {
  /** Datagrams read from the socket. */
  datagrams: number;
  /** Events handed to onEvents. */
  delivered: number;
  /** Of the delivered, events of a type this agent does not know. */
  unknown: number;
  acks: number;
  malformed: Record<MalformedReason, number>;
  /** Events received that the subscription did not ask for (legacy kernels, or during subscribe). */
  filtered: number;
  /** Dropped between capture thread and main thread because the main thread was too far behind. */
  handoffDropped: number;
  /** Received by the capture thread, not yet decoded. */
  inFlight: number;
  /** Batches the capture thread handed over (each wakes the main thread once): events per handoff say how well they are batched. */
  handoffs: number;
  /** recv ENOBUFS occurrences: the kernel queue overflowed (each one means lost events). */
  enobufs: number;
  /** Events lost before reaching us, from per-CPU seq gaps (exact only when every type is subscribed). */
  seqGaps: number;
  /** True when seqGaps counts loss exactly (every type subscribed, or a legacy kernel). */
  seqGapsExact: boolean;
  /**
   * The seq gaps that arose while the subscription was exact: loss. Unlike `seqGapsExact ? seqGaps
   * : 0` it never goes back, so a reload to a filtered subscription and back neither hides loss
   * nor turns the filtered period's gaps into loss.
   */
  seqGapsLost: number;
  /** The kernel's own drop count for our socket (/proc/net/netlink); -1 if unreadable. */
  kernelDrops: number;
  /** Messages (events, and acks on 5.2+) the kernel generated while we listened, as far as seq tells: received + seq gaps. */
  generated: number;
  /** Bytes waiting in the socket's receive queue at the last reading. */
  socketQueuedBytes: number;
  /** 'exec' wakeups: how often the exec-only socket woke the capture thread, and where exec snapshots were read. */
  wakeup: {
    execWakeups: number;
    /** Execs the wakeup socket returned after the main socket had delivered them (read once, at the drain). */
    wakeupsLate: number;
    /** Read at the wakeup, as soon as the exec happened. */
    snapshotsEarly: number;
    /** Read when the main socket's copy came (the wakeup socket had not returned that exec yet). */
    snapshotsLate: number;
    /** Read at a wakeup, but the main socket never had that exec (lost there: kernel loss). */
    snapshotsUnclaimed: number;
  };
  /**
   * Exec snapshots read after a later exec of the same process: `flagged` records carry
   * cnproc.exec.snapshot_superseded; `unflagged` ones were found too late to flag (counted only).
   */
  execSuperseded: { flagged: number; unflagged: number };
}

function zeroMalformed(): Record<MalformedReason, number> {
  const m = {} as Record<MalformedReason, number>;
  for (const r of MALFORMED_REASONS) m[r] = 0;
  return m;
}

const WORKER_URL = new URL('./capture-worker.js', import.meta.url);
/** Defaults of the options, from the config section (kernel/config.ts). */
const CAPTURE_DEFAULTS = defaultsOf(captureSection);
const SNAPSHOT_DEFAULTS = defaultsOf({ reload: 'restart', keys: snapshotKeys });

export class ProcEventSource {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  private readonly clock: MonotonicToWall;
  private readonly onEvents: (events: ProcEvent[]) => void;
  private readonly onError: ((err: CaptureError) => void) | undefined;
  /** Mask of types to deliver, and whether exits must be non-zero (userspace side of the filter). */
  private wantMask: number;
  private nonzeroOnly: boolean;
  private allTypes: boolean;
  private readonly threads: boolean;
  private info_: SubscriptionInfo | null = null;
  private worker_: WorkerCounters = zeroWorkerCounters();
  private delivered = 0;
  private unknown = 0;
  private acks = 0;
  private filtered = 0;
  private decoded = 0;
  private readonly malformed = zeroMalformed();
  private seqGapsLost = 0;
  private seqGapsSeen = 0;
  private readonly decoder = new BatchDecoder();
  private stopping: Promise<CaptureStats> | null = null;
  private finished = false;
  private readonly ready: Promise<ProcEventSource>;
  private readonly exitHook = (): void => this.emergencyUnsubscribe();

  private constructor(workerOpts: CaptureWorkerOptions, opts: ProcEventSourceOptions, wantMask: number, nonzeroOnly: boolean) {
    this.control = new Int32Array(workerOpts.control);
    this.onEvents = opts.onEvents;
    this.onError = opts.onError;
    this.wantMask = wantMask;
    this.nonzeroOnly = nonzeroOnly;
    this.threads = opts.threads ?? CAPTURE_DEFAULTS.threads;
    this.allTypes = wantMask >>> 0 === eventMask(EVENT_TYPES);
    this.clock = opts.clock ?? new WallClock(opts.clockRecalibrateMs ?? CAPTURE_DEFAULTS.clockRecalibrateMs);
    // Registered before the worker can subscribe, so no exit path leaves the kernel listener behind.
    process.on('exit', this.exitHook);
    this.worker = new Worker(WORKER_URL, { workerData: workerOpts, name: 'cnproc-capture' });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (msg: WorkerMessage) => {
        if (this.info_ === null) {
          if (msg.type === 'ready') {
            this.info_ = msg.info;
            resolve(this);
            return;
          }
          if (msg.type === 'error') {
            process.off('exit', this.exitHook);
            reject(new CaptureError(msg.message, msg.category, msg.code));
            return;
          }
        }
        // Batches that arrive before 'ready' (events queued while waiting for the ack) are
        // decoded like any other: onEvents was given up front.
        this.handle(msg);
      });
      this.worker.on('error', (err) => {
        const e = new CaptureError(`capture worker crashed: ${err.message}`, 'internal');
        if (this.info_ === null) {
          this.emergencyUnsubscribe();
          process.off('exit', this.exitHook);
          reject(e);
        } else this.fail(e);
      });
      this.worker.on('exit', () => {
        if (this.info_ !== null && !this.finished && !this.stopping) {
          this.fail(new CaptureError('capture worker exited unexpectedly', 'internal'));
        }
      });
    });
  }

  /**
   * Opens the proc connector, subscribes and starts delivering events. Rejects with a
   * {@link CaptureError} (category permission / unavailable / internal) when capture is impossible.
   */
  static start(opts: ProcEventSourceOptions): Promise<ProcEventSource> {
    const d = CAPTURE_DEFAULTS;
    const pd = SNAPSHOT_DEFAULTS;
    const types = opts.events ?? EVENT_TYPES;
    const nonzeroOnly = opts.exitNonzeroOnly ?? d.exitNonzeroOnly;
    const masks = subscriptionMasks(types, nonzeroOnly);
    if (masks === null) return Promise.reject(new CaptureError('no event types selected', 'internal'));
    const { mask, wantMask } = masks;
    const control = new Int32Array(new SharedArrayBuffer(CTL_SLOTS * 4));
    control[CTL_FD] = -1;
    control[CTL_WAKE_FD] = -1;
    const workerOpts: CaptureWorkerOptions = {
      receiveBufferBytes: opts.receiveBufferBytes ?? d.receiveBufferBytes,
      mask,
      recvBatch: opts.recvBatch ?? d.recvBatch,
      batchMaxEvents: opts.batchMaxEvents ?? d.batchMaxEvents,
      batchMaxDelayMs: opts.batchMaxDelayMs ?? d.batchMaxDelayMs,
      handoffMaxEvents: opts.handoffMaxEvents ?? d.handoffMaxEvents,
      ackTimeoutMs: opts.ackTimeoutMs ?? d.ackTimeoutMs,
      netlinkStatsIntervalMs: opts.statsIntervalMs ?? d.statsIntervalMs,
      threadNice: opts.threadNice ?? d.threadNice,
      wakeup: opts.wakeup ?? d.wakeup,
      snapshot: opts.snapshot ?? {
        exec: pd.enrich,
        fork: pd.enrich && pd.forkSnapshot,
        maxBytes: pd.maxCommandLineBytes,
        namespaces: namespaceReads(pd),
        executableFile: pd.executableFile,
      },
      control: control.buffer as SharedArrayBuffer,
    };
    return new ProcEventSource(workerOpts, opts, wantMask, nonzeroOnly).ready;
  }

  /**
   * Changes the subscription while running (configuration reload): the kernel gets a new LISTEN
   * with the new mask (6.6+; a legacy kernel keeps sending everything), and the agent-side filter
   * follows. Events of dropped types already queued are counted as filtered.
   */
  setEvents(types: readonly EventType[], exitNonzeroOnly: boolean): void {
    const masks = subscriptionMasks(types, exitNonzeroOnly);
    if (masks === null) throw new CaptureError('no event types selected', 'internal');
    this.wantMask = masks.wantMask;
    this.nonzeroOnly = exitNonzeroOnly;
    this.allTypes = masks.wantMask >>> 0 === eventMask(EVENT_TYPES);
    const info = this.info;
    if (info.mode === 'filtered' && Atomics.load(this.control, CTL_SUBSCRIBED) === 1) {
      const fd = Atomics.load(this.control, CTL_FD);
      const err = fd >= 0 ? sendMcast(libc(), fd, abi.PROC_CN_MCAST_LISTEN, masks.mask, 0) : 0;
      if (err !== 0) throw new CaptureError(`re-subscribing failed: errno ${err}`, 'internal');
      // The exec wakeup socket follows: silent (IGNORE) when execs are no longer wanted, so no
      // /proc is read for them; the main socket is then drained every batchMaxDelayMs.
      const wakeFd = Atomics.load(this.control, CTL_WAKE_FD);
      if (wakeFd >= 0) {
        const execs = (masks.mask & abi.PROC_EVENT_EXEC) !== 0;
        sendMcast(libc(), wakeFd, execs ? abi.PROC_CN_MCAST_LISTEN : abi.PROC_CN_MCAST_IGNORE, execs ? abi.PROC_EVENT_EXEC : null, 0);
      }
      this.info_ = { ...info, mask: masks.mask };
    }
  }

  /** Datagrams the capture thread has handed over and the main thread has not decoded yet, right now. */
  backlog(): number {
    return Atomics.load(this.control, CTL_INFLIGHT);
  }

  /** Sheds cost under pressure: while on, the capture thread skips /proc reads for forks. */
  setShed(on: boolean): void {
    Atomics.store(this.control, CTL_SHED, on ? 1 : 0);
  }

  /** How the kernel subscription was made (mode, mask, receive buffer obtained). */
  get info(): SubscriptionInfo {
    if (this.info_ === null) throw new Error('ProcEventSource is not started');
    return this.info_;
  }

  /** Takes the worker's counters; gaps found while the subscription is exact count as loss. */
  private takeCounters(w: WorkerCounters): void {
    const gaps = w.seqGaps - this.seqGapsSeen;
    if (gaps > 0 && this.exactGaps()) this.seqGapsLost += gaps;
    this.seqGapsSeen = w.seqGaps;
    this.worker_ = w;
  }

  private exactGaps(): boolean {
    return this.info_ !== null && this.info_.mask === abi.PROC_EVENT_ALL;
  }

  private handle(msg: WorkerMessage): void {
    switch (msg.type) {
      case 'batch':
        this.takeCounters(msg.counters);
        this.decodeBatch(msg.buf, msg.count);
        break;
      case 'stats':
        this.takeCounters(msg.counters);
        break;
      case 'stopped':
        this.takeCounters(msg.counters);
        this.finished = true;
        break;
      case 'error':
        this.fail(new CaptureError(msg.message, msg.category, msg.code));
        break;
      case 'ready':
        break;
    }
  }

  private decodeBatch(buf: ArrayBuffer, count: number): void {
    const r = this.decoder;
    const out: ProcEvent[] = [];
    r.start(buf, count);
    while (r.next()) {
      // The capture thread checked the headers; its verdict is trusted, not re-checked.
      if (r.malformed !== null) {
        this.malformed[r.malformed]++;
        continue;
      }
      const m = decodeChecked(r.view, r.dataOff, this.clock);
      if (m.kind === 'ack') {
        this.acks++;
        continue;
      }
      if (r.attachments !== null) m.procSnapshot = r.attachments;
      if (r.superseded && m.kind === 'exec') m.snapshotSuperseded = true;
      if (m.kind === 'unknown') {
        this.unknown++;
        out.push(m);
      } else if (this.wanted(m)) out.push(m);
      else this.filtered++;
    }
    this.decoded += count;
    Atomics.sub(this.control, CTL_INFLIGHT, count);
    this.delivered += out.length;
    if (out.length > 0) this.onEvents(out);
  }

  private wanted(e: Exclude<ProcEvent, { kind: 'unknown' }>): boolean {
    if (!this.threads && (e.kind === 'fork' || e.kind === 'exit') && e.isThread) return false;
    if (this.allTypes && !this.nonzeroOnly) return true;
    if ((EVENT_TYPE_BITS[e.kind] & this.wantMask) === 0) return false;
    return !(this.nonzeroOnly && e.kind === 'exit' && e.status === 0);
  }

  /** A snapshot of the counters. */
  stats(): CaptureStats {
    const w = this.worker_;
    return {
      datagrams: w.datagrams,
      delivered: this.delivered,
      unknown: this.unknown,
      acks: this.acks,
      malformed: { ...this.malformed },
      filtered: this.filtered,
      handoffDropped: w.handoffDropped,
      inFlight: w.datagrams - w.handoffDropped - this.decoded,
      handoffs: w.handoffs,
      enobufs: w.enobufs,
      seqGaps: w.seqGaps,
      seqGapsExact: this.exactGaps(),
      seqGapsLost: this.seqGapsLost,
      kernelDrops: w.netlinkDrops,
      generated: w.seqObserved + w.seqGaps,
      socketQueuedBytes: w.netlinkRmem,
      wakeup: {
        execWakeups: w.execWakeups,
        wakeupsLate: w.execWakeupsLate,
        snapshotsEarly: w.execSnapshotsEarly,
        snapshotsLate: w.execSnapshotsLate,
        snapshotsUnclaimed: w.execSnapshotsUnclaimed,
      },
      execSuperseded: { flagged: w.execSuperseded, unflagged: w.execSupersededUnflagged },
    };
  }

  /**
   * Unsubscribes (IGNORE), delivers what the kernel had already queued, closes the socket and
   * resolves with the final counters. Safe to call more than once.
   */
  stop(timeoutMs = 5000): Promise<CaptureStats> {
    if (this.stopping) return this.stopping;
    this.stopping = new Promise<CaptureStats>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        process.off('exit', this.exitHook);
        resolve(this.stats());
      };
      const timer = setTimeout(() => {
        // The worker did not stop in time: unsubscribe from here and end it.
        this.emergencyUnsubscribe();
        void this.worker.terminate().then(done, done);
      }, timeoutMs);
      this.worker.once('exit', done);
      Atomics.store(this.control, CTL_STOP, 1);
    });
    return this.stopping;
  }

  /**
   * Sends IGNORE synchronously from the calling thread if the subscription is still active.
   * For exit paths that cannot wait for {@link stop} (uncaught errors, process exit): without it
   * the kernel keeps generating events for a listener that is gone.
   */
  emergencyUnsubscribe(): void {
    emergencyIgnore(this.control);
  }

  private fail(err: CaptureError): void {
    this.emergencyUnsubscribe();
    if (this.onError) this.onError(err);
    else throw err;
  }
}

/**
 * The kernel mask for a set of types (every type: PROC_EVENT_ALL, which also lets acks through and
 * makes seq gaps exact; non-zero exits only: NONZERO_EXIT instead of EXIT), and the mask of types
 * the agent delivers. Null when no type is selected.
 */
export function subscriptionMasks(types: readonly EventType[], nonzeroOnly: boolean): { mask: number; wantMask: number } | null {
  let mask = eventMask(types);
  if (mask === 0) return null;
  const wantMask = mask;
  if (mask === eventMask(EVENT_TYPES) && !nonzeroOnly) mask = abi.PROC_EVENT_ALL;
  if (nonzeroOnly && (mask & abi.PROC_EVENT_EXIT) !== 0) mask = ((mask & ~abi.PROC_EVENT_EXIT) | abi.PROC_EVENT_NONZERO_EXIT) >>> 0;
  return { mask, wantMask };
}

/** IGNORE on the worker's fd, exactly once across threads (the CTL_SUBSCRIBED swap decides). */
function emergencyIgnore(control: Int32Array): void {
  if (Atomics.compareExchange(control, CTL_SUBSCRIBED, 1, 0) !== 1) return;
  for (const slot of [CTL_FD, CTL_WAKE_FD]) {
    const fd = Atomics.load(control, slot);
    if (fd >= 0) sendMcast(libc(), fd, abi.PROC_CN_MCAST_IGNORE, null, 0);
  }
}
