/**
 * Names from runtime state, on state files made here in the exact layouts the runtimes write:
 * - containerd: <root>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json, the OCI spec of
 *   the task's bundle (runtime v2 shim), with the CRI plugin's io.kubernetes.cri.* annotations
 *   (containerd internal/cri/annotations/annotations.go: container-type, sandbox-name,
 *   sandbox-namespace, sandbox-uid, container-name, image-name).
 * - CRI-O: containers/storage's <root>/overlay-containers/<id>/userdata/config.json (written under
 *   the run root /run/containers/storage), annotations from cri-o pkg/annotations: Labels (JSON of
 *   the kubelet's io.kubernetes.* labels), ContainerType, ImageName, ImageRef, KubeName.
 * - podman: containers.json and images.json as a real podman 4 wrote them on this machine (field
 *   names and the metadata JSON string copied from /var/lib/containers/storage).
 * - docker: containers/<id>/config.v2.json fields Name, Image, Config.Image, Config.Labels.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, describe, test } from 'node:test';
import { cgroupIdentity } from '../../src/process/container.js';
import { type ProcessInfo, unknownProcess } from '../../src/process/model.js';
import { splitImage } from '../../src/process/runtime-state.js';
import { WorkloadResolver } from '../../src/process/workload.js';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function hostRoot(): string {
  const r = mkdtempSync(`${tmpdir()}/cnproc-workload-`);
  roots.push(r);
  return r;
}

function put(root: string, path: string, content: unknown): void {
  const full = `${root}${path}`;
  mkdirSync(full.slice(0, full.lastIndexOf('/')), { recursive: true });
  writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content));
}

function proc(cgroup: string): ProcessInfo {
  const id = cgroupIdentity(cgroup);
  return {
    ...unknownProcess(100, 1),
    cgroup,
    containerId: id.containerId,
    containerRuntime: id.runtime,
    podUid: id.podUid,
  };
}

const ID = 'c0ffee00'.repeat(8);
const SANDBOX = '5a5a5a5a'.repeat(8);
const POD_UID = '0b6f1c2e-8d4a-4f3b-9e21-7a5c3d2b1f00';
const POD_ = POD_UID.replace(/-/g, '_');
const IMAGE_ID = 'e1e1e1e1'.repeat(8);

describe('workload names from runtime state', () => {
  test('containerd CRI: pod, namespace, container and image from the bundle annotations; the pause sandbox has no container name', () => {
    const root = hostRoot();
    const task = '/run/containerd/io.containerd.runtime.v2.task/k8s.io';
    put(root, `${task}/${ID}/config.json`, {
      ociVersion: '1.1.0',
      process: { args: ['/app/server'] },
      annotations: {
        'io.kubernetes.cri.container-type': 'container',
        'io.kubernetes.cri.container-name': 'server',
        'io.kubernetes.cri.image-name': 'registry.example.com:5000/shop/server:2.3.1',
        'io.kubernetes.cri.sandbox-id': SANDBOX,
        'io.kubernetes.cri.sandbox-name': 'shop-server-7d9f8-abcde',
        'io.kubernetes.cri.sandbox-namespace': 'shop',
        'io.kubernetes.cri.sandbox-uid': POD_UID,
      },
    });
    put(root, `${task}/${SANDBOX}/config.json`, {
      annotations: {
        'io.kubernetes.cri.container-type': 'sandbox',
        'io.kubernetes.cri.sandbox-id': SANDBOX,
        'io.kubernetes.cri.sandbox-name': 'shop-server-7d9f8-abcde',
        'io.kubernetes.cri.sandbox-namespace': 'shop',
        'io.kubernetes.cri.sandbox-uid': POD_UID,
      },
    });
    const r = new WorkloadResolver({ hostRoot: root });
    const slice = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice`;
    const w = r.of(proc(`${slice}/cri-containerd-${ID}.scope`));
    assert.deepEqual(w, {
      containerId: ID,
      runtime: 'containerd',
      containerName: 'server',
      imageName: 'registry.example.com:5000/shop/server',
      imageTag: '2.3.1',
      imageId: null,
      podUid: POD_UID,
      podName: 'shop-server-7d9f8-abcde',
      namespace: 'shop',
      k8sContainerName: 'server',
      unresolved: null,
    });
    const pause = r.of(proc(`/kubepods/burstable/pod${POD_UID}/${SANDBOX}`));
    assert.equal(pause?.podName, 'shop-server-7d9f8-abcde');
    assert.equal(pause?.k8sContainerName, null);
    assert.equal(pause?.runtime, 'containerd', 'a cgroupfs path does not say the runtime; the state does');
    assert.equal(pause?.unresolved, null);
  });

  test('containerd, plain ctr: found in its namespace, but nothing names it: flagged unnamed', () => {
    const root = hostRoot();
    put(root, `/run/containerd/io.containerd.runtime.v2.task/default/${ID}/config.json`, { annotations: {} });
    const w = new WorkloadResolver({ hostRoot: root }).of(proc(`/default/${ID}`));
    assert.equal(w?.runtime, 'containerd');
    assert.equal(w?.containerName, null);
    assert.equal(w?.unresolved, 'unnamed');
  });

  test('CRI-O: names from the Labels annotation of the userdata config.json under the run root', () => {
    const root = hostRoot();
    const labels = {
      'io.kubernetes.container.name': 'web',
      'io.kubernetes.pod.name': 'web-0',
      'io.kubernetes.pod.namespace': 'prod',
      'io.kubernetes.pod.uid': POD_UID,
    };
    put(root, `/run/containers/storage/overlay-containers/${ID}/userdata/config.json`, {
      annotations: {
        'io.container.manager': 'cri-o',
        'io.kubernetes.cri-o.ContainerType': 'container',
        'io.kubernetes.cri-o.ContainerID': ID,
        'io.kubernetes.cri-o.Name': `k8s_web_web-0_prod_${POD_UID}_0`,
        'io.kubernetes.cri-o.KubeName': 'web',
        'io.kubernetes.cri-o.Labels': JSON.stringify(labels),
        'io.kubernetes.cri-o.ImageName': 'quay.io/acme/web:1.0@sha256:abcd',
        'io.kubernetes.cri-o.ImageRef': IMAGE_ID,
        'io.kubernetes.cri-o.SandboxID': SANDBOX,
      },
    });
    const slice = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice`;
    const w = new WorkloadResolver({ hostRoot: root }).of(proc(`${slice}/crio-${ID}.scope`));
    assert.deepEqual(w, {
      containerId: ID,
      runtime: 'cri-o',
      containerName: 'web',
      imageName: 'quay.io/acme/web',
      imageTag: '1.0',
      imageId: `sha256:${IMAGE_ID}`,
      podUid: POD_UID,
      podName: 'web-0',
      namespace: 'prod',
      k8sContainerName: 'web',
      unresolved: null,
    });
  });

  test('podman: name and image from containers.json and images.json (cgroupfs layout)', () => {
    const root = hostRoot();
    const store = '/var/lib/containers/storage';
    put(root, `${store}/overlay-containers/containers.json`, [
      {
        id: ID,
        names: ['probe'],
        image: IMAGE_ID,
        layer: 'f'.repeat(64),
        metadata: JSON.stringify({ 'image-name': 'localhost/probe:v1', 'image-id': IMAGE_ID, name: 'probe', 'created-at': 1796030712 }),
        created: '2026-11-30T09:25:13.00115483Z',
        flags: { MountLabel: '', ProcessLabel: '' },
      },
    ]);
    put(root, `${store}/overlay-images/images.json`, [{ id: IMAGE_ID, names: ['localhost/probe:v1'] }]);
    put(root, `${store}/overlay-containers/${ID}/userdata/config.json`, {
      annotations: { 'io.container.manager': 'libpod', 'io.podman.annotations.init': 'FALSE' },
    });
    const w = new WorkloadResolver({ hostRoot: root }).of(proc(`/libpod_parent/libpod-${ID}`));
    assert.equal(w?.runtime, 'podman');
    assert.equal(w?.containerName, 'probe');
    assert.equal(w?.imageName, 'localhost/probe');
    assert.equal(w?.imageTag, 'v1');
    assert.equal(w?.imageId, `sha256:${IMAGE_ID}`);
    assert.equal(w?.podName, null);
    assert.equal(w?.unresolved, null);
  });

  test('rootless podman: state under the owner’s home (from the cgroup’s user@<uid>.service)', () => {
    const root = hostRoot();
    put(root, '/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
    put(root, '/home/alice/.local/share/containers/storage/overlay-containers/containers.json', [
      { id: ID, names: ['alices'], image: IMAGE_ID, metadata: '{}' },
    ]);
    put(root, '/home/alice/.local/share/containers/storage/overlay-images/images.json', [
      { id: IMAGE_ID, names: ['docker.io/library/alpine:3.20'] },
    ]);
    const w = new WorkloadResolver({ hostRoot: root }).of(
      proc(`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`),
    );
    assert.equal(w?.containerName, 'alices');
    assert.equal(w?.imageName, 'docker.io/library/alpine', 'no image-name in metadata: images.json names it');
    assert.equal(w?.imageTag, '3.20');
  });

  test('docker: config.v2.json, and the kubelet labels cri-dockerd leaves there', () => {
    const root = hostRoot();
    put(root, `/var/lib/docker/containers/${ID}/config.v2.json`, {
      ID,
      Name: '/api',
      Image: `sha256:${IMAGE_ID}`,
      Config: {
        Image: 'localhost/api:2024',
        Labels: { 'io.kubernetes.pod.name': 'api-1', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.container.name': 'api' },
      },
    });
    const w = new WorkloadResolver({ hostRoot: root }).of(proc(`/docker/${ID}`));
    assert.equal(w?.containerName, 'api');
    assert.equal(w?.imageName, 'localhost/api');
    assert.equal(w?.imageTag, '2024');
    assert.equal(w?.imageId, `sha256:${IMAGE_ID}`);
    assert.equal(w?.podName, 'api-1');
    assert.equal(w?.k8sContainerName, 'api');
  });

  test('LXC and nspawn are named by their cgroup: no state read, not flagged', () => {
    const w = new WorkloadResolver({ hostRoot: hostRoot() }).of(proc('/lxc.payload.web1/system.slice/nginx.service'));
    assert.equal(w?.containerName, 'web1');
    assert.equal(w?.runtime, 'lxc');
    assert.equal(w?.unresolved, null);
  });

  test('bad state is flagged, never thrown: too large, malformed, unknown id', () => {
    const root = hostRoot();
    put(root, `/var/lib/docker/containers/${ID}/config.v2.json`, JSON.stringify({ Name: '/x', pad: 'x'.repeat(5000) }));
    const small = new WorkloadResolver({ hostRoot: root, maxStateFileBytes: 1024 });
    assert.equal(small.of(proc(`/docker/${ID}`))?.unresolved, 'too-large');
    put(root, `/var/lib/docker/containers/${SANDBOX}/config.v2.json`, '{"Name": "/half');
    assert.equal(small.of(proc(`/docker/${SANDBOX}`))?.unresolved, 'malformed');
    const other = 'd'.repeat(64);
    const w = small.of(proc(`/system.slice/docker-${other}.scope`));
    assert.equal(w?.unresolved, 'no-state');
    assert.equal(w?.containerName, null, 'flagged, not guessed');
    assert.equal(w?.containerId, other);
    put(root, `/var/lib/containers/storage/overlay-containers/containers.json`, '[{"id": ');
    const third = 'e'.repeat(64);
    assert.equal(small.of(proc(`/libpod_parent/libpod-${third}`))?.unresolved, 'malformed');
    assert.deepEqual(small.stats(), { containers: 4, lookups: 4, unresolved: 4, lookupMs: small.stats().lookupMs });
  });

  test('resolved once: later records of the container read nothing (the state may even be gone)', () => {
    const root = hostRoot();
    put(root, `/var/lib/docker/containers/${ID}/config.v2.json`, { Name: '/once', Config: { Image: 'busybox' } });
    const r = new WorkloadResolver({ hostRoot: root });
    const p = proc(`/docker/${ID}`);
    const first = r.of(p);
    rmSync(`${root}/var/lib/docker`, { recursive: true });
    for (let i = 0; i < 100; i++) assert.equal(r.of(p), first);
    assert.equal(r.stats().lookups, 1);
    assert.equal(r.byId(ID), first);
    assert.equal(r.of(undefined), null);
    assert.equal(r.of(unknownProcess(5, 1)), null, 'host processes have no workload');
  });

  test('an unresolved container is looked up again after retryMs, not per event', () => {
    const root = hostRoot();
    let now = 0;
    const r = new WorkloadResolver({ hostRoot: root, retryMs: 1000, now: () => now });
    const p = proc(`/docker/${ID}`);
    const first = r.of(p);
    assert.equal(first?.unresolved, 'no-state');
    now = 1000;
    assert.equal(r.of(p), first, 'a retry that learned nothing keeps the object (and so the resource)');
    assert.equal(r.stats().lookups, 2);
    put(root, `/var/lib/docker/containers/${ID}/config.v2.json`, { Name: '/late' });
    now = 1500;
    assert.equal(r.of(p)?.unresolved, 'no-state');
    assert.equal(r.stats().lookups, 2, 'not looked up again before retryMs');
    now = 2000;
    assert.equal(r.of(p)?.containerName, 'late');
    assert.equal(r.stats().lookups, 3);
  });

  test('bounded: the oldest container goes when maxContainers is reached', () => {
    const r = new WorkloadResolver({ hostRoot: hostRoot(), maxContainers: 2, names: false });
    for (const c of ['1', '2', '3']) r.of(proc(`/docker/${c.repeat(64)}`));
    assert.equal(r.stats().containers, 2);
    assert.equal(r.byId('1'.repeat(64)), undefined);
    assert.equal(r.byId('3'.repeat(64))?.unresolved, null, 'names: false resolves ids only, unflagged');
  });

  test('image references: registry ports, digests, no tag', () => {
    assert.deepEqual(splitImage('localhost:5000/a/b:1.2@sha256:ff'), { name: 'localhost:5000/a/b', tag: '1.2' });
    assert.deepEqual(splitImage('localhost:5000/a/b'), { name: 'localhost:5000/a/b', tag: null });
    assert.deepEqual(splitImage('busybox'), { name: 'busybox', tag: null });
    assert.deepEqual(splitImage('nginx@sha256:ab'), { name: 'nginx', tag: null });
  });
});

describe('who made it', () => {
  test('a podman container with CRI-O-style keys (podman play kube) is podman’s, by io.container.manager', () => {
    const root = hostRoot();
    put(root, `/var/lib/containers/storage/overlay-containers/${ID}/userdata/config.json`, {
      annotations: { 'io.container.manager': 'libpod', 'io.kubernetes.cri-o.ContainerType': 'container' },
    });
    put(root, '/var/lib/containers/storage/overlay-containers/containers.json', [
      { id: ID, names: ['web-pod-web'], image: null, metadata: '{}' },
    ]);
    const w = new WorkloadResolver({ hostRoot: root }).of(proc(`/libpod_parent/libpod-${ID}`));
    assert.equal(w?.runtime, 'podman');
    assert.equal(w?.containerName, 'web-pod-web');
  });

  test('ctr: a free-form id is the name the user gave; a generated 64-hex one is not a name', () => {
    const root = hostRoot();
    put(root, '/run/containerd/io.containerd.runtime.v2.task/default/probe/config.json', { annotations: {} });
    const p = { ...unknownProcess(9, 1), cgroup: '/default/probe', containerId: 'probe', containerRuntime: 'containerd' };
    const w = new WorkloadResolver({ hostRoot: root }).of(p);
    assert.equal(w?.containerName, 'probe');
    assert.equal(w?.unresolved, null);
  });
});

test('a FIFO or a directory where a state file should be: flagged at once, never waited on', () => {
  const root = hostRoot();
  const dir = `${root}/var/lib/docker/containers/${ID}`;
  mkdirSync(dir, { recursive: true });
  const fifo = spawnSync('mkfifo', [`${dir}/config.v2.json`]);
  assert.equal(fifo.status, 0, 'mkfifo');
  const t0 = performance.now();
  assert.equal(new WorkloadResolver({ hostRoot: root }).of(proc(`/docker/${ID}`))?.unresolved, 'malformed');
  mkdirSync(`${root}/var/lib/docker/containers/${SANDBOX}/config.v2.json`, { recursive: true });
  assert.equal(new WorkloadResolver({ hostRoot: root }).of(proc(`/docker/${SANDBOX}`))?.unresolved, 'malformed');
  assert.ok(performance.now() - t0 < 1000);
});
