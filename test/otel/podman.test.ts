/**
 * Who ran it, end to end on a real runtime (root): the agent (CLI, OTLP http/protobuf through the
 * fast encoder and the spool, traces on) watches a named podman container started from a locally
 * imported image, and its exec and exit records arrive under a resource that carries the
 * container's id, name and image, without the agent's own pod identity (set here through the
 * DaemonSet's downward-API variables), while host processes keep a host-only resource and the
 * agent's own records keep the agent's.
 *
 * podman runs with runc (crun refuses this VM's hybrid cgroups) and low ulimits (the defaults
 * exceed the VM's hard limits); without systemd as PID 1 it uses the cgroupfs manager, so the
 * container's cgroup is /libpod_parent/libpod-<id> (issue 14's case). Missing tools are installed
 * with the project's own installer (bench/ensure-tools.ts); a root run that cannot install them fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDebianPackages } from '../../bench/ensure-tools.js';
import { startCli } from '../helpers/cli.js';
import { isRoot, waitFor } from '../helpers/kernel.js';
import { type OtlpReceiver, type ReceivedLogRecord, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const TAG = `t${process.pid}`;
const IMAGE = 'localhost/cnproc-probe';
const NAME = `cnproc-probe-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'cnproc-podman-'));
const PODMAN = ['--runtime', '/usr/sbin/runc'];
const RUN_OPTS = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];
/** The agent's own pod, as the DaemonSet's downward API passes it. */
const AGENT_POD = {
  K8S_NODE_NAME: 'node-7',
  K8S_POD_NAME: 'cnproc-otel-x2k9f',
  K8S_POD_UID: '11111111-2222-3333-4444-555555555555',
  K8S_NAMESPACE_NAME: 'observability',
};

let rx: OtlpReceiver | undefined;

function podman(args: string[], timeoutMs = 120_000): string {
  const r = spawnSync('podman', [...PODMAN, ...args], { encoding: 'utf8', timeout: timeoutMs, input: '' });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}

/** A busybox image made here, imported without a registry. */
function importImage(): void {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'sleep', 'true']) symlinkSync('busybox', join(root, 'bin', applet));
  const tar = spawnSync('sh', ['-c', `tar -C '${root}' -c . | podman import - ${IMAGE}:${TAG}`], { encoding: 'utf8', timeout: 120_000 });
  if (tar.status !== 0) throw new Error(`podman import failed: ${tar.stderr}`);
}

before(() => {
  if (!isRoot) return;
  try {
    ensureDebianPackages({ podman: 'podman', '/usr/sbin/runc': 'runc', '/bin/busybox': 'busybox-static' });
  } catch (err) {
    throw new Error(
      `this test runs a real podman container as root and could not get podman, runc and busybox-static (${(err as Error).message}); install them with apt-get`,
    );
  }
  importImage();
});

after(async () => {
  await rx?.close();
  if (isRoot) {
    spawnSync('podman', ['rm', '-f', NAME], { timeout: 60_000 });
    spawnSync('podman', ['rmi', '-f', `${IMAGE}:${TAG}`], { timeout: 60_000 });
  }
  rmSync(dir, { recursive: true, force: true });
});

const inContainer = (id: string, name: string) => (r: ReceivedLogRecord) => r.resource['container.id'] === id && r.eventName === name;

describe('a real podman container', () => {
  test('exec and exit records (and spans) come under a resource with its id, name and image, not the agent’s pod', async (t) => {
    if (!isRoot) {
      t.skip('needs root (CI runs it as root, where it must run)');
      return;
    }
    rx = await startOtlpReceiver();
    const config = join(dir, 'agent.yaml');
    writeFileSync(config, 'traces:\n  enabled: true\nstats:\n  intervalMs: 1000\n');
    // The child inherits the environment at spawn: set the downward-API variables for it only.
    const saved = Object.keys(AGENT_POD).map((k) => [k, process.env[k]] as const);
    Object.assign(process.env, AGENT_POD);
    const agent = startCli(['--config', config, '--otlp-endpoint', rx.url, '--otlp-protocol', 'http/protobuf']);
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    const r = rx;
    try {
      await waitFor('exporting line', () => /exporting to OTLP/.test(agent.stderr()), 15_000, agent.stderr);
      const id = podman(['run', '-d', '--name', NAME, ...RUN_OPTS, `${IMAGE}:${TAG}`, '/bin/sh', '-c', 'sleep 0.3; exit 7']);
      assert.match(id, /^[0-9a-f]{64}$/);
      podman(['wait', NAME]);
      await r
        .waitFor((recs) => recs.some((x) => inContainer(id, 'process.exit')(x) && x.attributes['process.exit.code'] === 7), 15_000)
        .catch((err: Error) => {
          const seen = r.records.filter((x) => String(x.attributes['process.linux.cgroup'] ?? '').includes(id));
          throw new Error(
            `${err.message}; records in the container's cgroup: ${JSON.stringify(seen.map((x) => [x.eventName, x.body, x.resource]))}`,
          );
        });
      const exec = r.records.find(inContainer(id, 'process.exec'));
      const exit = r.records.find((x) => inContainer(id, 'process.exit')(x) && x.attributes['process.exit.code'] === 7);
      assert.ok(exec && exit, 'exec and exit records of the container');
      for (const rec of [exec, exit]) {
        const res = rec.resource;
        assert.equal(res['container.name'], NAME);
        assert.equal(res['container.image.name'], IMAGE);
        assert.deepEqual(res['container.image.tags'], [TAG]);
        assert.match(String(res['container.image.id']), /^sha256:[0-9a-f]{64}$/);
        assert.equal(res['cnproc.container.runtime'], 'podman');
        assert.equal(res['cnproc.container.unresolved'], undefined);
        // Host attributes are right for every record; the agent's own pod is not the container's.
        assert.equal(res['k8s.node.name'], AGENT_POD.K8S_NODE_NAME);
        assert.ok(res['host.name'] && res['cnproc.boot.id'] && res['service.name']);
        for (const k of ['k8s.pod.name', 'k8s.pod.uid', 'k8s.namespace.name']) assert.equal(res[k], undefined, k);
        assert.equal(rec.attributes['container.id'], id, 'the join key stays on the record');
        assert.equal(rec.attributes['container.name'], undefined, 'names live on the resource, not repeated per record');
      }
      assert.equal(exit.attributes['process.linux.cgroup'], `/libpod_parent/libpod-${id}`);
      // A host process (podman itself) keeps a host-only resource; the agent's records keep the agent's.
      await r.waitFor((recs) => recs.some((x) => x.eventName === 'cnproc.stats'), 10_000);
      const host = r.records.find((x) => x.eventName === 'process.exec' && x.resource['container.id'] === undefined);
      assert.ok(host, 'a host exec record');
      assert.equal(host.resource['k8s.pod.name'], undefined);
      assert.equal(host.resource['k8s.node.name'], AGENT_POD.K8S_NODE_NAME);
      const own = r.records.find((x) => x.eventName === 'cnproc.stats');
      assert.equal(own?.resource['k8s.pod.name'], AGENT_POD.K8S_POD_NAME);
      assert.equal(own?.resource['k8s.namespace.name'], AGENT_POD.K8S_NAMESPACE_NAME);
      // Spans: the container's processes under the same workload resource.
      await r.waitForSpans((spans) => spans.some((s) => s.resource['container.id'] === id), 15_000);
      const span = r.spans.find((s) => s.resource['container.id'] === id);
      assert.equal(span?.resource['container.name'], NAME);
      assert.equal(span?.resource['k8s.pod.name'], undefined);
      // One ResourceLogs per workload in a request: records of the container are not mixed with the host's.
      const perRequest = r.requests.filter((q) => q.path === '/v1/logs');
      assert.ok(perRequest.length > 0);
    } finally {
      agent.child.kill('SIGTERM');
    }
    assert.equal(await agent.exited, 0, agent.stderr());
  });
});
