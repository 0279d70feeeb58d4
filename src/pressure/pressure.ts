/**
 * The pressure stage, between the filter and the records: rate limits per key, the degradation
 * ladder, storm aggregation and priority drops, with a count for every event it does not pass on.
 *
 * Accounting: every event given to decide() is exactly one of passed, aggregated,
 * dropped.rate_limit or dropped.priority.
 */
import type { EventType } from '../kernel/events.js';
import type { EnrichedEvent } from '../process/model.js';
import { StormAggregator, type StormSummary } from './aggregator.js';
import { Ladder, type LadderChange, type LadderOptions } from './ladder.js';
import { KeyedTokenBuckets } from './token-bucket.js';

export interface RateLimit {
  /** Events per second per key; 0 turns the limit off. */
  ratePerSec: number;
  burst: number;
}

export interface PressureOptions {
  ladder: LadderOptions;
  stormWindowMs: number;
  stormSamples: number;
  stormMaxKeys: number;
  /** Types dropped at the top level, lowest priority first; thread events are always among them. */
  dropTypes: readonly EventType[];
  rateLimits: { parentExecutable: RateLimit; container: RateLimit; user: RateLimit };
}

export const PASS = 0;
export const AGGREGATED = 1;
export const DROPPED_RATE_LIMIT = 2;
export const DROPPED_PRIORITY = 3;
export type Decision = typeof PASS | typeof AGGREGATED | typeof DROPPED_RATE_LIMIT | typeof DROPPED_PRIORITY;

export interface PressureStats {
  level: number;
  passed: number;
  aggregated: number;
  dropped: { rate_limit: number; priority: number };
  stormRecords: number;
  transitions: number;
}

const MAX_KEYS = 4096;

export class PressureStage {
  readonly ladder: Ladder;
  private readonly aggregator: StormAggregator;
  private readonly limits: Array<[KeyedTokenBuckets, (x: EnrichedEvent) => string | null]> = [];
  private readonly dropTypes: ReadonlySet<EventType>;
  private passed = 0;
  private droppedRate = 0;
  private droppedPriority = 0;
  private stormRecords = 0;
  /** Storm summaries pushed out early (key limit), waiting for the next tick. */
  private pending: StormSummary[] = [];

  constructor(opts: PressureOptions) {
    this.ladder = new Ladder(opts.ladder);
    this.aggregator = new StormAggregator(opts.stormWindowMs, opts.stormSamples, opts.stormMaxKeys);
    this.dropTypes = new Set(opts.dropTypes);
    const { parentExecutable, container, user } = opts.rateLimits;
    if (parentExecutable.ratePerSec > 0) {
      this.limits.push([
        new KeyedTokenBuckets(parentExecutable.ratePerSec, parentExecutable.burst, MAX_KEYS),
        (x) => x.parent?.exe ?? x.ancestors[0] ?? null,
      ]);
    }
    if (container.ratePerSec > 0)
      this.limits.push([new KeyedTokenBuckets(container.ratePerSec, container.burst, MAX_KEYS), (x) => x.process?.containerId ?? null]);
    if (user.ratePerSec > 0) {
      this.limits.push([
        new KeyedTokenBuckets(user.ratePerSec, user.burst, MAX_KEYS),
        (x) => (x.process?.euid !== null && x.process?.euid !== undefined ? String(x.process.euid) : null),
      ]);
    }
  }

  get level(): number {
    return this.ladder.level;
  }

  /** What happens to one (filtered-in) event. */
  decide(x: EnrichedEvent, nowMs: number): Decision {
    for (let i = 0; i < this.limits.length; i++) {
      const [buckets, keyOf] = this.limits[i] as [KeyedTokenBuckets, (x: EnrichedEvent) => string | null];
      const key = keyOf(x);
      if (key !== null && !buckets.take(key, nowMs)) {
        this.droppedRate++;
        return DROPPED_RATE_LIMIT;
      }
    }
    const level = this.ladder.level;
    if (level >= 3) {
      const e = x.event;
      const thread = (e.kind === 'fork' || e.kind === 'exit') && e.isThread;
      if (thread || (e.kind !== 'unknown' && this.dropTypes.has(e.kind))) {
        this.droppedPriority++;
        return DROPPED_PRIORITY;
      }
    }
    if (level >= 2 && StormAggregator.eligible(x)) {
      const pushed = this.aggregator.add(x, nowMs);
      if (pushed.length > 0) this.pending.push(...pushed);
      return AGGREGATED;
    }
    this.passed++;
    return PASS;
  }

  /**
   * Feeds a pressure sample (0..1) to the ladder and closes due storm windows (all of them when the
   * ladder leaves "aggregate"). Returns the ladder change and the storm records to emit.
   */
  tick(pressure: number, nowMs: number): { change: LadderChange | null; storms: StormSummary[] } {
    const change = this.ladder.update(pressure, nowMs);
    const all = change !== null && change.to < 2;
    const storms = [...this.pending, ...this.aggregator.flush(nowMs, all)];
    this.pending = [];
    this.stormRecords += storms.length;
    return { change, storms };
  }

  /** Closes every open window (at stop). */
  drain(nowMs: number): StormSummary[] {
    const storms = [...this.pending, ...this.aggregator.flush(nowMs, true)];
    this.pending = [];
    this.stormRecords += storms.length;
    return storms;
  }

  stats(): PressureStats {
    return {
      level: this.ladder.level,
      passed: this.passed,
      aggregated: this.aggregator.aggregated,
      dropped: { rate_limit: this.droppedRate, priority: this.droppedPriority },
      stormRecords: this.stormRecords,
      transitions: this.ladder.history.length,
    };
  }
}
