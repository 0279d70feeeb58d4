/**
 * `npm run bench -- capture`: fork storms (stress-ng, 2 fork workers) while this agent's capture
 * path and forkstat both listen, measured the same way in the same run.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureStats } from '../src/kernel/source.js';
import { ensureDebianPackages } from './ensure-tools.js';
import { netlinkDropsOf, type Usage, usageOf } from './proc-usage.js';

const CHILD = fileURLToPath(new URL('./capture-child.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  processes: number;
  seconds: number;
  generated: number;
  ours: { received: number; drops: number; seqGaps: number; cpu: number; rss: number };
  forkstat: { received: number; drops: number; cpu: number; rss: number };
}

function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const line = buf.split('\n').find((l) => re.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}

async function hasNetlinkSocket(pid: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const t = readFileSync('/proc/net/netlink', 'latin1');
    // forkstat has no "ready" signal: wait for a connector socket bound to group 1.
    if (t.split('\n').some((l) => / 11 +\d+ +00000001 /.test(l)) && netlinkDropsOf(pid) >= 0) return;
    await sleep(50);
  }
}

/** Sum of the Total column of forkstat -S's per-process table: the events it processed. */
export function forkstatTotal(text: string): number {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^\s*Fork\s+Exec\s+Exit\b.*\bTotal\b/.test(l));
  if (start < 0) return Number.NaN;
  let total = 0;
  for (const l of lines.slice(start + 1)) {
    const cols = l.trim().split(/\s+/);
    if (cols.length < 10 || !/^\d+$/.test(cols[9] as string)) continue;
    total += Number(cols[9]);
  }
  return total;
}

function delta(a: Usage, b: Usage): Usage {
  return { cpuSeconds: b.cpuSeconds - a.cpuSeconds, peakRssMiB: b.peakRssMiB };
}

async function storm(forkOps: number, dir: string): Promise<Row> {
  const ours = spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  const oursDone = new Promise((r) => ours.once('exit', r));
  await waitForLine(ours, /^ready /, 10_000);
  const fsOut = join(dir, `forkstat-${forkOps}.txt`);
  // Straight to a file: a pipe into this (blocked) process would stall forkstat and skew it.
  const outFd = openSync(fsOut, 'w');
  const fstat = spawn('forkstat', ['-S', '-e', 'all'], { stdio: ['ignore', outFd, 'ignore'] });
  closeSync(outFd);
  const fsDone = new Promise((r) => fstat.once('exit', r));
  await hasNetlinkSocket(fstat.pid as number, 5000);
  await sleep(500);

  const ours0 = usageOf(ours.pid as number);
  const fs0 = usageOf(fstat.pid as number);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('stress-ng', ['--fork', '2', '--fork-ops', String(forkOps), '--quiet'], { stdio: 'ignore' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`stress-ng exited ${r.status}`);
  await sleep(1500); // let both drain

  const oursU = delta(ours0, usageOf(ours.pid as number));
  const fsU = delta(fs0, usageOf(fstat.pid as number));
  const fsDrops = netlinkDropsOf(fstat.pid as number);

  fstat.kill('SIGINT');
  await fsDone;
  const statsLine = waitForLine(ours, /^\{/, 10_000);
  ours.kill('SIGTERM');
  const stats = JSON.parse(await statsLine) as CaptureStats & { counted: number };
  await oursDone;

  const fsReceived = forkstatTotal(readFileSync(fsOut, 'latin1'));
  return {
    processes: forkOps * 2,
    seconds,
    generated: stats.generated,
    ours: { received: stats.delivered, drops: stats.kernelDrops, seqGaps: stats.seqGaps, cpu: oursU.cpuSeconds, rss: oursU.peakRssMiB },
    forkstat: { received: fsReceived, drops: fsDrops, cpu: fsU.cpuSeconds, rss: fsU.peakRssMiB },
  };
}

export async function captureBench(args: string[]): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the capture benchmark needs root (stress-ng storms and forkstat)');
  ensureDebianPackages({ 'stress-ng': 'stress-ng', forkstat: 'forkstat' });
  const sizes = args.length ? args.map(Number) : [10_000, 40_000, 100_000];
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-bench-'));
  const rows: Row[] = [];
  for (const n of sizes) {
    process.stderr.write(`storm: 2 workers x ${n} forks ...\n`);
    rows.push(await storm(n, dir));
  }
  const fmt = (x: number): string => x.toLocaleString('en-US');
  const lines = [
    '| storm (processes) | generated (seq) | agent received | agent kernel drops | agent seq gaps | agent events/s | agent CPU s | agent peak RSS MiB | forkstat received | forkstat kernel drops | forkstat CPU s | forkstat peak RSS MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${fmt(r.processes)} | ${fmt(r.generated)} | ${fmt(r.ours.received)} | ${fmt(r.ours.drops)} | ${fmt(r.ours.seqGaps)} | ${fmt(Math.round(r.ours.received / r.seconds))} | ${r.ours.cpu.toFixed(2)} | ${r.ours.rss.toFixed(0)} | ${fmt(r.forkstat.received)} | ${fmt(r.forkstat.drops)} | ${r.forkstat.cpu.toFixed(2)} | ${r.forkstat.rss.toFixed(0)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
