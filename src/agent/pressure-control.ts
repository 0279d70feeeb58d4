/**
 * Pressure control: measures how full the bounded queues are and how much memory is in use, feeds
 * the ladder, turns /proc fork reads off at "shed", and emits the storm records the pressure stage
 * closes. Re-read at most every tickMs, from the event path as well as from a timer: a deep backlog
 * of batches can starve timers for seconds, which is exactly when the ladder must move.
 */
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { AgentConfig } from '../config/schema.js';
import type { OtlpDelivery } from '../delivery/otlp-delivery.js';
import type { ProcEventSource } from '../kernel/source.js';
import type { AccountingLogRecordProcessor } from '../otel/accounting-processor.js';
import type { StormSummary } from '../pressure/aggregator.js';
import { collectNow, HeapGrowthGovernor } from '../pressure/heap-growth.js';
import { DEFAULT_LADDER, LEVELS } from '../pressure/ladder.js';
import { PressureStage } from '../pressure/pressure.js';
import { memoryInUse, memoryPressure, storePressure } from '../pressure/sources.js';
import { stormRecord } from '../telemetry/agent-records.js';
import type { Logger } from '../util/log.js';

/** The pressure stage as the configuration describes it. */
export function pressureStage(config: AgentConfig): PressureStage {
  const p = config.pressure;
  return new PressureStage({
    ladder: { ...DEFAULT_LADDER, upMs: p.upMs, downMs: p.downMs },
    stormWindowMs: p.stormWindowMs,
    stormSamples: p.stormSamples,
    stormMaxKeys: 1024,
    dropTypes: p.dropTypes,
    rateLimits: {
      parentExecutable: { ratePerSec: p.rateLimitPerParentExecutable, burst: 2 * p.rateLimitPerParentExecutable },
      container: { ratePerSec: p.rateLimitPerContainer, burst: 2 * p.rateLimitPerContainer },
      user: { ratePerSec: p.rateLimitPerUser, burst: 2 * p.rateLimitPerUser },
    },
  });
}

/** Queue pressure under which memory is all that holds the ladder up (the ladder's lowest way down). */
const RECLAIM_QUEUES_BELOW = DEFAULT_LADDER.down[0];
/** Fewest ms between two collections asked for to give memory back, and the most when they give little. */
const RECLAIM_EVERY_MS = 5000;
const RECLAIM_MAX_MS = 80_000;
/** A collection that gives back less than this share of the ceiling doubles the wait for the next. */
const RECLAIM_WORTH = 0.02;

export interface PressureSources {
  source: ProcEventSource;
  processors: readonly AccountingLogRecordProcessor[];
  otlp: OtlpDelivery | null;
}

export class PressureControl {
  private lastTick = 0;
  private timer: NodeJS.Timeout | null = null;
  private sources: PressureSources | null = null;
  /** What the last reading came from: the ladder's log line says what holds it up. */
  private sourceName = 'handoff';
  /** pressure.memoryLimitBytes and tickMs as now in effect (both live on reload). */
  private memoryLimitBytes: number;
  private tickMs: number;
  /** Holds V8's heap growth while memory counts as pressure (heap-growth.ts). */
  private readonly heapGrowth: HeapGrowthGovernor;
  /** When memory was last reclaimed by a memory-reducing collection (performance clock), and the wait before the next. */
  private lastReclaim = Number.NEGATIVE_INFINITY;
  private reclaimEveryMs = RECLAIM_EVERY_MS;

  constructor(
    readonly stage: PressureStage,
    private readonly config: AgentConfig,
    private readonly log: Logger,
    private readonly ownLogger: OtelLogger,
  ) {
    this.memoryLimitBytes = config.pressure.memoryLimitBytes;
    this.tickMs = config.pressure.tickMs;
    this.heapGrowth = new HeapGrowthGovernor(config.pressure.heapGrowthPercent);
  }

  /** For the pipeline's onBatchStart: ticks when due, even while a backlog starves the timer. */
  readonly onBatch = (nowMs: number): void => {
    if (this.sources !== null && nowMs - this.lastTick >= this.tickMs) this.tick(nowMs);
  };

  /** Starts measuring once the pipeline runs. */
  start(sources: PressureSources): void {
    this.sources = sources;
    this.restartTimer();
  }

  /** The live pressure keys of a reloaded configuration. */
  apply(next: AgentConfig): void {
    this.stage.ladder.setTiming(next.pressure.upMs, next.pressure.downMs);
    this.memoryLimitBytes = next.pressure.memoryLimitBytes;
    this.tickMs = next.pressure.tickMs;
    this.heapGrowth.setPercent(next.pressure.heapGrowthPercent);
    if (this.timer !== null) this.restartTimer();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Closes the open storm windows and emits their records (at stop). */
  drain(): void {
    this.emitStorms(this.stage.drain(performance.now()));
  }

  private restartTimer(): void {
    this.stop();
    this.timer = setInterval(() => {
      const nowMs = performance.now();
      if (nowMs - this.lastTick >= this.tickMs) this.tick(nowMs);
    }, this.tickMs);
    this.timer.unref();
  }

  /**
   * Pressure (0..1): how full the bounded queues are (the handoff read live from the shared
   * counter: the main thread's own view lags exactly when it is behind), and memory.
   */
  private measure(s: PressureSources): number {
    const c = this.config;
    let p = s.source.backlog() / c.capture.handoffMaxEvents;
    this.sourceName = 'handoff';
    for (const proc of s.processors) {
      const st = proc.stats();
      const q = (st.queued + st.inFlight) / c.batch.maxQueueSize;
      if (q > p) [p, this.sourceName] = [q, 'export queue'];
    }
    if (s.otlp) {
      const cap = c.delivery.spool ? c.delivery.spoolMaxBytes : c.delivery.memoryMaxBytes;
      const st = storePressure(s.otlp.delivery.store.stats().bytes / cap);
      if (st > p) [p, this.sourceName] = [st, 'delivery store'];
    }
    const fraction = memoryInUse(process.memoryUsage()) / this.memoryLimitBytes;
    const before = performance.now();
    if (this.heapGrowth.update(fraction)) {
      const ms = (performance.now() - before).toFixed(0);
      this.log.info(
        this.heapGrowth.holding
          ? `memory ${(fraction * 100).toFixed(0)} % of the ceiling: V8's heap growth held to ${this.heapGrowth.percent} % (a full collection now, ${ms} ms, sets the limit)`
          : `memory ${(fraction * 100).toFixed(0)} % of the ceiling: V8 chooses its heap growth again`,
      );
    }
    let m = memoryPressure(fraction);
    if (m > 0 && p <= RECLAIM_QUEUES_BELOW && this.stage.level > 0) m = this.reclaim(m);
    if (m > p) [p, this.sourceName] = [m, 'memory'];
    return p;
  }

  /**
   * Memory alone holds the ladder up while every queue is nearly empty: what a storm left is
   * mostly garbage and heap V8 has no reason to give back on an idle agent (no allocation, no
   * collection). Measured on Node 22 after a 100,000-fork storm: 191 MiB resident for as long as
   * it was watched (in CI over 180 s, the ladder held at "shed" throughout), 118 MiB after one
   * memory-reducing collection. So the agent asks for one, and reads memory again. When one gives
   * little back (the memory is really in use: a large process table), the next waits twice as
   * long, up to RECLAIM_MAX_MS: each costs 15–40 ms of the main thread.
   */
  private reclaim(pressure: number): number {
    const now = performance.now();
    if (now - this.lastReclaim < this.reclaimEveryMs) return pressure;
    this.lastReclaim = now;
    const before = memoryInUse(process.memoryUsage());
    collectNow(true);
    const after = memoryInUse(process.memoryUsage());
    const freed = before - after;
    this.reclaimEveryMs =
      freed < RECLAIM_WORTH * this.memoryLimitBytes ? Math.min(2 * this.reclaimEveryMs, RECLAIM_MAX_MS) : RECLAIM_EVERY_MS;
    const mib = (b: number): string => (b / 1048576).toFixed(0);
    this.log.debug(
      `memory alone holds the ladder at ${this.stage.level}: a memory-reducing collection took ${(performance.now() - now).toFixed(0)} ms, ${mib(before)} → ${mib(after)} MiB in use`,
    );
    return memoryPressure(after / this.memoryLimitBytes);
  }

  private tick(nowMs: number): void {
    const s = this.sources;
    if (s === null) return;
    this.lastTick = nowMs;
    const { change, storms } = this.stage.tick(this.measure(s), nowMs);
    if (change) {
      s.source.setShed(change.to >= 1);
      const verb = change.to > change.from ? 'up' : 'down';
      const why = change.pressure > 0 ? ` (${this.sourceName})` : '';
      this.log.warn(`pressure ${(change.pressure * 100).toFixed(0)} %${why}: ladder ${verb} to ${change.to} (${LEVELS[change.to]})`);
    }
    this.emitStorms(storms);
  }

  private emitStorms(storms: StormSummary[]): void {
    for (const st of storms) this.ownLogger.emit(stormRecord(st, this.stage.level));
  }
}
