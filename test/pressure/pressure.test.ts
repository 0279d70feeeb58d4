import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcEvent } from '../../src/kernel/events.js';
import { StormAggregator } from '../../src/pressure/aggregator.js';
import { Ladder } from '../../src/pressure/ladder.js';
import { AGGREGATED, DROPPED_PRIORITY, DROPPED_RATE_LIMIT, PASS, PressureStage } from '../../src/pressure/pressure.js';
import { KeyedTokenBuckets, TokenBucket } from '../../src/pressure/token-bucket.js';
import { type EnrichedEvent, unknownProcess } from '../../src/process/model.js';

test('token bucket: burst, then the rate', () => {
  const b = new TokenBucket(10, 3, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  assert.equal(b.take(50), false, 'half a token after 50 ms');
  assert.equal(b.take(100), true, 'one token after 100 ms');
  assert.equal(b.take(100_000), true);
  assert.deepEqual([b.take(100_000), b.take(100_000), b.take(100_000)], [true, true, false], 'refill caps at the burst');
});

test('keyed buckets: separate keys, bounded key count', () => {
  const k = new KeyedTokenBuckets(1, 1, 2);
  assert.equal(k.take('a', 0), true);
  assert.equal(k.take('a', 0), false);
  assert.equal(k.take('b', 0), true);
  assert.equal(k.take('c', 0), true);
  assert.equal(k.size, 2);
});

test('ladder: climbs after upMs above a threshold, steps down after downMs below, holds in between', () => {
  const l = new Ladder({ up: [0.25, 0.5, 0.8], down: [0.1, 0.25, 0.5], upMs: 100, downMs: 1000 });
  assert.equal(l.update(0.3, 0), null);
  assert.equal(l.update(0.3, 50), null);
  assert.deepEqual(l.update(0.3, 100), { from: 0, to: 1, pressure: 0.3 });
  assert.equal(l.update(0.6, 200), null, 'the next level needs its own upMs');
  assert.deepEqual(l.update(0.6, 300), { from: 1, to: 2, pressure: 0.6 });
  l.update(0.9, 400);
  l.update(0.9, 500);
  assert.equal(l.level, 3);
  assert.equal(l.update(0.95, 600), null, 'no level above 3');
  // Hysteresis: 0.6 is below up[2] but above down[2]: level 3 holds.
  for (let t = 700; t < 5000; t += 100) l.update(0.6, t);
  assert.equal(l.level, 3);
  l.update(0.4, 5000);
  assert.equal(l.update(0.4, 5999), null);
  assert.deepEqual(l.update(0.4, 6000), { from: 3, to: 2, pressure: 0.4 });
  for (let t = 6100; t <= 9000; t += 100) l.update(0, t);
  assert.equal(l.level, 0, 'back to normal when the pressure is gone');
  assert.deepEqual(
    l.history.map((h) => h.to),
    [1, 2, 3, 2, 1, 0],
  );
});

test('ladder: a sudden high pressure climbs straight to the level it calls for, and comes down one level at a time', () => {
  const l = new Ladder({ up: [0.25, 0.5, 0.8], down: [0.1, 0.25, 0.5], upMs: 100, downMs: 1000 });
  l.update(0.6, 0);
  assert.deepEqual(l.update(0.6, 100), { from: 0, to: 2, pressure: 0.6 }, 'aggregate at once, not shed first');
  l.update(0.85, 200);
  assert.deepEqual(l.update(0.85, 300), { from: 2, to: 3, pressure: 0.85 });
  const m = new Ladder({ up: [0.25, 0.5, 0.8], down: [0.1, 0.25, 0.5], upMs: 100, downMs: 1000 });
  m.update(0.9, 0);
  assert.equal(m.update(0.9, 99), null, 'still upMs before any climb');
  assert.deepEqual(m.update(0.9, 100), { from: 0, to: 3, pressure: 0.9 });
  for (let t = 200; t <= 1200; t += 100) m.update(0, t);
  assert.equal(m.level, 2, 'one step down per downMs');
});

const hdr = (pid: number, sec: number) => ({ cpu: 0, seq: pid, ktimeNs: 0n, time: [sec, 0] as [number, number], pid, tgid: pid });
function ev(
  kind: 'fork' | 'exec' | 'exit' | 'comm' | 'uid',
  pid: number,
  opts: { exe?: string; parent?: string; thread?: boolean; container?: string } = {},
): EnrichedEvent {
  const e: ProcEvent =
    kind === 'fork'
      ? { ...hdr(pid, 100), kind, parentPid: 1, parentTgid: 1, isThread: opts.thread ?? false }
      : kind === 'exit'
        ? {
            ...hdr(pid, 101),
            kind,
            status: 0,
            exitCode: 0,
            signal: null,
            coreDumped: false,
            exitSignal: 17,
            parentPid: 1,
            parentTgid: 1,
            isThread: opts.thread ?? false,
          }
        : kind === 'comm'
          ? { ...hdr(pid, 100), kind, comm: 'x' }
          : kind === 'uid'
            ? { ...hdr(pid, 100), kind, ruid: 0, euid: 0 }
            : { ...hdr(pid, 100), kind };
  return {
    event: e,
    process: {
      ...unknownProcess(pid, 1),
      exe: opts.exe ?? '/usr/bin/true',
      parentEntityId: 'parent-1',
      containerId: opts.container ?? null,
      euid: 1000,
    },
    parent: { ...unknownProcess(1, 0), exe: opts.parent ?? '/usr/bin/make' },
    ancestors: [opts.parent ?? '/usr/bin/make'],
    previous: undefined,
    tracer: undefined,
    lifetimeNs: null,
  };
}

test('aggregator: one summary per parent and executable per window, with counts and samples', () => {
  const a = new StormAggregator(1000, 3, 100);
  for (let i = 0; i < 10; i++) {
    a.add(ev('fork', 100 + i), 0);
    a.add(ev('exec', 100 + i), 0);
    a.add(ev('exit', 100 + i), 0);
  }
  a.add(ev('exec', 500, { exe: '/usr/bin/cc1' }), 0);
  assert.deepEqual(a.flush(999), [], 'window still open');
  const out = a.flush(1000);
  assert.equal(out.length, 2);
  const t = out.find((s) => s.executable === '/usr/bin/true');
  assert.ok(t);
  assert.deepEqual(t.counts, { fork: 10, exec: 10, exit: 10, comm: 0, sid: 0 });
  assert.equal(t.total, 30);
  assert.deepEqual(t.samplePids, [100, 101, 102]);
  assert.equal(t.parentExecutable, '/usr/bin/make');
  assert.deepEqual(
    [t.first, t.last],
    [
      [100, 0],
      [101, 0],
    ],
  );
  assert.equal(a.aggregated, 31);
  assert.equal(a.open, 0);
});

test('aggregator: too many keys closes the oldest early (its record still goes out)', () => {
  const a = new StormAggregator(1000, 1, 2);
  a.add(ev('exec', 1, { exe: '/a' }), 0);
  a.add(ev('exec', 2, { exe: '/b' }), 0);
  const pushed = a.add(ev('exec', 3, { exe: '/c' }), 0);
  assert.equal(pushed.length, 1);
  assert.equal(pushed[0]?.executable, '/a');
  assert.equal(a.evictedBuckets, 1);
});

function stage(over: Partial<ConstructorParameters<typeof PressureStage>[0]> = {}): PressureStage {
  return new PressureStage({
    ladder: { up: [0.25, 0.5, 0.8], down: [0.1, 0.25, 0.5], upMs: 0, downMs: 0 },
    stormWindowMs: 1000,
    stormSamples: 5,
    stormMaxKeys: 100,
    dropTypes: ['fork', 'comm', 'sid'],
    rateLimits: {
      parentExecutable: { ratePerSec: 0, burst: 0 },
      container: { ratePerSec: 0, burst: 0 },
      user: { ratePerSec: 0, burst: 0 },
    },
    ...over,
  });
}

test('pressure stage: every event is exactly one of passed, aggregated, rate-limited, priority-dropped', () => {
  const p = stage({
    rateLimits: {
      parentExecutable: { ratePerSec: 0, burst: 0 },
      container: { ratePerSec: 1, burst: 2 },
      user: { ratePerSec: 0, burst: 0 },
    },
  });
  let n = 0;
  const decisions: number[] = [];
  const feed = (x: EnrichedEvent, now: number): void => {
    decisions.push(p.decide(x, now));
    n++;
  };
  // Level 0: everything passes, except what a rate limit stops (container c1: burst 2).
  feed(ev('exec', 1), 0);
  feed(ev('exec', 2, { container: 'c1' }), 0);
  feed(ev('exec', 3, { container: 'c1' }), 0);
  feed(ev('exec', 4, { container: 'c1' }), 0);
  assert.deepEqual(decisions, [PASS, PASS, PASS, DROPPED_RATE_LIMIT]);
  // Level 2: fork/exec/exit/comm/sid aggregate; privilege changes pass.
  p.tick(0.3, 0);
  p.tick(0.6, 1);
  assert.equal(p.level, 2);
  feed(ev('fork', 10), 2);
  feed(ev('exit', 10), 2);
  feed(ev('uid', 10), 2);
  assert.deepEqual(decisions.slice(4), [AGGREGATED, AGGREGATED, PASS]);
  // Level 3: low-priority types and threads are dropped; exec still aggregates.
  p.tick(0.9, 3);
  assert.equal(p.level, 3);
  feed(ev('fork', 11), 4);
  feed(ev('comm', 11), 4);
  feed(ev('exit', 12, { thread: true }), 4);
  feed(ev('exec', 11), 4);
  assert.deepEqual(decisions.slice(7), [DROPPED_PRIORITY, DROPPED_PRIORITY, DROPPED_PRIORITY, AGGREGATED]);
  const s = p.stats();
  assert.equal(s.passed + s.aggregated + s.dropped.rate_limit + s.dropped.priority, n, 'exact accounting');
  // Pressure gone: the ladder steps down and, leaving "aggregate", closes every window.
  p.tick(0, 5);
  const { storms } = p.tick(0, 6);
  assert.equal(p.level, 1);
  assert.equal(storms.length, 1);
  assert.equal(storms[0]?.total, 3);
  assert.deepEqual(storms[0]?.counts, { fork: 1, exec: 1, exit: 1, comm: 0, sid: 0 });
  assert.equal(p.stats().stormRecords, 1);
});
