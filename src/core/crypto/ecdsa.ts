import { createECDH, type ECDH } from 'node:crypto';

/**
 * ECDSA verification over a prehashed digest (FIPS 186-5 §6.4.2), exact, with OpenSSL doing
 * the scalar multiplications.
 *
 * OpenSSL through node:crypto verifies ECDSA only over a whole message it hashes itself;
 * hashedrekord gives us only the digest. Pure-JS verification (@noble/curves) is exact but
 * ~25x slower than OpenSSL. node's ECDH exposes OpenSSL's two scalar multiplications:
 *   setPrivateKey(k) + getPublicKey()  = k·G, both coordinates (fixed base, precomputed tables)
 *   setPrivateKey(k) + computeSecret(P) = x(k·P)                (variable base)
 * ECDSA accepts iff x(u1·G + u2·Q) mod n = r, with w = s⁻¹, u1 = e·w, u2 = r·w. We rewrite
 *   u1·G + u2·Q = u2·(Q + t·G)   with t = u1/u2 = e/r (mod n),
 * compute T = t·G natively (full point), add Q + T in affine coordinates with BigInt field
 * arithmetic, and let OpenSSL compute x(u2·(Q + T)). Because Q + T is a full point, the x of its
 * multiple is exactly the x of R: no sign ambiguity, no square roots. Every degenerate case is
 * handled explicitly and fails closed: r, s outside [1, n-1]; Q not on the curve; t = 0 (R = u2·Q);
 * T = Q (doubling); T = -Q (R is the point at infinity, reject).
 *
 * The two modular inversions (of r·s mod n and of the addition's denominator mod p) dominate the
 * BigInt cost, so verification is done in batches with Montgomery's trick: one inversion of each
 * kind per batch. A single verification is a batch of one.
 *
 * Measured alternative, not used: shifting the key instead, Q' = Q + ((e - e')/r)·G for the
 * digest e' of a fixed message, and letting OpenSSL verify (Q', message, r, s) — also exact, but
 * the per-signature KeyObject import makes it ~10 % slower than the ECDH route here.
 */

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
  },
  'P-384': {
    name: 'P-384',
    openssl: 'secp384r1',
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    size: 48,
    nBits: 384,
  },
  'P-521': {
    name: 'P-521',
    openssl: 'secp521r1',
    p: (1n << 521n) - 1n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    size: 66,
    nBits: 521,
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

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** Modular inverse by the extended Euclidean algorithm; `a` must be nonzero mod the prime `m`. */
export function invert(a: bigint, m: bigint): bigint {
  let r0 = m;
  let r1 = mod(a, m);
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    const r2 = r0 - q * r1;
    r0 = r1;
    r1 = r2;
    const t2 = t0 - q * t1;
    t0 = t1;
    t1 = t2;
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return mod(t0, m);
}

/** Inverts every (nonzero) element of `xs` mod `m` with one inversion (Montgomery's trick). */
function invertAll(xs: bigint[], m: bigint): bigint[] {
  const n = xs.length;
  if (n === 0) return [];
  const prefix = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    acc = (acc * xs[i]!) % m;
  }
  let inv = invert(acc, m);
  const out = new Array<bigint>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]!) % m;
    inv = (inv * xs[i]!) % m;
  }
  return out;
}

function toBig(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`);
}

function toBytes(x: bigint, size: number): Buffer {
  return Buffer.from(x.toString(16).padStart(size * 2, '0'), 'hex');
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

interface Pending {
  i: number;
  c: Curve;
  q: EcPoint;
  e: bigint;
  r: bigint;
  s: bigint;
  u2?: bigint;
  t?: bigint;
  tx?: bigint;
  ty?: bigint;
  /** Denominator of the affine addition/doubling slope (mod p). */
  den?: bigint;
  num?: bigint;
  doubling?: boolean;
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
    list.push({ i, c, q: job.key, e: digestToInt(c, job.digest), r, s });
  }
  for (const list of byCurve.values()) verifyCurveBatch(list, result);
  return result;
}

function verifyCurveBatch(list: Pending[], result: boolean[]): void {
  const c = list[0]!.c;
  const { n, p } = c;
  const ecdh = ecdhFor(c);
  // (r·s)⁻¹ gives both s⁻¹ = r·(rs)⁻¹ and r⁻¹ = s·(rs)⁻¹ with one inversion.
  const invRs = invertAll(
    list.map((j) => (j.r * j.s) % n),
    n,
  );
  const adds: Pending[] = [];
  for (let k = 0; k < list.length; k++) {
    const j = list[k]!;
    const w = (invRs[k]! * j.r) % n; // s⁻¹
    const rInv = (invRs[k]! * j.s) % n;
    j.u2 = (j.r * w) % n; // in [1, n-1]: r, w nonzero mod prime n
    j.t = (mod(j.e, n) * rInv) % n;
    if (j.t === 0n) continue; // R = u2·Q, no addition needed
    ecdh.setPrivateKey(toBytes(j.t, c.size));
    const T = ecdh.getPublicKey();
    j.tx = toBig(T.subarray(1, 1 + c.size));
    j.ty = toBig(T.subarray(1 + c.size));
    if (j.tx === j.q.x) {
      if (j.ty !== j.q.y) continue; // T = -Q: R = u2·∞ = ∞, invalid (left false)
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
  const sum = new Map<Pending, { x: bigint; y: bigint }>();
  for (let k = 0; k < adds.length; k++) {
    const j = adds[k]!;
    const l = (j.num! * invDen[k]!) % p;
    const other = j.doubling ? j.q.x : j.tx!;
    const x = mod(l * l - j.q.x - other, p);
    const y = mod(l * (j.q.x - x) - j.q.y, p);
    sum.set(j, { x, y });
  }
  for (const j of list) {
    let P: { x: bigint; y: bigint } | undefined;
    if (j.t === 0n) P = j.q;
    else P = sum.get(j);
    if (!P) continue;
    ecdh.setPrivateKey(toBytes(j.u2!, c.size));
    let x: bigint;
    try {
      const pt = Buffer.concat([Buffer.of(4), toBytes(P.x, c.size), toBytes(P.y, c.size)]);
      x = toBig(ecdh.computeSecret(pt));
    } catch {
      continue; // OpenSSL refused the point: fail closed
    }
    result[j.i] = x % n === j.r; // FIPS 186-5 §6.4.2 steps 6-8
  }
}

/** Single verification (a batch of one). */
export function verifyEcdsaDigest(
  key: EcPoint,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifyEcdsaDigestBatch([{ key, digest, signature }])[0]!;
}
