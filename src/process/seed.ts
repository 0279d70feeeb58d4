/**
 * The start-up scan: one pass over /proc so that processes started before the agent have context
 * (executable, argv, ids, container) when their later events arrive.
 */
import { readdirSync } from 'node:fs';
import { type Attachment, type NamespaceReads, ProcFileReader } from '../kernel/proc-files.js';
import type { ExecutableHasher } from './executable-hash.js';
import type { HostClock } from './identity.js';
import type { ProcessInfo } from './model.js';
import type { HostNamespaces } from './namespaces.js';
import { applySnapshot } from './snapshot.js';

/**
 * `hasher`: queues the program files of the processes found for hashing (their exits then carry
 * the hash). `executableFile`: describe each program file (process.executableFile).
 */
export function scanProc(
  host: HostClock,
  maxBytes: number,
  procRoot = '/proc',
  namespaces: NamespaceReads = 'none',
  hostNs: HostNamespaces | null = null,
  hasher: ExecutableHasher | null = null,
  executableFile = true,
): ProcessInfo[] {
  const reader = new ProcFileReader(maxBytes, procRoot, executableFile, namespaces);
  const out: ProcessInfo[] = [];
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const snap: Attachment[] = [];
    reader.execSnapshot(pid, snap);
    const info = applySnapshot(pid, snap, undefined, host, 'scan', null, hostNs, hasher);
    // A process that vanished during the scan has no stat: skip it rather than keep a husk.
    if (info.startTicks !== null) out.push(info);
  }
  // Parents' ids, now that every entry is known.
  const byPid = new Map(out.map((p) => [p.tgid, p]));
  return out.map((p) => {
    const parent = p.ppid !== null ? byPid.get(p.ppid) : undefined;
    return parent ? { ...p, parentEntityId: parent.entityId } : p;
  });
}
