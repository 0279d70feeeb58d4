/**
 * `npm run bench -- security storm` (root): what the program file costs in real exec storms, the
 * whole agent process's CPU (capture thread, main thread, hasher thread) per exec, through the
 * real proc connector, capture thread, enricher and record mapping. Three setups, alternated in
 * each round: no program file (process.executableFile false), the file without hashing, the file
 * with hashing (the cache warm: the same /bin/true each time). Then new binaries: 200 distinct
 * copies of /bin/true, each exec'd once, hashing on against off: the cost per new binary, hasher
 * included (waited for).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcEvent } from '../src/kernel/events.js';
import { ProcEventSource } from '../src/kernel/source.js';
import { recordAttributes } from '../src/otel/attributes.js';
import { Enricher } from '../src/process/enricher.js';
import { ExecutableHasher } from '../src/process/executable-hash.js';
import { readHostClock } from '../src/process/identity.js';

const ctx = { userName: () => undefined, groupName: () => undefined, redact: (argv: readonly string[]) => ({ argv, redacted: false }) };

interface Setup {
  name: string;
  file: boolean;
  hasher: ExecutableHasher | null;
}

/** Runs `cmd` under a capture with `setup`; CPU µs of this process per exec of the run's programs. */
async function measure(
  setup: Setup,
  cmd: string,
  args: string[],
  isStorm: (exe: string) => boolean,
): Promise<{ execs: number; others: number; cpuUs: number; cpuUsPerExec: number }> {
  const host = readHostClock();
  const enricher = new Enricher(host, { ancestryDepth: 4, maxProcesses: 65_536, hasher: setup.hasher });
  // Execs of the storm's programs, and of anything else on this shared machine.
  let execs = 0;
  let others = 0;
  const source = await ProcEventSource.start({
    snapshot: { exec: true, fork: true, maxBytes: 32_768, executableFile: setup.file },
    onEvents: (evs: ProcEvent[]) => {
      for (const e of evs) {
        const x = enricher.enrich(e, e.procSnapshot);
        recordAttributes(x, `process.${e.kind}`, ctx);
        if (e.kind !== 'exec') continue;
        if (isStorm(x.process?.exe ?? '')) execs++;
        else others++;
      }
    },
  });
  const c0 = process.cpuUsage();
  spawnSync(cmd, args, { stdio: 'ignore' });
  // Let the capture drain and the hasher finish what the run queued.
  await new Promise((r) => setTimeout(r, 300));
  while (setup.hasher !== null && setup.hasher.stats().queued > 0) await new Promise((r) => setTimeout(r, 50));
  const c = process.cpuUsage(c0);
  await source.stop();
  // Other programs' execs cost the same path: charged per exec of either kind.
  return { execs, others, cpuUs: c.user + c.system, cpuUsPerExec: (c.user + c.system) / Math.max(1, execs + others) };
}

const ROUNDS = Number(process.env.SECURITY_STORM_ROUNDS ?? 5);
const loadavg = (): string => spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ').slice(0, 3).join(' ');

export async function securityStormBench(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench security storm needs root (the proc connector and a 600 exec/s storm)');
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-bench-exe-'));
  try {
    const src = fileURLToPath(new URL('../../bench/spawner.c', import.meta.url));
    const spawner = join(dir, 'spawner');
    if (spawnSync('cc', ['-O2', '-o', spawner, src]).status !== 0) throw new Error('cc spawner.c failed');
    const rate = Number(process.env.SECURITY_STORM_RATE ?? 600);
    const seconds = Number(process.env.SECURITY_STORM_SECONDS ?? 3);
    const warm = new ExecutableHasher({ maxFileBytes: 64 << 20, cacheEntries: 4096, timeoutMs: 5000 });
    const setups: Setup[] = [
      { name: 'no program file', file: false, hasher: null },
      { name: 'program file, no hash', file: true, hasher: null },
      { name: 'program file + hash (warm)', file: true, hasher: warm },
    ];
    const trueExe = realpathSync('/bin/true');
    const runs = new Map<string, number[]>(setups.map((s) => [s.name, []]));
    console.log(`exec storm: /bin/true at ${rate}/s for ${seconds} s per run, ${ROUNDS} rounds (load average before: ${loadavg()})`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of setups) {
        const r = await measure(s, spawner, ['1', String(rate), String(seconds), '/bin/true'], (exe) => exe === trueExe);
        runs.get(s.name)?.push(r.cpuUsPerExec);
        console.log(
          `  round ${round + 1} ${s.name.padEnd(28)} ${r.execs} storm execs + ${r.others} others, ${r.cpuUsPerExec.toFixed(1)} µs CPU per exec`,
        );
      }
    }
    for (const s of setups) {
      const xs = [...(runs.get(s.name) as number[])].sort((a, b) => a - b);
      console.log(
        `  ${s.name.padEnd(28)} median ${(xs[Math.floor(ROUNDS / 2)] as number).toFixed(1)}, min ${(xs[0] as number).toFixed(1)} µs CPU per exec`,
      );
    }
    await warm.close();
    // New binaries: each copy differs in its last bytes (a different file and hash, still valid ELF).
    const n = 200;
    const copies = join(dir, 'copies');
    spawnSync('mkdir', [copies]);
    for (let i = 0; i < n; i++) {
      const p = join(copies, `t${String(i).padStart(3, '0')}`);
      copyFileSync('/bin/true', p);
      appendFileSync(p, `cnproc-bench-${i}\n`);
      chmodSync(p, 0o755);
    }
    const loop = ['-c', `for f in ${copies}/*; do "$f"; done`];
    const perBinary: number[] = [];
    for (let round = 0; round < 3; round++) {
      const h = new ExecutableHasher({ maxFileBytes: 64 << 20, cacheEntries: 4096, timeoutMs: 5000 });
      const mine = (exe: string) => exe.startsWith(copies);
      const on = await measure({ name: 'cold', file: true, hasher: h }, 'sh', loop, mine);
      const hs = h.stats();
      await h.close();
      const no = await measure({ name: 'off', file: true, hasher: null }, 'sh', loop, mine);
      // The hashing run's CPU beyond what its execs cost at the no-hash rate, per file hashed.
      const extra = on.cpuUs - no.cpuUsPerExec * (on.execs + on.others);
      perBinary.push(extra / Math.max(1, hs.hashed));
      console.log(
        `  round ${round + 1}: ${on.execs} copies exec'd (+ ${on.others} other execs), ${hs.hashed} files hashed, ${hs.execsLate} late; ${(on.cpuUs / 1000).toFixed(0)} ms CPU; without hashing ${no.cpuUsPerExec.toFixed(0)} µs per exec`,
      );
    }
    perBinary.sort((x, y) => x - y);
    console.log(
      `  per new binary hashed (median of 3): ${((perBinary[1] as number) / 1000).toFixed(2)} ms CPU (load average after: ${loadavg()})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
