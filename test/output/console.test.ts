import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ConsoleWriter, formatJson, formatPretty, isoNanos, unixNanos } from '../../src/output/console.js';

const base = { cpu: 1, seq: 9, ktimeNs: 123456789012n, time: [1795656087, 5] as [number, number], pid: 42, tgid: 42 };

test('ISO time keeps nanoseconds; unix nanos are exact', () => {
  assert.equal(isoNanos([1795656087, 5]), '2026-11-26T01:21:27.000000005Z');
  assert.equal(unixNanos([1795656087, 5]), '1795656087000000005');
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
  assert.equal(formatPretty(exit), '2026-11-26T01:21:27.000000005Z exit     pid=42 code=3 ppid=1');
  const killed: ProcEvent = { ...exit, status: 0x86, exitCode: null, signal: 6, coreDumped: true };
  assert.match(formatPretty(killed), /exit +pid=42 signal=6 core-dumped ppid=1$/);
  const thread: ProcEvent = { ...base, kind: 'fork', pid: 43, parentPid: 42, parentTgid: 42, isThread: true };
  assert.match(formatPretty(thread), /fork +pid=42 new-thread tid=43 by tid=42$/);
  const comm: ProcEvent = { ...base, kind: 'comm', comm: 'a"b' };
  assert.match(formatPretty(comm), /comm +pid=42 comm="a\\"b"$/);
  const unknown: ProcEvent = { ...base, kind: 'unknown', what: 0x1000, raw: Uint8Array.from([1, 2]) };
  assert.match(formatPretty(unknown), /what=0x1000 raw=0102$/);
});

test('JSON lines: bigint and bytes as strings, time as ISO and unix nanos', () => {
  const e: ProcEvent = { ...base, kind: 'uid', ruid: 1000, euid: 0 };
  assert.deepEqual(JSON.parse(formatJson(e)), {
    time: '2026-11-26T01:21:27.000000005Z',
    timeUnixNano: '1795656087000000005',
    kind: 'uid',
    cpu: 1,
    seq: 9,
    ktimeNs: '123456789012',
    pid: 42,
    tgid: 42,
    ruid: 1000,
    euid: 0,
  });
});

test('a batch is written with one call, one line per event', () => {
  const writes: string[] = [];
  const w = new ConsoleWriter('json', (t) => writes.push(t));
  w.writeBatch([
    { ...base, kind: 'exec' },
    { ...base, kind: 'sid' },
  ]);
  assert.equal(writes.length, 1);
  assert.equal((writes[0] as string).split('\n').length, 3);
});
