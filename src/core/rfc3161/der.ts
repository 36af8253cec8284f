import { invalid } from '../errors.ts';

/**
 * A minimal DER reader and writer (X.690 §8, §10): just what RFC 3161 tokens need where the
 * exact bytes matter (signed attributes, TSTInfo, ESS attributes) and on the signing hot path.
 * Structures themselves are parsed with @peculiar/asn1-* where only values matter.
 */
export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  /** The whole element: identifier, length and contents. */
  raw: Uint8Array;
  /** The contents octets only. */
  value: Uint8Array;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads one element at `offset`; `field` names it in errors. */
export function readTlv(buf: Uint8Array, offset: number, field: string): Tlv {
  if (offset + 2 > buf.length) throw invalid(field, 'truncated DER: no room for tag and length');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw invalid(field, 'DER tags above 30 are not used here');
  let pos = offset + 1;
  const first = buf[pos++]!;
  let len: number;
  if (first < 0x80) {
    len = first;
  } else if (first === 0x80) {
    throw invalid(field, 'indefinite length is not DER');
  } else {
    const n = first & 0x7f;
    if (n > 4) throw invalid(field, 'DER length is too large');
    if (pos + n > buf.length) throw invalid(field, 'truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
    if (len < 0x80 || buf[pos - n] === 0)
      throw invalid(field, 'DER length is not minimally encoded');
  }
  if (pos + len > buf.length) throw invalid(field, `truncated DER: element needs ${len} bytes`);
  return { tag, raw: buf.subarray(offset, pos + len), value: buf.subarray(pos, pos + len) };
}

/** Reads exactly one element filling all of `buf` (no trailing bytes). */
export function readOne(buf: Uint8Array, field: string, tag?: number): Tlv {
  const t = readTlv(buf, 0, field);
  if (t.raw.length !== buf.length) throw invalid(field, 'trailing bytes after the DER element');
  if (tag !== undefined && t.tag !== tag)
    throw invalid(field, `expected tag 0x${hex(tag)}, got 0x${hex(t.tag)}`);
  return t;
}

/** The elements inside a constructed element. */
export function children(t: Tlv, field: string): Tlv[] {
  if ((t.tag & 0x20) === 0) throw invalid(field, 'expected a constructed DER element');
  const out: Tlv[] = [];
  let off = 0;
  while (off < t.value.length) {
    const c = readTlv(t.value, off, `${field}[${out.length}]`);
    out.push(c);
    off += c.raw.length;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, field: string): Tlv {
  if (!t) throw invalid(field, 'missing');
  if (t.tag !== tag) throw invalid(field, `expected tag 0x${hex(tag)}, got 0x${hex(t.tag)}`);
  return t;
}

export function decodeOid(t: Tlv, field: string): string {
  expectTag(t, TAG.OID, field);
  const v = t.value;
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
  return [top, first - top * 40, ...arcs].join('.');
}

/** INTEGER contents as a bigint (two's complement). */
export function decodeInteger(t: Tlv, field: string): bigint {
  expectTag(t, TAG.INTEGER, field);
  const v = t.value;
  if (v.length === 0) throw invalid(field, 'empty INTEGER');
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if (v[0]! & 0x80) n -= 1n << BigInt(v.length * 8);
  return n;
}

export function decodeGeneralizedTime(t: Tlv, field: string): Date {
  expectTag(t, TAG.GENERALIZED_TIME, field);
  const s = new TextDecoder().decode(t.value);
  // X.690 §11.7: DER GeneralizedTime is UTC ("Z"), seconds present, fraction without trailing zeros.
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/.exec(s);
  if (!m) throw invalid(field, `not a DER GeneralizedTime: ${JSON.stringify(s)}`);
  const ms = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, Math.floor(ms)));
  if (Number.isNaN(d.getTime()) || d.getUTCDate() !== +m[3]!)
    throw invalid(field, `invalid date ${JSON.stringify(s)}`);
  return d;
}

// ---- writer ----

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const c of contents) len += c.length;
  const head = lengthBytes(len);
  const out = new Uint8Array(1 + head.length + len);
  out[0] = tag;
  out.set(head, 1);
  let off = 1 + head.length;
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

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export const octets = (v: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, v);
export const bool = (v: boolean): Uint8Array => tlv(TAG.BOOLEAN, Uint8Array.of(v ? 0xff : 0));
export const nullValue = (): Uint8Array => Uint8Array.of(TAG.NULL, 0);
/** [n] with the constructed bit (explicit tagging or an implicitly tagged SEQUENCE/SET). */
export const ctx = (n: number, ...c: Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...c);
/** [n] primitive (implicitly tagged INTEGER etc.); `content` is the contents octets. */
export const ctxPrimitive = (n: number, content: Uint8Array): Uint8Array => tlv(0x80 | n, content);

const OID_CACHE = new Map<string, Uint8Array>();

/** OBJECT IDENTIFIER (X.690 §8.19); encodings are cached (the same few OIDs on the hot path). */
export function oid(dotted: string): Uint8Array {
  let der = OID_CACHE.get(dotted);
  if (!der) {
    der = encodeOid(dotted);
    if (OID_CACHE.size < 1024) OID_CACHE.set(dotted, der);
  }
  return der;
}

function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [];
  const push = (v: number): void => {
    const tmp = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Uint8Array.from(bytes));
}

/** INTEGER from a non-negative bigint or number. */
export function integer(v: bigint | number): Uint8Array {
  let n = BigInt(v);
  if (n < 0n) throw new RangeError('negative INTEGER not supported');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (n > 0n);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(TAG.INTEGER, Uint8Array.from(bytes));
}

/** DER GeneralizedTime in whole seconds (`YYYYMMDDHHMMSSZ`). */
export function generalizedTime(d: Date): Uint8Array {
  const s = d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return tlv(TAG.GENERALIZED_TIME, new TextEncoder().encode(s));
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
