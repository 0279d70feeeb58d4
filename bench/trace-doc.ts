/**
 * `npm run docs:trace`: renders docs/trace-tree.svg. Deterministic: hand-made events of a small
 * build (the test fixtures' builders) go through the real tracker and span builder, so the picture
 * shows exactly what the agent would export for that process tree, and it only changes when the
 * code or this story does.
 *
 *   bash (pid 4100, interactive)
 *   └── make -j2                         the trace root: traces.root [session, executable], rootExecutables [make]
 *       ├── sh -c "cc -c main.c"  → cc → cc1, as
 *       └── sh -c "cc -c util.c"  → cc → cc1 (exit 1: a compile error)
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { EnrichedEvent, ProcessInfo } from '../src/process/model.js';
import { toReadableSpan } from '../src/traces/readable-span.js';
import { compileRootRules } from '../src/traces/roots.js';
import { ProcessSpanTracker } from '../src/traces/tracker.js';
import { execOf, exitOf, forkOf, proc } from '../test/traces/fixtures.js';
import { renderTraceSvg } from './trace-svg.js';

/** The events of the story, in kernel order. */
function story(): { events: EnrichedEvent[]; table: Map<number, ProcessInfo> } {
  const shell = proc(4100, 4000, -600, { sid: 4000, ttyNr: 34816, source: 'scan' });
  const events: EnrichedEvent[] = [];
  const runs = (p: ProcessInfo, t: number, exe: string, argv: string[]): ProcessInfo => {
    const q: ProcessInfo = { ...p, exe, argv, comm: exe.slice(exe.lastIndexOf('/') + 1).slice(0, 15), source: 'exec' };
    events.push(execOf(q, t));
    return q;
  };
  const make = runs(proc(4200, 4100, 0, { sid: 4000 }), 0.0008, '/usr/bin/make', ['make', '-j2']);
  events.unshift(forkOf(proc(4200, 4100, 0, { sid: 4000 }), 0));
  const job = (pid: number, t: number, src: string, fail: boolean): void => {
    const sh = proc(pid, 4200, t, { sid: 4000, exe: '/usr/bin/make' });
    events.push(forkOf(sh, t));
    const shx = runs(sh, t + 0.0006, '/usr/bin/dash', ['sh', '-c', `cc -c ${src}`]);
    const cc = proc(pid + 1, pid, t + 0.0012, { sid: 4000, exe: '/usr/bin/dash' });
    events.push(forkOf(cc, t + 0.0012));
    const ccx = runs(cc, t + 0.0018, '/usr/bin/x86_64-linux-gnu-gcc-12', ['cc', '-c', src]);
    const cc1 = proc(pid + 2, pid + 1, t + 0.003, { sid: 4000, exe: ccx.exe });
    events.push(forkOf(cc1, t + 0.003));
    const cc1x = runs(cc1, t + 0.0036, '/usr/libexec/gcc/x86_64-linux-gnu/12/cc1', ['cc1', src]);
    const cc1End = fail ? t + 0.14 : t + 0.29;
    events.push(exitOf(cc1x, cc1End, fail ? 1 << 8 : 0));
    let end = cc1End + 0.001;
    if (!fail) {
      const as = proc(pid + 3, pid + 1, end, { sid: 4000, exe: ccx.exe });
      events.push(forkOf(as, end));
      const asx = runs(as, end + 0.0005, '/usr/bin/x86_64-linux-gnu-as', ['as', '-o', src.replace('.c', '.o')]);
      end += 0.03;
      events.push(exitOf(asx, end));
    }
    events.push(exitOf(ccx, end + 0.001, fail ? 1 << 8 : 0));
    events.push(exitOf(shx, end + 0.002, fail ? 1 << 8 : 0));
  };
  job(4201, 0.004, 'main.c', false);
  job(4211, 0.005, 'util.c', true);
  events.sort((a, b) => a.event.time[0] - b.event.time[0] || a.event.time[1] - b.event.time[1]);
  events.push(exitOf(make, 0.34, 2 << 8));
  return { events, table: new Map([[shell.tgid, shell]]) };
}

function main(): void {
  const { events, table } = story();
  const spans: ReadableSpan[] = [];
  const origin = {
    resource: resourceFromAttributes({ 'service.name': 'cnproc-otel' }),
    scope: { name: 'cnproc-otel' },
    mapping: { userName: () => 'alice', groupName: () => 'users', redact: (argv: readonly string[]) => ({ argv, redacted: false }) },
  };
  const tracker = new ProcessSpanTracker({
    rules: compileRootRules(['session', 'executable'], ['make']),
    maxOpenSpans: 1024,
    maxEventsPerSpan: 32,
    snapshotIntervalMs: 0,
    lookup: (tgid) => table.get(tgid),
    onEnd: (s, end, exit) => spans.push(toReadableSpan(s, end, exit, origin)),
  });
  for (const x of events) tracker.observe(x);
  const make = spans.find((s) => s.attributes['process.pid'] === 4200);
  if (!make) throw new Error('the story has no make span');
  const trace = spans.filter((s) => s.spanContext().traceId === make.spanContext().traceId);
  process.stdout.write(renderTraceSvg(trace, 'make -j2: one build, one trace (root rule: executable make)'));
}

main();
