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
 */

interface ExecRead {
  /** CLOCK_MONOTONIC ns when the snapshot had read cmdline and exe. */
  readNs: bigint;
  /** Offset of the exec's record in the batch being built. */
  offset: number;
}

/** check(): nothing to report. */
export const NOT_SUPERSEDED = -1;
/** check(): superseded, but the earlier record was handed over already (count it, cannot flag). */
export const SUPERSEDED_HANDED_OVER = -2;

export class ExecReads {
  /** Execs with a snapshot in the batch being built; renewed at each handover, so both maps stay bounded by a batch. */
  private staged = new Map<number, ExecRead>();
  /** Those of the batch handed over before. */
  private handed = new Map<number, ExecRead>();

  /**
   * An exec of `tgid` happened at `ktimeNs`. Returns the record offset to flag (>= 0),
   * SUPERSEDED_HANDED_OVER, or NOT_SUPERSEDED.
   */
  check(tgid: number, ktimeNs: bigint): number {
    const s = this.staged.get(tgid);
    if (s !== undefined) return s.readNs > ktimeNs ? s.offset : NOT_SUPERSEDED;
    const h = this.handed.get(tgid);
    return h !== undefined && h.readNs > ktimeNs ? SUPERSEDED_HANDED_OVER : NOT_SUPERSEDED;
  }

  /** The exec of `tgid` at record `offset` of the batch being built has a snapshot read at `readNs`. */
  record(tgid: number, readNs: bigint, offset: number): void {
    this.staged.set(tgid, { readNs, offset });
  }

  /** The batch being built was handed over (or dropped): its offsets no longer point anywhere. */
  handOver(): void {
    this.handed = this.staged;
    this.staged = new Map();
  }
}
