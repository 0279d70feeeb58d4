import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { schemaDefaults } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';

const FILE = fileURLToPath(new URL('../../../config/cnproc-otel.yaml', import.meta.url));

function keys(o: unknown, prefix = ''): string[] {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

test('config/cnproc-otel.yaml documents exactly the schema keys, with the schema defaults', () => {
  const raw = parse(readFileSync(FILE, 'utf8')) as unknown;
  assert.deepEqual(keys(raw).sort(), keys(schemaDefaults()).sort());
  assert.deepEqual(loadConfig({ file: FILE, env: {}, args: [] }), schemaDefaults());
});

test('every key in the file has a comment above it', () => {
  const lines = readFileSync(FILE, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (/^\s+\w+:/.test(line)) assert.match(lines[i - 1] ?? '', /^\s*#/, `line ${i + 1} (${line.trim()}) has no comment`);
  });
});
