/**
 * Raw reads of /proc/<pid>/* as bytes, as early as possible after an event.
 *
 * Runs in the capture worker, right after recvmmsg returns an exec or fork: a short-lived program
 * can be gone a millisecond later (measured: 15–58 % of /bin/true cmdlines missed by a reader that
 * reads after queueing). Nothing is parsed here; the main thread parses. Reads go through one
 * reusable buffer, so a snapshot costs the syscalls and one copy.
 */
import { closeSync, openSync, readlinkSync, readSync } from 'node:fs';

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

export interface Attachment {
  file: number;
  status: ReadStatusValue;
  bytes: Uint8Array;
}

function statusOf(err: unknown): ReadStatusValue {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ESRCH') return ReadStatus.gone;
  if (code === 'EACCES' || code === 'EPERM') return ReadStatus.denied;
  return ReadStatus.failed;
}

export class ProcFileReader {
  private readonly scratch: Buffer;

  /** `maxBytes`: the most read of any one file (cmdline beyond it is flagged truncated). */
  constructor(
    private readonly maxBytes: number,
    private readonly root = '/proc',
  ) {
    this.scratch = Buffer.allocUnsafe(maxBytes + 1);
  }

  private readFile(path: string, file: number, limit: number): Attachment {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      return { file, status: statusOf(err), bytes: new Uint8Array(0) };
    }
    try {
      let n = 0;
      for (;;) {
        const r = readSync(fd, this.scratch, n, limit + 1 - n, null);
        if (r === 0) break;
        n += r;
        if (n > limit) break;
      }
      const truncated = n > limit;
      return {
        file,
        status: truncated ? ReadStatus.truncated : ReadStatus.ok,
        bytes: Uint8Array.prototype.slice.call(this.scratch, 0, Math.min(n, limit)),
      };
    } catch (err) {
      return { file, status: statusOf(err), bytes: new Uint8Array(0) };
    } finally {
      closeSync(fd);
    }
  }

  private readLink(path: string, file: number): Attachment {
    try {
      const b = readlinkSync(path, { encoding: 'buffer' });
      return { file, status: ReadStatus.ok, bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) };
    } catch (err) {
      return { file, status: statusOf(err), bytes: new Uint8Array(0) };
    }
  }

  /** What a fork needs: the child's stat (start time for its id, ppid, comm). */
  forkSnapshot(pid: number, out: Attachment[]): void {
    out.push(this.readFile(`${this.root}/${pid}/stat`, ProcFile.stat, 4096));
  }

  /** Everything an exec record carries. stat first: a zombie keeps it after the rest is gone. */
  execSnapshot(pid: number, out: Attachment[]): void {
    const dir = `${this.root}/${pid}`;
    out.push(this.readFile(`${dir}/cmdline`, ProcFile.cmdline, this.maxBytes));
    out.push(this.readLink(`${dir}/exe`, ProcFile.exe));
    out.push(this.readFile(`${dir}/stat`, ProcFile.stat, 4096));
    out.push(this.readFile(`${dir}/status`, ProcFile.status, 8192));
    out.push(this.readLink(`${dir}/cwd`, ProcFile.cwd));
    out.push(this.readFile(`${dir}/cgroup`, ProcFile.cgroup, 8192));
    out.push(this.readFile(`${dir}/loginuid`, ProcFile.loginuid, 32));
    out.push(this.readFile(`${dir}/sessionid`, ProcFile.sessionid, 32));
  }
}
