/**
 * The package entry point as another program would use it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CaptureError, EVENT_TYPES, type ProcEvent, ProcEventSource } from '../../src/index.js';
import { run, waitFor } from '../helpers/kernel.js';

test('the entry point exports the source, the event types and the error class', () => {
  assert.equal(typeof ProcEventSource.start, 'function');
  assert.equal(EVENT_TYPES.length, 9);
  assert.ok(new CaptureError('x', 'internal') instanceof Error);
});

test('README example: exec and exit only, a failing child is seen, stop returns stats', async (t) => {
  const seen: ProcEvent[] = [];
  let source: ProcEventSource;
  try {
    source = await ProcEventSource.start({ events: ['exec', 'exit'], onEvents: (evs) => seen.push(...evs) });
  } catch (err) {
    if (process.getuid?.() !== 0 && err instanceof CaptureError && err.category === 'permission') return t.skip(err.message);
    throw err;
  }
  const { pid } = await run('sh', ['-c', 'exit 7']);
  const exit = await waitFor('exit', () => seen.find((e) => e.kind === 'exit' && e.tgid === pid));
  assert.ok(exit.kind === 'exit' && exit.exitCode === 7);
  assert.ok(seen.every((e) => e.kind === 'exec' || e.kind === 'exit'));
  const stats = await source.stop();
  assert.equal(stats.delivered, seen.length);
  assert.equal(await source.stop(), await source.stop(), 'stop is idempotent');
});
