import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executableOrigin } from '../../src/process/executable.js';

test('memfd and deleted executables from the kernel text of the exe link; others null', () => {
  assert.equal(executableOrigin('/memfd:payload (deleted)'), 'memfd');
  assert.equal(executableOrigin('/memfd: (deleted)'), 'memfd');
  assert.equal(executableOrigin('/tmp/x (deleted)'), 'deleted');
  assert.equal(executableOrigin('/usr/bin/sleep'), null);
  assert.equal(executableOrigin('/opt/memfd:not/at/start'), null);
  assert.equal(executableOrigin(null), null);
  assert.equal(executableOrigin(''), null);
});
