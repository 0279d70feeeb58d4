/**
 * The pipeline's joints that only show with the real kernel: which events it subscribes to for the
 * process table, and which of them become records.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { type ProcessLogs, startProcessLogs, tableSubscription } from '../../src/pipeline/pipeline.js';
import { needsRoot, run, waitFor } from '../helpers/kernel.js';

async function logsWith(
  opts: Partial<Parameters<typeof startProcessLogs>[0]>,
): Promise<{ logs: ProcessLogs; exporter: InMemoryLogRecordExporter; provider: LoggerProvider }> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logs = await startProcessLogs({ loggerProvider: provider, hashExecutables: false, ...opts });
  return { logs, exporter, provider };
}

const names = (e: InMemoryLogRecordExporter, pids: readonly number[]): string[] =>
  e
    .getFinishedLogRecords()
    .filter((r) => pids.includes(r.attributes['process.pid'] as number))
    .map((r) => r.eventName as string);

test('tableSubscription: every exit joins the subscription, nothing else changes', () => {
  assert.deepEqual(tableSubscription(['exec']), { types: ['exec', 'exit'], exitNonzeroOnly: false });
  assert.deepEqual(tableSubscription(['exec', 'exit']), { types: ['exec', 'exit'], exitNonzeroOnly: false });
  assert.deepEqual(tableSubscription(['fork', 'uid']), { types: ['fork', 'uid', 'exit'], exitNonzeroOnly: false });
});

test('events: [exec] keeps the process table bounded: exits update it and become no records (counted as filtered)', async (t) => {
  if (!needsRoot(t)) return;
  const { logs, exporter, provider } = await logsWith({ events: ['exec'] });
  t.after(async () => {
    await logs.stop();
    await provider.shutdown();
  });
  const before = logs.enricher.stats().processes;
  const pids: number[] = [];
  for (let i = 0; i < 20; i++) pids.push((await run('sleep', ['0.01'])).pid);
  await waitFor('the exec records', () => names(exporter, pids).filter((n) => n === 'process.exec').length === pids.length || undefined);
  // Each of the 20 left the table at its exit (other processes on the host come and go: slack).
  await waitFor('the table back to its size', () => logs.enricher.stats().processes <= before + 5 || undefined);
  assert.deepEqual(new Set(names(exporter, pids)), new Set(['process.exec']), 'no exit records');
  const s = logs.stats();
  assert.ok(s.filtered >= pids.length, `exits counted as filtered: ${s.filtered}`);
  assert.equal(s.capture.delivered, s.emitted + s.filtered, 'every delivered event is a record or counted');
});

test('exitNonzeroOnly: zero exits update the table, only the others become records; a reload keeps it so', async (t) => {
  if (!needsRoot(t)) return;
  const { logs, exporter, provider } = await logsWith({ events: ['exec', 'exit'], exitNonzeroOnly: true });
  t.after(async () => {
    await logs.stop();
    await provider.shutdown();
  });
  const before = logs.enricher.stats().processes;
  const zeros: number[] = [];
  for (let i = 0; i < 10; i++) zeros.push((await run('sh', ['-c', 'sleep 0.01; exit 0'])).pid);
  const three = (await run('sh', ['-c', 'sleep 0.01; exit 3'])).pid;
  await waitFor('the exit 3 record', () => names(exporter, [three]).includes('process.exit') || undefined);
  await waitFor('the table back to its size', () => logs.enricher.stats().processes <= before + 5 || undefined);
  assert.deepEqual(new Set(names(exporter, zeros)), new Set(['process.exec']), 'no record of a zero exit');
  // Reloaded to exec alone: exits keep coming for the table, none becomes a record.
  logs.setEvents(['exec'], false);
  const after = (await run('sh', ['-c', 'sleep 0.01; exit 5'])).pid;
  await waitFor('its exec record', () => names(exporter, [after]).includes('process.exec') || undefined);
  await waitFor('the table back to its size', () => logs.enricher.stats().processes <= before + 5 || undefined);
  assert.deepEqual(names(exporter, [after]), ['process.exec']);
  const s = logs.stats();
  assert.equal(s.capture.delivered, s.emitted + s.filtered);
});
