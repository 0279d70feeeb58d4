/**
 * The delivery loop with the real HTTP sender against the test receiver on 127.0.0.1: order,
 * the OTLP retry rules, Retry-After, rejections, partial success, refused connections, replay.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** An OTLP/JSON request with `n` records whose bodies are `${tag}-${i}`. */
function body(tag: string, n: number): Uint8Array {
  const logRecords = Array.from({ length: n }, (_, i) => ({
    timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)),
    body: { stringValue: `${tag}-${i}` },
  }));
  const req = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 'test' }, logRecords }] }] };
  return new TextEncoder().encode(JSON.stringify(req));
}

function sender(url: string, timeoutMs = 5000): HttpSender {
  return new HttpSender({
    url: `${url}/v1/logs`,
    headers: {},
    compression: 'gzip',
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
