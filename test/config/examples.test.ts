import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { EventFilter } from '../../src/filter/filter.js';

const DIR = fileURLToPath(new URL('../../../config/examples/', import.meta.url));
const names = { userName: () => undefined, groupName: () => undefined };

test('every example policy is valid, and says what it subscribes to', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
  assert.deepEqual(files.sort(), [
    'audit-everything.yaml',
    'containers-only.yaml',
    'exec-only-for-humans.yaml',
    'quiet-build-servers.yaml',
  ]);
  const subs: Record<string, unknown> = {};
  for (const f of files) {
    const c = loadConfig({ file: `${DIR}${f}`, env: {}, args: [] });
    subs[f] = new EventFilter(c.filter.rules, c.filter.defaultAction, names).subscription();
  }
  assert.deepEqual(subs['exec-only-for-humans.yaml'], { events: ['exec', 'uid', 'gid', 'ptrace', 'exit'], exitNonzeroOnly: true });
  assert.deepEqual(subs['containers-only.yaml'], {
    events: ['uid', 'gid', 'ptrace', 'coredump', 'exec', 'exit'].sort((a, b) => order(a) - order(b)),
    exitNonzeroOnly: false,
  });
  assert.deepEqual((subs['quiet-build-servers.yaml'] as { events: string[] }).events, [
    'exec',
    'uid',
    'gid',
    'sid',
    'ptrace',
    'coredump',
    'exit',
  ]);
});

function order(t: string): number {
  return ['fork', 'exec', 'uid', 'gid', 'sid', 'ptrace', 'comm', 'coredump', 'exit'].indexOf(t);
}
