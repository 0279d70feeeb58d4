import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nsToHrTime, WallClock } from '../../src/kernel/clock.js';

test('calibration brackets REALTIME between MONOTONIC reads and keeps the tightest', () => {
  // Fake clocks: monotonic advances 100 ns per read; realtime = monotonic + 1e18 exactly.
  let mono = 1000n;
  const read = (c: 0 | 1): bigint => {
    mono += 100n;
    return c === 1 ? mono : mono + 1_000_000_000_000_000_000n;
  };
  const now = 0;
  const clock = new WallClock(1000, read, () => now);
  // The realtime read happens 100 ns after the first monotonic read and 100 ns before the second:
  // the midpoint estimate is exact.
  assert.deepEqual(clock.toWall(5_000_000_000n), nsToHrTime(5_000_000_000n + 1_000_000_000_000_000_000n));
  assert.equal(clock.uncertaintyNs, 200n);
});

test('a clock step is followed after the recalibration interval', () => {
  let step = 0n;
  const read = (c: 0 | 1): bigint => (c === 1 ? 1_000n : 2_000n + step);
  let now = 0;
  const clock = new WallClock(1000, read, () => now);
  assert.equal(clock.offset(), 1000n);
  step = 5_000_000_000n; // wall clock jumps 5 s
  now = 999;
  assert.equal(clock.offset(), 1000n);
  now = 1000;
  assert.equal(clock.offset(), 5_000_001_000n);
});

test('the real clock maps now to within a few ms of Date.now()', () => {
  const clock = new WallClock();
  const [s, ns] = clock.toWall(clock.monotonicNs());
  const ms = s * 1000 + ns / 1e6;
  assert.ok(Math.abs(ms - Date.now()) < 5, `${ms} vs ${Date.now()}`);
  assert.ok(clock.uncertaintyNs < 1_000_000n);
});

test('nsToHrTime splits exactly beyond 2^53 ns', () => {
  assert.deepEqual(nsToHrTime(1_795_656_087_826_617_843n), [1_795_656_087, 826_617_843]);
});
