import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryInUse, memoryPressure, storePressure } from '../../src/pressure/sources.js';

test('memory pressure: none below half the ceiling, at most "aggregate" until 95 %', () => {
  assert.equal(memoryPressure(0.3), 0);
  assert.equal(memoryPressure(0.5), 0);
  assert.ok(memoryPressure(0.6) < 0.25, 'normal at 60 %');
  assert.ok(memoryPressure(0.65) > 0.25 && memoryPressure(0.65) < 0.5, 'shed at 65 %');
  assert.ok(memoryPressure(0.8) >= 0.5 && memoryPressure(0.8) < 0.8, 'aggregate, not drop');
  assert.equal(memoryPressure(0.94), 0.79);
  assert.equal(memoryPressure(0.95), 1);
});

test("memory in use leaves out V8's committed but free heap", () => {
  // The shape measured after a storm: 152 MB resident, 67 MB heap of which 15 MB in use.
  const MB = 1_048_576;
  assert.equal(memoryInUse({ rss: 152 * MB, heapTotal: 67 * MB, heapUsed: 15 * MB }), 100 * MB);
  assert.equal(memoryInUse({ rss: 100 * MB, heapTotal: 15 * MB, heapUsed: 15 * MB }), 100 * MB);
  // heapUsed can pass heapTotal for a moment (counted at different times): never more than rss.
  assert.equal(memoryInUse({ rss: 100 * MB, heapTotal: 15 * MB, heapUsed: 16 * MB }), 100 * MB);
  const m = process.memoryUsage();
  const live = memoryInUse(m);
  assert.ok(live > 0 && live <= m.rss && live >= m.rss - m.heapTotal, `in use ${live} of ${m.rss}`);
});

test('the delivery store weighs from half full: shed, aggregate and drop before the cap', () => {
  assert.equal(storePressure(0), 0);
  assert.equal(storePressure(0.5), 0);
  assert.equal(storePressure(0.625), 0.25);
  assert.equal(storePressure(0.75), 0.5);
  assert.equal(storePressure(0.9), 0.8);
  assert.equal(storePressure(1), 1);
  assert.equal(storePressure(1.2), 1);
});
