import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type StopReportInput, stopReport } from '../../src/agent/report.js';
import { stopDocument, writeStopDocument } from '../../src/agent/stop-document.js';
import { captureStats, telemetrySnapshot } from '../helpers/stats.js';

const input = {
  final: telemetrySnapshot({
    capture: captureStats({ delivered: 90, generated: 100, kernelDrops: 10, execSuperseded: { flagged: 2, unflagged: 1 } }),
    emitted: 70,
    filtered: 20,
  }),
  enrich: true,
  // One rule is all the report looks at: whether there are any, and their hit counts.
  filter: {
    rules: [{}],
    stats: () => ({ kept: 70, dropped: 20, rules: [{ name: 'quiet', action: 'drop', hits: 20 }], defaultHits: 70 }),
  } as unknown as StopReportInput['filter'],
  spool: true,
  flushed: true,
  delivered: false,
  otlpStored: 0,
};

test('the stop document carries the same accounting as the stop lines, as numbers', () => {
  const doc = stopDocument(input, new Date('2026-11-30T10:00:00Z'));
  assert.equal(doc.schema, 1);
  assert.equal(doc.stoppedAt, '2026-11-30T10:00:00.000Z');
  assert.equal(doc.delivered, false);
  const line = stopReport(input).find((l) => l.startsWith('accounting: ')) as string;
  const fromLine = Object.fromEntries(
    line
      .slice('accounting: '.length)
      .split(' ')
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
  assert.deepEqual(doc.accounting, fromLine);
  assert.equal(doc.accounting.received, 90);
  assert.equal(doc.loss.kernel_drops, 10);
  assert.deepEqual(doc.process, { ...doc.process, execSuperseded: 3 });
  assert.equal(doc.process?.live, input.final.process.processes);
  assert.deepEqual(doc.filter, { kept: 70, dropped: 20, rules: [{ name: 'quiet', action: 'drop', hits: 20 }], defaultHits: 70 });
  assert.equal(doc.delivery, null, 'no delivery section without OTLP');
});

test('written whole: a temporary file renamed over the target, nothing left beside it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-stopdoc-'));
  const path = join(dir, 'stop.json');
  writeStopDocument(path, stopDocument(input));
  writeStopDocument(path, stopDocument({ ...input, delivered: true }));
  assert.deepEqual(readdirSync(dir), ['stop.json']);
  assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { delivered: boolean }).delivered, true);
});
