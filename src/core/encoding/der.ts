import { invalid, quoteInput } from '../errors.ts';

/**
 * The project's DER reader and writer (X.690 §8, §10): certificates (the exact TBS bytes a
 * signature covers, the precertificate TBS of RFC 6962 §3.2), RFC 3161 tokens and requests
 * (signed attributes, TSTInfo), SCT lists. Two views of one reader: offsets into a buffer
 * (`Tlv`, for code that slices exact bytes out of a larger input), and `Element`s holding
 * their bytes (for code that passes parts around).
 */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte in the input. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

/** Reads the TLV at `offset` of `buf`; definite lengths only (DER), single-byte tags. */
export function readTlv(buf: Uint8Array, offset: number, field: string): Tlv {
  if (offset + 2 > buf.length) throw invalid(field, 'DER is truncated: no room for tag and length');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw invalid(field, 'DER tag numbers above 30 are not used here');
  let pos = offset + 1;
  const first = buf[pos++]!;
  let len: number;
  if (first < 0x80) len = first;
  else if (first === 0x80) throw invalid(field, 'DER does not allow indefinite lengths');
  else {
    const n = first & 0x7f;
    if (n > 4) throw invalid(field, 'DER length is too large');
    if (pos + n > buf.length) throw invalid(field, 'DER length is truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
    if (len < 0x80 || buf[pos - n] === 0)
      throw invalid(field, 'DER length is not minimally encoded');
  }
  const end = pos + len;
  if (end > buf.length) throw invalid(field, `DER is truncated: the element needs ${len} bytes`);
  return { tag, start: offset, contentStart: pos, end };
}

/** The TLVs directly inside a constructed TLV's content. */
export function children(buf: Uint8Array, parent: Tlv, field: string): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end) {
    const t = readTlv(buf, pos, field);
    if (t.end > parent.end) throw invalid(field, 'DER element runs past its parent');
    out.push(t);
    pos = t.end;
  }
  return out;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** OBJECT IDENTIFIER contents in dotted form (X.690 §8.19); arcs must be minimal. */
export function decodeOidContent(v: Uint8Array, field: string): string {
  if (v.length === 0) throw invalid(field, 'empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (acc === 0 && b === 0x80) throw invalid(field, 'OBJECT IDENTIFIER arc is not minimal');
    acc = acc * 128 + (b & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER) throw invalid(field, 'OBJECT IDENTIFIER arc too large');
    if ((b & 0x80) === 0) {
      arcs.push(acc);
      acc = 0;
    } else if (i === v.length - 1) {
      throw invalid(field, 'truncated OBJECT IDENTIFIER');
    }
  }
  const first = arcs.shift()!;
  const top = first < 40 ? 0 : first < 80 ? 1 : 2;
  return `${top}.${first - top * 40}${arcs.length ? `.${arcs.join('.')}` : ''}`;
}

const oidText = new Map<string, string>();

/** An OID TLV in dotted form; memoized by encoding (few distinct OIDs). */
export function decodeOid(buf: Uint8Array, t: Tlv, field: string): string {
  if (t.tag !== TAG.OID)
    throw invalid(field, `expected an OBJECT IDENTIFIER, got tag 0x${hex(t.tag)}`);
  return oidOf(content(buf, t), field);
}

/** OBJECT IDENTIFIER contents in dotted form, memoized by their exact bytes. */
function oidOf(v: Uint8Array, field: string): string {
  const key = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  let s = oidText.get(key);
  if (s === undefined) {
    s = decodeOidContent(v, field);
    if (oidText.size < 4096) oidText.set(key, s);
  }
  return s;
}

/**
 * A DER Time (RFC 5280 §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` (years 1950-2049) or GeneralizedTime
 * `YYYYMMDDHHMMSSZ`, optionally with a fraction without trailing zeros (X.690 §11.7).
 */
export function decodeTime(buf: Uint8Array, t: Tlv, field: string): Date {
  const s = Buffer.from(content(buf, t)).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === TAG.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})()Z$/.exec(s);
    year = m ? +m[1]! + (+m[1]! < 50 ? 2000 : 1900) : 0;
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/.exec(s);
    year = m ? +m[1]! : 0;
  } else throw invalid(field, `expected a UTCTime or GeneralizedTime, got tag 0x${hex(t.tag)}`);
  if (!m) throw invalid(field, `is not a DER time: ${quoteInput(s)}`);
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const d = new Date(Date.UTC(year, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms));
  if (
    Number.isNaN(d.getTime()) ||
    d.getUTCMonth() !== +m[2]! - 1 ||
    d.getUTCDate() !== +m[3]! ||
    d.getUTCHours() !== +m[4]! ||
    d.getUTCMinutes() !== +m[5]! ||
    d.getUTCSeconds() !== +m[6]!
  )
    throw invalid(field, `is not a valid date: ${quoteInput(s)}`);
  if (year < 100) d.setUTCFullYear(year); // Date.UTC maps 0-99 to 1900-1999
  return d;
}

export function slice(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

export function content(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.contentStart, t.end);
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

// ---- elements: the same reader, each element holding its bytes ----

export interface Element {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  /** The whole element: identifier, length and contents. */
  raw: Uint8Array;
  /** The contents octets only. */
  value: Uint8Array;
}

export function readElement(buf: Uint8Array, offset: number, field: string): Element {
  const t = readTlv(buf, offset, field);
  return {
    tag: t.tag,
    raw: buf.subarray(t.start, t.end),
    value: buf.subarray(t.contentStart, t.end),
  };
}

/** Reads exactly one element filling all of `buf` (no trailing bytes). */
export function readOne(buf: Uint8Array, field: string, tag?: number): Element {
  const t = readElement(buf, 0, field);
  if (t.raw.length !== buf.length) throw invalid(field, 'trailing bytes after the DER element');
  if (tag !== undefined && t.tag !== tag)
    throw invalid(field, `expected tag 0x${hex(tag)}, got 0x${hex(t.tag)}`);
  return t;
}

/** The elements inside a constructed element. */
export function elementChildren(t: Element, field: string): Element[] {
  if ((t.tag & 0x20) === 0) throw invalid(field, 'expected a constructed DER element');
  const out: Element[] = [];
  let off = 0;
  while (off < t.value.length) {
    const c = readElement(t.value, off, `${field}[${out.length}]`);
    out.push(c);
    off += c.raw.length;
  }
  return out;
}

export function expectTag(t: Element | undefined, tag: number, field: string): Element {
  if (!t) throw invalid(field, 'missing');
  if (t.tag !== tag) throw invalid(field, `expected tag 0x${hex(tag)}, got 0x${hex(t.tag)}`);
  return t;
}

/** An OBJECT IDENTIFIER element (missing or another tag is an error of `field`). */
export function elementOid(t: Element | undefined, field: string): string {
  return oidOf(expectTag(t, TAG.OID, field).value, field);
}

/**
 * The algorithm OID of an AlgorithmIdentifier (RFC 5280 §4.1.1.2: SEQUENCE { algorithm OID,
 * parameters ANY OPTIONAL }); parameters are not read. `oidField` names the OID in errors.
 */
export function elementAlgorithmOid(
  t: Element | undefined,
  field: string,
  oidField = field,
): string {
  return elementOid(elementChildren(expectTag(t, TAG.SEQUENCE, field), field)[0], oidField);
}

/** INTEGER contents as a bigint (two's complement; missing or another tag is an error). */
export function elementInteger(t: Element | undefined, field: string): bigint {
  const v = expectTag(t, TAG.INTEGER, field).value;
  if (v.length === 0) throw invalid(field, 'empty INTEGER');
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if (v[0]! & 0x80) n -= 1n << BigInt(v.length * 8);
  return n;
}

export function elementGeneralizedTime(t: Element | undefined, field: string): Date {
  const v = expectTag(t, TAG.GENERALIZED_TIME, field).value;
  return decodeTime(
    v,
    { tag: TAG.GENERALIZED_TIME, start: 0, contentStart: 0, end: v.length },
    field,
  );
}

// ---- writer ----

/** Bytes of the DER length of `n` contents octets (X.690 §8.1.3): 1, or 1 + big-endian octets. */
function lengthSize(n: number): number {
  let size = 1;
  if (n >= 0x80) for (let v = n; v > 0; v = Math.floor(v / 256)) size++;
  return size;
}

/** Encodes one TLV around the concatenation of `contents`, written once into its buffer. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const c of contents) len += c.length;
  const head = lengthSize(len);
  const out = new Uint8Array(1 + head + len);
  out[0] = tag;
  if (head === 1) out[1] = len;
  else {
    out[1] = 0x80 | (head - 1);
    for (let i = head, v = len; i > 1; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  }
  let off = 1 + head;
  for (const c of contents) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export const seq = (...c: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...c);

/** SET OF in DER order: elements sorted by their encodings (X.690 §11.6). */
export function setOf(...c: Uint8Array[]): Uint8Array {
  return tlv(TAG.SET, ...[...c].sort(compareBytes));
}

export const octets = (v: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, v);
export const bool = (v: boolean): Uint8Array => tlv(TAG.BOOLEAN, Uint8Array.of(v ? 0xff : 0));
export const nullValue = (): Uint8Array => Uint8Array.of(TAG.NULL, 0);
/** [n] with the constructed bit (explicit tagging or an implicitly tagged SEQUENCE/SET). */
export const ctx = (n: number, ...c: Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...c);

const oidCache = new Map<string, Uint8Array>();

/** DER encoding of an OBJECT IDENTIFIER in dotted form (X.690 §8.19); memoized (few distinct OIDs). */
export function encodeOid(dotted: string): Uint8Array {
  let der = oidCache.get(dotted);
  if (!der) {
    der = encodeOidUncached(dotted);
    if (oidCache.size < 1024) oidCache.set(dotted, der);
  }
  return der;
}

/** Short name for `encodeOid`, as the ASN.1 builders read best. */
export const oid = encodeOid;

function encodeOidUncached(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new Error(`bad OID ${dotted}`);
  const bytes: number[] = [];
  const push = (v: bigint) => {
    const tmp: number[] = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) tmp.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...tmp);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Uint8Array.from(bytes));
}

/** UTF8String (X.690 §8.23). */
export const utf8String = (text: string): Uint8Array =>
  tlv(TAG.UTF8_STRING, new TextEncoder().encode(text));

/**
 * A named-bit-list BIT STRING with bits `set` (bit 0 is the first bit), in DER: trailing zero
 * bits removed and the unused bits zero (X.690 §11.2.2, §11.2.1).
 */
export function namedBits(set: number[]): Uint8Array {
  if (set.length === 0) return tlv(TAG.BIT_STRING, Uint8Array.of(0));
  const last = Math.max(...set);
  const bytes = new Uint8Array((last >> 3) + 1);
  for (const b of set) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return tlv(TAG.BIT_STRING, Uint8Array.of(7 - (last & 7)), bytes);
}

/**
 * The numbers of the first `limit` bits set in a BIT STRING's contents (`value`: the unused-bit
 * count, then the bits), lowest first.
 */
export function bitsSet(value: Uint8Array, field: string, limit = 64): number[] {
  if (value.length === 0 || value[0]! > 7 || (value.length === 1 && value[0] !== 0))
    throw invalid(field, 'is not a valid BIT STRING');
  const out: number[] = [];
  for (let i = 1; i < value.length && out.length < limit; i++)
    for (let bit = 0; bit < 8 && out.length < limit; bit++)
      if (value[i]! & (0x80 >> bit)) out.push((i - 1) * 8 + bit);
  return out;
}

/** INTEGER from a non-negative bigint or number. */
export function integer(v: bigint | number): Uint8Array {
  const n = BigInt(v);
  if (n < 0n) throw new RangeError('negative INTEGER not supported');
  // Big-endian two's complement, minimal: the hex digits, and a 0x00 when the top bit is set.
  const hex = n.toString(16);
  const padded = hex.length % 2 ? `0${hex}` : hex;
  const top = parseInt(padded.slice(0, 2), 16);
  return tlv(TAG.INTEGER, Buffer.from(top & 0x80 ? `00${padded}` : padded, 'hex'));
}

/** DER GeneralizedTime in whole seconds (`YYYYMMDDHHMMSSZ`). */
export function generalizedTime(d: Date): Uint8Array {
  const s = d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(s, 'latin1'));
}
