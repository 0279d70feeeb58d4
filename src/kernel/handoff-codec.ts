/**
 * The capture handoff's record format, written by the capture thread and read by the main thread:
 * the encoder and the decoder are here side by side, and test/kernel/handoff-codec.test.ts runs
 * one against the other.
 *
 * A batch is a transferable ArrayBuffer holding `count` records:
 *   u16 length | u8 verdict | u8 attachments | datagram bytes | padding to 4
 * each followed by its /proc snapshot attachments (read by the capture thread at receipt):
 *   u8 file | u8 status | u16 0 | u32 length | bytes | padding to 4.
 * The verdict is the capture thread's one check of the datagram's headers (decode.ts
 * checkDatagram, or the recv MSG_TRUNC flag): 0 for a whole proc_event, else 1 + the index of the
 * malformed reason, in the low 7 bits. The main thread trusts it and never checks the headers a
 * second time. Bit 7 (FLAG_SUPERSEDED) marks an exec whose /proc snapshot was read after a later
 * exec of the same process: the snapshot describes that later program.
 *
 * Both sides are plain loops over reused objects: no closure or view is allocated per record.
 */

import { MALFORMED_REASONS, type MalformedReason } from './decode.js';
import type { Attachment, ReadStatusValue } from './proc-files.js';

export const RECORD_HEADER = 4;
export const ATTACHMENT_HEADER = 8;
/** Verdict of a datagram that carries a whole struct proc_event. */
export const VERDICT_OK = 0;
/** Flag bit beside the verdict: the exec's snapshot may describe a later exec's program. */
export const FLAG_SUPERSEDED = 0x80;
const VERDICT_MASK = 0x7f;

/** The verdict byte for a check result (null: valid). */
export function verdictOf(reason: MalformedReason | null): number {
  return reason === null ? VERDICT_OK : MALFORMED_REASONS.indexOf(reason) + 1;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Builds batches in a reused staging buffer; {@link take} copies one out at its exact size. */
export class BatchEncoder {
  private readonly staging: Uint8Array;
  private readonly view: DataView;
  /** Bytes used in the batch being built. */
  used = 0;
  /** Records in the batch being built. */
  count = 0;

  constructor(capacityBytes: number) {
    this.staging = new Uint8Array(capacityBytes);
    this.view = new DataView(this.staging.buffer);
  }

  /** Bytes one record takes: header, padded datagram, and each padded attachment. */
  static recordSize(len: number, attachments: readonly Attachment[]): number {
    let size = RECORD_HEADER + pad4(len);
    for (let i = 0; i < attachments.length; i++) size += ATTACHMENT_HEADER + pad4((attachments[i] as Attachment).bytes.length);
    return size;
  }

  /** Whether a record of `size` bytes fits in what is left (else take() the batch first). */
  fits(size: number): boolean {
    return this.used + size <= this.staging.length;
  }

  /**
   * Appends one datagram (src[off, off+len)) with its verdict and attachments. The caller checks
   * {@link fits} first (a record past the end makes the typed-array writes throw).
   */
  add(src: Uint8Array, off: number, len: number, verdict: number, attachments: readonly Attachment[]): number {
    const s = this.staging;
    let rec = this.used;
    this.view.setUint16(rec, len, true);
    s[rec + 2] = verdict;
    s[rec + 3] = attachments.length;
    // A plain loop: a datagram is 76 bytes, and subarray + set would allocate a view per datagram.
    const dst = rec + RECORD_HEADER;
    for (let k = 0; k < len; k++) s[dst + k] = src[off + k] as number;
    rec += RECORD_HEADER + pad4(len);
    for (let i = 0; i < attachments.length; i++) {
      const a = attachments[i] as Attachment;
      s[rec] = a.file;
      s[rec + 1] = a.status;
      this.view.setUint16(rec + 2, 0, true);
      this.view.setUint32(rec + 4, a.bytes.length, true);
      s.set(a.bytes, rec + ATTACHMENT_HEADER);
      rec += ATTACHMENT_HEADER + pad4(a.bytes.length);
    }
    const start = this.used;
    this.used = rec;
    this.count++;
    return start;
  }

  /** Sets FLAG_SUPERSEDED on the record at `offset` (as returned by add) of the batch being built. */
  flagSuperseded(offset: number): void {
    this.staging[offset + 2] = (this.staging[offset + 2] as number) | FLAG_SUPERSEDED;
  }

  /** The batch built so far as an exact-size buffer (to transfer), and a fresh start. */
  take(): ArrayBuffer {
    const buf = this.staging.slice(0, this.used).buffer;
    this.reset();
    return buf;
  }

  /** Forgets the batch being built (it was dropped). */
  reset(): void {
    this.used = 0;
    this.count = 0;
  }
}

/**
 * Walks the records of one batch. After each {@link next} returning true, the fields describe the
 * current record; `attachments` is null when it has none (no array is made for bare datagrams).
 */
export class BatchDecoder {
  view: DataView = new DataView(new ArrayBuffer(0));
  /** Offset of the current datagram's bytes in `view`. */
  dataOff = 0;
  len = 0;
  /** The capture thread's check: null for a whole proc_event, else why it is malformed. */
  malformed: MalformedReason | null = null;
  /** FLAG_SUPERSEDED was set: an exec whose snapshot was read after a later exec. */
  superseded = false;
  attachments: Attachment[] | null = null;
  private off = 0;
  private left = 0;

  start(buf: ArrayBuffer, count: number): void {
    this.view = new DataView(buf);
    this.off = 0;
    this.left = count;
  }

  next(): boolean {
    if (this.left === 0) return false;
    this.left--;
    const v = this.view;
    let off = this.off;
    this.len = v.getUint16(off, true);
    const byte = v.getUint8(off + 2);
    const verdict = byte & VERDICT_MASK;
    this.superseded = (byte & FLAG_SUPERSEDED) !== 0;
    // An out-of-range verdict cannot come from the encoder; it still counts as malformed, never as an event.
    this.malformed = verdict === VERDICT_OK ? null : (MALFORMED_REASONS[verdict - 1] ?? 'short');
    const n = v.getUint8(off + 3);
    this.dataOff = off + RECORD_HEADER;
    off += RECORD_HEADER + pad4(this.len);
    if (n === 0) this.attachments = null;
    else {
      const list: Attachment[] = [];
      for (let k = 0; k < n; k++) {
        const alen = v.getUint32(off + 4, true);
        const start = off + ATTACHMENT_HEADER;
        list.push({ file: v.getUint8(off), status: v.getUint8(off + 1) as ReadStatusValue, bytes: new Uint8Array(v.buffer, start, alen) });
        off = start + pad4(alen);
      }
      this.attachments = list;
    }
    this.off = off;
    return true;
  }
}
