import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCgroup, parseCmdline, parseDecimal, parseStat, parseStatusIds } from '../../src/process/parse.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const STAT_TAIL = 'S 1 100 100 34816 100 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1000 200 18446744073709551615';

test('stat: comm with spaces and parentheses ends at the last ")"', () => {
  const st = parseStat(enc(`4242 (my (odd) name) ${STAT_TAIL}`));
  assert.ok(st);
  assert.equal(st.comm, 'my (odd) name');
  assert.deepEqual([st.state, st.ppid, st.pgid, st.sid, st.ttyNr, st.startTicks], ['S', 1, 100, 100, 34816, 123456]);
});

test('stat: zombie and garbage', () => {
  assert.equal(parseStat(enc(`7 (true) Z 1 7 7 0 -1 4227148 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0`))?.startTicks, 99);
  assert.equal(parseStat(enc('nonsense')), null);
  assert.equal(parseStat(enc('1 (x) S 1 2')), null);
  assert.equal(parseStat(new Uint8Array(0)), null);
});

test('stat: fields are read by position, a non-number where one is needed is refused', () => {
  // A trailing newline (as /proc gives) and the last field the agent needs being the last present.
  const st = parseStat(enc('9 (a b) R 3 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4294967296\n'));
  assert.deepEqual([st?.comm, st?.state, st?.ppid, st?.startTicks], ['a b', 'R', 3, 4294967296]);
  assert.equal(parseStat(enc('9 (a) R x 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5')), null);
  assert.equal(parseStat(enc('9 (a) R 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5')), null);
  assert.equal(parseStat(enc('9 (a) R 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ')), null);
});

test('status: real, effective, saved, fs ids', () => {
  const text = 'Name:\tbash\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\nGroups:\t100\n';
  assert.deepEqual(parseStatusIds(enc(text)), { uid: [1000, 0, 0, 0], gid: [100, 100, 100, 100] });
  assert.equal(parseStatusIds(enc('Name:\tx\n')), null);
});

test('status: the key must start a line; three or five ids, or a non-number, are refused', () => {
  assert.deepEqual(parseStatusIds(enc('Uid:\t1 2 3 4\nGid:\t5\t6\t7\t8')), { uid: [1, 2, 3, 4], gid: [5, 6, 7, 8] });
  assert.equal(parseStatusIds(enc('XUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n')), null);
  assert.equal(parseStatusIds(enc('Uid:\t1\t2\t3\nGid:\t5\t6\t7\t8\n')), null);
  assert.equal(parseStatusIds(enc('Uid:\t1\t2\t3\t4\t5\nGid:\t5\t6\t7\t8\n')), null);
  assert.equal(parseStatusIds(enc('Uid:\t1\t2\t3\tx\nGid:\t5\t6\t7\t8\n')), null);
  assert.equal(parseStatusIds(enc('Uid:\t1\t2\t3\t4\n')), null);
});

test('cmdline: NUL separated, trailing NUL, spaces, newlines, invalid UTF-8 kept faithfully', () => {
  const bytes = Uint8Array.from([...enc('/bin/echo'), 0, ...enc('a b'), 0, ...enc('x\ny'), 0, 0x61, 0xff, 0x62, 0, ...enc(`'"`), 0]);
  assert.deepEqual(parseCmdline(bytes, false), { args: ['/bin/echo', 'a b', 'x\\ny', 'a\\xffb', `'"`], truncated: false });
});

test('cmdline: empty (kernel thread or exited), one rewritten string, truncated flag, empty args', () => {
  assert.deepEqual(parseCmdline(new Uint8Array(0), false), { args: [], truncated: false });
  assert.deepEqual(parseCmdline(enc('nginx: worker process'), false).args, ['nginx: worker process']);
  assert.equal(parseCmdline(enc('a\0bbbb'), true).truncated, true);
  assert.deepEqual(parseCmdline(enc('a\0\0b\0'), false).args, ['a', '', 'b']);
});

test('decimal files', () => {
  assert.equal(parseDecimal(enc('1000')), 1000);
  assert.equal(parseDecimal(enc('4294967295')), 4294967295);
  assert.equal(parseDecimal(enc('')), null);
  assert.equal(parseDecimal(enc('x')), null);
  assert.equal(parseDecimal(enc(' 12\n')), 12);
  assert.equal(parseDecimal(enc('-1')), null);
  assert.equal(parseDecimal(enc('1 2')), null);
  assert.equal(parseDecimal(enc('\n')), null);
});

test('cgroup: v2, hybrid, v1 with a container', () => {
  assert.equal(parseCgroup(enc('0::/system.slice/sshd.service\n')), '/system.slice/sshd.service');
  // Hybrid: the unified line is "/", systemd's names the unit.
  assert.equal(parseCgroup(enc('9:name=systemd:/system.slice/cron.service\n4:memory:/x\n0::/\n')), '/system.slice/cron.service');
  const id = 'a'.repeat(64);
  assert.equal(
    parseCgroup(enc(`9:name=systemd:/system.slice/docker-${id}.scope\n4:memory:/docker/${id}\n0::/\n`)),
    `/system.slice/docker-${id}.scope`,
  );
  assert.equal(parseCgroup(enc('0::/\n')), '/');
  assert.equal(parseCgroup(enc('')), null);
});

test('cgroup: a repeated file gives the same answer (answers are cached by content)', () => {
  const a = enc('0::/system.slice/cron.service\n');
  const b = enc('0::/user.slice/user-0.slice/session-1.scope\n');
  for (let i = 0; i < 3; i++) {
    assert.equal(parseCgroup(a), '/system.slice/cron.service');
    assert.equal(parseCgroup(b), '/user.slice/user-0.slice/session-1.scope');
  }
});
