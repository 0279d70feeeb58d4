/**
 * Self-telemetry of the running agent (root): Prometheus text on 127.0.0.1, /healthz, /readyz
 * following the exporter's health.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { CLI, startCli } from '../helpers/cli.js';
import { needsRoot, run, waitFor } from '../helpers/kernel.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';

let rx: OtlpReceiver | undefined;
after(async () => {
  await rx?.close();
});

async function get(url: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { method });
  return { status: r.status, body: await r.text() };
}

test('metrics, health and readiness on 127.0.0.1', async (t) => {
  if (!needsRoot(t)) return;
  rx = await startOtlpReceiver();
  let failing = false;
  let failStatus = 503;
  rx.setResponder(() => (failing ? { status: failStatus } : null));
  const agent = startCli(['--otlp-endpoint', rx.url, '--exporter', 'otlp']);
  try {
    const m = await waitFor('metrics line', () => /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(agent.stderr()), 15_000);
    const base = `http://127.0.0.1:${m[1]}`;
    await run('sh', ['-c', 'exit 0']);
    await rx.waitFor((recs) => recs.length > 0, 10_000);
    const text = (await get(`${base}/metrics`)).body;
    assert.match(text, /^cnproc_events_delivered_total\{[^}]*\} [1-9]\d*$/m);
    assert.match(text, /^cnproc_events_lost_total\{cause="kernel_receive_queue"[^}]*\} 0$/m);
    assert.match(text, /^cnproc_records_dropped_total\{exporter="otlp",reason="queue_full"[^}]*\} 0$/m);
    assert.match(text, /^cnproc_process_table_size\{[^}]*\} [1-9]\d*$/m);
    // Units in the names (By → _bytes, s → _seconds), and the exposition passes promtool's lint.
    assert.match(text, /^cnproc_memory_rss_bytes\{[^}]*\} \d+$/m);
    assert.match(text, /^cnproc_socket_queued_bytes\{[^}]*\} \d+$/m);
    assert.match(text, /^cnproc_spool_size_bytes\{[^}]*\} \d+$/m);
    assert.match(text, /^cnproc_event_lag_seconds\{[^}]*\} [\d.e-]+$/m);
    assert.doesNotMatch(text, /^cnproc_memory_rss\{/m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.ok(!lint.error, `promtool (Debian package prometheus; npm test installs it as root): ${lint.error?.message}`);
    assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
    assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'promtool: no lint findings');
    assert.match(text, /^cnproc_containers\{[^}]*\} \d+$/m);
    assert.match(text, /^cnproc_container_lookups_total\{[^}]*outcome="unresolved"[^}]*\} \d+$/m);
    // Executable hashes (on by default): files hashed or skipped by outcome, execs by hash known or late.
    assert.match(text, /^cnproc_executable_hashes_total\{[^}]*outcome="hashed"[^}]*\} \d+$/m);
    assert.match(text, /^cnproc_executable_hashes_total\{[^}]*outcome="too_large"[^}]*\} \d+$/m);
    assert.match(text, /^cnproc_executable_hash_execs_total\{[^}]*hash="late"[^}]*\} \d+$/m);
    assert.match(text, /^cnproc_executable_hash_bytes_total\{[^}]*\} \d+$/m);
    assert.match(text, /^cnproc_capture_handoffs_total\{[^}]*\} \d+$/m);
    // Woken by every event (the default): the exec-only socket's counters exist and stay at 0.
    assert.match(text, /^cnproc_capture_exec_wakeups_total\{[^}]*\} 0$/m);
    assert.match(text, /^cnproc_capture_exec_snapshots_total\{[^}]*read="wakeup"[^}]*\} 0$/m);
    assert.match(text, /^cnproc_capture_exec_superseded_total\{[^}]*flagged="false"[^}]*\} 0$/m);
    assert.match(text, /service_name="cnproc-otel"/, 'resource as target_info');
    assert.deepEqual(await get(`${base}/healthz`), { status: 200, body: 'alive\n' });
    assert.equal((await get(`${base}/readyz`)).status, 200);
    assert.equal((await get(`${base}/nope`)).status, 404);
    assert.equal((await get(`${base}/metrics`, 'POST')).status, 405);

    // The collector starts refusing: not ready, with the reason.
    failing = true;
    await run('sh', ['-c', 'exit 0']);
    let ready = await get(`${base}/readyz`);
    for (let i = 0; i < 100 && ready.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await get(`${base}/readyz`);
    }
    assert.equal(ready.status, 503);
    assert.match(ready.body, /collector not accepting \(\d+ attempts\): HTTP 503/);
    // The DaemonSet's readiness stays: a gateway outage must not take every agent out of rotation.
    assert.deepEqual(await get(`${base}/readyz/capture`), { status: 200, body: 'subscribed (delivery is not part of this check)\n' });
    let metrics = (await get(`${base}/metrics`)).body;
    assert.match(metrics, /^cnproc_delivery_retries_total\{[^}]*\} [1-9]\d*$/m);
    // The collector answers again, then refuses for good: ready, then not ready with the reason.
    failing = false;
    for (let i = 0; i < 300 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await get(`${base}/readyz`);
    }
    assert.equal(ready.status, 200);
    failStatus = 400;
    failing = true;
    await run('sh', ['-c', 'exit 0']);
    for (let i = 0; i < 100 && ready.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await get(`${base}/readyz`);
    }
    assert.equal(ready.status, 503);
    assert.match(ready.body, /collector rejected the last batch: HTTP 400/);
    metrics = (await get(`${base}/metrics`)).body;
    assert.match(metrics, /^cnproc_delivery_records_total\{[^}]*outcome="rejected"[^}]*\} [1-9]\d*$/m);
    failing = false;
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
});

test('a taken metrics port is a clear configuration error', async (t) => {
  if (!needsRoot(t)) return;
  const { createServer } = await import('node:net');
  const blocker = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const port = (blocker.address() as { port: number }).port;
  const agent = startCli(['--metrics-port', String(port), '--console-format', 'json']);
  try {
    const code = await agent.exited;
    // A signal instead of a code: say which, with the agent's log (it crashed once in a full run).
    assert.equal(code, 78, `exit ${code}, signal ${agent.child.signalCode}; log:\n${agent.stderr()}`);
    assert.match(agent.stderr(), new RegExp(`metrics listener on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
  } finally {
    blocker.close();
  }
});

test('metrics over OTLP: the same instruments pushed to the collector, without the listener', async (t) => {
  if (!needsRoot(t)) return;
  const mrx = await startOtlpReceiver();
  try {
    // metrics.enabled false: no listener; metrics.otlp true with a short interval (environment).
    const child = spawn(process.execPath, [CLI, '--otlp-endpoint', mrx.url, '--exporter', 'otlp', '--spool', 'false'], {
      env: { ...process.env, CNPROC_OTEL_METRICS: 'false', CNPROC_OTEL_METRICS_OTLP: 'true', OTEL_METRIC_EXPORT_INTERVAL: '1000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    try {
      await waitFor(
        'push line',
        () => /metrics pushed over OTLP to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics every 1000 ms/.test(err),
        15_000,
      );
      assert.doesNotMatch(err, /metrics on http/, 'no listener');
      await run('sh', ['-c', 'exit 0']);
      await waitFor(
        'a pushed cnproc.events.delivered above 0',
        () => mrx.metrics.some((p) => p.name === 'cnproc.events.delivered' && Number(p.value) > 0),
        15_000,
      );
      const p = mrx.metrics.find((m) => m.name === 'cnproc.events.delivered');
      assert.equal(p?.kind, 'sum');
      assert.equal(p?.resource['service.name'], 'cnproc-otel');
      assert.ok(mrx.metrics.some((m) => m.name === 'cnproc.memory.rss' && m.kind === 'gauge' && Number(m.value) > 0));
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0);
  } finally {
    await mrx.close();
  }
});
