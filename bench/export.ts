/**
 * `npm run bench -- export`: decoded events → enriched records → OTLP http/protobuf to a local
 * receiver that only counts. The agent's pipeline (AccountingLogRecordProcessor) with the stock
 * exporter and with the agent's exporter (FastProtoLogExporter: same transport, faster encoder),
 * beside the stock SDK BatchLogRecordProcessor with the stock exporter, in the same run. Prints
 * records/s and the CPU the pipeline used (this process; the receiver runs in its own). Then the
 * encoders alone: stock ProtobufLogsSerializer vs serializeRequest on batches of the same records.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { Redactor } from '../src/filter/redact.js';
import type { ProcEvent } from '../src/kernel/events.js';
import { AccountingLogRecordProcessor } from '../src/otel/accounting-processor.js';
import type { MappingContext } from '../src/otel/attributes.js';
import { serializeRequest } from '../src/otel/fast-logs-serializer.js';
import { FastProtoLogExporter } from '../src/otel/otlp-exporter.js';
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

type ExporterKind = 'stock' | 'fast';

async function runOnce(
  kind: 'agent' | 'sdk',
  exporterKind: ExporterKind,
  events: EnrichedEvent[],
  url: string,
): Promise<{ seconds: number; cpu: number; exported: number }> {
  const config = { url, compression: CompressionAlgorithm.GZIP };
  const otlp = exporterKind === 'fast' ? new FastProtoLogExporter(config) : new OTLPLogExporter(config);
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
  const ctx = mappingContext();
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

function mappingContext(): MappingContext {
  const redactor = new Redactor();
  return { userName: () => 'alice', groupName: () => 'alice', redact: (a) => redactor.redactArgv(a) };
}

/** The SDK's records for `events` (LogRecordImpl, read-only after emit), as an exporter receives them. */
function sdkRecords(events: EnrichedEvent[]): ReadableLogRecord[] {
  const out: ReadableLogRecord[] = [];
  const capture: LogRecordProcessor = {
    onEmit: (r) => {
      out.push(r);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'bench' }), processors: [capture] });
  const logger = provider.getLogger('cnproc-otel');
  const ctx = mappingContext();
  for (const e of events) logger.emit(toLogRecord(e, ctx, [1795656088, 0]));
  return out;
}

/**
 * Encoder alone, on 1024-record batches: the best of `rounds` passes (after a warm-up pass), in CPU
 * time (this process; the encoders are synchronous), which other load on the machine disturbs less
 * than wall time.
 */
function serializeOnce(
  serialize: (batch: ReadableLogRecord[]) => Uint8Array | undefined,
  batches: ReadableLogRecord[][],
  rounds: number,
): { perCpuSecond: number; mbPerCpuSecond: number; bytesPerRecord: number } {
  let best = Number.POSITIVE_INFINITY;
  let bytes = 0;
  let records = 0;
  for (let round = 0; round <= rounds; round++) {
    bytes = 0;
    records = 0;
    const c0 = process.cpuUsage();
    for (const batch of batches) {
      bytes += serialize(batch)?.length ?? 0;
      records += batch.length;
    }
    const c = process.cpuUsage(c0);
    const s = (c.user + c.system) / 1e6;
    if (round > 0 && s < best) best = s;
  }
  return { perCpuSecond: records / best, mbPerCpuSecond: bytes / 1048576 / best, bytesPerRecord: bytes / records };
}

function serializeBench(events: EnrichedEvent[]): string {
  const records = sdkRecords(events);
  const batches: ReadableLogRecord[][] = [];
  for (let i = 0; i < records.length; i += 1024) batches.push(records.slice(i, i + 1024));
  const rows = [
    `| encoder (${records.length.toLocaleString('en-US')} records, 1024-record batches) | records per CPU-second | MB per CPU-second | bytes per record |`,
    '|---|---:|---:|---:|',
  ];
  const stock = (b: ReadableLogRecord[]) => ProtobufLogsSerializer.serializeRequest(b);
  const results: Record<ExporterKind, ReturnType<typeof serializeOnce>[]> = { stock: [], fast: [] };
  // Alternate, three times each, and keep each one's best: GC and JIT noise falls on both.
  for (let i = 0; i < 3; i++) {
    results.stock.push(serializeOnce(stock, batches, 3));
    results.fast.push(serializeOnce(serializeRequest, batches, 3));
  }
  for (const kind of ['stock', 'fast'] as const) {
    const best = results[kind].reduce((a, b) => (b.perCpuSecond > a.perCpuSecond ? b : a));
    const label = kind === 'stock' ? 'stock ProtobufLogsSerializer' : 'agent: serializeRequest (fast-logs-serializer)';
    rows.push(
      `| ${label} | ${Math.round(best.perCpuSecond).toLocaleString('en-US')} | ${best.mbPerCpuSecond.toFixed(0)} | ${Math.round(best.bytesPerRecord)} |`,
    );
  }
  return rows.join('\n');
}

export async function exportBench(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 200_000);
  const rx = spawn(process.execPath, [RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => {
    rx.stdout?.setEncoding('utf8').once('data', (d: string) => resolve(Number(/port (\d+)/.exec(d)?.[1])));
  });
  const url = `http://127.0.0.1:${port}/v1/logs`;
  const events = sampleEvents(n);
  // warm-up (JIT), both exporters
  await runOnce('agent', 'stock', sampleEvents(10_000), url);
  await runOnce('agent', 'fast', sampleEvents(10_000), url);
  const rows = ['| pipeline | exporter | records | records/s | CPU s | records per CPU-second |', '|---|---|---:|---:|---:|---:|'];
  const runs = [
    ['agent', 'stock'],
    ['agent', 'fast'],
    ['sdk', 'stock'],
  ] as const;
  for (const [kind, exporterKind] of runs) {
    const r = await runOnce(kind, exporterKind, events, url);
    const label = kind === 'agent' ? 'agent: AccountingLogRecordProcessor' : 'stock SDK BatchLogRecordProcessor';
    const exporterLabel = exporterKind === 'fast' ? 'agent: FastProtoLogExporter' : 'stock OTLPLogExporter (proto)';
    rows.push(
      `| ${label} | ${exporterLabel} | ${r.exported.toLocaleString('en-US')} | ${Math.round(n / r.seconds).toLocaleString('en-US')} | ${r.cpu.toFixed(2)} | ${Math.round(n / r.cpu).toLocaleString('en-US')} |`,
    );
  }
  const done = new Promise<string>((resolve) => rx.stdout?.once('data', (d: string) => resolve(d)));
  rx.kill('SIGTERM');
  const totals = JSON.parse(await done) as { requests: number; bytes: number };
  process.stdout.write(
    `${rows.join('\n')}\nreceiver: ${totals.requests} requests, ${(totals.bytes / 1048576).toFixed(1)} MiB of gzip protobuf (${Math.round(totals.bytes / (runs.length * n + 20_000))} B per record)\n\n`,
  );
  process.stdout.write(`${serializeBench(events.slice(0, Math.min(n, 50_000)))}\n`);
}
