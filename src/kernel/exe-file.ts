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
