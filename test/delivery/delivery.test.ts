/**
 * The delivery loop with the real HTTP sender against the test receiver on 127.0.0.1: order,
 * the OTLP retry rules, Retry-After, rejections, partial success, refused connections, replay.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { BatchStore } from '../../src/delivery/batch-store.js';
import { Delivery } from '../../src/delivery/delivery.js';
import { DiskSpool } from '../../src/delivery/disk-spool.js';
import { HttpSender } from '../../src/delivery/http-sender.js';
import { MemoryStore } from '../../src/delivery/memory-store.js';
import { waitFor } from '../helpers/kernel.js';
import { freePort } from '../helpers/net.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { previousFormatSegment, segmentFileName } from '../helpers/previous-segment.js';

/** An OTLP/JSON request with `n` records whose bodies are `${tag}-${i}`. */
function body(tag: string, n: number): Uint8Array {
  const logRecords = Array.from({ length: n }, (_, i) => ({
    timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
    body: { stringValue: `${tag}-${i}` },
  }));
  const req = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 'test' }, logRecords }] }] };
  return new TextEncoder().encode(JSON.stringify(req));
}

function sender(url: string, timeoutMs = 5000, compression: 'gzip' | 'none' = 'gzip'): HttpSender {
  return new HttpSender({
    url: `${url}/v1/logs`,
    headers: {},
    compression,
    timeoutMs,
    userAgent: 'cnproc-otel-test',
    decodeResponse: {
      protobuf: (b) => ProtobufLogsSerializer.deserializeResponse(b),
      json: (b) => JsonLogsSerializer.deserializeResponse(b),
    },
  });
}

const FAST = { initialMs: 50, maxMs: 200 };

test('batches arrive in order, once each, gzip-compressed', async () => {
  const rx = await startOtlpReceiver();
  const d = new Delivery(new MemoryStore({ maxBytes: 1 << 20 }), sender(rx.url), { backoff: FAST });
  try {
    for (let b = 0; b < 5; b++) d.enqueue(3, 'json', body(`b${b}`, 3));
    assert.equal(await d.flush(5000), true);
    assert.deepEqual(
      rx.records.map((r) => r.body),
      Array.from({ length: 15 }, (_, i) => `b${Math.floor(i / 3)}-${i % 3}`),
    );
    assert.ok(rx.requests.every((q) => q.gzip && q.status === 200));
    const s = d.stats();
    assert.equal(s.delivered, 15);
    assert.equal(s.deliveredBatches, 5);
    assert.equal(s.retries, 0);
    assert.equal(s.store.batches, 0);
  } finally {
    await d.close();
    await rx.close();
  }
});

test('503 with Retry-After: waits as told (not the long backoff), then delivers everything once', async () => {
  const rx = await startOtlpReceiver();
  let refusals = 3;
  rx.setResponder(() => (refusals-- > 0 ? { status: 503, headers: { 'Retry-After': '1' } } : null));
  const failures: number[] = [];
  const d = new Delivery(new MemoryStore({ maxBytes: 1 << 20 }), sender(rx.url), {
    backoff: { initialMs: 30_000, maxMs: 60_000 },
    onAttemptFailed: (_r, delay) => failures.push(delay),
  });
  try {
    const t0 = Date.now();
    d.enqueue(2, 'json', body('a', 2));
    d.enqueue(2, 'json', body('b', 2));
    assert.equal(await d.flush(15_000), true);
    const took = Date.now() - t0;
    assert.deepEqual(failures, [1000, 1000, 1000]);
    assert.ok(took >= 2900 && took < 10_000, `took ${took} ms`);
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['a-0', 'a-1', 'b-0', 'b-1'],
    );
    assert.equal(d.stats().retries, 3);
    assert.equal(rx.requests.filter((q) => q.status === 503).length, 3);
  } finally {
    await d.close();
    await rx.close();
  }
});

test('400 rejects the batch for good: counted, not retried, the next batch goes on', async () => {
  const rx = await startOtlpReceiver();
  let first = true;
  rx.setResponder(() => {
    if (!first) return null;
    first = false;
    return { status: 400, body: { code: 3, message: 'bad things' } };
  });
  const rejected: string[] = [];
  const d = new Delivery(new MemoryStore({ maxBytes: 1 << 20 }), sender(rx.url), {
    backoff: FAST,
    onRejected: (reason) => rejected.push(reason),
  });
  try {
    d.enqueue(4, 'json', body('bad', 4));
    d.enqueue(1, 'json', body('good', 1));
    assert.equal(await d.flush(5000), true);
    assert.equal(rx.requests.length, 2);
    const s = d.stats();
    assert.equal(s.rejected, 4);
    assert.equal(s.delivered, 1);
    assert.equal(s.retries, 0);
    assert.match(rejected[0] ?? '', /HTTP 400/);
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['good-0'],
    );
  } finally {
    await d.close();
    await rx.close();
  }
});

test('partial success: the rejected part is counted, the batch is not sent again', async () => {
  const rx = await startOtlpReceiver();
  rx.setResponder(() => ({ status: 200, body: { partialSuccess: { rejectedLogRecords: '2', errorMessage: 'too old' } } }));
  const d = new Delivery(new MemoryStore({ maxBytes: 1 << 20 }), sender(rx.url), { backoff: FAST });
  try {
    d.enqueue(5, 'json', body('p', 5));
    assert.equal(await d.flush(5000), true);
    const s = d.stats();
    assert.equal(s.partiallyRejected, 2);
    assert.equal(s.delivered, 3);
    assert.match(s.lastError ?? '', /2 rejected: too old/);
    assert.equal(rx.requests.length, 1);
  } finally {
    await d.close();
    await rx.close();
  }
});

test('connection refused: batches wait in the store, and all arrive in order once the collector listens', async () => {
  const port = await freePort();
  const d = new Delivery(new MemoryStore({ maxBytes: 1 << 20 }), sender(`http://127.0.0.1:${port}`), { backoff: FAST });
  let rx: Awaited<ReturnType<typeof startOtlpReceiver>> | null = null;
  try {
    for (let b = 0; b < 4; b++) d.enqueue(1, 'json', body(`r${b}`, 1));
    assert.equal(await d.flush(500), false, 'nothing can be delivered yet');
    await waitFor('retries', () => d.stats().retries >= 2, 5000);
    assert.match(d.stats().lastError ?? '', /ECONNREFUSED/);
    assert.equal(d.stats().store.batches, 4);
    rx = await startOtlpReceiver({ port });
    assert.equal(await d.flush(5000), true);
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['r0-0', 'r1-0', 'r2-0', 'r3-0'],
    );
  } finally {
    await d.close();
    await rx?.close();
  }
});

test('a disk spool left by one run is replayed, in order, by the next', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-delivery-'));
  const port = await freePort();
  let rx: Awaited<ReturnType<typeof startOtlpReceiver>> | null = null;
  try {
    const open = (): BatchStore => DiskSpool.open({ dir, maxBytes: 1 << 24, fsync: 'never' });
    const first = new Delivery(open(), sender(`http://127.0.0.1:${port}`), { backoff: FAST });
    for (let b = 0; b < 3; b++) first.enqueue(2, 'json', body(`s${b}`, 2));
    await first.close();
    rx = await startOtlpReceiver({ port });
    const second = new Delivery(open(), sender(rx.url), { backoff: FAST });
    assert.equal(second.stats().store.foundAtOpen.batches, 3);
    assert.equal(await second.flush(5000), true);
    await second.close();
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['s0-0', 's0-1', 's1-0', 's1-1', 's2-0', 's2-1'],
    );
  } finally {
    await rx?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fsync always: every batch is sent once it is on disk, in order, none stalled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-delivery-'));
  const rx = await startOtlpReceiver();
  try {
    const spool = DiskSpool.open({ dir, maxBytes: 1 << 24, fsync: 'always' });
    const d = new Delivery(spool, sender(rx.url), { backoff: FAST });
    for (let b = 0; b < 4; b++) d.enqueue(2, 'json', body(`f${b}`, 2));
    // Nothing is on disk yet when enqueue returns: the loop must be woken by the writes.
    await waitFor('all delivered', () => rx.records.length === 8, 10_000);
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['f0-0', 'f0-1', 'f1-0', 'f1-1', 'f2-0', 'f2-1', 'f3-0', 'f3-1'],
    );
    await d.close();
    assert.equal(d.stats().delivered, 8);
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the sender never throws: a server that hangs up mid-answer is a retry', async () => {
  const srv = createServer((sock) => {
    sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const s = sender(`http://127.0.0.1:${port}`, 2000);
  try {
    const r = await s.send(body('x', 1), 'json', 'none', 1);
    assert.notEqual(r.verdict, 'reject');
  } finally {
    await s.close();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('gzip: a batch is compressed once, before it is stored; every attempt, retries included, sends the stored bytes', async () => {
  const rx = await startOtlpReceiver();
  let answered = 0;
  rx.setResponder(() => (++answered <= 2 ? { status: 503, headers: { 'Retry-After': '0' } } : null));
  const store = new MemoryStore({ maxBytes: 1 << 20 });
  const d = new Delivery(store, sender(rx.url), { backoff: FAST });
  try {
    const plain = body('z', 200);
    const stored = d.enqueue(200, 'json', plain);
    assert.deepEqual(d.stats().compressing, { batches: 1, records: 200 }, 'counted while being compressed');
    assert.equal(store.stats().batches, 0, 'not in the store before its compression ends');
    const id = await stored;
    assert.equal(id, 1);
    assert.deepEqual(d.stats().compressing, { batches: 0, records: 0 });
    const held = store.peek();
    assert.ok(held);
    assert.equal(held.compression, 'gzip');
    assert.deepEqual([held.payload[0], held.payload[1]], [0x1f, 0x8b], 'the store holds the gzip member');
    assert.equal(store.stats().bytes, held.payload.byteLength, 'the size cap counts compressed bytes');
    assert.ok(held.payload.byteLength * 10 < plain.byteLength, `${held.payload.byteLength} vs ${plain.byteLength} bytes`);
    const storedSha = sha256(held.payload);
    assert.equal(await d.flush(10_000), true);
    assert.equal(rx.requests.length, 3, 'two 503s, then 200');
    for (const q of rx.requests) {
      assert.equal(q.gzip, true);
      assert.equal(q.bodySha256, storedSha, 'sent as stored, not recompressed');
    }
    assert.equal(rx.records.length, 200);
    assert.equal(d.stats().retries, 2);
  } finally {
    await d.close();
    await rx.close();
  }
});

test('gzip: batches enter the store in enqueue order, whichever compression ends first', async () => {
  const rx = await startOtlpReceiver();
  const store = new MemoryStore({ maxBytes: 1 << 26 });
  const d = new Delivery(store, sender(rx.url), { backoff: FAST });
  try {
    // A large batch (long compression) before small ones (short): the small ones wait for it.
    const sizes = [20_000, 1, 2, 3000, 1];
    const ids: Array<number | null> = [];
    const order: number[] = [];
    const all = sizes.map((n, i) =>
      d.enqueue(n, 'json', body(`o${i}`, n)).then((id) => {
        order.push(i);
        ids[i] = id;
      }),
    );
    assert.deepEqual(d.stats().compressing, { batches: 5, records: sizes.reduce((a, b) => a + b) });
    await Promise.all(all);
    assert.deepEqual(order, [0, 1, 2, 3, 4], 'each enqueue resolves once it is stored, in order');
    assert.deepEqual(ids, [1, 2, 3, 4, 5], 'ids follow enqueue order');
    assert.equal(await d.flush(20_000), true);
    const firstOfBatch = rx.records.filter((r) => String(r.body).endsWith('-0')).map((r) => r.body);
    assert.deepEqual(firstOfBatch, ['o0-0', 'o1-0', 'o2-0', 'o3-0', 'o4-0']);
  } finally {
    await d.close();
    await rx.close();
  }
});

test('gzip: a batch that cannot be compressed is refused with its reason; the batches around it are stored in order', async () => {
  const rx = await startOtlpReceiver();
  const d = new Delivery(new MemoryStore({ maxBytes: 1 << 20 }), sender(rx.url), { backoff: FAST });
  try {
    const a = d.enqueue(1, 'json', body('a', 1));
    // zlib refuses a payload that is not bytes: the real compressor failing, not a stand-in.
    const bad = d.enqueue(7, 'json', 42 as unknown as Uint8Array);
    const c = d.enqueue(1, 'json', body('c', 1));
    assert.equal(await a, 1);
    await assert.rejects(bad, /cannot compress batch of 7 records: .*/);
    assert.equal(await c, 2);
    assert.match(d.stats().lastError ?? '', /cannot compress batch of 7 records/);
    assert.deepEqual(d.stats().compressing, { batches: 0, records: 0 });
    assert.equal(d.stats().store.appended.records, 2, 'nothing of the failed batch entered the store');
    assert.equal(await d.flush(5000), true);
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['a-0', 'c-0'],
    );
  } finally {
    await d.close();
    await rx.close();
  }
});

test('compression none: the batch is stored before enqueue returns, and sent as it is', async () => {
  const rx = await startOtlpReceiver();
  const store = new MemoryStore({ maxBytes: 1 << 20 });
  const d = new Delivery(store, sender(rx.url, 5000, 'none'), { backoff: FAST });
  try {
    const plain = body('n', 3);
    const id = d.enqueue(3, 'json', plain);
    assert.equal(store.stats().batches + store.stats().acked.batches, 1, 'stored synchronously');
    assert.equal(await id, 1);
    assert.equal(await d.flush(5000), true);
    assert.equal(rx.requests.length, 1);
    assert.equal(rx.requests[0]?.gzip, false);
    assert.equal(rx.requests[0]?.bodySha256, sha256(plain));
    assert.equal(rx.records.length, 3);
  } finally {
    await d.close();
    await rx.close();
  }
});

test('close stores the batches still being compressed; the next run replays them (gzip segments)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-delivery-'));
  const rx = await startOtlpReceiver();
  try {
    const open = (): BatchStore => DiskSpool.open({ dir, maxBytes: 1 << 24, fsync: 'never' });
    // Nothing listens on this port: the first run stores and never delivers.
    const first = new Delivery(open(), sender(`http://127.0.0.1:${await freePort()}`), { backoff: FAST });
    const stored = [first.enqueue(2, 'json', body('k0', 2)), first.enqueue(2, 'json', body('k1', 2))];
    assert.equal(first.stats().compressing.batches, 2);
    await first.close();
    assert.deepEqual(await Promise.all(stored), [1, 2]);
    const segs = readdirSync(dir).filter((n) => n.endsWith('.seg'));
    assert.deepEqual(segs, [segmentFileName(1), segmentFileName(2)]);
    assert.ok(
      segs.every((n) => (readFileSync(join(dir, n))[5] ?? 0) === 0x82),
      'json with the gzip flag',
    );
    const second = new Delivery(open(), sender(rx.url), { backoff: FAST });
    assert.equal(await second.flush(5000), true);
    await second.close();
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['k0-0', 'k0-1', 'k1-0', 'k1-1'],
    );
    assert.ok(rx.requests.every((q) => q.gzip));
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('upgrade: uncompressed segments of the previous version are delivered, gzipped at send; gzip segments to a sender without compression go uncompressed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-delivery-'));
  const rx = await startOtlpReceiver();
  try {
    const old = body('old', 2);
    writeFileSync(join(dir, segmentFileName(1)), previousFormatSegment(1, 2, 'json', old, Date.now() - 60_000));
    const open = (): DiskSpool => DiskSpool.open({ dir, maxBytes: 1 << 24, fsync: 'never' });
    const first = new Delivery(open(), sender(rx.url), { backoff: FAST });
    assert.equal(first.stats().store.foundAtOpen.batches, 1);
    assert.equal(await first.flush(5000), true);
    assert.equal(rx.requests[0]?.gzip, true, 'the old segment is sent gzip-compressed, as configured');
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['old-0', 'old-1'],
    );
    assert.equal(first.stats().store.corrupt.batches, 0);
    // A gzip segment left for a run configured without compression.
    rx.setResponder(() => ({ status: 503 }));
    await first.enqueue(1, 'json', body('gz', 1));
    await waitFor('a failed attempt', () => rx.requests.length >= 2, 5000);
    await first.close();
    rx.setResponder(null);
    const second = new Delivery(open(), sender(rx.url, 5000, 'none'), { backoff: FAST });
    assert.equal(await second.flush(5000), true);
    await second.close();
    const last = rx.requests[rx.requests.length - 1];
    assert.equal(last?.gzip, false, 'decompressed for a collector configured without gzip');
    assert.equal(last?.status, 200);
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['old-0', 'old-1', 'gz-0'],
    );
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fsync always: flush() waits for a segment still being written instead of spinning, and delivers it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-delivery-'));
  const rx = await startOtlpReceiver();
  try {
    for (const compression of ['none', 'gzip'] as const) {
      const d = new Delivery(DiskSpool.open({ dir, maxBytes: 1 << 24, fsync: 'always' }), sender(rx.url, 5000, compression), {
        backoff: FAST,
      });
      void d.enqueue(2, 'json', body(`w${compression}`, 2));
      // Not sendable before its segment and the directory are fsynced: flush must let the write run.
      const t0 = Date.now();
      assert.equal(await d.flush(5000), true);
      assert.ok(Date.now() - t0 < 4000, `${Date.now() - t0} ms`);
      await d.close();
    }
    assert.deepEqual(
      rx.records.map((r) => r.body),
      ['wnone-0', 'wnone-1', 'wgzip-0', 'wgzip-1'],
    );
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
