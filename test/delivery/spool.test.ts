import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { BatchStore, BatchStoreStats } from '../../src/delivery/batch-store.js';
import { DiskSpool, SEGMENT_HEADER_BYTES } from '../../src/delivery/disk-spool.js';
import { MemoryStore } from '../../src/delivery/memory-store.js';

/**
 * Behaviour every BatchStore must share, run against the in-memory store and the disk spool (with
 * both fsync policies). Disk-only behaviour (restart, corruption, locking) is in disk-spool.test.ts.
 */

const root = mkdtempSync(join(tmpdir(), 'cnproc-spool-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

interface Impl {
  name: string;
  /** Bytes a batch costs beyond its payload. */
  overhead: number;
  make(maxBytes: number): BatchStore;
}

/**
 * Waits for the disk spool's queued writes: with fsync always it offers a batch only once it is on
 * disk (with never, at once; in memory, always at once).
 */
function settle(s: BatchStore): Promise<void> {
  return s instanceof DiskSpool ? s.flush() : Promise.resolve();
}

const impls: Impl[] = [
  { name: 'MemoryStore', overhead: 0, make: (maxBytes) => new MemoryStore({ maxBytes }) },
  {
    name: 'DiskSpool (fsync never)',
    overhead: SEGMENT_HEADER_BYTES,
    make: (maxBytes) => DiskSpool.open({ dir: join(root, `s${++dirs}`), maxBytes, fsync: 'never' }),
  },
  {
    name: 'DiskSpool (fsync always)',
    overhead: SEGMENT_HEADER_BYTES,
    make: (maxBytes) => DiskSpool.open({ dir: join(root, `s${++dirs}`), maxBytes, fsync: 'always' }),
  },
];

/** A payload whose bytes say which batch it is, so a mix-up cannot go unnoticed. */
function payload(tag: number, size = 100): Uint8Array {
  return new Uint8Array(size).fill(tag & 0xff);
}

/** appended + foundAtOpen = held + acked + droppedOldest + corrupt + writeFailed, for batches and records. */
function assertBalanced(s: BatchStoreStats): void {
  for (const k of ['batches', 'records'] as const) {
    const held = k === 'batches' ? s.batches : s.records;
    assert.equal(
      s.appended[k] + s.foundAtOpen[k],
      held + s.acked[k] + s.droppedOldest[k] + s.corrupt[k] + s.writeFailed[k],
      `${k} balance: ${JSON.stringify(s)}`,
    );
  }
}

/** Drains the store through peek/ack, returning the payload tags in delivery order (bounded by `max`). */
function drain(store: BatchStore, max = 100): number[] {
  const tags: number[] = [];
  for (let i = 0; i < max; i++) {
    const b = store.peek();
    if (b === null) return tags;
    tags.push(b.payload[0] ?? -1);
    assert.equal(store.ack(b.id), true);
  }
  assert.fail(`store still not empty after ${max} batches`);
}

for (const impl of impls) {
  describe(impl.name, () => {
    test('FIFO: peek returns the oldest until acked; fields round-trip', async () => {
      const s = impl.make(1_000_000);
      try {
        assert.equal(s.peek(), null);
        const before = Date.now();
        const ids = [
          s.append(3, 'protobuf', payload(1)),
          s.append(5, 'json', payload(2, 7), 'gzip'),
          s.append(0, 'protobuf', payload(3, 0), 'none'),
        ];
        assert.ok(ids.every((id) => typeof id === 'number'));
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => (a ?? 0) - (b ?? 0)),
          'ids increase',
        );
        assert.equal(new Set(ids).size, 3);

        await settle(s);
        const a = s.peek();
        assert.ok(a);
        assert.equal(a.id, ids[0]);
        assert.equal(a.records, 3);
        assert.equal(a.encoding, 'protobuf');
        assert.equal(a.compression, 'none', 'uncompressed unless told');
        assert.deepEqual(Buffer.from(a.payload), Buffer.from(payload(1)));
        assert.ok(a.createdMs >= before && a.createdMs <= Date.now());
        assert.equal(s.peek()?.id, a.id, 'peek does not consume');
        assert.equal(s.ack(a.id), true);
        assert.equal(s.ack(a.id), false, 'second ack of the same id');

        const b = s.peek();
        assert.equal(b?.id, ids[1]);
        assert.equal(b?.encoding, 'json');
        assert.equal(b?.compression, 'gzip');
        assert.equal(b?.records, 5);
        assert.equal(b?.payload.byteLength, 7);
        assert.equal(s.ack(b?.id ?? -1), true);

        const c = s.peek();
        assert.equal(c?.id, ids[2]);
        assert.equal(c?.payload.byteLength, 0, 'empty payload is a valid batch');
        assert.equal(c?.compression, 'none');
        assert.equal(s.ack(c?.id ?? -1), true);
        assert.equal(s.peek(), null);

        const st = s.stats();
        assert.deepEqual(
          { batches: st.batches, bytes: st.bytes, records: st.records, appended: st.appended, acked: st.acked },
          { batches: 0, bytes: 0, records: 0, appended: { batches: 3, records: 8 }, acked: { batches: 3, records: 8 } },
        );
        assertBalanced(st);
      } finally {
        await s.close();
      }
    });

    test('ack of a batch that is not the oldest removes only that one', async () => {
      const s = impl.make(1_000_000);
      try {
        const ids = [1, 2, 3, 4].map((t) => s.append(t, 'protobuf', payload(t)));
        assert.equal(s.ack(ids[1] ?? -1), true);
        assert.equal(s.ack(ids[2] ?? -1), true);
        assert.equal(s.ack(12345), false, 'unknown id');
        const st = s.stats();
        assert.equal(st.batches, 2);
        assert.equal(st.records, 1 + 4);
        assert.equal(st.bytes, 2 * (100 + impl.overhead));
        await settle(s);
        assert.deepEqual(drain(s), [1, 4]);
        assertBalanced(s.stats());
      } finally {
        await s.close();
      }
    });

    test('size cap drops the oldest batches with exact counts', async () => {
      const per = 100 + impl.overhead;
      const s = impl.make(3 * per + per - 1); // room for 3 batches, not 4
      try {
        for (let t = 1; t <= 5; t++) assert.notEqual(s.append(t * 10, 'protobuf', payload(t)), null);
        const st = s.stats();
        assert.equal(st.batches, 3);
        assert.equal(st.bytes, 3 * per);
        assert.equal(st.records, 30 + 40 + 50);
        assert.deepEqual(st.droppedOldest, { batches: 2, records: 10 + 20 });
        assert.deepEqual(st.refusedOversize, { batches: 0, records: 0 });
        assertBalanced(st);
        await settle(s);
        assert.deepEqual(drain(s), [3, 4, 5]);
      } finally {
        await s.close();
      }
    });

    test('a larger batch drops as many of the oldest as needed, and no more', async () => {
      const per = 100 + impl.overhead;
      const s = impl.make(4 * per);
      try {
        for (let t = 1; t <= 4; t++) s.append(1, 'protobuf', payload(t));
        // One byte more than two batches' room: three of the four must go.
        s.append(7, 'json', payload(9, 2 * per + 1 - impl.overhead));
        const st = s.stats();
        assert.deepEqual(st.droppedOldest, { batches: 3, records: 3 });
        assert.equal(st.bytes, per + 2 * per + 1);
        assertBalanced(st);
        await settle(s);
        assert.deepEqual(drain(s), [4, 9]);
      } finally {
        await s.close();
      }
    });

    test('a single batch larger than maxBytes is refused and counted; the rest stay', async () => {
      const s = impl.make(1000);
      try {
        s.append(2, 'protobuf', payload(1));
        assert.equal(s.append(9, 'protobuf', payload(2, 1001 - impl.overhead)), null);
        assert.notEqual(s.append(4, 'protobuf', payload(3, 1000 - impl.overhead - 100 - impl.overhead)), null, 'exactly fills the cap');
        const st = s.stats();
        assert.deepEqual(st.droppedOldest, { batches: 1, records: 9 });
        assert.deepEqual(st.refusedOversize, { batches: 1, records: 9 });
        assert.equal(st.lastError, `batch of 9 records refused: 1001 bytes exceed the store's maxBytes of 1000`);
        assert.equal(st.bytes, 1000);
        assert.equal(st.batches, 2);
        assertBalanced(st);
        await settle(s);
        assert.deepEqual(drain(s), [1, 3]);
      } finally {
        await s.close();
      }
    });

    test('a batch dropped by the cap while being sent: its ack reports false', async () => {
      const per = 100 + impl.overhead;
      const s = impl.make(2 * per);
      try {
        s.append(1, 'protobuf', payload(1));
        await settle(s);
        const sending = s.peek();
        assert.ok(sending);
        s.append(1, 'protobuf', payload(2));
        s.append(1, 'protobuf', payload(3));
        assert.equal(s.ack(sending.id), false);
        assert.equal(s.stats().acked.batches, 0);
        await settle(s);
        assert.deepEqual(drain(s), [2, 3]);
        assertBalanced(s.stats());
      } finally {
        await s.close();
      }
    });

    test('bad arguments throw RangeError and count nothing', async () => {
      const s = impl.make(1000);
      try {
        assert.throws(() => s.append(-1, 'protobuf', payload(1)), { name: 'RangeError', message: /records must be an integer/ });
        assert.throws(() => s.append(1.5, 'protobuf', payload(1)), RangeError);
        assert.throws(() => s.append(2 ** 32, 'protobuf', payload(1)), RangeError);
        assert.throws(() => s.append(1, 'xml' as 'json', payload(1)), { name: 'RangeError', message: /encoding must be/ });
        assert.throws(() => s.append(1, 'json', 'text' as unknown as Uint8Array), { name: 'RangeError', message: /Uint8Array/ });
        assert.throws(() => s.append(1, 'json', payload(1), 'br' as 'gzip'), { name: 'RangeError', message: /compression must be/ });
        assert.equal(s.stats().appended.batches, 0);
        assert.equal(s.peek(), null);
      } finally {
        await s.close();
      }
      assert.throws(() => impl.make(0), { name: 'RangeError', message: /maxBytes must be a positive integer/ });
    });

    test('after close: stats still work, other calls throw; close is idempotent', async () => {
      const s = impl.make(1000);
      s.append(1, 'protobuf', payload(1));
      await s.close();
      await s.close();
      assert.equal(s.stats().appended.batches, 1);
      assert.throws(() => s.append(1, 'protobuf', payload(1)), /closed/);
      assert.throws(() => s.peek(), /closed/);
      assert.throws(() => s.ack(1), /closed/);
    });

    test('many batches: order kept through interleaved appends and acks', async () => {
      const s = impl.make(10_000_000);
      try {
        const delivered: number[] = [];
        let next = 0;
        // Bounded: 40 rounds of 3 appends and 2 acks, then a drain.
        for (let round = 0; round < 40; round++) {
          for (let k = 0; k < 3; k++) s.append(1, 'protobuf', payload(next++ % 256, 10));
          await settle(s);
          for (let k = 0; k < 2; k++) {
            const b = s.peek();
            assert.ok(b);
            delivered.push(b.payload[0] ?? -1);
            s.ack(b.id);
          }
        }
        await settle(s);
        delivered.push(...drain(s, 200));
        assert.deepEqual(
          delivered,
          Array.from({ length: 120 }, (_, i) => i % 256),
        );
        assertBalanced(s.stats());
      } finally {
        await s.close();
      }
    });
  });
}

test('payload bytes are preserved exactly (random 150 KB)', async () => {
  for (const impl of impls) {
    const s = impl.make(10_000_000);
    try {
      const p = randomBytes(150 * 1024);
      s.append(500, 'protobuf', p);
      await settle(s);
      assert.ok(Buffer.from(s.peek()?.payload ?? []).equals(p), impl.name);
    } finally {
      await s.close();
    }
  }
});
