/**
 * Decodes proc connector datagrams into typed events.
 *
 * Never throws: every input is either an event, an ack, or a `malformed` result with a reason
 * that the caller counts. Runs per event, so it is a straight-line read of a DataView with no
 * closures or intermediate objects beyond the event itself.
 */

import { escapeCString } from '../util/escape.js';
import * as abi from './abi.js';
import type { HrTime, ProcEvent } from './events.js';

/** Why a datagram was not an event. Counted per reason by the capture stats. */
export const MALFORMED_REASONS = ['short', 'truncated', 'nlmsg_len', 'nlmsg_error', 'nlmsg_noop', 'nlmsg_type', 'cn_id', 'cn_len'] as const;
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

/** The kernel's answer to a LISTEN/IGNORE (what = NONE). `err` is an errno, 0 for success. */
export interface AckMessage {
  kind: 'ack';
  err: number;
  seq: number;
  ack: number;
}

export interface MalformedMessage {
  kind: 'malformed';
  reason: MalformedReason;
}

export type DecodedMessage = ProcEvent | AckMessage | MalformedMessage;

/** Converts kernel CLOCK_MONOTONIC nanoseconds to wall-clock time. */
export interface MonotonicToWall {
  toWall(ktimeNs: bigint): HrTime;
}

/**
 * Checks the netlink and connector headers of the datagram at view[off, off+len).
 * Returns null when it carries a whole struct proc_event (an event or an ack), else the reason.
 */
export function checkDatagram(view: DataView, off: number, len: number): MalformedReason | null {
  if (len < abi.NLMSG_HDRLEN) return 'short';
  const nlLen = view.getUint32(off + abi.NLH_LEN, true);
  if (nlLen < abi.NLMSG_HDRLEN || nlLen > len) return 'nlmsg_len';
  const type = view.getUint16(off + abi.NLH_TYPE, true);
  if (type !== abi.NLMSG_DONE) {
    if (type === abi.NLMSG_ERROR) return 'nlmsg_error';
    if (type === abi.NLMSG_NOOP) return 'nlmsg_noop';
    return 'nlmsg_type';
  }
  if (nlLen < abi.NLMSG_HDRLEN + abi.CN_MSG_LEN) return 'short';
  if (view.getUint32(off + abi.CN_IDX, true) !== abi.CN_IDX_PROC || view.getUint32(off + abi.CN_VAL, true) !== abi.CN_VAL_PROC) {
    return 'cn_id';
  }
  const cnLen = view.getUint16(off + abi.CN_LEN, true);
  if (cnLen < abi.PROC_EVENT_LEN || abi.CN_DATA + cnLen > nlLen) return 'cn_len';
  return null;
}

/** Splits a wait status into exit code / signal / core-dumped, as WIFEXITED & co. do. */
export function decodeWaitStatus(status: number): { exitCode: number | null; signal: number | null; coreDumped: boolean } {
  const sig = status & 0x7f;
  if (sig === 0) return { exitCode: (status >>> 8) & 0xff, signal: null, coreDumped: false };
  return { exitCode: null, signal: sig, coreDumped: (status & 0x80) !== 0 };
}

/**
 * Decodes one datagram. `truncated` is the recv MSG_TRUNC flag: the buffer held only part of it.
 * The returned event owns its data (nothing references `view` afterwards).
 */
export function decodeDatagram(view: DataView, off: number, len: number, clock: MonotonicToWall, truncated = false): DecodedMessage {
  if (truncated) return { kind: 'malformed', reason: 'truncated' };
  const bad = checkDatagram(view, off, len);
  if (bad !== null) return { kind: 'malformed', reason: bad };
  return decodeChecked(view, off, clock);
}

/**
 * Decodes a datagram that {@link checkDatagram} has passed: the capture thread checks each
 * datagram once and the handoff record carries the verdict (./handoff-codec.ts), so the main
 * thread does not check it again.
 */
export function decodeChecked(view: DataView, off: number, clock: MonotonicToWall): ProcEvent | AckMessage {
  const what = view.getUint32(off + abi.EV_WHAT, true);
  const seq = view.getUint32(off + abi.CN_SEQ, true);
  const u = off + abi.EV_DATA;
  if (what === abi.PROC_EVENT_NONE) {
    return { kind: 'ack', err: view.getUint32(u + abi.U_ACK_ERR, true), seq, ack: view.getUint32(off + abi.CN_ACK, true) };
  }

  const cpu = view.getUint32(off + abi.EV_CPU, true);
  const ktimeNs = view.getBigUint64(off + abi.EV_TIMESTAMP, true);
  const time = clock.toWall(ktimeNs);
  const pid = view.getInt32(u + abi.U_PROCESS_PID, true);
  const tgid = view.getInt32(u + abi.U_PROCESS_TGID, true);

  switch (what) {
    case abi.PROC_EVENT_FORK: {
      const childPid = view.getInt32(u + abi.U_FORK_CHILD_PID, true);
      const childTgid = view.getInt32(u + abi.U_FORK_CHILD_TGID, true);
      return {
        kind: 'fork',
        cpu,
        seq,
        ktimeNs,
        time,
        pid: childPid,
        tgid: childTgid,
        parentPid: view.getInt32(u + abi.U_FORK_PARENT_PID, true),
        parentTgid: view.getInt32(u + abi.U_FORK_PARENT_TGID, true),
        isThread: childPid !== childTgid,
      };
    }
    case abi.PROC_EVENT_EXEC:
      return { kind: 'exec', cpu, seq, ktimeNs, time, pid, tgid };
    case abi.PROC_EVENT_UID:
      return {
        kind: 'uid',
        cpu,
        seq,
        ktimeNs,
        time,
        pid,
        tgid,
        ruid: view.getUint32(u + abi.U_ID_R, true),
        euid: view.getUint32(u + abi.U_ID_E, true),
      };
    case abi.PROC_EVENT_GID:
      return {
        kind: 'gid',
        cpu,
        seq,
        ktimeNs,
        time,
        pid,
        tgid,
        rgid: view.getUint32(u + abi.U_ID_R, true),
        egid: view.getUint32(u + abi.U_ID_E, true),
      };
    case abi.PROC_EVENT_SID:
      return { kind: 'sid', cpu, seq, ktimeNs, time, pid, tgid };
    case abi.PROC_EVENT_PTRACE: {
      const tracerTgid = view.getInt32(u + abi.U_PTRACE_TRACER_TGID, true);
      return {
        kind: 'ptrace',
        cpu,
        seq,
        ktimeNs,
        time,
        pid,
        tgid,
        tracerPid: view.getInt32(u + abi.U_PTRACE_TRACER_PID, true),
        tracerTgid,
        attach: tracerTgid !== 0,
      };
    }
    case abi.PROC_EVENT_COMM:
      return {
        kind: 'comm',
        cpu,
        seq,
        ktimeNs,
        time,
        pid,
        tgid,
        comm: escapeCString(new Uint8Array(view.buffer, view.byteOffset), u + abi.U_COMM, abi.COMM_LEN),
      };
    case abi.PROC_EVENT_COREDUMP:
      return {
        kind: 'coredump',
        cpu,
        seq,
        ktimeNs,
        time,
        pid,
        tgid,
        parentPid: view.getInt32(u + abi.U_COREDUMP_PARENT_PID, true),
        parentTgid: view.getInt32(u + abi.U_COREDUMP_PARENT_TGID, true),
      };
    case abi.PROC_EVENT_EXIT: {
      const status = view.getUint32(u + abi.U_EXIT_CODE, true);
      const ws = decodeWaitStatus(status);
      const exitSignal = view.getInt32(u + abi.U_EXIT_SIGNAL, true);
      return {
        kind: 'exit',
        cpu,
        seq,
        ktimeNs,
        time,
        pid,
        tgid,
        status,
        exitCode: ws.exitCode,
        signal: ws.signal,
        coreDumped: ws.coreDumped,
        exitSignal,
        parentPid: view.getInt32(u + abi.U_EXIT_PARENT_PID, true),
        parentTgid: view.getInt32(u + abi.U_EXIT_PARENT_TGID, true),
        isThread: pid !== tgid,
      };
    }
    default:
      return {
        kind: 'unknown',
        cpu,
        seq,
        ktimeNs,
        time,
        pid,
        tgid,
        what,
        raw: new Uint8Array(
          view.buffer.slice(view.byteOffset + off + abi.CN_DATA, view.byteOffset + off + abi.CN_DATA + abi.PROC_EVENT_LEN),
        ),
      };
  }
}
