/**
 * The GNU build id of an ELF executable, from its program headers: the NT_GNU_BUILD_ID note of a
 * PT_NOTE segment. Pure: it reads the bytes it is given (the capture thread reads the first page of
 * the program it just saw exec, see ./proc-files.ts) and says what it found, never throws.
 *
 * Layout (elf(5)): e_ident[EI_CLASS] 1 = 32-bit, 2 = 64-bit; e_ident[EI_DATA] 1 = little, 2 = big
 * endian. e_phoff (32: @28 u32, 64: @32 u64), e_phentsize (@42 / @54), e_phnum (@44 / @56).
 * Program header: p_type @0 u32; p_offset (32: @4 u32, 64: @8 u64), p_filesz (32: @16, 64: @32).
 * Note: namesz u32, descsz u32, type u32, name padded to 4, desc padded to 4. NT_GNU_BUILD_ID = 3
 * with name "GNU\0".
 */

export const BuildIdStatus = {
  /** Found: `id` holds it. */
  found: 0,
  /** An ELF file without a build-id note (linked with --build-id=none). */
  none: 1,
  /** Not an ELF file (a script run by its interpreter is never the executable; a.out, or an odd file). */
  notElf: 2,
  /** ELF, but its headers or notes are inconsistent (cut, or crafted). */
  malformed: 3,
  /** A PT_NOTE segment lies beyond the bytes given: read `needOffset`/`needLength` and call parseNoteSegment. */
  beyond: 4,
} as const;
export type BuildIdStatusValue = (typeof BuildIdStatus)[keyof typeof BuildIdStatus];

export const BUILD_ID_STATUS_NAMES: Record<BuildIdStatusValue, string> = {
  0: 'found',
  1: 'none',
  2: 'not_elf',
  3: 'malformed',
  4: 'beyond',
};

/** Most bytes of one note segment read when it lies beyond the first page. */
export const MAX_NOTE_SEGMENT = 4096;
/** Longest build id kept (SHA-1 is 20 bytes, --build-id=0x... may be longer; the kernel's limit is 20 for its own use). */
export const MAX_BUILD_ID = 64;
/** Most program headers looked at. */
const MAX_PHNUM = 256;
const PT_NOTE = 4;
const NT_GNU_BUILD_ID = 3;

/** The outcome of one parse; reused (a plain object the caller owns, no allocation per call). */
export class BuildIdResult {
  status: BuildIdStatusValue = BuildIdStatus.none;
  /** Offset and length of the id in the bytes parsed (status found). */
  idOffset = 0;
  idLength = 0;
  /** A note segment to read next (status beyond). */
  needOffset = 0;
  needLength = 0;
}

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? (b[o] as number) | ((b[o + 1] as number) << 8) : ((b[o] as number) << 8) | (b[o + 1] as number);
}

function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0
    : (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

/** A u64 as a number; above 2^53 it is returned as Infinity (an offset no file here has). */
function u64(b: Uint8Array, o: number, le: boolean): number {
  const lo = u32(b, le ? o : o + 4, le);
  const hi = u32(b, le ? o + 4 : o, le);
  return hi >= 0x200000 ? Number.POSITIVE_INFINITY : hi * 0x1_0000_0000 + lo;
}

/**
 * Looks for the GNU build id in `b[0, len)`, the start of the file. When a PT_NOTE segment lies
 * beyond `len`, the first such segment is named in the result (status beyond) for one more read.
 */
export function parseElfBuildId(b: Uint8Array, len: number, out: BuildIdResult): BuildIdResult {
  out.status = BuildIdStatus.none;
  out.idOffset = 0;
  out.idLength = 0;
  out.needOffset = 0;
  out.needLength = 0;
  if (len < 16 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
    out.status = BuildIdStatus.notElf;
    return out;
  }
  const cls = b[4];
  const data = b[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) {
    out.status = BuildIdStatus.malformed;
    return out;
  }
  const is64 = cls === 2;
  const le = data === 1;
  if (len < (is64 ? 64 : 52)) {
    out.status = BuildIdStatus.malformed;
    return out;
  }
  const phoff = is64 ? u64(b, 32, le) : u32(b, 28, le);
  const phentsize = u16(b, is64 ? 54 : 42, le);
  const phnum = u16(b, is64 ? 56 : 44, le);
  if (phnum === 0) return out;
  if (phentsize < (is64 ? 56 : 32) || phnum > MAX_PHNUM || phoff + phentsize * phnum > len) {
    // Program headers are at the start of every linked executable (they must be mapped); headers
    // outside the first page are not what a linker writes.
    out.status = BuildIdStatus.malformed;
    return out;
  }
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (u32(b, ph, le) !== PT_NOTE) continue;
    const off = is64 ? u64(b, ph + 8, le) : u32(b, ph + 4, le);
    const size = is64 ? u64(b, ph + 32, le) : u32(b, ph + 16, le);
    if (off + size > len) {
      if (out.needLength === 0 && Number.isFinite(off + size)) {
        out.needOffset = off;
        out.needLength = Math.min(size, MAX_NOTE_SEGMENT);
      }
      continue;
    }
    const r = findGnuBuildId(b, off, off + size, le, out);
    if (r === BuildIdStatus.found || r === BuildIdStatus.malformed) {
      out.status = r;
      return out;
    }
  }
  if (out.needLength !== 0) out.status = BuildIdStatus.beyond;
  return out;
}

/**
 * Looks for the GNU build id in one note segment read on its own (`b[0, len)`); `le`: the file's
 * byte order (from parseElfBuildId's header: b[5] === 1).
 */
export function parseNoteSegment(b: Uint8Array, len: number, le: boolean, out: BuildIdResult): BuildIdResult {
  out.status = BuildIdStatus.none;
  out.needOffset = 0;
  out.needLength = 0;
  const r = findGnuBuildId(b, 0, len, le, out);
  out.status = r === BuildIdStatus.found || r === BuildIdStatus.malformed ? r : BuildIdStatus.none;
  return out;
}

/** Walks the notes in b[start, end): found (idOffset/idLength set), none, or malformed. */
function findGnuBuildId(b: Uint8Array, start: number, end: number, le: boolean, out: BuildIdResult): BuildIdStatusValue {
  let o = start;
  while (o + 12 <= end) {
    const namesz = u32(b, o, le);
    const descsz = u32(b, o + 4, le);
    const type = u32(b, o + 8, le);
    const name = o + 12;
    const desc = name + ((namesz + 3) & ~3);
    const next = desc + ((descsz + 3) & ~3);
    if (namesz > end || descsz > end || next > end + 3 || desc + descsz > end) return BuildIdStatus.malformed;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && b[name] === 0x47 && b[name + 1] === 0x4e && b[name + 2] === 0x55 && b[name + 3] === 0) {
      if (descsz === 0 || descsz > MAX_BUILD_ID) return BuildIdStatus.malformed;
      out.idOffset = desc;
      out.idLength = descsz;
      return BuildIdStatus.found;
    }
    o = next;
  }
  return BuildIdStatus.none;
}

const HEX = '0123456789abcdef';

/** Lower-case hex of b[off, off+len). */
export function hexOf(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len; i++) {
    const v = b[i] as number;
    s += HEX[v >> 4] + (HEX[v & 15] as string);
  }
  return s;
}
