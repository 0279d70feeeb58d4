/**
 * Helpers for tests against the real proc connector.
 *
 * As root (CI) these tests always run: a failure to open the proc connector fails the suite. As
 * another user they run where the kernel lets them (6.6+ needs no capability to listen) and skip
 * only when the kernel says "permission denied".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { CaptureError } from '../../src/kernel/errors.js';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ProcEventSource, type ProcEventSourceOptions } from '../../src/kernel/source.js';

export const isRoot = process.getuid?.() === 0;

export interface Capture {
  source: ProcEventSource;
  events: ProcEvent[];
}

export async function startCapture(t: TestContext, opts: Omit<ProcEventSourceOptions, 'onEvents'> = {}): Promise<Capture | null> {
  const events: ProcEvent[] = [];
  try {
    const source = await ProcEventSource.start({
      ...opts,
      onEvents: (batch) => {
        for (const e of batch) events.push(e);
      },
    });
    return { source, events };
  } catch (err) {
    if (!isRoot && err instanceof CaptureError && err.category === 'permission') {
      t.skip(`not root and the kernel refused: ${err.message}`);
      return null;
    }
    throw err;
  }
}

/** Root-only test body: skips when not root (CI runs as root, where it must run). */
export function needsRoot(t: TestContext): boolean {
  if (isRoot) return true;
  t.skip('needs root');
  return false;
}

/**
 * Polls until `check` returns a value, or fails after `timeoutMs`; `detail` adds what the failure
 * message should show (e.g. the agent's log lines that explain the wait).
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false,
  timeoutMs = 5000,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `:\n${detail()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a command to completion; resolves with its pid and exit code. */
export function run(cmd: string, args: string[]): Promise<{ pid: number; code: number | null; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ pid: child.pid as number, code, child }));
  });
}

export function eventsOf(events: readonly ProcEvent[], tgid: number): ProcEvent[] {
  return events.filter((e) => e.tgid === tgid);
}
