/**
 * Process lifetimes as spans: one open span per traced process (tgid), keyed and bounded like the
 * process table, fed with every enriched event in kernel order. It decides each span's ids at the
 * process's start (or first sight), so the log records of that process can carry them long before
 * the span is exported at exit.
 *
 * Plain data only: an ended span goes to `onEnd`, which builds the OpenTelemetry span
 * (readable-span.ts). Per event this is a Map lookup and a few field writes; nothing here
 * allocates per event except the first Context of a span, which is cached on it.
 */
import { type Context, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import type { HrTime } from '../kernel/events.js';
import type { EnrichedEvent, ProcessInfo } from '../process/model.js';
import { processSpanId, processTraceId } from './ids.js';
import { forkRootRules, hasUntracedParent, isKernelThread, type RootReason, type RootRules, ruleRoot } from './roots.js';

/** An exec inside a process: a span event. */
export interface ExecMark {
  readonly time: HrTime;
  /** The process entry right after the exec (new executable and command line). */
  readonly process: ProcessInfo;
  /** The exec's /proc read came after a later exec: `process` shows that later program (kernel/exec-reads.ts). */
  readonly superseded: boolean;
}

/** The span of a running process (or the current part of it, see `segment`). */
export interface OpenSpan {
  readonly tgid: number;
  traceId: string;
  spanId: string;
  /** null: the span is the root of its trace. */
  parentSpanId: string | null;
  /** How this span's trace began: its own reason when it is a root, else inherited from the parent span. */
  rootRule: RootReason;
  /** The trace and parent span the process was forked under, when a root rule matched only later (setsid, exec). */
  rerootedFrom: { traceId: string; spanId: string } | null;
  /** The parent's container when the span was created (the container rule compares against it). */
  readonly parentContainerId: string | null;
  /** When the process started: fork time, else boot time + start ticks, else first sight. */
  readonly processStart: HrTime;
  /** 0: the span from the process start; n ≥ 1: the n-th continuation (traces.snapshotIntervalMs). */
  segment: number;
  /** Start of this span (processStart for segment 0, else its segment boundary). */
  start: HrTime;
  /** The latest entry of the process. */
  process: ProcessInfo;
  execs: ExecMark[];
  droppedExecs: number;
  /** Context for log records (created on first use, then reused). */
  context: Context | undefined;
}

export interface TrackerOptions {
  rules: RootRules;
  /** Most open spans; beyond it the least recently active is dropped (counted as evicted). */
  maxOpenSpans: number;
  /** Most exec span events per span; more are counted as dropped. */
  maxEventsPerSpan: number;
  /** > 0: a process is exported in parts of this length (see docs/traces.md); 0: once, at exit. */
  snapshotIntervalMs: number;
  /** A process the tracker has no span for (the enricher's table, which the /proc scan seeded). */
  lookup: (tgid: number) => ProcessInfo | undefined;
  /**
   * Receives each finished span: `exit` is the exit event, undefined for a part of a long-lived
   * process that continues. Called synchronously; the span must not be kept after the call.
   */
  onEnd: (span: OpenSpan, end: HrTime, exit: EnrichedEvent | undefined) => void;
}

/** Counters; every span started is ended, continued, evicted, replaced, or still open. */
export interface TrackerStats {
  open: number;
  started: number;
  /** Spans ended by their process's exit. */
  ended: number;
  /** Parts of long-lived processes exported before the exit. */
  continued: number;
  /** Dropped to stay under maxOpenSpans (rebuilt with the same ids when the process is seen again). */
  evicted: number;
  /** Dropped because their pid turned up as a new process: the exit was lost (kernel drop). */
  replaced: number;
  /** Spans that became a trace root after their start (setsid, exec). */
  rerooted: number;
  /** Exec events beyond maxEventsPerSpan. */
  droppedEvents: number;
}

/** How far up a chain of unseen ancestors spans are built lazily before the rest is cut off. */
const MAX_ANCESTRY = 64;

const NS_PER_MS = 1_000_000;

function hrMs(t: HrTime): number {
  return t[0] * 1000 + t[1] / NS_PER_MS;
}

/** t + ms, exact to the nanosecond for whole milliseconds. */
export function addMs(t: HrTime, ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  let sec = t[0] + s;
  let ns = t[1] + (ms - s * 1000) * NS_PER_MS;
  if (ns >= 1e9) {
    sec += 1;
    ns -= 1e9;
  }
  return [sec, ns];
}

export class ProcessSpanTracker {
  private readonly open = new Map<number, OpenSpan>();
  private readonly counters: Omit<TrackerStats, 'open'> = {
    started: 0,
    ended: 0,
    continued: 0,
    evicted: 0,
    replaced: 0,
    rerooted: 0,
    droppedEvents: 0,
  };

  /** The rules a fork's own snapshot is judged by (roots.ts, forkRootRules). */
  private readonly forkRules: RootRules;

  constructor(private readonly opts: TrackerOptions) {
    this.forkRules = forkRootRules(opts.rules);
  }

  stats(): TrackerStats {
    return { open: this.open.size, ...this.counters };
  }

  /** The open span of a pid, without touching it (tests, docs). */
  peek(tgid: number): OpenSpan | undefined {
    return this.open.get(tgid);
  }

  /**
   * Applies one event (every event, in kernel order, before any filter: the tree must be whole)
   * and returns the Context its log record carries, or undefined when the process is not traced.
   */
  observe(x: EnrichedEvent): Context | undefined {
    const e = x.event;
    switch (e.kind) {
      case 'fork': {
        if (e.isThread || x.process === undefined) return this.contextOf(this.ensure(e.tgid, x.process, e.time, 0));
        // A new process: a span already open for its pid belonged to one whose exit was lost.
        if (this.open.delete(e.tgid)) this.counters.replaced++;
        return this.contextOf(this.create(x.process, e.time, 0, this.forkRules));
      }
      case 'exec': {
        const s = this.ensure(e.tgid, x.process, e.time, 0);
        if (s === undefined) return undefined;
        if (x.process !== undefined) {
          if (s.execs.length < this.opts.maxEventsPerSpan)
            s.execs.push({ time: e.time, process: x.process, superseded: e.snapshotSuperseded === true });
          else {
            s.droppedExecs++;
            this.counters.droppedEvents++;
          }
          this.checkRoot(s);
        }
        return this.contextOf(s);
      }
      case 'sid': {
        const s = this.ensure(e.tgid, x.process, e.time, 0);
        if (s !== undefined && x.process !== undefined) this.checkRoot(s);
        return this.contextOf(s);
      }
      case 'exit': {
        const s = this.ensure(e.tgid, x.process, e.time, 0);
        if (e.isThread || s === undefined) return this.contextOf(s);
        const ctx = this.contextOf(s);
        this.open.delete(e.tgid);
        this.counters.ended++;
        this.opts.onEnd(s, e.time, x);
        return ctx;
      }
      default:
        return this.contextOf(this.ensure(e.tgid, x.process, e.time, 0));
    }
  }

  /**
   * Exports the finished parts of long-lived processes (traces.snapshotIntervalMs): events roll a
   * busy process's span over as they come; this catches the quiet ones. O(open spans).
   */
  sweep(now: HrTime): void {
    if (this.opts.snapshotIntervalMs <= 0) return;
    const nowMs = hrMs(now);
    for (const s of this.open.values()) this.roll(s, nowMs);
  }

  /** Forgets every open span (agent stop): the next run rebuilds them with the same ids. Returns how many. */
  clear(): number {
    const n = this.open.size;
    this.open.clear();
    return n;
  }

  private contextOf(s: OpenSpan | undefined): Context | undefined {
    if (s === undefined) return undefined;
    s.context ??= trace.setSpanContext(ROOT_CONTEXT, {
      traceId: s.traceId,
      spanId: s.spanId,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: false,
    });
    return s.context;
  }

  /** The open span of `tgid` (touched), else one built from `info` or the process table. */
  private ensure(tgid: number, info: ProcessInfo | undefined, now: HrTime, depth: number): OpenSpan | undefined {
    const s = this.open.get(tgid);
    if (s !== undefined) {
      if (info !== undefined && s.process.entityId !== null && info.entityId !== null && info.entityId !== s.process.entityId) {
        // The pid now names another process: the one this span was for exited unseen.
        this.open.delete(tgid);
        this.counters.replaced++;
        return this.create(info, now, depth);
      }
      if (info !== undefined) s.process = info;
      this.open.delete(tgid);
      this.open.set(tgid, s);
      if (this.opts.snapshotIntervalMs > 0) this.roll(s, hrMs(now));
      return s;
    }
    const p = info ?? this.opts.lookup(tgid);
    return p === undefined ? undefined : this.create(p, now, depth);
  }

  private create(p: ProcessInfo, now: HrTime, depth: number, rules = this.opts.rules): OpenSpan | undefined {
    if (isKernelThread(p)) return undefined;
    const parent = !hasUntracedParent(p) && depth < MAX_ANCESTRY ? this.ensure(p.ppid as number, undefined, now, depth + 1) : undefined;
    // A root names the rule that would have made it one anyway; 'parent' only when none does.
    // (Its trace is its own whichever rule is named, so the fork rules need not apply here.)
    const reason: RootReason | null =
      parent === undefined
        ? (ruleRoot(p, null, 'parent', this.opts.rules) ?? 'parent')
        : ruleRoot(p, parent.process.containerId, parent.rootRule, rules);
    const processStart = p.startTime ?? now;
    const segment = this.segmentAt(processStart, hrMs(now));
    const s: OpenSpan = {
      tgid: p.tgid,
      traceId: reason !== null || parent === undefined ? processTraceId(p.entityId) : parent.traceId,
      spanId: processSpanId(p.entityId, segment),
      parentSpanId: reason !== null || parent === undefined ? null : parent.spanId,
      rootRule: reason ?? (parent as OpenSpan).rootRule,
      rerootedFrom: null,
      parentContainerId: parent?.process.containerId ?? null,
      processStart,
      segment,
      start: segment === 0 ? processStart : addMs(processStart, segment * this.opts.snapshotIntervalMs),
      process: p,
      execs: [],
      droppedExecs: 0,
      context: undefined,
    };
    this.open.set(p.tgid, s);
    this.counters.started++;
    while (this.open.size > this.opts.maxOpenSpans) {
      this.open.delete(this.open.keys().next().value as number);
      this.counters.evicted++;
    }
    return s;
  }

  /** Makes `s` a trace root when a rule matches its new state (setsid, exec). */
  private checkRoot(s: OpenSpan): void {
    const r = ruleRoot(s.process, s.parentContainerId, s.rootRule, this.opts.rules);
    if (r === null) return;
    if (s.parentSpanId === null) {
      // Already a root: only remember the rule (an outermost listed executable keeps inner ones in).
      s.rootRule = r;
      return;
    }
    s.rerootedFrom = { traceId: s.traceId, spanId: s.parentSpanId };
    s.traceId = processTraceId(s.process.entityId);
    s.parentSpanId = null;
    s.rootRule = r;
    s.context = undefined;
    this.counters.rerooted++;
  }

  /** Which part of its process a span starting now is: boundaries are whole intervals after the process start. */
  private segmentAt(processStart: HrTime, nowMs: number): number {
    const every = this.opts.snapshotIntervalMs;
    return every > 0 ? Math.max(0, Math.floor((nowMs - hrMs(processStart)) / every)) : 0;
  }

  /** Ends the current part of `s` at the last boundary before `nowMs` and continues with the next. */
  private roll(s: OpenSpan, nowMs: number): void {
    const n = this.segmentAt(s.processStart, nowMs);
    if (n <= s.segment) return;
    const boundary = addMs(s.processStart, n * this.opts.snapshotIntervalMs);
    this.counters.continued++;
    this.opts.onEnd(s, boundary, undefined);
    s.segment = n;
    s.start = boundary;
    s.spanId = processSpanId(s.process.entityId, n);
    s.execs = [];
    s.droppedExecs = 0;
    s.context = undefined;
  }
}
