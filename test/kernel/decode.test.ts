import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as abi from '../../src/kernel/abi.js';
import { checkDatagram, type DecodedMessage, decodeDatagram, decodeWaitStatus } from '../../src/kernel/decode.js';
import { datagram, fixedClock, viewOf } from '../helpers/datagrams.js';

function decode(bytes: Uint8Array, truncated = false): DecodedMessage {
  return decodeDatagram(viewOf(bytes), 0, bytes.length, fixedClock, truncated);
}

describe('decodeDatagram: every event type', () => {
  test('fork of a process', () => {
    const e = decode(datagram({ what: abi.PROC_EVENT_FORK, cpu: 1, seq: 42, ktimeNs: 5_000_000_123n, words: [100, 100, 200, 200] }));
    assert.deepEqual(e, {
      kind: 'fork',
      cpu: 1,
      seq: 42,
      ktimeNs: 5_000_000_123n,
      time: [1_700_000_005, 123],
      pid: 200,
      tgid: 200,
      parentPid: 100,
      parentTgid: 100,
      isThread: false,
    });
  });

  test('fork of a thread: child pid differs from tgid', () => {
    const e = decode(datagram({ what: abi.PROC_EVENT_FORK, words: [101, 100, 205, 100] }));
    assert.equal(e.kind, 'fork');
    if (e.kind !== 'fork') return;
    assert.equal(e.isThread, true);
    assert.equal(e.pid, 205);
    assert.equal(e.tgid, 100);
    assert.equal(e.parentPid, 101);
  });

  test('exec', () => {
    assert.deepEqual(decode(datagram({ what: abi.PROC_EVENT_EXEC, seq: 7, words: [300, 300] })), {
      kind: 'exec',
      cpu: 0,
      seq: 7,
      ktimeNs: 0n,
      time: [1_700_000_000, 0],
      pid: 300,
      tgid: 300,
    });
  });

  test('uid and gid changes carry real and effective ids', () => {
    const u = decode(datagram({ what: abi.PROC_EVENT_UID, words: [10, 10, 1000, 0] }));
    assert.equal(u.kind, 'uid');
    if (u.kind === 'uid') assert.deepEqual([u.ruid, u.euid], [1000, 0]);
    const g = decode(datagram({ what: abi.PROC_EVENT_GID, words: [10, 10, 65534, 4294967295] }));
    assert.equal(g.kind, 'gid');
    // ids are unsigned: (gid_t)-1 stays 4294967295.
    if (g.kind === 'gid') assert.deepEqual([g.rgid, g.egid], [65534, 4294967295]);
  });

  test('sid', () => {
    const e = decode(datagram({ what: abi.PROC_EVENT_SID, words: [11, 11] }));
    assert.equal(e.kind, 'sid');
    assert.equal(e.tgid, 11);
  });

  test('ptrace attach and detach', () => {
    const a = decode(datagram({ what: abi.PROC_EVENT_PTRACE, words: [20, 20, 30, 31] }));
    assert.equal(a.kind, 'ptrace');
    if (a.kind === 'ptrace') assert.deepEqual([a.attach, a.tracerPid, a.tracerTgid], [true, 30, 31]);
    const d = decode(datagram({ what: abi.PROC_EVENT_PTRACE, words: [20, 20, 0, 0] }));
    if (d.kind === 'ptrace') assert.equal(d.attach, false);
    else assert.fail(d.kind);
  });

  test('comm: NUL-terminated, full 16 bytes, and odd bytes escaped', () => {
    const mk = (name: Uint8Array): Uint8Array => {
      const u = new Uint8Array(24);
      new DataView(u.buffer).setInt32(0, 40, true);
      new DataView(u.buffer).setInt32(4, 40, true);
      u.set(name.subarray(0, 16), 8);
      return u;
    };
    const short = decode(datagram({ what: abi.PROC_EVENT_COMM, unionBytes: mk(new TextEncoder().encode('worker-1')) }));
    assert.equal(short.kind === 'comm' && short.comm, 'worker-1');
    const full = decode(datagram({ what: abi.PROC_EVENT_COMM, unionBytes: mk(new TextEncoder().encode('abcdefghijklmnop')) }));
    assert.equal(full.kind === 'comm' && full.comm, 'abcdefghijklmnop');
    const odd = decode(datagram({ what: abi.PROC_EVENT_COMM, unionBytes: mk(Uint8Array.from([0x61, 0x0a, 0xff, 0x5c, 0])) }));
    assert.equal(odd.kind === 'comm' && odd.comm, 'a\\n\\xff\\\\');
  });

  test('coredump', () => {
    const e = decode(datagram({ what: abi.PROC_EVENT_COREDUMP, words: [50, 50, 1, 1] }));
    assert.equal(e.kind, 'coredump');
    if (e.kind === 'coredump') assert.deepEqual([e.parentPid, e.parentTgid], [1, 1]);
  });

  test('exit with code 3 (wait status 768)', () => {
    const e = decode(datagram({ what: abi.PROC_EVENT_EXIT, words: [60, 60, 768, 17, 1, 1] }));
    assert.equal(e.kind, 'exit');
    if (e.kind !== 'exit') return;
    assert.deepEqual(
      {
        status: e.status,
        exitCode: e.exitCode,
        signal: e.signal,
        coreDumped: e.coreDumped,
        exitSignal: e.exitSignal,
        isThread: e.isThread,
      },
      { status: 768, exitCode: 3, signal: null, coreDumped: false, exitSignal: 17, isThread: false },
    );
    assert.deepEqual([e.parentPid, e.parentTgid], [1, 1]);
  });

  test('exit by SIGSEGV with core, and a thread exit', () => {
    const e = decode(datagram({ what: abi.PROC_EVENT_EXIT, words: [61, 61, 0x80 | 11, 17, 1, 1] }));
    if (e.kind !== 'exit') return assert.fail(e.kind);
    assert.deepEqual([e.exitCode, e.signal, e.coreDumped], [null, 11, true]);
    const t = decode(datagram({ what: abi.PROC_EVENT_EXIT, words: [62, 61, 0, -1, 1, 1] }));
    if (t.kind !== 'exit') return assert.fail(t.kind);
    assert.deepEqual([t.isThread, t.exitSignal], [true, -1]);
  });

  test('an unknown what is kept with its raw proc_event bytes', () => {
    const bytes = datagram({ what: 0x1000, words: [70, 70, 1, 2, 3, 4] });
    const e = decode(bytes);
    assert.equal(e.kind, 'unknown');
    if (e.kind !== 'unknown') return;
    assert.equal(e.what, 0x1000);
    assert.equal(e.tgid, 70);
    assert.deepEqual([...e.raw], [...bytes.subarray(abi.CN_DATA, abi.CN_DATA + abi.PROC_EVENT_LEN)]);
    // The raw bytes are a copy: changing the datagram later does not change the event.
    bytes[abi.CN_DATA] = 0xee;
    assert.notEqual(e.raw[0], 0xee);
  });

  test('the timestamp is read unaligned and converted with nanoseconds kept', () => {
    const e = decode(datagram({ what: abi.PROC_EVENT_EXEC, ktimeNs: 0x1_2345_6789_abcdn }));
    assert.equal(e.kind === 'exec' && e.ktimeNs, 0x1_2345_6789_abcdn);
    const wall = 0x1_2345_6789_abcdn + fixedClock.offsetNs;
    assert.deepEqual(e.kind === 'exec' && e.time, [Number(wall / 1_000_000_000n), Number(wall % 1_000_000_000n)]);
  });

  test('decoding at an offset inside a larger buffer', () => {
    const d = datagram({ what: abi.PROC_EVENT_EXEC, words: [9, 9] });
    const big = new Uint8Array(200);
    big.set(d, 52);
    const e = decodeDatagram(new DataView(big.buffer), 52, d.length, fixedClock);
    assert.equal(e.kind === 'exec' && e.tgid, 9);
  });
});

describe('decodeDatagram: acks and malformed input', () => {
  test('ack carries the errno', () => {
    assert.deepEqual(decode(datagram({ what: abi.PROC_EVENT_NONE, cpu: -1, seq: 5, ack: 6, words: [0] })), {
      kind: 'ack',
      err: 0,
      seq: 5,
      ack: 6,
    });
    const eperm = decode(datagram({ what: abi.PROC_EVENT_NONE, words: [1] }));
    assert.equal(eperm.kind === 'ack' && eperm.err, 1);
  });

  const cases: Array<[string, Uint8Array, string]> = [
    ['empty', new Uint8Array(0), 'short'],
    ['shorter than nlmsghdr', new Uint8Array(10), 'short'],
    ['nlmsg_len beyond the datagram', datagram({ what: 1, nlLen: 200 }), 'nlmsg_len'],
    ['nlmsg_len below the header', datagram({ what: 1, nlLen: 8 }), 'nlmsg_len'],
    ['NLMSG_ERROR', datagram({ what: 1, nlType: abi.NLMSG_ERROR }), 'nlmsg_error'],
    ['NLMSG_NOOP', datagram({ what: 1, nlType: abi.NLMSG_NOOP }), 'nlmsg_noop'],
    ['other nlmsg type', datagram({ what: 1, nlType: 0x10 }), 'nlmsg_type'],
    ['no room for cn_msg', datagram({ what: 1, nlLen: 30 }), 'short'],
    ['wrong connector idx', datagram({ what: 1, cnIdx: 2 }), 'cn_id'],
    ['wrong connector val', datagram({ what: 1, cnVal: 7 }), 'cn_id'],
    ['cn len too small for proc_event', datagram({ what: 1, cnLen: 8 }), 'cn_len'],
    ['cn len beyond nlmsg', datagram({ what: 1, cnLen: 100 }), 'cn_len'],
    ['datagram cut short', datagram({ what: 1 }).subarray(0, 60), 'nlmsg_len'],
  ];
  for (const [name, bytes, reason] of cases) {
    test(`${name} → malformed (${reason})`, () => {
      assert.deepEqual(decode(bytes), { kind: 'malformed', reason });
      assert.equal(checkDatagram(viewOf(bytes), 0, bytes.length), reason);
    });
  }

  test('a datagram flagged truncated by recv is malformed, whatever it holds', () => {
    assert.deepEqual(decode(datagram({ what: 1 }), true), { kind: 'malformed', reason: 'truncated' });
  });

  test('a valid datagram passes checkDatagram', () => {
    const d = datagram({ what: abi.PROC_EVENT_EXIT });
    assert.equal(checkDatagram(viewOf(d), 0, d.length), null);
  });
});

test('decodeWaitStatus mirrors WIFEXITED / WTERMSIG / WCOREDUMP', () => {
  assert.deepEqual(decodeWaitStatus(0), { exitCode: 0, signal: null, coreDumped: false });
  assert.deepEqual(decodeWaitStatus(255 << 8), { exitCode: 255, signal: null, coreDumped: false });
  assert.deepEqual(decodeWaitStatus(9), { exitCode: null, signal: 9, coreDumped: false });
  assert.deepEqual(decodeWaitStatus(0x80 | 6), { exitCode: null, signal: 6, coreDumped: true });
});

test('fuzz: 200,000 random and mutated datagrams never throw', () => {
  // Deterministic PRNG (xorshift32) so a failure can be reproduced.
  let s = 0x9e3779b9;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const kinds = [0, 1, 2, 4, 0x40, 0x80, 0x100, 0x200, 0x40000000, 0x80000000];
  const counts = new Map<string, number>();
  for (let i = 0; i < 200_000; i++) {
    let bytes: Uint8Array;
    const mode = i % 4;
    if (mode === 0) {
      // Pure noise of random length.
      bytes = new Uint8Array(rnd() % 160);
      for (let j = 0; j < bytes.length; j++) bytes[j] = rnd() & 0xff;
    } else {
      // A valid datagram with a few bytes flipped, or cut, or extended.
      const words = Array.from({ length: 6 }, () => rnd() | 0);
      bytes = datagram({ what: kinds[rnd() % kinds.length] as number, cpu: rnd() % 4, seq: rnd(), ktimeNs: BigInt(rnd()) << 20n, words });
      const flips = mode === 1 ? 0 : 1 + (rnd() % 4);
      for (let k = 0; k < flips; k++) bytes[rnd() % bytes.length] = rnd() & 0xff;
      if (mode === 3) bytes = bytes.subarray(0, rnd() % (bytes.length + 1));
    }
    const m = decodeDatagram(viewOf(bytes), 0, bytes.length, fixedClock, rnd() % 1000 === 0);
    const key = m.kind === 'malformed' ? `malformed:${m.reason}` : m.kind;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // The corpus exercised both sides: real events of every kind and many malformed reasons.
  for (const k of ['fork', 'exec', 'exit', 'comm', 'ptrace', 'malformed:short', 'malformed:nlmsg_len', 'malformed:cn_id']) {
    assert.ok((counts.get(k) ?? 0) > 0, `fuzz corpus produced no ${k}`);
  }
});
