/**
 * `npm run bench -- export`: decoded events → enriched records → OTLP http/protobuf to a local
 * receiver that only counts. The agent's pipeline (AccountingLogRecordProcessor) beside the stock
 * SDK BatchLogRecordProcessor with the same exporter, in the same run. Prints records/s and the
 * CPU the pipeline used (this process; the receiver runs in its own).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { Redactor } from '../src/filter/redact.js';
import type { ProcEvent } from '../src/kernel/events.js';
import { AccountingLogRecordProcessor } from '../src/otel/accounting-processor.js';
import type { MappingContext } from '../src/otel/attributes.js';
import { toLogRecord } from '../src/otel/record.js';
import { type EnrichedEvent, type ProcessInfo, unknownProcess } from '../src/process/model.js';

const RECEIVER = fileURLToPath(new URL('./count-receiver.js', import.meta.url));

function sampleEvents(n: number): EnrichedEvent[] {
  const proc: ProcessInfo = {
    ...unknownProcess(4242, 1000),
    entityId: '0123456789abcdef0123456789abcdef',
    parentEntityId: 'fedcba9876543210fedcba9876543210',
    startTime: [1795656080, 1],
    exe: '/usr/bin/curl',
    argv: ['curl', '-s', '-H', 'Accept: application/json', 'https://api.example.com/v1/items?page=2'],
    cwd: '/home/alice',
    ruid: 1000,
    euid: 1000,
    suid: 1000,
    rgid: 1000,
    egid: 1000,
    sgid: 1000,
    loginUid: 1000,
    sid: 900,
    pgid: 4242,
    ttyNr: 34816,
    cgroup: '/user.slice/user-1000.slice/session-2.scope',
    systemdUnit: 'session-2.scope',
    comm: 'curl',
  };
  const out: EnrichedEvent[] = [];
  for (let i = 0; i < n; i++) {
    const hdr = {
      cpu: i & 1,
      seq: i,
      ktimeNs: BigInt(i),
      time: [1795656087, i % 1e9] as [number, number],
      pid: 4242 + (i % 1000),
      tgid: 4242 + (i % 1000),
    };
    const k = i % 3;
    const event: ProcEvent =
      k === 0
        ? { ...hdr, kind: 'fork', parentPid: 1000, parentTgid: 1000, isThread: false }
        : k === 1
          ? { ...hdr, kind: 'exec' }
          : {
              ...hdr,
              kind: 'exit',
              status: 0,
              exitCode: 0,
              signal: null,
              coreDumped: false,
              exitSignal: 17,
              parentPid: 1000,
              parentTgid: 1000,
              isThread: false,
            };
    out.push({
      event,
      process: { ...proc, tgid: hdr.tgid },
      parent: undefined,
      ancestors: ['/usr/bin/bash', '/usr/sbin/sshd', '/usr/lib/systemd/systemd'],
      previous: undefined,
      tracer: undefined,
      lifetimeNs: k === 2 ? 1_234_567 : null,
    });
  }
  return out;
}

async function runOnce(
  kind: 'agent' | 'sdk',
  events: EnrichedEvent[],
  url: string,
): Promise<{ seconds: number; cpu: number; exported: number }> {
  const otlp = new OTLPLogExporter({ url, compression: CompressionAlgorithm.GZIP });
  // Counts what the receiver acknowledged, for both pipelines (the SDK's would drop silently).
  let exported = 0;
  const exporter: LogRecordExporter = {
    export: (records, done) =>
      otlp.export(records, (r) => {
        if (r.code === ExportResultCode.SUCCESS) exported += records.length;
        done(r);
      }),
    forceFlush: () => otlp.forceFlush(),
    shutdown: () => otlp.shutdown(),
  };
  // Queues large enough for the whole run: this measures throughput, not overflow.
  const opts = { maxQueueSize: events.length + 1024, maxExportBatchSize: 1024, scheduledDelayMillis: 200, exportTimeoutMillis: 30_000 };
  const processor: LogRecordProcessor =
    kind === 'agent' ? new AccountingLogRecordProcessor(exporter, opts) : new BatchLogRecordProcessor({ exporter, ...opts });
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'bench' }), processors: [processor] });
  const logger = provider.getLogger('cnproc-otel');
  const redactor = new Redactor();
  const ctx: MappingContext = { userName: () => 'alice', groupName: () => 'alice', redact: (a) => redactor.redactArgv(a) };
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // Feed in chunks the size of capture batches, yielding so exports run, as in the agent.
  for (let i = 0; i < events.length; i += 1024) {
    const end = Math.min(events.length, i + 1024);
    for (let j = i; j < end; j++) logger.emit(toLogRecord(events[j] as EnrichedEvent, ctx, [1795656088, 0]));
    await new Promise((r) => setImmediate(r));
  }
  await provider.forceFlush();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  await provider.shutdown();
  return { seconds, cpu: (c.user + c.system) / 1e6, exported };
}

export async function exportBench(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 200_000);
  const rx = spawn(process.execPath, [RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => {
    rx.stdout?.setEncoding('utf8').once('data', (d: string) => resolve(Number(/port (\d+)/.exec(d)?.[1])));
  });
  const url = `http://127.0.0.1:${port}/v1/logs`;
  const events = sampleEvents(n);
  await runOnce('agent', sampleEvents(20_000), url); // warm-up (JIT)
  const rows = ['| pipeline | records | records/s | CPU s | records per CPU-second |', '|---|---:|---:|---:|---:|'];
  for (const kind of ['agent', 'sdk'] as const) {
    const r = await runOnce(kind, events, url);
    const label = kind === 'agent' ? 'agent: AccountingLogRecordProcessor' : 'stock SDK BatchLogRecordProcessor';
    rows.push(
      `| ${label} | ${r.exported.toLocaleString('en-US')} | ${Math.round(n / r.seconds).toLocaleString('en-US')} | ${r.cpu.toFixed(2)} | ${Math.round(n / r.cpu).toLocaleString('en-US')} |`,
    );
  }
  const done = new Promise<string>((resolve) => rx.stdout?.once('data', (d: string) => resolve(d)));
  rx.kill('SIGTERM');
  const totals = JSON.parse(await done) as { requests: number; bytes: number };
  process.stdout.write(
    `${rows.join('\n')}\nreceiver: ${totals.requests} requests, ${(totals.bytes / 1048576).toFixed(1)} MiB of gzip protobuf (${Math.round(totals.bytes / (2 * n + 20_000))} B per record)\n`,
  );
}
