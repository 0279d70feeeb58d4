/**
 * Every way of starting the agent passes the same Node.js flags (src/cli/node-flags.ts): V8 reads
 * them only when the process starts, so each launcher must carry them itself. Here the two in the
 * source tree; the .deb's command and the container's entrypoint: test/packaging/container.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AGENT_NODE_FLAGS } from '../../src/cli/node-flags.js';

const root = new URL('../../../', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, root), 'utf8');
const flags = AGENT_NODE_FLAGS.join(' ');

test('package.json start and the command’s shebang carry the agent flags', () => {
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${flags} dist/src/cli/main.js`);
  assert.equal(read('src/cli/main.ts').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  // The container entrypoint and the .deb's command: test/packaging/container.test.ts.
});
