/**
 * pressure.heapGrowthPercent: with a fixed growth factor V8 collects old space near its live size
 * instead of letting it grow up to 4× first. The mechanism runs in its own Node process per case,
 * since the flag is process-wide: a live set of ~30 MB, then records-like garbage that survives its
 * scavenges, is promoted and dies in old space (what a storm does to the agent's heap). The
 * governor's hold and release points are plain logic.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { collectNow, HeapGrowthGovernor, setHeapGrowth } from '../../src/pressure/heap-growth.js';

const MODULE = new URL('../../src/pressure/heap-growth.js', import.meta.url).href;

const WORKLOAD = `
import { getHeapSpaceStatistics } from 'node:v8';
const { setHeapGrowth } = await import(process.argv[1]);
setHeapGrowth(Number(process.argv[2]));
const live = [];
for (let i = 0; i < 120; i++) live.push(new Array(32768).fill(i));
globalThis.gc();
const ring = new Array(2000);
let maxOld = 0;
for (let i = 0; i < 60000; i++) {
  ring[i % 2000] = new Array(1200).fill(i);
  if (i % 200 === 0) maxOld = Math.max(maxOld, getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size);
}
process.stdout.write(String(maxOld / 1048576));
`;

/** The largest old space (MiB) the workload reached with the given growth percent. */
function maxOldSpaceMiB(percent: number): number {
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', WORKLOAD, MODULE, String(percent)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

test('a 30 % growth factor keeps old space near the live set; V8 alone lets it grow about 4×', () => {
  const dynamic = maxOldSpaceMiB(0);
  const fixed = maxOldSpaceMiB(30);
  // ~30 MB live + a 20 MB ring of garbage in flight: 1.3 × 50 ≈ 65 MB at most, where V8's own
  // factor went past 110 MB on this machine.
  assert.ok(fixed < 80, `old space peaked at ${fixed.toFixed(1)} MiB with 30 %`);
  assert.ok(dynamic > fixed * 1.4, `V8's own factor: ${dynamic.toFixed(1)} MiB, fixed: ${fixed.toFixed(1)} MiB`);
});

/**
 * The same storm-like garbage under V8's own factor, then the factor is held (30 %) halfway: the
 * largest old space after that point, with and without a full collection when the hold starts.
 * Started without --expose-gc, as the agent is.
 */
const LATE_HOLD = `
import { getHeapSpaceStatistics } from 'node:v8';
const { collectNow, setHeapGrowth } = await import(process.argv[1]);
const collect = process.argv[2] === 'collect';
const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size;
const live = [];
for (let i = 0; i < 120; i++) live.push(new Array(32768).fill(i));
const ring = new Array(2000);
let maxOld = 0;
for (let i = 0; i < 80000; i++) {
  if (i === 40000) {
    setHeapGrowth(30);
    if (collect) collectNow();
    maxOld = old();
  }
  ring[i % 2000] = new Array(1200).fill(i);
  if (i > 40000 && i % 200 === 0) maxOld = Math.max(maxOld, old());
}
process.stdout.write(JSON.stringify({ maxOld: maxOld / 1048576, gcVisible: typeof globalThis.gc }));
`;

function lateHold(collect: boolean): { maxOld: number; gcVisible: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', LATE_HOLD, MODULE, collect ? 'collect' : 'no'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { maxOld: number; gcVisible: string };
}

test('a hold that starts late needs a full collection at once: the limit V8 set before stands until the next', () => {
  const late = lateHold(false);
  const now = lateHold(true);
  assert.ok(now.maxOld < 80, `old space peaked at ${now.maxOld.toFixed(1)} MiB after the hold with a collection`);
  assert.ok(late.maxOld > now.maxOld * 1.3, `without: ${late.maxOld.toFixed(1)} MiB, with: ${now.maxOld.toFixed(1)} MiB`);
  // The collection is made without leaving \`gc\` to the program's own code.
  assert.equal(now.gcVisible, 'undefined');
});

test('collectNow, called again, reuses its collector and still leaves no gc behind', () => {
  const hadGc = typeof (globalThis as { gc?: unknown }).gc;
  collectNow();
  collectNow();
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, hadGc);
});

test('a negative or fractional percent is refused with the value named', () => {
  assert.throws(() => setHeapGrowth(-1), /whole number ≥ 0, got -1/);
  assert.throws(() => setHeapGrowth(2.5), /got 2\.5/);
});

/** Governors that log the percents they apply into `set` and count the collections they ask for, all into one record. */
function recording(): { set: number[]; collections: () => number; governor: (percent: number) => HeapGrowthGovernor } {
  const set: number[] = [];
  let n = 0;
  return {
    set,
    collections: () => n,
    governor: (percent) =>
      new HeapGrowthGovernor(
        percent,
        (p) => set.push(p),
        () => n++,
      ),
  };
}

test('the governor holds the factor from half the ceiling and lets go under 40 %', () => {
  const { set, collections, governor } = recording();
  const g = governor(50);
  assert.equal(g.update(0.3), false);
  assert.equal(g.update(0.49), false);
  assert.equal(g.update(0.5), true);
  assert.equal(g.holding, true);
  // Between the two points nothing changes, either way (a storm's memory swings).
  assert.equal(g.update(0.42), false);
  assert.equal(g.update(0.7), false);
  assert.equal(g.update(0.39), true);
  assert.equal(g.holding, false);
  assert.equal(g.update(0.45), false);
  assert.deepEqual(set, [50, 0]);
  // One full collection each time the hold starts (V8 reads the factor only when it sets a limit).
  assert.equal(collections(), 1);
  g.update(0.6);
  assert.equal(collections(), 2);
});

test('a reload changes the held factor at once; 0 releases it and never holds again', () => {
  const { set, collections, governor } = recording();
  const g = governor(50);
  g.update(0.8);
  g.setPercent(30);
  assert.equal(collections(), 2, 'a new held factor is applied with a collection too');
  assert.equal(g.holding, true);
  g.setPercent(0);
  assert.equal(g.holding, false);
  assert.equal(g.update(0.9), false);
  assert.deepEqual(set, [50, 30, 0]);
  // Not holding: a new percent waits for memory to come up.
  const h = governor(0);
  h.setPercent(40);
  assert.deepEqual(set, [50, 30, 0]);
  h.update(0.6);
  assert.deepEqual(set, [50, 30, 0, 40]);
  assert.equal(collections(), 3);
});

test('a memory-reducing collection gives the heap a storm left back, without --expose-gc', () => {
  // In a child, started as the agent is: 60 MB of objects that die, then the collection the agent
  // asks for when memory alone holds the ladder up (agent/pressure-control.ts).
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { collectNow } = await import(process.argv[1]);
       let keep = [];
       for (let i = 0; i < 600; i++) keep.push(new Array(12000).fill(i));
       const before = process.memoryUsage().heapTotal;
       keep = null;
       collectNow(true);
       process.stdout.write(JSON.stringify({ before, after: process.memoryUsage().heapTotal, gc: typeof globalThis.gc }));`,
      MODULE,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const { before, after, gc } = JSON.parse(r.stdout) as { before: number; after: number; gc: string };
  // The memory-reducing kind (V8 12+, Node 22) gives back ~95 %; a plain full collection ~65 %.
  assert.ok(after < before / 2, `heap ${(before / 1048576).toFixed(0)} → ${(after / 1048576).toFixed(0)} MiB`);
  assert.equal(gc, 'undefined');
});
