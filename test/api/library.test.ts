/**
 * The package entry point as another program would use it: its own OpenTelemetry LoggerProvider
 * (the real SDK, with its in-memory exporter), process events as records on it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { CaptureError, EVENT_TYPES, type ProcEvent, ProcEventSource, startProcessLogs } from '../../src/index.js';
import { unknownProcess } from '../../src/process/model.js';
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

test('library path, both ways: names on the records by default; the agent’s grouping with the processor', async (t) => {
  const { WorkloadResolver, WorkloadResourceProcessor, WorkloadResources } = await import('../../src/index.js');
  // A container's workload, as the enricher would resolve it (no runtime needed here).
  const resolver = new WorkloadResolver({ names: false });
  const id = 'f'.repeat(64);
  resolver.of({ ...unknownProcess(5, 1), containerId: id, cgroup: `/docker/${id}` });
  const exporter = new InMemoryLogRecordExporter();
  const resource = resourceFromAttributes({ 'service.name': 'host-app' });
  const provider = new LoggerProvider({
    resource,
    processors: [new WorkloadResourceProcessor(new WorkloadResources(resource, resolver)), new SimpleLogRecordProcessor({ exporter })],
  });
  provider
    .getLogger('cnproc-otel')
    .emit({ eventName: 'process.exec', attributes: { 'cnproc.event.name': 'process.exec', 'container.id': id } });
  const [r] = exporter.getFinishedLogRecords();
  assert.equal(r?.resource.attributes['container.id'], id, 'grouped under the workload’s resource');
  assert.equal(r?.resource.attributes['service.name'], 'host-app', 'on top of the caller’s resource');
  await provider.shutdown();
  t.diagnostic('startProcessLogs({ workloads: resolver, workloadAttributes: false }) feeds the same resolver');
});
