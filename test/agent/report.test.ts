import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLoss, lossDelta, maskNames } from '../../src/agent/report.js';
import * as abi from '../../src/kernel/abi.js';
import type { CaptureStats } from '../../src/kernel/source.js';

function stats(over: Partial<CaptureStats> = {}): CaptureStats {
  return {
    datagrams: 0,
    delivered: 0,
    unknown: 0,
    acks: 0,
    malformed: { short: 0, truncated: 0, nlmsg_len: 0, nlmsg_error: 0, nlmsg_noop: 0, nlmsg_type: 0, cn_id: 0, cn_len: 0 },
    filtered: 0,
    handoffDropped: 0,
    inFlight: 0,
    enobufs: 0,
    seqGaps: 0,
    seqGapsExact: true,
    kernelDrops: 0,
    generated: 0,
    socketQueuedBytes: 0,
    ...over,
  };
}

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
