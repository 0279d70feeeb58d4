import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { processEntityId } from '../../src/process/identity.js';
import { sha256Hex } from '../../src/util/sha256.js';

test('sha256Hex is the SHA-256 digest in hex, as createHash gives it (entity ids must not change)', () => {
  for (const s of ['', 'a', '0b1e7f3c-5d7a-4c39-9d4a-1f0a2b3c4d5e:4242:123456', 'é/1', 'x'.repeat(1000)]) {
    assert.equal(sha256Hex(s), createHash('sha256').update(s).digest('hex'), s);
  }
  // A known value: the id of pid 1 started at tick 1 in a fixed boot.
  assert.equal(
    processEntityId('00000000-0000-0000-0000-000000000000', 1, 1),
    createHash('sha256').update('00000000-0000-0000-0000-000000000000:1:1').digest('hex').slice(0, 32),
  );
});
