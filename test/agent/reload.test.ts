/**
 * SIGHUP planning: which changed keys are applied live and which need a restart comes from the
 * schema's markers; the agent's appliers are held to them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPlan, checkAppliers, diffConfig, liveSections, planReload } from '../../src/agent/reload.js';
import { loadConfig } from '../../src/config/load.js';
import type { AgentConfig } from '../../src/config/schema.js';

function config(overrides: Record<string, unknown> = {}): AgentConfig {
  return loadConfig({ env: {}, args: [], overrides });
}

test('pressure, stats and log changes are each either applied or reported (the reload bug)', () => {
  const running = config();
  const next = config({
    'pressure.memoryLimitBytes': 128 * 1024 * 1024,
    'pressure.stormWindowMs': 2000,
    'pressure.rateLimitPerUser': 10,
    'stats.intervalMs': 5000,
    'log.level': 'warn',
  });
  const d = diffConfig(running, next);
  assert.deepEqual(d.applied.sort(), ['log.level', 'pressure.memoryLimitBytes', 'stats.intervalMs']);
  assert.deepEqual(d.restart.sort(), ['pressure.rateLimitPerUser', 'pressure.stormWindowMs']);
});

test('no change, no lines; every key of every section is covered', () => {
  const c = config();
  assert.deepEqual(diffConfig(c, config()), { applied: [], restart: [] });
  // A change to every restart section shows up: none is silently ignored.
  const next = config({
    'console.format': 'json',
    'metrics.port': 9999,
    'traces.maxEventsPerSpan': 3,
    'delivery.stopTimeoutMs': 5,
    'capture.recvBatch': 7,
    'process.ancestryDepth': 2,
    'exporter.kinds': 'console',
    'batch.maxExportBatchSize': 9,
    'service.name': 'x',
    'resource.attributes': 'a=b',
    'otlp.timeoutMs': 1000,
  });
  assert.equal(diffConfig(c, next).restart.length, 11);
});

test('the plan keeps restart keys at their running values, so they are reported again next time', () => {
  const running = config();
  const plan = planReload(running, config({ 'capture.events': ['exec'], 'capture.recvBatch': 7 }));
  assert.deepEqual(plan.applied, ['capture.events']);
  assert.deepEqual(plan.restart, ['capture.recvBatch']);
  assert.deepEqual(plan.active.capture.events, ['exec']);
  assert.equal(plan.active.capture.recvBatch, running.capture.recvBatch);
  assert.deepEqual(planReload(plan.active, config({ 'capture.events': ['exec'], 'capture.recvBatch': 7 })).restart, ['capture.recvBatch']);
});

test('each section with live keys needs exactly one applier; each runs once per reload', () => {
  assert.deepEqual(liveSections().sort(), ['capture', 'filter', 'log', 'pressure', 'redaction', 'stats']);
  const calls: string[] = [];
  const policy = (): void => {
    calls.push('policy');
  };
  const appliers = {
    capture: policy,
    filter: policy,
    redaction: policy,
    log: (n: AgentConfig) => calls.push(`log ${n.log.level}`),
    stats: () => calls.push('stats'),
    pressure: () => calls.push('pressure'),
  };
  checkAppliers(appliers);
  assert.throws(() => checkAppliers({ ...appliers, stats: undefined }), /missing stats/);
  assert.throws(() => checkAppliers({ ...appliers, console: policy }), /not live console/);
  const plan = planReload(config(), config({ 'log.level': 'debug', 'filter.defaultAction': 'drop', 'capture.events': ['exit'] }));
  applyPlan(plan, appliers, [policy]);
  assert.deepEqual(calls.sort(), ['log debug', 'policy']);
});
