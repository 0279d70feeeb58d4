import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventFilter } from '../../src/filter/filter.js';
import type { ProcEvent } from '../../src/kernel/events.js';
import type { ExecutableFile } from '../../src/process/executable-hash.js';
import { type EnrichedEvent, type ProcessInfo, unknownProcess } from '../../src/process/model.js';
import type { Workload } from '../../src/process/workload.js';

const names = {
  userName: (uid: number) => ({ 0: 'root', 1000: 'alice' })[uid],
  groupName: (gid: number) => ({ 0: 'root', 100: 'users' })[gid],
};
const hdr = { cpu: 0, seq: 0, ktimeNs: 0n, time: [0, 0] as [number, number], pid: 10, tgid: 10 };
const base: ProcessInfo = {
  ...unknownProcess(10, 9),
  exe: '/usr/bin/curl',
  comm: 'curl',
  argv: ['curl', '-s', 'https://example.com'],
  euid: 1000,
  egid: 100,
  loginUid: 1000,
  cgroup: '/user.slice/user-1000.slice/session-2.scope',
};
function x(
  e: Partial<ProcEvent> & { kind: ProcEvent['kind'] },
  p: Partial<ProcessInfo> = {},
  ancestors = ['/usr/bin/bash', '/usr/sbin/sshd'],
): EnrichedEvent {
  return {
    event: { ...hdr, ...e } as ProcEvent,
    process: { ...base, ...p },
    parent: { ...unknownProcess(9, 1), exe: ancestors[0] ?? null },
    ancestors,
    previous: undefined,
    tracer: undefined,
    lifetimeNs: null,
  };
}
const exec = (p: Partial<ProcessInfo> = {}, anc?: string[]) => x({ kind: 'exec' }, p, anc);
const exit = (status: number, exitCode: number | null) =>
  x({
    kind: 'exit',
    status,
    exitCode,
    signal: exitCode === null ? status & 0x7f : null,
    coreDumped: false,
    exitSignal: 17,
    parentPid: 9,
    parentTgid: 9,
    isThread: false,
  });
const keeps = (match: Record<string, unknown>, ev: EnrichedEvent): boolean =>
  new EventFilter([{ action: 'keep', match }], 'drop', names).keep(ev);

test('each match field', () => {
  assert.ok(keeps({ events: ['exec'] }, exec()));
  assert.ok(!keeps({ events: ['fork'] }, exec()));
  assert.ok(keeps({ executable: '/usr/bin/*' }, exec()));
  assert.ok(!keeps({ executable: '/bin/*' }, exec()));
  assert.ok(!keeps({ executable: '*' }, exec({ exe: null })), 'an unknown executable never matches');
  assert.ok(keeps({ executableRegex: '^/usr/(s?bin)/cu' }, exec()));
  assert.ok(keeps({ comm: 'cu*' }, exec()));
  assert.ok(keeps({ comm: 'new*' }, x({ kind: 'comm', comm: 'newname' })), 'comm events match the new name');
  assert.ok(keeps({ argv: 'https://example\\.com' }, exec()));
  assert.ok(keeps({ argv: '(?i)EXAMPLE' }, exec()));
  assert.ok(!keeps({ argv: 'evil' }, exec()));
  assert.ok(keeps({ user: 'alice' }, exec()));
  assert.ok(keeps({ user: [0, 1000] }, exec()));
  assert.ok(!keeps({ user: 'root' }, exec()));
  assert.ok(keeps({ user: 'root' }, x({ kind: 'uid', ruid: 0, euid: 0 })), 'uid events match the new uid');
  assert.ok(keeps({ group: 'users' }, exec()));
  assert.ok(keeps({ loginUser: 'human' }, exec()));
  assert.ok(keeps({ loginUser: 'daemon' }, exec({ loginUid: null })));
  assert.ok(keeps({ loginUser: ['alice'] }, exec()));
  assert.ok(keeps({ container: false }, exec()));
  assert.ok(keeps({ container: true }, exec({ containerId: 'ab'.repeat(32) })));
  assert.ok(keeps({ container: ['abab'] }, exec({ containerId: 'ab'.repeat(32) })));
  assert.ok(!keeps({ container: ['ffff'] }, exec({ containerId: 'ab'.repeat(32) })));
  assert.ok(keeps({ cgroup: '/user.slice/*' }, exec()));
  assert.ok(keeps({ parent: '/usr/bin/bash' }, exec()));
  assert.ok(!keeps({ parent: '/usr/sbin/sshd' }, exec()));
  assert.ok(keeps({ ancestor: '/usr/sbin/sshd' }, exec()));
  assert.ok(keeps({ exitCode: 'nonzero' }, exit(768, 3)));
  assert.ok(keeps({ exitCode: 'nonzero' }, exit(9, null)), 'a signal death is non-zero');
  assert.ok(!keeps({ exitCode: 'nonzero' }, exit(0, 0)));
  assert.ok(keeps({ exitCode: [3, 4] }, exit(768, 3)));
  assert.ok(!keeps({ exitCode: 'nonzero' }, exec()), 'exitCode conditions only match exits');
  const thread = x({ kind: 'fork', pid: 11, parentPid: 10, parentTgid: 10, isThread: true });
  assert.ok(keeps({ thread: true }, thread));
  assert.ok(keeps({ thread: false }, exec()));
});

test('workload fields: container name, image (name or name:tag), Kubernetes namespace and pod', () => {
  const w: Workload = {
    containerId: 'ab'.repeat(32),
    runtime: 'containerd',
    containerName: 'server',
    imageName: 'registry.example.com/shop/server',
    imageTag: '2.3.1',
    imageId: null,
    podUid: null,
    podName: 'shop-server-7d9f8-abcde',
    namespace: 'shop',
    k8sContainerName: 'server',
    unresolved: null,
  };
  const inPod = { ...exec({ containerId: w.containerId }), workload: w };
  assert.ok(keeps({ containerName: 'serv*' }, inPod));
  assert.ok(!keeps({ containerName: 'web' }, inPod));
  assert.ok(keeps({ image: 'registry.example.com/shop/*' }, inPod));
  assert.ok(keeps({ image: '*/server:2.*' }, inPod), 'name:tag');
  assert.ok(!keeps({ image: '*:latest' }, inPod));
  assert.ok(keeps({ namespace: ['kube-system', 'shop'] }, inPod));
  assert.ok(keeps({ pod: 'shop-server-*' }, inPod));
  assert.ok(keeps({ namespace: 'shop', image: '*server*', events: ['exec'] }, inPod), 'AND of workload fields');
  for (const k of ['containerName', 'image', 'namespace', 'pod']) {
    assert.ok(!keeps({ [k]: '*' }, exec()), `${k}: a host process (no workload) never matches`);
    const unnamed = { ...inPod, workload: { ...w, containerName: null, imageName: null, podName: null, namespace: null } };
    assert.ok(!keeps({ [k]: '*' }, unnamed), `${k}: an unresolved container never matches (flagged, not guessed)`);
  }
  assert.throws(() => keeps({ namespace: '' }, inPod), /match\.namespace: must be a glob/);
});

test('first match wins, default applies, hits are counted per rule', () => {
  const f = new EventFilter(
    [
      { name: 'drop-curl-as-root', action: 'drop', match: { executable: '/usr/bin/curl', user: 'root' } },
      { name: 'keep-curl', action: 'keep', match: { executable: '/usr/bin/curl' } },
      { name: 'drop-all-exec', action: 'drop', match: { events: ['exec'] } },
    ],
    'keep',
    names,
  );
  assert.equal(f.keep(exec({ euid: 0 })), false);
  assert.equal(f.keep(exec()), true);
  assert.equal(f.keep(exec({ exe: '/usr/bin/wget' })), false);
  assert.equal(f.keep({ ...exit(0, 0), process: { ...base, exe: '/bin/true' } }), true, 'default keep');
  const s = f.stats();
  assert.deepEqual(
    s.rules.map((r) => r.hits),
    [1, 1, 1],
  );
  assert.equal(s.defaultHits, 1);
  assert.deepEqual([s.kept, s.dropped], [2, 2]);
});

test('pushdown: the types no rule can keep leave the subscription', () => {
  const sub = (rules: unknown[], def: 'keep' | 'drop') => new EventFilter(rules, def, names).subscription();
  assert.deepEqual(sub([], 'keep'), {
    events: ['fork', 'exec', 'uid', 'gid', 'sid', 'ptrace', 'comm', 'coredump', 'exit'],
    exitNonzeroOnly: false,
  });
  assert.deepEqual(sub([{ action: 'keep', match: { events: ['exec'], user: 'root' } }], 'drop'), {
    events: ['exec'],
    exitNonzeroOnly: false,
  });
  // An unconditional drop decides its types, unless an earlier rule can keep them.
  assert.deepEqual(sub([{ action: 'drop', match: { events: ['fork', 'comm'] } }], 'keep').events, [
    'exec',
    'uid',
    'gid',
    'sid',
    'ptrace',
    'coredump',
    'exit',
  ]);
  assert.deepEqual(
    sub(
      [
        { action: 'keep', match: { events: ['fork'], user: 'root' } },
        { action: 'drop', match: { events: ['fork'] } },
      ],
      'drop',
    ).events,
    ['fork'],
  );
  // Only non-zero exits can be kept: the kernel's NONZERO_EXIT filter does the rest.
  assert.deepEqual(sub([{ action: 'keep', match: { events: ['exit'], exitCode: 'nonzero' } }], 'drop'), {
    events: ['exit'],
    exitNonzeroOnly: true,
  });
  assert.equal(
    sub(
      [
        { action: 'keep', match: { events: ['exit'], exitCode: 'nonzero' } },
        { action: 'keep', match: { events: ['exit'], user: 'root' } },
      ],
      'drop',
    ).exitNonzeroOnly,
    false,
  );
  assert.deepEqual(sub([{ action: 'drop', match: {} }], 'keep').events, [], 'drop everything');
});

test('security conditions: escalated, escalation mechanism, capability, privileged', () => {
  const setuid = {
    ...exec({ euid: 0, ruid: 1000, capEffective: 0x1ffffffffff }),
    escalation: { mechanisms: ['setuid'] as const, gained: 0, previousEuid: 1000, previousEgid: 100 },
  };
  const raw = {
    ...exec({ capEffective: 0x2000, capPermitted: 0x2000 }),
    escalation: { mechanisms: ['file_capabilities'] as const, gained: 0x2000, previousEuid: 1000, previousEgid: 100 },
  };
  const plain = exec({ capEffective: 0, capPermitted: 0 });
  assert.ok(keeps({ escalated: true }, setuid));
  assert.ok(!keeps({ escalated: true }, plain));
  assert.ok(keeps({ escalated: false }, plain));
  assert.ok(keeps({ escalation: 'setuid' }, setuid));
  assert.ok(!keeps({ escalation: ['setgid', 'file_capabilities'] }, setuid));
  assert.ok(keeps({ escalation: ['setgid', 'file_capabilities'] }, raw));
  assert.ok(!keeps({ escalation: 'setuid' }, plain));
  assert.ok(keeps({ capability: 'cap_net_raw' }, raw));
  assert.ok(keeps({ capability: ['SYS_ADMIN', 'cap_bpf'] }, setuid));
  assert.ok(!keeps({ capability: 'cap_sys_admin' }, raw));
  assert.ok(!keeps({ capability: 'cap_chown' }, plain));
  assert.ok(keeps({ privileged: true }, setuid));
  assert.ok(keeps({ privileged: false }, raw));
  // Unknown capabilities (after a uid change): neither condition holds.
  const unknown = exec({ capEffective: null });
  assert.ok(!keeps({ privileged: true }, unknown));
  assert.ok(!keeps({ privileged: false }, unknown));
  assert.ok(!keeps({ capability: 'cap_chown' }, unknown));
  assert.ok(keeps({ fileless: true }, exec({ exe: '/memfd:x (deleted)' })));
  assert.ok(keeps({ fileless: true }, exec({ exe: '/tmp/x (deleted)' })));
  assert.ok(keeps({ fileless: false }, plain));
  assert.ok(!keeps({ fileless: true }, plain));
  assert.ok(!keeps({ fileless: false }, exec({ exe: null })), 'unknown executable: neither');
  // The executable's mount: flagged, ordinary (known), unknown (lookup failed, or not read).
  const onTmpfs = exec({ mntNs: 7, exeMount: { kind: 'tmpfs', mountPoint: '/dev/shm', fsType: 'tmpfs', upperDir: null } });
  const upper = exec({ mntNs: 8, exeMount: { kind: 'upper_layer', mountPoint: '/', fsType: 'overlay', upperDir: '/u' } });
  const ordinary = exec({ mntNs: 7 });
  const lookupFailed = exec({ mntNs: 9, missing: ['exe_mount:gone'] });
  assert.ok(keeps({ tmpfs: true }, onTmpfs));
  assert.ok(!keeps({ tmpfs: true }, upper));
  assert.ok(keeps({ tmpfs: false }, upper));
  assert.ok(keeps({ tmpfs: false }, ordinary));
  assert.ok(keeps({ upperLayer: true }, upper));
  assert.ok(keeps({ upperLayer: false }, ordinary));
  for (const unknownMount of [lookupFailed, plain]) {
    assert.ok(!keeps({ tmpfs: false }, unknownMount) && !keeps({ tmpfs: true }, unknownMount), 'unknown mount: neither');
    assert.ok(!keeps({ upperLayer: false }, unknownMount));
  }
  const ns = { pid: 1, mnt: 2, net: 3, user: 4, uts: 5, ipc: 6, cgroup: 7, time: 8 };
  const unshared = exec({ namespaces: { ...ns, nonHost: ['net', 'uts'] } });
  assert.ok(keeps({ nonHostNamespace: 'net' }, unshared));
  assert.ok(keeps({ nonHostNamespace: ['pid', 'uts'] }, unshared));
  assert.ok(!keeps({ nonHostNamespace: 'pid' }, unshared));
  assert.ok(!keeps({ nonHostNamespace: 'net' }, plain), 'namespaces not read');
  assert.ok(!keeps({ nonHostNamespace: 'net' }, exec({ namespaces: { ...ns, nonHost: null } })), 'host unknown');
  // ptrace and uid_change escalations on their own records.
  const attach = {
    ...x({ kind: 'ptrace', tracerPid: 30, tracerTgid: 30, attach: true } as Partial<ProcEvent> & { kind: 'ptrace' }),
    escalation: { mechanisms: ['ptrace'] as const, gained: 1, previousEuid: 65534, previousEgid: null },
  };
  assert.ok(keeps({ escalated: true }, attach));
  assert.ok(keeps({ escalation: 'ptrace' }, attach));
  assert.ok(!keeps({ escalation: 'uid_change' }, attach));
  // docs/filter.md's build-server example: intrusions kept, the toolchain's churn dropped.
  const server = new EventFilter(
    [
      { name: 'escalations', action: 'keep', match: { escalated: true } },
      { name: 'dropped-in-programs', action: 'keep', match: { events: ['exec', 'exit'], tmpfs: true } },
      { name: 'container-additions', action: 'keep', match: { events: ['exec', 'exit'], upperLayer: true } },
      { name: 'toolchain', action: 'drop', match: { ancestor: ['/usr/bin/make'] } },
    ],
    'keep',
    names,
  );
  const underMake = ['/usr/bin/make'];
  assert.ok(server.keep({ ...onTmpfs, ancestors: underMake }));
  assert.ok(server.keep({ ...upper, ancestors: underMake }));
  assert.ok(server.keep({ ...setuid, ancestors: underMake }));
  assert.ok(!server.keep({ ...ordinary, ancestors: underMake }));
  // A rule to keep every escalating exec and drop the rest of a build server.
  const f = new EventFilter(
    [
      { name: 'escalations', action: 'keep', match: { escalated: true } },
      { name: 'build', action: 'drop', match: { ancestor: '*/make' } },
    ],
    'keep',
    names,
  );
  assert.ok(f.keep({ ...setuid, ancestors: ['/usr/bin/make'] }));
  assert.ok(!f.keep(exec({}, ['/usr/bin/make'])));
});

test('executable file conditions: sha256 once hashed, build id from the exec', () => {
  const file = (over: Partial<ExecutableFile>): ExecutableFile => ({
    dev: 1,
    devMajor: 0,
    devMinor: 1,
    ino: 5n,
    size: 10,
    mode: 0o100755,
    uid: 0,
    gid: 0,
    nlink: 1,
    mtimeNs: 0n,
    ctimeNs: 0n,
    buildId: 'c0ffee',
    buildIdMissing: null,
    sha256: 'ab'.repeat(32),
    hashState: 'hashed',
    ...over,
  });
  const hashed = exec({ exeFile: file({}) });
  // The program file writable by its own user: owner bit for the owner, group bit for the group, others' otherwise.
  const own = (uid: number, gid: number, mode: number) => file({ uid, gid, mode });
  assert.ok(keeps({ writableByUser: true }, exec({ euid: 1000, egid: 100, exeFile: own(1000, 0, 0o100755) })));
  assert.ok(keeps({ writableByUser: false }, exec({ euid: 1000, egid: 100, exeFile: own(0, 0, 0o100755) })));
  assert.ok(keeps({ writableByUser: true }, exec({ euid: 1000, egid: 100, exeFile: own(0, 100, 0o100775) })));
  assert.ok(keeps({ writableByUser: true }, exec({ euid: 1000, egid: 100, exeFile: own(0, 0, 0o100757) })));
  assert.ok(keeps({ writableByUser: false }, exec({ euid: 0, egid: 0, exeFile: own(0, 0, 0o100755) })), 'never root');
  assert.ok(!keeps({ writableByUser: false }, exec({ exeFile: null })), 'unknown file: neither');
  assert.ok(!keeps({ writableByUser: true }, exec({ exeFile: null })), 'unknown file: neither');
  const pending = exec({ exeFile: file({ sha256: null, hashState: 'pending' }) });
  assert.ok(keeps({ sha256: 'AB'.repeat(32) }, hashed), 'case does not matter');
  assert.ok(keeps({ sha256: ['cd'.repeat(32), 'ab'.repeat(32)] }, hashed));
  assert.ok(!keeps({ sha256: 'cd'.repeat(32) }, hashed));
  assert.ok(!keeps({ sha256: 'ab'.repeat(32) }, pending), 'not hashed yet: does not match');
  assert.ok(!keeps({ sha256: 'ab'.repeat(32) }, exec({})), 'no file read: does not match');
  assert.ok(keeps({ buildId: 'C0FFEE' }, pending));
  assert.ok(!keeps({ buildId: 'c0ffee' }, exec({ exeFile: file({ buildId: null, buildIdMissing: 'none' }) })));
  // Drop a known-good build tool by digest, keep everything else.
  const f = new EventFilter([{ action: 'drop', match: { events: ['exec', 'exit'], sha256: 'ab'.repeat(32) } }], 'keep', names);
  assert.ok(!f.keep(hashed));
  assert.ok(f.keep(pending));
});
