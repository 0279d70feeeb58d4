import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLoss, lossDelta, maskNames } from '../../src/agent/report.js';
import * as abi from '../../src/kernel/abi.js';
import { captureStats } from '../helpers/stats.js';

const stats = captureStats;

test('no loss, no line', () => {
  assert.equal(lossDelta(stats(), stats({ delivered: 100 })), null);
});

test('each loss cause is named with its count', () => {
  const now = stats({
    kernelDrops: 12,
    enobufs: 1,
    seqGaps: 12,
    handoffDropped: 5,
    malformed: { ...stats().malformed, cn_id: 2 },
  });
  const line = lossDelta(stats(), now) as string;
  assert.match(line, /12 dropped by the kernel/);
  assert.match(line, /1 ENOBUFS/);
  assert.match(line, /12 missing from kernel sequence numbers/);
  assert.match(line, /5 dropped between capture and main thread/);
  assert.match(line, /2 malformed datagrams skipped \(cn_id 2\)/);
});

test('seq gaps of a filtered subscription are not reported as loss', () => {
  assert.equal(lossDelta(stats(), stats({ seqGaps: 50, seqGapsExact: false })), null);
});

test('stop summary', () => {
  assert.match(describeLoss(stats({ delivered: 10, kernelDrops: 2, handoffDropped: 1 })), /^10 events delivered, 3 lost/);
});

test('mask names', () => {
  assert.equal(maskNames(abi.PROC_EVENT_ALL), 'all');
  assert.equal(maskNames(abi.PROC_EVENT_EXEC | abi.PROC_EVENT_NONZERO_EXIT), 'exec,exit(non-zero)');
});
