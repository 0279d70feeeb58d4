/**
 * A spool segment exactly as the version before compressed storage wrote it (format 1, encoding
 * byte 1 protobuf or 2 json, the body uncompressed), built here from the documented layout rather
 * than with the spool's own encoder, so that a change to the encoder cannot hide a break in reading
 * what an upgrade leaves on disk.
 */
import { createHash } from 'node:crypto';

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

export function previousFormatSegment(
  id: number,
  records: number,
  encoding: 'protobuf' | 'json',
  payload: Uint8Array,
  createdMs: number,
): Buffer {
  const h = Buffer.alloc(80);
  h.write('CNPS', 0, 'latin1');
  h.writeUInt8(1, 4); // format version
  h.writeUInt8(encoding === 'protobuf' ? 1 : 2, 5);
  h.writeUInt16LE(80, 6); // header length
  h.writeUInt32LE(records, 8);
  h.writeUInt32LE(payload.byteLength, 12);
  h.writeBigUInt64LE(BigInt(createdMs), 16);
  h.writeBigUInt64LE(BigInt(id), 24);
  sha256(payload).copy(h, 32);
  sha256(h.subarray(0, 64)).subarray(0, 16).copy(h, 64);
  return Buffer.concat([h, payload]);
}

/** The segment file name of a batch id. */
export function segmentFileName(id: number): string {
  return `${String(id).padStart(16, '0')}.seg`;
}
