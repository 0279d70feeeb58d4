/**
 * A faster protobuf encoder for OTLP ExportLogsServiceRequest, for the http/protobuf exporter.
 *
 * Same output as the stock ProtobufLogsSerializer of @opentelemetry/otlp-transformer 0.223.1 (same
 * grouping by resource and scope object identity, same fields in the same order, same AnyValue mapping,
 * same canonical varints), so the bytes are identical; it is faster because it:
 * - encodes each attribute key once: the `key` field and the `value` tag of a KeyValue are kept as
 *   ready-made bytes (a bounded Map), copied into every record; a record whose keys repeat the previous
 *   record's, position by position, does not even look them up;
 * - iterates the SDK's attribute objects with Object.keys (they are in dictionary mode, where for-in is slower);
 * - writes in one pass into one reusable growable buffer (no size-estimation pass), with the ASCII
 *   fast path of strings inline and exact lengths of string KeyValues computed before writing;
 * - reserves room for lengths and patches them afterwards, shifting only when the guess was wrong (rare);
 *   the lengths of ResourceLogs and ScopeLogs (megabytes) are reserved as 5-byte holes whose unused
 *   bytes are skipped by the final copy, so nothing large is ever shifted;
 * - allocates per request only the output (the transport sends it later and may retry, so it cannot
 *   be the reusable buffer) and, when records come from several resources or scopes, the grouping maps.
 *
 * Not reentrant (one module-level writer); serialization is synchronous, so that is safe in Node.
 */
import type { HrTime } from '@opentelemetry/api';
import type { IExportLogsServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { HEAD_KEYS, type MaybeSplit, type SplitAttributes } from './split-attributes.js';

type Attributes = Record<string, unknown>;
type Resource = ReadableLogRecord['resource'];
type Scope = ReadableLogRecord['instrumentationScope'];

/** Attribute keys whose encoding is cached; the cache starts over when full. */
const KEY_CACHE_ENTRIES = 4096;
/** Longer keys (UTF-16 units) are encoded every time, so the cache stays small. */
const KEY_CACHE_MAX_KEY = 256;
/** The reusable buffer's starting size; it grows as needed, and goes back to this after a request above MAX. */
const INITIAL_BYTES = 1 << 20;
const MAX_KEPT_BYTES = 16 << 20;
/** Bytes reserved for the length of ResourceLogs and ScopeLogs: enough for any length below 32 GiB. */
const HOLE = 5;
/** -(2^63) and 2^63: the int64 range (numbers outside it, and non-integers, are doubles, as in the stock serializer). */
const INT64_MIN = -(2 ** 63);
const INT64_END = 2 ** 63;
const TWO32 = 4294967296;
/** Strings this long (UTF-16 units) or longer are encoded by Buffer.write: below it, a JS loop is faster than the native call. */
const NATIVE_STRING = 32;

const hasOwn = Object.prototype.hasOwnProperty;

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Value of one hex digit, the way the stock serializer reads it (no validation). */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return c - 55;
}

const u8slice = Uint8Array.prototype.slice;

function copyBytes(b: Buffer, start: number, end: number): Uint8Array {
  return u8slice.call(b, start, end);
}

class LogsRequestWriter {
  buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  pos = 0;
  /** Positions and sizes of the unused bytes of ResourceLogs/ScopeLogs length holes; `gapBytes` is their sum. */
  gaps: number[] = [];
  gapBytes = 0;
  /** Attribute key → [0x0a, len, UTF-8 key, 0x12]: KeyValue.key and the tag of KeyValue.value. */
  keys = new Map<string, Uint8Array>();
  /** The keys of the last attributes written, and their prefixes by position. */
  prevKeys: string[] = [];
  prevPrefixes: Array<Uint8Array | undefined> = [];
  /** The same for the own keys of split records (kept apart: blocks come between their head and the rest). */
  splitPrevKeys: string[] = [];
  splitPrevPrefixes: Array<Uint8Array | undefined> = [];

  reset(): void {
    if (this.buf.length > MAX_KEPT_BYTES) this.buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
    this.pos = 0;
    this.gaps.length = 0;
    this.gapBytes = 0;
    this.prevKeys = []; // (after an exception, prevPrefixes may not match prevKeys)
    this.splitPrevKeys = [];
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The request bytes, in a new buffer, without the unused hole bytes. */
  finish(): Uint8Array {
    const src = this.buf;
    const out = Buffer.allocUnsafeSlow(this.pos - this.gapBytes); // not zero-filled: every byte is written below
    const g = this.gaps;
    if (g.length === 0) {
      src.copy(out, 0, 0, this.pos);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    // [position, size] pairs, in the order the holes were closed (inner ones first): sort by position.
    const order: number[] = [];
    for (let i = 0; i < g.length; i += 2) order.push(i);
    order.sort((a, b) => (g[a] as number) - (g[b] as number));
    let from = 0;
    let to = 0;
    for (const i of order) {
      const at = g[i] as number;
      to += src.copy(out, to, from, at);
      from = at + (g[i + 1] as number);
    }
    src.copy(out, to, from, this.pos);
    // A plain Uint8Array, as the stock serializer returns (a Buffer would decode to Buffers in protobufjs, etc.)
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  // ---- primitives (callers ensure capacity unless noted) ----

  /** Unsigned varint below 2^32 at `p`; returns the position after it. */
  varintAt(p: number, v: number): number {
    const b = this.buf;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    return p;
  }

  /** Any integer-valued number as an int64 varint (negative: ten bytes, two's complement). Ensures capacity. */
  varint64(v: number): void {
    this.ensure(10);
    if (v >= 0 && v <= 0xffffffff) {
      this.pos = this.varintAt(this.pos, v >>> 0);
      return;
    }
    let lo: number;
    let hi: number;
    if (v >= 0) {
      lo = v >>> 0;
      hi = (v / TWO32) >>> 0;
    } else {
      const abs = -v;
      lo = (~(abs >>> 0) + 1) >>> 0;
      hi = ~((abs / TWO32) >>> 0) >>> 0;
      if (lo === 0) hi = (hi + 1) >>> 0;
    }
    const b = this.buf;
    let p = this.pos;
    while (hi > 0 || lo > 0x7f) {
      b[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  fixed32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** HrTime [s, ns] as fixed64 nanoseconds, exact up to the uint64 limit (split so no product exceeds 2^53). */
  time(t: HrTime): void {
    const s = t[0];
    const sLo = s % 65536;
    const hi16 = ((s - sLo) / 65536) * 1e9; // s's upper part × 1e9, still to be shifted left 16 bits
    const hiLo16 = hi16 % 65536;
    const low = sLo * 1e9 + t[1] + hiLo16 * 65536; // < 2^48: exact
    const lo32 = low >>> 0;
    const hi32 = ((hi16 - hiLo16) / 65536 + (low - lo32) / TWO32) >>> 0;
    const b = this.buf;
    const p = this.pos;
    b[p] = lo32;
    b[p + 1] = lo32 >>> 8;
    b[p + 2] = lo32 >>> 16;
    b[p + 3] = lo32 >>> 24;
    b[p + 4] = hi32;
    b[p + 5] = hi32 >>> 8;
    b[p + 6] = hi32 >>> 16;
    b[p + 7] = hi32 >>> 24;
    this.pos = p + 8;
  }

  /** Length-prefixed UTF-8 (lone surrogates become U+FFFD, as with TextEncoder). Ensures capacity. */
  string(s: string): void {
    const n = s.length;
    this.ensure(3 * n + 10);
    const b = this.buf;
    const at = this.pos;
    const start = at + varintSize(n); // where the bytes go if the string is ASCII (n bytes)
    if (n < NATIVE_STRING) {
      let p = start;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[p++] = c;
      }
      if (i === n) {
        this.varintAt(at, n);
        this.pos = p;
        return;
      }
    }
    // Buffer.write is one native call; it wrote n bytes exactly when the string is ASCII.
    const len = b.write(s, start, 'utf8');
    const size = varintSize(len);
    if (at + size !== start) b.copyWithin(at + size, start, start + len);
    this.varintAt(at, len);
    this.pos = at + size + len;
  }

  bytes(v: Uint8Array): void {
    this.ensure(v.length + 5);
    this.pos = this.varintAt(this.pos, v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Lower-case or upper-case hex id as bytes (trace_id, span_id). */
  hexId(h: string): void {
    const n = h.length >>> 1;
    this.ensure(n + 5);
    const b = this.buf;
    let p = this.varintAt(this.pos, n);
    for (let i = 0; i < 2 * n; i += 2) b[p++] = (hexDigit(h.charCodeAt(i)) << 4) | hexDigit(h.charCodeAt(i + 1));
    this.pos = p;
  }

  /** Patches the length of a message whose content starts at `at + reserved`, moving the content if its varint needs another size. */
  close(at: number, reserved: number): void {
    const start = at + reserved;
    const len = this.pos - start;
    const size = varintSize(len);
    if (size !== reserved) {
      this.ensure(size - reserved);
      this.buf.copyWithin(at + size, start, this.pos);
      this.pos += size - reserved;
    }
    this.varintAt(at, len);
  }

  /** Reserves a hole for a large message's length (and room for a few bytes after it); returns its position. */
  openHole(): number {
    this.ensure(HOLE + 8);
    const at = this.pos;
    this.pos += HOLE;
    return at;
  }

  closeHole(at: number, gapBytesBefore: number): void {
    const len = this.pos - (at + HOLE) - (this.gapBytes - gapBytesBefore);
    const end = this.varintAt(at, len);
    if (end < at + HOLE) {
      this.gaps.push(end, at + HOLE - end);
      this.gapBytes += at + HOLE - end;
    }
  }

  // ---- OTLP messages ----

  keyPrefix(key: string): Uint8Array | undefined {
    const cached = this.keys.get(key);
    if (cached !== undefined) return cached;
    if (key.length > KEY_CACHE_MAX_KEY) return undefined;
    const n = Buffer.byteLength(key, 'utf8');
    const vs = varintSize(n);
    const pre = new Uint8Array(2 + vs + n);
    pre[0] = 0x0a; // KeyValue.key
    let p = 1;
    for (let v = n; ; ) {
      if (v < 0x80) {
        pre[p++] = v;
        break;
      }
      pre[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    Buffer.from(pre.buffer, pre.byteOffset, pre.length).write(key, p, n, 'utf8');
    pre[p + n] = 0x12; // KeyValue.value
    if (this.keys.size >= KEY_CACHE_ENTRIES) this.keys.clear();
    this.keys.set(key, pre);
    return pre;
  }

  /** The fields of an AnyValue (its tag and length are the caller's). */
  anyValue(v: unknown): void {
    const t = typeof v;
    if (t === 'string') {
      this.ensure(1);
      this.buf[this.pos++] = 0x0a;
      this.string(v as string);
    } else if (t === 'boolean') {
      this.ensure(2);
      this.buf[this.pos++] = 0x10;
      this.buf[this.pos++] = v ? 1 : 0;
    } else if (t === 'number') {
      const x = v as number;
      if (Number.isInteger(x) && x >= INT64_MIN && x < INT64_END) {
        this.ensure(1);
        this.buf[this.pos++] = 0x18;
        this.varint64(x);
      } else {
        this.ensure(9);
        this.buf[this.pos++] = 0x21;
        this.pos = this.buf.writeDoubleLE(x, this.pos);
      }
    } else if (v instanceof Uint8Array) {
      this.ensure(1);
      this.buf[this.pos++] = 0x3a;
      this.bytes(v);
    } else if (Array.isArray(v)) {
      this.ensure(2);
      this.buf[this.pos++] = 0x2a; // array_value
      const at = this.pos++;
      for (let i = 0; i < v.length; i++) {
        this.ensure(2);
        this.buf[this.pos++] = 0x0a; // ArrayValue.values
        const item = this.pos++;
        this.anyValue(v[i]);
        this.close(item, 1);
      }
      this.close(at, 1);
    } else if (t === 'object' && v !== null) {
      this.ensure(2);
      this.buf[this.pos++] = 0x32; // kvlist_value
      const at = this.pos++;
      const o = v as Attributes;
      for (const k in o) {
        if (!hasOwn.call(o, k)) continue;
        this.ensure(2);
        this.buf[this.pos++] = 0x0a; // KeyValueList.values
        const kv = this.pos++;
        // Nested keys can be anything: encoded each time, not cached.
        this.ensure(1);
        this.buf[this.pos++] = 0x0a;
        this.string(k);
        this.ensure(2);
        this.buf[this.pos++] = 0x12;
        const val = this.pos++;
        this.anyValue(o[k]);
        this.close(val, 1);
        this.close(kv, 1);
      }
      this.close(at, 1);
    }
    // anything else (undefined, null, bigint, ...): an empty AnyValue, as in the stock serializer
  }

  /** One KeyValue with its field tag (a single byte: every attributes field number is below 16). */
  attribute(tag: number, key: string, pre: Uint8Array | undefined, v: unknown): void {
    if (pre === undefined) {
      this.ensure(3);
      this.buf[this.pos++] = tag;
      const kv = this.pos++;
      this.buf[this.pos++] = 0x0a;
      this.string(key);
      this.ensure(2);
      this.buf[this.pos++] = 0x12;
      const val = this.pos++;
      this.anyValue(v);
      this.close(val, 1);
      this.close(kv, 1);
      return;
    }
    const m = pre.length;
    if (typeof v === 'string') {
      // Lengths computed up front for ASCII; on the first other character, start this KeyValue over.
      const n = v.length;
      const avLen = 1 + varintSize(n) + n;
      const kvLen = m + varintSize(avLen) + avLen;
      this.ensure(20 + m + 3 * n);
      const b = this.buf;
      const start = this.pos;
      b[start] = tag;
      let p = this.varintAt(start + 1, kvLen);
      b.set(pre, p);
      p = this.varintAt(p + m, avLen);
      b[p++] = 0x0a; // AnyValue.string_value
      p = this.varintAt(p, n);
      if (n < NATIVE_STRING) {
        for (let i = 0; i < n; i++) {
          const c = v.charCodeAt(i);
          if (c > 0x7f) {
            p = -1;
            break;
          }
          b[p++] = c;
        }
      } else if (b.write(v, p, 'utf8') === n) {
        p += n;
      } else {
        p = -1;
      }
      if (p >= 0) {
        this.pos = p;
        return;
      }
      this.pos = start;
    }
    // General case: reserve one byte for each length, fix up afterwards.
    this.ensure(3 + m);
    const b = this.buf;
    b[this.pos++] = tag;
    const kv = this.pos++;
    b.set(pre, this.pos);
    const val = this.pos + m;
    this.pos = val + 1;
    this.anyValue(v);
    this.close(val, 1);
    this.close(kv, 1);
  }

  attributes(tag: number, attrs: Attributes): void {
    // Object.keys, not for-in + hasOwnProperty (same keys, same order): the SDK's attribute objects are
    // in dictionary mode (keys added one by one), where for-in is markedly slower.
    const keys = Object.keys(attrs);
    // Records mostly repeat the previous one's keys in the same order: reuse its prefixes by position
    // (an identity comparison) before asking the Map.
    const prevKeys = this.prevKeys;
    const prevPre = this.prevPrefixes;
    for (let i = 0; i < keys.length; i++) this.keyedAttribute(tag, keys, i, prevKeys, prevPre, attrs);
    this.prevKeys = keys;
  }

  /** Key i of `keys` from `attrs`; its prefix found by position in the previous keys first, else in the Map. */
  private keyedAttribute(
    tag: number,
    keys: string[],
    i: number,
    prevKeys: string[],
    prevPre: Array<Uint8Array | undefined>,
    attrs: Attributes,
  ): void {
    const k = keys[i] as string;
    let pre: Uint8Array | undefined;
    if (prevKeys[i] === k) pre = prevPre[i];
    else {
      pre = this.keyPrefix(k);
      prevPre[i] = pre;
    }
    this.attribute(tag, k, pre, attrs[k]);
  }

  /**
   * A split record's attributes (split-attributes.ts) as LogRecord.attributes fields, the same bytes
   * as its joined object would give: the head of its own keys, the block, the rest of its own keys.
   * The block is encoded on its first record and copied for the next ones.
   */
  splitAttributes(s: SplitAttributes): void {
    const own = s.own as Attributes;
    const keys = Object.keys(own);
    const prevKeys = this.splitPrevKeys;
    const prevPre = this.splitPrevPrefixes;
    const head = Math.min(keys.length, HEAD_KEYS);
    for (let i = 0; i < head; i++) this.keyedAttribute(0x32, keys, i, prevKeys, prevPre, own);
    const block = s.block;
    const enc = block.encoded;
    if (enc === undefined) {
      const start = this.pos;
      this.attributes(0x32, block.attrs as Attributes);
      // A copy (Buffer#slice would be a view): the writer's buffer is reused for the next request.
      block.encoded = copyBytes(this.buf, start, this.pos);
    } else {
      this.ensure(enc.length);
      this.buf.set(enc, this.pos);
      this.pos += enc.length;
    }
    for (let i = head; i < keys.length; i++) this.keyedAttribute(0x32, keys, i, prevKeys, prevPre, own);
    this.splitPrevKeys = keys;
  }

  /** ScopeLogs.log_records (field 2). */
  record(r: ReadableLogRecord): void {
    this.ensure(48);
    let b = this.buf;
    b[this.pos++] = 0x12;
    const at = this.pos;
    this.pos += 2; // most records are 128 B to 16 KiB
    b[this.pos++] = 0x09; // time_unix_nano, fixed64
    this.time(r.hrTime);
    const sev = r.severityNumber;
    if (sev !== undefined && sev !== 0) {
      b[this.pos++] = 0x10;
      this.varint64(sev);
    }
    if (r.severityText) {
      this.ensure(1);
      this.buf[this.pos++] = 0x1a;
      this.string(r.severityText);
    }
    if (r.body !== undefined) {
      this.ensure(2);
      this.buf[this.pos++] = 0x2a;
      const body = this.pos++;
      this.anyValue(r.body);
      this.close(body, 1);
    }
    const split = (r as MaybeSplit).split;
    if (split !== undefined) this.splitAttributes(split);
    else {
      const attrs = r.attributes as Attributes | undefined;
      if (attrs) this.attributes(0x32, attrs);
    }
    this.ensure(1);
    this.buf[this.pos++] = 0x38; // dropped_attributes_count, always written (as the stock serializer does)
    this.varint64(r.droppedAttributesCount);
    const sc = r.spanContext;
    if (sc) {
      if (sc.traceFlags) {
        this.ensure(1);
        this.buf[this.pos++] = 0x45; // flags, fixed32
        this.fixed32(sc.traceFlags);
      }
      if (sc.traceId) {
        this.ensure(1);
        this.buf[this.pos++] = 0x4a;
        this.hexId(sc.traceId);
      }
      if (sc.spanId) {
        this.ensure(1);
        this.buf[this.pos++] = 0x52;
        this.hexId(sc.spanId);
      }
    }
    this.ensure(9);
    b = this.buf;
    b[this.pos++] = 0x59; // observed_time_unix_nano, fixed64
    this.time(r.hrTimeObserved);
    if (r.eventName) {
      this.ensure(1);
      this.buf[this.pos++] = 0x62;
      this.string(r.eventName);
    }
    this.close(at, 2);
  }

  /** ResourceLogs.scope_logs (field 2). */
  scopeLogs(scope: Scope, records: readonly ReadableLogRecord[]): void {
    this.ensure(3);
    this.buf[this.pos++] = 0x12;
    const gapBefore = this.gapBytes;
    const hole = this.openHole();
    this.buf[this.pos++] = 0x0a; // scope
    const sc = this.pos++;
    this.ensure(1);
    this.buf[this.pos++] = 0x0a; // name, always written
    this.string(scope.name);
    if (scope.version) {
      this.ensure(1);
      this.buf[this.pos++] = 0x12;
      this.string(scope.version);
    }
    if (scope.attributes) this.attributes(0x1a, scope.attributes as Attributes);
    if (scope.droppedAttributesCount) {
      this.ensure(1);
      this.buf[this.pos++] = 0x20;
      this.varint64(scope.droppedAttributesCount);
    }
    this.close(sc, 1);
    for (let i = 0; i < records.length; i++) this.record(records[i] as ReadableLogRecord);
    if (scope.schemaUrl) {
      this.ensure(1);
      this.buf[this.pos++] = 0x1a;
      this.string(scope.schemaUrl);
    }
    this.closeHole(hole, gapBefore);
  }

  /** ExportLogsServiceRequest.resource_logs (field 1). */
  resourceLogs(resource: Resource, scopes: Iterable<[Scope, readonly ReadableLogRecord[]]>): void {
    this.ensure(1);
    this.buf[this.pos++] = 0x0a;
    const gapBefore = this.gapBytes;
    const hole = this.openHole();
    this.ensure(3);
    this.buf[this.pos++] = 0x0a; // resource
    const res = this.pos;
    this.pos += 2;
    const attrs = resource.attributes as Attributes | undefined;
    if (attrs) this.attributes(0x0a, attrs);
    this.ensure(2);
    this.buf[this.pos++] = 0x10; // dropped_attributes_count = 0, written as the stock serializer does
    this.buf[this.pos++] = 0;
    this.close(res, 2);
    for (const [scope, records] of scopes) this.scopeLogs(scope, records);
    if (resource.schemaUrl) {
      this.ensure(1);
      this.buf[this.pos++] = 0x1a;
      this.string(resource.schemaUrl);
    }
    this.closeHole(hole, gapBefore);
  }
}

const writer = new LogsRequestWriter();

/** Records grouped by resource, then by scope (object identity, first-seen order), as the stock serializer does. */
function group(records: readonly ReadableLogRecord[]): Map<Resource, Map<Scope, ReadableLogRecord[]>> {
  const byResource = new Map<Resource, Map<Scope, ReadableLogRecord[]>>();
  for (const r of records) {
    let byScope = byResource.get(r.resource);
    if (!byScope) {
      byScope = new Map();
      byResource.set(r.resource, byScope);
    }
    let list = byScope.get(r.instrumentationScope);
    if (!list) {
      list = [];
      byScope.set(r.instrumentationScope, list);
    }
    list.push(r);
  }
  return byResource;
}

/** ExportLogsServiceRequest protobuf bytes (a new buffer each call; the exporter may hold it for retries). */
export function serializeRequest(records: readonly ReadableLogRecord[]): Uint8Array {
  const w = writer;
  w.reset();
  try {
    const first = records[0];
    if (first === undefined) return new Uint8Array(0);
    let single = true;
    for (let i = 1; i < records.length; i++) {
      const r = records[i] as ReadableLogRecord;
      if (r.resource !== first.resource || r.instrumentationScope !== first.instrumentationScope) {
        single = false;
        break;
      }
    }
    if (single) {
      w.resourceLogs(first.resource, [[first.instrumentationScope, records]]);
    } else {
      for (const [resource, byScope] of group(records)) w.resourceLogs(resource, byScope);
    }
    return w.finish();
  } finally {
    w.pos = 0;
  }
}

/** For createOtlpHttpExportDelegate: this encoder, and the stock response decoder (partial success is still reported). */
export const FastProtobufLogsSerializer: ISerializer<ReadableLogRecord[], IExportLogsServiceResponse> = {
  serializeRequest,
  deserializeResponse: (data) => ProtobufLogsSerializer.deserializeResponse(data),
};
