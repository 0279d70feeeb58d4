/**
 * Delivery end to end as root: the agent (CLI) capturing real processes, a receiver on 127.0.0.1
 * that misbehaves on purpose (503 + Retry-After, refused connections, 400), kill -9 and restart,
 * and a corrupted spool segment. Each marker process (`/bin/true <tag>-<i>`) must arrive exactly
 * as the at-least-once contract says.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { SEGMENT_HEADER_BYTES } from '../../src/delivery/disk-spool.js';
import { assertDeliveryIdentity } from '../helpers/accounting.js';
import { type LiveAgent, startCli } from '../helpers/cli.js';
import { needsRoot, waitFor } from '../helpers/kernel.js';
import { freePort } from '../helpers/net.js';
import { loadOtlpRoot, type OtlpReceiver, type ReceivedLogRecord, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const cleanup: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function receiver(port?: number): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver(port === undefined ? {} : { port });
  cleanup.push(() => r.close());
  return r;
}

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(d, { recursive: true, force: true, maxRetries: 5 }));
  return d;
}

/**
 * Runs `sh -c 'sleep 0.05' <tag>-<i>` for i in [from, to), one every `gapS` seconds; resolves when
 * done. Each marker lives 50 ms, so its command line is always read (a /bin/true can be gone first).
 */
function workload(tag: string, from: number, to: number, gapS: number): Promise<void> {
  const script = `i=${from}; while [ $i -lt ${to} ]; do sh -c 'sleep 0.05' ${tag}-$i; i=$((i+1)); sleep ${gapS}; done`;
  const child = spawn('sh', ['-c', script], { stdio: 'ignore' });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`workload exited ${code}`)))),
  );
}

function markerOf(r: ReceivedLogRecord, tag: string): string | undefined {
  const args = r.attributes['process.command_args'];
  if (!Array.isArray(args)) return undefined;
  return args.map(String).find((a) => a.startsWith(`${tag}-`));
}

/** How many exec records arrived per marker of `tag`. */
function markers(records: readonly ReceivedLogRecord[], tag: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) {
    if (r.eventName !== 'process.exec') continue;
    const mark = markerOf(r, tag);
    if (mark) m.set(mark, (m.get(mark) ?? 0) + 1);
  }
  return m;
}

function expected(tag: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${tag}-${from + i}`);
}

async function metricsBase(agent: LiveAgent): Promise<string> {
  const m = await waitFor('metrics line', () => /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(agent.stderr()), 15_000);
  return m[1] as string;
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

function vmRss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** No record of a kernel event arrived twice (cnproc.event.id is unique per boot). */
function assertNoDuplicates(records: readonly ReceivedLogRecord[]): void {
  const seen = new Set<string>();
  for (const r of records) {
    const id = r.attributes['cnproc.event.id'];
    if (typeof id !== 'string') continue;
    assert.ok(!seen.has(id), `event ${id} arrived twice`);
    seen.add(id);
  }
}

/** Per process, records arrive in kernel-time order (the spool replays oldest first). */
function assertOrderPerProcess(records: readonly ReceivedLogRecord[], tag: string): void {
  const pids = new Set<number>();
  for (const r of records) if (r.eventName === 'process.exec' && markerOf(r, tag)) pids.add(Number(r.attributes['process.pid']));
  for (const pid of pids) {
    const times = records
      .filter((r) => r.attributes['process.pid'] === pid && r.eventName.startsWith('process.'))
      .map((r) => BigInt(r.timeUnixNano));
    for (let i = 1; i < times.length; i++) assert.ok((times[i] as bigint) >= (times[i - 1] as bigint), `pid ${pid}: records out of order`);
  }
}

/**
 * A config that keeps only the test's own processes (their command lines name a marker), so other
 * work on the machine cannot flood the receiver; `extra` is appended YAML.
 */
function config(extra = ''): string {
  const file = join(tempDir('cnproc-cfg-'), 'agent.yaml');
  writeFileSync(
    file,
    `filter:\n  defaultAction: drop\n  rules:\n    - name: markers\n      action: keep\n      match: { argv: "dtest-" }\n${extra}`,
  );
  return file;
}

const OTLP = ['--exporter', 'otlp', '--log-level', 'info'];

test('503 with Retry-After for 30 s, then 200: every record arrives once, in order per process', { timeout: 180_000 }, async (t) => {
  if (!needsRoot(t)) return;
  const rx = await receiver();
  let refuseUntil = Number.POSITIVE_INFINITY;
  rx.setResponder(() => (Date.now() < refuseUntil ? { status: 503, headers: { 'Retry-After': '2' } } : null));
  const agent = startCli([...OTLP, '--config', config(), '--otlp-endpoint', rx.url]);
  try {
    await waitFor('exporting', () => /exporting to OTLP/.test(agent.stderr()), 15_000);
    refuseUntil = Date.now() + 30_000;
    await workload('dtest-r503', 0, 100, 0.1);
    await waitFor('the outage', () => Date.now() >= refuseUntil, 40_000);
    await rx.waitFor(() => markers(rx.records, 'dtest-r503').size === 100, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    const m = markers(rx.records, 'dtest-r503');
    assert.deepEqual([...m.keys()].sort(), expected('dtest-r503', 0, 100).sort());
    const twice = rx.records.filter((r) => r.eventName === 'process.exec' && (m.get(markerOf(r, 'dtest-r503') ?? '') ?? 0) > 1);
    assert.ok(
      [...m.values()].every((n) => n === 1),
      `each marker once: ${JSON.stringify(twice.map((r) => [r.attributes['cnproc.event.id'], r.attributes['process.pid'], r.attributes['process.command_args']]))}`,
    );
    assertNoDuplicates(rx.records);
    assertOrderPerProcess(rx.records, 'dtest-r503');
    const refused = rx.requests.filter((q) => q.status === 503).length;
    // Retry-After 2 s over 30 s: about 15 attempts, not hundreds (and not a single one).
    assert.ok(refused >= 5 && refused <= 25, `${refused} refused requests`);
    assert.match(agent.stderr(), /collector not accepting \(HTTP 503/);
    assert.match(agent.stderr(), /collector accepting again after \d+ failed attempts/);
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
  assert.match(
    agent.stderr(),
    /delivery: \d+ records delivered in \d+ requests, 0 rejected, 0 rejected in partial successes, [1-9]\d* retried/,
  );
  assert.match(agent.stderr(), /; 0 records left in the spool/);
  const acc = assertDeliveryIdentity(agent.report());
  assert.equal(acc.left, 0);
  assert.equal(acc.rejected, 0);
});

test('collector refusing connections for 60 s: the spool holds the backlog, memory stays flat, all arrive', {
  timeout: 240_000,
}, async (t) => {
  if (!needsRoot(t)) return;
  const port = await freePort();
  const agent = startCli([...OTLP, '--config', config(), '--otlp-endpoint', `http://127.0.0.1:${port}`]);
  let rx: OtlpReceiver | null = null;
  try {
    const base = await metricsBase(agent);
    await waitFor('exporting', () => /exporting to OTLP/.test(agent.stderr()), 15_000);
    const t0 = Date.now();
    const work = workload('dtest-refused', 0, 250, 0.2);
    const rss: number[] = [];
    let held = 0;
    let queue = 0;
    while (Date.now() - t0 < 60_000) {
      await new Promise((r) => setTimeout(r, 2000));
      rss.push(vmRss(agent.child.pid as number));
      held = await metric(base, 'cnproc_spool_held');
      queue = Math.max(queue, await metric(base, 'cnproc_export_queue_size'));
    }
    assert.ok(held > 300, `the spool holds the backlog (${held} records)`);
    // The export queue drains into the spool: it never holds more than about a batch.
    assert.ok(queue <= 1024, `export queue peaked at ${queue}`);
    const grow = (rss[rss.length - 1] as number) - (rss[2] as number);
    t.diagnostic(`RSS ${rss.map((b) => (b / 1048576).toFixed(0)).join(' ')} MiB; spool ${held} records`);
    assert.ok(grow < 48 * 1048576, `RSS grew ${(grow / 1048576).toFixed(0)} MiB during the outage`);
    assert.match(agent.stderr(), /collector not accepting \(ECONNREFUSED/);
    rx = await receiver(port);
    await work;
    await rx.waitFor(() => markers(rx?.records ?? [], 'dtest-refused').size === 250, 90_000);
    await new Promise((r) => setTimeout(r, 1500));
    const m = markers(rx.records, 'dtest-refused');
    assert.ok(
      [...m.values()].every((n) => n === 1),
      'each marker once',
    );
    assertNoDuplicates(rx.records);
    assertOrderPerProcess(rx.records, 'dtest-refused');
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
});

test('400: records counted as rejected, each batch sent once, never retried', { timeout: 60_000 }, async (t) => {
  if (!needsRoot(t)) return;
  const rx = await receiver();
  rx.setResponder(() => ({ status: 400, body: { code: 3, message: 'no thanks' } }));
  const agent = startCli([...OTLP, '--config', config(), '--otlp-endpoint', rx.url]);
  try {
    await waitFor('exporting', () => /exporting to OTLP/.test(agent.stderr()), 15_000);
    await workload('dtest-r400', 0, 20, 0.05);
    await waitFor('rejections', () => /records rejected for good: HTTP 400: .*no thanks/.test(agent.stderr()), 15_000);
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
  const m = /delivery: 0 records delivered in 0 requests, (\d+) rejected, 0 rejected in partial successes, 0 retried attempts/.exec(
    agent.stderr(),
  );
  assert.ok(m, agent.stderr());
  const sent = rx.requests.reduce((n, q) => n + q.records, 0);
  assert.equal(Number(m[1]), sent, 'every record sent once and counted as rejected');
  assertDeliveryIdentity(agent.report());
  assert.equal(rx.records.length, 0);
});

test('kill -9, restart: the spool is replayed, and the downtime is reported', { timeout: 120_000 }, async (t) => {
  if (!needsRoot(t)) return;
  const spool = tempDir('cnproc-spool-kill-');
  const rx = await receiver();
  let accept = false;
  rx.setResponder(() => (accept ? null : { status: 503 }));
  const cfg = config();
  const first = startCli([...OTLP, '--config', cfg, '--otlp-endpoint', rx.url, '--spool-dir', spool]);
  try {
    const base = await metricsBase(first);
    await waitFor('exporting', () => /exporting to OTLP/.test(first.stderr()), 15_000);
    await workload('dtest-kill', 0, 30, 0.02);
    // The export queue flushes every second: wait until the spool has stopped growing for 2 s.
    let held = -1;
    let still = 0;
    for (let i = 0; i < 120 && still < 8; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const now = await metric(base, 'cnproc_spool_held');
      still = now === held && now > 0 ? still + 1 : 0;
      held = now;
    }
    assert.ok(held >= 60, `${held} records in the spool`);
  } finally {
    first.child.kill('SIGKILL');
  }
  await first.exited;
  // While the agent is down: processes nobody records.
  await workload('dtest-down', 0, 20, 0);
  accept = true;
  const second = startCli([...OTLP, '--config', cfg, '--otlp-endpoint', rx.url, '--spool-dir', spool]);
  try {
    await waitFor('replay', () => /delivery: spool .*: \d+ records from before this start to replay/.test(second.stderr()), 15_000);
    await rx.waitFor(() => markers(rx.records, 'dtest-kill').size === 30, 30_000);
    // Events on every CPU after the restart let the agent measure each CPU's seq gap at once.
    await workload('dtest-after', 0, 20, 0);
    await rx.waitFor((recs) => recs.some((r) => r.attributes['cnproc.loss.downtime.forks'] !== undefined), 30_000);
    const down = rx.records.find((r) => r.attributes['cnproc.loss.downtime.forks'] !== undefined) as ReceivedLogRecord;
    t.diagnostic(String(down.body));
    assert.ok(Number(down.attributes['cnproc.loss.downtime.forks']) >= 20, String(down.body));
    assert.equal(down.attributes['cnproc.loss.downtime.clean'], false);
    // kill -9 sent no IGNORE, so the kernel kept generating events: the seq gap saw the down workload.
    assert.ok(Number(down.attributes['cnproc.loss.downtime.generated']) > 0, String(down.body));
    assert.equal(markers(rx.records, 'dtest-down').size, 0, 'nobody listened while the agent was down');
    const m = markers(rx.records, 'dtest-kill');
    assert.ok([...m.values()].every((n) => n === 1));
  } finally {
    second.child.kill('SIGTERM');
  }
  assert.equal(await second.exited, 0);
  const acc = assertDeliveryIdentity(second.report());
  assert.ok((acc.found_at_start ?? 0) >= 60, "the first run's spool was found");
});

test('a corrupted spool segment is skipped and counted; the rest is delivered', { timeout: 120_000 }, async (t) => {
  if (!needsRoot(t)) return;
  const spool = tempDir('cnproc-spool-corrupt-');
  // Small batches, so the markers spread over many segments; a short stop deadline.
  const cfg = config('batch:\n  maxExportBatchSize: 16\n  scheduledDelayMs: 200\ndelivery:\n  stopTimeoutMs: 500\n');
  const port = await freePort();
  const first = startCli([...OTLP, '--config', cfg, '--otlp-endpoint', `http://127.0.0.1:${port}`, '--spool-dir', spool]);
  try {
    await waitFor('exporting', () => /exporting to OTLP/.test(first.stderr()), 15_000);
    await workload('dtest-corrupt', 0, 40, 0.02);
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    first.child.kill('SIGTERM');
  }
  assert.equal(await first.exited, 0, 'a clean stop with the collector down');
  assert.match(first.stderr(), /[1-9]\d* records left in the spool for the next start/);

  // Corrupt one payload byte of a middle segment, after noting which markers it holds.
  const segs = readdirSync(spool)
    .filter((f) => f.endsWith('.seg'))
    .sort();
  assert.ok(segs.length >= 5, `${segs.length} segments`);
  const type = loadOtlpRoot().lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
  /** The marker exec records a segment holds (markers() counts exec records). */
  const markersIn = (bytes: Buffer): Set<string> => {
    // The agent stores bodies gzipped (encoding byte flag 0x80).
    const payload = bytes.subarray(SEGMENT_HEADER_BYTES);
    const body = ((bytes[5] ?? 0) & 0x80) !== 0 ? gunzipSync(payload) : payload;
    const req = type.toObject(type.decode(body), { longs: String }) as {
      resourceLogs: Array<{
        scopeLogs: Array<{
          logRecords: Array<{
            eventName?: string;
            attributes?: Array<{ key: string; value: { arrayValue?: { values: Array<{ stringValue?: string }> } } }>;
          }>;
        }>;
      }>;
    };
    const out = new Set<string>();
    for (const rl of req.resourceLogs)
      for (const sl of rl.scopeLogs)
        for (const lr of sl.logRecords) {
          if (lr.eventName !== 'process.exec') continue;
          const a = lr.attributes?.find((x) => x.key === 'process.command_args');
          const m = a?.value.arrayValue?.values.map((v) => v.stringValue ?? '').find((v) => v.startsWith('dtest-corrupt-'));
          if (m) out.add(m);
        }
    return out;
  };
  // The first segment from the middle on that holds marker execs.
  let victim = '';
  let bytes = Buffer.alloc(0);
  let lost = new Set<string>();
  for (let i = Math.floor(segs.length / 2); i < segs.length && lost.size === 0; i++) {
    victim = join(spool, segs[i] as string);
    bytes = readFileSync(victim);
    lost = markersIn(bytes);
  }
  assert.ok(lost.size > 0, 'a segment with marker execs to corrupt');
  const at = SEGMENT_HEADER_BYTES + Math.floor((bytes.length - SEGMENT_HEADER_BYTES) / 2);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  writeFileSync(victim, bytes);

  const rx = await receiver(port);
  const second = startCli([...OTLP, '--config', cfg, '--otlp-endpoint', rx.url, '--spool-dir', spool]);
  try {
    const want = expected('dtest-corrupt', 0, 40).filter((m) => !lost.has(m));
    await rx.waitFor(() => want.every((m) => markers(rx.records, 'dtest-corrupt').has(m)), 30_000);
    await rx.waitFor((recs) => recs.some((r) => Number(r.attributes['cnproc.loss.spool_corrupt'] ?? 0) > 0), 15_000);
    const got = markers(rx.records, 'dtest-corrupt');
    for (const m of lost) assert.ok(!got.has(m), `${m} was in the corrupt segment`);
    assert.ok([...got.values()].every((n) => n === 1));
    const down = rx.records.find((r) => r.attributes['cnproc.loss.downtime.clean'] !== undefined);
    if (down) assert.equal(down.attributes['cnproc.loss.downtime.clean'], true, 'the first run stopped cleanly');
    t.diagnostic(`${lost.size} markers in the corrupt segment, ${got.size} delivered`);
  } finally {
    second.child.kill('SIGTERM');
  }
  assert.equal(await second.exited, 0);
  assert.match(second.stderr(), /1 corrupt batches skipped/);
  const acc = assertDeliveryIdentity(second.report());
  assert.ok((acc.corrupt ?? 0) > 0 && (acc.found_at_start ?? 0) > (acc.corrupt ?? 0), JSON.stringify(acc));
  assertDeliveryIdentity(first.report());
});

test('an unusable or busy spool directory is a clear configuration error (78), before subscribing', async () => {
  const bad = startCli([...OTLP, '--otlp-endpoint', 'http://127.0.0.1:9', '--spool-dir', '/proc/cnproc-otel-spool']);
  assert.equal(await bad.exited, 78);
  assert.match(bad.stderr(), /delivery\.spoolDir: .*\/proc\/cnproc-otel-spool.*(--spool-dir|--spool false)/);
  assert.doesNotMatch(bad.stderr(), /subscribed to the proc connector/);

  const spool = tempDir('cnproc-spool-busy-');
  const holder = startCli(['--otlp-endpoint', 'http://127.0.0.1:9', '--exporter', 'otlp', '--spool-dir', spool, '--enrich', 'false']);
  try {
    await waitFor('first agent holds the spool', () => /delivery: spool /.test(holder.stderr()) || holder.child.exitCode !== null, 15_000);
    if (holder.child.exitCode !== null) return; // not root and the kernel refused: nothing holds the spool
    const second = startCli([...OTLP, '--otlp-endpoint', 'http://127.0.0.1:9', '--spool-dir', spool]);
    assert.equal(await second.exited, 78);
    assert.match(second.stderr(), new RegExp(`in use by pid ${holder.child.pid}`));
  } finally {
    holder.child.kill('SIGTERM');
  }
  await holder.exited;
});
