/**
 * The NETLINK_CONNECTOR socket subscribed to the proc connector: open, size, bind, LISTEN/IGNORE,
 * and batched receive with recvmmsg into native memory. Synchronous and blocking by design: it runs
 * in the capture worker thread, never on the main event loop.
 */
import { randomInt } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import * as abi from './abi.js';
import { CaptureError, ERRNO, errnoName } from './errors.js';
import { type Libc, libc } from './libc.js';

/** How the subscription was made. */
export type SubscriptionMode =
  /** 6.6+: 8-byte proc_input; the kernel filters by type. */
  | 'filtered'
  /** Older kernels: 4-byte op; every type arrives and the agent filters. */
  | 'legacy';

/** Builds the LISTEN/IGNORE message: nlmsghdr + cn_msg + (op | proc_input). */
export function buildMcastMessage(op: number, mask: number | null, seq: number, ack = 0): Uint8Array {
  const payload = mask === null ? abi.MCAST_OP_LEN : abi.PROC_INPUT_LEN;
  const total = abi.CN_DATA + payload;
  const buf = new Uint8Array(total);
  const v = new DataView(buf.buffer);
  v.setUint32(abi.NLH_LEN, total, true);
  v.setUint16(abi.NLH_TYPE, abi.NLMSG_DONE, true);
  v.setUint16(abi.NLH_FLAGS, 0, true);
  v.setUint32(abi.NLH_SEQ, seq, true);
  v.setUint32(abi.NLH_PID, 0, true);
  v.setUint32(abi.CN_IDX, abi.CN_IDX_PROC, true);
  v.setUint32(abi.CN_VAL, abi.CN_VAL_PROC, true);
  v.setUint32(abi.CN_SEQ, seq, true);
  v.setUint32(abi.CN_ACK, ack >>> 0, true);
  v.setUint16(abi.CN_LEN, payload, true);
  v.setUint32(abi.CN_DATA, op, true);
  if (mask !== null) v.setUint32(abi.CN_DATA + 4, mask >>> 0, true);
  return buf;
}

/** Sends LISTEN/IGNORE on an fd. Returns 0 or the errno. Safe from any thread (fds are per process). */
export function sendMcast(c: Libc, fd: number, op: number, mask: number | null, seq: number, ack = 0): number {
  const msg = buildMcastMessage(op, mask, seq, ack);
  const n = c.send(fd, msg, msg.length, 0);
  return n === msg.length ? 0 : c.errno();
}

/** One received batch: datagram i is at data[i*slot, i*slot+lengths[i]). */
export interface RecvBatch {
  count: number;
  data: DataView;
  slot: number;
  lengths: Uint32Array;
  truncated: Uint8Array;
}

export class ProcConnectorSocket {
  readonly fd: number;
  /** Socket inode, to find our row in /proc/net/netlink. */
  readonly inode: number;
  /** Netlink port id the kernel assigned on bind. */
  readonly portId: number;
  private readonly c: Libc;
  private seq = 0;
  /**
   * The ack field of our LISTEN/IGNORE. The kernel multicasts its answer to every listener with
   * ack + 1 (since 5.2 it overwrites seq), so a random start makes our own answer recognisable:
   * another agent subscribing at the same moment must not confirm a subscription the kernel
   * ignored (a user namespace).
   */
  private ack = randomInt(1, 0x7fffffff);
  private closed = false;

  // recvmmsg ring in native memory: vlen slots of `slot` bytes, their iovecs and mmsghdrs.
  private readonly vlen: number;
  private readonly slot: number;
  private readonly mem: bigint;
  private readonly memView: DataView;
  private readonly msgvec: bigint;
  private readonly batch: RecvBatch;

  /**
   * Opens and binds the socket. `slot` is the largest datagram kept whole (event datagrams are 76
   * bytes; anything longer than a slot is flagged truncated, not silently cut).
   */
  constructor(vlen = 256, slot = 256) {
    this.c = libc();
    this.vlen = vlen;
    this.slot = slot;
    const fd = this.c.socket(abi.AF_NETLINK, abi.SOCK_DGRAM | abi.SOCK_CLOEXEC, abi.NETLINK_CONNECTOR);
    if (fd < 0) throw socketError('socket(AF_NETLINK, NETLINK_CONNECTOR)', this.c.errno());
    this.fd = fd;
    try {
      const sa = new Uint8Array(12);
      const sv = new DataView(sa.buffer);
      sv.setUint16(0, abi.AF_NETLINK, true);
      sv.setUint32(4, 0, true); // nl_pid 0: the kernel assigns a port id.
      sv.setUint32(8, abi.CN_IDX_PROC, true); // nl_groups: the proc connector's multicast group.
      if (this.c.bind(fd, sa, sa.length) !== 0) throw socketError('bind to the proc connector group', this.c.errno());
      const len = new Uint32Array([12]);
      this.portId = this.c.getsockname(fd, sa, len) === 0 ? sv.getUint32(4, true) : 0;
      this.inode = socketInode(fd);

      const L = this.c.layout;
      const dataBytes = vlen * slot;
      const iovBytes = vlen * L.iovec;
      const total = dataBytes + iovBytes + vlen * L.mmsghdr;
      this.mem = this.c.alloc(total);
      this.memView = new DataView(this.c.view(this.mem, total));
      const iovBase = this.mem + BigInt(dataBytes);
      this.msgvec = iovBase + BigInt(iovBytes);
      for (let i = 0; i < vlen; i++) {
        const iov = dataBytes + i * L.iovec;
        this.memView.setBigUint64(iov, this.mem + BigInt(i * slot), true);
        this.memView.setBigUint64(iov + 8, BigInt(slot), true);
        const mh = dataBytes + iovBytes + i * L.mmsghdr;
        this.memView.setBigUint64(mh + L.msgIov, iovBase + BigInt(i * L.iovec), true);
        this.memView.setBigUint64(mh + L.msgIovlen, 1n, true);
      }
      this.batch = {
        count: 0,
        data: new DataView(this.memView.buffer, 0, dataBytes),
        slot,
        lengths: new Uint32Array(vlen),
        truncated: new Uint8Array(vlen),
      };
    } catch (err) {
      this.c.close(fd);
      throw err;
    }
  }

  /**
   * Asks for a receive buffer of `bytes`: SO_RCVBUFFORCE first (CAP_NET_ADMIN, ignores
   * net.core.rmem_max), then SO_RCVBUF (capped by rmem_max). Returns the size the kernel reports
   * (which is doubled for bookkeeping overhead) and whether the forced call worked.
   */
  setReceiveBuffer(bytes: number): { obtained: number; forced: boolean } {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setInt32(0, Math.min(bytes, 0x7fffffff), true);
    const forced = this.c.setsockopt(this.fd, abi.SOL_SOCKET, abi.SO_RCVBUFFORCE, v, 4) === 0;
    if (!forced && this.c.setsockopt(this.fd, abi.SOL_SOCKET, abi.SO_RCVBUF, v, 4) !== 0) {
      throw socketError('setsockopt(SO_RCVBUF)', this.c.errno());
    }
    const out = new Uint8Array(4);
    const len = new Uint32Array([4]);
    this.c.getsockopt(this.fd, abi.SOL_SOCKET, abi.SO_RCVBUF, out, len);
    const obtained = new DataView(out.buffer).getInt32(0, true);
    return { obtained, forced };
  }

  /** Blocking receives return after at most `ms` with no data (so the loop can check for stop). */
  setReceiveTimeout(ms: number): void {
    const tv = new BigInt64Array([BigInt(Math.floor(ms / 1000)), BigInt((ms % 1000) * 1000)]);
    if (this.c.setsockopt(this.fd, abi.SOL_SOCKET, abi.SO_RCVTIMEO, new Uint8Array(tv.buffer), 16) !== 0) {
      throw socketError('setsockopt(SO_RCVTIMEO)', this.c.errno());
    }
  }

  /** Sends LISTEN/IGNORE; `mask` null uses the legacy 4-byte form. Throws a CaptureError on failure. */
  sendOp(op: number, mask: number | null): void {
    this.ack = (this.ack + 1) >>> 0;
    const err = sendMcast(this.c, this.fd, op, mask, ++this.seq, this.ack);
    if (err !== 0) throw socketError(op === abi.PROC_CN_MCAST_LISTEN ? 'send LISTEN' : 'send IGNORE', err);
  }

  /** The ack field the kernel's answer to our last LISTEN/IGNORE carries. */
  get expectedAck(): number {
    return (this.ack + 1) >>> 0;
  }

  /**
   * Receives up to `vlen` datagrams in one syscall. `wait`: block (up to the receive timeout)
   * for the first one, then take whatever else is queued; otherwise never block.
   * Returns the batch, or the errno (EAGAIN: nothing queued; ENOBUFS: the kernel dropped events).
   */
  receive(wait: boolean): RecvBatch | number {
    const flags = wait ? abi.MSG_WAITFORONE : abi.MSG_DONTWAIT;
    const n = this.c.recvmmsg(this.fd, this.msgvec, this.vlen, flags, null);
    if (n < 0) return this.c.errno();
    const L = this.c.layout;
    const base = this.vlen * this.slot + this.vlen * L.iovec;
    const b = this.batch;
    for (let i = 0; i < n; i++) {
      const mh = base + i * L.mmsghdr;
      const len = this.memView.getUint32(mh + L.msgLen, true);
      const trunc = (this.memView.getInt32(mh + L.msgFlags, true) & abi.MSG_TRUNC) !== 0;
      b.lengths[i] = Math.min(len, this.slot);
      b.truncated[i] = trunc || len > this.slot ? 1 : 0;
    }
    b.count = n;
    return b;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.c.close(this.fd);
    this.c.free(this.mem);
  }
}

function socketInode(fd: number): number {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Turns a syscall errno into a CaptureError whose message says what to do. */
export function socketError(what: string, errno: number): CaptureError {
  const name = errnoName(errno);
  const c = libc();
  const detail = `${what} failed: ${name} (${c.strerror(errno)})`;
  switch (errno) {
    case ERRNO.EPERM:
    case ERRNO.EACCES:
      return new CaptureError(
        `${detail}. Run as root, or (kernels before 6.6) grant CAP_NET_ADMIN, e.g. AmbientCapabilities=CAP_NET_ADMIN in the systemd unit.`,
        'permission',
        name,
      );
    case ERRNO.EPROTONOSUPPORT:
    case ERRNO.EAFNOSUPPORT:
      return new CaptureError(
        `${detail}. This kernel has no netlink connector (CONFIG_CONNECTOR); process events cannot be captured here.`,
        'unavailable',
        name,
      );
    case ERRNO.ECONNREFUSED:
      return new CaptureError(
        `${detail}. The agent runs in a network namespace other than the host's, where the proc connector does not answer: run it in the host network namespace (hostNetwork: true, docker --network=host).`,
        'unavailable',
        name,
      );
    default:
      return new CaptureError(`${detail}.`, 'internal', name);
  }
}
