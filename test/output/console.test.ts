import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ConsoleWriter, commandLine, formatJson, formatPretty, isoNanos, unixNanos } from '../../src/output/console.js';
import { type EnrichedEvent, type ProcessInfo, unknownProcess } from '../../src/process/model.js';

const base = { cpu: 1, seq: 9, ktimeNs: 123456789012n, time: [1795656087, 5] as [number, number], pid: 42, tgid: 42 };
const names = {
  userName: (uid: number) => (uid === 1000 ? 'alice' : uid === 0 ? 'root' : undefined),
  groupName: (gid: number) => (gid === 100 ? 'users' : undefined),
};
const proc: ProcessInfo = {
  ...unknownProcess(42, 1),
  exe: '/usr/bin/curl',
  argv: ['curl', '-s', 'https://x/a b', "it's"],
  cwd: '/home/alice',
  euid: 1000,
  egid: 100,
  entityId: 'abc',
  startTime: [1795656080, 0],
  containerId: 'f'.repeat(64),
};
function x(event: ProcEvent, over: Partial<EnrichedEvent> = {}): EnrichedEvent {
  return { event, process: proc, parent: undefined, ancestors: [], previous: undefined, tracer: undefined, lifetimeNs: null, ...over };
}

test('ISO time keeps nanoseconds; unix nanos are exact', () => {
  assert.equal(isoNanos([1795656087, 5]), '2026-11-26T01:21:27.000000005Z');
  assert.equal(unixNanos([1795656087, 5]), '1795656087000000005');
});

test('command lines are quoted for display', () => {
  assert.equal(commandLine(['ls', '-l', 'a b', "it's", 'x=1']), "ls -l 'a b' 'it'\\''s' x=1");
});

test('pretty lines', () => {
  const exit: ProcEvent = {
    ...base,
    kind: 'exit',
    status: 768,
    exitCode: 3,
    signal: null,
    coreDumped: false,
    exitSignal: 17,
    parentPid: 1,
    parentTgid: 1,
    isThread: false,
  };
  assert.equal(
    formatPretty(x(exit, { lifetimeNs: 1_500_000_000 }), names),
    "2026-11-26T01:21:27.000000005Z exit     pid=42 code=3 ppid=1 lifetime=1.500s /usr/bin/curl: curl -s 'https://x/a b' 'it'\\''s'",
  );
  const killed: ProcEvent = { ...exit, status: 0x86, exitCode: null, signal: 6, coreDumped: true };
  assert.match(formatPretty(x(killed), names), /exit +pid=42 signal=6 core-dumped ppid=1 /);
  const exec: ProcEvent = { ...base, kind: 'exec' };
  assert.match(
    formatPretty(x(exec), names),
    /exec +pid=42 ppid=1 uid=1000\(alice\) cwd=\/home\/alice \/usr\/bin\/curl: curl .* container=ffffffffffff$/,
  );
  const gone = { ...proc, exe: null, argv: null, comm: null, missing: ['argv:gone', 'exe:gone'] };
  assert.match(formatPretty(x(exec, { process: gone }), names), /missing=argv:gone,exe:gone$/);
  const uid: ProcEvent = { ...base, kind: 'uid', ruid: 1000, euid: 1000 };
  assert.match(
    formatPretty(x(uid, { previous: { ruid: 0, euid: 0 } }), names),
    /ruid=0\(root\)→1000\(alice\) euid=0\(root\)→1000\(alice\)/,
  );
  const thread: ProcEvent = { ...base, kind: 'fork', pid: 43, parentPid: 42, parentTgid: 42, isThread: true };
  assert.match(formatPretty(x(thread), names), /fork +pid=42 new-thread tid=43 by tid=42 /);
  const comm: ProcEvent = { ...base, kind: 'comm', comm: 'a"b' };
  assert.match(formatPretty(x(comm, { previous: { comm: 'old' } }), names), /comm +pid=42 comm="old"→"a\\"b"$/);
  const unknown: ProcEvent = { ...base, kind: 'unknown', what: 0x1000, raw: Uint8Array.from([1, 2]) };
  assert.match(formatPretty(x(unknown), names), /what=0x1000 raw=0102$/);
});

test('JSON lines: event fields, process context, names, bigint and bytes as strings', () => {
  const e: ProcEvent = { ...base, kind: 'uid', ruid: 1000, euid: 0 };
  const j = JSON.parse(formatJson(x(e, { previous: { ruid: 0, euid: 0 }, ancestors: ['/usr/bin/bash'] }), names)) as Record<
    string,
    unknown
  >;
  assert.equal(j.time, '2026-11-26T01:21:27.000000005Z');
  assert.equal(j.timeUnixNano, '1795656087000000005');
  assert.equal(j.kind, 'uid');
  assert.equal(j.ktimeNs, '123456789012');
  assert.deepEqual(j.previous, { ruid: 0, euid: 0 });
  assert.deepEqual(j.ancestors, ['/usr/bin/bash']);
  const p = j.process as Record<string, unknown>;
  assert.equal(p.exe, '/usr/bin/curl');
  assert.equal(p.user, 'alice');
  assert.equal(p.group, 'users');
  assert.equal(p.entityId, 'abc');
  assert.equal(p.startTime, '2026-11-26T01:21:20.000000000Z');
  assert.equal('procSnapshot' in j, false);
});

test('a batch is written with one call, one line per event', () => {
  const writes: string[] = [];
  const w = new ConsoleWriter('json', (t) => writes.push(t), names);
  w.writeBatch([x({ ...base, kind: 'exec' }), x({ ...base, kind: 'sid' })]);
  assert.equal(writes.length, 1);
  assert.equal((writes[0] as string).split('\n').length, 3);
});
