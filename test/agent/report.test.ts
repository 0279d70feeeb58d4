import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLoss, maskNames, stopReport } from '../../src/agent/report.js';
import * as abi from '../../src/kernel/abi.js';
import { captureStats, telemetrySnapshot } from '../helpers/stats.js';

const stats = captureStats;

test('stop summary', () => {
  assert.match(describeLoss(stats({ delivered: 10, kernelDrops: 2, handoffDropped: 1 })), /^10 events delivered, 3 lost/);
});

test('mask names', () => {
  assert.equal(maskNames(abi.PROC_EVENT_ALL), 'all');
  assert.equal(maskNames(abi.PROC_EVENT_EXEC | abi.PROC_EVENT_NONZERO_EXIT), 'exec,exit(non-zero)');
});

test('stop report: the loss line from the loss table, the process table and the parseable accounting', () => {
  const final = telemetrySnapshot({
    capture: captureStats({ delivered: 90, generated: 100, kernelDrops: 10, execSuperseded: { flagged: 2, unflagged: 1 } }),
    emitted: 80,
    filtered: 10,
  });
  const lines = stopReport({
    final,
    enrich: true,
    filter: { rules: [], stats: () => ({ kept: 0, dropped: 0, rules: [], defaultHits: 0 }) },
    spool: true,
    flushed: true,
    delivered: true,
    otlpStored: 0,
  });
  assert.match(lines[0] ?? '', /^stopped: 90 events delivered, 10 lost/);
  assert.equal(
    lines[1],
    'loss: kernel_drops=10 seq_gaps=0 handoff=0 malformed=0 export_queue_full=0 export_failed=0 rate_limit=0 priority=0 export_rejected=0 spool_full=0 spool_corrupt=0',
  );
  assert.match(lines[2] ?? '', /2 read after a later exec \(flagged\), 1 found too late to flag$/);
  assert.match(lines[3] ?? '', /^accounting: generated=100 kernel_lost=10 received=90 handoff_dropped=0 emitted=80 filtered=10 /);
  assert.ok(!lines.some((l) => l.startsWith('filter:')), 'no filter line without rules');
});

test('stop report: executable hashes, skipped by reason, and exec records with and without the hash', () => {
  const final = telemetrySnapshot({
    process: {
      processes: 3,
      evicted: 0,
      execIncomplete: 0,
      execs: 40,
      hash: {
        hashed: 5,
        bytes: 3 * 1_048_576,
        cpuUs: 4200,
        execsWithHash: 30,
        execsLate: 6,
        skipped: { too_large: 1, not_regular: 0, gone: 2, denied: 0, changed: 1, timeout: 0, queue_full: 0, failed: 0 },
        cached: 9,
        queued: 0,
      },
    },
  });
  const lines = stopReport({
    final,
    enrich: true,
    filter: { rules: [], stats: () => ({ kept: 0, dropped: 0, rules: [], defaultHits: 0 }) },
    spool: true,
    flushed: true,
    delivered: true,
    otlpStored: 0,
  });
  assert.ok(
    lines.includes(
      'executable hashes: 5 files hashed (3.0 MiB, 4 ms CPU), skipped: too_large=1 gone=2 changed=1; 30 exec records with the hash, 6 without it yet (late)',
    ),
    lines.join('\n'),
  );
  // Hashing off: no line.
  const off = stopReport({
    final: telemetrySnapshot(),
    enrich: true,
    filter: { rules: [], stats: () => ({ kept: 0, dropped: 0, rules: [], defaultHits: 0 }) },
    spool: true,
    flushed: true,
    delivered: true,
    otlpStored: 0,
  });
  assert.ok(!off.some((l) => l.startsWith('executable hashes')));
});
