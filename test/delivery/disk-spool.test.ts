import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SpoolError, type StoredBatch } from '../../src/delivery/batch-store.js';
import { DiskSpool, LOCK_FILE_NAME, SEGMENT_HEADER_BYTES } from '../../src/delivery/disk-spool.js';
import { STATE_FILE_NAME } from '../../src/delivery/state-file.js';
import { previousFormatSegment, segmentFileName } from '../helpers/previous-segment.js';

const root = mkdtempSync(join(tmpdir(), 'cnproc-disk-spool-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `d${++dirs}`);
const open = (dir: string, maxBytes = 10_000_000): DiskSpool => DiskSpool.open({ dir, maxBytes, fsync: 'never' });
const payload = (tag: number, size = 100): Uint8Array => new Uint8Array(size).fill(tag);
const segPath = (dir: string, id: number): string => join(dir, `${String(id).padStart(16, '0')}.seg`);

/** Drains through peek/ack and returns the payload tags in order (bounded). */
function drain(s: DiskSpool, max = 100): number[] {
  const tags: number[] = [];
  for (let i = 0; i < max; i++) {
    const b = s.peek();
    if (b === null) return tags;
    tags.push(b.payload[0] ?? -1);
    s.ack(b.id);
  }
  assert.fail('spool not empty after max batches');
}

/** Flips one byte of a file in place. */
function flipByte(path: string, offset: number): void {
  const buf = readFileSync(path);
  buf[offset] = (buf[offset] ?? 0) ^ 0xff;
  writeFileSync(path, buf);
}

test('directory is created with mode 0700, segments with 0600 and zero-padded names', async () => {
  const dir = join(freshDir(), 'nested', 'spool');
  const s = open(dir);
  try {
    const id = s.append(1, 'protobuf', payload(1));
    assert.equal(id, 1);
    await s.flush(); // the segment is written behind append, off the event loop
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(segPath(dir, 1)).mode & 0o777, 0o600);
    assert.equal(statSync(segPath(dir, 1)).size, SEGMENT_HEADER_BYTES + 100);
    assert.deepEqual(readdirSync(dir).sort(), ['0000000000000001.seg', LOCK_FILE_NAME]);
  } finally {
    await s.close();
  }
  assert.deepEqual(readdirSync(dir), ['0000000000000001.seg'], 'close releases the lock; no temp files');
});

test('persistence: batches survive close/reopen in order, ids continue, fields kept', async () => {
  const dir = freshDir();
  let s = open(dir);
  s.append(3, 'protobuf', payload(1));
  s.append(4, 'json', payload(2, 33), 'gzip');
  s.append(5, 'protobuf', payload(3));
  const first = s.peek();
  assert.ok(first);
  s.ack(first.id);
  await s.close();

  s = open(dir);
  try {
    const st = s.stats();
    assert.deepEqual(st.foundAtOpen, { batches: 2, records: 9 });
    assert.equal(st.batches, 2);
    assert.equal(st.records, 9);
    assert.equal(st.bytes, 2 * SEGMENT_HEADER_BYTES + 33 + 100);
    assert.equal(st.appended.batches, 0, 'counters start at open');
    const b = s.peek();
    assert.ok(b);
    assert.deepEqual(
      { id: b.id, records: b.records, encoding: b.encoding, compression: b.compression, len: b.payload.length },
      { id: 2, records: 4, encoding: 'json', compression: 'gzip', len: 33 },
    );
    assert.equal(readFileSync(segPath(dir, 2))[5], 0x82, 'json (2) with the gzip flag (0x80)');
    assert.equal(readFileSync(segPath(dir, 3))[5], 1, 'an uncompressed batch is written as before: protobuf (1)');
    assert.ok(Math.abs(b.createdMs - Date.now()) < 60_000);
    assert.equal(s.append(6, 'protobuf', payload(4)), 4, 'ids continue after the highest on disk');
    assert.deepEqual(drain(s), [2, 3, 4]);
  } finally {
    await s.close();
  }
});

test('segments written by the previous version (no gzip flag) are read back as uncompressed, in order with new ones', async () => {
  const dir = freshDir();
  mkdirSync(dir, { recursive: true });
  const created = Date.now() - 3_600_000;
  const body = Buffer.from(JSON.stringify({ resourceLogs: [] }));
  writeFileSync(join(dir, segmentFileName(7)), previousFormatSegment(7, 12, 'json', body, created));
  writeFileSync(join(dir, segmentFileName(8)), previousFormatSegment(8, 3, 'protobuf', payload(8, 50), created));
  const s = open(dir);
  try {
    assert.deepEqual(s.stats().foundAtOpen, { batches: 2, records: 15 });
    assert.equal(s.append(2, 'protobuf', payload(9), 'gzip'), 9);
    const got: Array<Omit<StoredBatch, 'payload'> & { payload: string }> = [];
    for (let b = s.peek(); b !== null; b = s.peek()) {
      got.push({ ...b, payload: Buffer.from(b.payload).toString('hex') });
      s.ack(b.id);
    }
    assert.deepEqual(
      got.map((b) => ({ id: b.id, records: b.records, encoding: b.encoding, compression: b.compression })),
      [
        { id: 7, records: 12, encoding: 'json', compression: 'none' },
        { id: 8, records: 3, encoding: 'protobuf', compression: 'none' },
        { id: 9, records: 2, encoding: 'protobuf', compression: 'gzip' },
      ],
    );
    assert.equal(got[0]?.payload, body.toString('hex'));
    assert.equal(got[0]?.createdMs, created);
    assert.equal(s.stats().corrupt.batches, 0);
  } finally {
    await s.close();
  }
});

test('an encoding byte with unknown bits (a later format revision) is skipped as bad-version, not misread', async () => {
  const dir = freshDir();
  mkdirSync(dir, { recursive: true });
  const seg = previousFormatSegment(1, 4, 'protobuf', payload(1), Date.now());
  seg[5] = 0x41; // protobuf with a flag this build does not know
  createHash('sha256').update(seg.subarray(0, 64)).digest().subarray(0, 16).copy(seg, 64);
  writeFileSync(join(dir, segmentFileName(1)), seg);
  const s = open(dir);
  try {
    assert.equal(s.stats().corruptReasons['bad-version'], 1);
    assert.equal(s.peek(), null);
  } finally {
    await s.close();
  }
});

test('damage found at peek: corrupt payload, truncated, bad header, trailing bytes, deleted file: skipped and counted, rest in order', async () => {
  const dir = freshDir();
  const s = open(dir);
  try {
    for (let t = 1; t <= 7; t++) s.append(t, 'protobuf', payload(t));
    await s.flush();
    flipByte(segPath(dir, 2), SEGMENT_HEADER_BYTES + 50); // payload bit rot
    truncateSync(segPath(dir, 3), SEGMENT_HEADER_BYTES + 40); // cut short
    flipByte(segPath(dir, 4), 9); // record count changed: header checksum
    writeFileSync(segPath(dir, 5), Buffer.concat([readFileSync(segPath(dir, 5)), Buffer.from('junk')])); // trailing garbage
    rmSync(segPath(dir, 6)); // removed behind our back
    assert.deepEqual(drain(s), [1, 7]);
    const st = s.stats();
    // Records come from the index: these headers were intact when written.
    assert.deepEqual(st.corrupt, { batches: 5, records: 2 + 3 + 4 + 5 + 6 });
    assert.equal(st.corruptReasons['payload-checksum'], 1);
    assert.equal(st.corruptReasons.truncated, 1);
    assert.equal(st.corruptReasons['header-checksum'], 1);
    assert.equal(st.corruptReasons['trailing-bytes'], 1);
    assert.equal(st.corruptReasons.unreadable, 1);
    assert.match(st.lastError ?? '', /0000000000000006\.seg skipped \(unreadable\): ENOENT/);
    assert.deepEqual(st.acked, { batches: 2, records: 8 });
    assert.equal(st.batches, 0);
    await s.flush(); // deletes run behind ack and peek, off the event loop
    assert.deepEqual(readdirSync(dir), [LOCK_FILE_NAME], 'damaged segments are removed');
  } finally {
    await s.close();
  }
});

test('damage found at open: temp file, bad magic, bad version, truncated header and payload, name/id mismatch, foreign files', async () => {
  const dir = freshDir();
  let s = open(dir);
  for (let t = 1; t <= 8; t++) s.append(t, 'json', payload(t));
  await s.close();
  writeFileSync(join(dir, '0000000000000009.seg.tmp'), 'half a segment'); // crash before rename
  writeFileSync(segPath(dir, 2), Buffer.from('garbage that is not a segment at all, long enough to be a header'.repeat(2)));
  flipByte(segPath(dir, 3), 4); // version byte
  truncateSync(segPath(dir, 4), 30); // torn header
  truncateSync(segPath(dir, 5), SEGMENT_HEADER_BYTES + 99); // torn payload
  writeFileSync(segPath(dir, 11), readFileSync(segPath(dir, 6))); // copied under another name
  flipByte(segPath(dir, 7), SEGMENT_HEADER_BYTES); // only detectable when the payload is read
  writeFileSync(join(dir, 'notes.txt'), 'an operator left this here');
  writeFileSync(join(dir, '9999999999999999.seg'), 'an id beyond 2^53 cannot be ours');
  mkdirSync(join(dir, 'subdir'));
  writeFileSync(join(dir, STATE_FILE_NAME), 'not ours to judge');

  s = open(dir);
  try {
    let st = s.stats();
    assert.deepEqual(
      st.foundAtOpen,
      { batches: 10, records: 1 + 5 + 6 + 7 + 8 },
      '9 segment names + 1 temp file; unreadable headers count 0 records',
    );
    assert.deepEqual(
      { ...st.corruptReasons },
      {
        'bad-magic': 1,
        'bad-version': 1,
        'header-checksum': 1,
        truncated: 2,
        'trailing-bytes': 0,
        'payload-checksum': 0,
        'temp-file': 1,
        unreadable: 0,
      },
    );
    assert.deepEqual(st.corrupt, { batches: 6, records: 5 }, 'the torn payload had a readable header (5 records)');
    assert.equal(st.foreignFiles, 3, 'notes.txt, subdir and the unrepresentable id; state.json is ours');
    assert.equal(s.append(9, 'json', payload(9)), 12, 'next id is after every name seen, temp and mismatched ones included');
    assert.deepEqual(drain(s), [1, 6, 8, 9]);
    st = s.stats();
    assert.equal(st.corruptReasons['payload-checksum'], 1);
    assert.deepEqual(st.corrupt, { batches: 7, records: 5 + 7 });
    assert.ok(existsSync(join(dir, 'notes.txt')) && existsSync(join(dir, 'subdir')), 'foreign files are left alone');
    assert.ok(!existsSync(join(dir, '0000000000000009.seg.tmp')));
  } finally {
    await s.close();
  }
});

test('a failed write keeps the batch in memory (still sent, in order), says why, and does not stop the spool', async () => {
  const dir = freshDir();
  const s = open(dir);
  try {
    assert.equal(s.append(1, 'protobuf', payload(1)), 1);
    mkdirSync(join(dir, '0000000000000002.seg.tmp')); // the next temp name is taken: open(2) fails with EISDIR
    assert.equal(s.append(7, 'protobuf', payload(2)), 2, 'append does not wait for the disk');
    await s.flush();
    const st = s.stats();
    assert.match(st.lastError ?? '', /^cannot write spool segment .*0000000000000002\.seg\.tmp: EISDIR; the batch is held in memory only$/);
    assert.equal(st.batches, 2);
    assert.equal(st.unwritten, 1, 'held, but not on disk');
    assert.deepEqual(st.writeFailed, { batches: 0, records: 0 }, 'not lost (yet)');
    assert.equal(s.append(3, 'protobuf', payload(3)), 3);
    await s.flush();
    assert.deepEqual(drain(s), [1, 2, 3]);
    const end = s.stats();
    assert.equal(end.appended.batches, end.acked.batches);
    assert.equal(end.unwritten, 0);
  } finally {
    await s.close();
  }
});

test('a batch whose write failed and that is still unsent at close is lost: counted as writeFailed', async () => {
  const dir = freshDir();
  const s = open(dir);
  mkdirSync(join(dir, '0000000000000001.seg.tmp'));
  assert.equal(s.append(7, 'protobuf', payload(1)), 1);
  assert.equal(s.append(2, 'protobuf', payload(2)), 2);
  await s.close();
  const st = s.stats();
  assert.deepEqual(st.writeFailed, { batches: 1, records: 7 });
  assert.equal(st.batches, 1, 'the written one stays for the next start');
  assert.equal(st.appended.batches, st.batches + st.writeFailed.batches);
});

test('kill -9 with writes queued: what was written is replayed, the rest never appears', async () => {
  const dir = freshDir();
  const s = open(dir);
  for (let t = 1; t <= 20; t++) s.append(t, 'protobuf', payload(t));
  await s.crash();
  const again = open(dir);
  try {
    const tags = drain(again);
    // The writer goes in order: the survivors are the first batches, whole.
    assert.deepEqual(
      tags,
      Array.from({ length: tags.length }, (_, i) => i + 1),
    );
    assert.ok(tags.length < 20, 'the queue was behind when the process died');
    assert.deepEqual(again.stats().corrupt, { batches: 0, records: 0 }, 'nothing torn: each write finished or never started');
  } finally {
    await again.close();
  }
});

test('a lowered maxBytes at open drops the oldest, counted', async () => {
  const dir = freshDir();
  let s = open(dir);
  for (let t = 1; t <= 5; t++) s.append(t, 'protobuf', payload(t));
  await s.close();
  s = open(dir, 2 * (SEGMENT_HEADER_BYTES + 100));
  try {
    assert.deepEqual(s.stats().droppedOldest, { batches: 3, records: 1 + 2 + 3 });
    assert.deepEqual(drain(s), [4, 5]);
  } finally {
    await s.close();
  }
});

test('lock: a second open in this process is refused', async () => {
  const dir = freshDir();
  const s = open(dir);
  try {
    assert.throws(
      () => open(dir),
      (err: unknown) => {
        assert.ok(err instanceof SpoolError);
        assert.equal(err.message, `spool directory ${dir} is in use by pid ${process.pid} (this process: the spool is already open)`);
        assert.equal(err.code, 'EBUSY');
        return true;
      },
    );
  } finally {
    await s.close();
  }
  await open(dir).close(); // released by close
});

test('lock held by another live process is refused with its pid', async () => {
  const dir = freshDir();
  mkdirSync(dir);
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    assert.ok(sleeper.pid);
    writeFileSync(join(dir, LOCK_FILE_NAME), `${sleeper.pid}\n`);
    assert.throws(() => open(dir), { name: 'SpoolError', message: `spool directory ${dir} is in use by pid ${sleeper.pid}` });
    assert.equal(readFileSync(join(dir, LOCK_FILE_NAME), 'latin1'), `${sleeper.pid}\n`, 'the live lock is untouched');
  } finally {
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    sleeper.kill();
    await exited;
  }
  // The same lock is stale once its owner is gone.
  await open(dir).close();
});

test('stale lock: dead pid, reused pid (start time differs), or garbage content is taken over', async () => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1'));
  const dir = freshDir();
  mkdirSync(dir);
  for (const content of [`${pidMax + 1}\n`, `${process.pid}\n1\n`, 'not a pid', '']) {
    writeFileSync(join(dir, LOCK_FILE_NAME), content);
    const s = open(dir);
    try {
      const [pid, start] = readFileSync(join(dir, LOCK_FILE_NAME), 'latin1').split('\n');
      assert.equal(Number(pid), process.pid, `took over ${JSON.stringify(content)}`);
      assert.match(start ?? '', /^\d+$/, 'our start time is recorded');
    } finally {
      await s.close();
    }
    assert.ok(!existsSync(join(dir, LOCK_FILE_NAME)));
  }
});

test('not a directory: a SpoolError naming the path and errno', async () => {
  const file = join(freshDir());
  writeFileSync(file, 'x');
  assert.throws(() => open(file), {
    name: 'SpoolError',
    message: `spool directory ${file} is not a directory`,
  });
  assert.throws(
    () => open(join(file, 'spool')),
    (err: unknown) => {
      assert.ok(err instanceof SpoolError);
      assert.match(err.message, new RegExp(`^cannot create spool directory ${join(file, 'spool')}: `));
      assert.equal(err.code, 'ENOTDIR');
      return true;
    },
  );
});

test('not writable: a SpoolError naming the path and errno', async () => {
  const parent = freshDir();
  const dir = join(parent, 'spool');
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o500);
    try {
      assert.throws(() => open(dir), { name: 'SpoolError', message: new RegExp(`^spool directory ${dir} is not writable: .*EACCES`) });
    } finally {
      chmodSync(dir, 0o700);
    }
    return;
  }
  // Root writes anywhere, so try as nobody: the directory is root's 0755. The child loads the
  // module as root and only then drops to nobody: the checkout may sit where nobody cannot enter
  // (a clone under /root or a mktemp -d directory), which is not what this test is about.
  chmodSync(root, 0o755);
  chmodSync(parent, 0o755);
  chmodSync(dir, 0o755);
  const moduleUrl = new URL('../../src/delivery/disk-spool.js', import.meta.url).href;
  const script = `
    const { DiskSpool } = await import(${JSON.stringify(moduleUrl)});
    process.setgroups([]); process.setgid(65534); process.setuid(65534);
    try { DiskSpool.open({ dir: ${JSON.stringify(dir)}, maxBytes: 1000, fsync: 'never' }); console.log('opened'); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
  let r: SpawnSyncReturns<string>;
  try {
    r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  } finally {
    chmodSync(root, 0o700);
  }
  assert.equal(r.status, 0, r.stderr);
  const err = JSON.parse(r.stdout) as { name: string; code: string; message: string };
  assert.equal(err.name, 'SpoolError');
  assert.equal(err.code, 'EACCES');
  const lockTmp = `${join(dir, LOCK_FILE_NAME)}.`.replace(/[.]/g, '\\.');
  assert.match(err.message, new RegExp(`^spool directory ${dir} is not writable: cannot create ${lockTmp}\\d+\\.tmp: EACCES$`));
});

test('bad options throw RangeError before touching the disk', async () => {
  const dir = freshDir();
  assert.throws(() => DiskSpool.open({ dir, maxBytes: -5, fsync: 'never' }), { name: 'RangeError', message: /maxBytes/ });
  assert.throws(() => DiskSpool.open({ dir, maxBytes: 1000, fsync: 'sometimes' as 'never' }), {
    name: 'RangeError',
    message: /fsync must be/,
  });
  assert.ok(!existsSync(dir));
});

test('a directory that mkdir cannot make although its parent exists (/proc) fails at once, not forever', async () => {
  const t0 = Date.now();
  assert.throws(
    () => DiskSpool.open({ dir: '/proc/cnproc-otel-test/spool', maxBytes: 1 << 20, fsync: 'never' }),
    (err: Error) => err instanceof SpoolError && /cannot create spool directory \/proc\/cnproc-otel-test\/spool: ENOENT/.test(err.message),
  );
  assert.ok(Date.now() - t0 < 1000);
});

test('fsync always: a batch is offered only once its segment is on disk, and the writer says when', async () => {
  const dir = freshDir();
  const s = DiskSpool.open({ dir, maxBytes: 10_000_000, fsync: 'always' });
  let written = 0;
  s.onWritten = () => {
    written++;
  };
  try {
    assert.equal(s.append(1, 'protobuf', payload(1)), 1);
    assert.equal(s.peek(), null, 'not on disk yet: not sent yet');
    assert.equal(s.stats().batches, 1, 'but held and counted');
    await s.flush();
    assert.equal(written, 1);
    assert.ok(existsSync(segPath(dir, 1)));
    assert.deepEqual(drain(s), [1]);
  } finally {
    await s.close();
  }
});

test('fsync never: a batch is offered at once, before its segment is written', async () => {
  const dir = freshDir();
  const s = open(dir);
  try {
    s.append(1, 'protobuf', payload(1));
    assert.equal(s.stats().unwritten, 1);
    assert.equal(s.peek()?.payload[0], 1, 'served from memory');
    assert.equal(s.ack(1), true);
    await s.flush();
    assert.deepEqual(readdirSync(dir), [LOCK_FILE_NAME], 'acked before or while written: no segment left');
  } finally {
    await s.close();
  }
});
