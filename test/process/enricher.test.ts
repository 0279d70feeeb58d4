import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcEvent } from '../../src/kernel/events.js';
import { type Attachment, EXEC_FILE_ORDER, ProcFile, ReadStatus, type ReadStatusValue } from '../../src/kernel/proc-files.js';
import { Enricher } from '../../src/process/enricher.js';
import { type HostClock, processEntityId } from '../../src/process/identity.js';
import type { HostNamespaces } from '../../src/process/namespaces.js';

const host: HostClock = { bootId: '11111111-2222-3333-4444-555555555555', bootTimeS: 1_795_000_000, ticksPerSecond: 100 };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hdr = (pid: number, tgid: number, sec: number) => ({ cpu: 0, seq: 0, ktimeNs: 0n, time: [sec, 0] as [number, number], pid, tgid });

function stat(pid: number, comm: string, ppid: number, startTicks: number): Attachment {
  return {
    file: ProcFile.stat,
    status: ReadStatus.ok,
    bytes: enc(`${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${startTicks} 0 0`),
  };
}
function execSnap(pid: number, ppid: number, startTicks: number, exe: string, argv: string[], uid = 1000): Attachment[] {
  return [
    { file: ProcFile.cmdline, status: ReadStatus.ok, bytes: enc(`${argv.join('\0')}\0`) },
    { file: ProcFile.exe, status: ReadStatus.ok, bytes: enc(exe) },
    stat(pid, exe.split('/').pop() as string, ppid, startTicks),
    { file: ProcFile.status, status: ReadStatus.ok, bytes: enc(`Uid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t100\t100\t100\t100\n`) },
    { file: ProcFile.cwd, status: ReadStatus.ok, bytes: enc('/home/alice') },
    { file: ProcFile.cgroup, status: ReadStatus.ok, bytes: enc(`0::/system.slice/docker-${'c'.repeat(64)}.scope\n`) },
    { file: ProcFile.loginuid, status: ReadStatus.ok, bytes: enc('1000') },
    { file: ProcFile.sessionid, status: ReadStatus.ok, bytes: enc('4294967295') },
  ];
}
const gone = (): Attachment[] =>
  EXEC_FILE_ORDER.map((file) => ({
    file,
    status: ReadStatus.gone,
    bytes: new Uint8Array(0),
  }));

function fork(child: number, parent: number, sec: number): ProcEvent {
  return { ...hdr(child, child, sec), kind: 'fork', parentPid: parent, parentTgid: parent, isThread: false };
}
function exec(pid: number, sec: number): ProcEvent {
  return { ...hdr(pid, pid, sec), kind: 'exec' };
}
function exit(pid: number, ppid: number, sec: number, status = 0): ProcEvent {
  return {
    ...hdr(pid, pid, sec),
    kind: 'exit',
    status,
    exitCode: status >> 8,
    signal: null,
    coreDumped: false,
    exitSignal: 17,
    parentPid: ppid,
    parentTgid: ppid,
    isThread: false,
  };
}

test('fork → exec → uid → exit: inherited, replaced, previous values, lifetime, released', () => {
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100 });
  en.enrich(fork(10, 1, 100), [stat(10, 'bash', 1, 500)]);
  en.enrich(exec(10, 100), execSnap(10, 1, 500, '/usr/bin/bash', ['bash', '-l']));

  const f = en.enrich(fork(20, 10, 200), [stat(20, 'bash', 10, 10_000)]);
  assert.equal(f.process?.exe, '/usr/bin/bash', 'the child runs the parent program until exec');
  assert.equal(f.process?.entityId, processEntityId(host.bootId, 20, 10_000));
  assert.equal(f.process?.parentEntityId, processEntityId(host.bootId, 10, 500));
  assert.deepEqual(f.process?.startTime, [200, 0], 'start = the fork event time');

  const x = en.enrich(exec(20, 201), execSnap(20, 10, 10_000, '/usr/bin/curl', ['curl', '-s', 'a b']));
  const p = x.process;
  assert.ok(p);
  assert.equal(p.exe, '/usr/bin/curl');
  assert.deepEqual(p.argv, ['curl', '-s', 'a b']);
  assert.equal(p.cwd, '/home/alice');
  assert.deepEqual([p.ruid, p.euid, p.suid, p.rgid], [1000, 1000, 1000, 100]);
  assert.equal(p.loginUid, 1000);
  assert.equal(p.auditSessionId, null, '4294967295 means unset');
  assert.equal(p.containerId, 'c'.repeat(64));
  assert.equal(p.entityId, f.process?.entityId, 'exec keeps the process id');
  assert.deepEqual(p.missing, []);
  assert.deepEqual(x.ancestors, ['/usr/bin/bash']);
  assert.equal(x.parent?.tgid, 10);

  const u = en.enrich({ ...hdr(20, 20, 202), kind: 'uid', ruid: 0, euid: 0 }, undefined);
  assert.deepEqual(u.previous, { ruid: 1000, euid: 1000 });
  assert.deepEqual([u.process?.ruid, u.process?.euid], [0, 0]);
  assert.equal(x.process?.ruid, 1000, 'the earlier record is not changed by the later event');

  const e = en.enrich(exit(20, 10, 203, 768), undefined);
  assert.equal(e.process?.exe, '/usr/bin/curl', 'an exit carries what was known at exec');
  assert.equal(e.lifetimeNs, 3e9);
  assert.equal(en.table.peek(20), undefined, 'released after exit');
});

test('a uid change the exec snapshot already saw: the old ids are unknown, not reported as the new ones', () => {
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100 });
  en.enrich(fork(40, 1, 100), [stat(40, 'setpriv', 1, 800)]);
  // The snapshot says uid 1000 (it was read after setpriv switched); the kernel then reports the switch to 1000.
  en.enrich(exec(40, 101), execSnap(40, 1, 800, '/usr/bin/setpriv', ['setpriv', '--reuid', '1000']));
  const u = en.enrich({ ...hdr(40, 40, 102), kind: 'uid', ruid: 1000, euid: 1000 }, undefined);
  assert.deepEqual(u.previous, { ruid: null, euid: null });
  assert.deepEqual([u.process?.ruid, u.process?.euid], [1000, 1000]);
});

test('comm and sid changes the snapshot already saw: the old value is unknown, a real change keeps it', () => {
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100 });
  // The exec snapshot was read after prctl(PR_SET_NAME): it already says "renamed".
  en.enrich(exec(70, 1), execSnap(70, 1, 70, '/usr/bin/python3', ['python3']));
  const stale = en.enrich({ ...hdr(70, 70, 2), kind: 'comm', comm: 'python3' }, undefined);
  assert.deepEqual(stale.previous, { comm: null });
  const real = en.enrich({ ...hdr(70, 70, 3), kind: 'comm', comm: 'worker' }, undefined);
  assert.deepEqual(real.previous, { comm: 'python3' });
  assert.equal(real.process?.comm, 'worker');
  // setsid: the snapshot (read after it) already shows the process as its own session leader.
  en.enrich(exec(71, 4), [...execSnap(71, 1, 71, '/usr/bin/setsid', ['setsid', 'sh'])]);
  const s1 = en.enrich({ ...hdr(71, 71, 5), kind: 'sid' }, undefined);
  assert.equal(s1.process?.sid, 71);
  const s2 = en.enrich({ ...hdr(71, 71, 6), kind: 'sid' }, undefined);
  assert.deepEqual(s2.previous, { sid: null });
});

test('an exec whose process is already gone: fields flagged missing, nothing inherited shown as current', () => {
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100 });
  en.enrich(fork(30, 1, 100), [stat(30, 'sh', 1, 700)]);
  en.enrich(exec(30, 100), execSnap(30, 1, 700, '/bin/sh', ['sh']));
  const x = en.enrich(exec(30, 101), gone());
  assert.equal(x.process?.exe, null);
  assert.equal(x.process?.argv, null);
  assert.equal(x.process?.comm, null);
  assert.deepEqual(x.process?.missing, [
    'argv:gone',
    'exe:gone',
    'executable_file:gone',
    'stat:gone',
    'ids:gone',
    'cwd:gone',
    'cgroup:gone',
    'login_uid:gone',
    'audit_session_id:gone',
  ]);
  assert.equal(x.process?.entityId, processEntityId(host.bootId, 30, 700), 'identity survives');
  assert.equal(en.stats().execIncomplete, 1);
});

test('a zombie: stat kept, cmdline empty → argv flagged, comm from stat', () => {
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100 });
  const snap: Attachment[] = [
    { file: ProcFile.cmdline, status: ReadStatus.ok, bytes: new Uint8Array(0) },
    { file: ProcFile.exe, status: ReadStatus.gone, bytes: new Uint8Array(0) },
    stat(40, 'true', 1, 900),
  ];
  const x = en.enrich(exec(40, 100), snap);
  assert.equal(x.process?.comm, 'true');
  assert.deepEqual(x.process?.missing, ['argv:empty', 'exe:gone']);
});

test('pid reuse: same pid, different start time → different id', () => {
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100 });
  const a = en.enrich(fork(50, 1, 100), [stat(50, 'a', 1, 1000)]).process?.entityId;
  en.enrich(exit(50, 1, 101), undefined);
  const b = en.enrich(fork(50, 1, 500), [stat(50, 'b', 1, 41_000)]).process?.entityId;
  assert.ok(a && b);
  assert.notEqual(a, b);
  assert.match(a, /^[0-9a-f]{32}$/);
});

test('ancestry stops at the configured depth and at unknown parents', () => {
  const en = new Enricher(host, { ancestryDepth: 2, maxProcesses: 100 });
  en.enrich(exec(1, 1), execSnap(1, 0, 1, '/sbin/init', ['init']));
  en.enrich(fork(2, 1, 2), [stat(2, 'init', 1, 2)]);
  en.enrich(exec(2, 2), execSnap(2, 1, 2, '/usr/sbin/sshd', ['sshd']));
  en.enrich(fork(3, 2, 3), [stat(3, 'sshd', 2, 3)]);
  en.enrich(exec(3, 3), execSnap(3, 2, 3, '/usr/bin/bash', ['bash']));
  en.enrich(fork(4, 3, 4), [stat(4, 'bash', 3, 4)]);
  const x = en.enrich(exec(4, 4), execSnap(4, 3, 4, '/usr/bin/vim', ['vim']));
  assert.deepEqual(x.ancestors, ['/usr/bin/bash', '/usr/sbin/sshd']);
  const deep = new Enricher(host, { ancestryDepth: 8, maxProcesses: 100 });
  deep.enrich(exec(3, 3), execSnap(3, 2, 3, '/usr/bin/bash', ['bash']));
  deep.enrich(fork(4, 3, 4), [stat(4, 'bash', 3, 4)]);
  assert.deepEqual(deep.enrich(exec(4, 4), execSnap(4, 3, 4, '/usr/bin/vim', ['vim'])).ancestors, ['/usr/bin/bash']);
});

test('threads do not create processes; comm of a non-leader thread leaves the process name', () => {
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100 });
  en.enrich(exec(60, 1), execSnap(60, 1, 60, '/usr/bin/node', ['node']));
  en.enrich({ ...hdr(61, 60, 2), kind: 'fork', parentPid: 60, parentTgid: 60, isThread: true }, undefined);
  assert.equal(en.table.size, 1);
  const c = en.enrich({ ...hdr(61, 60, 3), kind: 'comm', comm: 'worker' }, undefined);
  assert.equal(c.process?.comm, 'node');
  const t = en.enrich(
    {
      ...hdr(61, 60, 4),
      kind: 'exit',
      status: 0,
      exitCode: 0,
      signal: null,
      coreDumped: false,
      exitSignal: -1,
      parentPid: 1,
      parentTgid: 1,
      isThread: true,
    },
    undefined,
  );
  assert.equal(t.process?.tgid, 60);
  assert.equal(en.table.size, 1, 'a thread exit does not release the process');
});

test('seed keeps entries learned from events since subscribing', () => {
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100 });
  en.enrich(exec(70, 1), execSnap(70, 1, 70, '/new', ['new']));
  en.seed([{ ...(en.table.peek(70) as NonNullable<ReturnType<typeof en.table.peek>>), exe: '/old' }]);
  assert.equal(en.table.peek(70)?.exe, '/new');
});

test('namespace links: inodes, the non-host types, a fork-and-exec in the same namespaces shares one object; bad links are flagged', () => {
  const hostNs: HostNamespaces = {
    inodes: { pid: 1, mnt: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7, time: 8 },
    sources: {
      pid: 'kernel',
      mnt: 'kernel',
      net: 'kernel',
      user: 'kernel',
      uts: 'kernel',
      ipc: 'kernel',
      cgroup: 'kernel',
      time: 'kernel',
    },
  };
  const links = (net: string, status: ReadStatusValue = ReadStatus.ok): Attachment[] => [
    { file: ProcFile.nsMnt, status: ReadStatus.ok, bytes: enc('mnt:[2]') },
    { file: ProcFile.nsPid, status: ReadStatus.ok, bytes: enc('pid:[1]') },
    { file: ProcFile.nsNet, status, bytes: status === ReadStatus.ok ? enc(net) : new Uint8Array(0) },
    { file: ProcFile.nsUser, status: ReadStatus.ok, bytes: enc('user:[4]') },
    { file: ProcFile.nsUts, status: ReadStatus.ok, bytes: enc('uts:[55]') },
    { file: ProcFile.nsIpc, status: ReadStatus.ok, bytes: enc('ipc:[6]') },
    { file: ProcFile.nsCgroup, status: ReadStatus.ok, bytes: enc('cgroup:[7]') },
    { file: ProcFile.nsTime, status: ReadStatus.ok, bytes: enc('time:[8]') },
  ];
  const en = new Enricher(host, { ancestryDepth: 4, maxProcesses: 100, hostNamespaces: hostNs });
  const a = en.enrich(exec(80, 1), [...execSnap(80, 1, 80, '/bin/sh', ['sh']), ...links('net:[33]')]).process;
  assert.deepEqual(a?.namespaces, { pid: 1, mnt: 2, net: 33, user: 4, uts: 55, ipc: 6, cgroup: 7, time: 8, nonHost: ['net', 'uts'] });
  assert.equal(a?.mntNs, 2);
  en.enrich(fork(81, 80, 2), [stat(81, 'sh', 80, 81)]);
  const b = en.enrich(exec(81, 3), [...execSnap(81, 80, 81, '/bin/true', ['true']), ...links('net:[33]')]).process;
  assert.equal(b?.namespaces, a?.namespaces, 'the same namespaces: the same object');
  const c = en.enrich(exec(81, 4), [...execSnap(81, 80, 81, '/bin/true', ['true']), ...links('net:[3]')]).process;
  assert.deepEqual(c?.namespaces?.nonHost, ['uts']);
  const bad = en.enrich(exec(82, 5), [...execSnap(82, 1, 82, '/bin/x', ['x']), ...links('garbage')]).process;
  assert.equal(bad?.namespaces?.net, null);
  assert.ok(bad?.missing.includes('ns_net:unreadable'));
  const gone = en.enrich(exec(83, 6), [...execSnap(83, 1, 83, '/bin/x', ['x']), ...links('', ReadStatus.gone)]).process;
  assert.ok(gone?.missing.includes('ns_net:gone'));
  assert.deepEqual(gone?.namespaces?.nonHost, ['uts'], 'the unknown one is not claimed either way');
  // Without the ns links (process.namespaces off): nothing, not an empty set.
  assert.equal(en.enrich(exec(84, 7), execSnap(84, 1, 84, '/bin/x', ['x'])).process?.namespaces, null);
});
