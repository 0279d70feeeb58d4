/**
 * Which tier a compiled test file belongs to.
 *
 * A test file is a system test when it reaches outside the process: it imports node:child_process
 * or the helpers that open the proc connector or start the agent (test/helpers/kernel.js,
 * test/helpers/cli.js). Every other file is a unit test: no root, no kernel, no other program, and
 * the whole tier runs in seconds. The rule reads the compiled files, so a new test is put in its
 * tier by what it does, not by a list someone must remember to update.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const SYSTEM_MARKERS = [/from ['"]node:child_process['"]/, /from ['"][./]*helpers\/(?:kernel|cli)\.js['"]/];

export type Tier = 'unit' | 'system';

export function tierOf(compiledSource: string): Tier {
  return SYSTEM_MARKERS.some((re) => re.test(compiledSource)) ? 'system' : 'unit';
}

/** Every *.test.js under `dir`, sorted. */
export function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}
