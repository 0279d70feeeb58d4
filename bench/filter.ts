/**
 * `npm run bench -- filter`: decisions per second for a 50-rule policy over a realistic mix of
 * enriched events; the compiled filter beside a naive one that builds its globs and regexes per
 * event (what compiling once avoids), same events, same run.
 */
import { EventFilter } from '../src/filter/filter.js';
import { globToRegExp } from '../src/filter/rules.js';
import type { ProcEvent } from '../src/kernel/events.js';
import { type EnrichedEvent, unknownProcess } from '../src/process/model.js';

const names = { userName: (u: number) => (u === 0 ? 'root' : u === 1000 ? 'alice' : undefined), groupName: () => undefined };

/** 50 rules: tool-chain drops, per-user keeps, container rules, argv regexes; the last ones match most events. */
export function policy(): unknown[] {
  const rules: unknown[] = [];
  for (let i = 0; i < 20; i++)
    rules.push({ name: `tool-${i}`, action: 'drop', match: { executable: [`/opt/tool${i}/bin/*`, `/usr/lib/tool${i}/*`] } });
  for (let i = 0; i < 10; i++)
    rules.push({ name: `user-${i}`, action: 'keep', match: { user: [`svc${i}`, 2000 + i], events: ['exec', 'exit'] } });
  for (let i = 0; i < 10; i++)
    rules.push({ name: `argv-${i}`, action: 'keep', match: { argv: `--secret-flag-${i}(=|\\s)`, loginUser: 'human' } });
  for (let i = 0; i < 7; i++)
    rules.push({ name: `container-${i}`, action: 'drop', match: { container: [`${i}abc`], ancestor: ['*/containerd-shim*'] } });
  rules.push({ name: 'threads', action: 'drop', match: { thread: true } });
  rules.push({ name: 'failures', action: 'keep', match: { events: ['exit'], exitCode: 'nonzero' } });
  rules.push({ name: 'forks', action: 'drop', match: { events: ['fork'] } });
  return rules;
}

function events(n: number): EnrichedEvent[] {
  const exes = ['/usr/bin/bash', '/usr/bin/curl', '/usr/lib/tool7/cc1', '/usr/bin/python3.11', '/opt/tool19/bin/run'];
  const out: EnrichedEvent[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    const hdr = { cpu: 0, seq: i, ktimeNs: 0n, time: [0, 0] as [number, number], pid: 100 + i, tgid: 100 + i };
    const event: ProcEvent =
      k === 0
        ? { ...hdr, kind: 'fork', parentPid: 99, parentTgid: 99, isThread: i % 8 === 0 }
        : k === 1
          ? { ...hdr, kind: 'exec' }
          : {
              ...hdr,
              kind: 'exit',
              status: i % 3 === 0 ? 256 : 0,
              exitCode: i % 3 === 0 ? 1 : 0,
              signal: null,
              coreDumped: false,
              exitSignal: 17,
              parentPid: 99,
              parentTgid: 99,
              isThread: false,
            };
    out.push({
      event,
      process: {
        ...unknownProcess(hdr.tgid, 99),
        exe: exes[i % exes.length] as string,
        argv: ['prog', '-v', `--n=${i}`],
        euid: i % 2 ? 1000 : 0,
        loginUid: i % 2 ? 1000 : null,
      },
      parent: undefined,
      ancestors: ['/usr/bin/bash', '/usr/sbin/sshd', '/usr/lib/systemd/systemd'],
      previous: undefined,
      tracer: undefined,
      lifetimeNs: null,
    });
  }
  return out;
}

/** The same decisions, building every pattern per event (the design the filter avoids). */
function naiveKeep(rules: Array<{ action: string; match: Record<string, unknown> }>, x: EnrichedEvent): boolean {
  for (const r of rules) {
    const m = r.match;
    const ev = m.events as string[] | undefined;
    if (ev && !ev.includes(x.event.kind)) continue;
    let ok = true;
    if (m.executable) ok &&= (m.executable as string[]).some((g) => globToRegExp(g).test(x.process?.exe ?? ''));
    if (ok && m.argv) ok &&= new RegExp(m.argv as string).test((x.process?.argv ?? []).join(' '));
    if (ok && m.user)
      ok &&= (m.user as Array<string | number>).some((u) => u === x.process?.euid || u === names.userName(x.process?.euid ?? -1));
    if (ok && m.loginUser) ok &&= x.process?.loginUid !== null;
    if (ok && m.container) ok &&= (m.container as string[]).some((p) => x.process?.containerId?.startsWith(p) ?? false);
    if (ok && m.ancestor) ok &&= x.ancestors.some((a) => (m.ancestor as string[]).some((g) => globToRegExp(g).test(a)));
    if (ok && m.thread !== undefined) ok &&= (x.event.kind === 'fork' || x.event.kind === 'exit') && x.event.isThread === m.thread;
    if (ok && m.exitCode) ok &&= x.event.kind === 'exit' && x.event.status !== 0;
    if (ok) return r.action === 'keep';
  }
  return true;
}

export async function filterBench(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 1_000_000);
  const evs = events(10_000);
  const rules = policy();
  const f = new EventFilter(rules, 'keep', names);
  const time = (fn: (x: EnrichedEvent) => boolean, count: number): { perSec: number; kept: number } => {
    let kept = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) if (fn(evs[i % evs.length] as EnrichedEvent)) kept++;
    return { perSec: count / (Number(process.hrtime.bigint() - t0) / 1e9), kept };
  };
  time((x) => f.keep(x), 100_000); // warm-up
  const a = time((x) => f.keep(x), n);
  const naiveN = Math.max(10_000, Math.floor(n / 20));
  const b = time((x) => naiveKeep(rules as Array<{ action: string; match: Record<string, unknown> }>, x), naiveN);
  const fmt = (v: number): string => Math.round(v).toLocaleString('en-US');
  process.stdout.write(
    [
      '| filter (50 rules) | decisions | decisions/s | kept |',
      '|---|---:|---:|---:|',
      `| compiled once (agent) | ${fmt(n)} | ${fmt(a.perSec)} | ${((100 * a.kept) / n).toFixed(1)} % |`,
      `| patterns built per event (naive) | ${fmt(naiveN)} | ${fmt(b.perSec)} | ${((100 * b.kept) / naiveN).toFixed(1)} % |`,
      '',
    ].join('\n'),
  );
}
