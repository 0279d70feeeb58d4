/**
 * Namespace inodes of a process (the ns/<type> links the capture thread reads at exec when
 * process.namespaces is on), and whether each is the host's.
 *
 * "The host's" means the kernel's initial namespace of that type. The kernel numbers the initial
 * ipc, uts, user, pid, cgroup and time namespaces with fixed inodes (include/uapi/linux/nsfs.h,
 * 0xEFFFFFFF down to 0xEFFFFFFA) and, on recent kernels (6.18 here), the initial net and mnt ones
 * too (0xEFFFFFF9, 0xEFFFFFF8); every other namespace gets a dynamic inode from 0xF0000000 up. So
 * a fixed number is the host's wherever the agent itself runs (in a container too, hostPID or not).
 * On an older kernel whose initial net or mnt namespace has a dynamic inode, the reference for that
 * type is /proc/1/ns/<type> (pid 1 of the agent's pid namespace: the host's init when the agent
 * runs on the host or with hostPID), else the agent's own (it must share the host's network
 * namespace for the proc connector anyway); `HostNamespaces.sources` says which was used.
 */
import { readlinkSync } from 'node:fs';

export const NAMESPACE_TYPES = ['pid', 'mnt', 'net', 'user', 'uts', 'ipc', 'cgroup', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** The kernel's fixed inode of each initial namespace (nsfs.h, enum init_ns_ino). */
export const INITIAL_NAMESPACE_INODES: Readonly<Record<NamespaceType, number>> = {
  ipc: 0xefffffff,
  uts: 0xeffffffe,
  user: 0xeffffffd,
  pid: 0xeffffffc,
  cgroup: 0xeffffffb,
  time: 0xeffffffa,
  net: 0xeffffff9,
  mnt: 0xeffffff8,
};

/** First inode the kernel hands out dynamically (PROC_DYNAMIC_FIRST): below it, only the fixed ones. */
const DYNAMIC_FIRST = 0xf0000000;

/** A process's namespaces at its exec (null: not read, or the read failed: see cnproc.process.missing). */
export interface Namespaces {
  readonly pid: number | null;
  readonly mnt: number | null;
  readonly net: number | null;
  readonly user: number | null;
  readonly uts: number | null;
  readonly ipc: number | null;
  readonly cgroup: number | null;
  readonly time: number | null;
  /**
   * Types whose namespace is known and not the host's, in NAMESPACE_TYPES order; [] when all known
   * ones are; null when the host's are not known to the reader.
   */
  readonly nonHost: readonly NamespaceType[] | null;
}

/** The inode of an ns link's text ("net:[4026531840]"), or null when it is not one. */
export function parseNamespaceLink(bytes: Uint8Array): number | null {
  const open = bytes.indexOf(0x5b); // '['
  if (open < 0) return null;
  let v = 0;
  let i = open + 1;
  const start = i;
  for (; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === 0x5d) break; // ']'
    if (c < 0x30 || c > 0x39) return null;
    v = v * 10 + (c - 0x30);
  }
  return i === start || i >= bytes.length || v > 0xffffffff ? null : v;
}

export interface HostNamespaces {
  /** The host's inode per type; null when no reference could be read (then no namespace of that type is called host or not). */
  readonly inodes: Readonly<Record<NamespaceType, number | null>>;
  /** Where each came from: the kernel's fixed number, /proc/1, or the agent's own namespace. */
  readonly sources: Readonly<Record<NamespaceType, 'kernel' | 'pid1' | 'agent' | 'none'>>;
}

function linkInode(path: string): number | null {
  try {
    return parseNamespaceLink(Buffer.from(readlinkSync(path)));
  } catch {
    return null;
  }
}

/** The host's namespaces as this agent can tell them (see the module comment). */
export function readHostNamespaces(procRoot = '/proc'): HostNamespaces {
  const inodes = {} as Record<NamespaceType, number | null>;
  const sources = {} as Record<NamespaceType, 'kernel' | 'pid1' | 'agent' | 'none'>;
  for (const t of NAMESPACE_TYPES) {
    const fixed = INITIAL_NAMESPACE_INODES[t];
    const pid1 = linkInode(`${procRoot}/1/ns/${t}`);
    const self = linkInode(`${procRoot}/self/ns/${t}`);
    // Fixed numbers: always for these types; for net and mnt when this kernel uses them (a value
    // below the dynamic range can only be the fixed one).
    const kernelFixes =
      t !== 'net' && t !== 'mnt' ? true : (pid1 !== null && pid1 < DYNAMIC_FIRST) || (self !== null && self < DYNAMIC_FIRST);
    if (kernelFixes) {
      inodes[t] = fixed;
      sources[t] = 'kernel';
    } else if (pid1 !== null) {
      inodes[t] = pid1;
      sources[t] = 'pid1';
    } else if (self !== null) {
      inodes[t] = self;
      sources[t] = 'agent';
    } else {
      inodes[t] = null;
      sources[t] = 'none';
    }
  }
  return { inodes, sources };
}

/** The types of `ns` that are known and differ from the host's (known) one. */
export function nonHostTypes(ns: Omit<Namespaces, 'nonHost'>, host: HostNamespaces): NamespaceType[] {
  const out: NamespaceType[] = [];
  for (const t of NAMESPACE_TYPES) {
    const v = ns[t];
    const h = host.inodes[t];
    if (v !== null && h !== null && v !== h) out.push(t);
  }
  return out;
}
