import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as abi from '../../src/kernel/abi.js';
import { buildMcastMessage } from '../../src/kernel/socket.js';

test('LISTEN with proc_input (6.6+): 44 bytes, op and mask after cn_msg', () => {
  const m = buildMcastMessage(abi.PROC_CN_MCAST_LISTEN, abi.PROC_EVENT_EXEC | abi.PROC_EVENT_EXIT, 9);
  const v = new DataView(m.buffer);
  assert.equal(m.length, 44);
  assert.equal(v.getUint32(0, true), 44);
  assert.equal(v.getUint16(4, true), abi.NLMSG_DONE);
  assert.equal(v.getUint32(8, true), 9);
  assert.equal(v.getUint32(16, true), abi.CN_IDX_PROC);
  assert.equal(v.getUint32(20, true), abi.CN_VAL_PROC);
  assert.equal(v.getUint16(32, true), 8);
  assert.equal(v.getUint32(36, true), abi.PROC_CN_MCAST_LISTEN);
  assert.equal(v.getUint32(40, true), 0x80000002);
});

test('legacy IGNORE: 40 bytes, cn len 4, op only', () => {
  const m = buildMcastMessage(abi.PROC_CN_MCAST_IGNORE, null, 1);
  const v = new DataView(m.buffer);
  assert.equal(m.length, 40);
  assert.equal(v.getUint32(0, true), 40);
  assert.equal(v.getUint16(32, true), 4);
  assert.equal(v.getUint32(36, true), abi.PROC_CN_MCAST_IGNORE);
});

test('PROC_EVENT_ALL matches the kernel value', () => {
  assert.equal(abi.PROC_EVENT_ALL, 0xe00003c7);
  assert.equal(abi.EVENT_DATAGRAM_LEN, 76);
  assert.equal(abi.EV_WHAT, 36);
  assert.equal(abi.EV_TIMESTAMP, 44);
});

test('the ack field carries the nonce the kernel answers with + 1', () => {
  const m = buildMcastMessage(abi.PROC_CN_MCAST_LISTEN, abi.PROC_EVENT_ALL, 3, 0xfffffff0);
  const v = new DataView(m.buffer);
  assert.equal(v.getUint32(abi.CN_SEQ, true), 3);
  assert.equal(v.getUint32(abi.CN_ACK, true), 0xfffffff0);
  assert.equal(new DataView(buildMcastMessage(abi.PROC_CN_MCAST_IGNORE, null, 1).buffer).getUint32(abi.CN_ACK, true), 0);
});
