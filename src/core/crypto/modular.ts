/**
 * Arithmetic modulo a prime with BigInt, for the ECDSA digest verification (ecdsa.ts): the
 * modular inverse is its costliest BigInt step, one mod n and one mod p per verification (or
 * per batch, with invertAll).
 */

/** a mod m in [0, m). */
export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/**
 * Leading bits the inner loop of `invert` works on. Its values stay below 2^LEAD and its
 * cofactors below about 2^(LEAD/2), so every product it forms is exact in a double (< 2^53).
 */
const LEAD = 48;
const LEAD_BIG = BigInt(LEAD);

/** The bit length of x > 0. */
function bitLength(x: bigint): number {
  // log2 of the double is off by one at most (rounding near a power of two); the shifts fix it.
  let b = Math.floor(Math.log2(Number(x))) + 1;
  if (x >> BigInt(b) !== 0n) b++;
  else if (x >> BigInt(b - 1) === 0n) b--;
  return b;
}

/**
 * The inverse of a modulo the prime m (a must be nonzero mod m), by the extended Euclidean
 * algorithm with Lehmer's speed-up (Knuth, TAOCP vol. 2, §4.5.2, Algorithm L): the quotients
 * are found from the leading LEAD bits of the remainders in doubles, as long as both bounds of
 * the leading-bits quotient agree (then it is the true quotient), and applied to the BigInt
 * remainders and cofactors together as one 2x2 matrix. That replaces most of the ~150 BigInt
 * divisions of a 256-bit inverse: 13 instead of 34 µs (P-256, measured on this project's 2-core
 * machines). The result is checked (a · a⁻¹ ≡ 1) before it is returned, so a mistake here can
 * only throw, never verify a signature that should fail.
 */
export function invert(a: bigint, m: bigint): bigint {
  let u = m;
  let v = mod(a, m);
  // Invariants: u ≡ x1·a and v ≡ x2·a (mod m).
  let x1 = 0n;
  let x2 = 1n;
  while (v >> LEAD_BIG !== 0n) {
    const shift = BigInt(bitLength(u) - LEAD);
    let uh = Number(u >> shift);
    let vh = Number(v >> shift);
    let A = 1;
    let B = 0;
    let C = 0;
    let D = 1;
    for (;;) {
      if (vh + C === 0 || vh + D === 0) break;
      const q = Math.floor((uh + A) / (vh + C));
      if (q !== Math.floor((uh + B) / (vh + D))) break;
      [A, C] = [C, A - q * C];
      [B, D] = [D, B - q * D];
      [uh, vh] = [vh, uh - q * vh];
    }
    if (B === 0) {
      // The leading bits decided nothing (a quotient too large for them): one full step.
      const q = u / v;
      [u, v] = [v, u - q * v];
      [x1, x2] = [x2, x1 - q * x2];
    } else {
      const [bA, bB, bC, bD] = [BigInt(A), BigInt(B), BigInt(C), BigInt(D)];
      [u, v] = [bA * u + bB * v, bC * u + bD * v];
      [x1, x2] = [bA * x1 + bB * x2, bC * x1 + bD * x2];
    }
  }
  while (v !== 0n) {
    const q = u / v;
    [u, v] = [v, u - q * v];
    [x1, x2] = [x2, x1 - q * x2];
  }
  if (u !== 1n) throw new RangeError('not invertible');
  const inverse = mod(x1, m);
  if ((inverse * mod(a, m)) % m !== 1n) throw new RangeError('modular inverse check failed');
  return inverse;
}

/** Inverts every (nonzero) element of `xs` mod `m` with one inversion (Montgomery's trick). */
export function invertAll(xs: bigint[], m: bigint): bigint[] {
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
