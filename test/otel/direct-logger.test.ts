/**
 * The agent's record path (DirectLogger, no LogRecordImpl) against the library's (the SDK's
 * Logger.emit): the same mapping must give the same OTLP bytes, with any processor or encoder
 * plugged in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord, type SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { ProcEvent } from '../../src/kernel/events.js';
import type { MappingContext } from '../../src/otel/attributes.js';
import { DirectLoggerProvider, DirectLogRecord } from '../../src/otel/direct-logger.js';
import { serializeRequest } from '../../src/otel/fast-logs-serializer.js';
import { SCOPE_NAME, toLogRecord } from '../../src/otel/record.js';
import { recordAttribute } from '../../src/otel/split-attributes.js';
import { type EnrichedEvent, type ProcessInfo, unknownProcess } from '../../src/process/model.js';

const ctx: MappingContext = {
  userName: (uid) => ({ 0: 'root', 1000: 'alice' })[uid],
  groupName: (gid) => ({ 0: 'root', 100: 'users' })[gid],
  redact: (argv) => ({ argv, redacted: false }),
};

function entry(tgid: number, source: ProcessInfo['source']): ProcessInfo {
  return {
    ...unknownProcess(tgid, 7),
    source,
    entityId: `e${tgid}`.padEnd(32, '0'),
    parentEntityId: 'p'.repeat(32),
    startTicks: 100 + tgid,
    startTime: [1795656080, 123456789 + tgid],
    comm: 'curl',
    exe: '/usr/bin/curl',
    argv: ['curl', '-s', `https://example.com/${tgid}`, 'é'],
    argvTruncated: false,
    cwd: '/home/alice',
    ruid: 1000,
    euid: 0,
    suid: 0,
    rgid: 100,
    egid: 100,
    sgid: 100,
    loginUid: 1000,
    auditSessionId: 3,
    sid: 40,
    pgid: 41,
    ttyNr: 0,
    cgroup: '/system.slice/docker-x.scope',
    containerId: 'c'.repeat(64),
    containerRuntime: 'docker',
    podUid: null,
    systemdUnit: null,
    missing: [],
  };
}

let seq = 0;
function hdr(tgid: number, pid = tgid) {
  seq++;
  return { cpu: seq & 1, seq, ktimeNs: BigInt(seq), time: [1795656087, seq] as [number, number], pid, tgid };
}

function x(event: ProcEvent, process: ProcessInfo): EnrichedEvent {
  return {
    event,
    process,
    parent: { ...unknownProcess(7, 1), exe: '/usr/bin/bash' },
    ancestors: ['/usr/bin/bash'],
    previous: { ruid: 1000, euid: 1000, rgid: 100, egid: 100, comm: 'old', sid: 1 },
    tracer: undefined,
    lifetimeNs: 5_000,
    workload: null,
  };
}

function exit(tgid: number, pid = tgid): ProcEvent {
  return {
    ...hdr(tgid, pid),
    kind: 'exit',
    status: 0,
    exitCode: 0,
    signal: null,
    coreDumped: false,
    exitSignal: 17,
    parentPid: 7,
    parentTgid: 7,
    isThread: pid !== tgid,
  };
}

/** Every kind of record, processes sharing entries as the enricher shares them. */
function events(n: number): EnrichedEvent[] {
  const out: EnrichedEvent[] = [];
  for (let i = 0; i < n; i++) {
    const tgid = 1000 + i;
    const child = entry(tgid, 'fork');
    const execd = entry(tgid, 'exec');
    // a fork whose entry names the parent the event names, and one whose entry does not
    out.push(x({ ...hdr(tgid), kind: 'fork', parentPid: 7, parentTgid: 7, isThread: false }, child));
    out.push(x({ ...hdr(tgid), kind: 'fork', parentPid: 8, parentTgid: 8, isThread: false }, child));
    out.push(x({ ...hdr(tgid), kind: 'exec' }, execd));
    out.push(x({ ...hdr(tgid, tgid + 1), kind: 'fork', parentPid: tgid, parentTgid: tgid, isThread: true }, execd));
    out.push(x(exit(tgid, tgid + 1), execd));
    out.push(x({ ...hdr(tgid), kind: 'uid', ruid: 0, euid: 0 }, execd));
    out.push(x({ ...hdr(tgid), kind: 'comm', comm: 'new' }, execd));
    out.push(x({ ...hdr(tgid), kind: 'sid' }, execd));
    out.push(x(exit(tgid), execd));
    out.push(x(exit(tgid), child));
  }
  return out;
}

const collect = (into: ReadableLogRecord[]): LogRecordProcessor => ({
  onEmit: (r: SdkLogRecord) => {
    into.push(r);
  },
  forceFlush: async () => {},
  shutdown: async () => {},
});

const resource = resourceFromAttributes({ 'service.name': 'cnproc-otel', 'host.name': 'h' });

function recordsBoth(input: EnrichedEvent[]): { direct: ReadableLogRecord[]; sdk: ReadableLogRecord[] } {
  const direct: ReadableLogRecord[] = [];
  const sdk: ReadableLogRecord[] = [];
  const dl = new DirectLoggerProvider(resource, [collect(direct)]).getLogger(SCOPE_NAME, '1.0');
  const sl = new LoggerProvider({ resource, processors: [collect(sdk)] }).getLogger(SCOPE_NAME, '1.0');
  for (const e of input) {
    dl.emit(toLogRecord(e, ctx, [1795656088, 0]));
    sl.emit(toLogRecord(e, ctx, [1795656088, 0]));
  }
  return { direct, sdk };
}

function batches(records: ReadableLogRecord[], size: number): ReadableLogRecord[][] {
  const out: ReadableLogRecord[][] = [];
  for (let i = 0; i < records.length; i += size) out.push(records.slice(i, i + size));
  return out;
}

test('the direct path encodes byte for byte what the SDK path encodes', () => {
  const { direct, sdk } = recordsBoth(events(30));
  assert.equal(direct.length, sdk.length);
  // Twice over, in batches that split processes (the encoder reuses key prefixes across records).
  for (let pass = 0; pass < 2; pass++) {
    const d = batches(direct, 7);
    const s = batches(sdk, 7);
    for (let i = 0; i < d.length; i++) {
      const fast = Buffer.from(serializeRequest(d[i] as ReadableLogRecord[]));
      assert.deepEqual(fast, Buffer.from(serializeRequest(s[i] as ReadableLogRecord[])), `pass ${pass} batch ${i}`);
      // and what the stock encoder makes of the direct records (any SDK exporter plugs in)
      const stock = ProtobufLogsSerializer.serializeRequest(d[i] as ReadableLogRecord[]);
      assert.deepEqual(fast, Buffer.from(stock as Uint8Array), `stock, pass ${pass} batch ${i}`);
    }
  }
});

/** The agent's records: exec and exit split (otel/split-attributes.ts), as its pipeline emits them. */
function splitRecords(input: EnrichedEvent[], c: MappingContext = ctx): DirectLogRecord[] {
  const out: ReadableLogRecord[] = [];
  const dl = new DirectLoggerProvider(resource, [collect(out)]).getLogger(SCOPE_NAME, '1.0');
  for (const e of input) dl.emit(toLogRecord(e, c, [1795656088, 0], true));
  return out as DirectLogRecord[];
}

test('split records (exec, exit) encode byte for byte what whole ones do, the shared block copied', () => {
  const input = events(30);
  const { sdk } = recordsBoth(input);
  const split = splitRecords(input);
  // exec, the process's exit and its thread's exit... only full exec/exit records are split
  assert.equal(split.filter((r) => r.split !== undefined).length, 30 * 2);
  const blocks = new Set(split.map((r) => r.split?.block).filter((b) => b !== undefined));
  assert.equal(blocks.size, 30, 'one block per exec entry, shared by its exec and exit');
  for (let pass = 0; pass < 2; pass++) {
    const d = batches(split, 7);
    const s = batches(sdk, 7);
    for (let i = 0; i < d.length; i++) {
      const fast = Buffer.from(serializeRequest(d[i] as ReadableLogRecord[]));
      assert.deepEqual(fast, Buffer.from(serializeRequest(s[i] as ReadableLogRecord[])), `pass ${pass} batch ${i}`);
    }
    // the first pass encoded each block once; the second copies every one
    for (const b of blocks) assert.ok(b.encoded instanceof Uint8Array && b.encoded.length > 500);
  }
  assert.ok(
    split.some((r) => r.split !== undefined),
    'encoding does not join',
  );
  // The stock encoder reads `attributes`: joined on first read, the same bytes.
  const stock = ProtobufLogsSerializer.serializeRequest(split) as Uint8Array;
  assert.ok(
    split.every((r) => r.split === undefined),
    'joined once read',
  );
  assert.deepEqual(Buffer.from(stock), Buffer.from(serializeRequest(sdk)));
  assert.deepEqual(Buffer.from(serializeRequest(split)), Buffer.from(serializeRequest(sdk)));
});

test('reading one attribute of a split record does not join it; setting one joins it first', () => {
  const [exec] = splitRecords(events(1)).filter((r) => r.eventName === 'process.exec') as [DirectLogRecord];
  assert.ok(exec.split !== undefined);
  assert.equal(recordAttribute(exec, 'cnproc.event.name'), 'process.exec');
  assert.equal(recordAttribute(exec, 'process.executable.path'), '/usr/bin/curl');
  assert.equal(recordAttribute(exec, 'no.such.key'), undefined);
  assert.ok(exec.split !== undefined);
  exec.setAttribute('added', 1);
  assert.equal(exec.split, undefined);
  assert.equal(exec.attributes.added, 1);
  assert.equal(Object.keys(exec.attributes).at(-1), 'added');
});

test('a processor may set attributes on a direct record; encoders see the new values', () => {
  const direct: ReadableLogRecord[] = [];
  const rewrite: LogRecordProcessor = {
    onEmit: (r: SdkLogRecord) => {
      if (r.attributes['process.command_line'] !== undefined) r.setAttribute('process.command_line', 'rewritten');
      r.setAttribute('added.by.processor', 1);
      r.setAttribute('', 2); // refused, as the SDK refuses it
      r.setAttribute('dropped.null', null as unknown as string);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const dl = new DirectLoggerProvider(resource, [rewrite, collect(direct)]).getLogger(SCOPE_NAME);
  for (const e of events(2)) dl.emit(toLogRecord(e, ctx, [1795656088, 0]));
  assert.ok(direct.every((r) => r instanceof DirectLogRecord && r.attributes['added.by.processor'] === 1));
  assert.ok(direct.every((r) => !('' in r.attributes) && !('dropped.null' in r.attributes)));
  const fast = Buffer.from(serializeRequest(direct));
  assert.deepEqual(fast, Buffer.from(ProtobufLogsSerializer.serializeRequest(direct) as Uint8Array));
  assert.equal(
    direct.filter((r) => r.attributes['process.command_line'] === 'rewritten').length,
    2 * 5,
    'the full records (exec, uid, comm, sid, exit) of both processes',
  );
});

test('a record without timestamps gets the time of emit; an explicit context gives its span', async () => {
  const { trace, ROOT_CONTEXT } = await import('@opentelemetry/api');
  const out: ReadableLogRecord[] = [];
  const dl = new DirectLoggerProvider(resource, [collect(out)]).getLogger(SCOPE_NAME);
  const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  const before = Date.now();
  dl.emit({ body: 'x', context: trace.setSpanContext(ROOT_CONTEXT, spanContext) });
  dl.emit({ body: 'y', context: trace.setSpanContext(ROOT_CONTEXT, { ...spanContext, traceId: '0'.repeat(32) }) });
  const [a, b] = out as [ReadableLogRecord, ReadableLogRecord];
  assert.ok(a.hrTime[0] * 1000 >= before - 1000 && a.hrTime[0] * 1000 <= Date.now());
  assert.deepEqual(a.hrTimeObserved, a.hrTime);
  assert.deepEqual(a.spanContext, spanContext);
  assert.equal(b.spanContext, undefined, 'an invalid span context is not taken, as in LogRecordImpl');
});
