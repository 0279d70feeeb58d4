import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SpoolError } from '../../src/delivery/batch-store.js';
import { readState, STATE_FILE_NAME, writeState } from '../../src/delivery/state-file.js';

const root = mkdtempSync(join(tmpdir(), 'cnproc-state-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `d${++dirs}`);

const sample = { version: 1, bootId: 'c0ffee-ü', lastSeq: { '0': 4294967295, '1': 12 }, clean: false, note: null };

test('round trip, both fsync policies; the directory is created; no temp file is left', () => {
  for (const fsync of ['always', 'never', true, false] as const) {
    const dir = join(freshDir(), 'nested');
    writeState(dir, sample, fsync);
    assert.deepEqual(readState(dir), { ok: true, value: sample });
    assert.deepEqual(readdirSync(dir), [STATE_FILE_NAME]);
    assert.equal(statSync(join(dir, STATE_FILE_NAME)).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  }
});

test('a later write replaces the earlier one', () => {
  const dir = freshDir();
  writeState(dir, { n: 1 }, 'never');
  writeState(dir, { n: 2, longer: 'x'.repeat(1000) }, 'never');
  writeState(dir, [3], 'never');
  assert.deepEqual(readState(dir), { ok: true, value: [3] });
});

test('missing file', () => {
  const r = readState(freshDir());
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'missing');
});

test('torn, damaged, padded or foreign files are reported corrupt, never thrown', () => {
  const dir = freshDir();
  const path = join(dir, STATE_FILE_NAME);
  const cases: Array<[string, () => void, RegExp]> = [
    ['cut in the JSON', () => truncateSync(path, readFileSync(path).length - 5), /truncated: \d+ of \d+ bytes/],
    ['cut in the header', () => truncateSync(path, 20), /no header line/],
    ['empty', () => truncateSync(path, 0), /no header line/],
    [
      'a byte flipped in the JSON',
      () => {
        const b = readFileSync(path);
        b[b.length - 3] = (b[b.length - 3] ?? 0) ^ 0x01;
        writeFileSync(path, b);
      },
      /checksum mismatch/,
    ],
    [
      'trailing bytes',
      () => writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('\n')])),
      /1 unexpected bytes after the JSON/,
    ],
    ['plain JSON without header', () => writeFileSync(path, JSON.stringify(sample)), /no header line|unrecognized header/],
    ['another header', () => writeFileSync(path, 'cnproc-otel-state 2 whatever\n{}'), /unrecognized header line/],
    ['binary garbage', () => writeFileSync(path, Buffer.alloc(4096, 0xfe)), /no header line/],
  ];
  for (const [name, damage, detail] of cases) {
    writeState(dir, sample, 'never');
    damage();
    const r = readState(dir);
    assert.equal(r.ok, false, name);
    if (!r.ok) {
      assert.equal(r.reason, 'corrupt', name);
      assert.match(r.detail, detail, name);
      assert.ok(r.detail.startsWith(path), `${name}: detail names the file`);
    }
  }
});

test('an unreadable state file is reported, not thrown', () => {
  const dir = freshDir();
  mkdirSync(join(dir, STATE_FILE_NAME), { recursive: true });
  const r = readState(dir);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.reason, 'unreadable');
    assert.match(r.detail, /EISDIR/);
  }
});

test('values JSON cannot hold are refused with RangeError; nothing is written', () => {
  const dir = freshDir();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => writeState(dir, 1n, 'never'), { name: 'RangeError', message: /not JSON-serializable/ });
  assert.throws(() => writeState(dir, cyclic, 'never'), { name: 'RangeError', message: /not JSON-serializable/ });
  assert.throws(() => writeState(dir, undefined, 'never'), { name: 'RangeError', message: /value of type undefined/ });
  assert.ok(!existsSync(dir));
});

test('an unwritable location gives a SpoolError naming the path and errno; the old state stays', () => {
  const file = freshDir();
  writeFileSync(file, 'x');
  assert.throws(
    () => writeState(join(file, 'sub'), sample, 'never'),
    (err: unknown) => {
      assert.ok(err instanceof SpoolError);
      assert.equal(err.message, `cannot save state: create directory ${join(file, 'sub')} failed: ENOTDIR`);
      assert.equal(err.code, 'ENOTDIR');
      return true;
    },
  );
  const dir = freshDir();
  writeState(dir, { n: 1 }, 'never');
  mkdirSync(join(dir, 'state.json.tmp')); // the temp name is taken by a directory: open fails
  assert.throws(() => writeState(dir, { n: 2 }, 'always'), { name: 'SpoolError', message: /write .*state\.json\.tmp failed: EISDIR/ });
  assert.deepEqual(readState(dir), { ok: true, value: { n: 1 } });
});
