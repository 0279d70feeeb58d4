/**
 * `npm run bench -- storm`: the whole agent (enrichment, filter, pressure ladder, OTLP export to a
 * counting receiver) under stress-ng fork storms of increasing size, beside forkstat in the same
 * run; then CPU at a steady 1,600 exec/s of the agent (as shipped, and with `--events exec`),
 * forkstat (a C proc connector reader), a native floor (bench/floor-reader.c: the agent's capture work in C) and auditd + kauditd with one
 * execve rule, each alone over the same paced load and measured the same way. Writes an SVG of the storm figures to docs/storm.svg.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_FLAGS } from '../src/cli/node-flags.js';
import { captureSection } from '../src/kernel/config.js';
import { forkstatTotal } from './capture.js';
import { ensureDebianPackages } from './ensure-tools.js';
import { netlinkDropsOf, threadUsageOf, usageOf } from './proc-usage.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RECEIVER = fileURLToPath(new URL('./count-receiver.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function lineOf(child: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${timeoutMs} ms`)), timeoutMs);
    child[stream]?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

async function receiver(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m = await lineOf(child, 'stdout', /port (\d+)/, 10_000);
  return { child, url: `http://127.0.0.1:${m[1]}` };
}

async function startAgent(
  url: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; stderr: () => string }> {
  // The agent as shipped (its launchers' Node.js flags), then any extra flags asked for.
  const nodeArgs = [...AGENT_NODE_FLAGS, ...(process.env.STORM_AGENT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];
  // A spool of its own (same disk as the default one, so the same cost), left by no earlier run.
  const spool = mkdtempSync(join(tmpdir(), 'cnproc-bench-spool-'));
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI, '--exporter', 'otlp', '--otlp-endpoint', url, '--metrics-port', '0', '--spool-dir', spool, ...extra],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const until = Date.now() + 20_000;
  while (!/exporting to OTLP/.test(err)) {
    if (Date.now() > until) throw new Error(`agent did not start:\n${err}`);
    await sleep(50);
  }
  child.once('exit', () => rmSync(spool, { recursive: true, force: true }));
  return { child, stderr: () => err };
}

async function stopAgent(a: { child: ChildProcess; stderr: () => string }): Promise<Record<string, number>> {
  const done = new Promise((r) => a.child.once('exit', r));
  a.child.kill('SIGTERM');
  await done;
  const m = /accounting: (.*)$/m.exec(a.stderr());
  if (!m) throw new Error(`no accounting line:\n${a.stderr()}`);
  const acc = Object.fromEntries(
    (m[1] as string)
      .split(' ')
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
  const ex = /exporter 1: (\d+) exported, dropped: queue full (\d+), failed (\d+), timeout (\d+), shutdown (\d+)/.exec(a.stderr());
  acc.exported = Number(ex?.[1] ?? Number.NaN);
  acc.export_dropped = ex ? Number(ex[2]) + Number(ex[3]) + Number(ex[4]) + Number(ex[5]) : Number.NaN;
  return acc as Record<string, number>;
}

interface StormRow {
  processes: number;
  acc: Record<string, number>;
  agentCpu: number;
  agentRss: number;
  forkstat: { received: number; drops: number; cpu: number; rss: number };
}

async function storm(forkOps: number, dir: string): Promise<StormRow> {
  const rx = await receiver();
  const agent = await startAgent(rx.url);
  const out = join(dir, `forkstat-${forkOps}.txt`);
  const fd = openSync(out, 'w');
  const fstat = spawn('forkstat', ['-S', '-e', 'all'], { stdio: ['ignore', fd, 'ignore'] });
  closeSync(fd);
  await sleep(1000);
  const a0 = usageOf(agent.child.pid as number);
  const f0 = usageOf(fstat.pid as number);
  const st = spawn('stress-ng', ['--fork', '2', '--fork-ops', String(forkOps), '--quiet'], { stdio: 'ignore' });
  await new Promise((r) => st.once('exit', r));
  await sleep(3000);
  const a1 = usageOf(agent.child.pid as number);
  const f1 = usageOf(fstat.pid as number);
  const fDrops = netlinkDropsOf(fstat.pid as number);
  const fsDone = new Promise((r) => fstat.once('exit', r));
  fstat.kill('SIGINT');
  await fsDone;
  const acc = await stopAgent(agent);
  rx.child.kill('SIGTERM');
  return {
    processes: forkOps * 2,
    acc,
    agentCpu: a1.cpuSeconds - a0.cpuSeconds,
    agentRss: a1.peakRssMiB,
    forkstat: {
      received: forkstatTotal(readFileSync(out, 'latin1')),
      drops: fDrops,
      cpu: f1.cpuSeconds - f0.cpuSeconds,
      rss: f1.peakRssMiB,
    },
  };
}

/** Compiles bench/<name>.c into `dir`; returns the binary's path. */
function buildC(dir: string, name: string): string {
  const src = fileURLToPath(new URL(`../../bench/${name}.c`, import.meta.url));
  const bin = join(dir, name);
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', bin, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${src} failed:\n${r.stderr}`);
  return bin;
}

interface SpawnerResult {
  execsPerSec: number;
  /** Wall time of the run (spawner start to its exit). */
  seconds: number;
  lateMaxMs: number;
  line: string;
}

/** Runs the spawner: `workers` processes, each fork+exec+wait of /bin/true `perWorker` times a second. */
async function paced(bin: string, workers: number, perWorker: number, seconds: number): Promise<SpawnerResult> {
  const child = spawn(bin, [String(workers), String(perWorker), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const t0 = performance.now();
  const m = await lineOf(child, 'stdout', /spawned \d+ in [\d.]+ s: ([\d.]+) exec\/s .*late: max ([\d.]+) ms.*\n/, (seconds + 60) * 1000);
  return { execsPerSec: Number(m[1]), seconds: (performance.now() - t0) / 1000, lateMaxMs: Number(m[2]), line: m[0].trim() };
}

function kauditdPid(): number | null {
  const r = spawnSync('pgrep', ['-x', 'kauditd'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim().split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** CPU % of one core used by `pids` (summed) while `work` runs. */
async function cpuDuring(pids: number[], work: () => Promise<SpawnerResult>): Promise<{ pct: number[]; run: SpawnerResult }> {
  const u0 = pids.map((p) => usageOf(p).cpuSeconds);
  const t0 = performance.now();
  const run = await work();
  const u1 = pids.map((p) => usageOf(p).cpuSeconds);
  const wall = (performance.now() - t0) / 1000;
  return { pct: pids.map((_, i) => (100 * ((u1[i] as number) - (u0[i] as number))) / wall), run };
}

/** One measured subject of a steady round: CPU % of one core over the paced load, and the rate held. */
interface SteadyRun {
  pct: number;
  run: SpawnerResult;
}

interface AgentRun extends SteadyRun {
  receiverPct: number;
  acc: Record<string, number>;
  threads: Record<string, number>;
}

interface SteadyRound {
  load: string;
  /** The agent as shipped: every event type, enriched, OTLP through the disk spool. */
  agent: AgentRun;
  /** The agent with `capture.wakeup: exec` (only execs wake the capture thread). */
  agentWakeExec: AgentRun;
  /** The agent with `--events exec`: the same scope as auditd's one execve rule. */
  agentExec: AgentRun;
  /** forkstat: a C proc connector reader (reads /proc/<pid>/cmdline per exec, prints to a file). */
  forkstat: SteadyRun;
  /** bench/floor-reader.c: the agent's capture work (every type; its exec and fork snapshots as shipped) in C. */
  floor: SteadyRun;
  audit: { auditdPct: number; kauditdPct: number; run: SpawnerResult };
}

/** The agent (its OTLP receiver measured apart, not charged to it) over one paced load. */
async function agentRun(
  bin: string,
  perWorker: number,
  seconds: number,
  extra: string[],
  env: Record<string, string> = {},
): Promise<AgentRun> {
  const rx = await receiver();
  const agent = await startAgent(rx.url, extra, env);
  await sleep(1000);
  const apid = agent.child.pid as number;
  const th0 = threadUsageOf(apid);
  const a = await cpuDuring([apid, rx.child.pid as number], () => paced(bin, 2, perWorker, seconds));
  const th1 = threadUsageOf(apid);
  const threads: Record<string, number> = {};
  for (const [name, cpu] of th1) threads[name] = (100 * (cpu - (th0.get(name) ?? 0))) / a.run.seconds;
  const acc = await stopAgent(agent);
  rx.child.kill('SIGTERM');
  return { pct: a.pct[0] as number, receiverPct: a.pct[1] as number, run: a.run, acc, threads };
}

async function forkstatRun(bin: string, perWorker: number, seconds: number, dir: string): Promise<SteadyRun> {
  const out = join(dir, 'forkstat-steady.log');
  const fstat = spawn('sh', ['-c', `exec forkstat -S -e all > ${out} 2>&1`], { stdio: 'ignore' });
  await sleep(1000);
  const b = await cpuDuring([fstat.pid as number], () => paced(bin, 2, perWorker, seconds));
  const done = new Promise((r) => fstat.once('exit', r));
  fstat.kill('SIGINT');
  await done;
  return { pct: b.pct[0] as number, run: b.run };
}

/**
 * The native floor (bench/floor-reader.c) over one paced load, its lines to a file, at the capture
 * thread's default nice value: priority itself costs (measured: the same reader spends 20–25 % more
 * per exec at −10 than at 0, preempting the spawner at every event), and the floor stands for that
 * thread's work as shipped.
 */
async function floorRun(bin: string, reader: string, perWorker: number, seconds: number, dir: string): Promise<SteadyRun> {
  const out = join(dir, 'floor-steady.log');
  const nice = captureSection.keys.threadNice.default as number;
  const child = spawn('sh', ['-c', `exec nice -n ${nice} ${reader} > ${out}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await sleep(1000);
  const b = await cpuDuring([child.pid as number], () => paced(bin, 2, perWorker, seconds));
  const counts = lineOf(child, 'stderr', /events (\d+) execs (\d+)/, 10_000);
  child.kill('SIGTERM');
  const m = await counts;
  // A floor that missed execs would be cheaper than the work it stands for.
  if (Number(m[2]) < b.run.execsPerSec * seconds * 0.99) process.stderr.write(`floor reader saw ${m[2]} execs only\n`);
  return { pct: b.pct[0] as number, run: b.run };
}

/**
 * One round at a steady exec rate, each subject alone over the same paced load: the agent as
 * shipped, the same woken by execs only (capture.wakeup: exec), the agent recording execs only,
 * forkstat, the native floor (bench/floor-reader.c), then auditd with one execve rule.
 */
async function steadyRound(bin: string, reader: string, perWorker: number, seconds: number, dir: string): Promise<SteadyRound> {
  const load = readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
  const agent = await agentRun(bin, perWorker, seconds, []);
  const agentWakeExec = await agentRun(bin, perWorker, seconds, [], { CNPROC_OTEL_WAKEUP: 'exec' });
  const agentExec = await agentRun(bin, perWorker, seconds, ['--events', 'exec']);
  const forkstat = await forkstatRun(bin, perWorker, seconds, dir);
  const floor = await floorRun(bin, reader, perWorker, seconds, dir);

  spawnSync('auditctl', ['-D']);
  const auditd = spawn('auditd', ['-n', '-f'], { stdio: 'ignore' });
  await sleep(1500);
  spawnSync('auditctl', ['-a', 'always,exit', '-F', 'arch=b64', '-S', 'execve', '-k', 'cnproc-bench']);
  const kpid = kauditdPid();
  const pids = kpid ? [auditd.pid as number, kpid] : [auditd.pid as number];
  const b = await cpuDuring(pids, () => paced(bin, 2, perWorker, seconds));
  spawnSync('auditctl', ['-D']);
  const auditdDone = new Promise((r) => auditd.once('exit', r));
  auditd.kill('SIGTERM');
  await auditdDone;
  return {
    load,
    agent,
    agentWakeExec,
    agentExec,
    forkstat,
    floor,
    audit: { auditdPct: b.pct[0] as number, kauditdPct: kpid ? (b.pct[1] as number) : Number.NaN, run: b.run },
  };
}

function svg(rows: StormRow[]): string {
  const w = 640;
  const h = 300;
  const max = Math.max(...rows.map((r) => r.acc.generated ?? 0));
  const bw = 30;
  const series: Array<[string, string, (r: StormRow) => number]> = [
    ['generated', '#888', (r) => r.acc.generated ?? 0],
    ['exported one by one', '#2a7', (r) => r.acc.emitted ?? 0],
    ['aggregated (cnproc.storm)', '#27c', (r) => r.acc.aggregated ?? 0],
    ['lost (kernel + agent)', '#d33', (r) => (r.acc.kernel_lost ?? 0) + (r.acc.handoff_dropped ?? 0) + (r.acc.priority_dropped ?? 0)],
  ];
  let body = '';
  rows.forEach((r, i) => {
    const x0 = 60 + i * ((w - 80) / rows.length);
    series.forEach(([, color, f], j) => {
      const v = f(r);
      const bh = max > 0 ? (v / max) * (h - 80) : 0;
      body += `<rect x="${x0 + j * (bw + 4)}" y="${h - 40 - bh}" width="${bw}" height="${bh.toFixed(1)}" fill="${color}"><title>${v}</title></rect>`;
    });
    body += `<text x="${x0}" y="${h - 22}" font-size="12">${r.processes.toLocaleString('en-US')} processes</text>`;
  });
  const legend = series
    .map(
      ([name, color], j) =>
        `<rect x="${60 + j * 140}" y="10" width="10" height="10" fill="${color}"/><text x="${74 + j * 140}" y="19" font-size="11">${name}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${legend}${body}<text x="10" y="${h - 5}" font-size="10">events per stress-ng fork storm (2 workers); npm run bench -- storm</text></svg>\n`;
}

/**
 * `npm run bench -- storm [N ...]`: storms of 2 x N forks, then the steady-rate comparison.
 * `npm run bench -- storm steady`: the steady-rate comparison only. Environment: STEADY_SECONDS
 * (20), STEADY_ROUNDS (2, each running every subject in turn), STEADY_PER_WORKER (800 exec/s),
 * STORM_AGENT_NODE_ARGS (extra node flags for the agent, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
 */
export async function stormBench(args: string[]): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the storm benchmark needs root');
  ensureDebianPackages({
    'stress-ng': 'stress-ng',
    forkstat: 'forkstat',
    auditctl: 'auditd',
    cc: 'gcc',
    '/usr/include/stdio.h': 'libc6-dev',
  });
  const steadyOnly = args[0] === 'steady';
  const sizes = steadyOnly ? [] : args.length ? args.map(Number) : [10_000, 40_000, 100_000];
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-storm-'));
  const f = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '?' : Math.round(x).toLocaleString('en-US'));
  if (sizes.length > 0) {
    const rows: StormRow[] = [];
    for (const n of sizes) {
      process.stderr.write(`storm: 2 workers x ${n} forks (load ${readFileSync('/proc/loadavg', 'latin1').slice(0, 14)}) ...\n`);
      rows.push(await storm(n, dir));
    }
    const lines = [
      '| storm (processes) | generated | received | kernel drops | exported one by one | aggregated | dropped in agent | export drops | agent CPU s | agent peak RSS MiB | forkstat received | forkstat kernel drops | forkstat CPU s | forkstat peak RSS MiB |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => {
        const a = r.acc;
        const dropped = (a.handoff_dropped ?? 0) + (a.rate_limited ?? 0) + (a.priority_dropped ?? 0);
        return `| ${f(r.processes)} | ${f(a.generated)} | ${f(a.received)} | ${f(a.kernel_lost)} | ${f(a.emitted)} | ${f(a.aggregated)} | ${f(dropped)} | ${f(a.export_dropped)} | ${r.agentCpu.toFixed(2)} | ${r.agentRss.toFixed(0)} | ${f(r.forkstat.received)} | ${f(r.forkstat.drops)} | ${r.forkstat.cpu.toFixed(2)} | ${r.forkstat.rss.toFixed(0)} |`;
      }),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    writeFileSync(fileURLToPath(new URL('../../docs/storm.svg', import.meta.url)), svg(rows));
  }

  const bin = buildC(dir, 'spawner');
  const reader = buildC(dir, 'floor-reader');
  const seconds = Number(process.env.STEADY_SECONDS ?? 20);
  const roundsN = Number(process.env.STEADY_ROUNDS ?? 2);
  const perWorker = Number(process.env.STEADY_PER_WORKER ?? 800);
  const rounds: SteadyRound[] = [];
  for (let i = 0; i < roundsN; i++) {
    process.stderr.write(
      `steady ${2 * perWorker} exec/s, round ${i + 1}/${roundsN}: agent, agent (wakeup exec), agent --events exec, forkstat, native floor, auditd ...\n`,
    );
    rounds.push(await steadyRound(bin, reader, perWorker, seconds, dir));
  }
  const p = (x: number): string => (Number.isNaN(x) ? '?' : x.toFixed(1));
  // CPU per exec as well as CPU %: when the machine is shared the spawner may fall short of its
  // target, and by different amounts in each run; per exec compares like with like.
  const us = (pct: number, run: SpawnerResult): number => (1e4 * pct) / run.execsPerSec;
  const out = [
    '',
    '| round | load avg (1/5/15 min) | subject | exec/s held | CPU % of one core | µs CPU per exec | ÷ auditd + kauditd, per exec |',
    '|---:|---|---|---:|---:|---:|---:|',
  ];
  for (const [i, r] of rounds.entries()) {
    const auditPct = r.audit.auditdPct + r.audit.kauditdPct;
    const auditUs = us(auditPct, r.audit.run);
    const row = (name: string, pct: number, run: SpawnerResult): string =>
      `| ${i + 1} | ${r.load} | ${name} | ${f(run.execsPerSec)} | ${p(pct)} | ${f(us(pct, run))} | ${(us(pct, run) / auditUs).toFixed(2)} |`;
    out.push(
      row('cnproc-otel as shipped (every event type, enriched, OTLP via the spool)', r.agent.pct, r.agent.run),
      row('cnproc-otel, `capture.wakeup: exec` (woken by execs only)', r.agentWakeExec.pct, r.agentWakeExec.run),
      row('cnproc-otel `--events exec` (the scope of one execve rule)', r.agentExec.pct, r.agentExec.run),
      row('forkstat -e all (C proc connector reader, to a file)', r.forkstat.pct, r.forkstat.run),
      row(
        "native floor: the agent's capture work in C at its nice (every type; per exec 6 reads, 3 readlinks, the program file's statx and first page via one O_PATH fd; per fork the child's stat; a line to a file)",
        r.floor.pct,
        r.floor.run,
      ),
      row(`auditd ${p(r.audit.auditdPct)} % + kauditd ${p(r.audit.kauditdPct)} % (one execve rule)`, auditPct, r.audit.run),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  for (const [i, r] of rounds.entries()) {
    process.stdout.write(
      `round ${i + 1} spawner: agent "${r.agent.run.line}"; agent wakeup exec "${r.agentWakeExec.run.line}"; agent --events exec "${r.agentExec.run.line}"; forkstat "${r.forkstat.run.line}"; floor "${r.floor.run.line}"; auditd "${r.audit.run.line}"\n`,
    );
    for (const [label, a] of [
      ['agent', r.agent],
      ['agent wakeup exec', r.agentWakeExec],
      ['agent --events exec', r.agentExec],
    ] as const) {
      process.stdout.write(
        `round ${i + 1} ${label} accounting: ${JSON.stringify(a.acc)} (OTLP receiver ${p(a.receiverPct)} %, not charged)\n`,
      );
      const th = Object.entries(a.threads)
        .filter(([, v]) => v >= 0.05)
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ');
      process.stdout.write(`round ${i + 1} ${label} CPU % by thread: ${th}\n`);
    }
  }
}
