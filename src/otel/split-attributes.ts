/**
 * A record's attributes kept in parts until someone needs them whole.
 *
 * Why: an exec and the exit of the same program carry the same ~30 attributes of its process table
 * entry (argv, ids, names, cgroup, capabilities ...). Built into each record's own object, they were
 * the mapping's largest cost (an object of ~40 properties per record, and the garbage it leaves)
 * and the encoder's (every value encoded again for the exit). Split, the entry's attributes are one
 * frozen object per entry (`ProcessBlock.attrs`, built with the entry's other derived values) and
 * its protobuf encoding is made on the first record that needs it and copied for the next ones
 * (`ProcessBlock.encoded`); each record owns only its event's attributes (`own`).
 *
 * The order of the whole is the mapping's: the first HEAD_KEYS keys of `own` (the event's identity),
 * then the block's keys, then the rest of `own`. The two never share a key (attributes.ts builds
 * split records only where that holds, and attributes.test.ts checks the joined object against the
 * one-piece mapping). Anything that reads `attributes` gets the joined object (DirectLogRecord
 * joins once, on first read); the agent's own encoder and processors read the parts.
 */
import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';

/** The attributes a process table entry gives its full records, and their encoding once made. */
export interface ProcessBlock {
  readonly attrs: Readonly<LogAttributes>;
  /** The KeyValues of `attrs` as LogRecord.attributes fields (tag 6), made by the first encoder that wrote them. */
  encoded: Uint8Array | undefined;
}

export interface SplitAttributes {
  /** The event's attributes: HEAD_KEYS identity keys first, then the rest. */
  readonly own: LogAttributes;
  readonly block: ProcessBlock;
}

/** How many of `own`'s keys come before the block: cnproc.event.name, .id, .cpu, .seq, process.pid, thread.id. */
export const HEAD_KEYS = 6;

/** The attributes in one object, in the mapping's order. */
export function joinAttributes(s: SplitAttributes): LogAttributes {
  const own = s.own as Record<string, AnyValue>;
  const keys = Object.keys(own);
  const out: Record<string, AnyValue> = {};
  let i = 0;
  for (; i < HEAD_KEYS && i < keys.length; i++) {
    const k = keys[i] as string;
    out[k] = own[k] as AnyValue;
  }
  const block = s.block.attrs as Record<string, AnyValue>;
  for (const k of Object.keys(block)) out[k] = block[k] as AnyValue;
  for (; i < keys.length; i++) {
    const k = keys[i] as string;
    out[k] = own[k] as AnyValue;
  }
  return out;
}

/** One attribute of a split record, without joining. */
export function splitAttribute(s: SplitAttributes, key: string): AnyValue | undefined {
  const v = s.own[key];
  return v !== undefined ? v : s.block.attrs[key];
}

/** A record that may hold its attributes split (DirectLogRecord); others have none. */
export interface MaybeSplit {
  readonly split?: SplitAttributes | undefined;
}

/**
 * One attribute of any record: a split record's without joining it (the agent's processors and the
 * spool's continuity read a few keys of every record), else from `attributes`.
 */
export function recordAttribute(r: { readonly attributes: LogAttributes } & MaybeSplit, key: string): AnyValue | undefined {
  const s = r.split;
  return s !== undefined ? splitAttribute(s, key) : r.attributes[key];
}
