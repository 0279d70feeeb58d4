/**
 * End to end as root: the agent (CLI) against an OTLP/HTTP receiver on 127.0.0.1 that decodes
 * both encodings itself, asserting the records of a known child process.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { needsRoot, run, waitFor } from '../helpers/kernel.js';
import { type OtlpReceiver, type ReceivedLogRecord, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const receivers: OtlpReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver();
  receivers.push(r);
  return r;
}

function ofPid(records: ReceivedLogRecord[], pid: number, eventName: string): ReceivedLogRecord | undefined {
  return records.find((r) => r.eventName === eventName && r.attributes['process.pid'] === pid);
}

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`OTLP ${protocol}`, () => {
    test('a child process arrives as fork, exec and exit records with process attributes and the host resource', async (t) => {
      if (!needsRoot(t)) return;
      const rx = await receiver();
      const agent = startCli(['--otlp-endpoint', rx.url, '--otlp-protocol', protocol], []);
      try {
        await waitFor('exporting line', () => /exporting to OTLP/.test(agent.stderr()), 15_000);
        const before = Date.now();
        const { pid } = await run('sh', ['-c', 'sleep 0.2; exit 3']);
        const exit = await (async () => {
          await rx.waitFor((recs) => ofPid(recs, pid, 'process.exit') !== undefined, 10_000);
          return ofPid(rx.records, pid, 'process.exit') as ReceivedLogRecord;
        })();
        const exec = ofPid(rx.records, pid, 'process.exec');
        const fork = ofPid(rx.records, pid, 'process.fork');
        assert.ok(exec && fork, 'fork and exec records');
        assert.equal(exit.encoding, protocol === 'http/json' ? 'json' : 'protobuf');
        assert.equal(exit.attributes['process.exit.code'], 3);
        assert.equal(exit.severityText, 'WARN');
        assert.equal(exit.attributes['cnproc.event.name'], 'process.exit');
        assert.equal(exit.attributes['process.executable.path'], '/usr/bin/dash');
        assert.deepEqual(exit.attributes['process.command_args'], ['sh', '-c', 'sleep 0.2; exit 3']);
        assert.equal(exit.attributes['process.parent_pid'], fork.attributes['process.parent_pid']);
        assert.equal(exec.attributes['process.user.name'], 'root');
        assert.match(String(exit.attributes['cnproc.process.entity_id']), /^[0-9a-f]{32}$/);
        assert.equal(exit.attributes['cnproc.process.entity_id'], exec.attributes['cnproc.process.entity_id']);
        assert.match(String(exit.body), /^exit 3 sh -c sleep 0\.2; exit 3 \(pid \d+\)$/);
        // Kernel time with nanoseconds, within a second of the wall clock.
        const ns = BigInt(exit.timeUnixNano);
        const ms = Number(ns / 1_000_000n);
        assert.ok(ms >= before - 1000 && ms <= Date.now() + 1000, `time ${ms}`);
        assert.notEqual(ns % 1_000_000n, 0n, 'sub-millisecond digits are kept');
        assert.ok(BigInt(exit.observedTimeUnixNano) >= ns);
        // Resource.
        assert.equal(exit.resource['service.name'], 'cnproc-otel');
        assert.equal(exit.resource['os.type'], 'linux');
        assert.ok(exit.resource['host.name'] && exit.resource['cnproc.boot.id']);
        assert.equal(exit.scope.name, 'cnproc-otel');
        const req = rx.requests.find((r) => r.path === '/v1/logs');
        assert.ok(req?.gzip, 'gzip by default');
        // What the program file is: its build id at exec, its SHA-256 once hashed (never waited for).
        const dash = '/usr/bin/dash';
        const notes = execFileSync('readelf', ['-n', dash], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        assert.equal(exec.attributes['process.executable.build_id.gnu'], /Build ID: ([0-9a-f]+)/.exec(notes)?.[1]);
        assert.equal(exec.attributes['cnproc.process.executable.size'], statSync(dash).size);
        const digest = execFileSync('sha256sum', [dash], { encoding: 'utf8' }).split(' ')[0];
        const exitHash = exit.attributes['cnproc.process.executable.hash.sha256'];
        assert.ok(exitHash === digest || exit.attributes['cnproc.process.executable.hash.missing'] === 'pending', String(exitHash));
        // Hashed by now: the next exec of the same file carries it on its exec record.
        await new Promise((r) => setTimeout(r, 500));
        const again = await run('sh', ['-c', 'sleep 0.1']);
        await rx.waitFor((recs) => ofPid(recs, again.pid, 'process.exec') !== undefined, 10_000);
        assert.equal(ofPid(rx.records, again.pid, 'process.exec')?.attributes['cnproc.process.executable.hash.sha256'], digest);
      } finally {
        agent.child.kill('SIGTERM');
      }
      assert.equal(await agent.exited, 0);
      assert.match(agent.stderr(), /exporter 1: \d+ exported, dropped: queue full 0, failed 0/);
      assert.match(agent.stderr(), /executable hashes: [1-9]\d* files hashed/);
    });
  });
}

describe('collector errors', () => {
  test('400 from the collector: records counted as rejected, a cnproc.loss record follows, the agent keeps running', async (t) => {
    if (!needsRoot(t)) return;
    const rx = await receiver();
    let reject = true;
    rx.setResponder(() => (reject ? { status: 400, body: { code: 3, message: 'bad request' } } : null));
    const agent = startCli(['--otlp-endpoint', rx.url, '--exporter', 'otlp'], []);
    try {
      await waitFor('exporting line', () => /exporting to OTLP/.test(agent.stderr()), 15_000);
      await run('sh', ['-c', 'exit 0']);
      await waitFor('rejection logged', () => /records rejected for good: HTTP 400/.test(agent.stderr()), 15_000);
      reject = false;
      await rx.waitFor((recs) => recs.some((r) => r.eventName === 'cnproc.loss'), 15_000);
      const loss = rx.records.find((r) => r.eventName === 'cnproc.loss') as ReceivedLogRecord;
      assert.ok(Number(loss.attributes['cnproc.loss.export_rejected']) > 0);
      assert.equal(loss.severityText, 'WARN');
    } finally {
      agent.child.kill('SIGTERM');
    }
    assert.equal(await agent.exited, 0);
    assert.match(agent.stderr(), /delivery: \d+ records delivered in \d+ requests, [1-9]\d* rejected/);
  });

  test('console and OTLP at once', async (t) => {
    if (!needsRoot(t)) return;
    const rx = await receiver();
    const agent = startCli(['--otlp-endpoint', rx.url, '--exporter', 'console,otlp', '--console-format', 'json'], []);
    try {
      await waitFor('exporting line', () => /exporting to console and OTLP/.test(agent.stderr()), 15_000);
      const { pid } = await run('sh', ['-c', 'exit 5']);
      await rx.waitFor((recs) => ofPid(recs, pid, 'process.exit') !== undefined, 10_000);
      await waitFor('console line', () => agent.stdout().includes(`"process.pid":${pid},`));
    } finally {
      agent.child.kill('SIGTERM');
    }
    assert.equal(await agent.exited, 0);
  });
});

describe('security context through the agent', () => {
  test('CNPROC_OTEL_NAMESPACES: a program on a tmpfs and one in unshare -n arrive flagged; the stop document counts mount lookups', async (t) => {
    if (!needsRoot(t)) return;
    const rx = await receiver();
    const dir = mkdtempSync(join(tmpdir(), 'cnproc-e2e-tmpfs-'));
    const agent = startCli(['--otlp-endpoint', rx.url], ['env', 'CNPROC_OTEL_NAMESPACES=true']);
    try {
      await waitFor('exporting line', () => /exporting to OTLP/.test(agent.stderr()), 15_000);
      // Mounted while the agent runs: its table of the host's mounts must follow.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'cnproc-e2e', dir]);
      copyFileSync('/usr/bin/sleep', join(dir, 'sleep'));
      const onTmpfs = await run(join(dir, 'sleep'), ['0.2']);
      const unshared = await run('unshare', ['-n', 'sleep', '0.1']);
      await rx.waitFor(
        (recs) => ofPid(recs, onTmpfs.pid, 'process.exec') !== undefined && ofPid(recs, unshared.pid, 'process.exit') !== undefined,
        10_000,
      );
      const tmpfsExec = ofPid(rx.records, onTmpfs.pid, 'process.exec') as ReceivedLogRecord;
      assert.equal(tmpfsExec.attributes['process.executable.path'], join(dir, 'sleep'));
      assert.equal(tmpfsExec.attributes['cnproc.process.executable.tmpfs'], true);
      assert.equal(tmpfsExec.attributes['cnproc.process.executable.mount.point'], dir);
      assert.equal(tmpfsExec.attributes['cnproc.process.executable.mount.type'], 'tmpfs');
      const exit = ofPid(rx.records, unshared.pid, 'process.exit') as ReceivedLogRecord;
      assert.equal(exit.attributes['process.executable.path'], '/usr/bin/sleep');
      assert.deepEqual(exit.attributes['cnproc.process.namespaces.non_host'], ['net']);
      assert.equal(typeof exit.attributes['cnproc.process.namespace.net'], 'number');
    } finally {
      agent.child.kill('SIGTERM');
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(await agent.exited, 0);
    assert.equal(typeof agent.report().process?.exeMountUnknown, 'number');
  });
});
