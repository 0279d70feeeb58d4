/**
 * Container identity and names from real runtimes beside podman (test/otel/podman.test.ts), as
 * root: docker.io's dockerd (cgroupfs driver: /docker/<id>, names from config.v2.json) and a plain
 * containerd driven by ctr (cgroupfs /<namespace>/<id> with a free-form id, named by its bundle).
 *
 * Both daemons are started here on private sockets and stopped by their pids; dockerd with
 * `--iptables=false --bridge=none --storage-driver=vfs` (this VM has no netfilter or overlay for
 * it), containerd with the native snapshotter. Images are made here from busybox, without a
 * registry: a rootfs tarball imported into docker, and podman's docker-archive of it imported into
 * containerd. Missing packages are installed with the project's installer (bench/ensure-tools.ts).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDebianPackages } from '../../bench/ensure-tools.js';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ProcEventSource } from '../../src/kernel/source.js';
import { Enricher } from '../../src/process/enricher.js';
import { readHostClock } from '../../src/process/identity.js';
import type { EnrichedEvent } from '../../src/process/model.js';
import { WorkloadResolver } from '../../src/process/workload.js';
import { isRoot, waitFor } from '../helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'cnproc-runtimes-'));
const TAG = `t${process.pid}`;
const daemons: ChildProcess[] = [];
const sources: ProcEventSource[] = [];
const cleanups: Array<() => void> = [];

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 120_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, env: { ...process.env, ...env }, input: '' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}

function rootfsTar(): string {
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'sleep', 'true']) symlinkSync('busybox', join(root, 'bin', applet));
  const tar = join(dir, 'rootfs.tar');
  sh('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

/** Starts a daemon we own; stopped by its pid in after(). */
function daemon(cmd: string, args: string[], log: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    text = (text + d).slice(-4000);
  });
  Object.defineProperty(child, 'log', { get: () => `${log}: ${text}` });
  daemons.push(child);
  return child;
}

async function pipeline(): Promise<EnrichedEvent[]> {
  const enricher = new Enricher(readHostClock(), { ancestryDepth: 2, maxProcesses: 65_536, workloads: new WorkloadResolver() });
  const out: EnrichedEvent[] = [];
  const source = await ProcEventSource.start({
    onEvents: (evs: ProcEvent[]) => {
      for (const e of evs) out.push(enricher.enrich(e, e.procSnapshot));
    },
  });
  sources.push(source);
  return out;
}

const exitIn = (out: EnrichedEvent[], id: string, code: number) =>
  out.find((x) => x.event.kind === 'exit' && x.workload?.containerId === id && x.event.exitCode === code);

let tar = '';
before(() => {
  if (!isRoot) return;
  try {
    ensureDebianPackages({
      dockerd: 'docker.io',
      docker: 'docker.io',
      containerd: 'containerd',
      ctr: 'containerd',
      podman: 'podman',
      '/usr/sbin/runc': 'runc',
      '/bin/busybox': 'busybox-static',
    });
  } catch (err) {
    throw new Error(`these tests run docker and containerd as root and could not install them (${(err as Error).message})`);
  }
  tar = rootfsTar();
});

after(async () => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      // best effort: the daemons are stopped below either way
    }
  }
  for (const s of sources) await s.stop();
  for (const d of daemons) {
    if (d.exitCode !== null) continue;
    d.kill('SIGTERM');
    await new Promise((r) => d.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('real runtimes', () => {
  test('docker (dockerd, cgroupfs driver): /docker/<id>, named from config.v2.json', async (t) => {
    if (!isRoot) return t.skip('needs root');
    const sock = join(dir, 'docker.sock');
    const env = { DOCKER_HOST: `unix://${sock}` };
    const d = daemon(
      'dockerd',
      [
        '--iptables=false',
        '--bridge=none',
        '--storage-driver=vfs',
        '-H',
        `unix://${sock}`,
        '--pidfile',
        join(dir, 'docker.pid'),
        '--exec-root',
        join(dir, 'docker-exec'),
      ],
      'dockerd',
    );
    await waitFor(
      'dockerd',
      () => spawnSync('docker', ['version'], { env: { ...process.env, ...env } }).status === 0,
      60_000,
      () => (d as unknown as { log: string }).log,
    );
    const image = `localhost/cnproc-probe-docker:${TAG}`;
    sh('sh', ['-c', `docker import - ${image} < '${tar}'`], env);
    cleanups.push(() => sh('docker', ['rmi', '-f', image], env));
    const out = await pipeline();
    const name = `cnproc-docker-${process.pid}`;
    const id = sh('docker', ['run', '-d', '--name', name, '--network', 'none', image, '/bin/sh', '-c', 'sleep 0.3; exit 5'], env);
    cleanups.push(() => sh('docker', ['rm', '-f', name], env));
    const x = await waitFor('the container’s exit 5', () => exitIn(out, id, 5), 20_000);
    assert.equal(x.process?.cgroup, `/docker/${id}`);
    const w = x.workload;
    assert.equal(w?.runtime, 'docker');
    assert.equal(w?.containerName, name);
    assert.equal(w?.imageName, 'localhost/cnproc-probe-docker');
    assert.equal(w?.imageTag, TAG);
    assert.match(w?.imageId ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(w?.unresolved, null);
    const exec = out.find((e) => e.event.kind === 'exec' && e.workload?.containerId === id);
    assert.equal(exec?.workload, w, 'every event of the container shares one resolved workload');
  });

  test('containerd + ctr: /<namespace>/<id> with a free-form id, named by its task bundle', async (t) => {
    if (!isRoot) return t.skip('needs root');
    // Task bundles go where containerd keeps them by default (/run/containerd/io.containerd.runtime.v2.task),
    // which is where the agent looks. A containerd already serving there is used through its socket.
    const state = '/run/containerd';
    let address = join(state, 'containerd.sock');
    if (!existsSync(address)) {
      address = join(dir, 'containerd.sock');
      const d = daemon('containerd', ['--address', address, '--root', join(dir, 'containerd-root'), '--state', state], 'containerd');
      await waitFor(
        'containerd',
        () => spawnSync('ctr', ['--address', address, 'version']).status === 0,
        30_000,
        () => (d as unknown as { log: string }).log,
      );
    }
    const ns = `cnproc-${process.pid}`;
    const ctr = (args: string[]) => sh('ctr', ['--address', address, '-n', ns, ...args]);
    // An image archive containerd can import: podman's docker-archive of the busybox rootfs.
    const image = `localhost/cnproc-probe-ctr:${TAG}`;
    sh('sh', ['-c', `podman import - ${image} < '${tar}' >/dev/null && podman save --format docker-archive -o '${dir}/ctr.tar' ${image}`]);
    cleanups.push(() => sh('podman', ['rmi', '-f', image]));
    cleanups.push(() => sh('ctr', ['--address', address, 'namespaces', 'rm', ns]));
    ctr(['image', 'import', '--snapshotter', 'native', join(dir, 'ctr.tar')]);
    cleanups.push(() => ctr(['image', 'rm', image]));
    const out = await pipeline();
    const name = `probe-${process.pid}`;
    ctr(['run', '-d', '--snapshotter', 'native', '--runtime', 'io.containerd.runc.v2', image, name, '/bin/sh', '-c', 'sleep 0.3; exit 6']);
    cleanups.push(() => {
      spawnSync('ctr', ['--address', address, '-n', ns, 'task', 'rm', '-f', name]);
      ctr(['container', 'rm', name]);
    });
    const x = await waitFor('the container’s exit 6', () => exitIn(out, name, 6), 20_000);
    assert.equal(x.process?.cgroup, `/${ns}/${name}`);
    assert.equal(x.workload?.runtime, 'containerd');
    assert.equal(x.workload?.containerName, name, 'ctr’s id is the name the user gave');
    assert.equal(x.workload?.imageName, null, 'the image is only in containerd’s metadata database: not guessed');
    assert.equal(x.workload?.unresolved, null);
  });
});
