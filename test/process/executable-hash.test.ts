/**
 * The executable hasher on real files in a temporary directory (its own thread, real reads): the
 * hash equals the file's SHA-256, the cache hands the same object to later execs, and every file it
 * cannot vouch for — replaced, modified, too large, gone, too slow, beyond the queue — gets no hash
 * and a counted reason.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ExeFileFacts, encodeExeFile, majorMinor } from '../../src/kernel/exe-file.js';
import { type ExecutableFile, ExecutableHasher, type HashOptions } from '../../src/process/executable-hash.js';

const dir = mkdtempSync(join(tmpdir(), 'cnproc-hash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What the capture thread would have read for `path` now. */
function factsOf(path: string): ExeFileFacts {
  const st = statSync(path, { bigint: true });
  const [devMajor, devMinor] = majorMinor(Number(st.dev));
  return {
    dev: Number(st.dev),
    devMajor,
    devMinor,
    ino: st.ino,
    size: Number(st.size),
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    nlink: Number(st.nlink),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    buildId: null,
    buildIdMissing: 'not_elf',
  };
}

function file(name: string, bytes: number, fill = 0x61): string {
  const p = join(dir, name);
  writeFileSync(p, Buffer.alloc(bytes, fill));
  return p;
}

/** An exec of `pid` running the file `f` describes (as its exe-file attachment). */
function at(h: ExecutableHasher, f: ExeFileFacts, pid: number, exe: string): ExecutableFile {
  const x = h.atExec(encodeExeFile(f), pid, exe);
  assert.ok(x, 'a well-formed attachment');
  return x;
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
/** A pid with no process (above pid_max's default and the 2^22 limit). */
const NO_PID = 4_194_305;

function hasher(over: Partial<HashOptions> = {}): ExecutableHasher {
  return new ExecutableHasher({ maxFileBytes: 64 << 20, cacheEntries: 64, timeoutMs: 5000, ...over });
}

/** Resolves when `f` is settled (hashed or skipped). */
function settled(h: ExecutableHasher, f: ExecutableFile): Promise<ExecutableFile> {
  if (f.hashState !== 'pending') return Promise.resolve(f);
  return new Promise((resolve) => {
    const prev = h.onSettled;
    h.onSettled = (x) => {
      prev?.(x);
      if (x === f) resolve(f);
    };
  });
}

test('a file is hashed off the thread: the first exec is late, the next gets the cached hash on the same object', async () => {
  const h = hasher();
  const p = file('prog', 3 * 1_048_576 + 17);
  const first = at(h, factsOf(p), NO_PID, p);
  assert.equal(first.hashState, 'pending', 'the record does not wait');
  assert.equal(first.sha256, null);
  await settled(h, first);
  assert.equal(first.sha256, sha(p));
  const again = at(h, factsOf(p), NO_PID, p);
  assert.equal(again, first, 'one object per identity');
  const s = h.stats();
  assert.deepEqual([s.hashed, s.bytes, s.execsLate, s.execsWithHash, s.cached], [1, 3 * 1_048_576 + 17, 1, 1, 1]);
  await h.close();
});

test('a file replaced (new inode) or modified in place (new ctime) before hashing gets no hash: changed', async () => {
  const h = hasher();
  const p = file('replaced', 4096, 0x41);
  const facts = factsOf(p);
  // Replaced by rename, as package managers do: the path now names another inode.
  const q = file('replacement', 4096, 0x42);
  renameSync(q, p);
  const f = await settled(h, at(h, facts, NO_PID, p));
  assert.deepEqual([f.hashState, f.sha256], ['changed', null]);
  // Same inode, same size, new bytes: ctime moves.
  const m = file('modified', 4096, 0x43);
  const mf = factsOf(m);
  await new Promise((r) => setTimeout(r, 10));
  writeFileSync(m, Buffer.alloc(4096, 0x44));
  const g = await settled(h, at(h, mf, NO_PID, m));
  assert.deepEqual([g.hashState, g.sha256], ['changed', null]);
  assert.equal(h.stats().skipped.changed, 2);
  // Forgotten: the new file's identity is hashed at its own exec.
  const n = await settled(h, at(h, factsOf(m), NO_PID, m));
  assert.equal(n.sha256, sha(m));
  await h.close();
});

test('a path that now names a symlink or a device is never opened: changed', async () => {
  const h = hasher();
  const p = file('swapped', 100);
  const facts = factsOf(p);
  rmSync(p);
  // A symlink to a device: following it would read /dev/zero forever (until the timeout).
  symlinkSync('/dev/zero', p);
  const f = await settled(h, at(h, facts, NO_PID, p));
  assert.deepEqual([f.hashState, f.sha256], ['changed', null]);
  assert.equal(h.stats().bytes, 0, 'not a byte read');
  await h.close();
});

test('too large, not a regular file, gone, timeout and queue_full: no hash, each counted', async () => {
  const h = hasher({ maxFileBytes: 8192, queueMax: 1 });
  const big = file('big', 8193);
  const t = at(h, factsOf(big), NO_PID, big);
  assert.equal(t.hashState, 'too_large', 'decided at exec, nothing read');
  const d = at(h, factsOf(dir), NO_PID, dir);
  assert.equal(d.hashState, 'not_regular');
  // A memfd or deleted file of a process already gone: nothing to open.
  const small = file('small', 100);
  const gone = at(h, { ...factsOf(small), ino: 1n }, NO_PID, '/memfd:x (deleted)');
  // The queue holds one file beside the one in flight.
  const q1 = at(h, factsOf(file('q1', 10)), NO_PID, join(dir, 'q1'));
  const q2 = at(h, factsOf(file('q2', 10)), NO_PID, join(dir, 'q2'));
  assert.equal(q2.hashState, 'queue_full');
  await settled(h, gone);
  await settled(h, q1);
  assert.equal(gone.hashState, 'gone');
  assert.equal(q1.hashState, 'hashed');
  await h.close();
  const slow = hasher({ timeoutMs: 0 });
  const two = file('two-chunks', 2 * 1_048_576 + 1);
  const s = await settled(slow, at(slow, factsOf(two), NO_PID, two));
  assert.deepEqual([s.hashState, s.sha256], ['timeout', null]);
  assert.deepEqual(h.stats().skipped, {
    too_large: 1,
    not_regular: 1,
    gone: 1,
    denied: 0,
    changed: 0,
    timeout: 0,
    queue_full: 1,
    failed: 0,
  });
  assert.equal(slow.stats().skipped.timeout, 1);
  await slow.close();
});

test('the cache keeps at most cacheEntries identities, least recently exec’d forgotten first', async () => {
  const h = hasher({ cacheEntries: 2 });
  const a = file('a', 10, 1);
  const b = file('b', 10, 2);
  const c = file('c', 10, 3);
  const fa = await settled(h, at(h, factsOf(a), NO_PID, a));
  await settled(h, at(h, factsOf(b), NO_PID, b));
  assert.equal(at(h, factsOf(a), NO_PID, a), fa, 'a used again: b is now the oldest');
  await settled(h, at(h, factsOf(c), NO_PID, c));
  assert.equal(h.stats().cached, 2);
  assert.equal(at(h, factsOf(a), NO_PID, a), fa, 'a kept');
  const fb = at(h, factsOf(b), NO_PID, b);
  assert.equal(fb.hashState, 'pending', 'b was forgotten and is hashed again');
  await settled(h, fb);
  await h.close();
});
