/**
 * Runs the built CLI (dist/src/cli/main.js) as a child process.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { StopDocument } from '../../src/agent/stop-document.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Agents still running when a test file's tests are done (an assertion failed before the test
 * stopped its agent): killed, or their pipes would keep the file's process, and the whole run,
 * waiting forever.
 */
const live = new Set<ChildProcessWithoutNullStreams>();
/** The stop documents' directories: read by the tests after their agents exit, removed at the end. */
const reportDirs: string[] = [];
after(() => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of reportDirs) rmSync(dir, { recursive: true, force: true });
});

export interface LiveAgent {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** The spool directory the agent was given. */
  spoolDir: string;
  /** The stop document (--report-file) the agent wrote at stop; throws when there is none yet. */
  report: () => StopDocument;
}

/**
 * Starts the agent; unless the test chooses, its metrics listener takes any free port and its spool
 * is a fresh directory removed after the agent exits (a shared /var/lib spool would let one test's
 * undelivered batches reach the next test's receiver).
 */
export function startCli(argsIn: string[], prefix: string[] = []): LiveAgent {
  let args = argsIn.includes('--metrics-port') ? argsIn : [...argsIn, '--metrics-port', '0'];
  const given = args.indexOf('--spool-dir');
  const ownSpool = given < 0;
  const spoolDir = ownSpool ? mkdtempSync(join(tmpdir(), 'cnproc-spool-')) : (args[given + 1] as string);
  if (ownSpool) args = [...args, '--spool-dir', spoolDir];
  // Tests read the accounting from the stop document, not from log text.
  const reportDir = mkdtempSync(join(tmpdir(), 'cnproc-report-'));
  reportDirs.push(reportDir);
  const reportFile = join(reportDir, 'stop.json');
  if (!args.includes('--report-file')) args = [...args, '--report-file', reportFile];
  const report = (): StopDocument => {
    try {
      return JSON.parse(readFileSync(reportFile, 'utf8')) as StopDocument;
    } catch (e) {
      throw new Error(`no stop document from the agent (${(e as Error).message}); its log:\n${err}`);
    }
  };
  const cmd = prefix.length ? (prefix[0] as string) : process.execPath;
  const argv = prefix.length ? [...prefix.slice(1), process.execPath, CLI, ...args] : [CLI, ...args];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (ownSpool) rmSync(spoolDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited, spoolDir, report };
}

/** The pid of a wrapper's (e.g. strace's) first child: signals must go to the agent itself. */
export function childPidOf(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}
