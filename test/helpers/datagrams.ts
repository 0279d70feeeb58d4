/**
 * Hand-built proc connector datagrams for decoder tests, laid out from the ABI constants.
 */
import * as abi from '../../src/kernel/abi.js';

export interface DatagramFields {
  what: number;
  cpu?: number;
  seq?: number;
  ack?: number;
  ktimeNs?: bigint;
  /** Union bytes as u32 words (up to 6). */
  words?: number[];
  /** Raw bytes for the union (overrides words), e.g. a comm. */
  unionBytes?: Uint8Array;
  nlType?: number;
  cnIdx?: number;
  cnVal?: number;
  cnLen?: number;
  nlLen?: number;
}

/** A 76-byte event datagram with the given fields. */
export function datagram(f: DatagramFields): Uint8Array {
  const buf = new Uint8Array(abi.EVENT_DATAGRAM_LEN);
  const v = new DataView(buf.buffer);
  v.setUint32(abi.NLH_LEN, f.nlLen ?? abi.EVENT_DATAGRAM_LEN, true);
  v.setUint16(abi.NLH_TYPE, f.nlType ?? abi.NLMSG_DONE, true);
  v.setUint32(abi.CN_IDX, f.cnIdx ?? abi.CN_IDX_PROC, true);
  v.setUint32(abi.CN_VAL, f.cnVal ?? abi.CN_VAL_PROC, true);
  v.setUint32(abi.CN_SEQ, f.seq ?? 0, true);
  v.setUint32(abi.CN_ACK, f.ack ?? 0, true);
  v.setUint16(abi.CN_LEN, f.cnLen ?? abi.PROC_EVENT_LEN, true);
  v.setUint32(abi.EV_WHAT, f.what >>> 0, true);
  v.setUint32(abi.EV_CPU, (f.cpu ?? 0) >>> 0, true);
  v.setBigUint64(abi.EV_TIMESTAMP, f.ktimeNs ?? 0n, true);
  if (f.unionBytes) buf.set(f.unionBytes, abi.EV_DATA);
  else {
    const words = f.words ?? [];
    for (let i = 0; i < words.length; i++) v.setInt32(abi.EV_DATA + i * 4, (words[i] as number) | 0, true);
  }
  return buf;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A clock that maps kernel ns to wall time by a fixed offset (no syscalls). */
export const fixedClock = {
  offsetNs: 1_700_000_000_000_000_000n,
  toWall(ktimeNs: bigint): [number, number] {
    const ns = ktimeNs + this.offsetNs;
    return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
  },
};
