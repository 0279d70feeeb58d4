/**
 * Whether an exec raised privileges, and how: the process table entry before the exec (the forked
 * child's copy of its parent, or the previous program of the same process, updated by uid/gid
 * events) against the entry the exec's /proc read made. Pure: the enricher calls it once per exec.
 *
 * - setuid / setgid: the effective id changed across the exec to one that is not the real id —
 *   the kernel's signature of a set-user/group-id file (the file's owner becomes the effective id);
 *   not from root, which a set-id file cannot raise (a setuid-nobody exec by root drops privileges).
 * - file_capabilities: the permitted set gained capabilities while the effective uid stayed
 *   non-root (setcap on the file, or ambient capabilities handed over). Gains of a setuid-root exec
 *   are that exec's, not a file capability's; a process that stays root regains what it dropped
 *   at every exec, which is not an escalation either.
 */
import { gainedCapabilities } from './capabilities.js';
import type { Escalation, EscalationMechanism, ProcessInfo } from './model.js';

/** The ids an exec is compared against: the process before any id change the exec itself made. */
interface Baseline {
  euid: number | null;
  egid: number | null;
  capPermitted: number | null;
}

/**
 * The ids of a process before an exec changed them. The kernel reports a set-id exec's new ids as
 * a uid (or gid) event just before the exec event (commit_creds runs inside execve), so by the
 * exec the table already holds the raised ids. Such an event keeps the real id and changes the
 * effective one; the last such event before the exec holds what the ids were (the last, not the
 * first: an earlier one may compare against a /proc read that came after the exec, as when setpriv
 * switches ids and execs within microseconds, and would take the raised ids for the old ones).
 * A change of the real id (setresuid, as setpriv and login do) is the program's own switch: the
 * ids from then on are the baseline.
 *
 * Memory: one small entry per process between a seteuid-style change and its next exec or exit;
 * cleared whole at `limit` entries (a lost baseline only hides an escalation, never invents one).
 */
export class EscalationTracker {
  private readonly baselines = new Map<number, Baseline>();

  constructor(private readonly limit: number) {}

  /** A uid event; `before` is the entry before it. */
  onUid(before: ProcessInfo, ruid: number, euid: number): void {
    if (before.ruid !== ruid) this.baselines.delete(before.tgid);
    else if (before.euid !== euid) {
      const b = this.baseline(before);
      b.euid = before.euid;
      b.capPermitted = before.capPermitted;
    }
  }

  /** A gid event; `before` is the entry before it. */
  onGid(before: ProcessInfo, rgid: number, egid: number): void {
    if (before.rgid !== rgid) this.baselines.delete(before.tgid);
    else if (before.egid !== egid) this.baseline(before).egid = before.egid;
  }

  private baseline(before: ProcessInfo): Baseline {
    let b = this.baselines.get(before.tgid);
    if (b !== undefined) return b;
    if (this.baselines.size >= this.limit) this.baselines.clear();
    b = { euid: before.euid, egid: before.egid, capPermitted: before.capPermitted };
    this.baselines.set(before.tgid, b);
    return b;
  }

  /** An exec: its escalation against the baseline (or the entry before it). */
  atExec(before: ProcessInfo | undefined, after: ProcessInfo): Escalation | null {
    const b = this.baselines.get(after.tgid);
    if (b === undefined) return escalationOf(before, after);
    this.baselines.delete(after.tgid);
    return escalationOf({ ...(before ?? after), euid: b.euid, egid: b.egid, capPermitted: b.capPermitted }, after);
  }

  onExit(tgid: number): void {
    this.baselines.delete(tgid);
  }

  get size(): number {
    return this.baselines.size;
  }
}

/** The escalation of an exec, or null when it raised nothing (or the ids before it are unknown). */
export function escalationOf(before: ProcessInfo | undefined, after: ProcessInfo): Escalation | null {
  if (before === undefined) return null;
  let setuid = false;
  let setgid = false;
  let caps = false;
  let gained = 0;
  // Root gains nothing from a set-id file (a setuid-nobody exec by root drops privileges).
  const fromRoot = before.euid === 0;
  if (!fromRoot && before.euid !== null && after.euid !== null && after.euid !== before.euid && after.euid !== after.ruid) setuid = true;
  if (!fromRoot && before.egid !== null && after.egid !== null && after.egid !== before.egid && after.egid !== after.rgid) setgid = true;
  // Unknown permitted set before: after a uid change away from root the kernel cleared it
  // (capabilities(7), "Effect of user ID changes"), so a non-root process counts from none; a
  // root one is not compared.
  const prm = before.capPermitted ?? (before.euid !== null && before.euid !== 0 ? 0 : null);
  if (prm !== null && after.capPermitted !== null) {
    gained = gainedCapabilities(prm, after.capPermitted);
    if (gained !== 0 && !(setuid && after.euid === 0) && after.euid !== 0) caps = true;
    else if (!setuid) gained = 0;
  }
  if (!setuid && !setgid && !caps) return null;
  const mechanisms: EscalationMechanism[] = [];
  if (setuid) mechanisms.push('setuid');
  if (setgid) mechanisms.push('setgid');
  if (caps) mechanisms.push('file_capabilities');
  return { mechanisms, gained, previousEuid: before.euid, previousEgid: before.egid };
}
