/**
 * When each exec's /proc snapshot was read, for the execs of the last two batches, by process.
 *
 * A process can exec twice before the capture thread reads /proc for the first exec (setpriv → sh,
 * env → the program, a shell's `exec`): the first exec's snapshot then shows the second program's
 * executable and argv (and, read later, its ids). /proc keeps no exec time or exec count, but the
 * kernel stamps each exec event with CLOCK_MONOTONIC, the clock the capture thread reads once a
 * snapshot has read cmdline and exe: a later exec of the same process stamped before that moment
 * means the snapshot may show the later program. (Stamping the end of the whole snapshot flagged
 * 96 % of `sh -c 'exec true'` records under load where 1 % showed the later program; cmdline and
 * exe are read first, and the ids of a later program are told by the uid/gid events anyway.) The earlier record is flagged if it is still in the batch
 * being built (almost always: the later exec is queued before the read ends, so it is received
 * before the batch is handed over), else only counted.
 *
 * Time alone misses one window: exec switches the process's executable and memory (begin_new_exec)
 * before the kernel stamps and sends the exec event (proc_exec_connector, at the end of exec), so a
 * read in between shows the later program with an earlier stamp. The snapshot's content covers
 * it: when the earlier snapshot's exe and cmdline are byte for byte the later exec's, they were
 * read from the later program (or a program that exec'd itself with the same arguments, where the
 * record would be the same either way). When the later program was gone before its own read (true
 * exits at once), its bytes are unknown, and a read within EXEC_SWITCH_WINDOW_NS before its stamp is
 * flagged. Measured with bursts of `sh -c 'exec true'`: time alone left 2-4 of 160 sh records
 * showing true unflagged.
 */

interface ExecRead {
  /** CLOCK_MONOTONIC ns when the snapshot had read cmdline and exe. */
  readNs: bigint;
  /** Offset of the exec's record in the batch being built. */
  offset: number;
  /** The snapshot's exe link and cmdline bytes (null when not read). */
  exe: Uint8Array | null;
  cmdline: Uint8Array | null;
}

function same(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** check(): nothing to report. */
export const NOT_SUPERSEDED = -1;
/** check(): superseded, but the earlier record was handed over already (count it, cannot flag). */
export const SUPERSEDED_HANDED_OVER = -2;

/**
 * How long exec can take from switching the program to stamping its event (loading the ELF and its
 * interpreter), when the later exec's own snapshot is gone and its bytes cannot decide.
 */
export const EXEC_SWITCH_WINDOW_NS = 2_000_000n;

function superseded(earlier: ExecRead, ktimeNs: bigint, exe: Uint8Array | null, cmdline: Uint8Array | null): boolean {
  if (earlier.readNs > ktimeNs) return true;
  if (earlier.exe === null || earlier.cmdline === null) return false; // nothing shown, nothing to vouch for
  const nearStamp = ktimeNs - earlier.readNs < EXEC_SWITCH_WINDOW_NS;
  // The later program's bytes unknown (gone before its own read, like true): only the time can tell.
  if (exe === null || cmdline === null) return nearStamp;
  // cmdline is read before exe: an earlier exe that is not the later one was read before the switch.
  if (!same(earlier.exe, exe)) return false;
  // Both the later program's: read after the switch. The later exe with the earlier cmdline: read
  // across the switch, or the same binary exec'd again with other arguments; the time decides.
  return same(earlier.cmdline, cmdline) || nearStamp;
}

export class ExecReads {
  /** Execs with a snapshot in the batch being built; renewed at each handover, so both maps stay bounded by a batch. */
  private staged = new Map<number, ExecRead>();
  /** Those of the batch handed over before. */
  private handed = new Map<number, ExecRead>();

  /**
   * An exec of `tgid` happened at `ktimeNs`, and its own snapshot read `exe` and `cmdline`.
   * Returns the earlier exec's record offset to flag (>= 0), SUPERSEDED_HANDED_OVER, or
   * NOT_SUPERSEDED.
   */
  check(tgid: number, ktimeNs: bigint, exe: Uint8Array | null, cmdline: Uint8Array | null): number {
    const s = this.staged.get(tgid);
    if (s !== undefined) return superseded(s, ktimeNs, exe, cmdline) ? s.offset : NOT_SUPERSEDED;
    const h = this.handed.get(tgid);
    return h !== undefined && superseded(h, ktimeNs, exe, cmdline) ? SUPERSEDED_HANDED_OVER : NOT_SUPERSEDED;
  }

  /** The exec of `tgid` at record `offset` of the batch being built has a snapshot read at `readNs`. */
  record(tgid: number, readNs: bigint, offset: number, exe: Uint8Array | null, cmdline: Uint8Array | null): void {
    this.staged.set(tgid, { readNs, offset, exe, cmdline });
  }

  /** The batch being built was handed over (or dropped): its offsets no longer point anywhere. */
  handOver(): void {
    this.handed = this.staged;
    this.staged = new Map();
  }
}
