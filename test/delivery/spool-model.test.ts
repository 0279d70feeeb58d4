/**
 * A randomized model test of the disk spool, in the manner of Vector's disk buffer tests: random
 * sequences of append / peek / ack, with crashes at random points — with writes and deletes still
 * queued (kill -9 while the writer is behind), after everything reached the disk, in the middle of
 * an append (a temp file left before the rename) and a power cut that tears the newest segment
 * (fsync never) — run against the disk spool and, as the model, the in-memory store. Between
 * crashes the two must hold the same batches in the same order, with the same bytes and counts.
 * After a crash with the queue not empty, what survives must be explainable: every batch held and
 * written before the last flush is there, batches appended since are there as a prefix of their
 * append order (the writer goes in order), nothing acked before the last flush comes back, nothing
 * appears that was never appended; the model then adopts the survivors.
 *
 * The in-memory store counts payload bytes and the spool whole segment files, so the model is given
 * each payload with SEGMENT_HEADER_BYTES of padding in front: both then make room by the same rule.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { BatchStoreStats, BodyCompression, PayloadEncoding, StoredBatch } from '../../src/delivery/batch-store.js';
import { DiskSpool, SEGMENT_HEADER_BYTES } from '../../src/delivery/disk-spool.js';
import { MemoryStore } from '../../src/delivery/memory-store.js';
import { prng } from '../helpers/prng.js';

const root = mkdtempSync(join(tmpdir(), 'cnproc-spool-model-'));
after(() => rmSync(root, { recursive: true, force: true }));

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
  queuedCrashes: number;
  lostUnwritten: number;
  resurrected: number;
  torn: number;
  tempFiles: number;
  dropped: number;
}

interface Sent {
  records: number;
  encoding: PayloadEncoding;
  compression: BodyCompression;
  body: Uint8Array;
}

async function runSeed(seed: number, steps: number): Promise<Run> {
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const dir = join(root, `seed-${seed}`);
  const maxBytes = 20_000 + int(30_000);
  const reopen = (): DiskSpool => DiskSpool.open({ dir, maxBytes, fsync: 'never' });
  let disk = reopen();
  let model = new MemoryStore({ maxBytes });
  /** Every batch by model id (ids of one model; a new model after a crash continues the count). */
  const sent = new Map<number, Sent>();
  let nextKey = 1;
  /** Model store id → batch key, batch key → spool id, spool id → batch key. */
  let keyOfModel = new Map<number, number>();
  let modelOfKey = new Map<number, number>();
  let diskOfKey = new Map<number, number>();
  let keyOfDisk = new Map<number, number>();
  /** Keys held, oldest first (drops are oldest first, so this follows the model). */
  let held: number[] = [];
  /** Since the last flush: keys appended, and keys taken out (acked, dropped) whose delete may not have run. */
  let appendedSince: number[] = [];
  let removedSince = new Set<number>();
  const run: Run = { ops: 0, crashes: 0, queuedCrashes: 0, lostUnwritten: 0, resurrected: 0, torn: 0, tempFiles: 0, dropped: 0 };
  const where = (step: number, op: string): string => `seed ${seed}, step ${step} (${op})`;

  const follow = (): void => {
    while (held.length > model.stats().batches) removedSince.add(held.shift() as number);
  };
  const padded = (b: Uint8Array): Uint8Array => {
    const p = new Uint8Array(SEGMENT_HEADER_BYTES + b.length);
    p.set(b, SEGMENT_HEADER_BYTES);
    return p;
  };
  const same = (d: StoredBatch | null, m: StoredBatch | null, w: string): void => {
    if (m === null) {
      assert.equal(d, null, `${w}: the spool has a batch the model does not`);
      return;
    }
    assert.ok(d, `${w}: the model has batch ${m.id}, the spool none`);
    assert.equal(keyOfDisk.get(d.id), keyOfModel.get(m.id), `${w}: spool batch ${d.id} is not the model's ${m.id}`);
    assert.equal(d.records, m.records, w);
    assert.equal(d.encoding, m.encoding, w);
    assert.equal(d.compression, m.compression, w);
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
  const flushed = async (): Promise<void> => {
    await disk.flush();
    assert.equal(disk.stats().unwritten, 0);
    appendedSince = [];
    removedSince = new Set();
  };
  /** Reopens after a crash and makes the model the survivors, checking they are explainable. */
  const adopt = async (w: string, dropKey: number | null): Promise<void> => {
    disk = reopen();
    const survivors: number[] = [];
    for (let b = disk.peek(); b !== null; b = disk.peek()) {
      const key = keyOfDisk.get(b.id);
      assert.ok(key !== undefined, `${w}: spool batch ${b.id} was never appended`);
      const s = sent.get(key) as Sent;
      assert.deepEqual(Buffer.from(b.payload), Buffer.from(s.body), `${w}: payload of batch ${key}`);
      assert.equal(b.records, s.records, w);
      assert.equal(b.compression, s.compression, `${w}: compression of batch ${key}`);
      survivors.push(key);
      disk.ack(b.id);
    }
    const heldSet = new Set(held);
    const since = new Set(appendedSince);
    for (const key of survivors) {
      assert.ok(heldSet.has(key) || removedSince.has(key), `${w}: batch ${key} was acked before the last flush and came back`);
      if (!heldSet.has(key)) run.resurrected++;
    }
    const got = new Set(survivors);
    for (const key of held) {
      if (!since.has(key) && key !== dropKey) assert.ok(got.has(key), `${w}: batch ${key}, held and flushed, is gone`);
    }
    // The writer goes in order: of the batches appended since the flush and still held, those
    // written are the first ones.
    const flags = appendedSince.filter((k) => heldSet.has(k)).map((k) => got.has(k));
    const firstMissing = flags.indexOf(false);
    assert.ok(firstMissing < 0 || !flags.slice(firstMissing).includes(true), `${w}: written out of order ${JSON.stringify(flags)}`);
    run.lostUnwritten += flags.filter((f) => !f).length;
    // The model adopts the survivors, re-appended in their order (the spool was drained to read them).
    model = new MemoryStore({ maxBytes });
    keyOfModel = new Map();
    modelOfKey = new Map();
    diskOfKey = new Map();
    keyOfDisk = new Map();
    held = [];
    for (const key of survivors) {
      const s = sent.get(key) as Sent;
      const mid = model.append(s.records, s.encoding, padded(s.body), s.compression) as number;
      const did = disk.append(s.records, s.encoding, s.body, s.compression) as number;
      keyOfModel.set(mid, key);
      modelOfKey.set(key, mid);
      diskOfKey.set(key, did);
      keyOfDisk.set(did, key);
      held.push(key);
    }
    // A flush point: the drain's deletes and the re-appends are on disk before the run goes on.
    await flushed();
  };

  for (let step = 0; step < steps; step++) {
    run.ops++;
    const r = rnd();
    if (r < 0.42) {
      const records = int(60);
      const encoding: PayloadEncoding = rnd() < 0.8 ? 'protobuf' : 'json';
      // Mostly gzip, as the agent stores them; some uncompressed, as a spool from before holds them.
      const compression: BodyCompression = rnd() < 0.8 ? 'gzip' : 'none';
      const body = new Uint8Array(int(4000));
      for (let i = 0; i < body.length; i += 97) body[i] = int(256);
      const before = model.stats().droppedOldest.batches;
      const mid = model.append(records, encoding, padded(body), compression);
      const did = disk.append(records, encoding, body, compression);
      assert.equal(did === null, mid === null, `${where(step, 'append')}: one refused, the other not`);
      if (mid !== null && did !== null) {
        const key = nextKey++;
        sent.set(key, { records, encoding, compression, body });
        keyOfModel.set(mid, key);
        modelOfKey.set(key, mid);
        diskOfKey.set(key, did);
        keyOfDisk.set(did, key);
        held.push(key);
        appendedSince.push(key);
      }
      follow();
      run.dropped += model.stats().droppedOldest.batches - before;
    } else if (r < 0.6) {
      same(disk.peek(), model.peek(), where(step, 'peek'));
    } else if (r < 0.78) {
      // Ack the oldest (the sender's pattern) or, now and then, any batch (a late ack after a drop).
      const m = rnd() < 0.8 ? model.peek() : null;
      const key = m ? (keyOfModel.get(m.id) as number) : 1 + int(nextKey + 2);
      const mid = modelOfKey.get(key) ?? -1;
      const acked = model.ack(mid);
      assert.equal(disk.ack(diskOfKey.get(key) ?? -1), acked, where(step, `ack ${key}`));
      if (acked) {
        held.splice(held.indexOf(key), 1);
        removedSince.add(key);
      }
    } else if (r < 0.8) {
      await flushed();
    } else if (r < 0.83) {
      // Let the writer get ahead a little (a few file operations), so crashes land mid-queue.
      await new Promise((res) => (rnd() < 0.5 ? setImmediate(res) : setTimeout(res, int(3))));
    } else if (r < 0.9) {
      // kill -9 with the writer behind: writes and deletes still queued never happen.
      run.crashes++;
      run.queuedCrashes++;
      await disk.crash();
      await adopt(where(step, 'crash with a queue'), null);
    } else if (r < 0.94) {
      // Killed in the middle of an append, after the rest reached the disk: a temp file, not renamed.
      await flushed();
      run.crashes++;
      run.tempFiles++;
      const names = readdirSync(dir).filter((n) => n.endsWith('.seg'));
      const next = names.length > 0 ? Number(names.sort().at(-1)?.slice(0, 16)) + 1 : 1 + int(1000);
      await disk.crash();
      writeFileSync(join(dir, `${segName(next)}.tmp`), new Uint8Array(int(200)).fill(7));
      await adopt(where(step, 'temp file'), null);
      assert.equal(disk.stats().corruptReasons['temp-file'], 1, `${where(step, 'temp file')}: counted at open`);
    } else {
      // A power cut with fsync never, after everything was written: the newest segment is torn.
      await flushed();
      const newest = held.at(-1);
      if (newest === undefined) continue;
      run.crashes++;
      run.torn++;
      await disk.crash();
      // Cut anywhere short of the whole file: a header alone, or part of it, or part of the payload.
      truncateSync(join(dir, segName(diskOfKey.get(newest) as number)), int(SEGMENT_HEADER_BYTES + (sent.get(newest)?.body.length ?? 0)));
      await adopt(where(step, 'torn segment'), newest);
      assert.equal(disk.stats().corrupt.batches, 1, `${where(step, 'torn segment')}: counted at open`);
    }
    agree(where(step, 'after'));
  }
  // Everything left comes out in the same order.
  for (let i = 0; ; i++) {
    const m = model.peek();
    same(disk.peek(), m, where(steps + i, 'final drain'));
    if (m === null) break;
    const key = keyOfModel.get(m.id) as number;
    assert.ok(disk.ack(diskOfKey.get(key) as number) && model.ack(m.id));
  }
  agree(`seed ${seed}: at the end`);
  await disk.close();
  return run;
}

test('randomized: the disk spool holds what the in-memory model holds, through crashes with writes queued, temp files and torn segments', async () => {
  const total: Run = { ops: 0, crashes: 0, queuedCrashes: 0, lostUnwritten: 0, resurrected: 0, torn: 0, tempFiles: 0, dropped: 0 };
  for (let seed = 1; seed <= 25; seed++) {
    const r = await runSeed(seed, 250);
    for (const k of Object.keys(total) as Array<keyof Run>) total[k] += r[k];
  }
  // The mix must actually have exercised each path, or the test proves less than it says.
  assert.ok(
    total.queuedCrashes > 50 && total.lostUnwritten > 0 && total.torn > 15 && total.tempFiles > 15 && total.dropped > 20,
    JSON.stringify(total),
  );
});
