import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchLedger } from '../../src/delivery/batch-store.js';
import { type DeliveryStats, zeroDeliveryCounters } from '../../src/delivery/delivery.js';
import { downtimeRecord, lossRecord } from '../../src/telemetry/agent-records.js';
import type { TelemetrySnapshot } from '../../src/telemetry/snapshot.js';
import { captureStats, telemetrySnapshot } from '../helpers/stats.js';

function counters(over: Partial<TelemetrySnapshot> = {}): TelemetrySnapshot {
  return telemetrySnapshot(over);
}

function delivery(over: Partial<DeliveryStats> = {}, store: Partial<DeliveryStats['store']> = {}): DeliveryStats {
  return { ...zeroDeliveryCounters(), ...over, store: { ...new BatchLedger().stats(), ...store } };
}

test('no loss, no record', () => {
  assert.equal(lossRecord(counters(), counters({ capture: captureStats({ delivered: 100 }) }), [1, 0]), null);
});

test('each capture loss cause is named with its count, and counted in its attribute', () => {
  const now = counters({
    capture: captureStats({
      kernelDrops: 12,
      enobufs: 1,
      seqGaps: 12,
      seqGapsLost: 12,
      handoffDropped: 5,
      malformed: { ...captureStats().malformed, cn_id: 2 },
    }),
  });
  const r = lossRecord(counters(), now, [1, 0]);
  assert.ok(r);
  const body = String(r.body);
  assert.match(body, /12 dropped by the kernel/);
  assert.match(body, /1 ENOBUFS/);
  assert.match(body, /12 missing from kernel sequence numbers/);
  assert.match(body, /5 dropped between capture and main thread/);
  assert.match(body, /2 malformed datagrams skipped \(cn_id 2\)/);
  assert.equal(r.attributes?.['cnproc.loss.kernel_drops'], 12);
  assert.equal(r.attributes?.['cnproc.loss.handoff'], 5);
  assert.equal(r.attributes?.['cnproc.loss.malformed'], 2);
});

test('seq gaps of a filtered subscription are not reported as loss', () => {
  assert.equal(lossRecord(counters(), counters({ capture: captureStats({ seqGaps: 50, seqGapsExact: false }) }), [1, 0]), null);
});

test('delivery losses: rejected (also partial success), spool full, corrupt spool batches', () => {
  const prev = counters({ delivery: delivery({ rejected: 10 }, { droppedOldest: { batches: 1, records: 100 } }) });
  const now = counters({
    delivery: delivery(
      { rejected: 15, partiallyRejected: 2 },
      { droppedOldest: { batches: 3, records: 300 }, corrupt: { batches: 1, records: 50 } },
    ),
  });
  const r = lossRecord(prev, now, [1, 0]);
  assert.ok(r);
  assert.equal(r.attributes?.['cnproc.loss.export_rejected'], 7);
  assert.equal(r.attributes?.['cnproc.loss.spool_full'], 200);
  assert.equal(r.attributes?.['cnproc.loss.spool_corrupt'], 1);
  assert.match(String(r.body), /7 records rejected by the collector; 200 records dropped from the full spool.*; 1 corrupt spool batches/);
});

test('downtime: forks and kernel events while down; upper bound after a crash; nothing across a reboot', () => {
  const clean = downtimeRecord({ clean: true, sameBoot: true, downMs: 2500, forks: 40, generated: 0, cpusCompared: 2 }, [1, 0]);
  assert.ok(clean);
  assert.match(String(clean.body), /down for 2\.5 s, 40 processes and threads were forked; the kernel generated 0 events/);
  assert.equal(clean.attributes?.['cnproc.loss.downtime.clean'], true);
  const crash = downtimeRecord({ clean: false, sameBoot: true, downMs: 1000, forks: 5, generated: 9, cpusCompared: 1 }, [1, 0]);
  assert.ok(crash);
  assert.match(String(crash.body), /down for 1\.0 s \(it did not stop cleanly: upper bounds\), 5 processes/);
  assert.equal(crash.attributes?.['cnproc.loss.downtime.generated'], 9);
  assert.equal(downtimeRecord({ clean: true, sameBoot: false, downMs: 1, forks: 0, generated: 0, cpusCompared: 0 }, [1, 0]), null);
  assert.equal(downtimeRecord({ clean: true, sameBoot: true, downMs: 1, forks: 0, generated: 0, cpusCompared: 0 }, [1, 0]), null);
});
