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
import { type HostNamespaces, nonHostTypes, parseNamespaceLink } from './namespaces.js';
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
  [ProcFile.nsMnt]: 'ns_mnt',
  [ProcFile.nsPid]: 'ns_pid',
  [ProcFile.nsNet]: 'ns_net',
  [ProcFile.nsUser]: 'ns_user',
  [ProcFile.nsUts]: 'ns_uts',
  [ProcFile.nsIpc]: 'ns_ipc',
  [ProcFile.nsCgroup]: 'ns_cgroup',
  [ProcFile.nsTime]: 'ns_time',
  [ProcFile.exeFile]: 'executable_file',
};

const REASON: Record<number, string> = {
  [ReadStatus.gone]: 'gone',
  [ReadStatus.denied]: 'denied',
  [ReadStatus.failed]: 'failed',
};

/** An ns link's inode; a link that is not "type:[inode]" is named in missing. */
function nsInode(b: Uint8Array, field: string, missing: string[]): number | null {
  const v = parseNamespaceLink(b);
  if (v === null) missing.push(`${field}:unreadable`);
  return v;
}

function msToHrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/**
 * `source`: why the snapshot was taken. `forkTime`: the fork event's time, the exact start.
 * `hostNs`: the host's namespaces, to say which of the process's are not (when they were read).
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
  hostNs: HostNamespaces | null = null,
  hasher: ExecutableHasher | null = null,
): ProcessInfo {
  const info = { ...(base ?? unknownProcess(tgid, null)) } as { -readonly [K in keyof ProcessInfo]: ProcessInfo[K] };
  info.source = source;
  // The namespaces the process had (inherited at fork): reused when the exec's reads find the same.
  const had = info.namespaces;
  if (source === 'exec') {
    // exec replaces the program: what the fork inherited from the parent no longer holds.
    info.exe = null;
    info.exeFile = null;
    info.argv = null;
    info.argvTruncated = false;
    info.comm = null;
    // Known again only from this exec's own reads.
    info.mntNs = null;
    info.namespaces = null;
    info.exeMount = null;
  }
  const missing: string[] = [];
  // Namespace links other than mnt (process.namespaces): gathered, then one object.
  let nsRead = false;
  let nsPid: number | null = null;
  let nsNet: number | null = null;
  let nsUser: number | null = null;
  let nsUts: number | null = null;
  let nsIpc: number | null = null;
  let nsCgroup: number | null = null;
  let nsTime: number | null = null;
  /** Index of the program file's attachment: decoded after the loop, once the exe path is known. */
  let fileAt = -1;
  for (let i = 0; i < snapshot.length; i++) {
    const a = snapshot[i] as Attachment;
    if (a.file >= ProcFile.nsPid) nsRead = true;
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
      case ProcFile.nsMnt:
        info.mntNs = nsInode(b, 'ns_mnt', missing);
        break;
      case ProcFile.nsPid:
        nsPid = nsInode(b, 'ns_pid', missing);
        break;
      case ProcFile.nsNet:
        nsNet = nsInode(b, 'ns_net', missing);
        break;
      case ProcFile.nsUser:
        nsUser = nsInode(b, 'ns_user', missing);
        break;
      case ProcFile.nsUts:
        nsUts = nsInode(b, 'ns_uts', missing);
        break;
      case ProcFile.nsIpc:
        nsIpc = nsInode(b, 'ns_ipc', missing);
        break;
      case ProcFile.nsCgroup:
        nsCgroup = nsInode(b, 'ns_cgroup', missing);
        break;
      case ProcFile.nsTime:
        nsTime = nsInode(b, 'ns_time', missing);
        break;
    }
  }
  if (nsRead) {
    if (
      had !== null &&
      had.pid === nsPid &&
      had.mnt === info.mntNs &&
      had.net === nsNet &&
      had.user === nsUser &&
      had.uts === nsUts &&
      had.ipc === nsIpc &&
      had.cgroup === nsCgroup &&
      had.time === nsTime &&
      (had.nonHost !== null) === (hostNs !== null)
    ) {
      // Nearly every exec: the parent's namespaces, one shared object (no allocation, no comparison with the host's).
      info.namespaces = had;
    } else {
      const ns = { pid: nsPid, mnt: info.mntNs, net: nsNet, user: nsUser, uts: nsUts, ipc: nsIpc, cgroup: nsCgroup, time: nsTime };
      info.namespaces = { ...ns, nonHost: hostNs !== null ? nonHostTypes(ns, hostNs) : null };
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
