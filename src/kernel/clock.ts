/**
 * Kernel timestamps (CLOCK_MONOTONIC ns) to wall-clock time with nanosecond precision.
 *
 * The offset REALTIME - MONOTONIC is measured by bracketing one CLOCK_REALTIME read between two
 * CLOCK_MONOTONIC reads and keeping the tightest of a few tries. It is measured again when older
 * than `recalibrateMs`, so NTP slews and clock steps are followed (the monotonic clock does not
 * see them; wall time does).
 */

import type { MonotonicToWall } from './decode.js';
import type { HrTime } from './events.js';
import { libc } from './libc.js';

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const NS_PER_S = 1_000_000_000n;

/** Reads a clock as nanoseconds. */
export type ClockReader = (clock: 0 | 1) => bigint;

function libcClockReader(): ClockReader {
  const c = libc();
  const ts = new BigInt64Array(2);
  return (clock) => {
    c.clockGettime(clock, ts);
    return (ts[0] as bigint) * NS_PER_S + (ts[1] as bigint);
  };
}

/** Splits wall-clock nanoseconds into OpenTelemetry HrTime. */
export function nsToHrTime(ns: bigint): HrTime {
  return [Number(ns / NS_PER_S), Number(ns % NS_PER_S)];
}

export class WallClock implements MonotonicToWall {
  private offsetNs = 0n;
  private calibratedAtMs = Number.NEGATIVE_INFINITY;
  /** Width of the bracket of the last calibration: the offset's uncertainty, in ns. */
  uncertaintyNs = 0n;

  constructor(
    private readonly recalibrateMs = 10_000,
    private readonly read: ClockReader = libcClockReader(),
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.calibrate();
  }

  /** Measures REALTIME - MONOTONIC now. */
  calibrate(): void {
    let best = -1n;
    let offset = 0n;
    for (let i = 0; i < 5; i++) {
      const m1 = this.read(CLOCK_MONOTONIC);
      const r = this.read(CLOCK_REALTIME);
      const m2 = this.read(CLOCK_MONOTONIC);
      const width = m2 - m1;
      if (best < 0n || width < best) {
        best = width;
        offset = r - (m1 + width / 2n);
      }
    }
    this.offsetNs = offset;
    this.uncertaintyNs = best;
    this.calibratedAtMs = this.nowMs();
  }

  /** Current offset (wall = monotonic + offset), recalibrating when stale. */
  offset(): bigint {
    if (this.nowMs() - this.calibratedAtMs >= this.recalibrateMs) this.calibrate();
    return this.offsetNs;
  }

  toWall(ktimeNs: bigint): HrTime {
    return nsToHrTime(ktimeNs + this.offset());
  }

  /** Current CLOCK_MONOTONIC in ns (the kernel's event clock). */
  monotonicNs(): bigint {
    return this.read(CLOCK_MONOTONIC);
  }
}
