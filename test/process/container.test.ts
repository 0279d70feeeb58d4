import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupIdentity } from '../../src/process/container.js';

const ID = '4f3c2b1a'.repeat(8);
const POD = '1a2b3c4d-1111-2222-3333-444455556666';
const POD_ = POD.replace(/-/g, '_');

const cases: Array<[string, string | null, string | null, string | null, string | null]> = [
  // path, containerId, runtime, podUid, systemdUnit
  [`/system.slice/docker-${ID}.scope`, ID, 'docker', null, null],
  [`/docker/${ID}`, ID, 'docker', null, null],
  [`/docker/${ID}/nested`, ID, 'docker', null, null],
  [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`, ID, 'containerd', POD, null],
  [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-${ID}.scope`, ID, 'cri-o', POD, null],
  [`/kubepods/burstable/pod${POD}/${ID}`, ID, 'kubernetes', POD, null],
  [`/kubepods/pod${POD}/${ID}`, ID, 'kubernetes', POD, null],
  [`/machine.slice/libpod-${ID}.scope/container`, ID, 'podman', null, null],
  [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, ID, 'podman', null, null],
  [`/machine.slice/libpod-conmon-${ID}.scope`, null, null, null, `libpod-conmon-${ID}.scope`],
  ['/system.slice/sshd.service', null, null, null, 'sshd.service'],
  ['/user.slice/user-1000.slice/session-3.scope', null, null, null, 'session-3.scope'],
  [
    '/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope',
    null,
    null,
    null,
    'app-gnome-firefox-1234.scope',
  ],
  ['/', null, null, null, null],
  [`/system.slice/docker-${ID.slice(1)}.scope`, null, null, null, `docker-${ID.slice(1)}.scope`],
];

for (const [path, containerId, runtime, podUid, unit] of cases) {
  test(`cgroup ${path}`, () => {
    assert.deepEqual(cgroupIdentity(path), { containerId, runtime, podUid, systemdUnit: unit });
  });
}
