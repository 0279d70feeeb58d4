import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testFiles, tierOf } from './tiers.js';

const compiled = (rel: string) => readFileSync(fileURLToPath(new URL(`../${rel}`, import.meta.url)), 'utf8');

test('pure logic is a unit test; kernel, agent and child-process tests are system tests', () => {
  assert.equal(tierOf(compiled('kernel/decode.test.js')), 'unit');
  assert.equal(tierOf(compiled('filter/rules.test.js')), 'unit');
  assert.equal(tierOf(compiled('kernel/capture.test.js')), 'system');
  assert.equal(tierOf(compiled('otel/e2e.test.js')), 'system');
  assert.equal(tierOf(compiled('packaging/deb.test.js')), 'system');
});

test('the markers are imports, not words in comments or strings', () => {
  assert.equal(tierOf("// spawns nothing: node:child_process is not needed\nimport { x } from './y.js';"), 'unit');
  assert.equal(tierOf("import { spawnSync } from 'node:child_process';"), 'system');
  assert.equal(tierOf("import { startCli } from '../helpers/cli.js';"), 'system');
  assert.equal(tierOf("import { needsRoot } from '../helpers/kernel.js';"), 'system');
});

test('every test file is found, helpers are not', () => {
  const files = testFiles(fileURLToPath(new URL('..', import.meta.url)));
  assert.ok(files.some((f) => f.endsWith('/runner/tiers.test.js')));
  assert.ok(files.every((f) => f.endsWith('.test.js')));
  assert.ok(!files.some((f) => f.includes('/helpers/')));
});
