import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inInitialUserNamespace, isInitialPidNamespace } from '../../src/kernel/diagnose.js';

test('initial user namespace: identity uid_map', () => {
  assert.equal(inInitialUserNamespace('         0          0 4294967295\n'), true);
  assert.equal(inInitialUserNamespace('         0     100000      65536\n'), false);
  assert.equal(inInitialUserNamespace(''), false);
});

test('initial PID namespace: the kernel-fixed inode', () => {
  assert.equal(isInitialPidNamespace('pid:[4026531836]'), true);
  assert.equal(isInitialPidNamespace('pid:[4026532301]'), false);
});
