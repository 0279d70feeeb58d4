import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetlinkTable } from '../../src/kernel/netlink-stats.js';

const TABLE = `sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
00000000ae243d14 0   0          00000000 0        0        0     2        0        4
000000008a4ddc6f 11  2899       00000001 13312    0        0     2        1234     5854
`;

test('finds the row by inode and reads Drops and Rmem', () => {
  assert.deepEqual(parseNetlinkTable(TABLE, 5854), { drops: 1234, rmem: 13312 });
});

test('no row, or an unexpected header, gives null', () => {
  assert.equal(parseNetlinkTable(TABLE, 999), null);
  assert.equal(parseNetlinkTable('garbage\n1 2 3\n', 4), null);
  assert.equal(parseNetlinkTable('', 4), null);
});
