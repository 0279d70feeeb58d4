/**
 * `npm run bench -- security`: what the security context adds per exec record, on the main thread
 * (the capture thread reads nothing new: CapPrm/CapEff come from the status file it already reads).
 * Status files of the processes running now; each step timed alone over the same inputs, 9 runs,
 * median and minimum reported (the machine is shared and noisy: compare medians, not one run).
 *
 * - parse: parseStatusCapabilities on a status file (what applySnapshot adds per exec);
 * - names: the two sets to names (once per process entry: cached with the other derived values);
 * - fileless: executableOrigin on an exe path (once per process entry, cached with the names);
 * - escalation: EscalationTracker.atExec for an exec that did not escalate (the common case);
 * - record: recordAttributes of a full exec record with the three capability attributes, minus one
 *   without them (the names are cached, so this is the stores and the SDK-side attribute count).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcEvent } from '../src/kernel/events.js';
import { recordAttributes } from '../src/otel/attributes.js';
import { capabilityNames, parseStatusCapabilities } from '../src/process/capabilities.js';
import { EscalationTracker } from '../src/process/escalation.js';
import { executableOrigin } from '../src/process/executable.js';
import { type EnrichedEvent, type ProcessInfo, unknownProcess } from '../src/process/model.js';
import { parseStatusIds } from '../src/process/parse.js';

function statusFiles(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.push(readFileSync(`/proc/${d}/status`));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** ns per call of fn over `n` calls, median and min of 9 runs. */
function time(n: number, fn: (i: number) => unknown): { median: number; min: number } {
  const runs: number[] = [];
  let sink = 0;
  for (let r = 0; r < 9; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (fn(i) !== undefined) sink++;
    runs.push(Number(process.hrtime.bigint() - t0) / n);
  }
  if (sink < 0) console.log(sink);
  runs.sort((a, b) => a - b);
  return { median: runs[4] as number, min: runs[0] as number };
}

const fmt = (t: { median: number; min: number }): string => `${t.median.toFixed(0)} ns median (min ${t.min.toFixed(0)})`;

export async function securityBench(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 200_000);
  const files = statusFiles();
  const ids = time(n, (i) => parseStatusIds(files[i % files.length] as Uint8Array));
  const caps = time(n, (i) => parseStatusCapabilities(files[i % files.length] as Uint8Array));
  const parsed = files.map((f) => parseStatusCapabilities(f) ?? { effective: 0, permitted: 0 });
  const names = time(n, (i) => {
    const c = parsed[i % parsed.length] as { effective: number; permitted: number };
    return [capabilityNames(c.effective), capabilityNames(c.permitted)];
  });
  const base: ProcessInfo = {
    ...unknownProcess(100, 1),
    exe: '/usr/bin/true',
    argv: ['true'],
    ruid: 1000,
    euid: 1000,
    rgid: 1000,
    egid: 1000,
    capEffective: 0,
    capPermitted: 0,
  };
  const exes = ['/usr/bin/true', '/usr/lib/gcc/x86_64-linux-gnu/12/cc1', '/memfd:x (deleted)', '/tmp/build/a.out (deleted)'];
  const origin = time(n, (i) => executableOrigin(exes[i % exes.length] as string));
  const tracker = new EscalationTracker(1000);
  const esc = time(n, () => tracker.atExec(base, base));
  const ctx = { userName: () => 'alice', groupName: () => 'users', redact: (argv: readonly string[]) => ({ argv, redacted: false }) };
  const ev = { cpu: 0, seq: 1, ktimeNs: 0n, time: [1, 0], pid: 100, tgid: 100, kind: 'exec' } as ProcEvent;
  const mk = (p: ProcessInfo): EnrichedEvent => ({
    event: ev,
    process: p,
    parent: undefined,
    ancestors: [],
    previous: undefined,
    tracer: undefined,
    lifetimeNs: null,
    escalation: null,
  });
  const withCaps = mk({ ...base, capEffective: 0x1fffeffffff, capPermitted: 0x1fffeffffff });
  const without = mk({ ...base, capEffective: null, capPermitted: null });
  const rWith = time(n, () => recordAttributes(withCaps, 'process.exec', ctx));
  const rWithout = time(n, () => recordAttributes(without, 'process.exec', ctx));
  console.log(`security context per exec (${files.length} real status files, ${n} calls x 9 runs):`);
  console.log(`  parse Uid/Gid (existing, for scale): ${fmt(ids)}`);
  console.log(`  parse CapPrm/CapEff:                 ${fmt(caps)}`);
  console.log(`  names of both sets (per entry):      ${fmt(names)}`);
  console.log(`  escalation check (no escalation):    ${fmt(esc)}`);
  console.log(`  fileless test of the exe path:       ${fmt(origin)}`);
  console.log(`  exec record with capabilities:       ${fmt(rWith)}; without: ${fmt(rWithout)}`);
}
