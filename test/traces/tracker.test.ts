import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import type { HrTime } from '../../src/kernel/events.js';
import type { EnrichedEvent, ProcessInfo } from '../../src/process/model.js';
import { compileRootRules } from '../../src/traces/roots.js';
import { type OpenSpan, ProcessSpanTracker, type TrackerOptions } from '../../src/traces/tracker.js';
import { at, entity, execOf, exitOf, forkOf, proc, sidOf, threadOf } from './fixtures.js';

interface Ended {
  tgid: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  rootRule: string;
  start: HrTime;
  end: HrTime;
  exited: boolean;
  execs: number;
  droppedExecs: number;
  segment: number;
  rerootedFrom: OpenSpan['rerootedFrom'];
}

function setup(over: Partial<TrackerOptions> = {}, table = new Map<number, ProcessInfo>()) {
  const ended: Ended[] = [];
  const tracker = new ProcessSpanTracker({
    rules: compileRootRules(['session'], []),
    maxOpenSpans: 1024,
    maxEventsPerSpan: 32,
    snapshotIntervalMs: 0,
    lookup: (tgid) => table.get(tgid),
    onEnd: (s, end, exit) =>
      ended.push({
        tgid: s.tgid,
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId,
        rootRule: s.rootRule,
        start: s.start,
        end,
        exited: exit !== undefined,
        execs: s.execs.length,
        droppedExecs: s.droppedExecs,
        segment: s.segment,
        rerootedFrom: s.rerootedFrom,
      }),
    ...over,
  });
  const ids = (x: EnrichedEvent) => {
    const c = tracker.observe(x);
    const sc = c === undefined ? undefined : trace.getSpanContext(c);
    return sc === undefined ? undefined : { traceId: sc.traceId, spanId: sc.spanId };
  };
  return { tracker, ended, ids, table };
}

const byTgid = (ended: Ended[], tgid: number): Ended => {
  const e = ended.find((s) => s.tgid === tgid);
  assert.ok(e, `span of ${tgid}`);
  return e;
};

describe('process span tree', () => {
  test('a session leader from the /proc scan roots the trace; forks nest under their parents; ids come from entity ids', () => {
    // login shell 100 (session leader, seen by the scan) → make 200 → cc 300, cc 301
    const shell = proc(100, 1, 0, { sid: 100, source: 'scan' });
    const { ended, ids } = setup({}, new Map([[100, shell]]));
    const make = proc(200, 100, 10, { sid: 100 });
    const cc1 = proc(300, 200, 11, { sid: 100 });
    const cc2 = proc(301, 200, 11.5, { sid: 100 });
    const makeIds = ids(forkOf(make, 10));
    assert.deepEqual(makeIds, { traceId: entity(100), spanId: entity(200).slice(0, 16) });
    ids(execOf({ ...make, exe: '/usr/bin/make', argv: ['make', '-j2'] }, 10.001));
    ids(forkOf(cc1, 11));
    ids(forkOf(cc2, 11.5));
    assert.deepEqual(ids(exitOf(cc1, 12, 256)), { traceId: entity(100), spanId: entity(300).slice(0, 16) });
    ids(exitOf(cc2, 13));
    ids(exitOf(make, 14));
    ids(exitOf(shell, 20));
    assert.equal(ended.length, 4);
    const root = byTgid(ended, 100);
    assert.equal(root.parentSpanId, null);
    assert.equal(root.rootRule, 'session');
    assert.deepEqual(root.start, at(0), 'a scanned process starts at its start time, not at first sight');
    assert.deepEqual(root.end, at(20));
    assert.equal(byTgid(ended, 200).parentSpanId, root.spanId);
    assert.equal(byTgid(ended, 200).execs, 1);
    assert.equal(byTgid(ended, 300).parentSpanId, byTgid(ended, 200).spanId);
    assert.equal(byTgid(ended, 301).parentSpanId, byTgid(ended, 200).spanId);
    assert.deepEqual(byTgid(ended, 300).start, at(11));
    assert.deepEqual(byTgid(ended, 300).end, at(12));
    for (const s of ended) assert.equal(s.traceId, entity(100));
  });

  test('children of init and unknown parents begin their own trace; kernel threads get no span', () => {
    const { ended, ids, tracker } = setup({ rules: compileRootRules([], []) });
    const daemon = proc(500, 1, 0);
    const orphanParentUnknown = proc(600, 599, 1);
    ids(forkOf(daemon, 0));
    ids(forkOf(orphanParentUnknown, 1));
    assert.equal(ids(forkOf(proc(700, 2, 2, { exe: null, comm: 'kworker/0:1' }), 2)), undefined);
    ids(exitOf(daemon, 3));
    ids(exitOf(orphanParentUnknown, 3));
    assert.equal(byTgid(ended, 500).rootRule, 'parent');
    assert.equal(byTgid(ended, 500).parentSpanId, null);
    assert.equal(byTgid(ended, 600).parentSpanId, null);
    assert.equal(tracker.stats().started, 2);
  });

  test('threads and other events share the span of their process; a thread exit does not end it', () => {
    const { ended, ids } = setup();
    const p = proc(800, 1, 0);
    const own = ids(forkOf(p, 0));
    assert.deepEqual(ids(threadOf(p, 801, 1)), own);
    assert.deepEqual(ids({ ...exitOf(p, 2), event: { ...exitOf(p, 2).event, pid: 801, isThread: true } as EnrichedEvent['event'] }), own);
    assert.equal(ended.length, 0);
    assert.deepEqual(ids(exitOf(p, 3)), own);
    assert.equal(ended.length, 1);
  });
});

describe('root rules', () => {
  test('session: setsid after the fork makes the process a root; later children join the new trace; the old place is kept as a link', () => {
    const { ended, ids, tracker } = setup();
    const sshd = proc(10, 1, 0, { sid: 10, exe: '/usr/sbin/sshd' });
    const child = proc(11, 10, 1, { sid: 10, exe: '/usr/sbin/sshd' });
    ids(forkOf(sshd, 0));
    const before = ids(forkOf(child, 1));
    assert.equal(before?.traceId, entity(10));
    const after = ids(sidOf({ ...child, sid: 11 }, 1.1));
    assert.deepEqual(after, { traceId: entity(11), spanId: entity(11).slice(0, 16) }, 'same span id, new trace');
    const grandchild = proc(12, 11, 2, { sid: 11 });
    assert.equal(ids(forkOf(grandchild, 2))?.traceId, entity(11));
    ids(exitOf(grandchild, 3));
    ids(exitOf(child, 4));
    const s = byTgid(ended, 11);
    assert.equal(s.parentSpanId, null);
    assert.equal(s.rootRule, 'session');
    assert.deepEqual(s.rerootedFrom, { traceId: entity(10), spanId: entity(10).slice(0, 16) });
    assert.equal(byTgid(ended, 12).parentSpanId, s.spanId);
    assert.equal(tracker.stats().rerooted, 1);
  });

  test('a fork snapshot read after the child setsid() or exec stays in the parent trace until that event re-roots it', () => {
    // Under load the capture thread reads a child's /proc after its setsid and exec: the fork's
    // snapshot already shows a session leader running a listed program. Neither is true at a fork.
    const { ended, ids, tracker } = setup({ rules: compileRootRules(['session', 'executable'], ['make']) });
    const shell = proc(10, 1, 0, { sid: 10, exe: '/usr/bin/bash' });
    const late = proc(11, 10, 1, { sid: 11, exe: '/usr/bin/make' });
    ids(forkOf(shell, 0));
    const atFork = ids(forkOf(late, 1));
    assert.deepEqual(atFork, { traceId: entity(10), spanId: entity(11).slice(0, 16) }, 'forked into the parent trace');
    assert.equal(ids(sidOf(late, 1.1))?.traceId, entity(11), 'the sid event re-roots it');
    ids(execOf(late, 1.2));
    ids(exitOf(late, 2));
    const s = byTgid(ended, 11);
    assert.deepEqual([s.parentSpanId, s.rootRule], [null, 'session']);
    assert.deepEqual(s.rerootedFrom, { traceId: entity(10), spanId: entity(10).slice(0, 16) });
    assert.equal(tracker.stats().rerooted, 1);
  });

  test('executable: the outermost listed executable begins a trace, a recursive one stays inside', () => {
    const { ended, ids } = setup({ rules: compileRootRules(['executable'], ['make']) });
    const shell = proc(20, 1, 0);
    const make = proc(21, 20, 1);
    const sh = proc(22, 21, 2, { exe: '/usr/bin/dash' });
    const subMake = proc(23, 22, 3);
    ids(forkOf(shell, 0));
    ids(forkOf(make, 1));
    ids(execOf({ ...make, exe: '/usr/bin/make' }, 1.01));
    ids(forkOf(sh, 2));
    ids(forkOf(subMake, 3));
    ids(execOf({ ...subMake, exe: '/usr/bin/make' }, 3.01));
    for (const [p, s] of [
      [subMake, 4],
      [sh, 5],
      [make, 6],
      [shell, 7],
    ] as const)
      ids(exitOf(p, s));
    assert.equal(byTgid(ended, 21).parentSpanId, null);
    assert.equal(byTgid(ended, 21).rootRule, 'executable');
    assert.equal(byTgid(ended, 23).traceId, entity(21), 'the sub-make is in the build trace');
    assert.equal(byTgid(ended, 23).parentSpanId, byTgid(ended, 22).spanId);
    assert.equal(byTgid(ended, 20).traceId, entity(20));
  });

  test('container: the first process of a container (at its exec into the container cgroup) begins a trace', () => {
    const { ended, ids } = setup({ rules: compileRootRules(['container'], []) });
    const shim = proc(30, 1, 0, { exe: '/usr/bin/containerd-shim-runc-v2' });
    const init = proc(31, 30, 1, { exe: '/usr/bin/runc' });
    const app = proc(32, 31, 2, { containerId: 'c'.repeat(64), exe: '/app/server' });
    ids(forkOf(shim, 0));
    ids(forkOf(init, 1));
    const inContainer = { ...init, exe: '/app/entrypoint', containerId: 'c'.repeat(64) };
    assert.equal(ids(execOf(inContainer, 1.5))?.traceId, entity(31));
    ids(forkOf(app, 2));
    ids(exitOf(app, 3));
    ids(exitOf(inContainer, 4));
    assert.equal(byTgid(ended, 31).rootRule, 'container');
    assert.equal(byTgid(ended, 32).traceId, entity(31), 'a process forked inside stays in the container trace');
    assert.equal(byTgid(ended, 32).parentSpanId, byTgid(ended, 31).spanId);
  });
});

describe('bounds', () => {
  test('eviction drops the least recently active span (counted); it is rebuilt with the same ids when its process exits', () => {
    const table = new Map<number, ProcessInfo>();
    const { ended, ids, tracker } = setup({ maxOpenSpans: 3 }, table);
    const procs = [1001, 1002, 1003, 1004].map((pid, i) => proc(pid, 1, i));
    for (const p of procs) table.set(p.tgid, p);
    const first = ids(forkOf(procs[0] as ProcessInfo, 0));
    for (const p of procs.slice(1)) ids(forkOf(p, 1));
    assert.equal(tracker.stats().open, 3);
    assert.equal(tracker.stats().evicted, 1);
    assert.equal(tracker.peek(1001), undefined, 'the oldest went');
    assert.deepEqual(ids(exitOf(procs[0] as ProcessInfo, 5)), first, 'same ids after eviction');
    assert.deepEqual(byTgid(ended, 1001).start, at(0), 'and the true start');
  });

  test('exec events beyond maxEventsPerSpan are counted as dropped', () => {
    const { ended, ids, tracker } = setup({ maxEventsPerSpan: 2 });
    const p = proc(40, 1, 0);
    ids(forkOf(p, 0));
    for (let i = 1; i <= 5; i++) ids(execOf(p, i));
    ids(exitOf(p, 6));
    assert.equal(byTgid(ended, 40).execs, 2);
    assert.equal(byTgid(ended, 40).droppedExecs, 3);
    assert.equal(tracker.stats().droppedEvents, 3);
  });

  test('a fork for a pid with an open span means its exit was lost: the old span is replaced (counted)', () => {
    const { ids, tracker } = setup();
    ids(forkOf(proc(50, 1, 0), 0));
    const again = proc(50, 1, 5, { entityId: entity(5050) });
    assert.equal(ids(forkOf(again, 5))?.spanId, entity(5050).slice(0, 16));
    assert.equal(tracker.stats().replaced, 1);
    assert.equal(tracker.stats().open, 1);
  });
});

describe('long-lived processes (snapshotIntervalMs)', () => {
  test('parts end on whole intervals after the process start, with their own deterministic ids; the exit ends the last part', () => {
    const { ended, ids, tracker } = setup({ snapshotIntervalMs: 10_000 });
    const daemon = proc(60, 1, 0);
    const first = ids(forkOf(daemon, 0));
    tracker.sweep(at(9));
    assert.equal(ended.length, 0);
    tracker.sweep(at(25));
    assert.equal(ended.length, 1);
    const part0 = ended[0] as Ended;
    assert.equal(part0.exited, false);
    assert.equal(part0.spanId, first?.spanId);
    assert.deepEqual([part0.start, part0.end], [at(0), at(20)], 'ends on the last whole interval before now');
    const child = proc(61, 60, 26);
    ids(forkOf(child, 26));
    ids(exitOf(child, 27));
    const current = tracker.peek(60) as OpenSpan;
    assert.equal(current.segment, 2);
    assert.notEqual(current.spanId, first?.spanId);
    assert.equal(byTgid(ended, 61).parentSpanId, current.spanId, 'children hang under the current part');
    // An event rolls a busy span over without a sweep.
    ids(execOf(daemon, 31));
    assert.equal(tracker.stats().continued, 2);
    ids(exitOf(daemon, 35));
    const last = ended[ended.length - 1] as Ended;
    assert.deepEqual([last.segment, last.start, last.end, last.exited], [3, at(30), at(35), true]);
    assert.equal(last.execs, 1, 'the exec at 31 rolled the span over first, then was recorded in the new part');
  });

  test('a part id is the same when the span is rebuilt (deterministic per part number)', () => {
    const table = new Map<number, ProcessInfo>();
    const daemon = proc(70, 1, 0);
    table.set(70, daemon);
    const a = setup({ snapshotIntervalMs: 10_000 }, table);
    const b = setup({ snapshotIntervalMs: 10_000 }, table);
    const child = proc(71, 70, 45);
    assert.equal(a.tracker.stats().open, 0);
    a.ids(forkOf(child, 45));
    b.ids(forkOf(child, 45));
    assert.equal(a.tracker.peek(70)?.segment, 4);
    assert.equal(a.tracker.peek(70)?.spanId, b.tracker.peek(70)?.spanId);
    assert.deepEqual(a.tracker.peek(70)?.start, at(40));
  });
});
