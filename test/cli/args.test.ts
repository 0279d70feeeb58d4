import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCliArgs, UsageError } from '../../src/cli/args.js';

test('own flags and schema flags are separated', () => {
  const a = parseCliArgs(['-c', 'x.yaml', '--console-format', 'json', '--exit-nonzero-only', '--events=exec,exit']);
  assert.equal(a.configFile, 'x.yaml');
  assert.deepEqual(a.schemaArgs, ['--console-format', 'json', '--exit-nonzero-only', '--events=exec,exit']);
});

test('--config=FILE, --check-config, --print-config, -V, -h', () => {
  assert.equal(parseCliArgs(['--config=a.yaml']).configFile, 'a.yaml');
  assert.equal(parseCliArgs(['--check-config', 'b.yaml']).checkConfig, 'b.yaml');
  assert.equal(parseCliArgs(['--print-config']).printConfig, true);
  assert.equal(parseCliArgs(['-V']).version, true);
  assert.equal(parseCliArgs(['-h']).help, true);
});

test('usage errors', () => {
  assert.throws(() => parseCliArgs(['--nope']), UsageError);
  assert.throws(() => parseCliArgs(['stray']), /unexpected argument 'stray'/);
  assert.throws(() => parseCliArgs(['--config']), /needs a file path/);
  assert.throws(() => parseCliArgs(['--help=1']), /takes no value/);
});
