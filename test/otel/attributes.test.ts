import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ATTRIBUTE_DOCS, type MappingContext, recordAttributes } from '../../src/otel/attributes.js';
import { renderAttributesMarkdown } from '../../src/otel/attributes-doc.js';
import { bodyOf, EVENT_NAMES, severityOf, toLogRecord } from '../../src/otel/record.js';
import { type EnrichedEvent, type ProcessInfo, unknownProcess } from '../../src/process/model.js';
import { captureStats } from '../helpers/stats.js';

const ctx: MappingContext = {
  userName: (uid) => ({ 0: 'root', 1000: 'alice' })[uid],
  groupName: (gid) => ({ 0: 'root', 100: 'users' })[gid],
  redact: (argv) =>
    argv.includes('--password=hunter2')
      ? { argv: argv.map((a) => a.replace('hunter2', '<redacted>')), redacted: true }
      : { argv, redacted: false },
};
const proc: ProcessInfo = {
  ...unknownProcess(42, 7),
  entityId: 'e'.repeat(32),
  parentEntityId: 'p'.repeat(32),
  startTicks: 100,
  startTime: [1795656080, 123456789],
  comm: 'curl',
  exe: '/usr/bin/curl',
  argv: ['curl', '-s', '--password=hunter2', 'https://x'],
  argvTruncated: true,
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
  ttyNr: 34816,
  cgroup: '/system.slice/docker-x.scope',
  containerId: 'c'.repeat(64),
  containerRuntime: 'docker',
  podUid: 'pod-1',
  systemdUnit: 'sshd.service',
  missing: ['cwd:denied'],
};
const hdr = { cpu: 1, seq: 99, ktimeNs: 5n, time: [1795656087, 5] as [number, number], pid: 42, tgid: 42 };
const events: ProcEvent[] = [
  { ...hdr, kind: 'fork', parentPid: 7, parentTgid: 7, isThread: false },
  { ...hdr, kind: 'exec' },
  {
    ...hdr,
    kind: 'exit',
    status: 0x8b,
    exitCode: null,
    signal: 11,
    coreDumped: true,
    exitSignal: 17,
    parentPid: 7,
    parentTgid: 7,
    isThread: false,
  },
  { ...hdr, kind: 'uid', ruid: 0, euid: 0 },
  { ...hdr, kind: 'gid', rgid: 0, egid: 0 },
  { ...hdr, kind: 'sid' },
  { ...hdr, kind: 'ptrace', tracerPid: 9, tracerTgid: 9, attach: true },
  { ...hdr, kind: 'comm', comm: 'new' },
  { ...hdr, kind: 'coredump', parentPid: 7, parentTgid: 7 },
  { ...hdr, kind: 'unknown', what: 0x1000, raw: new Uint8Array(40) },
];
function enriched(e: ProcEvent): EnrichedEvent {
  return {
    event: e,
    process: proc,
    parent: { ...unknownProcess(7, 1), exe: '/usr/bin/bash' },
    ancestors: ['/usr/bin/bash', '/usr/sbin/sshd'],
    previous: { ruid: 1000, euid: 1000, rgid: 100, egid: 100, comm: 'old', sid: 1 },
    tracer: { ...unknownProcess(9, 1), exe: '/usr/bin/strace' },
    lifetimeNs: 7_000_000_123,
  };
}

const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  int: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  'string[]': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  'int[]': (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x)),
};

test('every attribute emitted for every event kind is documented, with its documented type', () => {
  const seen = new Set<string>();
  for (const e of events) {
    const attrs = recordAttributes(enriched(e), EVENT_NAMES[e.kind], ctx);
    for (const [k, v] of Object.entries(attrs)) {
      const doc = (ATTRIBUTE_DOCS as Record<string, { type: string }>)[k];
      assert.ok(doc, `${k} is not in ATTRIBUTE_DOCS`);
      assert.ok(TYPE_OF[doc.type]?.(v), `${k}: ${JSON.stringify(v)} is not ${doc.type}`);
      seen.add(k);
    }
  }
  // The agent's own records (cnproc.loss, cnproc.stats, cnproc.storm) are checked elsewhere.
  const own = Object.entries(ATTRIBUTE_DOCS)
    .filter(([, d]) => !d.on.startsWith('cnproc.'))
    .map(([k]) => k);
  assert.deepEqual(
    own.filter((k) => !seen.has(k)),
    ['process.exit.code'],
    'every documented event attribute is produced by some sample (exit.code is absent for a signal death)',
  );
});

test('the agent’s own records carry only documented attributes of the documented types', async () => {
  const { lossRecord, statsRecord, stormRecord } = await import('../../src/otel/agent-records.js');
  const zero = {
    capture: captureStats(),
    process: { processes: 1, evicted: 0, execIncomplete: 0, execs: 0 },
    exporters: [],
    pressure: { level: 0, passed: 0, aggregated: 0, dropped: { rate_limit: 0, priority: 0 }, stormRecords: 0, transitions: 0 },
  };
  const more = {
    ...zero,
    capture: { ...zero.capture, kernelDrops: 5 },
    pressure: { ...zero.pressure, dropped: { rate_limit: 2, priority: 1 } },
  };
  const recs = [
    lossRecord(zero, more, [1, 0]),
    statsRecord(more, [1, 0]),
    stormRecord(
      {
        parentPid: 1,
        parentEntityId: 'p',
        parentExecutable: '/usr/bin/make',
        executable: '/usr/bin/cc',
        counts: { fork: 1, exec: 1, exit: 1, comm: 0, sid: 0 },
        total: 3,
        first: [1, 0],
        last: [2, 0],
        samplePids: [5, 6],
        windowMs: 1000,
      },
      2,
    ),
  ];
  for (const r of recs) {
    assert.ok(r);
    for (const [k, v] of Object.entries(r.attributes ?? {})) {
      const doc = (ATTRIBUTE_DOCS as Record<string, { type: string }>)[k];
      assert.ok(doc, `${k} is not in ATTRIBUTE_DOCS`);
      assert.ok(TYPE_OF[doc.type]?.(v), `${k}: ${JSON.stringify(v)} is not ${doc.type}`);
    }
  }
});

test('docs/attributes.md is generated from the mapping (run npm run docs:attributes)', () => {
  const file = readFileSync(new URL('../../../docs/attributes.md', import.meta.url), 'utf8');
  assert.equal(file, renderAttributesMarkdown());
});

test('semconv names carry the right values', () => {
  const a = recordAttributes(enriched(events[1] as ProcEvent), 'process.exec', ctx);
  assert.equal(a['process.pid'], 42);
  assert.equal(a['process.parent_pid'], 7);
  assert.equal(a['process.executable.name'], 'curl');
  assert.deepEqual(a['process.command_args'], ['curl', '-s', '--password=<redacted>', 'https://x']);
  assert.equal(a['process.command_line'], 'curl -s --password=<redacted> https://x');
  assert.equal(a['cnproc.process.args_redacted'], true);
  assert.equal(a['cnproc.process.args_truncated'], true);
  assert.equal(a['process.args_count'], 4);
  assert.equal(a['process.user.name'], 'root');
  assert.equal(a['process.real_user.name'], 'alice');
  assert.equal(a['cnproc.process.login_user.name'], 'alice');
  assert.equal(a['process.interactive'], true);
  assert.equal(a['process.creation.time'], '2026-11-26T01:21:20.123456789Z');
  assert.equal(a['container.id'], 'c'.repeat(64));
  assert.equal(a['cnproc.event.id'], '1-99');
});

test('exit: code, signal, core, lifetime, exit time', () => {
  const a = recordAttributes(enriched(events[2] as ProcEvent), 'process.exit', ctx);
  assert.equal(a['cnproc.exit.signal'], 11);
  assert.equal(a['cnproc.exit.core_dumped'], true);
  assert.equal(a['process.exit.code'], undefined);
  assert.equal(a['cnproc.process.lifetime_ns'], 7_000_000_123);
  assert.equal(a['process.exit.time'], '2026-11-26T01:21:27.000000005Z');
});

test('severity: INFO, WARN for non-zero exit / ptrace attach / unknown, ERROR for core dumps', () => {
  const sev = (e: ProcEvent): SeverityNumber => severityOf(enriched(e));
  assert.equal(sev(events[1] as ProcEvent), SeverityNumber.INFO);
  assert.equal(sev(events[2] as ProcEvent), SeverityNumber.ERROR);
  assert.equal(
    sev({ ...(events[2] as ProcEvent & { kind: 'exit' }), status: 768, exitCode: 3, signal: null, coreDumped: false }),
    SeverityNumber.WARN,
  );
  assert.equal(
    sev({ ...(events[2] as ProcEvent & { kind: 'exit' }), status: 0, exitCode: 0, signal: null, coreDumped: false }),
    SeverityNumber.INFO,
  );
  assert.equal(sev(events[6] as ProcEvent), SeverityNumber.WARN);
  assert.equal(sev(events[8] as ProcEvent), SeverityNumber.ERROR);
  assert.equal(sev(events[9] as ProcEvent), SeverityNumber.WARN);
});

test('record: event name, kernel time, observed time, short body', () => {
  const r = toLogRecord(enriched(events[1] as ProcEvent), ctx, [1795656088, 0]);
  assert.equal(r.eventName, 'process.exec');
  assert.deepEqual(r.timestamp, [1795656087, 5]);
  assert.deepEqual(r.observedTimestamp, [1795656088, 0]);
  assert.equal(r.body, 'exec curl -s --password=<redacted> https://x (pid 42, uid 0)');
  assert.equal(r.severityText, 'INFO');
  const long = bodyOf(enriched(events[1] as ProcEvent), `x ${'a'.repeat(500)}`);
  assert.ok(long.length <= 200 && long.endsWith('…'));
});
