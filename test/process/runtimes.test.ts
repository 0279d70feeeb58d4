/**
 * Container identity and names from real runtimes beside podman (test/otel/podman.test.ts), as
 * root: docker.io's dockerd (cgroupfs driver: /docker/<id>, names from config.v2.json), a plain
 * containerd driven by ctr (cgroupfs /<namespace>/<id> with a free-form id, named by its bundle),
 * and containerd writing a task in the CRI layout (namespace k8s.io, kubepods cgroup, CRI
 * annotations) as its CRI plugin does for a kubelet.
 *
 * Both daemons are started here on private sockets and stopped by their pids; dockerd with
 * `--iptables=false --bridge=none --storage-driver=vfs` (this VM has no netfilter or overlay for
 * it), containerd with the native snapshotter. Images are made here from busybox, without a
 * registry: a rootfs tarball imported into docker, and podman's docker-archive of it imported into
 * containerd. Missing packages are installed with the project's installer (bench/ensure-tools.ts).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
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
/** cgroup directories (relative to each hierarchy) this run made through ctr. */
const cgroupsMade: string[] = [];

function rmdirSafe(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // not there, or not empty (then not ours alone)
  }
}

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

/** Stops and removes a ctr task and its container. */
function removeTask(ctr: (args: string[]) => string, id: string): void {
  try {
    ctr(['task', 'kill', '-s', 'KILL', id]);
  } catch {
    // already exited
  }
  spawnSync('sleep', ['0.2']);
  try {
    ctr(['task', 'rm', '-f', id]);
  } catch {
    // no task left
  }
  ctr(['container', 'rm', id]);
}

let containerdAddress: string | null = null;

/**
 * A containerd whose task bundles are where containerd keeps them by default
 * (/run/containerd/io.containerd.runtime.v2.task), which is where the agent looks: one already
 * serving there is used through its socket, else one is started here. Returns ctr in a namespace
 * of this test run (`k8s.io` for the CRI layout) with the busybox image imported.
 */
async function containerd(which: 'plain' | 'k8s.io'): Promise<{ ctr: (args: string[]) => string; image: string; ns: string }> {
  const state = '/run/containerd';
  if (containerdAddress === null) {
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
    containerdAddress = address;
  }
  const address = containerdAddress;
  const ns = which === 'k8s.io' ? 'k8s.io' : `cnproc-${process.pid}`;
  const ctr = (args: string[]) => sh('ctr', ['--address', address, '-n', ns, ...args]);
  // An image archive containerd can import: podman's docker-archive of the busybox rootfs.
  const image = `localhost/cnproc-probe-ctr:${TAG}`;
  const archive = join(dir, 'ctr.tar');
  if (!existsSync(archive)) {
    sh('sh', ['-c', `podman import - ${image} < '${tar}' >/dev/null && podman save --format docker-archive -o '${archive}' ${image}`]);
    cleanups.push(() => sh('podman', ['rmi', '-f', image]));
  }
  if (ns !== 'k8s.io') cleanups.push(() => sh('ctr', ['--address', address, 'namespaces', 'rm', ns]));
  ctr(['image', 'import', '--snapshotter', 'native', archive]);
  cleanups.push(() => ctr(['image', 'rm', image]));
  return { ctr, image, ns };
}

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
  // runc removes a container's cgroup but not the parents it created: remove those this run made
  // (its ctr namespace, its pod), never a shared parent such as kubepods.
  for (const path of cgroupsMade) {
    for (const ctrl of readdirSync('/sys/fs/cgroup')) rmdirSafe(`/sys/fs/cgroup/${ctrl}${path}`);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('real runtimes', () => {
  test('docker (dockerd, cgroupfs driver): /docker/<id>, named from config.v2.json', async (t) => {
    if (!isRoot) return t.skip('needs root');
    // A dockerd already serving the default socket owns /var/lib/docker: use it. Else start one
    // (its state in /var/lib/docker too, where the agent looks) on a private socket.
    let env: NodeJS.ProcessEnv = {};
    if (spawnSync('docker', ['version'], { timeout: 10_000 }).status !== 0) {
      const sock = join(dir, 'docker.sock');
      env = { DOCKER_HOST: `unix://${sock}` };
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
    }
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
    const { ctr, image, ns } = await containerd('plain');
    const out = await pipeline();
    const name = `probe-${process.pid}`;
    ctr(['run', '-d', '--snapshotter', 'native', '--runtime', 'io.containerd.runc.v2', image, name, '/bin/sh', '-c', 'sleep 0.3; exit 6']);
    cleanups.push(() => removeTask(ctr, name));
    cgroupsMade.push(`/${ns}`);
    const x = await waitFor('the container’s exit 6', () => exitIn(out, name, 6), 20_000);
    assert.equal(x.process?.cgroup, `/${ns}/${name}`);
    assert.equal(x.workload?.runtime, 'containerd');
    assert.equal(x.workload?.containerName, name, 'ctr’s id is the name the user gave');
    assert.equal(x.workload?.imageName, null, 'the image is only in containerd’s metadata database: not guessed');
    assert.equal(x.workload?.unresolved, null);
  });

  test('containerd in the CRI layout: a k8s.io task in a kubepods pod cgroup, named by the CRI annotations of its bundle', async (t) => {
    if (!isRoot) return t.skip('needs root');
    // No kubelet or crictl here (cri-tools is not packaged for this Debian): containerd itself
    // writes the bundle, in namespace k8s.io under a cgroupfs kubepods path, with the annotations
    // the CRI plugin puts on every container (containerd internal/cri/annotations).
    const { ctr, image } = await containerd('k8s.io');
    const out = await pipeline();
    const id = createHash('sha256').update(`cnproc-cri-${process.pid}`).digest('hex');
    const podUid = '7f9c1d2e-3b4a-4c5d-8e6f-0a1b2c3d4e5f';
    const annotations = {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'server',
      'io.kubernetes.cri.image-name': 'registry.example.com/shop/server:2.3.1',
      'io.kubernetes.cri.sandbox-id': 'a'.repeat(64),
      'io.kubernetes.cri.sandbox-name': 'shop-server-7d9f8-abcde',
      'io.kubernetes.cri.sandbox-namespace': 'shop',
      'io.kubernetes.cri.sandbox-uid': podUid,
    };
    ctr([
      'run',
      '-d',
      '--snapshotter',
      'native',
      '--runtime',
      'io.containerd.runc.v2',
      '--cgroup',
      `/kubepods/besteffort/pod${podUid}/${id}`,
      ...Object.entries(annotations).flatMap(([k, v]) => ['--annotation', `${k}=${v}`]),
      image,
      id,
      '/bin/sh',
      '-c',
      'sleep 0.3; exit 4',
    ]);
    cleanups.push(() => removeTask(ctr, id));
    cgroupsMade.push(`/kubepods/besteffort/pod${podUid}`);
    const x = await waitFor('the container’s exit 4', () => exitIn(out, id, 4), 20_000);
    assert.equal(x.process?.cgroup, `/kubepods/besteffort/pod${podUid}/${id}`);
    assert.deepEqual(x.workload, {
      containerId: id,
      runtime: 'containerd',
      containerName: 'server',
      imageName: 'registry.example.com/shop/server',
      imageTag: '2.3.1',
      imageId: null,
      podUid,
      podName: 'shop-server-7d9f8-abcde',
      namespace: 'shop',
      k8sContainerName: 'server',
      unresolved: null,
    });
  });
});
