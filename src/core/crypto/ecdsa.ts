import type { ECDH } from 'node:crypto';
import { invert, invertAll, mod } from './modular.ts';
const { createECDH, createHash, verify: nodeVerify } = process.getBuiltinModule('node:crypto');

/**
 * ECDSA verification over a prehashed digest (FIPS 186-5 §6.4.2), exact, with OpenSSL doing
 * the elliptic-curve work.
 *
 * OpenSSL through node:crypto verifies ECDSA only over a whole message it hashes itself;
 * hashedrekord gives us only the digest e. Pure-JS verification (@noble/curves) is exact but
 * ~25x slower than OpenSSL. So the key is shifted instead: for the fixed REFERENCE_MESSAGE with
 * digest e0, and t = (e - e0)/r (mod n),
 *   Q' = Q + t·G   gives   u1'·G + u2·Q' = (e0/s)·G + (r/s)·Q + ((e - e0)/s)·G = u1·G + u2·Q,
 * so (r, s) is a valid signature of e under Q iff it is one of REFERENCE_MESSAGE under Q', and
 * OpenSSL checks the latter (its own r, s range checks, its strict DER, its double-scalar
 * multiplication). We compute T = t·G natively (node's ECDH: setPrivateKey(t) + getPublicKey()
 * is a fixed-base multiplication giving both coordinates), add Q + T in affine coordinates with
 * BigInt field arithmetic, and give Q' to OpenSSL as SPKI DER. Every degenerate case is handled
 * explicitly and fails closed: r, s outside [1, n-1]; Q not on the curve; t = 0 (Q' = Q, e.g.
 * a signature of the empty message); T = Q (doubling); T = -Q (Q' is the point at infinity,
 * which no key can hold: then R = u1'·G = (e0/s)·G, computed natively and compared).
 *
 * The modular inversions (of r mod n and of the addition's denominator mod p; modular.ts)
 * dominate the BigInt cost, so verification is done in batches with Montgomery's trick: one
 * inversion of each kind per batch. A single verification is a batch of one: with Lehmer's
 * inversion it costs 226 instead of 283 µs (batches of 64: 135 µs each either way).
 *
 * Measured (bench/rekor.bench.ts, "Signet digest verify"): this route costs one OpenSSL verify
 * plus ~30 µs per P-256 signature; the earlier route, x(u2·(Q + (e/r)·G)) through ECDH's
 * computeSecret, cost twice an OpenSSL verify because computeSecret re-validates its own key
 * pair (two more scalar multiplications) on every call.
 */

/** The message whose digest e0 the shifted key is verified over (any fixed message works). */
export const REFERENCE_MESSAGE = new Uint8Array(0);

export type EcCurveName = 'P-256' | 'P-384' | 'P-521';

interface Curve {
  name: EcCurveName;
  openssl: string;
  p: bigint;
  n: bigint;
  b: bigint;
  /** Bytes of a field element / scalar. */
  size: number;
  /** Bit length of n (digest truncation, FIPS 186-5 §6.4.2 step 3). */
  nBits: number;
  /** The hash OpenSSL verifies REFERENCE_MESSAGE with (any would do; the curve's usual one). */
  hash: 'sha256' | 'sha384' | 'sha512';
  /** DER SubjectPublicKeyInfo up to the uncompressed point (RFC 5480). */
  spkiPrefix: string;
}

const CURVES: Record<EcCurveName, Curve> = {
  'P-256': {
    name: 'P-256',
    openssl: 'prime256v1',
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    size: 32,
    nBits: 256,
    hash: 'sha256',
    spkiPrefix: '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  },
  'P-384': {
    name: 'P-384',
    openssl: 'secp384r1',
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    size: 48,
    nBits: 384,
    hash: 'sha384',
    spkiPrefix: '3076301006072a8648ce3d020106052b81040022036200',
  },
  'P-521': {
    name: 'P-521',
    openssl: 'secp521r1',
    p: (1n << 521n) - 1n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    size: 66,
    nBits: 521,
    hash: 'sha512',
    spkiPrefix: '30819b301006072a8648ce3d020106052b8104002303818600',
  },
};

/** A public key as an affine point, checked to be on the curve. */
export interface EcPoint {
  curve: EcCurveName;
  x: bigint;
  y: bigint;
}

/** One verification: the public key, the digest and the ASN.1 DER signature. */
export interface EcdsaDigestJob {
  key: EcPoint;
  digest: Uint8Array;
  signature: Uint8Array;
}

function toBig(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`);
}

function toBytes(x: bigint, size: number): Buffer {
  return Buffer.from(x.toString(16).padStart(size * 2, '0'), 'hex');
}

/** Writes x (0 <= x < 2^(8·size)) big-endian into `buf` at `offset`. */
function writeBig(x: bigint, buf: Buffer, offset: number, size: number): void {
  buf.write(x.toString(16).padStart(size * 2, '0'), offset, size, 'hex');
}

/** y² = x³ - 3x + b over F_p (all NIST curves have a = -3). */
function onCurve(c: Curve, x: bigint, y: bigint): boolean {
  if (x < 0n || x >= c.p || y < 0n || y >= c.p) return false;
  return mod(y * y - (x * x * x - 3n * x + c.b), c.p) === 0n;
}

/**
 * The affine point of an uncompressed SEC1 encoding (0x04 || X || Y), or undefined when it is
 * not a point of `curve` (wrong length or prefix, coordinates out of range, not on the curve).
 */
export function ecPointFromUncompressed(
  curve: EcCurveName,
  bytes: Uint8Array,
): EcPoint | undefined {
  const c = CURVES[curve];
  if (bytes.length !== 1 + 2 * c.size || bytes[0] !== 4) return undefined;
  const x = toBig(bytes.subarray(1, 1 + c.size));
  const y = toBig(bytes.subarray(1 + c.size));
  if (!onCurve(c, x, y)) return undefined;
  return { curve, x, y };
}

/**
 * Strict ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` (X9.62 Ecdsa-Sig-Value): definite
 * minimal lengths, minimal positive integers, no trailing bytes — what Go's VerifyASN1 and
 * OpenSSL (which re-encodes and compares) accept. Returns undefined when malformed.
 */
export function parseDerSignature(sig: Uint8Array): { r: bigint; s: bigint } | undefined {
  let pos = 0;
  const readLen = (): number | undefined => {
    if (pos >= sig.length) return undefined;
    const first = sig[pos++]!;
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 2 || pos + n > sig.length) return undefined;
    let len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | sig[pos++]!;
    // minimal: long form only for >= 128, no leading zero byte
    if (len < 0x80 || (n === 2 && len < 0x100)) return undefined;
    return len;
  };
  const readInt = (): bigint | undefined => {
    if (sig[pos++] !== 0x02) return undefined;
    const len = readLen();
    if (len === undefined || len === 0 || pos + len > sig.length) return undefined;
    const bytes = sig.subarray(pos, pos + len);
    pos += len;
    if (bytes[0]! & 0x80) return undefined; // negative
    if (len > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) return undefined; // not minimal
    return toBig(bytes);
  };
  if (sig[pos++] !== 0x30) return undefined;
  const seqLen = readLen();
  if (seqLen === undefined || pos + seqLen !== sig.length) return undefined;
  const r = readInt();
  if (r === undefined) return undefined;
  const s = readInt();
  if (s === undefined || pos !== sig.length) return undefined;
  return { r, s };
}

/** e: the leftmost nBits of the digest as an integer (FIPS 186-5 §6.4.2 step 3). */
function digestToInt(c: Curve, digest: Uint8Array): bigint {
  let e = toBig(digest);
  const bits = digest.length * 8;
  if (bits > c.nBits) e >>= BigInt(bits - c.nBits);
  return e;
}

const ecdhByCurve = new Map<EcCurveName, ECDH>();
function ecdhFor(c: Curve): ECDH {
  let e = ecdhByCurve.get(c.name);
  if (!e) {
    e = createECDH(c.openssl);
    ecdhByCurve.set(c.name, e);
  }
  return e;
}

/** Per curve: e0, the digest of REFERENCE_MESSAGE as an integer, and the SPKI prefix bytes. */
const shiftByCurve = new Map<EcCurveName, { e0: bigint; prefix: Buffer }>();
function shiftFor(c: Curve): { e0: bigint; prefix: Buffer } {
  let v = shiftByCurve.get(c.name);
  if (!v) {
    const e0 = digestToInt(c, createHash(c.hash).update(REFERENCE_MESSAGE).digest());
    v = { e0, prefix: Buffer.from(c.spkiPrefix, 'hex') };
    shiftByCurve.set(c.name, v);
  }
  return v;
}

interface Pending {
  i: number;
  c: Curve;
  q: EcPoint;
  e: bigint;
  r: bigint;
  s: bigint;
  signature: Uint8Array;
  /** T = t·G, t = (e - e0)/r. */
  tx?: bigint;
  ty?: bigint;
  /** Denominator and numerator of the affine addition/doubling slope (mod p). */
  den?: bigint;
  num?: bigint;
  doubling?: boolean;
  /** Q' = Q + T, the key OpenSSL verifies with. */
  shifted?: { x: bigint; y: bigint };
  /** T = -Q: Q' is the point at infinity. */
  infinity?: boolean;
}

/**
 * Verifies every job; `result[i]` is true iff job i is a valid ECDSA signature. Never throws for
 * bad input: malformed signatures, keys and digests are simply invalid.
 */
export function verifyEcdsaDigestBatch(jobs: readonly EcdsaDigestJob[]): boolean[] {
  const result = new Array<boolean>(jobs.length).fill(false);
  // Group by curve: inversions are batched per modulus.
  const byCurve = new Map<EcCurveName, Pending[]>();
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    const c = CURVES[job.key.curve];
    if (!c || !onCurve(c, job.key.x, job.key.y)) continue;
    const sig = parseDerSignature(job.signature);
    if (!sig) continue;
    const { r, s } = sig;
    if (r < 1n || r >= c.n || s < 1n || s >= c.n) continue; // FIPS 186-5 §6.4.2 step 1
    let list = byCurve.get(c.name);
    if (!list) byCurve.set(c.name, (list = []));
    const e = digestToInt(c, job.digest);
    list.push({ i, c, q: job.key, e, r, s, signature: job.signature });
  }
  for (const list of byCurve.values()) verifyCurveBatch(list, result);
  return result;
}

function verifyCurveBatch(list: Pending[], result: boolean[]): void {
  const c = list[0]!.c;
  const { n, p } = c;
  const ecdh = ecdhFor(c);
  const { e0, prefix } = shiftFor(c);
  const rInv = invertAll(
    list.map((j) => j.r),
    n,
  );
  const adds: Pending[] = [];
  for (let k = 0; k < list.length; k++) {
    const j = list[k]!;
    const t = (mod(j.e - e0, n) * rInv[k]!) % n;
    if (t === 0n) {
      j.shifted = j.q; // e ≡ e0: Q' = Q
      continue;
    }
    ecdh.setPrivateKey(toBytes(t, c.size));
    const T = ecdh.getPublicKey();
    j.tx = toBig(T.subarray(1, 1 + c.size));
    j.ty = toBig(T.subarray(1 + c.size));
    if (j.tx === j.q.x) {
      if (j.ty !== j.q.y) {
        j.infinity = true; // T = -Q
        continue;
      }
      // T = Q: doubling, slope (3x² - 3) / 2y
      j.doubling = true;
      j.num = mod(3n * j.q.x * j.q.x - 3n, p);
      j.den = mod(2n * j.q.y, p);
    } else {
      j.num = mod(j.ty - j.q.y, p);
      j.den = mod(j.tx - j.q.x, p);
    }
    if (j.den === 0n) continue; // unreachable on a prime-order curve; fail closed
    adds.push(j);
  }
  const invDen = invertAll(
    adds.map((j) => j.den!),
    p,
  );
  for (let k = 0; k < adds.length; k++) {
    const j = adds[k]!;
    const l = (j.num! * invDen[k]!) % p;
    const other = j.doubling ? j.q.x : j.tx!;
    const x = mod(l * l - j.q.x - other, p);
    j.shifted = { x, y: mod(l * (j.q.x - x) - j.q.y, p) };
  }
  for (const j of list) {
    if (j.infinity) {
      result[j.i] = atInfinity(c, ecdh, e0, j);
      continue;
    }
    const P = j.shifted;
    if (!P) continue;
    try {
      // The SPKI DER goes to verify() as is: importing it as a KeyObject first added up to a
      // tenth of a verification (measured; OpenSSL decodes the key either way).
      const der = Buffer.allocUnsafe(prefix.length + 1 + 2 * c.size);
      prefix.copy(der);
      der[prefix.length] = 4;
      writeBig(P.x, der, prefix.length + 1, c.size);
      writeBig(P.y, der, prefix.length + 1 + c.size, c.size);
      result[j.i] = nodeVerify(
        c.hash,
        REFERENCE_MESSAGE,
        { key: der, format: 'der', type: 'spki' },
        j.signature,
      );
    } catch {
      // OpenSSL refused the point or the signature: fail closed
    }
  }
}

/**
 * T = -Q, so Q' would be the point at infinity: R = u1·G + u2·Q = (e0/s)·G (see above); valid
 * iff R is not the point at infinity and x(R) ≡ r (mod n).
 */
function atInfinity(c: Curve, ecdh: ECDH, e0: bigint, j: Pending): boolean {
  const u = (mod(e0, c.n) * invert(j.s, c.n)) % c.n;
  if (u === 0n) return false;
  ecdh.setPrivateKey(toBytes(u, c.size));
  const R = ecdh.getPublicKey();
  return toBig(R.subarray(1, 1 + c.size)) % c.n === j.r;
}

/** Single verification (a batch of one). */
export function verifyEcdsaDigest(
  key: EcPoint,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifyEcdsaDigestBatch([{ key, digest, signature }])[0]!;
}
