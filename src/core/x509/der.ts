import { invalid } from '../errors.ts';

/**
 * A minimal DER reader and writer (X.690 §8.1), for the places where the exact original bytes
 * matter: the TBSCertificate that a signature covers, and the precertificate TBS rebuilt from a
 * final certificate (RFC 6962 §3.2). Structures are decoded with @peculiar/asn1-x509 elsewhere.
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
  if (offset + 2 > buf.length) throw invalid(field, 'DER is truncated');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw invalid(field, 'DER multi-byte tags are not supported here');
  let pos = offset + 1;
  const first = buf[pos++]!;
  let len: number;
  if (first < 0x80) len = first;
  else {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw invalid(field, 'DER length is indefinite or too large');
    if (pos + n > buf.length) throw invalid(field, 'DER length is truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
    if (len < 0x80 || (n > 1 && buf[pos - n] === 0))
      throw invalid(field, 'DER length is not minimal');
  }
  const end = pos + len;
  if (end > buf.length) throw invalid(field, 'DER content runs past the end of the input');
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

/** The TLV at `offset`, which must be of `tag`; `what` says what was expected. */
export function expectTlv(
  buf: Uint8Array,
  offset: number,
  tag: number,
  field: string,
  what: string,
): Tlv {
  const t = readTlv(buf, offset, field);
  if (t.tag !== tag)
    throw invalid(field, `${what}: expected tag 0x${hex(tag)}, got 0x${hex(t.tag)}`);
  return t;
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
  const v = content(buf, t);
  const key = Buffer.from(v).toString('latin1');
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
  if (!m) throw invalid(field, `is not a DER time: ${JSON.stringify(s)}`);
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
    throw invalid(field, `is not a valid date: ${JSON.stringify(s)}`);
  if (year < 100) d.setUTCFullYear(year); // Date.UTC maps 0-99 to 1900-1999
  return d;
}

export function slice(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

export function content(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.contentStart, t.end);
}

function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encodes one TLV around the concatenation of `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const l = encodeLength(len);
  const out = new Uint8Array(1 + l.length + len);
  out[0] = tag;
  out.set(l, 1);
  let pos = 1 + l.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
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

const oidCache = new Map<string, Uint8Array>();

/** DER encoding of an OBJECT IDENTIFIER in dotted form (X.690 §8.19); memoized (few distinct OIDs). */
export function encodeOid(oid: string): Uint8Array {
  let der = oidCache.get(oid);
  if (!der) {
    der = encodeOidUncached(oid);
    if (oidCache.size < 1024) oidCache.set(oid, der);
  }
  return der;
}

function encodeOidUncached(oid: string): Uint8Array {
  const arcs = oid.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new Error(`bad OID ${oid}`);
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

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
