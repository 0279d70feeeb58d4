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
 * - ptrace: a tracer attached to the process since its previous exec (PROC_EVENT_PTRACE) and is
 *   less privileged than the program the exec started: that tracer controls privileges it does not
 *   hold. "Less privileged" (lessPrivileged): the process runs as root (euid 0) and the tracer does
 *   not, or the process holds permitted capabilities the tracer lacks. The kernel lets a tracer
 *   through its own checks only with CAP_SYS_PTRACE (or a kernel bug): both are what an auditor
 *   wants to see. The attach itself is flagged the same way when the process was already more
 *   privileged than its tracer (onPtrace).
 * - uid_change: a uid event (setuid family, no exec) made the effective uid 0 while none of the
 *   real, effective and saved uids was 0 before: only CAP_SETUID allows it (a file capability, a
 *   leftover of a keep-caps switch, or an exploit). Regaining root from a saved or real uid 0
 *   (seteuid(0) by a daemon that dropped temporarily) is not. The ids before are those of the last
 *   exec's /proc read; after a first id change the saved uid is unknown (uid events do not carry
 *   it), and an unknown id never flags.
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
/** A tracer as it was when it attached. */
interface Tracer {
  tgid: number;
  euid: number | null;
  capPermitted: number | null;
  capEffective: number | null;
}

export class EscalationTracker {
  private readonly baselines = new Map<number, Baseline>();
  /** Tracee → the last tracer that attached since its last exec (bounded as baselines). */
  private readonly tracers = new Map<number, Tracer>();

  constructor(private readonly limit: number) {}

  /** A uid event; `before` is the entry before it. Returns its escalation (uid_change), if any. */
  onUid(before: ProcessInfo, ruid: number, euid: number): Escalation | null {
    if (before.ruid !== ruid) this.baselines.delete(before.tgid);
    else if (before.euid === euid) {
      // The table already holds the ids this event sets: its /proc read came after the change (a
      // late read of an exec that ran on, e.g. setpriv → the program), so the permitted set it read
      // may be the later program's too. Not a baseline to compare the next exec with: unknown,
      // which escalationOf counts as none for a non-root process (the kernel clears the permitted
      // set when a process gives up root). Measured: a late read under load hid a file-capability exec.
      this.baseline(before).capPermitted = null;
    } else {
      const b = this.baseline(before);
      b.euid = before.euid;
      b.capPermitted = before.capPermitted;
    }
    return uidEscalationOf(before, euid);
  }

  /**
   * A ptrace attach of `tracee` by `tracer` (table entries; undefined when unknown). Remembers the
   * tracer for the tracee's next exec and returns the attach's own escalation, if any.
   */
  onPtrace(traceeTgid: number, tracee: ProcessInfo | undefined, tracerTgid: number, tracer: ProcessInfo | undefined): Escalation | null {
    if (this.tracers.size >= this.limit) this.tracers.clear();
    const t: Tracer = {
      tgid: tracerTgid,
      euid: tracer?.euid ?? null,
      capPermitted: tracer?.capPermitted ?? null,
      capEffective: tracer?.capEffective ?? null,
    };
    this.tracers.set(traceeTgid, t);
    return tracee === undefined ? null : ptraceEscalationOf(t, tracee);
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

  /** An exec: its escalation against the baseline (or the entry before it), and by a tracer attached since the last exec. */
  atExec(before: ProcessInfo | undefined, after: ProcessInfo): Escalation | null {
    const b = this.baselines.get(after.tgid);
    let esc: Escalation | null;
    if (b === undefined) esc = escalationOf(before, after);
    else {
      this.baselines.delete(after.tgid);
      esc = escalationOf({ ...(before ?? after), euid: b.euid, egid: b.egid, capPermitted: b.capPermitted }, after);
    }
    // Rare (a process that was traced): the common exec pays one failed map lookup.
    if (this.tracers.size === 0) return esc;
    const t = this.tracers.get(after.tgid);
    if (t === undefined) return esc;
    this.tracers.delete(after.tgid);
    const p = ptraceEscalationOf(t, after);
    if (p === null) return esc;
    if (esc === null) return { ...p, previousEuid: before?.euid ?? null, previousEgid: before?.egid ?? null };
    return { ...esc, mechanisms: [...esc.mechanisms, 'ptrace'], tracerTgid: t.tgid, tracerCapEffective: t.capEffective };
  }

  onExit(tgid: number): void {
    this.baselines.delete(tgid);
    this.tracers.delete(tgid);
  }

  get size(): number {
    return this.baselines.size;
  }
}

/**
 * The tracee's privileges its tracer lacks: root (euid 0) held by the tracee alone, or permitted
 * capabilities the tracer's permitted set lacks (mask). Unknown values never count.
 */
function ptraceEscalationOf(t: Tracer, tracee: ProcessInfo): Escalation | null {
  const uid = tracee.euid === 0 && t.euid !== null && t.euid !== 0;
  const gained = tracee.capPermitted !== null && t.capPermitted !== null ? gainedCapabilities(t.capPermitted, tracee.capPermitted) : 0;
  if (!uid && gained === 0) return null;
  return {
    mechanisms: ['ptrace'],
    gained,
    previousEuid: t.euid,
    previousEgid: null,
    tracerTgid: t.tgid,
    tracerCapEffective: t.capEffective,
  };
}

/** A uid change to root from no root id (see the module comment), or null. */
function uidEscalationOf(before: ProcessInfo, euid: number): Escalation | null {
  if (euid !== 0) return null;
  const { ruid, euid: e, suid } = before;
  if (ruid === null || e === null || suid === null || ruid === 0 || e === 0 || suid === 0) return null;
  return {
    mechanisms: ['uid_change'],
    gained: 0,
    previousEuid: e,
    previousEgid: before.egid,
    previousSuid: suid,
    previousCapEffective: before.capEffective,
  };
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
