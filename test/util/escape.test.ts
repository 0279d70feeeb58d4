import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeBytes, escapeCString } from '../../src/util/escape.js';

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('plain ASCII is unchanged', () => {
  assert.equal(escapeBytes(utf8('/usr/bin/curl -s https://x')), '/usr/bin/curl -s https://x');
});

test('valid UTF-8 is kept', () => {
  assert.equal(escapeBytes(utf8('café ☕ 𝄞')), 'café ☕ 𝄞');
});

test('backslash, newline, tab, CR and other controls are escaped', () => {
  assert.equal(escapeBytes(utf8('a\\b\nc\td\re\x1bf\x7f')), 'a\\\\b\\nc\\td\\re\\x1bf\\x7f');
});

test('invalid UTF-8 bytes become \\xNN, one per byte', () => {
  assert.equal(escapeBytes(b(0x41, 0xff, 0x42)), 'A\\xffB');
  // Overlong "/" (C0 AF), a lone continuation byte, a cut 3-byte sequence, a surrogate (ED A0 80).
  assert.equal(escapeBytes(b(0xc0, 0xaf)), '\\xc0\\xaf');
  assert.equal(escapeBytes(b(0x80)), '\\x80');
  assert.equal(escapeBytes(b(0xe2, 0x82)), '\\xe2\\x82');
  assert.equal(escapeBytes(b(0xed, 0xa0, 0x80)), '\\xed\\xa0\\x80');
  // Beyond U+10FFFF.
  assert.equal(escapeBytes(b(0xf4, 0x90, 0x80, 0x80)), '\\xf4\\x90\\x80\\x80');
});

test('C1 controls (valid UTF-8, not printable) are escaped bytewise', () => {
  assert.equal(escapeBytes(b(0xc2, 0x85)), '\\xc2\\x85');
});

test('ranges and C strings', () => {
  const bytes = utf8('xxhello\0junk');
  assert.equal(escapeBytes(bytes, 2, 7), 'hello');
  assert.equal(escapeCString(bytes, 2, 16), 'hello');
  assert.equal(escapeCString(utf8('abcdefghijklmnopq'), 0, 16), 'abcdefghijklmnop');
});

test('escaping is reversible', () => {
  const unescapeBytes = (s: string): number[] => {
    const out: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\\') {
        const c = s[++i];
        if (c === 'x') {
          out.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
          i += 2;
        } else out.push(({ n: 10, r: 13, t: 9, '\\': 92 } as Record<string, number>)[c as string] as number);
      } else {
        const cp = s.codePointAt(i) as number;
        out.push(...utf8(String.fromCodePoint(cp)));
        if (cp > 0xffff) i++;
      }
    }
    return out;
  };
  let seed = 7;
  for (let n = 0; n < 2000; n++) {
    const bytes = new Uint8Array(1 + (n % 40));
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    assert.deepEqual(unescapeBytes(escapeBytes(bytes)), [...bytes]);
  }
});
