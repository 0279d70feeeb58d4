/**
 * Faithful but safe text from kernel bytes (comm, later argv and paths).
 *
 * The kernel hands us arbitrary bytes. Output must be one printable line that a terminal, a log
 * backend and a JSON parser all accept, and that still tells an auditor exactly which bytes were
 * there. The escaping is reversible:
 * - valid, printable UTF-8 is kept as is;
 * - `\` becomes `\\`;
 * - newline, carriage return and tab become `\n`, `\r`, `\t`;
 * - other control characters (C0, DEL, C1) and every byte of an invalid UTF-8 sequence become
 *   `\xNN` (one escape per byte).
 */

function hex(b: number): string {
  return `\\x${b < 16 ? '0' : ''}${b.toString(16)}`;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 if it is invalid there. */
function utf8SeqLen(bytes: Uint8Array, i: number, end: number): number {
  const b0 = bytes[i] as number;
  let need: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    min = 0x10000;
  } else {
    return 0;
  }
  // The continuation bytes are at i+1 .. i+need; a sequence cut by the end is invalid.
  if (i + need >= end) return 0;
  let cp = b0 & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const b = bytes[i + k] as number;
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  // C1 controls (U+0080..U+009F) are valid UTF-8 but not printable: escape their bytes.
  if (cp >= 0x80 && cp <= 0x9f) return 0;
  return need + 1;
}

/** Escapes bytes[start, end) as described in the module comment. */
export function escapeBytes(bytes: Uint8Array, start = 0, end = bytes.length): string {
  // Fast path: plain printable ASCII without a backslash (the usual comm or argv).
  let i = start;
  while (i < end) {
    const b = bytes[i] as number;
    if (b < 0x20 || b > 0x7e || b === 0x5c) break;
    i++;
  }
  if (i === end) return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');

  let out = Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString('latin1');
  while (i < end) {
    const b = bytes[i] as number;
    if (b >= 0x20 && b < 0x7f) {
      out += b === 0x5c ? '\\\\' : String.fromCharCode(b);
      i++;
    } else if (b === 0x0a) {
      out += '\\n';
      i++;
    } else if (b === 0x0d) {
      out += '\\r';
      i++;
    } else if (b === 0x09) {
      out += '\\t';
      i++;
    } else if (b < 0x80) {
      out += hex(b);
      i++;
    } else {
      const n = utf8SeqLen(bytes, i, end);
      if (n === 0) {
        out += hex(b);
        i++;
      } else {
        out += Buffer.from(bytes.buffer, bytes.byteOffset + i, n).toString('utf8');
        i += n;
      }
    }
  }
  return out;
}

/** Escapes a NUL-terminated (or full-length) C string field such as comm[16]. */
export function escapeCString(bytes: Uint8Array, start: number, maxLen: number): string {
  let end = start;
  const limit = start + maxLen;
  while (end < limit && bytes[end] !== 0) end++;
  return escapeBytes(bytes, start, end);
}
