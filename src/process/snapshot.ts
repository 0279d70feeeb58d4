/**
 * Turns a raw /proc snapshot (kernel/proc-files.ts) into a ProcessInfo, on top of what was already known.
 * Every field the snapshot should have had but did not is named in `missing`, so a record can say
 * "cmdline: gone" instead of silently lacking it.
 */
import type { HrTime } from '../kernel/events.js';
import { decodeExeFile } from '../kernel/exe-file.js';
import { type Attachment, ProcFile, ReadStatus } from '../kernel/proc-files.js';
import { escapeBytes } from '../util/escape.js';
import { parseStatusCapabilities } from './capabilities.js';
import { cgroupIdentity } from './container.js';
import { type ExecutableHasher, unhashedFile } from './executable-hash.js';
import { type HostClock, processEntityId, startTimeMs } from './identity.js';
import { type ProcessInfo, UNSET_ID, unknownProcess } from './model.js';
import { parseCgroup, parseCmdline, parseDecimal, parseStat, parseStatusIds } from './parse.js';

const FILE_FIELD: Record<number, string> = {
  [ProcFile.stat]: 'stat',
  [ProcFile.status]: 'ids',
  [ProcFile.cmdline]: 'argv',
  [ProcFile.exe]: 'exe',
  [ProcFile.cwd]: 'cwd',
  [ProcFile.cgroup]: 'cgroup',
  [ProcFile.loginuid]: 'login_uid',
  [ProcFile.sessionid]: 'audit_session_id',
  [ProcFile.exeFile]: 'executable_file',
};

const REASON: Record<number, string> = {
  [ReadStatus.gone]: 'gone',
  [ReadStatus.denied]: 'denied',
  [ReadStatus.failed]: 'failed',
};

function msToHrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/**
 * `source`: why the snapshot was taken. `forkTime`: the fork event's time, the exact start.
 * `hasher`: gives the program file of an exec (or of a process found by the start-up scan) its
 * shared object (hash known or queued); without it the file is described but never hashed.
 */
export function applySnapshot(
  tgid: number,
  snapshot: readonly Attachment[],
  base: ProcessInfo | undefined,
  host: HostClock,
  source: ProcessInfo['source'],
  forkTime: HrTime | null = null,
  hasher: ExecutableHasher | null = null,
): ProcessInfo {
  const info = { ...(base ?? unknownProcess(tgid, null)) } as { -readonly [K in keyof ProcessInfo]: ProcessInfo[K] };
  info.source = source;
  if (source === 'exec') {
    // exec replaces the program: what the fork inherited from the parent no longer holds.
    info.exe = null;
    info.exeFile = null;
    info.argv = null;
    info.argvTruncated = false;
    info.comm = null;
  }
  const missing: string[] = [];
  /** Index of the program file's attachment: decoded after the loop, once the exe path is known. */
  let fileAt = -1;
  for (let i = 0; i < snapshot.length; i++) {
    const a = snapshot[i] as Attachment;
    if (a.status !== ReadStatus.ok && a.status !== ReadStatus.truncated) {
      // An empty cmdline read as "ok" is a kernel thread or a zombie; an error is what we name.
      missing.push(`${FILE_FIELD[a.file] ?? a.file}:${REASON[a.status] ?? 'failed'}`);
      continue;
    }
    const b = a.bytes;
    switch (a.file) {
      case ProcFile.stat: {
        const st = parseStat(b);
        if (!st) {
          missing.push('stat:unreadable');
          break;
        }
        info.comm = st.comm;
        info.ppid = st.ppid;
        info.pgid = st.pgid;
        info.sid = st.sid;
        info.ttyNr = st.ttyNr;
        if (info.startTicks !== st.startTicks) {
          info.startTicks = st.startTicks;
          info.entityId = processEntityId(host.bootId, tgid, st.startTicks);
          info.startTime = forkTime ?? msToHrTime(startTimeMs(host, st.startTicks));
        }
        break;
      }
      case ProcFile.status: {
        const ids = parseStatusIds(b);
        if (!ids) {
          missing.push('ids:unreadable');
          break;
        }
        [info.ruid, info.euid, info.suid] = ids.uid;
        [info.rgid, info.egid, info.sgid] = ids.gid;
        const caps = parseStatusCapabilities(b);
        info.capEffective = caps?.effective ?? null;
        info.capPermitted = caps?.permitted ?? null;
        break;
      }
      case ProcFile.cmdline: {
        if (b.length === 0) {
          // Exited (its memory is gone) between exec and our read, or a kernel thread.
          missing.push('argv:empty');
          info.argv = null;
          break;
        }
        const argv = parseCmdline(b, a.status === ReadStatus.truncated);
        info.argv = argv.args;
        info.argvTruncated = argv.truncated;
        break;
      }
      case ProcFile.exe:
        info.exe = escapeBytes(b);
        break;
      case ProcFile.exeFile:
        fileAt = i;
        break;
      case ProcFile.cwd:
        info.cwd = escapeBytes(b);
        break;
      case ProcFile.cgroup: {
        const path = parseCgroup(b);
        info.cgroup = path;
        const id = path === null ? null : cgroupIdentity(path);
        info.containerId = id?.containerId ?? null;
        info.containerRuntime = id?.runtime ?? null;
        info.podUid = id?.podUid ?? null;
        info.systemdUnit = id?.systemdUnit ?? null;
        break;
      }
      case ProcFile.loginuid: {
        const v = parseDecimal(b);
        info.loginUid = v === null || v === UNSET_ID ? null : v;
        break;
      }
      case ProcFile.sessionid: {
        const v = parseDecimal(b);
        info.auditSessionId = v === null || v === UNSET_ID ? null : v;
        break;
      }
    }
  }
  if (fileAt >= 0) {
    const bytes = (snapshot[fileAt] as Attachment).bytes;
    if (hasher !== null && source !== 'fork') info.exeFile = hasher.atExec(bytes, tgid, info.exe, source === 'exec');
    else {
      const facts = decodeExeFile(bytes);
      info.exeFile = facts === null ? null : unhashedFile(facts);
    }
    if (info.exeFile === null) missing.push('executable_file:unreadable');
  }
  info.missing = missing;
  return info;
}
