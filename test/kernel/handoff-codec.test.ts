/**
 * The capture handoff codec: what the capture thread's encoder writes, the main thread's decoder
 * reads back, record for record — datagram bytes, the one check's verdict, and the /proc
 * attachments — whatever the lengths and padding.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as abi from '../../src/kernel/abi.js';
import { checkDatagram, decodeChecked, decodeDatagram, MALFORMED_REASONS, type MalformedReason } from '../../src/kernel/decode.js';
import { BatchDecoder, BatchEncoder, RECORD_HEADER, VERDICT_OK, verdictOf } from '../../src/kernel/handoff-codec.js';
import type { Attachment } from '../../src/kernel/proc-files.js';
import { datagram, fixedClock, viewOf } from '../helpers/datagrams.js';
import { prng } from '../helpers/prng.js';

interface Rec {
  bytes: Uint8Array;
  bad: MalformedReason | null;
  attachments: Attachment[];
}

function roundTrip(recs: Rec[], capacity = 1 << 16): Array<{ bytes: Uint8Array; bad: MalformedReason | null; attachments: Attachment[] }> {
  const enc = new BatchEncoder(capacity);
  for (const r of recs) {
    assert.ok(enc.fits(BatchEncoder.recordSize(r.bytes.length, r.attachments)));
    enc.add(r.bytes, 0, r.bytes.length, verdictOf(r.bad), r.attachments);
  }
  assert.equal(enc.count, recs.length);
  const used = enc.used;
  const buf = enc.take();
  assert.equal(buf.byteLength, used, 'the batch is cut to its exact size');
  assert.equal(enc.count, 0, 'take() starts a new batch');
  const dec = new BatchDecoder();
  dec.start(buf, recs.length);
  const out: Array<{ bytes: Uint8Array; bad: MalformedReason | null; attachments: Attachment[] }> = [];
  while (dec.next()) {
    out.push({
      bytes: new Uint8Array(dec.view.buffer, dec.dataOff, dec.len).slice(),
      bad: dec.malformed,
      attachments: (dec.attachments ?? []).map((a) => ({ ...a, bytes: a.bytes.slice() })),
    });
  }
  return out;
}

test('events, acks, malformed verdicts and attachments come back as written', () => {
  const recs: Rec[] = [
    { bytes: datagram({ what: abi.PROC_EVENT_EXEC, seq: 7, words: [300, 300] }), bad: null, attachments: [] },
    {
      bytes: datagram({ what: abi.PROC_EVENT_EXEC, seq: 8, words: [301, 301] }),
      bad: null,
      attachments: [
        { file: 3, status: 0, bytes: new TextEncoder().encode('sh\0-c\0true\0') },
        { file: 4, status: 1, bytes: new Uint8Array(0) },
        { file: 1, status: 4, bytes: new Uint8Array([1, 2, 3, 4, 5]) },
      ],
    },
    { bytes: new Uint8Array(5).fill(9), bad: 'short', attachments: [] },
    { bytes: datagram({ what: abi.PROC_EVENT_FORK }), bad: 'truncated', attachments: [] },
  ];
  assert.deepEqual(roundTrip(recs), recs);
});

test('every malformed reason survives the trip; an unknown verdict byte is still malformed', () => {
  for (const reason of MALFORMED_REASONS) {
    const [r] = roundTrip([{ bytes: new Uint8Array(3), bad: reason, attachments: [] }]);
    assert.equal(r?.bad, reason);
  }
  const enc = new BatchEncoder(64);
  enc.add(new Uint8Array(4), 0, 4, 200, []);
  const dec = new BatchDecoder();
  dec.start(enc.take(), 1);
  assert.ok(dec.next());
  assert.notEqual(dec.malformed, null);
  assert.equal(dec.next(), false);
});

test('randomized: lengths 0..300, 0..4 attachments of any size, every verdict (2,000 records)', () => {
  const rnd = prng(17);
  const verdicts: Array<MalformedReason | null> = [null, ...MALFORMED_REASONS];
  const recs: Rec[] = [];
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array(Math.floor(rnd() * 301));
    for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rnd() * 256);
    const attachments: Attachment[] = [];
    const n = Math.floor(rnd() * 5);
    for (let k = 0; k < n; k++) {
      const a = new Uint8Array(Math.floor(rnd() * 70));
      for (let j = 0; j < a.length; j++) a[j] = Math.floor(rnd() * 256);
      attachments.push({ file: 1 + Math.floor(rnd() * 8), status: Math.floor(rnd() * 5) as Attachment['status'], bytes: a });
    }
    recs.push({ bytes, bad: verdicts[Math.floor(rnd() * verdicts.length)] ?? null, attachments });
  }
  assert.deepEqual(roundTrip(recs, 1 << 22), recs);
});

test('fits() says when the staging buffer is full; the records written so far are intact', () => {
  const d = datagram({ what: abi.PROC_EVENT_EXIT, words: [1, 1, 256, 0, 0, 0] });
  const size = BatchEncoder.recordSize(d.length, []);
  assert.equal(size, RECORD_HEADER + 76);
  const enc = new BatchEncoder(size * 3);
  let n = 0;
  while (enc.fits(size)) {
    enc.add(d, 0, d.length, VERDICT_OK, []);
    n++;
  }
  assert.equal(n, 3);
  const dec = new BatchDecoder();
  dec.start(enc.take(), n);
  let seen = 0;
  while (dec.next()) {
    const e = decodeChecked(dec.view, dec.dataOff, fixedClock);
    assert.equal(e.kind, 'exit');
    seen++;
  }
  assert.equal(seen, 3);
});

test('the verdict is the check: decodeChecked on a passed datagram equals the checking decoder', () => {
  const samples = [
    datagram({ what: abi.PROC_EVENT_FORK, cpu: 1, seq: 42, ktimeNs: 5_000_000_123n, words: [100, 100, 200, 200] }),
    datagram({ what: abi.PROC_EVENT_NONE, words: [0] }),
    datagram({ what: abi.PROC_EVENT_EXIT, words: [7, 7, 768, 17, 1, 1] }),
    datagram({ what: abi.PROC_EVENT_FORK, cnIdx: 9 }),
    datagram({ what: abi.PROC_EVENT_FORK, nlType: abi.NLMSG_ERROR }),
  ];
  for (const bytes of samples) {
    const bad = checkDatagram(viewOf(bytes), 0, bytes.length);
    const [r] = roundTrip([{ bytes, bad, attachments: [] }]);
    assert.equal(r?.bad, bad);
    const expected = decodeDatagram(viewOf(bytes), 0, bytes.length, fixedClock);
    if (bad === null) assert.deepEqual(decodeChecked(viewOf(bytes), 0, fixedClock), expected);
    else assert.deepEqual(expected, { kind: 'malformed', reason: bad });
  }
});
