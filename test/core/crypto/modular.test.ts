import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { invert as nobleInvert } from '@noble/curves/abstract/modular.js';
import { invert, invertAll, mod } from '../../../src/core/crypto/modular.ts';

/** The primes the ECDSA digest verification inverts modulo: p and n of each NIST curve. */
const MODULI = {
  'P-256 p': 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  'P-256 n': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'P-384 p':
    0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
  'P-384 n':
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  'P-521 p': (1n << 521n) - 1n,
  'P-521 n':
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

function random(m: bigint): bigint {
  const bytes = Math.ceil(m.toString(16).length / 2) + 8;
  return BigInt(`0x${randomBytes(bytes).toString('hex')}`) % m;
}

describe('modular inverse (Lehmer)', () => {
  for (const [name, m] of Object.entries(MODULI))
    it(`agrees with @noble/curves on 1,000 random values mod ${name}`, () => {
      for (let i = 0; i < 1000; i++) {
        const a = random(m - 1n) + 1n;
        const inv = invert(a, m);
        assert.equal(inv, nobleInvert(a, m), `a = ${a}`);
        assert.equal((a * inv) % m, 1n);
      }
    });

  it('handles values whose first quotients are too large for the leading bits', () => {
    const m = MODULI['P-256 p'];
    // Below 2^48 the Lehmer loop never runs; just above it, the first quotient (~2^208) is
    // taken as a full BigInt step; m - 1 and m - 2 give quotients 1 then huge ones.
    for (const a of [
      1n,
      2n,
      3n,
      (1n << 48n) - 1n,
      1n << 48n,
      (1n << 48n) + 1n,
      (1n << 200n) + 12345n,
      m >> 1n,
      m - 2n,
      m - 1n,
    ])
      assert.equal(invert(a, m), nobleInvert(a, m), `a = ${a}`);
  });

  it('reduces negative values and values above the modulus first', () => {
    const m = MODULI['P-384 n'];
    const a = random(m - 1n) + 1n;
    assert.equal(invert(a - m, m), invert(a, m));
    assert.equal(invert(a + 5n * m, m), invert(a, m));
    assert.equal(invert(-1n, m), m - 1n);
  });

  it('refuses zero and values sharing a factor with the modulus', () => {
    const m = MODULI['P-256 n'];
    assert.throws(() => invert(0n, m), /not invertible/);
    assert.throws(() => invert(m, m), /not invertible/);
    // A composite modulus (never given by the verifier): a common factor has no inverse.
    const composite = MODULI['P-256 p'] * 3n;
    assert.throws(() => invert(3n * random(1n << 200n) + 3n, composite), /not invertible/);
  });

  it('invertAll gives each value its own inverse', () => {
    for (const m of [MODULI['P-256 p'], MODULI['P-521 n']]) {
      const xs = Array.from({ length: 50 }, () => random(m - 1n) + 1n);
      assert.deepEqual(
        invertAll(xs, m),
        xs.map((x) => nobleInvert(x, m)),
      );
      assert.deepEqual(invertAll([], m), []);
    }
  });

  it('mod is the least nonnegative residue', () => {
    assert.equal(mod(-7n, 5n), 3n);
    assert.equal(mod(7n, 5n), 2n);
    assert.equal(mod(-10n, 5n), 0n);
  });
});
