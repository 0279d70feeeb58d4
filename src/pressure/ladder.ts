/**
 * The degradation ladder: how much work the agent does per event, driven by pressure (how full the
 * bounded queues are, and memory against its ceiling), with hysteresis so it does not flap.
 *
 *   0 normal     every event enriched and exported
 *   1 shed       forks are no longer snapshotted from /proc (exec still is)
 *   2 aggregate  repeated fork/exec/exit of one parent + executable become one cnproc.storm record
 *   3 drop       the lowest-priority event types are dropped (counted), exec and exit last
 *
 * Climbing: once pressure has stayed at or above the next level's `up` threshold for `upMs`, the
 * ladder goes straight to the highest level whose threshold the pressure then meets. One level per
 * `upMs` was too slow when a queue fills fast: a small spool filling during a collector outage
 * reached its cap (and dropped batches) before the ladder got to aggregate. Coming down is one
 * level at a time, each after pressure stays at or below that level's `down` threshold for `downMs`.
 */

export const LEVELS = ['normal', 'shed', 'aggregate', 'drop'] as const;
export type LevelName = (typeof LEVELS)[number];

export interface LadderOptions {
  /** Pressure (0..1) at which levels 1, 2, 3 are entered. */
  up: [number, number, number];
  /** Pressure at which levels 1, 2, 3 are left (below up: hysteresis). */
  down: [number, number, number];
  upMs: number;
  downMs: number;
}

export const DEFAULT_LADDER: LadderOptions = { up: [0.25, 0.5, 0.8], down: [0.1, 0.25, 0.5], upMs: 200, downMs: 5000 };

export interface LadderChange {
  from: number;
  to: number;
  pressure: number;
}

export class Ladder {
  level = 0;
  /** Transitions since start, for the log and tests. */
  readonly history: Array<LadderChange & { atMs: number }> = [];
  private aboveSince: number | null = null;
  private belowSince: number | null = null;

  private readonly opts: LadderOptions;

  constructor(opts: LadderOptions = DEFAULT_LADDER) {
    this.opts = { ...opts };
  }

  /** New dwell times (configuration reload); a climb or descent under way keeps its start time. */
  setTiming(upMs: number, downMs: number): void {
    this.opts.upMs = upMs;
    this.opts.downMs = downMs;
  }

  /** Feeds one pressure sample; returns the change it caused, if any. */
  update(pressure: number, nowMs: number): LadderChange | null {
    const up = this.level < 3 ? (this.opts.up[this.level] as number) : Number.POSITIVE_INFINITY;
    const down = this.level > 0 ? (this.opts.down[this.level - 1] as number) : Number.NEGATIVE_INFINITY;
    if (pressure >= up) {
      this.belowSince = null;
      this.aboveSince ??= nowMs;
      if (nowMs - this.aboveSince >= this.opts.upMs) {
        let to = this.level + 1;
        while (to < 3 && pressure >= (this.opts.up[to] as number)) to++;
        return this.move(to, pressure, nowMs);
      }
    } else if (pressure <= down) {
      this.aboveSince = null;
      this.belowSince ??= nowMs;
      if (nowMs - this.belowSince >= this.opts.downMs) return this.move(this.level - 1, pressure, nowMs);
    } else {
      this.aboveSince = null;
      this.belowSince = null;
    }
    return null;
  }

  private move(to: number, pressure: number, nowMs: number): LadderChange {
    const change = { from: this.level, to, pressure };
    this.level = to;
    this.aboveSince = null;
    this.belowSince = null;
    this.history.push({ ...change, atMs: nowMs });
    return change;
  }
}
