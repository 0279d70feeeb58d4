/**
 * The exe-file attachment of an exec snapshot (ProcFile.exeFile, read by ./proc-files.ts on the
 * capture thread): what the program file is, from a statx of the file behind /proc/<pid>/exe and
 * the GNU build id of its ELF headers (./elf-notes.ts).
 *
 * Bytes: the first EXE_FILE_STATX bytes of struct statx as the kernel wrote them (its layout is the
 * same on every architecture, include/uapi/linux/stat.h), then u8 build-id status (ExeBuildId),
 * u8 build-id length, u16 0, then the build id. Written and read on the same host, little endian
 * fields are read in the host's order (x86-64 and arm64 here).
 */
import { BuildIdStatus, hexOf } from './elf-notes.js';

/** struct statx as the kernel fills it (256 bytes). */
export const STATX_BUF = 256;
/** STATX_TYPE | MODE | NLINK | UID | GID | MTIME | CTIME | INO | SIZE: the fields kept. */
export const STATX_MASK = 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0010 | 0x0040 | 0x0080 | 0x0100 | 0x0200;
/** Bytes of struct statx kept: up to and including stx_dev_minor (@140). */
export const EXE_FILE_STATX = 144;
export const EXE_FILE_HEAD = EXE_FILE_STATX + 4;

/** The build id's status byte: elf-notes' statuses, and unreadable (the read itself failed). */
export const ExeBuildId = {
  found: BuildIdStatus.found,
  none: BuildIdStatus.none,
  notElf: BuildIdStatus.notElf,
  malformed: BuildIdStatus.malformed,
  unreadable: 5,
} as const;

/** Why an executable has no build id, as the record's cnproc.process.executable.build_id_missing says it. */
const NO_BUILD_ID: Record<number, string> = {
  [ExeBuildId.none]: 'none',
  [ExeBuildId.notElf]: 'not_elf',
  [ExeBuildId.malformed]: 'malformed',
  [ExeBuildId.unreadable]: 'unreadable',
};

/** What the program file is. Times are nanoseconds since the epoch, as bigint (exact). */
export interface ExeFileFacts {
  /** st_dev as glibc's makedev(major, minor) encodes it (what node:fs stat returns as dev). */
  dev: number;
  devMajor: number;
  devMinor: number;
  ino: bigint;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Lower-case hex; null when there is none (buildIdMissing says why). */
  buildId: string | null;
  buildIdMissing: string | null;
}

/** glibc's makedev (gnu_dev_makedev), as a number: exact for every major and minor below 2^20. */
export function makedev(major: number, minor: number): number {
  return (major & 0xfffff000) * 2 ** 32 + (((major & 0xfff) << 8) | (minor & 0xff)) + (minor & 0xffffff00) * 2 ** 12;
}

function timeNs(v: DataView, off: number): bigint {
  return v.getBigInt64(off, true) * 1_000_000_000n + BigInt(v.getUint32(off + 8, true));
}

/** The byte ranges of the attachment that make a file's identity: uid, gid, mode, ino, size; ctime; mtime; dev. */
const KEY_RANGES: readonly (readonly [number, number])[] = [
  [20, 48],
  [96, 108],
  [112, 124],
  [136, 144],
];

/** Code units of a key, reused (30: the ranges' 60 bytes). */
const KEY_UNITS = new Uint16Array(30);

/**
 * The identity key of the file an attachment describes, straight from its bytes (no decoding: a
 * known file costs this and one Map lookup per exec): device, inode, size, mtime and ctime (a
 * replaced or modified file gets another key), and owner and mode (whose changes move ctime anyway).
 * null when the attachment is too short.
 */
export function exeFileKey(b: Uint8Array): string | null {
  if (b.length < EXE_FILE_HEAD) return null;
  let j = 0;
  for (let r = 0; r < KEY_RANGES.length; r++) {
    const [from, to] = KEY_RANGES[r] as readonly [number, number];
    for (let i = from; i < to; i += 2) KEY_UNITS[j++] = (b[i] as number) | ((b[i + 1] as number) << 8);
  }
  // One flat string from the code units (a concatenation per unit would make a rope the Map lookup must flatten).
  return String.fromCharCode.apply(null, KEY_UNITS as unknown as number[]);
}

/**
 * The attachment for `f` as the capture thread writes it (the fields decodeExeFile reads; the
 * build id's status from buildIdMissing). For tests and benchmarks, which describe files by stat.
 */
export function encodeExeFile(f: ExeFileFacts): Uint8Array {
  const id = f.buildId ?? '';
  const b = new Uint8Array(EXE_FILE_HEAD + id.length / 2);
  const v = new DataView(b.buffer);
  v.setUint32(16, f.nlink, true);
  v.setUint32(20, f.uid, true);
  v.setUint32(24, f.gid, true);
  v.setUint16(28, f.mode, true);
  v.setBigUint64(32, f.ino, true);
  v.setBigUint64(40, BigInt(f.size), true);
  v.setBigInt64(96, f.ctimeNs / 1_000_000_000n, true);
  v.setUint32(104, Number(f.ctimeNs % 1_000_000_000n), true);
  v.setBigInt64(112, f.mtimeNs / 1_000_000_000n, true);
  v.setUint32(120, Number(f.mtimeNs % 1_000_000_000n), true);
  v.setUint32(136, f.devMajor, true);
  v.setUint32(140, f.devMinor, true);
  const status = Object.entries(NO_BUILD_ID).find(([, name]) => name === f.buildIdMissing)?.[0];
  b[EXE_FILE_STATX] = f.buildId !== null ? ExeBuildId.found : Number(status ?? ExeBuildId.malformed);
  b[EXE_FILE_STATX + 1] = id.length / 2;
  for (let i = 0; i < id.length / 2; i++) b[EXE_FILE_HEAD + i] = Number.parseInt(id.slice(2 * i, 2 * i + 2), 16);
  return b;
}

/** Major and minor of a device number as glibc's makedev encodes them (node:fs stat's dev). */
export function majorMinor(dev: number): [number, number] {
  const hi = Math.floor(dev / 2 ** 32);
  const lo = dev >>> 0;
  return [(((lo >>> 8) & 0xfff) | (hi & ~0xfff)) >>> 0, ((lo & 0xff) | (((lo >>> 12) | (hi << 20)) & ~0xff)) >>> 0];
}

/** Decodes the attachment; null when it is too short to be one (never from the capture thread). */
export function decodeExeFile(b: Uint8Array): ExeFileFacts | null {
  if (b.length < EXE_FILE_HEAD) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const status = b[EXE_FILE_STATX] as number;
  const len = b[EXE_FILE_STATX + 1] as number;
  const found = status === ExeBuildId.found && len > 0 && b.length >= EXE_FILE_HEAD + len;
  return {
    dev: makedev(v.getUint32(136, true), v.getUint32(140, true)),
    devMajor: v.getUint32(136, true),
    devMinor: v.getUint32(140, true),
    ino: v.getBigUint64(32, true),
    size: Number(v.getBigUint64(40, true)),
    mode: v.getUint16(28, true),
    uid: v.getUint32(20, true),
    gid: v.getUint32(24, true),
    nlink: v.getUint32(16, true),
    mtimeNs: timeNs(v, 112),
    ctimeNs: timeNs(v, 96),
    buildId: found ? hexOf(b, EXE_FILE_HEAD, len) : null,
    buildIdMissing: found ? null : (NO_BUILD_ID[status] ?? 'malformed'),
  };
}
