/**
 * A randomized model test of the disk spool, in the manner of Vector's disk buffer tests: random
 * sequences of append / peek / ack, with crashes at random points — between calls (kill -9), in the
 * middle of an append (a temp file left before the rename) and a power cut that tears the newest
 * segment (fsync never) — run against the disk spool and, as the model, the in-memory store. After
 * every step the two must hold the same batches in the same order, with the same bytes and counts;
 * after every reopen the spool's counters must balance.
 *
 * The in-memory store counts payload bytes and the spool whole segment files, so the model is given
 * each payload with SEGMENT_HEADER_BYTES of padding in front: both then make room by the same rule.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { BatchStoreStats, PayloadEncoding, StoredBatch } from '../../src/delivery/batch-store.js';
import { DiskSpool, SEGMENT_HEADER_BYTES } from '../../src/delivery/disk-spool.js';
import { MemoryStore } from '../../src/delivery/memory-store.js';

const root = mkdtempSync(join(tmpdir(), 'cnproc-spool-model-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** mulberry32: the same sequence for the same seed, so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertBalanced(s: BatchStoreStats, where: string): void {
  for (const k of ['batches', 'records'] as const) {
    const held = k === 'batches' ? s.batches : s.records;
    assert.equal(
      s.appended[k] + s.foundAtOpen[k],
      held + s.acked[k] + s.droppedOldest[k] + s.corrupt[k] + s.writeFailed[k],
      `${where}: ${k} balance ${JSON.stringify(s)}`,
    );
  }
}

const segName = (id: number): string => `${String(id).padStart(16, '0')}.seg`;

interface Run {
  ops: number;
  crashes: number;
  torn: number;
  tempFiles: number;
  dropped: number;
}

function runSeed(seed: number, steps: number): Run {
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const dir = join(root, `seed-${seed}`);
  const maxBytes = 20_000 + int(30_000);
  let disk = DiskSpool.open({ dir, maxBytes, fsync: 'never' });
  const model = new MemoryStore({ maxBytes });
  /** Model id → spool id of the same batch, and back. */
  const toDisk = new Map<number, number>();
  const toModel = new Map<number, number>();
  /** Model ids held, oldest first, and each one's payload size: drops are oldest first, so this follows the model. */
  const held: number[] = [];
  const sizes = new Map<number, number>();
  const follow = (): void => {
    while (held.length > model.stats().batches) held.shift();
  };
  /**
   * After a crash: the spool's ids are handles of one process lifetime (a reopened spool continues
   * after the highest segment it finds, so the id of a deleted newest segment comes back). The
   * model's ids of batches no longer held stop meaning anything on disk, as for a restarted sender.
   */
  const open = (): DiskSpool => {
    for (const [mid, did] of toDisk) {
      if (!held.includes(mid)) {
        toDisk.delete(mid);
        if (toModel.get(did) === mid) toModel.delete(did);
      }
    }
    return DiskSpool.open({ dir, maxBytes, fsync: 'never' });
  };
  const run: Run = { ops: 0, crashes: 0, torn: 0, tempFiles: 0, dropped: 0 };
  const where = (step: number, op: string): string => `seed ${seed}, step ${step} (${op})`;

  const same = (d: StoredBatch | null, m: StoredBatch | null, w: string): void => {
    if (m === null) {
      assert.equal(d, null, `${w}: the spool has a batch the model does not`);
      return;
    }
    assert.ok(d, `${w}: the model has batch ${m.id}, the spool none`);
    assert.equal(toModel.get(d.id), m.id, `${w}: spool batch ${d.id} is not the model's ${m.id}`);
    assert.equal(d.records, m.records, w);
    assert.equal(d.encoding, m.encoding, w);
    assert.deepEqual(Buffer.from(d.payload), Buffer.from(m.payload.subarray(SEGMENT_HEADER_BYTES)), `${w}: payload`);
  };
  const agree = (w: string): void => {
    const d = disk.stats();
    const m = model.stats();
    assert.equal(d.batches, m.batches, `${w}: batches held`);
    assert.equal(d.records, m.records, `${w}: records held`);
    assert.equal(d.bytes, m.bytes, `${w}: bytes held`);
    assertBalanced(d, w);
  };

  for (let step = 0; step < steps; step++) {
    run.ops++;
    const r = rnd();
    if (r < 0.45) {
      const records = int(60);
      const encoding: PayloadEncoding = rnd() < 0.8 ? 'protobuf' : 'json';
      const body = new Uint8Array(int(4000));
      for (let i = 0; i < body.length; i += 97) body[i] = int(256);
      const padded = new Uint8Array(SEGMENT_HEADER_BYTES + body.length);
      padded.set(body, SEGMENT_HEADER_BYTES);
      const before = model.stats().droppedOldest.batches;
      const mid = model.append(records, encoding, padded);
      const did = disk.append(records, encoding, body);
      assert.equal(did === null, mid === null, `${where(step, 'append')}: one refused, the other not`);
      if (mid !== null && did !== null) {
        toDisk.set(mid, did);
        toModel.set(did, mid);
        held.push(mid);
        sizes.set(mid, body.length);
      }
      follow();
      run.dropped += model.stats().droppedOldest.batches - before;
    } else if (r < 0.65) {
      same(disk.peek(), model.peek(), where(step, 'peek'));
    } else if (r < 0.85) {
      // Ack the oldest (the sender's pattern) or, now and then, any id (a late ack after a drop).
      const m = rnd() < 0.8 ? model.peek() : null;
      const mid = m?.id ?? 1 + int(Math.max(1, toDisk.size + 3));
      const did = toDisk.get(mid) ?? -1;
      const acked = model.ack(mid);
      assert.equal(disk.ack(did), acked, where(step, `ack ${mid}`));
      if (acked) held.splice(held.indexOf(mid), 1);
    } else if (r < 0.92) {
      // kill -9 between two calls: every call completed its I/O, so nothing may change.
      run.crashes++;
      disk.close();
      disk = open();
    } else if (r < 0.96) {
      // Killed in the middle of an append: the temp file of the next segment is on disk, not renamed.
      run.crashes++;
      run.tempFiles++;
      const names = readdirSync(dir).filter((n) => n.endsWith('.seg'));
      const next = names.length > 0 ? Number(names.sort().at(-1)?.slice(0, 16)) + 1 : 1 + int(1000);
      disk.close();
      writeFileSync(join(dir, `${segName(next)}.tmp`), new Uint8Array(int(200)).fill(7));
      disk = open();
      assert.equal(disk.stats().corruptReasons['temp-file'], 1, `${where(step, 'temp file')}: counted at open`);
    } else {
      // A power cut with fsync never: the newest segment is torn. The model loses that batch too.
      const newest = held.at(-1);
      if (newest === undefined) continue;
      run.crashes++;
      run.torn++;
      const did = toDisk.get(newest) as number;
      disk.close();
      // Cut anywhere short of the whole file: a header alone, or part of it, or part of the payload.
      truncateSync(join(dir, segName(did)), int(SEGMENT_HEADER_BYTES + (sizes.get(newest) ?? 0)));
      model.ack(newest);
      held.pop();
      disk = open();
      assert.equal(disk.stats().corrupt.batches, 1, `${where(step, 'torn segment')}: counted at open`);
    }
    agree(where(step, 'after'));
  }
  // Everything left comes out in the same order.
  for (let i = 0; ; i++) {
    const m = model.peek();
    same(disk.peek(), m, where(steps + i, 'final drain'));
    if (m === null) break;
    const did = toDisk.get(m.id) as number;
    assert.ok(disk.ack(did) && model.ack(m.id));
    held.shift();
  }
  agree(`seed ${seed}: at the end`);
  disk.close();
  return run;
}

test('randomized: the disk spool holds what the in-memory model holds, through crashes, temp files and torn segments', () => {
  const total: Run = { ops: 0, crashes: 0, torn: 0, tempFiles: 0, dropped: 0 };
  for (let seed = 1; seed <= 25; seed++) {
    const r = runSeed(seed, 250);
    for (const k of Object.keys(total) as Array<keyof Run>) total[k] += r[k];
  }
  // The mix must actually have exercised each path, or the test proves less than it says.
  assert.ok(total.crashes > 100 && total.torn > 20 && total.tempFiles > 20 && total.dropped > 20, JSON.stringify(total));
});
