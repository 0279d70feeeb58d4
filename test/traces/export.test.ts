/**
 * Spans built from hand-made events, exported by the real OTLP/HTTP trace exporters to the test
 * receiver (which decodes both encodings itself): attributes from the one mapping, status, exec
 * events, parent ids, and the export accounting.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { schemaDefaults } from '../../src/config/defaults.js';
import type { AgentConfig } from '../../src/config/schema.js';
import type { OtlpProtocol } from '../../src/otel/config.js';
import { ExporterConfigError } from '../../src/otel/otlp-exporter.js';
import { ProcessTraces } from '../../src/traces/process-traces.js';
import { createTraceExporter, tracesUrl } from '../../src/traces/trace-exporter.js';
import { unixNanos } from '../../src/util/time.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { at, entity, execOf, exitOf, forkOf, proc } from './fixtures.js';

const receivers: OtlpReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

function config(endpoint: string, protocol: OtlpProtocol = 'http/protobuf'): AgentConfig {
  const d = structuredClone(schemaDefaults());
  d.otlp.endpoint = endpoint;
  d.otlp.protocol = protocol;
  d.traces.enabled = true;
  return d;
}

const names = { userName: (uid: number) => (uid === 1000 ? 'alice' : undefined), groupName: () => undefined };

/** shell 100 (session leader) → curl 101 (exit 6, a token on its command line) */
function feed(traces: ProcessTraces): void {
  const shell = proc(100, 1, 0, { sid: 100 });
  const child = proc(101, 100, 1, { sid: 100 });
  const curl = {
    ...child,
    exe: '/usr/bin/curl',
    argv: ['curl', '-H', 'Authorization: Bearer s3cr3t', 'https://x'],
    source: 'exec' as const,
  };
  for (const x of [forkOf(shell, 0), forkOf(child, 1), execOf(curl, 1.25), exitOf(curl, 2, 6 << 8), exitOf(shell, 3)])
    traces.traceContext(x);
}

const redact = (argv: readonly string[]) => {
  const out = argv.map((a) => a.replace(/Bearer \S+/, 'Bearer <redacted>'));
  return { argv: out, redacted: out.some((a, i) => a !== argv[i]) };
};

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`spans over OTLP ${protocol}`, () => {
    test('a two-process trace: ids, parent, times, attributes from the log mapping, error status, exec events', async () => {
      const rx = await startOtlpReceiver();
      receivers.push(rx);
      const cfg = config(rx.url, protocol);
      const traces = new ProcessTraces({
        exporter: createTraceExporter(cfg.otlp, cfg.traces),
        version: '9.9.9',
        names,
        redact,
        batch: { scheduledDelayMillis: 10 },
      });
      feed(traces);
      await rx.waitForSpans((s) => s.length === 2);
      await traces.shutdown();
      const req = rx.requests.find((r) => r.path === '/v1/traces');
      assert.equal(req?.encoding, protocol === 'http/json' ? 'json' : 'protobuf');
      assert.ok(req?.gzip, 'gzip, as the logs');
      const shell = rx.spans.find((s) => s.attributes['process.pid'] === 100) as ReceivedSpan;
      const curl = rx.spans.find((s) => s.attributes['process.pid'] === 101) as ReceivedSpan;
      assert.ok(shell && curl);
      assert.equal(shell.traceId, entity(100));
      assert.equal(shell.spanId, entity(100).slice(0, 16));
      assert.equal(shell.parentSpanId, '');
      assert.equal(shell.attributes['cnproc.trace.root'], 'session');
      assert.equal(curl.traceId, entity(100));
      assert.equal(curl.parentSpanId, shell.spanId);
      assert.equal(curl.name, 'curl');
      assert.equal(curl.kind, 1, 'INTERNAL');
      assert.equal(curl.startTimeUnixNano, unixNanos(at(1)));
      assert.equal(curl.endTimeUnixNano, unixNanos(at(2)));
      assert.deepEqual(curl.status, { code: 2, message: 'exit 6' });
      assert.equal(shell.status.code, 0, 'exit 0 leaves the status unset');
      // The exit record's process attributes, not the event's identity.
      assert.equal(curl.attributes['process.executable.path'], '/usr/bin/curl');
      assert.equal(curl.attributes['process.exit.code'], 6);
      assert.equal(curl.attributes['process.user.name'], 'alice');
      assert.equal(curl.attributes['cnproc.process.entity_id'], entity(101));
      assert.deepEqual(curl.attributes['process.command_args'], ['curl', '-H', 'Authorization: Bearer <redacted>', 'https://x']);
      assert.equal(curl.attributes['cnproc.process.args_redacted'], true);
      for (const k of Object.keys(curl.attributes)) assert.doesNotMatch(k, /^cnproc\.event\.|^thread\./);
      assert.equal(curl.events.length, 1);
      const ev = curl.events[0];
      assert.equal(ev?.name, 'process.exec');
      assert.equal(ev?.timeUnixNano, unixNanos(at(1.25)));
      assert.equal(ev?.attributes['process.command_line'], 'curl -H Authorization: Bearer <redacted> https://x');
      assert.equal(curl.scope.name, 'cnproc-otel');
      assert.equal(curl.scope.version, '9.9.9');
      const st = traces.stats();
      assert.equal(st.export.exported, 2);
      assert.equal(st.ended, 2);
    });
  });
}

describe('export accounting', () => {
  test('spans the collector refuses are counted as failed, not lost silently', async () => {
    const rx = await startOtlpReceiver();
    receivers.push(rx);
    rx.setResponder(() => ({ status: 400, body: { code: 3, message: 'no' } }));
    const cfg = config(rx.url);
    const traces = new ProcessTraces({ exporter: createTraceExporter(cfg.otlp, cfg.traces), batch: { scheduledDelayMillis: 10 } });
    feed(traces);
    await traces.shutdown();
    const st = traces.stats();
    assert.equal(st.export.dropped.export_failed, 2);
    assert.equal(st.export.exported, 0);
    assert.equal(rx.spans.length, 0);
  });

  test('a full queue drops and counts', async () => {
    const rx = await startOtlpReceiver();
    receivers.push(rx);
    const cfg = config(rx.url);
    const traces = new ProcessTraces({
      exporter: createTraceExporter(cfg.otlp, cfg.traces),
      batch: { maxQueueSize: 1, maxExportBatchSize: 1000, scheduledDelayMillis: 60_000 },
    });
    feed(traces);
    await traces.shutdown();
    const st = traces.stats();
    assert.equal(st.export.dropped.queue_full, 1);
    assert.equal(st.export.exported, 1);
    assert.equal(rx.spans.length, 1);
  });

  test('spans of processes still running at shutdown are counted, not exported', async () => {
    const rx = await startOtlpReceiver();
    receivers.push(rx);
    const cfg = config(rx.url);
    const traces = new ProcessTraces({ exporter: createTraceExporter(cfg.otlp, cfg.traces) });
    traces.traceContext(forkOf(proc(100, 1, 0), 0));
    await traces.shutdown();
    assert.equal(traces.stats().openAtStop, 1);
    assert.equal(rx.spans.length, 0);
  });
});

describe('traces URL', () => {
  test('otlp.endpoint + /v1/traces, or traces.endpoint as is; none is a configuration error', () => {
    const d = schemaDefaults();
    assert.equal(tracesUrl({ ...d.otlp, endpoint: 'https://c:4318/' }, d.traces), 'https://c:4318/v1/traces');
    assert.equal(tracesUrl({ ...d.otlp, endpoint: 'https://c:4318' }, { ...d.traces, endpoint: 'https://t/x' }), 'https://t/x');
    assert.equal(tracesUrl(d.otlp, d.traces), null);
    assert.throws(() => createTraceExporter(d.otlp, d.traces), ExporterConfigError);
    assert.throws(
      () => createTraceExporter({ ...d.otlp, endpoint: 'https://c', certificate: '/nonexistent/ca.pem' }, d.traces),
      /cannot read otlp.certificate/,
    );
  });
});
