/**
 * Teardown, written once: the order of a clean stop, the deadlines, and a failed start that has
 * nothing to flush.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Running, teardown } from '../../src/agent/shutdown.js';
import type { Wiring } from '../../src/agent/wiring.js';
import { createLogger } from '../../src/util/log.js';

function fakes(opts: { providerHangs?: boolean } = {}) {
  const calls: string[] = [];
  const wiring = {
    provider: {
      shutdown: () => {
        calls.push('provider.shutdown');
        return opts.providerHangs ? new Promise<void>(() => undefined) : Promise.resolve();
      },
    },
    traces: null,
    otlp: {
      delivery: {
        flush: async (ms: number) => {
          calls.push(`delivery.flush ${ms}`);
          return true;
        },
        close: async () => {
          calls.push('delivery.close');
        },
      },
      continuity: { saveClean: () => calls.push('continuity.saveClean') },
    },
  } as unknown as Wiring;
  const running: Running = {
    wiring,
    detach: () => calls.push('detach'),
    logs: {
      stop: async () => {
        calls.push('logs.stop');
      },
      seqByCpu: () => ({ first: new Map(), last: new Map([[0, 5]]) }),
    } as unknown as Running['logs'],
    pressure: { stop: () => calls.push('pressure.stop'), drain: () => calls.push('pressure.drain') } as unknown as Running['pressure'],
    loss: { stop: () => calls.push('loss.stop'), reportLoss: () => calls.push('loss.reportLoss') } as unknown as Running['loss'],
    telemetry: {
      stop: async () => {
        calls.push('telemetry.stop');
      },
    } as unknown as Running['telemetry'],
  };
  return { calls, running };
}

const log = createLogger('error', () => undefined);

test('a clean stop: unsubscribe, drain, last loss report, flush, deliver, save, report, then close the listener and signals', async () => {
  const { calls, running } = fakes();
  const outcome = await teardown(running, {
    log,
    clean: true,
    exportTimeoutMs: 1000,
    stopTimeoutMs: 700,
    report: (o) => calls.push(`report ${o.flushed} ${o.delivered}`),
  });
  assert.deepEqual(outcome, { flushed: true, delivered: true });
  assert.deepEqual(calls, [
    'loss.stop',
    'pressure.stop',
    'logs.stop',
    'pressure.drain',
    'loss.reportLoss',
    'provider.shutdown',
    'delivery.flush 700',
    'continuity.saveClean',
    'delivery.close',
    'report true true',
    'telemetry.stop',
    'detach',
  ]);
});

test('a provider that never finishes is given up at the export deadline, not waited for', async () => {
  const { running } = fakes({ providerHangs: true });
  const t0 = performance.now();
  // The deadline's timer is unref'd (it must not hold the agent up); the agent's other handles keep
  // its loop alive, this one keeps the test's.
  const alive = setInterval(() => undefined, 1000);
  const outcome = await teardown(running, { log, clean: true, exportTimeoutMs: 100, stopTimeoutMs: 0 }).finally(() => clearInterval(alive));
  assert.equal(outcome.flushed, false);
  assert.ok(performance.now() - t0 < 2000);
});

test('after a failed start: nothing drained, flushed to the collector or saved as a clean stop', async () => {
  const { calls, running } = fakes();
  await teardown({ wiring: running.wiring, detach: running.detach }, { log, clean: false, exportTimeoutMs: 1000, stopTimeoutMs: 0 });
  assert.deepEqual(calls, ['provider.shutdown', 'delivery.close', 'detach']);
});
