import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { INITIAL_NAMESPACE_INODES, nonHostTypes, parseNamespaceLink, readHostNamespaces } from '../../src/process/namespaces.js';

const enc = new TextEncoder();

test('ns links parse to their inode; anything else is null', () => {
  assert.equal(parseNamespaceLink(enc.encode('net:[4026531833]')), 4026531833);
  assert.equal(parseNamespaceLink(enc.encode('mnt:[1]')), 1);
  assert.equal(parseNamespaceLink(enc.encode('net:[]')), null);
  assert.equal(parseNamespaceLink(enc.encode('net:[12x]')), null);
  assert.equal(parseNamespaceLink(enc.encode('net:[123')), null);
  assert.equal(parseNamespaceLink(enc.encode('net')), null);
  assert.equal(parseNamespaceLink(enc.encode('net:[99999999999]')), null, 'beyond 32 bits');
});

/** A fake /proc with ns links for pid 1 and self. */
function fakeProc(pid1: Record<string, number> | null, self: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'cnproc-ns-'));
  for (const [who, links] of [['1', pid1] as const, ['self', self] as const]) {
    if (links === null) continue;
    mkdirSync(join(root, who, 'ns'), { recursive: true });
    for (const [t, v] of Object.entries(links)) symlinkSync(`${t}:[${v}]`, join(root, who, 'ns', t));
  }
  return root;
}

test('the host: fixed kernel inodes; net and mnt from pid 1, else the agent, on kernels that number them dynamically', () => {
  // A recent kernel: the agent's net and mnt are the fixed ones, whatever pid 1 says (unreadable here).
  const recent = fakeProc(null, { net: INITIAL_NAMESPACE_INODES.net, mnt: 4026532177 });
  const r = readHostNamespaces(recent);
  assert.equal(r.inodes.net, INITIAL_NAMESPACE_INODES.net);
  assert.equal(r.sources.net, 'kernel');
  assert.equal(r.inodes.pid, 0xeffffffc);
  assert.equal(r.sources.mnt, 'agent', 'mnt not recognisably fixed, pid 1 unreadable: the agent’s');
  // An older kernel (dynamic net/mnt inodes): pid 1's.
  const older = fakeProc({ net: 4026531992, mnt: 4026531840 }, { net: 4026531992, mnt: 4026532500 });
  const o = readHostNamespaces(older);
  assert.deepEqual([o.inodes.net, o.sources.net, o.inodes.mnt, o.sources.mnt], [4026531992, 'pid1', 4026531840, 'pid1']);
  // Nothing readable: unknown, never "host" or "not host".
  const none = readHostNamespaces(join(recent, 'nowhere'));
  assert.equal(none.inodes.net, null);
  assert.equal(none.sources.net, 'none');
  const ns = {
    pid: 0xeffffffc,
    mnt: 4026532500,
    net: 4026532600,
    user: 0xeffffffd,
    uts: null,
    ipc: 0xefffffff,
    cgroup: 0xeffffffb,
    time: 0xeffffffa,
  };
  assert.deepEqual(nonHostTypes(ns, o), ['mnt', 'net']);
  assert.deepEqual(nonHostTypes(ns, none), [], 'unknown host: nothing claimed');
  rmSync(recent, { recursive: true, force: true });
  rmSync(older, { recursive: true, force: true });
});
