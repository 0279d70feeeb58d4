import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { type CgroupIdentity, cgroupIdentity, setCgroupHostRoot } from '../../src/process/container.js';

const ID = '4f3c2b1a'.repeat(8);
const INNER = 'a1b2c3d4'.repeat(8);
const POD = '1a2b3c4d-1111-2222-3333-444455556666';
const POD_ = POD.replace(/-/g, '_');

type Expect = Partial<CgroupIdentity>;
const host = (unit: string | null): Expect => ({ containerId: null, runtime: null, systemdUnit: unit });

/**
 * Paths as the runtimes write them (/proc/<pid>/cgroup, v1 controller lines and the v2 line alike).
 * The podman cgroupfs one was read from a real container on this machine (test/process/podman.test.ts
 * checks it live); the others follow each runtime's cgroup naming code (docker daemon/oci,
 * containerd pkg/cri, cri-o internal/config/cgmgr, libpod, lxc, systemd-nspawn).
 */
const cases: Array<[string, Expect]> = [
  // Docker: systemd driver, cgroupfs driver (v1 and v2 alike), nested, rootless, in Kubernetes (cri-dockerd)
  [`/system.slice/docker-${ID}.scope`, { containerId: ID, runtime: 'docker', ownerUid: null }],
  [`/docker/${ID}`, { containerId: ID, runtime: 'docker' }],
  [`/docker/${ID}/nested`, { containerId: ID, runtime: 'docker' }],
  [`/docker/${ID}/docker/${INNER}`, { containerId: INNER, runtime: 'docker' }],
  [`/user.slice/user-1000.slice/user@1000.service/app.slice/docker-${ID}.scope`, { containerId: ID, runtime: 'docker', ownerUid: 1000 }],
  [`/kubepods.slice/kubepods-pod${POD_}.slice/docker-${ID}.scope`, { containerId: ID, runtime: 'docker', podUid: POD }],
  // containerd: CRI with the systemd and cgroupfs drivers; plain ctr (namespace/id); nerdctl with systemd
  [
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`,
    { containerId: ID, runtime: 'containerd', podUid: POD },
  ],
  [`/kubepods/burstable/pod${POD}/${ID}`, { containerId: ID, runtime: 'kubernetes', podUid: POD }],
  [`/kubepods/pod${POD}/${ID}`, { containerId: ID, runtime: 'kubernetes', podUid: POD }],
  [`/default/${ID}`, { containerId: ID, runtime: null, podUid: null }],
  [`/k8s.io/${ID}`, { containerId: ID, runtime: null }],
  [`/system.slice/nerdctl-${ID}.scope`, { containerId: ID, runtime: 'containerd' }],
  // CRI-O: systemd and cgroupfs; its monitor is not the container
  [
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-${ID}.scope`,
    { containerId: ID, runtime: 'cri-o', podUid: POD },
  ],
  [
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-${ID}.scope/container`,
    { containerId: ID, runtime: 'cri-o' },
  ],
  [`/kubepods/besteffort/pod${POD}/crio-${ID}`, { containerId: ID, runtime: 'cri-o', podUid: POD }],
  [
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-conmon-${ID}.scope`,
    { containerId: null, runtime: 'kubernetes', podUid: POD },
  ],
  // Podman: systemd (root and rootless, in a pod), cgroupfs; conmon is not the container
  [`/machine.slice/libpod-${ID}.scope/container`, { containerId: ID, runtime: 'podman' }],
  [`/machine.slice/machine-libpod_pod_${INNER}.slice/libpod-${ID}.scope/container`, { containerId: ID, runtime: 'podman' }],
  [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, { containerId: ID, runtime: 'podman', ownerUid: 1000 }],
  [
    `/user.slice/user-1001.slice/user@1001.service/user.slice/user-libpod_pod_${INNER}.slice/libpod-${ID}.scope/container`,
    { containerId: ID, runtime: 'podman', ownerUid: 1001 },
  ],
  [`/libpod_parent/libpod-${ID}`, { containerId: ID, runtime: 'podman' }],
  [`/libpod_parent/conmon`, host(null)],
  [`/machine.slice/libpod-conmon-${ID}.scope`, host(`libpod-conmon-${ID}.scope`)],
  // LXC / Incus, systemd-nspawn (names, not hex ids)
  ['/lxc.payload.web1', { containerId: 'web1', runtime: 'lxc', containerName: 'web1' }],
  ['/lxc.payload.web1/system.slice/nginx.service', { containerId: 'web1', runtime: 'lxc', containerName: 'web1', systemdUnit: null }],
  ['/lxc/web1', { containerId: 'web1', runtime: 'lxc', containerName: 'web1' }],
  ['/lxc.monitor.web1', host(null)],
  [
    '/machine.slice/systemd-nspawn@debian.service/payload/system.slice/cron.service',
    { containerId: 'debian', runtime: 'systemd-nspawn', containerName: 'debian' },
  ],
  [
    '/machine.slice/machine-build\\x2dbox.scope/payload',
    { containerId: 'build-box', runtime: 'systemd-nspawn', containerName: 'build-box' },
  ],
  ['/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/emulator', host('machine-qemu\\x2d1\\x2dvm1.scope')],
  // The general rule: a 64-hex id anywhere, from a runtime nobody listed
  [`/actions_job/${ID}`, { containerId: ID, runtime: null }],
  [`/system.slice/garden-${ID}.scope`, { containerId: ID, runtime: null }],
  // Host processes
  ['/system.slice/sshd.service', host('sshd.service')],
  ['/user.slice/user-1000.slice/session-3.scope', host('session-3.scope')],
  ['/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope', host('app-gnome-firefox-1234.scope')],
  ['/', host(null)],
  [`/process_api/${ID.slice(0, 32)}`, host(null)],
  [`/system.slice/docker-${ID.slice(1)}.scope`, host(`docker-${ID.slice(1)}.scope`)],
  [`/system.slice/docker-${ID}0.scope`, host(`docker-${ID}0.scope`)],
];

for (const [path, expected] of cases) {
  test(`cgroup ${path}`, () => {
    const got = cgroupIdentity(path);
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, got[k as keyof CgroupIdentity]]));
    assert.deepEqual(picked, expected);
  });
}

test('a container path never names a systemd unit, a host path never a container name', () => {
  for (const [path] of cases) {
    const id = cgroupIdentity(path);
    if (id.containerId !== null) assert.equal(id.systemdUnit, null, path);
    else assert.equal(id.containerName, null, path);
  }
});

test('ctr: /<namespace>/<id> with a free-form id is a containerd container when its task bundle exists', () => {
  const root = mkdtempSync(`${tmpdir()}/cnproc-cgroup-`);
  try {
    mkdirSync(`${root}/run/containerd/io.containerd.runtime.v2.task/default/probe`, { recursive: true });
    writeFileSync(`${root}/run/containerd/io.containerd.runtime.v2.task/default/probe/config.json`, '{}');
    setCgroupHostRoot(root);
    assert.deepEqual([cgroupIdentity('/default/probe').containerId, cgroupIdentity('/default/probe').runtime], ['probe', 'containerd']);
    assert.equal(cgroupIdentity('/default/other').containerId, null, 'no bundle: not a container');
    assert.equal(cgroupIdentity('/system.slice/cron.service').containerId, null);
  } finally {
    setCgroupHostRoot('');
    rmSync(root, { recursive: true, force: true });
  }
});
