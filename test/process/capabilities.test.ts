import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CAPABILITY_NAMES,
  capabilityNames,
  capabilityNumber,
  FULL_CAPABILITY_SET,
  gainedCapabilities,
  hasCapability,
  isPrivileged,
  parseStatusCapabilities,
} from '../../src/process/capabilities.js';
import { EscalationTracker, escalationOf } from '../../src/process/escalation.js';
import { type ProcessInfo, unknownProcess } from '../../src/process/model.js';

const enc = new TextEncoder();
const status = (prm: string, eff: string): Uint8Array =>
  enc.encode(
    `Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapPrm:\t${prm}\nCapEff:\t${eff}\nCapBnd:\t000001ffffffffff\n`,
  );

test('the table names the 41 capabilities of capability.h in order', () => {
  assert.equal(CAPABILITY_NAMES.length, 41);
  assert.equal(CAPABILITY_NAMES[0], 'cap_chown');
  assert.equal(CAPABILITY_NAMES[13], 'cap_net_raw');
  assert.equal(CAPABILITY_NAMES[21], 'cap_sys_admin');
  assert.equal(CAPABILITY_NAMES[40], 'cap_checkpoint_restore');
  assert.equal(FULL_CAPABILITY_SET, 0x1ffffffffff);
});

test('CapPrm and CapEff parse to masks; names by number, unknown bits as cap_<n>', () => {
  const c = parseStatusCapabilities(status('000001ffffffffff', '0000000000002000'));
  assert.deepEqual(c, { permitted: 0x1ffffffffff, effective: 0x2000 });
  assert.deepEqual(capabilityNames(0x2000), ['cap_net_raw']);
  assert.deepEqual(capabilityNames(0x1ffffffffff), CAPABILITY_NAMES);
  assert.deepEqual(capabilityNames(0), []);
  // Bits above the table (a newer kernel): named by number, the high word too.
  assert.deepEqual(capabilityNames(2 ** 41 + 2 ** 33 + 1), ['cap_chown', 'cap_mac_admin', 'cap_41']);
  // Upper-case hex, and a 64-bit set whose bits past 52 cannot be kept: the low ones are exact.
  assert.deepEqual(parseStatusCapabilities(status('000001FFFFFFFFFF', 'ffffffffffffffff'))?.effective, 2 ** 52 - 1);
});

test('malformed or missing capability lines give null, not a crash', () => {
  assert.equal(parseStatusCapabilities(enc.encode('Uid:\t0\t0\t0\t0\n')), null);
  assert.equal(parseStatusCapabilities(status('00zz', '0')), null);
  assert.equal(parseStatusCapabilities(status('', '0')), null);
  assert.equal(parseStatusCapabilities(enc.encode('CapPrm:\t0000000000000001\n')), null, 'no CapEff');
  assert.equal(parseStatusCapabilities(new Uint8Array(0)), null);
});

test('capability numbers from names, with or without the prefix, any case', () => {
  assert.equal(capabilityNumber('cap_sys_admin'), 21);
  assert.equal(capabilityNumber('CAP_NET_RAW'), 13);
  assert.equal(capabilityNumber('bpf'), 39);
  assert.equal(capabilityNumber('cap_45'), 45);
  assert.equal(capabilityNumber('cap_nonsense'), -1);
  assert.ok(hasCapability(0x1ffffffffff, 40));
  assert.ok(hasCapability(0x2000, 13));
  assert.ok(!hasCapability(0x2000, 12));
  assert.ok(!hasCapability(0xffffffff, 32));
});

test('gained capabilities across both 32-bit halves', () => {
  assert.equal(gainedCapabilities(0, 0x2000), 0x2000);
  assert.equal(gainedCapabilities(0x2000, 0x2000), 0);
  assert.equal(gainedCapabilities(0x1ffffffffff, 0x2000), 0);
  assert.equal(gainedCapabilities(2 ** 32, 2 ** 32 + 2 ** 39 + 1), 2 ** 39 + 1);
});

test('privileged: the full set, or uid 0 with any capability; not root with none, nor unknown', () => {
  assert.equal(isPrivileged(1000, FULL_CAPABILITY_SET), true);
  assert.equal(isPrivileged(0, 0x1fffeffffff), true);
  assert.equal(isPrivileged(0, 0), false);
  assert.equal(isPrivileged(1000, 0x2000), false);
  assert.equal(isPrivileged(0, null), false);
});

const proc = (o: Partial<ProcessInfo>): ProcessInfo => ({ ...unknownProcess(10, 1), ...o });
const nobody = { ruid: 65534, euid: 65534, rgid: 65534, egid: 65534, capPermitted: 0, capEffective: 0 };

test('escalation: setuid-root file, setgid file, file capabilities; each says which', () => {
  const setuidRoot = escalationOf(proc(nobody), proc({ ...nobody, euid: 0, capPermitted: FULL_CAPABILITY_SET }));
  assert.deepEqual(setuidRoot?.mechanisms, ['setuid']);
  assert.equal(setuidRoot?.gained, FULL_CAPABILITY_SET, 'what the setuid-root exec gained');
  assert.equal(setuidRoot?.previousEuid, 65534);
  const setgid = escalationOf(proc(nobody), proc({ ...nobody, egid: 0 }));
  assert.deepEqual(setgid?.mechanisms, ['setgid']);
  assert.equal(setgid?.gained, 0);
  const fcaps = escalationOf(proc(nobody), proc({ ...nobody, capPermitted: 0x2000, capEffective: 0x2000 }));
  assert.deepEqual(fcaps?.mechanisms, ['file_capabilities']);
  assert.deepEqual(capabilityNames(fcaps?.gained ?? 0), ['cap_net_raw']);
});

test('no escalation: same ids and caps, root staying root, dropping privileges, unknown before', () => {
  assert.equal(escalationOf(proc(nobody), proc(nobody)), null);
  const root = { ruid: 0, euid: 0, rgid: 0, egid: 0, capPermitted: 0x1fffeffffff, capEffective: 0x1fffeffffff };
  assert.equal(escalationOf(proc({ ...root, capPermitted: 0 }), proc(root)), null, 'root regains at exec');
  // A setuid-nobody (or setgid) file run by root drops privileges: no escalation.
  assert.equal(escalationOf(proc(root), proc({ ...root, euid: 65534, capPermitted: 0, capEffective: 0 })), null);
  assert.equal(escalationOf(proc(root), proc({ ...root, egid: 65534 })), null);
  assert.equal(escalationOf(undefined, proc(nobody)), null);
  assert.equal(escalationOf(proc({}), proc(nobody)), null, 'ids before unknown');
  // After a uid change away from root the sets are unknown (null): counted from none.
  assert.deepEqual(
    escalationOf(proc({ ...nobody, capPermitted: null, capEffective: null }), proc({ ...nobody, capPermitted: 0x2000 }))?.mechanisms,
    ['file_capabilities'],
  );
  // setuid back to the real id (e.g. a real-uid exec after seteuid): not a set-id file.
  assert.equal(escalationOf(proc({ ...nobody, ruid: 1000 }), proc({ ...nobody, ruid: 1000, euid: 1000 })), null);
});

test('tracker: a set-id exec reported as a uid event before the exec is compared with the ids before that event', () => {
  const tr = new EscalationTracker(100);
  const root = proc({ ruid: 0, euid: 0, rgid: 0, egid: 0, capPermitted: 0x1ffffffffff });
  // setpriv switches every id (real ones too): the program's own switch, the new baseline.
  tr.onUid(root, 65534, 65534);
  tr.onGid({ ...root, ruid: 65534, euid: 65534 }, 65534, 65534);
  const asNobody = proc({ ...nobody, capPermitted: null, capEffective: null });
  // The exec of a setuid-root file: kernel uid event (real id kept), then the exec.
  tr.onUid(asNobody, 65534, 0);
  const esc = tr.atExec({ ...asNobody, euid: 0 }, proc({ ...nobody, euid: 0, capPermitted: 0x1ffffffffff }));
  assert.deepEqual(esc?.mechanisms, ['setuid']);
  assert.equal(esc?.previousEuid, 65534);
  assert.equal(tr.size, 0, 'the exec consumes the baseline');
  // A /proc read that came after the exec made the first uid event look like a seteuid from root:
  // the last event before the exec decides.
  const stale = proc({ ...nobody, euid: 0 });
  tr.onUid(stale, 65534, 65534);
  tr.onUid(proc(nobody), 65534, 0);
  assert.deepEqual(tr.atExec(proc({ ...nobody, euid: 0 }), proc({ ...nobody, euid: 0 }))?.mechanisms, ['setuid']);
  // A late /proc read: the entry already shows the ids the uid event sets, and the permitted set of
  // the program exec'd after it (setpriv → a cap_net_raw file). Its set is no baseline: the file's
  // capabilities still count as gained.
  const late = proc({ ...nobody, capPermitted: 0x2000 });
  tr.onUid(late, 65534, 65534);
  assert.deepEqual(tr.atExec(late, proc({ ...nobody, capPermitted: 0x2000 }))?.mechanisms, ['file_capabilities']);
  // Without the late read (the entry still had the ids before the switch), nothing changes.
  assert.equal(tr.atExec(proc(nobody), proc({ ...nobody, capPermitted: 0 })), null);
  // Exit forgets; the bound clears rather than grows.
  tr.onUid(proc(nobody), 65534, 0);
  tr.onExit(10);
  assert.equal(tr.size, 0);
  const small = new EscalationTracker(2);
  for (const tgid of [1, 2, 3]) small.onUid(proc({ ...nobody, tgid }), 65534, 0);
  assert.ok(small.size <= 2);
});

test('ptrace: an attach by a less privileged tracer escalates, and so does the next exec; a peer or root tracer does not', () => {
  const tr = new EscalationTracker(100);
  const rootFull = proc({ tgid: 20, ruid: 0, euid: 0, suid: 0, capPermitted: FULL_CAPABILITY_SET, capEffective: FULL_CAPABILITY_SET });
  // nobody holding only cap_sys_ptrace (a file capability): the kernel lets it attach to root.
  const ptracer = proc({ tgid: 30, ...nobody, capPermitted: 0x80000, capEffective: 0x80000 });
  const a = tr.onPtrace(20, rootFull, 30, ptracer);
  assert.deepEqual(a?.mechanisms, ['ptrace']);
  assert.equal(a?.gained, FULL_CAPABILITY_SET - 0x80000, "the tracee's permitted set the tracer lacks");
  assert.equal(a?.previousEuid, 65534);
  assert.equal(a?.tracerTgid, 30);
  // Root tracing root, and nobody tracing nobody: nothing gained.
  assert.equal(tr.onPtrace(21, { ...rootFull, tgid: 21 }, 31, { ...rootFull, tgid: 31 }), null);
  assert.equal(tr.onPtrace(22, proc({ tgid: 22, ...nobody }), 32, proc({ tgid: 32, ...nobody })), null);
  // Root with fewer capabilities (a container's root) attaching a full root: gains the rest.
  assert.deepEqual(tr.onPtrace(23, { ...rootFull, tgid: 23 }, 33, { ...rootFull, tgid: 33, capPermitted: 0xa80425fb })?.mechanisms, [
    'ptrace',
  ]);
  // Unknown tracer: no verdict on the attach, none later.
  assert.equal(tr.onPtrace(24, { ...rootFull, tgid: 24 }, 34, undefined), null);
  // Traced nobody execs a setuid-root file (honoured: the tracer holds cap_sys_ptrace): setuid and ptrace.
  const child = proc({ tgid: 40, ...nobody });
  assert.equal(tr.onPtrace(40, child, 30, ptracer), null, 'a peer: not an escalation at the attach');
  const esc = tr.atExec(child, proc({ tgid: 40, ...nobody, euid: 0, capPermitted: FULL_CAPABILITY_SET }));
  assert.deepEqual(esc?.mechanisms, ['setuid', 'ptrace']);
  assert.equal(esc?.tracerTgid, 30);
  // Consumed by that exec: the next one is judged on its own.
  assert.equal(tr.atExec(child, proc({ tgid: 40, ...nobody })), null);
  // A traced root process that execs (no id change): ptrace alone.
  assert.deepEqual(tr.atExec(rootFull, rootFull)?.mechanisms, ['ptrace']);
  // Exit forgets the tracer.
  tr.onPtrace(50, proc({ tgid: 50, ...nobody }), 30, ptracer);
  tr.onExit(50);
  assert.equal(tr.atExec(proc({ tgid: 50, ...nobody }), proc({ tgid: 50, ...nobody, euid: 0, ruid: 0, suid: 0 })), null);
});

test('uid_change: root from no root id escalates; regaining a saved or real root, or unknown ids, does not', () => {
  const tr = new EscalationTracker(100);
  const capSetuid = proc({ ...nobody, suid: 65534, capEffective: 0x80, capPermitted: 0x80 });
  const esc = tr.onUid(capSetuid, 0, 0);
  assert.deepEqual(esc?.mechanisms, ['uid_change']);
  assert.equal(esc?.previousSuid, 65534);
  assert.equal(esc?.previousCapEffective, 0x80);
  assert.equal(tr.onUid(proc({ ...nobody, suid: 0 }), 65534, 0), null, 'seteuid(0) with a saved root uid');
  assert.equal(tr.onUid(proc({ ...nobody, ruid: 0, suid: 65534 }), 0, 0), null, 'real uid root');
  assert.equal(tr.onUid(proc({ ...nobody, suid: null }), 0, 0), null, 'saved uid unknown');
  assert.equal(tr.onUid(proc({ ...nobody, suid: 65534 }), 65534, 1000), null, 'not to root');
});
