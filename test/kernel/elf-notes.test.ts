/**
 * The GNU build-id parser on hand-built ELF images (64/32-bit, both byte orders, notes before and
 * beyond the first page, odd and cut files), and the exe-file attachment's decoding.
 * Real binaries against readelf: test/process/executable-file.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildIdResult, BuildIdStatus, hexOf, parseElfBuildId, parseNoteSegment } from '../../src/kernel/elf-notes.js';
import {
  decodeExeFile,
  EXE_FILE_HEAD,
  EXE_FILE_STATX,
  ExeBuildId,
  encodeExeFile,
  exeFileKey,
  majorMinor,
  makedev,
} from '../../src/kernel/exe-file.js';
import { prng } from '../helpers/prng.js';

interface Note {
  name: string;
  type: number;
  desc: number[];
}

/** One note: namesz, descsz, type, name (NUL-terminated, padded to 4), desc (padded to 4). */
function note(n: Note, le: boolean): number[] {
  const name = [...Buffer.from(n.name), 0];
  const out: number[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    out.push(...b);
  };
  u32(name.length);
  u32(n.desc.length);
  u32(n.type);
  out.push(...name, ...Array((4 - (name.length % 4)) % 4).fill(0));
  out.push(...n.desc, ...Array((4 - (n.desc.length % 4)) % 4).fill(0));
  return out;
}

interface Segment {
  type: number;
  offset: number;
  bytes: number[];
}

/**
 * An ELF image: header, program headers right after it, each segment's bytes at its offset
 * (filesz = its length).
 */
function elf(is64: boolean, le: boolean, segs: Segment[], size = 4096): Uint8Array {
  const b = Buffer.alloc(Math.max(size, ...segs.map((s) => s.offset + s.bytes.length)));
  b.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  const w16 = (o: number, v: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const w32 = (o: number, v: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const w64 = (o: number, v: number) => (le ? b.writeBigUInt64LE(BigInt(v), o) : b.writeBigUInt64BE(BigInt(v), o));
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  if (is64) w64(32, ehsize);
  else w32(28, ehsize);
  w16(is64 ? 54 : 42, phentsize);
  w16(is64 ? 56 : 44, segs.length);
  segs.forEach((s, i) => {
    const ph = ehsize + i * phentsize;
    w32(ph, s.type);
    if (is64) {
      w64(ph + 8, s.offset);
      w64(ph + 32, s.bytes.length);
    } else {
      w32(ph + 4, s.offset);
      w32(ph + 16, s.bytes.length);
    }
    b.set(s.bytes, s.offset);
  });
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

const PT_LOAD = 1;
const PT_NOTE = 4;
const ID = [0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
const ABI_TAG: Note = { name: 'GNU', type: 1, desc: [0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0] };
const BUILD_ID: Note = { name: 'GNU', type: 3, desc: ID };

function parse(b: Uint8Array, len = Math.min(b.length, 4096)): BuildIdResult {
  return parseElfBuildId(b, len, new BuildIdResult());
}

test('the build id of the GNU note in a PT_NOTE segment, every class and byte order', () => {
  for (const is64 of [true, false]) {
    for (const le of [true, false]) {
      // The ABI tag note first, as linkers write them; another vendor's type 3 is not it.
      const notes = [...note(ABI_TAG, le), ...note({ name: 'Go', type: 3, desc: [1, 2, 3, 4] }, le), ...note(BUILD_ID, le)];
      const b = elf(is64, le, [
        { type: PT_LOAD, offset: 0, bytes: [] },
        { type: PT_NOTE, offset: 0x300, bytes: notes },
      ]);
      const r = parse(b);
      assert.equal(r.status, BuildIdStatus.found, `64-bit ${is64}, little endian ${le}`);
      assert.equal(hexOf(b, r.idOffset, r.idLength), 'deadbeef00112233445566778899aabbccddeeff');
    }
  }
});

test('no build id: no PT_NOTE, or notes without it; not ELF; headers that do not fit', () => {
  assert.equal(parse(elf(true, true, [{ type: PT_LOAD, offset: 0, bytes: [] }])).status, BuildIdStatus.none);
  assert.equal(parse(elf(true, true, [{ type: PT_NOTE, offset: 0x200, bytes: note(ABI_TAG, true) }])).status, BuildIdStatus.none);
  assert.equal(parse(elf(true, true, [])).status, BuildIdStatus.none);
  const script = new TextEncoder().encode('#!/bin/sh\necho hello\n');
  assert.equal(parse(script).status, BuildIdStatus.notElf);
  assert.equal(parse(new Uint8Array(0), 0).status, BuildIdStatus.notElf);
  // Cut after the magic, or with program headers beyond what was read.
  const b = elf(true, true, [{ type: PT_NOTE, offset: 0x300, bytes: note(BUILD_ID, true) }]);
  assert.equal(parse(b, 40).status, BuildIdStatus.malformed);
  assert.equal(parse(b, 100).status, BuildIdStatus.malformed);
  // An unknown class or byte order.
  const odd = b.slice();
  odd[4] = 3;
  assert.equal(parse(odd).status, BuildIdStatus.malformed);
});

test('notes with sizes past their segment, or an oversized id, are malformed, not read out of bounds', () => {
  const le = true;
  const long = note(BUILD_ID, le);
  long[4] = 0xff; // descsz 255: past the segment
  assert.equal(parse(elf(true, le, [{ type: PT_NOTE, offset: 0x200, bytes: long }])).status, BuildIdStatus.malformed);
  const huge = note({ name: 'GNU', type: 3, desc: Array(80).fill(7) }, le);
  assert.equal(parse(elf(true, le, [{ type: PT_NOTE, offset: 0x200, bytes: huge }])).status, BuildIdStatus.malformed);
  const empty = note({ name: 'GNU', type: 3, desc: [] }, le);
  assert.equal(parse(elf(true, le, [{ type: PT_NOTE, offset: 0x200, bytes: empty }])).status, BuildIdStatus.malformed);
});

test('a note segment beyond the first page is named for one more read, and found there', () => {
  for (const le of [true, false]) {
    const notes = [...note(ABI_TAG, le), ...note(BUILD_ID, le)];
    const b = elf(true, le, [{ type: PT_NOTE, offset: 0x2_0000, bytes: notes }]);
    const r = parse(b, 4096);
    assert.equal(r.status, BuildIdStatus.beyond);
    assert.deepEqual([r.needOffset, r.needLength], [0x2_0000, notes.length]);
    const seg = b.slice(r.needOffset, r.needOffset + r.needLength);
    parseNoteSegment(seg, seg.length, le, r);
    assert.equal(r.status, BuildIdStatus.found);
    assert.equal(hexOf(seg, r.idOffset, r.idLength), 'deadbeef00112233445566778899aabbccddeeff');
    // The whole file in hand: no second read needed.
    assert.equal(parse(b, b.length).status, BuildIdStatus.found);
  }
});

test('random bytes behind an ELF header never throw and never claim an id outside the bytes', () => {
  const rnd = prng(18);
  const r = new BuildIdResult();
  for (let i = 0; i < 2000; i++) {
    const b = new Uint8Array(64 + Math.floor(rnd() * 4000));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
    b.set([0x7f, 0x45, 0x4c, 0x46, 1 + Math.floor(rnd() * 2), 1 + Math.floor(rnd() * 2)]);
    // Small program header tables somewhere in the buffer, so notes get walked.
    b[56] = 1 + Math.floor(rnd() * 4);
    b[57] = 0;
    b[44] = b[56] as number;
    b[45] = 0;
    parseElfBuildId(b, b.length, r);
    if (r.status === BuildIdStatus.found) assert.ok(r.idOffset + r.idLength <= b.length, `seed 18 case ${i}`);
  }
});

test('the exe-file attachment: statx fields, device as makedev and major:minor, the build id and why it is missing', () => {
  assert.equal(makedev(8, 1), 2049);
  assert.equal(makedev(259, 300), 1114924);
  assert.equal(makedev(0, 0x100), 0x100000);
  const b = new Uint8Array(EXE_FILE_HEAD + 3);
  const v = new DataView(b.buffer);
  v.setUint32(16, 2, true); // nlink
  v.setUint32(20, 1000, true);
  v.setUint32(24, 100, true);
  v.setUint16(28, 0o100755, true);
  v.setBigUint64(32, 123456789012345n, true);
  v.setBigUint64(40, 4242n, true);
  v.setBigInt64(96, 1_700_000_001n, true); // ctime
  v.setUint32(104, 5, true);
  v.setBigInt64(112, 1_700_000_000n, true); // mtime
  v.setUint32(120, 999_999_999, true);
  v.setUint32(136, 253, true);
  v.setUint32(140, 2, true);
  b[EXE_FILE_STATX] = ExeBuildId.found;
  b[EXE_FILE_STATX + 1] = 3;
  b.set([0xab, 0xcd, 0xef], EXE_FILE_HEAD);
  const f = decodeExeFile(b);
  assert.deepEqual(f, {
    dev: makedev(253, 2),
    devMajor: 253,
    devMinor: 2,
    ino: 123456789012345n,
    size: 4242,
    mode: 0o100755,
    uid: 1000,
    gid: 100,
    nlink: 2,
    mtimeNs: 1_700_000_000_999_999_999n,
    ctimeNs: 1_700_000_001_000_000_005n,
    buildId: 'abcdef',
    buildIdMissing: null,
  });
  const none = b.slice(0, EXE_FILE_HEAD);
  none[EXE_FILE_STATX] = ExeBuildId.unreadable;
  none[EXE_FILE_STATX + 1] = 0;
  assert.equal(decodeExeFile(none)?.buildIdMissing, 'unreadable');
  none[EXE_FILE_STATX] = ExeBuildId.notElf;
  assert.equal(decodeExeFile(none)?.buildIdMissing, 'not_elf');
  // A found status with a length past the bytes is not trusted.
  none[EXE_FILE_STATX] = ExeBuildId.found;
  none[EXE_FILE_STATX + 1] = 20;
  assert.deepEqual([decodeExeFile(none)?.buildId, decodeExeFile(none)?.buildIdMissing], [null, 'malformed']);
  assert.equal(decodeExeFile(new Uint8Array(10)), null);
});

test('encode and decode are inverse; the identity key changes with each identity field, and majorMinor undoes makedev', () => {
  const f = {
    dev: makedev(259, 70_000),
    devMajor: 259,
    devMinor: 70_000,
    ino: 2n ** 63n + 11n,
    size: 123_456,
    mode: 0o102755,
    uid: 1000,
    gid: 50,
    nlink: 3,
    mtimeNs: 1_700_000_000_000_000_001n,
    ctimeNs: 1_700_000_002_999_999_999n,
    buildId: '00ff10',
    buildIdMissing: null,
  };
  assert.deepEqual(decodeExeFile(encodeExeFile(f)), f);
  const none = { ...f, buildId: null, buildIdMissing: 'not_elf' };
  assert.deepEqual(decodeExeFile(encodeExeFile(none)), none);
  const key = exeFileKey(encodeExeFile(f));
  assert.equal(exeFileKey(encodeExeFile({ ...f, buildId: 'aa' })), key, 'content facts are not identity');
  assert.equal(exeFileKey(encodeExeFile({ ...f, nlink: 1 })), key);
  for (const changed of [
    { ino: f.ino + 1n },
    { size: f.size + 1 },
    { mtimeNs: f.mtimeNs + 1n },
    { ctimeNs: f.ctimeNs + 1n },
    { devMinor: 1 },
    { devMajor: 8 },
    { uid: 0 },
    { mode: 0o100755 },
  ]) {
    assert.notEqual(
      exeFileKey(encodeExeFile({ ...f, ...changed })),
      key,
      JSON.stringify(changed, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
  }
  assert.equal(exeFileKey(new Uint8Array(EXE_FILE_HEAD - 1)), null);
  for (const [maj, min] of [
    [0, 0],
    [8, 1],
    [253, 7],
    [259, 70_000],
    [4095, 255],
    [4096, 256],
  ] as const) {
    assert.deepEqual(majorMinor(makedev(maj, min)), [maj, min]);
  }
});
