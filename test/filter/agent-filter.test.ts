/**
 * Filters in the running agent (root): pushdown into the kernel subscription, and SIGHUP reload
 * (a good config replaces filter and subscription at once; a bad one is reported and ignored).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { needsRoot, run, waitFor } from '../helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'cnproc-filter-'));

interface Rec {
  eventName: string;
  attributes: Record<string, unknown>;
}
function records(stdout: string): Rec[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Rec);
}

test('pushdown: only the types the rules can keep are subscribed; nothing else reaches the agent', async (t) => {
  if (!needsRoot(t)) return;
  const f = join(dir, 'exec-only.yaml');
  writeFileSync(f, 'filter:\n  defaultAction: drop\n  rules:\n    - name: execs\n      action: keep\n      match: { events: [exec] }\n');
  const agent = startCli(['--config', f, '--console-format', 'json', '--exporter', 'console']);
  try {
    await waitFor('subscribed', () => /kernel filter: exec,exit;/.test(agent.stderr()), 15_000);
    // The next log line may arrive in a later chunk of the pipe.
    await waitFor('policy line', () => /filter: 1 rules, default drop; event types: exec\b/.test(agent.stderr()), 5000);
    const { pid } = await run('sh', ['-c', 'sleep 0.1; exit 2']);
    await waitFor('exec record', () =>
      records(agent.stdout()).some((r) => r.eventName === 'process.exec' && r.attributes['process.pid'] === pid),
    );
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
  const recs = records(agent.stdout()).filter((r) => r.eventName.startsWith('process.'));
  assert.ok(
    recs.every((r) => r.eventName === 'process.exec'),
    'no fork or exit records',
  );
  // The kernel sent execs, and exits for the process table only: the filter never had to drop anything.
  assert.match(agent.stderr(), /filter: \d+ kept, 0 dropped; hits: execs \d+, default 0/);
});

test('SIGHUP: a valid new config swaps filter and subscription; an invalid one is reported and ignored', async (t) => {
  if (!needsRoot(t)) return;
  const f = join(dir, 'reload.yaml');
  writeFileSync(f, 'filter:\n  defaultAction: drop\n  rules:\n    - { action: keep, match: { events: [exec] } }\n');
  const agent = startCli(['--config', f, '--console-format', 'json', '--exporter', 'console']);
  const pidOfAgent = agent.child.pid as number;
  try {
    await waitFor('subscribed', () => /event types: exec\b/.test(agent.stderr()), 15_000);
    writeFileSync(
      f,
      'filter:\n  defaultAction: drop\n  rules:\n    - { name: failures, action: keep, match: { events: [exit], exitCode: nonzero } }\n',
    );
    process.kill(pidOfAgent, 'SIGHUP');
    await waitFor('reloaded', () =>
      /configuration reloaded; filter: 1 rules, default drop; event types: exit \(exits: non-zero only\)/.test(agent.stderr()),
    );
    const { pid } = await run('sh', ['-c', 'sleep 0.1; exit 6']);
    await waitFor('exit record', () =>
      records(agent.stdout()).some((r) => r.eventName === 'process.exit' && r.attributes['process.pid'] === pid),
    );
    assert.ok(
      !records(agent.stdout()).some((r) => r.eventName === 'process.exec' && r.attributes['process.pid'] === pid),
      'no exec after the reload',
    );
    const ok = await run('sh', ['-c', 'exit 0']);

    writeFileSync(f, 'filter:\n  defaultAction: drop\n  rules:\n    - { action: allow }\n');
    process.kill(pidOfAgent, 'SIGHUP');
    await waitFor('rejected', () =>
      /the new configuration is invalid, keeping the running one: .*action must be keep or drop/.test(agent.stderr()),
    );
    const again = await run('sh', ['-c', 'sleep 0.1; exit 7']);
    await waitFor('exit record after a bad reload', () =>
      records(agent.stdout()).some((r) => r.eventName === 'process.exit' && r.attributes['process.pid'] === again.pid),
    );
    assert.ok(!records(agent.stdout()).some((r) => r.attributes['process.pid'] === ok.pid), 'exit 0 filtered (in the kernel)');
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
});
