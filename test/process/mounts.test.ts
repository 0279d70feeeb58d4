import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  type ExecutableMount,
  MEMORY_FILE_SYSTEMS,
  MountTables,
  type MountUnknown,
  mountOf,
  parseMountinfo,
} from '../../src/process/mounts.js';

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

const kindOf = (r: ExecutableMount | MountUnknown | null): string | null => (r !== null && typeof r === 'object' ? r.kind : r);

/** A fake /proc (pids with mountinfo and ns/mnt) and a fake host root holding an upperdir. */
function fakeHost(): { proc: string; hostRoot: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'cnproc-mounts-'));
  const proc = join(base, 'proc');
  const hostRoot = join(base, 'host');
  const upper = join(hostRoot, 'var/lib/containers/storage/overlay/ab/diff');
  mkdirSync(join(upper, 'added'), { recursive: true });
  writeFileSync(join(upper, 'added', 'tool'), '');
  const mountinfo = [
    '73 48 0:40 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/var/lib/containers/storage/overlay/ab/diff,workdir=/w',
    '78 73 0:47 / /tmp rw - tmpfs tmpfs rw',
    '80 73 0:48 / /elsewhere rw - overlay overlay rw,upperdir=/not/here,workdir=/w2',
    '',
  ].join('\n');
  for (const [pid, ns] of [
    ['100', 'mnt:[4026532500]'],
    ['101', 'mnt:[4026532500]'],
    ['200', 'mnt:[4026532999]'],
  ] as const) {
    mkdirSync(join(proc, pid, 'ns'), { recursive: true });
    writeFileSync(join(proc, pid, 'mountinfo'), mountinfo);
    symlinkSync(ns, join(proc, pid, 'ns', 'mnt'));
  }
  return { proc, hostRoot, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

test('mount tables: tmpfs and upper-layer programs flagged with their evidence, image programs not, unknowns named', () => {
  const h = fakeHost();
  const m = new MountTables({ procRoot: h.proc, hostRoot: h.hostRoot });
  try {
    const ns = 4026532500;
    const added = m.locate(100, 1, ns, '/added/tool', 0);
    assert.deepEqual(added, {
      kind: 'upper_layer',
      mountPoint: '/',
      fsType: 'overlay',
      upperDir: '/var/lib/containers/storage/overlay/ab/diff',
    });
    assert.equal(m.locate(100, 1, ns, '/bin/busybox', 0), null, 'in a lower layer: the image’s');
    assert.equal(kindOf(m.locate(100, 1, ns, '/tmp/x', 0)), 'tmpfs');
    assert.equal(m.locate(100, 1, ns, '/tmp/x', 0), m.locate(100, 1, ns, '/tmp/y', 0), 'one evidence object per mount');
    assert.equal(m.locate(100, 1, ns, '/elsewhere/x', 0), 'upper_unreachable');
    assert.equal(m.locate(100, 1, ns, 'relative', 0), 'unmatched');
    // A namespace no live process is in: gone. A pid now in another namespace: not used for this one.
    assert.equal(m.locate(300, 301, 4026532777, '/bin/sh', 0), 'gone');
    assert.equal(m.locate(200, null, 4026532777, '/bin/sh', 0), 'gone', 'pid 200 is in another namespace');
    const s = m.stats();
    assert.deepEqual([s.namespaces, s.reads, s.unknown], [1, 1, 4]);
  } finally {
    m.close();
    h.cleanup();
  }
});

test('mount tables: opened through the last process seen in a namespace when the exec’ing one and its parent are gone; idle ones closed', () => {
  const h = fakeHost();
  const m = new MountTables({ procRoot: h.proc, hostRoot: h.hostRoot, idleMs: 1000 });
  try {
    const ns = 4026532500;
    assert.equal(kindOf(m.locate(101, 1, ns, '/tmp/a', 0)), 'tmpfs');
    // 60 s later the table was closed as idle; pid 900 and its parent 901 are gone, 101 is still there.
    assert.equal(m.locate(900, 901, 4026532999, '/x', 20_000), 'gone');
    assert.equal(m.stats().open, 0, 'the idle table was closed');
    assert.equal(kindOf(m.locate(900, 901, ns, '/tmp/a', 20_001)), 'tmpfs');
    assert.equal(m.stats().namespaces, 2);
  } finally {
    m.close();
    h.cleanup();
  }
});
