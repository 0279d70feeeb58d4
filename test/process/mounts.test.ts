import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEMORY_FILE_SYSTEMS, mountOf, parseMountinfo } from '../../src/process/mounts.js';

const enc = new TextEncoder();
/** A container's mountinfo (podman with runc), with a tmpfs over /tmp, a space in a mount point and a stacked /dev/shm. */
const CONTAINER = enc.encode(
  [
    '73 48 0:40 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/BIF:/var/lib/containers/storage/overlay/l/X,upperdir=/var/lib/containers/storage/overlay/bb80/diff,workdir=/var/lib/containers/storage/overlay/bb80/work,uuid=on',
    '74 73 0:43 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
    '75 73 0:44 / /dev rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755',
    '76 75 0:45 / /dev/shm rw,nosuid,nodev,noexec,relatime shared:3 master:1 - tmpfs shm rw,size=64000k',
    '77 76 0:46 / /dev/shm rw,relatime - ramfs none rw',
    '78 73 0:47 / /tmp rw - tmpfs tmpfs rw',
    '79 73 254:0 /srv/data /my\\040data rw - ext4 /dev/vda rw',
    '80 73 0:48 / /lower,comma rw - overlay overlay rw,upperdir=/up\\054per,workdir=/w',
    'malformed line without separator',
    '',
  ].join('\n'),
);

test('mountinfo: mount points, roots, types and the overlay upperdir, escapes decoded; malformed lines skipped', () => {
  const m = parseMountinfo(CONTAINER);
  assert.equal(m.length, 8);
  assert.equal(m[0]?.mountPoint, '/');
  assert.equal(m[0]?.fsType, 'overlay');
  assert.equal(m[0]?.upperDir?.toString(), '/var/lib/containers/storage/overlay/bb80/diff');
  assert.equal(m[1]?.upperDir, null);
  assert.equal(m[3]?.fsType, 'tmpfs', 'optional fields before the separator');
  assert.equal(m[6]?.mountPoint, '/my data');
  assert.equal(m[6]?.root.toString(), '/srv/data');
  assert.equal(m[7]?.upperDir?.toString(), '/up,per');
  assert.deepEqual(parseMountinfo(new Uint8Array(0)), []);
});

test('the longest mount point holding a path wins; among equals the last mounted (it covers the others)', () => {
  const m = parseMountinfo(CONTAINER);
  assert.equal(mountOf(m, '/bin/busybox')?.fsType, 'overlay');
  assert.equal(mountOf(m, '/tmp/x/payload')?.mountPoint, '/tmp');
  assert.equal(mountOf(m, '/tmpfoo/x')?.mountPoint, '/', 'a prefix of a name is not a parent directory');
  assert.equal(mountOf(m, '/dev/shm/x')?.fsType, 'ramfs', 'ramfs stacked over the tmpfs');
  assert.equal(mountOf(m, '/my data/run')?.mountPoint, '/my data');
  assert.equal(mountOf(m, 'relative'), null);
  assert.equal(mountOf([], '/bin/sh'), null);
  for (const t of ['tmpfs', 'ramfs', 'devtmpfs']) assert.ok(MEMORY_FILE_SYSTEMS.has(t));
  assert.ok(!MEMORY_FILE_SYSTEMS.has('overlay'));
});
