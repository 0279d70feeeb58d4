/**
 * Resources per workload: what goes on them (host attributes, workload names, never the agent's own
 * pod), and that the agent's encoder writes one ResourceLogs per workload, through a real
 * LoggerProvider with the processor first, as the agent builds it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { serializeRequest } from '../../src/otel/fast-logs-serializer.js';
import { isAgentWorkloadKey, WorkloadResourceProcessor, WorkloadResources } from '../../src/otel/workload-resource.js';
import { unknownProcess } from '../../src/process/model.js';
import { WorkloadResolver } from '../../src/process/workload.js';
import { loadOtlpRoot } from '../helpers/otlp-receiver.js';

const Request = loadOtlpRoot().lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

const agentResource = resourceFromAttributes({
  'service.name': 'cnproc-otel',
  'host.name': 'node-7',
  'k8s.node.name': 'node-7',
  'k8s.cluster.name': 'prod',
  'k8s.pod.name': 'cnproc-otel-x2k9f',
  'k8s.pod.uid': '11111111-2222-3333-4444-555555555555',
  'k8s.namespace.name': 'observability',
  'k8s.daemonset.name': 'cnproc-otel',
  'container.name': 'agent',
});

function setup() {
  // names: false: ids only (the names themselves are workload.test.ts's subject).
  const resolver = new WorkloadResolver({ names: false });
  const resources = new WorkloadResources(agentResource, resolver);
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: agentResource,
    processors: [new WorkloadResourceProcessor(resources), new SimpleLogRecordProcessor({ exporter })],
  });
  return { resolver, resources, exporter, logger: provider.getLogger('cnproc-otel') };
}

test('the agent’s own workload keys are not host attributes; node and cluster are', () => {
  assert.deepEqual(
    ['k8s.node.name', 'k8s.cluster.name', 'k8s.pod.name', 'k8s.namespace.name', 'k8s.daemonset.name', 'container.id', 'host.name'].map(
      isAgentWorkloadKey,
    ),
    [false, false, true, true, true, true, false],
  );
});

test('records of two containers and the host: three resources, one ResourceLogs each; the agent’s records keep the agent’s', () => {
  const { resolver, exporter, logger } = setup();
  // The enricher resolves each event's workload before the record is emitted.
  for (const id of [A, B]) resolver.of({ ...unknownProcess(1, 0), containerId: id, cgroup: `/docker/${id}` });
  const emit = (name: string, attrs: Record<string, string | number>) =>
    logger.emit({ eventName: name, attributes: { 'cnproc.event.name': name, ...attrs } });
  emit('process.exec', { 'container.id': A, 'process.pid': 1 });
  emit('process.exec', { 'process.pid': 2 });
  emit('process.exit', { 'container.id': B, 'process.pid': 3 });
  emit('process.exit', { 'container.id': A, 'process.pid': 1 });
  emit('cnproc.stats', { 'cnproc.stats.datagrams': 1 });
  const records = exporter.getFinishedLogRecords();
  const [a1, host, b, a2, stats] = records;
  assert.equal(a1?.resource, a2?.resource, 'one Resource object per workload: the encoders group by identity');
  assert.notEqual(a1?.resource, b?.resource);
  assert.equal(a1?.resource.attributes['container.id'], A);
  assert.equal(a1?.resource.attributes['k8s.node.name'], 'node-7');
  assert.equal(a1?.resource.attributes['k8s.pod.name'], undefined, 'not the agent’s pod');
  assert.equal(a1?.resource.attributes['container.name'], undefined, 'not the agent’s container');
  assert.equal(host?.resource.attributes['container.id'], undefined);
  assert.equal(host?.resource.attributes['k8s.namespace.name'], undefined);
  assert.equal(host?.resource.attributes['k8s.cluster.name'], 'prod');
  assert.equal(stats?.resource, agentResource, 'the agent’s own records describe the agent');

  const req = Request.toObject(Request.decode(serializeRequest(records)), { longs: String }) as {
    resourceLogs: Array<{
      resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
      scopeLogs: Array<{ logRecords: unknown[] }>;
    }>;
  };
  const summary = req.resourceLogs.map((rl) => [
    rl.resource.attributes.find((kv) => kv.key === 'container.id')?.value.stringValue?.slice(0, 1) ??
      rl.resource.attributes.find((kv) => kv.key === 'k8s.pod.name')?.value.stringValue ??
      'host',
    rl.scopeLogs.reduce((n, s) => n + s.logRecords.length, 0),
  ]);
  assert.deepEqual(summary, [
    ['a', 2],
    ['host', 1],
    ['b', 1],
    ['cnproc-otel-x2k9f', 1],
  ]);
});

test('spans: a process’s resource by its workload, the same object as its records’', () => {
  const { resolver, resources } = setup();
  const p = { ...unknownProcess(1, 0), containerId: A, cgroup: `/docker/${A}` };
  const r = resources.forProcess(p);
  assert.equal(r, resources.of(resolver.byId(A)));
  assert.equal(resources.forProcess(unknownProcess(2, 0)), resources.host);
});
