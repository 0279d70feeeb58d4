/**
 * Reads this socket's row of /proc/net/netlink: the kernel's own count of datagrams it dropped
 * because our receive queue was full (exact, whatever the subscription filter), and the bytes
 * queued right now.
 */
import { readFileSync } from 'node:fs';

export interface NetlinkSocketStats {
  /** Datagrams the kernel could not queue for this socket. */
  drops: number;
  /** Bytes (truesize) waiting in the receive queue. */
  rmem: number;
}

/** Parses /proc/net/netlink text and returns the row of the socket with this inode, if any. */
export function parseNetlinkTable(text: string, inode: number): NetlinkSocketStats | null {
  const lines = text.split('\n');
  const header = (lines[0] ?? '').trim().split(/\s+/);
  const iInode = header.indexOf('Inode');
  const iDrops = header.indexOf('Drops');
  const iRmem = header.indexOf('Rmem');
  if (iInode < 0 || iDrops < 0 || iRmem < 0) return null;
  const want = String(inode);
  for (let i = 1; i < lines.length; i++) {
    const cols = (lines[i] as string).trim().split(/\s+/);
    if (cols[iInode] === want) {
      return { drops: Number(cols[iDrops]), rmem: Number(cols[iRmem]) };
    }
  }
  return null;
}

/** Reads the live table; null when the file or the row is not there. */
export function readNetlinkSocketStats(inode: number, path = '/proc/net/netlink'): NetlinkSocketStats | null {
  try {
    return parseNetlinkTable(readFileSync(path, 'latin1'), inode);
  } catch {
    return null;
  }
}
