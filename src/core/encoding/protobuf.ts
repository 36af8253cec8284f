import { invalid } from '../errors.ts';

/**
 * The protobuf binary wire format (protobuf.dev "Encoding"), just what Signet reads and writes
 * in binary: varints (int64 fields, non-negative here) and length-delimited fields (bytes,
 * strings, embedded messages). Other wire types are skipped when read, as proto3 requires for
 * unknown fields; malformed input is an error naming `field`.
 */
export interface ProtoField {
  number: number;
  wireType: 0 | 1 | 2 | 5;
  /** Varint value (wire type 0). */
  varint?: bigint;
  /** Length-delimited contents (wire type 2). */
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: number, field: string): [bigint, number] {
  let v = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (pos >= buf.length) throw invalid(field, 'protobuf varint is truncated');
    const b = buf[pos++]!;
    v |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [v & 0xffffffffffffffffn, pos];
  }
  throw invalid(field, 'protobuf varint is longer than 10 bytes');
}

/** The fields of one message, in wire order. */
export function readProtoFields(buf: Uint8Array, field: string): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos, field);
    pos = p;
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number === 0) throw invalid(field, 'protobuf field number 0 is not allowed');
    if (wireType === 0) {
      const [v, q] = readVarint(buf, pos, field);
      out.push({ number, wireType, varint: v });
      pos = q;
    } else if (wireType === 2) {
      const [len, q] = readVarint(buf, pos, field);
      if (len > BigInt(buf.length - q))
        throw invalid(field, `protobuf field ${number} runs past the end of its message`);
      out.push({ number, wireType, bytes: buf.subarray(q, q + Number(len)) });
      pos = q + Number(len);
    } else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (pos + size > buf.length) throw invalid(field, `protobuf field ${number} is truncated`);
      out.push({ number, wireType });
      pos += size;
    } else {
      throw invalid(field, `protobuf wire type ${wireType} is not supported`);
    }
  }
  return out;
}

function varintBytes(v: bigint): number[] {
  const out: number[] = [];
  let n = BigInt.asUintN(64, v);
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}

/** A message writer: fields are appended in the order given (proto3 writes by field number). */
export class ProtoWriter {
  private parts: Uint8Array[] = [];

  /** An int64/uint64 field; proto3 omits the default 0. */
  int(number: number, v: bigint | number): this {
    const n = BigInt(v);
    if (n === 0n) return this;
    this.parts.push(Uint8Array.from([...varintBytes(BigInt(number << 3)), ...varintBytes(n)]));
    return this;
  }

  /** A bytes, string or embedded-message field; proto3 omits empty bytes and strings. */
  bytes(number: number, v: Uint8Array | string | undefined, keepEmpty = false): this {
    if (v === undefined) return this;
    const b = typeof v === 'string' ? new TextEncoder().encode(v) : v;
    if (b.length === 0 && !keepEmpty) return this;
    this.parts.push(
      Uint8Array.from([
        ...varintBytes(BigInt((number << 3) | 2)),
        ...varintBytes(BigInt(b.length)),
      ]),
      b,
    );
    return this;
  }

  /** An embedded message (written even when empty: presence matters for messages). */
  message(number: number, m: ProtoWriter | undefined): this {
    return m === undefined ? this : this.bytes(number, m.finish(), true);
  }

  finish(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.parts));
  }
}
