/**
 * The entry point of `npm test` (tier "all") and `npm run test:unit` (tier "unit"; ./tiers.ts says
 * which file is which).
 *
 * Tier "all" first installs the tools the system tests run (./tools.ts) when it runs as root, then
 * runs every file with the same Node.js that runs this script (`npm run test:node22` uses that to
 * run the suite on the bundled runtime).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testFiles, tierOf } from './tiers.js';
import { installMissingTools } from './tools.js';

function main(): number {
  const want = process.argv[2] ?? 'all';
  if (want !== 'all' && want !== 'unit') {
    console.error(`usage: node dist/test/runner/main.js [all|unit] (got '${want}')`);
    return 64;
  }
  const root = fileURLToPath(new URL('..', import.meta.url));
  const all = testFiles(root);
  const files = want === 'unit' ? all.filter((f) => tierOf(readFileSync(f, 'utf8')) === 'unit') : all;
  const isRoot = process.getuid?.() === 0;
  if (want === 'all') {
    const line = installMissingTools(isRoot);
    if (line) console.log(`# ${line}`);
    if (!isRoot) console.log('# not root: tests that need root skip, each with one line saying why (as root nothing skips)');
  }
  console.log(`# node ${process.version}: ${files.length} test files (${want === 'unit' ? 'unit tier' : 'unit and system tiers'})`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files.map((f) => relative(process.cwd(), f))], {
    stdio: 'inherit',
  });
  if (r.error) {
    console.error(`could not run the test runner: ${r.error.message}`);
    return 70;
  }
  return r.status ?? 70;
}

process.exitCode = main();
