/**
 * One truth for counters: the cnproc.loss records (summed), the cnproc.stats record, the
 * Prometheus text and the stop summary report the same loss, cause by cause, because all four are
 * derived from one TelemetrySnapshot and the LOSS_CAUSES table.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describeLossTotals } from '../../src/agent/report.js';
import { BatchLedger } from '../../src/delivery/batch-store.js';
import { zeroDeliveryCounters } from '../../src/delivery/delivery.js';
import { lossRecord, statsRecord } from '../../src/telemetry/agent-records.js';
import { SelfTelemetry } from '../../src/telemetry/self-telemetry.js';
import { LOSS_KEYS, type LossKey, type TelemetrySnapshot } from '../../src/telemetry/snapshot.js';
import { startCli } from '../helpers/cli.js';
import { needsRoot, run, waitFor } from '../helpers/kernel.js';
import { captureStats, telemetrySnapshot } from '../helpers/stats.js';

type Counts = Record<LossKey, number>;

function zero(): Counts {
  return Object.fromEntries(LOSS_KEYS.map((k) => [k, 0])) as Counts;
}

/** Per cause from "loss: kernel_drops=1 seq_gaps=0 ...". */
function parseSummary(line: string): Counts {
  const out = zero();
  for (const m of line.matchAll(/(\w+)=(\d+)/g)) out[m[1] as LossKey] = Number(m[2]);
  return out;
}

function parseProm(text: string): Counts {
  const out = zero();
  for (const m of text.matchAll(/^cnproc_loss_total\{cause="(\w+)"[^}]*\} (\d+)$/gm)) out[m[1] as LossKey] = Number(m[2]);
  return out;
}

function sumLoss(records: Array<Record<string, unknown>>): Counts {
  const out = zero();
  for (const a of records) for (const k of LOSS_KEYS) out[k] += Number(a[`cnproc.loss.${k}`] ?? 0);
  return out;
}

function statsTotals(a: Record<string, unknown>): Counts {
  const out = zero();
  for (const k of LOSS_KEYS) out[k] = Number(a[`cnproc.stats.lost.${k}`]);
  return out;
}

function exporter(queueFull: number, failed: number, timeout: number) {
  return {
    name: 'otlp',
    stats: {
      emitted: 0,
      exported: 0,
      dropped: { queue_full: queueFull, export_failed: failed, export_timeout: timeout, shutdown: 0 },
      queued: 0,
      inFlight: 0,
      failedExports: 0,
      lastError: null,
      lastExportOk: null,
    },
  };
}

function delivery(rejected: number, partial: number, droppedRecords: number, corrupt: number): TelemetrySnapshot['delivery'] {
  const store = new BatchLedger().stats();
  return {
    ...zeroDeliveryCounters(),
    rejected,
    partiallyRejected: partial,
    store: { ...store, droppedOldest: { batches: 1, records: droppedRecords }, corrupt: { batches: corrupt, records: corrupt * 10 } },
  };
}

test('every cause, over a run of snapshots: loss records, stats record, Prometheus and summary agree', async () => {
  const steps: TelemetrySnapshot[] = [
    telemetrySnapshot(),
    telemetrySnapshot({
      capture: captureStats({
        kernelDrops: 12,
        enobufs: 1,
        seqGaps: 12,
        seqGapsLost: 12,
        handoffDropped: 5,
        malformed: { ...captureStats().malformed, cn_id: 2 },
      }),
      exporters: [exporter(3, 0, 0)],
      delivery: delivery(1, 0, 0, 0),
    }),
    // After a reload to a filtered subscription: its gaps are not loss.
    telemetrySnapshot({
      capture: captureStats({
        kernelDrops: 12,
        seqGaps: 40,
        seqGapsExact: false,
        seqGapsLost: 12,
        handoffDropped: 5,
        malformed: { ...captureStats().malformed, cn_id: 2 },
      }),
      exporters: [exporter(3, 2, 1)],
      pressure: { level: 3, passed: 0, aggregated: 0, dropped: { rate_limit: 7, priority: 4 }, stormRecords: 0, transitions: 1 },
      delivery: delivery(1, 2, 100, 1),
    }),
    telemetrySnapshot({
      capture: captureStats({
        kernelDrops: 20,
        seqGaps: 50,
        seqGapsLost: 22,
        handoffDropped: 9,
        malformed: { ...captureStats().malformed, cn_id: 2, short: 1 },
      }),
      exporters: [exporter(4, 2, 1)],
      pressure: { level: 0, passed: 0, aggregated: 0, dropped: { rate_limit: 8, priority: 4 }, stormRecords: 0, transitions: 2 },
      delivery: delivery(3, 2, 150, 1),
    }),
  ];
  const records: Array<Record<string, unknown>> = [];
  for (let i = 1; i < steps.length; i++) {
    const r = lossRecord(steps[i - 1] as TelemetrySnapshot, steps[i] as TelemetrySnapshot, [1, 0]);
    if (r) records.push(r.attributes as Record<string, unknown>);
  }
  const last = steps[steps.length - 1] as TelemetrySnapshot;
  const fromRecords = sumLoss(records);
  const fromStats = statsTotals(statsRecord(last, [1, 0]).attributes as Record<string, unknown>);
  const fromSummary = parseSummary(describeLossTotals(last));
  const telemetry = await SelfTelemetry.start({
    host: '127.0.0.1',
    port: 0,
    resource: resourceFromAttributes({ 'service.name': 'agree' }),
    snapshot: () => last,
  });
  let fromProm: Counts;
  try {
    fromProm = parseProm(await (await fetch(`http://127.0.0.1:${telemetry.port}/metrics`)).text());
  } finally {
    await telemetry.stop();
  }
  // The expected totals, worked out by hand from the steps above.
  const expected: Counts = {
    kernel_drops: 20,
    seq_gaps: 22,
    handoff: 9,
    malformed: 3,
    export_queue_full: 4,
    export_failed: 3,
    rate_limit: 8,
    priority: 4,
    export_rejected: 5,
    spool_full: 150,
    spool_corrupt: 1,
  };
  assert.deepEqual(fromSummary, expected, 'stop summary');
  assert.deepEqual(fromStats, expected, 'cnproc.stats');
  assert.deepEqual(fromProm, expected, 'Prometheus');
  assert.deepEqual(fromRecords, expected, 'cnproc.loss records, summed');
});

test('the running agent after a burst: loss records, last stats record, /metrics and the stop summary agree', async (t) => {
  if (!needsRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-agree-'));
  const f = join(dir, 'agree.yaml');
  // Only the records of sleep runs carrying this test's marker pass the filter (other work on the
  // host runs sleep too), and root gets 1 event/s (burst 2): a burst of them is mostly
  // rate-limited, a loss cause with a known, bounded count. sleep, not true: the filter matches on
  // argv, which the capture thread reads from /proc at the exec, and a program that is gone within
  // a millisecond is sometimes missed under load (flagged, and then filtered out, not
  // rate-limited), which made the count depend on the machine's load. The marker is a duration,
  // which sleep adds: a few microseconds.
  const marker = `0.0000${process.pid}${Date.now() % 100000}`;
  writeFileSync(
    f,
    [
      'filter:',
      '  defaultAction: drop',
      `  rules: [{ action: keep, match: { executable: /usr/bin/sleep, argv: '${marker.replace('.', '\\.')}' } }]`,
      'pressure:',
      '  rateLimitPerUser: 1',
      'stats:',
      '  intervalMs: 200',
      'capture:',
      '  statsIntervalMs: 100',
      '',
    ].join('\n'),
  );
  const agent = startCli(['--config', f, '--console-format', 'json', '--exporter', 'console']);
  const own = (name: string): Array<Record<string, unknown>> =>
    agent
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { eventName?: string; attributes: Record<string, unknown> })
      .filter((r) => r.eventName === name)
      .map((r) => r.attributes);
  let prom: Counts;
  let burstSeconds = 0;
  try {
    const m = await waitFor('metrics line', () => /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(agent.stderr()), 15_000);
    const started = performance.now();
    for (let i = 0; i < 20; i++) assert.equal((await run('/usr/bin/sleep', ['0.02', marker])).code, 0);
    burstSeconds = (performance.now() - started) / 1000;
    // Settled: the loss records have caught up with a rate-limit count that no longer moves.
    let seen = -1;
    await waitFor(
      'loss settled',
      () => {
        const n = sumLoss(own('cnproc.loss')).rate_limit;
        const settled = n > 0 && n === seen;
        seen = n;
        return settled;
      },
      10_000,
    );
    await new Promise((r) => setTimeout(r, 500)); // a stats record after the last loss record
    prom = parseProm(await (await fetch(`http://127.0.0.1:${m[1]}/metrics`)).text());
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
  const fromRecords = sumLoss(own('cnproc.loss'));
  const stats = own('cnproc.stats');
  const fromStats = statsTotals(stats[stats.length - 1] as Record<string, unknown>);
  const line = /loss: (.*)$/m.exec(agent.stderr());
  assert.ok(line, 'the stop summary has a loss line');
  const fromSummary = parseSummary(line[1] as string);
  // Each of the 20 runs is an exec and an exit that the filter keeps: each is either let through
  // (a record with the marker) or rate-limited, never both, never neither. The bucket lets through
  // its burst of 2 and then 1 per second of the burst (CI's second suite, on a loaded machine,
  // took ~10 s for the 20 runs: a fixed bound of 10 let through failed there).
  const kept = agent
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(marker)).length;
  assert.equal(fromRecords.rate_limit + kept, 40, `rate-limited ${fromRecords.rate_limit} + let through ${kept}; ${agent.stderr()}`);
  assert.ok(
    kept >= 2 && kept <= 3 + Math.ceil(burstSeconds),
    `let through ${kept} in ${burstSeconds.toFixed(1)} s at 1/s with a burst of 2`,
  );
  assert.deepEqual(fromStats, fromRecords, 'last cnproc.stats record = sum of cnproc.loss records');
  assert.deepEqual(prom, fromRecords, 'Prometheus = sum of cnproc.loss records');
  assert.deepEqual(fromSummary, fromRecords, 'stop summary = sum of cnproc.loss records');
});
