/**
 * Fork storms against the running agent (root): 200,000 processes from stress-ng. With a slow
 * collector the ladder engages and recovers, cnproc.storm records appear, memory stays under the
 * ceiling and the accounting adds up exactly; with a fast one nothing is lost at all.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { StopDocument } from '../../src/agent/stop-document.js';
import { assertDeliveryIdentity } from '../helpers/accounting.js';
import { childPidOf, startCli } from '../helpers/cli.js';
import { needsRoot, waitFor } from '../helpers/kernel.js';

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A collector stand-in on 127.0.0.1 that answers 200 after `delayMs` and counts storm records by content. */
async function collector(delayMs: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

/** The event accounting from the agent's stop document (--report-file), not its log text. */
function accounting(
  doc: StopDocument,
): Record<
  | 'generated'
  | 'kernel_lost'
  | 'received'
  | 'handoff_dropped'
  | 'emitted'
  | 'filtered'
  | 'aggregated'
  | 'rate_limited'
  | 'priority_dropped'
  | 'storm_records',
  number
> {
  const a = doc.accounting;
  for (const k of [
    'generated',
    'kernel_lost',
    'received',
    'handoff_dropped',
    'emitted',
    'filtered',
    'aggregated',
    'rate_limited',
    'priority_dropped',
    'storm_records',
  ]) {
    assert.equal(typeof a[k], 'number', `accounting.${k} in ${JSON.stringify(a)}`);
  }
  return a as ReturnType<typeof accounting>;
}

/** The agent's log lines that match `re`. */
function linesOf(log: string, re: RegExp): string[] {
  return log.split('\n').filter((l) => re.test(l));
}

function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** Runs the storm without blocking this process (the collector stand-in lives here). */
async function storm(forksPerWorker: number): Promise<void> {
  assert.equal(spawnSync('sh', ['-c', 'command -v stress-ng']).status, 0, 'stress-ng is needed (.ci/run installs it)');
  const child = spawn('stress-ng', ['--fork', '2', '--fork-ops', String(forksPerWorker), '--quiet'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(code, 0);
}

const common = ['--exporter', 'otlp', '--otlp-protocol', 'http/json', '--log-level', 'info'];

test('slow collector: the ladder engages and recovers, storm records, bounded memory, exact accounting', {
  timeout: 600_000,
}, async (t) => {
  if (!needsRoot(t)) return;
  const c = await collector(300);
  // A shorter hysteresis than the default 5 s keeps the test short. The spool absorbs a slow
  // collector: a small one makes its fill the pressure, as a long outage would with the default.
  // The spool holds gzip-compressed bodies (about 45 B per storm record in JSON against 1.3 KB
  // uncompressed): 3 MiB holds about the records 64 MiB held when bodies were stored uncompressed.
  const cfg = join(mkdtempSync(join(tmpdir(), 'cnproc-storm-')), 'storm.yaml');
  writeFileSync(cfg, 'pressure:\n  downMs: 2000\ndelivery:\n  spoolMaxBytes: 3MiB\n');
  const agent = startCli([...common, '--otlp-endpoint', c.url, '--config', cfg], []);
  try {
    await waitFor('exporting', () => /exporting to OTLP/.test(agent.stderr()), 15_000);
    await storm(100_000);
    const pid = agent.child.pid as number;
    // At least to aggregate: the ladder climbs straight to the highest level the pressure calls for,
    // so a spool filling fast goes from shed to drop without a line for aggregate (seen in CI).
    await waitFor(
      'ladder up to aggregate or drop',
      () => /ladder up to (2 \(aggregate\)|3 \(drop\))/.test(agent.stderr()),
      60_000,
      () => linesOf(agent.stderr(), /ladder|heap growth/).join('\n'),
    );
    // The storm is over: pressure falls and the ladder comes back down.
    await waitFor(
      'ladder back to normal',
      () => /ladder down to 0 \(normal\)/.test(agent.stderr()),
      180_000,
      () => linesOf(agent.stderr(), /ladder/).join('\n'),
    );
    const rss = peakRss(childPidOf(pid) ?? pid);
    assert.ok(
      rss < 256 * 1048576,
      `peak RSS ${(rss / 1048576).toFixed(0)} MiB under the 256 MiB ceiling; ${linesOf(agent.stderr(), /ladder|heap growth/).join(' | ')}`,
    );
    t.diagnostic(`peak RSS ${(rss / 1048576).toFixed(0)} MiB`);
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
  const a = accounting(agent.report());
  t.diagnostic(linesOf(agent.stderr(), /ladder|accounting|pressure:/).join(' | '));
  assert.ok(a.storm_records > 0, 'cnproc.storm records were made');
  // How much is aggregated depends on how far the main thread falls behind (the disk spool absorbs
  // the slow collector itself); that some is, and that it is all accounted for, does not.
  assert.ok(a.aggregated > 0, `aggregated ${a.aggregated}`);
  // Every record stored for delivery is accounted for: delivered, still in the spool, or — when the
  // small test spool filled faster than the ladder climbed — dropped oldest-first and counted.
  const d = assertDeliveryIdentity(agent.report());
  assert.equal((d.rejected ?? 0) + (d.corrupt ?? 0), 0, JSON.stringify(d));
  assert.ok((d.spool_dropped ?? 0) < (d.delivered ?? 0) / 10, `spool dropped ${d.spool_dropped} of ${d.stored}`);
  // Every event the agent received is accounted for exactly once.
  assert.equal(a.received, a.emitted + a.filtered + a.aggregated + a.rate_limited + a.priority_dropped, JSON.stringify(a));
  assert.equal(a.handoff_dropped, 0);
  // And the kernel's side: nothing generated went missing.
  assert.equal(a.kernel_lost, 0);
  assert.ok(a.generated >= 400_000, `generated ${a.generated}`);
});

test('fast collector: the same storm with zero kernel drops and zero agent drops', { timeout: 600_000 }, async (t) => {
  if (!needsRoot(t)) return;
  const c = await collector(0);
  // What this test holds the agent to is the path to a collector that keeps up; memory has its own
  // test above. In this JSON setup the storm peaks at 200–241 MiB resident (CI, both Node versions,
  // with V8's heap growth held under pressure): near the default 256 MiB ceiling, where memory
  // alone would start to aggregate and, at 95 %, drop by priority. So the ceiling is set apart here.
  const cfg = join(mkdtempSync(join(tmpdir(), 'cnproc-storm-')), 'fast.yaml');
  writeFileSync(cfg, 'pressure:\n  memoryLimitBytes: 512MiB\n');
  const agent = startCli([...common, '--otlp-endpoint', c.url, '--config', cfg], []);
  try {
    await waitFor('exporting', () => /exporting to OTLP/.test(agent.stderr()), 15_000);
    await storm(100_000);
    await new Promise((r) => setTimeout(r, 3000));
    const pid = agent.child.pid as number;
    t.diagnostic(`peak RSS ${(peakRss(childPidOf(pid) ?? pid) / 1048576).toFixed(0)} MiB`);
  } finally {
    agent.child.kill('SIGTERM');
  }
  assert.equal(await agent.exited, 0);
  const a = accounting(agent.report());
  assert.equal(a.kernel_lost, 0);
  assert.equal(a.handoff_dropped, 0);
  assert.equal(a.rate_limited + a.priority_dropped, 0, 'nothing dropped in the agent');
  assert.equal(a.received, a.emitted + a.filtered + a.aggregated);
  const [exporter] = agent.report().exporters;
  assert.ok(exporter && exporter.exported > 0, JSON.stringify(exporter));
  assert.deepEqual(exporter.dropped, { queue_full: 0, export_failed: 0, export_timeout: 0, shutdown: 0 });
  assert.equal(exporter.notSent, 0);
});
