/**
 * Host facts that make process ids stable: the boot id, boot time and clock tick rate; and the
 * process id itself, a hash of (boot id, pid, start time in ticks). The same process gets the same
 * id on every event, and again after an agent restart (start time comes from /proc/<pid>/stat,
 * not from when the agent saw it); a reused pid gets a new one.
 */
import { readFileSync } from 'node:fs';
import { sha256Hex } from '../util/sha256.js';

export interface HostClock {
  /** /proc/sys/kernel/random/boot_id: changes every boot. */
  bootId: string;
  /** Boot time, seconds since the epoch (btime in /proc/stat). */
  bootTimeS: number;
  /** USER_HZ: the unit of /proc/<pid>/stat start times (100 on every mainstream Linux). */
  ticksPerSecond: number;
}

export function readHostClock(procRoot = '/proc'): HostClock {
  const bootId = readFileSync(`${procRoot}/sys/kernel/random/boot_id`, 'latin1').trim();
  const btime = /^btime\s+(\d+)$/m.exec(readFileSync(`${procRoot}/stat`, 'latin1'));
  return { bootId, bootTimeS: btime ? Number(btime[1]) : 0, ticksPerSecond: 100 };
}

/** 32 hex characters (128 bits of SHA-256) identifying one process across its whole life. */
export function processEntityId(bootId: string, pid: number, startTicks: number): string {
  return sha256Hex(`${bootId}:${pid}:${startTicks}`).slice(0, 32);
}

/** Start time as wall-clock milliseconds (10 ms resolution, from ticks since boot). */
export function startTimeMs(clock: HostClock, startTicks: number): number {
  return clock.bootTimeS * 1000 + (startTicks * 1000) / clock.ticksPerSecond;
}
