/**
 * The package entry point as another program would use it: its own OpenTelemetry LoggerProvider
 * (the real SDK, with its in-memory exporter), process events as records on it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { CaptureError, EVENT_TYPES, type ProcEvent, ProcEventSource, startProcessLogs } from '../../src/index.js';
import { isRoot, run, waitFor } from '../helpers/kernel.js';

test('the entry point exports the API', () => {
  assert.equal(typeof ProcEventSource.start, 'function');
  assert.equal(typeof startProcessLogs, 'function');
  assert.equal(EVENT_TYPES.length, 9);
  assert.ok(new CaptureError('x', 'internal') instanceof Error);
});

test('README example: records on the host program’s own LoggerProvider', async (t) => {
  const exporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'host-app' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  let logs: Awaited<ReturnType<typeof startProcessLogs>>;
  try {
    logs = await startProcessLogs({ loggerProvider, events: ['exec', 'exit'] });
  } catch (err) {
    if (!isRoot && err instanceof CaptureError && err.category === 'permission') return t.skip(err.message);
    throw err;
  }
  const { pid } = await run('sh', ['-c', 'sleep 0.1; exit 7']);
  const exit = await waitFor('exit record', () =>
    exporter.getFinishedLogRecords().find((r) => r.eventName === 'process.exit' && r.attributes['process.pid'] === pid),
  );
  assert.equal(exit.attributes['process.exit.code'], 7);
  assert.equal(exit.resource.attributes['service.name'], 'host-app', 'the host program’s resource');
  assert.equal(exit.instrumentationScope.name, 'cnproc-otel');
  assert.ok(exporter.getFinishedLogRecords().every((r) => r.eventName === 'process.exec' || r.eventName === 'process.exit'));
  const stats = logs.stats();
  assert.equal(stats.emitted, stats.capture.delivered);
  await logs.stop();
  await loggerProvider.shutdown();
});

test('raw capture: typed events without OpenTelemetry', async (t) => {
  const seen: ProcEvent[] = [];
  let source: ProcEventSource;
  try {
    source = await ProcEventSource.start({ events: ['exec', 'exit'], onEvents: (evs) => seen.push(...evs) });
  } catch (err) {
    if (!isRoot && err instanceof CaptureError && err.category === 'permission') return t.skip(err.message);
    throw err;
  }
  const { pid } = await run('sh', ['-c', 'exit 7']);
  const exit = await waitFor('exit', () => seen.find((e) => e.kind === 'exit' && e.tgid === pid));
  assert.ok(exit.kind === 'exit' && exit.exitCode === 7);
  const stats = await source.stop();
  assert.equal(stats.delivered, seen.length);
  assert.equal(await source.stop(), await source.stop(), 'stop is idempotent');
});
