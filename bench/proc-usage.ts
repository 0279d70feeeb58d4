/**
 * Measures another process the same way for every contender: CPU from /proc/<pid>/stat
 * (utime + stime, all threads), peak RSS from /proc/<pid>/status (VmHWM), and the kernel's drop
 * count for each of its netlink connector sockets from /proc/net/netlink.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

export interface Usage {
  cpuSeconds: number;
  peakRssMiB: number;
}

export function usageOf(pid: number): Usage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0: utime is field 14 → index 11, stime index 12.
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICK;
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return { cpuSeconds, peakRssMiB: hwm ? Number(hwm[1]) / 1024 : Number.NaN };
}

/** Sum of Drops over the NETLINK_CONNECTOR (protocol 11) sockets the process holds. */
export function netlinkDropsOf(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      // fd closed meanwhile
    }
  }
  let drops = 0;
  const lines = readFileSync('/proc/net/netlink', 'latin1').trim().split('\n');
  const header = (lines[0] as string).trim().split(/\s+/);
  const iEth = header.indexOf('Eth');
  const iDrops = header.indexOf('Drops');
  const iInode = header.indexOf('Inode');
  for (const line of lines.slice(1)) {
    const c = line.trim().split(/\s+/);
    if (c[iEth] === '11' && inodes.has(c[iInode] as string)) drops += Number(c[iDrops]);
  }
  return drops;
}

/**
 * CPU seconds per thread of a process, summed by thread name (/proc/<pid>/task/<tid>/stat and
 * comm) and nice value: tells the capture thread (the one thread the agent runs at a negative nice)
 * from the main thread, V8's GC helpers and libuv's pool, which Node all names "node".
 */
export function threadUsageOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Field 19 (nice) is index 16 after "pid (comm) ".
      const nice = Number(fields[16]);
      const comm = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim();
      const name = nice !== 0 ? `${comm} (nice ${nice})` : comm;
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICK);
    } catch {
      // thread exited meanwhile
    }
  }
  return out;
}
