import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { MappingContext } from '../../src/otel/attributes.js';
import { type SpanOrigin, spanName, toReadableSpan } from '../../src/traces/readable-span.js';
import { compileRootRules } from '../../src/traces/roots.js';
import { ProcessSpanTracker } from '../../src/traces/tracker.js';
import { at, entity, execOf, exitOf, forkOf, proc, sidOf } from './fixtures.js';

let redactCalls = 0;
const mapping: MappingContext = {
  userName: () => 'alice',
  groupName: () => 'users',
  redact: (argv) => {
    redactCalls++;
    return { argv, redacted: false };
  },
};
const origin: SpanOrigin = { resource: resourceFromAttributes({ 'service.name': 't' }), scope: { name: 'cnproc-otel' }, mapping };

function tracker(snapshotIntervalMs = 0) {
  const spans: ReadableSpan[] = [];
  const t = new ProcessSpanTracker({
    rules: compileRootRules(['session'], []),
    maxOpenSpans: 1024,
    maxEventsPerSpan: 32,
    snapshotIntervalMs,
    lookup: () => undefined,
    onEnd: (s, end, exit) => spans.push(toReadableSpan(s, end, exit, origin)),
  });
  return { t, spans };
}

test('a signal death is an error with the signal; a re-rooted span links to where it was forked', () => {
  const { t, spans } = tracker();
  const parent = proc(10, 1, 0);
  const child = proc(11, 10, 1);
  t.observe(forkOf(parent, 0));
  t.observe(forkOf(child, 1));
  t.observe(sidOf({ ...child, sid: 11 }, 1.5));
  t.observe(exitOf(child, 2, 9, 9));
  const s = spans[0] as ReadableSpan;
  assert.deepEqual(s.status, { code: SpanStatusCode.ERROR, message: 'killed by signal 9' });
  assert.equal(s.parentSpanContext, undefined);
  assert.equal(s.links.length, 1);
  assert.deepEqual(
    [s.links[0]?.context.traceId, s.links[0]?.context.spanId, s.links[0]?.attributes?.['cnproc.link.type']],
    [entity(10), entity(10).slice(0, 16), 'forked_from'],
  );
  assert.equal(s.attributes['cnproc.trace.root'], 'session');
  assert.equal(s.attributes['cnproc.exit.signal'], 9);
});

test('a part of a long-lived process is marked continued, carries its part number, its own execs, and no status', () => {
  const { t, spans } = tracker(10_000);
  const p = { ...proc(20, 1, 0), source: 'exec' as const };
  t.observe(forkOf(p, 0));
  t.observe(execOf({ ...p, exe: '/usr/sbin/nginx', argv: ['nginx'] }, 1));
  t.sweep(at(15));
  t.observe(exitOf({ ...p, exe: '/usr/sbin/nginx', argv: ['nginx'] }, 16));
  const [part0, part1] = spans as [ReadableSpan, ReadableSpan];
  assert.equal(part0.attributes['cnproc.span.continued'], true);
  assert.equal(part0.attributes['cnproc.span.segment'], undefined);
  assert.equal(part0.events.length, 1);
  assert.equal(part0.events[0]?.attributes?.['process.executable.path'], '/usr/sbin/nginx');
  assert.equal(part0.status.code, SpanStatusCode.UNSET);
  assert.deepEqual([part0.startTime, part0.endTime], [at(0), at(10)]);
  assert.equal(part1.attributes['cnproc.span.segment'], 1);
  assert.equal(part1.attributes['cnproc.span.continued'], undefined);
  assert.equal(part1.events.length, 0);
  assert.deepEqual([part1.startTime, part1.endTime], [at(10), at(16)]);
  assert.equal(part1.name, 'nginx');
});

test('attributes are mapped when the exporter reads them, once', () => {
  const { t, spans } = tracker();
  const p = { ...proc(30, 1, 0), source: 'exec' as const, argv: ['bash', '-c', 'true'] };
  t.observe(forkOf(p, 0));
  t.observe(exitOf(p, 1));
  const before = redactCalls;
  const s = spans[0] as ReadableSpan;
  assert.equal(redactCalls, before, 'not at the exit');
  assert.equal(s.attributes['process.command_line'], 'bash -c true');
  assert.equal(s.attributes, s.attributes, 'computed once');
  assert.equal(s.attributes['process.pid'], 30);
  assert.equal(s.attributes['cnproc.event.id'], undefined);
});

test('a span never ends before it starts (clock recalibration); names fall back to comm, then pid', () => {
  const { t, spans } = tracker();
  const p = proc(40, 1, 5);
  t.observe(forkOf(p, 5));
  t.observe(exitOf(p, 4.9));
  assert.deepEqual(spans[0]?.endTime, at(5));
  assert.deepEqual(spans[0]?.duration, [0, 0]);
  assert.equal(spanName({ ...p, exe: null, comm: 'kworker' }), '[kworker]');
  assert.equal(spanName({ ...p, exe: null, comm: null }), 'pid 40');
});

test('an exec whose /proc read came after a later exec says so on its span event, as its log record does', () => {
  const { t, spans } = tracker();
  const p = { ...proc(40, 1, 0), source: 'exec' as const };
  const bash = { ...p, exe: '/usr/bin/bash', argv: ['bash', '-c', 'sleep 1'] };
  t.observe(forkOf(p, 0));
  const first = execOf(bash, 1);
  if (first.event.kind === 'exec') first.event.snapshotSuperseded = true;
  t.observe(first);
  t.observe(execOf(bash, 1.001));
  t.observe(exitOf(bash, 2));
  const [e0, e1] = (spans[0] as ReadableSpan).events;
  assert.equal(e0?.attributes?.['cnproc.exec.snapshot_superseded'], true);
  assert.equal(e1?.attributes?.['cnproc.exec.snapshot_superseded'], undefined);
  assert.equal(e1?.attributes?.['process.executable.path'], '/usr/bin/bash');
});
