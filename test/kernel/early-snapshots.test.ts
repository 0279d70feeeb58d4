/**
 * The store of exec snapshots read at an exec wakeup, claimed by the main socket's copy of the exec.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EarlySnapshots, eventKey } from '../../src/kernel/early-snapshots.js';
import { type Attachment, ProcFile, ReadStatus } from '../../src/kernel/proc-files.js';

function snap(argv0: string): Attachment[] {
  return [{ file: ProcFile.cmdline, status: ReadStatus.ok, bytes: new TextEncoder().encode(`${argv0}\0`) }];
}

test('eventKey: distinct and exact for every cpu and the whole u32 seq range', () => {
  assert.notEqual(eventKey(0, 1), eventKey(1, 0));
  assert.notEqual(eventKey(1, 0xffffffff), eventKey(2, 0));
  assert.equal(eventKey(3, 0xffffffff) + 1, eventKey(4, 0));
  assert.ok(Number.isSafeInteger(eventKey(0x1fffff, 0xffffffff)));
  assert.equal(eventKey(0, -1), eventKey(0, 0xffffffff), 'a seq read as signed is the same event');
});

test('a snapshot is claimed once, by the same cpu and seq', () => {
  const s = new EarlySnapshots();
  const a = snap('curl');
  s.put(1, 500, a, 7n);
  assert.equal(s.take(0, 500), undefined, 'another cpu');
  assert.equal(s.take(1, 501), undefined, 'another seq');
  const got = s.take(1, 500);
  assert.equal(got?.attachments, a);
  assert.equal(got?.readNs, 7n, 'the read time travels with the snapshot');
  assert.equal(s.take(1, 500), undefined, 'claimed already');
  assert.deepEqual(s.counters, { stored: 1, matched: 1, expired: 0 });
});

test('unclaimed snapshots live through keepDrains drains, then are counted and forgotten', () => {
  const s = new EarlySnapshots(2, 100);
  s.put(0, 1, snap('a'), 7n);
  s.drained(); // the main socket did not have it yet (queued to the wakeup socket first)
  s.put(0, 2, snap('b'), 7n);
  assert.ok(s.take(0, 1), 'still there one drain later');
  s.drained();
  assert.equal(s.size, 1, 'seq 2 waits one drain');
  s.put(0, 3, snap('c'), 7n);
  s.drained();
  assert.equal(s.size, 1, 'seq 2 (stored two drains ago) is gone, seq 3 is not yet');
  assert.equal(s.take(0, 2), undefined);
  s.drained();
  assert.equal(s.size, 0);
  assert.deepEqual(s.counters, { stored: 3, matched: 1, expired: 2 });
});

test('never more than maxEntries: the oldest goes first, counted', () => {
  const s = new EarlySnapshots(2, 3);
  for (let seq = 0; seq < 5; seq++) s.put(0, seq, snap(`p${seq}`), 7n);
  assert.equal(s.size, 3);
  assert.equal(s.take(0, 0), undefined);
  assert.equal(s.take(0, 1), undefined);
  assert.ok(s.take(0, 4));
  assert.deepEqual(s.counters, { stored: 5, matched: 1, expired: 2 });
});
