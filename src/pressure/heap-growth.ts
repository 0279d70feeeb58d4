/**
 * How far V8 lets the agent's JavaScript heap grow past what a full collection left alive, held
 * tight while memory counts as pressure.
 *
 * After each mark-compact V8 sets the next limit at live size × a factor it picks from collection
 * speed against allocation speed: up to 4× while a storm allocates fast. In a fork storm the live
 * heap is 15–40 MB, but records and decoded events survive two scavenges (they wait for their
 * batch), are promoted and die in old space. With V8's factor, a collection that happened to find
 * 37 MB alive let old space grow to ~150 MB before the next one, and resident memory reached
 * 271 MiB against the 256 MiB ceiling (docs/benchmarks.md, "Memory in a fork storm"). A fixed
 * factor bounds that, but collects more often: 30 % cost 40 % more CPU in a storm, 50 % 15–40 %,
 * 100 % (the default: at most twice the live heap) within the runs' noise. So the factor is fixed
 * only while memory in use is past half the ceiling (where sources.ts starts to count it as
 * pressure), and V8 chooses again once it is back under 40 %.
 *
 * V8 reads the flag each time it computes a limit (after every mark-compact), for every isolate
 * (capture and hasher threads too). So setting it alone is late: the limit V8 chose at its last
 * mark-compact, before memory got here, stands until the heap reaches it, and when that collection
 * came early in a storm (4× a burst's live set) the heap still grew past 150 MB and resident memory
 * past the ceiling (in about one storm test of eight). When the hold starts, the governor therefore
 * asks for one full collection at once, which computes the next limit with the held factor. Only
 * the agent's own process does any of this (PressureControl): the library API leaves a host
 * program's heap alone.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MEMORY_COUNTS_FROM } from './sources.js';

/** Memory in use over the ceiling under which V8 chooses again (hysteresis: a storm's memory swings by tens of MB). */
const RELEASE_BELOW = 0.4;

/** Sets V8's heap growth factor to 1 + percent / 100; 0 gives V8 its own dynamic choice back. */
export function setHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growth percent must be a whole number ≥ 0, got ${percent}`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** V8's gc extension: no argument, a full collection; with options, the kind asked for. */
type GcFunction = (options?: { type: 'major'; execution: 'sync'; flavor: 'regular' | 'last-resort' }) => void;

let fullCollection: GcFunction | null = null;

/**
 * One full (mark-compact) collection of this thread's heap, now. Node offers no call for it
 * without starting with --expose-gc, which the agent cannot require of every way it is started:
 * the flag is set for as long as it takes to make one context that has `gc`, then unset, so no
 * other code sees it. `memoryReducing`: V8's last-resort kind, which also shrinks the young
 * generation and hands pooled pages back to the kernel (measured after a storm on Node 22: the
 * regular kind left 188 MiB in use, this one 115 MiB; 15–40 ms against 10–25). Where V8 has no such
 * kind, a plain full collection.
 */
export function collectNow(memoryReducing = false): void {
  if (fullCollection === null) {
    const own = (globalThis as { gc?: GcFunction }).gc;
    if (typeof own === 'function') fullCollection = own;
    else {
      setFlagsFromString('--expose-gc');
      try {
        fullCollection = runInNewContext('gc') as GcFunction;
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
  }
  if (memoryReducing && LAST_RESORT_KIND) fullCollection({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  else fullCollection();
}

/**
 * Whether this V8 takes the last-resort kind: V8 12 (Node 22) does; V8 11 (Node 20) takes the
 * options object but collects nothing with it (measured: heap 103 → 103 MB, where a plain call
 * gave 102 → 37), so Node 20 gets the plain full collection.
 */
const LAST_RESORT_KIND = Number(process.versions.v8.split('.')[0]) >= 12;

/** Holds the heap growth factor while memory is high; `percent` 0 leaves V8 alone throughout. */
export class HeapGrowthGovernor {
  private held = false;

  constructor(
    private heldPercent: number,
    private readonly apply: (percent: number) => void = setHeapGrowth,
    /** Makes V8 compute its limit now (collectNow); called each time a factor starts to hold. */
    private readonly recompute: () => void = collectNow,
  ) {}

  /** The percent the factor is held to while memory is high. */
  get percent(): number {
    return this.heldPercent;
  }

  /** Whether the factor is held now. */
  get holding(): boolean {
    return this.held;
  }

  /** A new pressure.heapGrowthPercent (reload); takes effect at once if the factor is held. */
  setPercent(percent: number): void {
    this.heldPercent = percent;
    if (this.held) {
      this.held = percent > 0;
      this.apply(percent);
      if (this.held) this.recompute();
    }
  }

  /** From memory in use over the ceiling; returns true when the hold changed. */
  update(fraction: number): boolean {
    const hold = this.heldPercent > 0 && (this.held ? fraction >= RELEASE_BELOW : fraction >= MEMORY_COUNTS_FROM);
    if (hold === this.held) return false;
    this.held = hold;
    this.apply(hold ? this.heldPercent : 0);
    if (hold) this.recompute();
    return true;
  }
}
