import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeqGapTracker } from '../../src/kernel/seq-gaps.js';

test('consecutive seqs per CPU are not gaps; jumps are', () => {
  const t = new SeqGapTracker();
  assert.equal(t.observe(0, 10), 0);
  assert.equal(t.observe(1, 500), 0);
  assert.equal(t.observe(0, 11), 0);
  assert.equal(t.observe(0, 15), 3);
  assert.equal(t.observe(1, 501), 0);
  assert.equal(t.observe(1, 510), 8);
  assert.equal(t.gaps, 11);
  assert.equal(t.observed, 6);
  assert.equal(t.generated, 17);
});

test('the 32-bit counter wrapping is not a gap', () => {
  const t = new SeqGapTracker();
  t.observe(0, 0xffffffff);
  assert.equal(t.observe(0, 0), 0);
  assert.equal(t.observe(0, 2), 1);
  assert.equal(t.gaps, 1);
});

test('a seq going backwards is counted as out of order, not loss', () => {
  const t = new SeqGapTracker();
  t.observe(3, 100);
  assert.equal(t.observe(3, 90), 0);
  assert.equal(t.observe(3, 90), 0);
  assert.equal(t.outOfOrder, 2);
  assert.equal(t.gaps, 0);
});

test('passed: at or before the last seq observed on that cpu, across the u32 wrap', () => {
  const t = new SeqGapTracker();
  assert.equal(t.passed(0, 5), false, 'nothing observed yet');
  t.observe(0, 10);
  assert.equal(t.passed(0, 10), true);
  assert.equal(t.passed(0, 9), true);
  assert.equal(t.passed(0, 11), false);
  assert.equal(t.passed(1, 3), false, 'another cpu');
  t.observe(1, 0xfffffffe);
  t.observe(1, 1); // wrapped
  assert.equal(t.passed(1, 0xffffffff), true);
  assert.equal(t.passed(1, 2), false);
});
