import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unknownProcess } from '../../src/process/model.js';
import { ProcessTable } from '../../src/process/table.js';

test('bounded: least recently used goes first, counted', () => {
  const t = new ProcessTable(3);
  for (const pid of [1, 2, 3]) t.set(unknownProcess(pid, null));
  t.get(1); // 1 is now the most recent
  t.set(unknownProcess(4, null));
  assert.equal(t.size, 3);
  assert.equal(t.peek(2), undefined, '2 was least recently used');
  assert.ok(t.peek(1) && t.peek(3) && t.peek(4));
  assert.equal(t.evicted, 1);
  assert.equal(t.delete(3), true);
  assert.equal(t.evicted, 1, 'a delete is not an eviction');
});

test('replacing an entry does not grow the table', () => {
  const t = new ProcessTable(2);
  t.set(unknownProcess(1, null));
  t.set({ ...unknownProcess(1, null), exe: '/bin/x' });
  assert.equal(t.size, 1);
  assert.equal(t.peek(1)?.exe, '/bin/x');
});
