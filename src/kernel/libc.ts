/**
 * The libc calls Node does not offer (it has no AF_NETLINK), bound with koffi.
 *
 * Loaded lazily on first use so that pure modules (decoding, formatting) and their tests never
 * load the native library. Each thread that calls these gets its own binding (koffi is per-isolate).
 */
import koffi from 'koffi';

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, addrlen: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint32Array): number;
  getsockname(fd: number, addr: Uint8Array, len: Uint32Array): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  /** recvmmsg with msgvec as a raw pointer (native memory from {@link Libc.alloc}). */
  recvmmsg(fd: number, msgvec: bigint, vlen: number, flags: number, timeout: null): number;
  close(fd: number): number;
  /** The calling thread's kernel id. */
  gettid(): number;
  /** setpriority(PRIO_PROCESS, tid, nice): on Linux this sets one thread's nice value. */
  setThreadNice(tid: number, nice: number): number;
  clockGettime(clock: number, ts: BigInt64Array): number;
  /** poll(fds, n, timeout): `fds` is struct pollfd[] as Int16Array (fd as two int16 slots, events, revents). */
  poll(fds: Int16Array, n: number, timeoutMs: number): number;
  /** The calling thread's errno after the last bound call. */
  errno(): number;
  strerror(errno: number): string;
  /** Native memory that never moves (recvmmsg keeps pointers into it); returned as an address. */
  alloc(bytes: number): bigint;
  free(ptr: bigint): void;
  /** A zero-copy ArrayBuffer over native memory. */
  view(ptr: bigint, bytes: number): ArrayBuffer;
  /** Size and field offsets of struct mmsghdr / iovec on this platform. */
  layout: { mmsghdr: number; msgIov: number; msgIovlen: number; msgFlags: number; msgLen: number; iovec: number };
}

let cached: Libc | undefined;

export function libc(): Libc {
  if (cached) return cached;
  const lib = koffi.load('libc.so.6');
  const iovec = koffi.struct({ iov_base: 'void *', iov_len: 'size_t' });
  const msghdr = koffi.struct({
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'void *',
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  const mmsghdr = koffi.struct({ msg_hdr: msghdr, msg_len: 'uint32_t' });
  const strerrorFn = lib.func('const char *strerror(int)');
  const setpriorityFn = lib.func('int setpriority(int, int, int)');
  const mallocFn = lib.func('void *calloc(size_t, size_t)');
  const freeFn = lib.func('void free(void *)');
  cached = {
    socket: lib.func('int socket(int, int, int)'),
    bind: lib.func('int bind(int, const void *, uint32_t)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    getsockopt: lib.func('int getsockopt(int, int, int, void *, _Inout_ uint32_t *)'),
    getsockname: lib.func('int getsockname(int, void *, _Inout_ uint32_t *)'),
    send: lib.func('intptr_t send(int, const void *, size_t, int)'),
    recvmmsg: lib.func('int recvmmsg(int, void *, unsigned int, int, void *)'),
    close: lib.func('int close(int)'),
    gettid: lib.func('int gettid()'),
    setThreadNice: (tid, nice) => setpriorityFn(0, tid, nice) as number,
    clockGettime: lib.func('int clock_gettime(int, _Out_ int64_t *)'),
    poll: lib.func('int poll(_Inout_ int16_t *, unsigned long, int)'),
    errno: () => koffi.errno(),
    strerror: (e) => strerrorFn(e) as string,
    alloc: (bytes) => {
      const p = mallocFn(1, bytes) as bigint | null;
      if (p === null || p === 0n) throw new Error(`calloc(${bytes}) failed`);
      return BigInt(p);
    },
    free: (p) => freeFn(p),
    view: (p, bytes) => koffi.view(p, bytes) as ArrayBuffer,
    layout: {
      mmsghdr: koffi.sizeof(mmsghdr),
      msgIov: koffi.offsetof(msghdr, 'msg_iov'),
      msgIovlen: koffi.offsetof(msghdr, 'msg_iovlen'),
      msgFlags: koffi.offsetof(msghdr, 'msg_flags'),
      msgLen: koffi.offsetof(mmsghdr, 'msg_len'),
      iovec: koffi.sizeof(iovec),
    },
  };
  return cached;
}
