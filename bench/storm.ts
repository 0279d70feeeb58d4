/**
 * `npm run bench -- storm`: the whole agent (enrichment, filter, pressure ladder, OTLP export to a
 * counting receiver) under stress-ng fork storms of increasing size, beside forkstat in the same
 * run; then agent CPU at a steady 1,600 exec/s beside auditd + kauditd with one execve rule,
 * measured the same way. Writes an SVG of the storm figures to docs/storm.svg.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkstatTotal } from './capture.js';
import { ensureDebianPackages } from './ensure-tools.js';
import { netlinkDropsOf, usageOf } from './proc-usage.js';

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

async function startAgent(url: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, '--exporter', 'otlp', '--otlp-endpoint', url, '--metrics-port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const until = Date.now() + 20_000;
  while (!/exporting to OTLP/.test(err)) {
    if (Date.now() > until) throw new Error(`agent did not start:\n${err}`);
    await sleep(50);
  }
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

/** Two python workers each spawning /bin/true at `perWorker` per second for `seconds`. */
function steadyExecs(perWorker: number, seconds: number): ChildProcess[] {
  const code = `import os,time\nn=${perWorker}\nt0=time.monotonic()\ni=0\nwhile True:\n  t=time.monotonic()-t0\n  if t>=${seconds}: break\n  if i < t*n:\n    pid=os.posix_spawn('/bin/true',['true'],{})\n    os.waitpid(pid,0)\n    i+=1\n  else:\n    time.sleep(0.0005)\nprint(i)`;
  return [0, 1].map(() => spawn('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] }));
}

function kauditdPid(): number | null {
  const r = spawnSync('pgrep', ['-x', 'kauditd'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim().split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function steady(
  seconds: number,
): Promise<{ agentPct: number; auditPct: number; kauditdPct: number; execsPerSec: number; agentAcc: Record<string, number> }> {
  // Agent alone.
  const rx = await receiver();
  const agent = await startAgent(rx.url);
  await sleep(1000);
  let u0 = usageOf(agent.child.pid as number);
  let t0 = performance.now();
  let ws = steadyExecs(800, seconds);
  const counts = await Promise.all(ws.map((w) => lineOf(w, 'stdout', /(\d+)/, (seconds + 30) * 1000)));
  let u1 = usageOf(agent.child.pid as number);
  const wall = (performance.now() - t0) / 1000;
  const agentPct = (100 * (u1.cpuSeconds - u0.cpuSeconds)) / wall;
  const execsPerSec = counts.reduce((n, m) => n + Number(m[1]), 0) / wall;
  const agentAcc = await stopAgent(agent);
  rx.child.kill('SIGTERM');

  // auditd + kauditd with one execve rule, agent stopped.
  spawnSync('auditctl', ['-D']);
  const auditd = spawn('auditd', ['-n', '-f'], { stdio: 'ignore' });
  await sleep(1500);
  spawnSync('auditctl', ['-a', 'always,exit', '-F', 'arch=b64', '-S', 'execve', '-k', 'cnproc-bench']);
  const kpid = kauditdPid();
  u0 = usageOf(auditd.pid as number);
  const k0 = kpid ? usageOf(kpid) : null;
  t0 = performance.now();
  ws = steadyExecs(800, seconds);
  await Promise.all(ws.map((w) => lineOf(w, 'stdout', /(\d+)/, (seconds + 30) * 1000)));
  u1 = usageOf(auditd.pid as number);
  const k1 = kpid ? usageOf(kpid) : null;
  const wall2 = (performance.now() - t0) / 1000;
  spawnSync('auditctl', ['-D']);
  auditd.kill('SIGTERM');
  await sleep(500);
  return {
    agentPct,
    auditPct: (100 * (u1.cpuSeconds - u0.cpuSeconds)) / wall2,
    kauditdPct: k0 && k1 ? (100 * (k1.cpuSeconds - k0.cpuSeconds)) / wall2 : Number.NaN,
    execsPerSec,
    agentAcc,
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

export async function stormBench(args: string[]): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the storm benchmark needs root');
  ensureDebianPackages({ 'stress-ng': 'stress-ng', forkstat: 'forkstat', auditctl: 'auditd', python3: 'python3' });
  const sizes = args.length ? args.map(Number) : [10_000, 40_000, 100_000];
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-storm-'));
  const rows: StormRow[] = [];
  for (const n of sizes) {
    process.stderr.write(`storm: 2 workers x ${n} forks ...\n`);
    rows.push(await storm(n, dir));
  }
  const f = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '?' : Math.round(x).toLocaleString('en-US'));
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
  process.stderr.write('steady 1,600 exec/s: agent, then auditd ...\n');
  const s = await steady(Number(process.env.STEADY_SECONDS ?? 20));
  process.stdout.write(
    `\n| steady ${f(s.execsPerSec)} exec/s | CPU % of one core |\n|---|---:|\n| agent (enrich + OTLP) | ${s.agentPct.toFixed(1)} |\n| auditd (one execve rule) | ${s.auditPct.toFixed(1)} |\n| kauditd | ${s.kauditdPct.toFixed(1)} |\n| auditd + kauditd | ${(s.auditPct + s.kauditdPct).toFixed(1)} |\n`,
  );
  process.stdout.write(`agent during the steady run: ${JSON.stringify(s.agentAcc)}\n`);
}
