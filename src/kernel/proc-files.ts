/**
 * Raw reads of /proc/<pid>/* as bytes, as early as possible after an event.
 *
 * Runs in the capture worker, right after recvmmsg returns an exec or fork: a short-lived program
 * can be gone a millisecond later (measured: 15–58 % of /bin/true cmdlines missed by a reader that
 * reads after queueing). Nothing is parsed here; the main thread parses.
 *
 * At 1,600 exec/s this is most of the capture thread's CPU, so it goes straight to libc through
 * koffi instead of node:fs (measured with `npm run bench -- storm`, see docs/benchmarks.md):
 * - an exec opens /proc/<pid> once (O_PATH) and reads every file relative to it (openat,
 *   readlinkat), so the pid is looked up once, and every file comes from the same process even if
 *   the pid were reused mid-snapshot (the dirfd then fails instead of reading a stranger);
 * - when the process was already reaped, the first failure ends the snapshot: the rest are marked
 *   gone without trying (a vanished /bin/true used to cost 8 failed opens and 8 thrown errors);
 * - each file is read with one read() into a reused buffer: these /proc files (seq_file single
 *   records, cmdline) return their whole content in one read when the buffer is large enough, so
 *   the extra read() that only confirms end-of-file is skipped;
 * - failures are errno values, not thrown exceptions.
 */
import { constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BuildIdResult, BuildIdStatus, MAX_NOTE_SEGMENT, parseElfBuildId, parseNoteSegment } from './elf-notes.js';
import { EXE_FILE_HEAD, EXE_FILE_STATX, ExeBuildId, STATX_BUF, STATX_MASK } from './exe-file.js';

/** Which file an attachment holds. Values are part of the worker→main record format. */
export const ProcFile = {
  stat: 1,
  status: 2,
  cmdline: 3,
  exe: 4,
  cwd: 5,
  cgroup: 6,
  loginuid: 7,
  sessionid: 8,
  /** The executable file itself: its statx identity and GNU build id (./exe-file.ts), through /proc/<pid>/exe. */
  exeFile: 9,
  // Namespace links (ns/<type>), read when process.executableMount or process.namespaces asks.
  nsMnt: 10,
  nsPid: 11,
  nsNet: 12,
  nsUser: 13,
  nsUts: 14,
  nsIpc: 15,
  nsCgroup: 16,
  nsTime: 17,
} as const;
export type ProcFileName = keyof typeof ProcFile;
export const PROC_FILE_NAMES: readonly ProcFileName[] = Object.keys(ProcFile) as ProcFileName[];

/** Outcome of one read. */
export const ReadStatus = {
  ok: 0,
  /** The process (or file) was gone: it exited and was reaped, or the pid never lived long enough. */
  gone: 1,
  /** Not allowed (another user's process without CAP_SYS_PTRACE). */
  denied: 2,
  /** Any other error. */
  failed: 3,
  /** The read stopped at the size limit (cmdline). */
  truncated: 4,
} as const;
export type ReadStatusValue = (typeof ReadStatus)[keyof typeof ReadStatus];

/**
 * Which namespace links an exec snapshot reads (readlinkat through the O_PATH fd, ~1 µs each):
 * none; the mount namespace only (to find the executable's mount, process/mounts.ts); or all.
 */
export type NamespaceReads = 'none' | 'mnt' | 'all';

export interface Attachment {
  file: number;
  status: ReadStatusValue;
  bytes: Uint8Array;
}

/** Failed reads by errno: gone (ENOENT, ESRCH), denied (EACCES, EPERM), anything else failed. */
function statusOfErrno(errno: number): ReadStatusValue {
  if (errno === 2 || errno === 3) return ReadStatus.gone;
  if (errno === 13 || errno === 1) return ReadStatus.denied;
  return ReadStatus.failed;
}

/** The libc calls this reader makes; paths are NUL-terminated byte strings. */
interface ProcSys {
  openat(dirfd: number, path: Uint8Array, flags: number, mode: number): number;
  read(fd: number, buf: Uint8Array, count: number): number;
  readlinkat(dirfd: number, path: Uint8Array, buf: Uint8Array, size: number): number;
  pread(fd: number, buf: Uint8Array, count: number, offset: number): number;
  statx(dirfd: number, path: Uint8Array, flags: number, mask: number, buf: Uint8Array): number;
  close(fd: number): number;
  errno(): number;
}

let sys: ProcSys | undefined;

/** Bound on first use, per thread (koffi bindings are per isolate), so importing this stays pure. */
function procSys(): ProcSys {
  if (sys) return sys;
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const openat = lib.func('int openat(int, const void *, int, int)');
  const read = lib.func('intptr_t read(int, void *, size_t)');
  const readlinkat = lib.func('intptr_t readlinkat(int, const void *, void *, size_t)');
  const close = lib.func('int close(int)');
  const pread = lib.func('intptr_t pread(int, void *, size_t, int64_t)');
  const statx = lib.func('int statx(int, const void *, int, unsigned int, void *)');
  sys = {
    openat: (d, p, f, m) => openat(d, p, f, m) as number,
    read: (fd, b, n) => Number(read(fd, b, n)),
    readlinkat: (d, p, b, n) => Number(readlinkat(d, p, b, n)),
    pread: (fd, b, n, o) => Number(pread(fd, b, n, o)),
    statx: (d, p, f, m, b) => statx(d, p, f, m, b) as number,
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
  };
  return sys;
}

const AT_FDCWD = -100;
// O_PATH and O_CLOEXEC have the same values on x86_64, arm64 and the generic ABI; node:fs does
// not export them. O_DIRECTORY differs between architectures: node:fs has the right one.
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const O_DIRECTORY = constants.O_DIRECTORY;
const O_RDONLY = 0;
/** statx on the fd itself (path ""). */
const AT_EMPTY_PATH = 0x1000;
/** Bytes of the executable read for its program headers and notes: the first page. */
const ELF_HEAD = 4096;
/** Longest link target kept (PATH_MAX). */
const LINK_MAX = 4096;

const utf8 = new TextEncoder();
const cstr = (s: string): Uint8Array => utf8.encode(`${s}\0`);
const STAT = utf8.encode('/stat');
const EMPTY = new Uint8Array(0);
const EMPTY_PATH = new Uint8Array(1);
const EXE = cstr('exe');

export class ProcFileReader {
  private readonly scratch: Uint8Array;
  private readonly link = new Uint8Array(LINK_MAX + 1);
  /** The executable's first page, a note segment beyond it, and the statx buffer (exeFileAt). */
  private readonly elf = new Uint8Array(Math.max(ELF_HEAD, MAX_NOTE_SEGMENT));
  private readonly stx = new Uint8Array(STATX_BUF);
  private readonly buildId = new BuildIdResult();
  /** "<root>/<pid>[/stat]\0", rebuilt in place per call: no string building per event. */
  private readonly path: Uint8Array;
  private readonly rootLen: number;
  private readonly sys: ProcSys;
  /**
   * CLOCK_MONOTONIC ns (process.hrtime, the clock of the kernel's event times) when the last exec
   * snapshot had read the files that say which program runs: cmdline and exe. An exec of the same
   * process stamped before this may be what those files show (see kernel/exec-reads.ts).
   */
  programReadNs = 0n;

  /** The files an exec snapshot reads, in order. */
  private readonly files: readonly ExecFile[];

  /**
   * `maxBytes`: the most read of any one file (cmdline beyond it is flagged truncated).
   * `exeFile`: read the program file too (process.executableFile);
   * `namespaces`: which ns links an exec snapshot adds.
   */
  constructor(
    private readonly maxBytes: number,
    root = '/proc',
    exeFile = true,
    namespaces: NamespaceReads = 'none',
  ) {
    this.files = execFiles(exeFile, namespaces);
    this.scratch = new Uint8Array(Math.max(maxBytes, 8192) + 1);
    const r = utf8.encode(root);
    this.rootLen = r.length;
    this.path = new Uint8Array(r.length + 32);
    this.path.set(r);
    this.sys = procSys();
  }

  /** Writes "<root>/<pid>" (+ "/stat" when asked) and a NUL into the path buffer. */
  private setPath(pid: number, stat: boolean): void {
    const p = this.path;
    let i = this.rootLen;
    p[i++] = 0x2f; // '/'
    const digits = String(pid);
    for (let k = 0; k < digits.length; k++) p[i++] = digits.charCodeAt(k);
    if (stat) for (let k = 0; k < STAT.length; k++) p[i++] = STAT[k] as number;
    p[i] = 0;
  }

  /** One read of up to limit + 1 bytes from an open fd; closes it. */
  private readFd(fd: number, file: number, limit: number): Attachment {
    const n = this.sys.read(fd, this.scratch, limit + 1);
    const errno = n < 0 ? this.sys.errno() : 0;
    this.sys.close(fd);
    if (n < 0) return { file, status: statusOfErrno(errno), bytes: EMPTY };
    const truncated = n > limit;
    return { file, status: truncated ? ReadStatus.truncated : ReadStatus.ok, bytes: this.scratch.slice(0, truncated ? limit : n) };
  }

  private readAt(dirfd: number, name: Uint8Array, file: number, limit: number): Attachment {
    const fd = this.sys.openat(dirfd, name, O_CLOEXEC, 0);
    if (fd < 0) return { file, status: statusOfErrno(this.sys.errno()), bytes: EMPTY };
    return this.readFd(fd, file, limit);
  }

  private linkAt(dirfd: number, name: Uint8Array, file: number): Attachment {
    const n = this.sys.readlinkat(dirfd, name, this.link, this.link.length);
    if (n < 0) return { file, status: statusOfErrno(this.sys.errno()), bytes: EMPTY };
    return { file, status: n > LINK_MAX ? ReadStatus.truncated : ReadStatus.ok, bytes: this.link.slice(0, Math.min(n, LINK_MAX)) };
  }

  /**
   * The program file the process runs, through the exe link (which leads to the file even when it
   * was deleted or is a memfd): one open, a statx of that fd (its identity), one read of the first
   * page for the ELF program headers and the GNU build-id note (a second, bounded read only when a
   * note segment lies beyond the first page), a close. Bytes: see ./exe-file.ts.
   */
  private exeFileAt(dirfd: number, name: Uint8Array): Attachment {
    const file = ProcFile.exeFile;
    const fd = this.sys.openat(dirfd, name, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return { file, status: statusOfErrno(this.sys.errno()), bytes: EMPTY };
    if (this.sys.statx(fd, EMPTY_PATH, AT_EMPTY_PATH, STATX_MASK, this.stx) !== 0) {
      const errno = this.sys.errno();
      this.sys.close(fd);
      return { file, status: statusOfErrno(errno), bytes: EMPTY };
    }
    const r = this.buildId;
    let status: number = ExeBuildId.unreadable;
    let idBytes: Uint8Array = EMPTY;
    const n = this.sys.pread(fd, this.elf, ELF_HEAD, 0);
    if (n >= 0) {
      parseElfBuildId(this.elf, n, r);
      if (r.status === BuildIdStatus.beyond) {
        const le = this.elf[5] === 1;
        const m = this.sys.pread(fd, this.elf, r.needLength, r.needOffset);
        if (m >= 0) parseNoteSegment(this.elf, m, le, r);
      }
      // Still beyond: the second read failed (unreadable).
      if (r.status !== BuildIdStatus.beyond) status = r.status;
      if (r.status === BuildIdStatus.found) idBytes = this.elf.subarray(r.idOffset, r.idOffset + r.idLength);
    }
    this.sys.close(fd);
    const bytes = new Uint8Array(EXE_FILE_HEAD + idBytes.length);
    bytes.set(this.stx.subarray(0, EXE_FILE_STATX));
    bytes[EXE_FILE_STATX] = status;
    bytes[EXE_FILE_STATX + 1] = idBytes.length;
    bytes.set(idBytes, EXE_FILE_HEAD);
    return { file, status: ReadStatus.ok, bytes };
  }

  /** The program file alone (ProcFile.exeFile), as an exec snapshot reads it: for measuring its cost (bench/security.ts). */
  exeFileSnapshot(pid: number, out: Attachment[]): void {
    this.setPath(pid, false);
    const dirfd = this.sys.openat(AT_FDCWD, this.path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (dirfd < 0) {
      out.push({ file: ProcFile.exeFile, status: statusOfErrno(this.sys.errno()), bytes: EMPTY });
      return;
    }
    out.push(this.exeFileAt(dirfd, EXE));
    this.sys.close(dirfd);
  }

  /** What a fork needs: the child's stat (start time for its id, ppid, comm). One open by full path. */
  forkSnapshot(pid: number, out: Attachment[]): void {
    this.setPath(pid, true);
    const fd = this.sys.openat(AT_FDCWD, this.path, O_CLOEXEC, 0);
    if (fd < 0) out.push({ file: ProcFile.stat, status: statusOfErrno(this.sys.errno()), bytes: EMPTY });
    else out.push(this.readFd(fd, ProcFile.stat, 4096));
  }

  /** Everything an exec record carries, in {@link EXEC_FILES} order. */
  execSnapshot(pid: number, out: Attachment[]): void {
    this.setPath(pid, false);
    const dirfd = this.sys.openat(AT_FDCWD, this.path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (dirfd < 0) {
      const status = statusOfErrno(this.sys.errno());
      for (const f of this.files) out.push({ file: f.file, status, bytes: EMPTY });
      return;
    }
    this.programReadNs = process.hrtime.bigint();
    let i = 0;
    const files = this.files;
    for (; i < files.length; i++) {
      const f = files[i] as ExecFile;
      const a =
        f.kind === LINK
          ? this.linkAt(dirfd, f.name, f.file)
          : f.kind === EXE_FILE
            ? this.exeFileAt(dirfd, f.name)
            : this.readAt(dirfd, f.name, f.file, f.limit || this.maxBytes);
      out.push(a);
      if (i === PROGRAM_FILES - 1) this.programReadNs = process.hrtime.bigint();
      // Reaped since the dirfd was opened: every other file fails the same way. (A zombie still
      // has its regular files, and exe alone can be gone then: only a regular file decides.)
      if (a.status === ReadStatus.gone && f.kind === READ) break;
    }
    for (i++; i < files.length; i++) out.push({ file: (files[i] as ExecFile).file, status: ReadStatus.gone, bytes: EMPTY });
    this.sys.close(dirfd);
  }
}

/** How an exec file is read: its bytes, a symlink (readlinkat), or the program file behind the exe link. */
const READ = 0;
const LINK = 1;
const EXE_FILE = 2;

interface ExecFile {
  file: number;
  name: Uint8Array;
  kind: typeof READ | typeof LINK | typeof EXE_FILE;
  /** Most bytes read; 0: the configured maxBytes (cmdline). */
  limit: number;
}

/** The files of an exec snapshot, in read order: cmdline and exe first, they vanish first. */
const EXEC_FILES: readonly ExecFile[] = [
  { file: ProcFile.cmdline, name: cstr('cmdline'), kind: READ, limit: 0 },
  { file: ProcFile.exe, name: cstr('exe'), kind: LINK, limit: 0 },
  // The program file goes with its process's memory, as exe does (a zombie has neither).
  { file: ProcFile.exeFile, name: cstr('exe'), kind: EXE_FILE, limit: 0 },
  { file: ProcFile.stat, name: cstr('stat'), kind: READ, limit: 4096 },
  { file: ProcFile.status, name: cstr('status'), kind: READ, limit: 8192 },
  { file: ProcFile.cwd, name: cstr('cwd'), kind: LINK, limit: 0 },
  { file: ProcFile.cgroup, name: cstr('cgroup'), kind: READ, limit: 8192 },
  { file: ProcFile.loginuid, name: cstr('loginuid'), kind: READ, limit: 32 },
  { file: ProcFile.sessionid, name: cstr('sessionid'), kind: READ, limit: 32 },
];

const NS_MNT: ExecFile = { file: ProcFile.nsMnt, name: cstr('ns/mnt'), kind: LINK, limit: 0 };
/** Every namespace but mnt; ns/time only where the kernel has time namespaces (5.6+, CONFIG_TIME_NS). */
function otherNamespaces(): ExecFile[] {
  const out: ExecFile[] = [
    { file: ProcFile.nsPid, name: cstr('ns/pid'), kind: LINK, limit: 0 },
    { file: ProcFile.nsNet, name: cstr('ns/net'), kind: LINK, limit: 0 },
    { file: ProcFile.nsUser, name: cstr('ns/user'), kind: LINK, limit: 0 },
    { file: ProcFile.nsUts, name: cstr('ns/uts'), kind: LINK, limit: 0 },
    { file: ProcFile.nsIpc, name: cstr('ns/ipc'), kind: LINK, limit: 0 },
    { file: ProcFile.nsCgroup, name: cstr('ns/cgroup'), kind: LINK, limit: 0 },
  ];
  if (existsSync('/proc/self/ns/time')) out.push({ file: ProcFile.nsTime, name: cstr('ns/time'), kind: LINK, limit: 0 });
  return out;
}

/**
 * The exec snapshot's files for the settings: the program file unless turned off, and the
 * namespace links asked for, last (read only while the process is there).
 */
function execFiles(exeFile: boolean, ns: NamespaceReads): readonly ExecFile[] {
  const base = exeFile ? EXEC_FILES : EXEC_FILES.filter((f) => f.kind !== EXE_FILE);
  if (ns === 'none') return base;
  if (ns === 'mnt') return [...base, NS_MNT];
  return [...base, NS_MNT, ...otherNamespaces()];
}

/** The first files of EXEC_FILES, which say which program runs (cmdline, exe). */
const PROGRAM_FILES = 2;

/** The files of an exec snapshot in the order they are read (and reported). */
export const EXEC_FILE_ORDER: readonly number[] = EXEC_FILES.map((f) => f.file);
