/**
 * `npm run bench -- enrich`: fork+exec storms of /bin/true (1, 2, 4 workers) while the agent's
 * enrichment (woken by every event, the default, and by execs only) and a naive read-after-queue reader
 * listen side by side; prints the share of execs
 * whose record has the executable path and command line. Also measures process-table memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Attachment, ProcFile, ReadStatus } from '../src/kernel/proc-files.js';
import { Enricher } from '../src/process/enricher.js';
import type { HostClock } from '../src/process/identity.js';

const CHILD = fileURLToPath(new URL('./enrich-child.js', import.meta.url));

function line(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${re}`)), 30_000);
    const on = (d: string): void => {
      buf += d;
      const l = buf.split('\n').find((x) => re.test(x));
      if (l) {
        clearTimeout(timer);
        child.stdout?.off('data', on);
        resolve(l);
      }
    };
    child.stdout?.setEncoding('utf8').on('data', on);
  });
}

interface Result {
  mode: string;
  execs: number;
  complete: number;
  flagged: number;
}

async function storm(workers: number, perWorker: number): Promise<Result[]> {
  const kids = ['agent', 'agent-exec', 'naive'].map((m) => spawn(process.execPath, [CHILD, m], { stdio: ['pipe', 'pipe', 'inherit'] }));
  await Promise.all(kids.map((k) => line(k, /^ready/)));
  // Workers wait on stdin so that both listeners know their pids before the first exec.
  const ws = Array.from({ length: workers }, () =>
    spawn('sh', ['-c', `read go; i=0; while [ $i -lt ${perWorker} ]; do /bin/true; i=$((i+1)); done`], {
      stdio: ['pipe', 'ignore', 'ignore'],
    }),
  );
  const pids = ws.map((w) => w.pid).join(',');
  await Promise.all(
    kids.map((k) => {
      const armed = line(k, /^armed/);
      k.stdin?.write(`${pids}\n`);
      return armed;
    }),
  );
  await Promise.all(
    ws.map(
      (w) =>
        new Promise((r) => {
          w.once('exit', r);
          w.stdin?.end('go\n');
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 1000));
  return Promise.all(
    kids.map(async (k) => {
      const out = line(k, /^\{/);
      k.kill('SIGTERM');
      return JSON.parse(await out) as Result;
    }),
  );
}

/** Heap bytes per process-table entry with realistic fields (exec of a 6-argument command). */
function tableMemory(n: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return Number.NaN;
  const host: HostClock = { bootId: '00000000-0000-0000-0000-000000000000', bootTimeS: 1_795_000_000, ticksPerSecond: 100 };
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: n + 10 });
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let pid = 1000; pid < 1000 + n; pid++) {
    const snap: Attachment[] = [
      {
        file: ProcFile.cmdline,
        status: ReadStatus.ok,
        bytes: enc(`/usr/bin/python3\x00-m\x00http.server\x00--bind\x00127.0.0.1\x00${pid}\x00`),
      },
      { file: ProcFile.exe, status: ReadStatus.ok, bytes: enc('/usr/bin/python3.11') },
      {
        file: ProcFile.stat,
        status: ReadStatus.ok,
        bytes: enc(`${pid} (python3) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${pid * 7} 0 0`),
      },
      { file: ProcFile.status, status: ReadStatus.ok, bytes: enc('Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n') },
      { file: ProcFile.cwd, status: ReadStatus.ok, bytes: enc('/home/alice/project') },
      { file: ProcFile.cgroup, status: ReadStatus.ok, bytes: enc('0::/user.slice/user-1000.slice/session-2.scope\n') },
    ];
    en.enrich({ kind: 'exec', cpu: 0, seq: 0, ktimeNs: 0n, time: [0, 0], pid, tgid: pid }, snap);
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  if (en.table.size !== n) throw new Error('table size');
  return (after - before) / n;
}

export async function enrichBench(args: string[]): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the enrich benchmark needs root');
  const perWorker = Number(args[0] ?? 1500);
  const rows = [
    '| workers | execs | agent: exe + argv | agent: flagged misses | agent: unflagged | agent, wakeup exec: exe + argv | naive read-after-queue: exe + argv |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const w of [1, 2, 4]) {
    process.stderr.write(`storm: ${w} worker(s) x ${perWorker} execs of /bin/true ...\n`);
    const [a, ev, n] = (await storm(w, perWorker)) as [Result, Result, Result];
    const pct = (x: number, of: number): string => `${((100 * x) / Math.max(1, of)).toFixed(1)} %`;
    rows.push(
      `| ${w} | ${a.execs} | ${pct(a.complete, a.execs)} | ${pct(a.flagged, a.execs)} | ${a.execs - a.complete - a.flagged} | ${pct(ev.complete, ev.execs)} | ${pct(n.complete, n.execs)} |`,
    );
  }
  process.stdout.write(`${rows.join('\n')}\n`);
  const perEntry = tableMemory(50_000);
  process.stdout.write(
    Number.isNaN(perEntry)
      ? 'process table memory: run with --expose-gc to measure\n'
      : `process table memory: ${Math.round(perEntry)} bytes per entry (50,000 entries, exec of a 6-argument command)\n`,
  );
}
