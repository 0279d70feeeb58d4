/**
 * Which mount an exec's program is on, in the process's own mount namespace, and whether that is
 * unusual enough to flag (issue 18 item 3):
 *
 * - tmpfs: the mount is memory-backed (tmpfs, ramfs, devtmpfs): /dev/shm, /run, a tmpfs /tmp or
 *   one mounted for the occasion. Programs are installed on disk; one run from memory leaves nothing
 *   behind after a reboot, the classic drop location of a downloaded payload.
 * - upper_layer: the mount is an overlay (a container's root) and the file is in its upperdir, the
 *   container's writable layer: a program added or changed after the image was built (Falco's
 *   proc.is_exe_upper_layer). A program of the image is in a lower layer and is not flagged.
 *
 * "Writable mount" alone is not a flag: the root file system is writable on every host, so it would
 * flag every program. (Falco's other notion, the file writable by the process's own effective user,
 * needs the file's owner and mode: not done here.)
 *
 * How: the capture thread reads ns/mnt with each exec (one readlink). Here, one table per mount
 * namespace, parsed from /proc/<pid>/mountinfo of the first exec seen in it (or its parent, or the
 * agent's own for the agent's namespace), and kept with that file open: poll() on it reports any
 * mount or unmount in the namespace since the last look (POLLPRI, the kernel's mount event
 * counter), so a table is re-read exactly when it changed, never stale (a tmpfs mounted and a
 * program run from it a microsecond later is seen). The open file pins the namespace: tables are
 * bounded in number and closed after an idle time. The executable path, which the kernel writes
 * relative to the process's mount namespace root (as mountinfo's mount points are), is matched to
 * the longest mount point that contains it (the last one mounted, where one covers another). A
 * process that chroot()ed inside its namespace shows paths relative to its root in mountinfo but
 * not in the exe link: its match is the table's best guess.
 *
 * The upperdir path is the mounter's view (the runtime's, on the host): it is looked up under
 * process.hostRoot. Rootless podman's fuse-overlayfs shows no upperdir: not flagged.
 */
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { libc } from '../kernel/libc.js';
import { escapeBytes } from '../util/escape.js';
import { parseNamespaceLink } from './namespaces.js';

export type ExecutableMountKind = 'tmpfs' | 'upper_layer';

/** A flagged executable's mount, the evidence (shared by every exec from the same mount). */
export interface ExecutableMount {
  readonly kind: ExecutableMountKind;
  /** Mount point in the process's mount namespace (escaped as paths are, util/escape.ts). */
  readonly mountPoint: string;
  readonly fsType: string;
  /** upper_layer: the overlay's upperdir (the mounter's path) that holds the file; else null. */
  readonly upperDir: string | null;
}

export interface MountEntry {
  /** Escaped as the exe path is, so the two compare as strings. */
  readonly mountPoint: string;
  /** The mount's root within its file system (mountinfo field 4), raw bytes. */
  readonly root: Buffer;
  readonly fsType: string;
  /** overlay: the upperdir option, raw bytes; null otherwise or when none. */
  readonly upperDir: Buffer | null;
}

/** File systems whose files live in memory. */
export const MEMORY_FILE_SYSTEMS: ReadonlySet<string> = new Set(['tmpfs', 'ramfs', 'devtmpfs']);

/** mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash; overlay options also \054 comma) decoded. */
function unescapeOctal(b: Buffer): Buffer {
  if (b.indexOf(0x5c) < 0) return b;
  const out = Buffer.alloc(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x5c && i + 3 < b.length && isOct(b[i + 1]) && isOct(b[i + 2]) && isOct(b[i + 3])) {
      out[n++] = ((b[i + 1] as number) - 0x30) * 64 + ((b[i + 2] as number) - 0x30) * 8 + ((b[i + 3] as number) - 0x30);
      i += 3;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

function isOct(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x37;
}

/** The mounts of a mountinfo file, in its order (a malformed line is skipped). */
export function parseMountinfo(bytes: Uint8Array): MountEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: MountEntry[] = [];
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    const line = buf.subarray(start, end);
    start = end + 1;
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    const f: Buffer[] = [];
    let s = 0;
    for (let i = 0; i <= line.length; i++) {
      if (i === line.length || line[i] === 0x20) {
        if (i > s) f.push(line.subarray(s, i));
        s = i + 1;
      }
    }
    let sep = -1;
    for (let i = 6; i < f.length; i++) {
      const x = f[i] as Buffer;
      if (x.length === 1 && x[0] === 0x2d) {
        sep = i;
        break;
      }
    }
    if (sep < 0 || f.length < sep + 3) continue;
    const fsType = (f[sep + 1] as Buffer).toString('latin1');
    let upperDir: Buffer | null = null;
    if (fsType === 'overlay') {
      const opts = f[sep + 3];
      if (opts !== undefined) {
        for (const o of opts.toString('latin1').split(',')) {
          if (o.startsWith('upperdir=')) upperDir = unescapeOctal(Buffer.from(o.slice(9), 'latin1'));
        }
      }
    }
    out.push({ mountPoint: escapeBytes(unescapeOctal(f[4] as Buffer)), root: unescapeOctal(f[3] as Buffer), fsType, upperDir });
  }
  return out;
}

/** The mount holding `path`: the longest mount point containing it, the last one listed among equals (it covers the others). */
export function mountOf(mounts: readonly MountEntry[], path: string): MountEntry | null {
  let best: MountEntry | null = null;
  let bestLen = -1;
  for (let i = 0; i < mounts.length; i++) {
    const m = mounts[i] as MountEntry;
    const mp = m.mountPoint;
    const len = mp.length;
    if (len < bestLen) continue;
    if (mp === '/' ? path.charCodeAt(0) === 0x2f : path.startsWith(mp) && (path.length === len || path.charCodeAt(len) === 0x2f)) {
      best = m;
      bestLen = len;
    }
  }
  return best;
}

/** Why a program's mount is unknown (a cnproc.process.missing reason: "exe_mount:<reason>"). */
export type MountUnknown = 'gone' | 'denied' | 'unmatched' | 'upper_unreachable' | 'too_large';

interface Table {
  fd: number;
  mounts: MountEntry[];
  /** exe path → its mount (null: none matched); cleared when the table is re-read. */
  byExe: Map<string, MountEntry | null>;
  lastUsed: number;
  /** Results shared by every flagged exec of a mount. */
  results: Map<MountEntry, ExecutableMount>;
  /** Whether each overlay's upperdir is reachable from here (checked once per table read). */
  upperReachable: Map<MountEntry, boolean>;
}

export interface MountTablesOptions {
  /** Where the host's root is mounted for the agent ('' = /): upperdirs are host paths. */
  hostRoot?: string;
  procRoot?: string;
  /** Most mount namespaces with an open table (each pins its namespace). */
  maxNamespaces?: number;
  /** A table unused this long is closed (ms). */
  idleMs?: number;
}

export interface MountTablesStats {
  /** Tables open now. */
  open: number;
  /** Mount namespaces whose table was opened since start. */
  namespaces: number;
  /** mountinfo reads (first reads and re-reads after a mount change). */
  reads: number;
  /** Lookups that could not say (each also named in the record's cnproc.process.missing). */
  unknown: number;
}

const MAX_MOUNTINFO = 16 * 1_048_576;
const EXE_CACHE = 4096;
const POLLPRI = 0x2;
const POLLERR = 0x8;

export class MountTables {
  private readonly tables = new Map<number, Table>();
  private readonly hostRoot: string;
  private readonly procRoot: string;
  private readonly max: number;
  private readonly idleMs: number;
  /** The agent's own mount namespace (its table comes from /proc/self: paths as the agent resolves them). */
  readonly selfNs: number | null;
  private buf = Buffer.alloc(65_536);
  /** One struct pollfd (int fd; short events; short revents), reused: no allocation per look. */
  private readonly pfd = new Int16Array(4);
  private readonly pfdFd = new Int32Array(this.pfd.buffer, 0, 1);
  private lastSweep = 0;
  private reads = 0;
  private unknown = 0;
  private opened = 0;
  /**
   * The last process seen exec'ing in each mount namespace: where its table can be opened when the
   * process at hand and its parent are gone (a short-lived exec into a container whose table was
   * closed as idle). Bounded: cleared whole at EXE_CACHE entries.
   */
  private readonly lastPid = new Map<number, number>();

  constructor(opts: MountTablesOptions = {}) {
    this.hostRoot = opts.hostRoot ?? '';
    this.procRoot = opts.procRoot ?? '/proc';
    this.max = opts.maxNamespaces ?? 256;
    this.idleMs = opts.idleMs ?? 60_000;
    this.selfNs = this.nsOf('self');
  }

  stats(): MountTablesStats {
    return { open: this.tables.size, namespaces: this.opened, reads: this.reads, unknown: this.unknown };
  }

  private nsOf(pid: number | 'self'): number | null {
    try {
      return parseNamespaceLink(Buffer.from(readlinkSync(`${this.procRoot}/${pid}/ns/mnt`)));
    } catch {
      return null;
    }
  }

  /**
   * The flagged mount of process `pid` (parent `ppid`) in mount namespace `mntNs` running `exe`
   * (escaped, as ProcessInfo.exe), null when its mount is an ordinary one, or why it is unknown.
   */
  locate(pid: number, ppid: number | null, mntNs: number, exe: string, nowMs: number): ExecutableMount | MountUnknown | null {
    if (nowMs - this.lastSweep > 10_000) this.sweep(nowMs);
    let t = this.tables.get(mntNs);
    const last = this.lastPid.get(mntNs);
    if (last !== pid) {
      if (this.lastPid.size >= EXE_CACHE) this.lastPid.clear();
      this.lastPid.set(mntNs, pid);
    }
    if (t === undefined) {
      const opened = this.open(pid, ppid, last, mntNs);
      if (typeof opened === 'string') {
        this.unknown++;
        return opened;
      }
      t = opened;
    } else if (this.changed(t.fd)) {
      const r = this.read(t);
      if (r !== null) {
        this.unknown++;
        return r;
      }
    }
    t.lastUsed = nowMs;
    let m = t.byExe.get(exe);
    if (m === undefined) {
      m = mountOf(t.mounts, exe);
      if (t.byExe.size >= EXE_CACHE) t.byExe.clear();
      t.byExe.set(exe, m);
    }
    if (m === null) {
      this.unknown++;
      return 'unmatched';
    }
    if (MEMORY_FILE_SYSTEMS.has(m.fsType)) return this.result(t, m, 'tmpfs');
    if (m.upperDir === null) return null;
    let reachable = t.upperReachable.get(m);
    if (reachable === undefined) {
      reachable = existsSync(Buffer.concat([Buffer.from(this.hostRoot), m.upperDir]));
      t.upperReachable.set(m, reachable);
    }
    if (!reachable || exe.includes('\\')) {
      // An upperdir outside the agent's view, or a path whose escaped form is not its bytes.
      this.unknown++;
      return 'upper_unreachable';
    }
    const rel = m.mountPoint === '/' ? exe : exe.slice(m.mountPoint.length);
    const root = m.root.length === 1 && m.root[0] === 0x2f ? '' : m.root.toString();
    const st = lstatSync(Buffer.concat([Buffer.from(this.hostRoot), m.upperDir, Buffer.from(root + rel)]), { throwIfNoEntry: false });
    // A whiteout (a 0:0 character device) hides a lower file: it is not a program.
    return st !== undefined && !st.isCharacterDevice() ? this.result(t, m, 'upper_layer') : null;
  }

  private result(t: Table, m: MountEntry, kind: ExecutableMountKind): ExecutableMount {
    let r = t.results.get(m);
    if (r === undefined) {
      r = Object.freeze({
        kind,
        mountPoint: m.mountPoint,
        fsType: m.fsType,
        upperDir: kind === 'upper_layer' ? escapeBytes(m.upperDir as Buffer) : null,
      });
      t.results.set(m, r);
    }
    return r;
  }

  /** Whether the namespace's mounts changed since the table was read (POLLPRI on its mountinfo). */
  private changed(fd: number): boolean {
    const p = this.pfd;
    this.pfdFd[0] = fd;
    p[2] = POLLPRI;
    p[3] = 0;
    if (libc().poll(p, 1, 0) <= 0) return false;
    return ((p[3] as number) & (POLLPRI | POLLERR)) !== 0;
  }

  /**
   * Opens the table of `mntNs` from a process known to be in it: the agent, or the exec'ing process,
   * its parent, or the last process seen exec'ing there.
   */
  private open(pid: number, ppid: number | null, last: number | undefined, mntNs: number): Table | MountUnknown {
    let reason: MountUnknown = 'gone';
    const candidates: (number | 'self')[] = mntNs === this.selfNs ? ['self'] : [pid];
    if (ppid !== null && mntNs !== this.selfNs) candidates.push(ppid);
    if (last !== undefined && last !== pid && last !== ppid && mntNs !== this.selfNs) candidates.push(last);
    for (const c of candidates) {
      let fd: number;
      try {
        fd = openSync(`${this.procRoot}/${c}/mountinfo`, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EPERM') reason = 'denied';
        continue;
      }
      // The pid may be another process by now, or have left the namespace: its table is not this one.
      if (c !== 'self' && this.nsOf(c) !== mntNs) {
        closeSync(fd);
        continue;
      }
      const t: Table = { fd, mounts: [], byExe: new Map(), lastUsed: 0, results: new Map(), upperReachable: new Map() };
      const r = this.read(t);
      if (r !== null) {
        closeSync(fd);
        return r;
      }
      if (this.tables.size >= this.max) this.evictOldest();
      this.tables.set(mntNs, t);
      this.opened++;
      return t;
    }
    return reason;
  }

  /** (Re-)reads a table from its open mountinfo; null when done, else why not. */
  private read(t: Table): MountUnknown | null {
    this.reads++;
    // Take the change mark first: a mount during the read then shows at the next poll.
    this.changed(t.fd);
    let n = 0;
    try {
      for (;;) {
        if (n === this.buf.length) {
          if (this.buf.length >= MAX_MOUNTINFO) return 'too_large';
          const bigger = Buffer.alloc(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, n);
          this.buf = bigger;
        }
        const got = readSync(t.fd, this.buf, n, this.buf.length - n, n);
        if (got === 0) break;
        n += got;
      }
    } catch {
      return 'gone';
    }
    t.mounts = parseMountinfo(this.buf.subarray(0, n));
    t.byExe.clear();
    t.results.clear();
    t.upperReachable.clear();
    return null;
  }

  private evictOldest(): void {
    let oldest: number | null = null;
    let at = Number.POSITIVE_INFINITY;
    for (const [ns, t] of this.tables) {
      if (ns !== this.selfNs && t.lastUsed < at) {
        at = t.lastUsed;
        oldest = ns;
      }
    }
    if (oldest !== null) this.drop(oldest);
  }

  private sweep(nowMs: number): void {
    this.lastSweep = nowMs;
    // (lastPid keeps its entries: a closed table reopens through them.)
    for (const [ns, t] of this.tables) if (ns !== this.selfNs && nowMs - t.lastUsed > this.idleMs) this.drop(ns);
  }

  private drop(ns: number): void {
    const t = this.tables.get(ns);
    if (t === undefined) return;
    this.tables.delete(ns);
    try {
      closeSync(t.fd);
    } catch {
      // closed already
    }
  }

  /** Closes every table. */
  close(): void {
    for (const ns of [...this.tables.keys()]) this.drop(ns);
  }
}
