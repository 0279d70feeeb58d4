/**
 * Every way of starting the agent passes the same Node.js flags (src/cli/node-flags.ts): V8 reads
 * them only when the process starts, so each launcher must carry them itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AGENT_NODE_FLAGS } from '../../src/cli/node-flags.js';

const root = new URL('../../../', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, root), 'utf8');
const flags = AGENT_NODE_FLAGS.join(' ');

test('package.json start, the shebang, the .deb command and the container entrypoint carry the agent flags', () => {
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${flags} dist/src/cli/main.js`);
  assert.equal(read('src/cli/main.ts').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  const deb = read('packaging/deb/cnproc-otel')
    .split('\n')
    .find((l) => l.startsWith('exec '));
  assert.equal(deb, `exec "$lib/node/bin/node" ${flags} "$lib/dist/src/cli/main.js" "$@"`);
  const entry = read('packaging/container/Dockerfile')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '));
  assert.deepEqual(JSON.parse((entry as string).slice('ENTRYPOINT '.length)), [
    '/usr/lib/cnproc-otel/node/bin/node',
    ...AGENT_NODE_FLAGS,
    '/usr/lib/cnproc-otel/dist/src/cli/main.js',
  ]);
});
