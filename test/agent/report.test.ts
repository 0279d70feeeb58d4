import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLoss, maskNames } from '../../src/agent/report.js';
import * as abi from '../../src/kernel/abi.js';
import { captureStats } from '../helpers/stats.js';

const stats = captureStats;

test('stop summary', () => {
  assert.match(describeLoss(stats({ delivered: 10, kernelDrops: 2, handoffDropped: 1 })), /^10 events delivered, 3 lost/);
});

test('mask names', () => {
  assert.equal(maskNames(abi.PROC_EVENT_ALL), 'all');
  assert.equal(maskNames(abi.PROC_EVENT_EXEC | abi.PROC_EVENT_NONZERO_EXIT), 'exec,exit(non-zero)');
});
