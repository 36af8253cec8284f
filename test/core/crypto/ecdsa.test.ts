import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import {
  type EcCurveName,
  ecPointFromUncompressed,
  parseDerSignature,
  REFERENCE_MESSAGE,
  verifyEcdsaDigest,
  verifyEcdsaDigestBatch,
} from '../../../src/core/crypto/ecdsa.ts';
import { ecPointOf, verifyDigest, verifyDigestBatch } from '../../../src/core/crypto/verify.ts';

const NOBLE = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;
const HASH = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' } as const;
const N256 = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function big(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
}
function bytes(x: bigint, size: number): Uint8Array {
  return new Uint8Array(Buffer.from(x.toString(16).padStart(size * 2, '0'), 'hex'));
}
function mod(a: bigint, m: bigint): bigint {
  return ((a % m) + m) % m;
}
/** Minimal DER of (r, s), written independently of the parser under test. */
function der(r: bigint, s: bigint): Uint8Array {
  const int = (x: bigint) => {
    let h = x.toString(16);
    if (h.length % 2) h = `0${h}`;
    let b = Buffer.from(h, 'hex');
    if (b[0]! & 0x80) b = Buffer.concat([Buffer.of(0), b]);
    return Buffer.concat([Buffer.of(2, b.length), b]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  const len = body.length < 128 ? Buffer.of(body.length) : Buffer.of(0x81, body.length);
  return new Uint8Array(Buffer.concat([Buffer.of(0x30), len, body]));
}

function keyPair(curve: EcCurveName) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const point = ecPointOf(publicKey, curve)!;
  const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })).slice(
    -(1 + 2 * (curve === 'P-256' ? 32 : curve === 'P-384' ? 48 : 66)),
  );
  const d = big(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  return { privateKey, publicKey, point, raw, d };
}

function nobleVerify(curve: EcCurveName, sig: Uint8Array, digest: Uint8Array, raw: Uint8Array) {
  try {
    return NOBLE[curve].verify(sig, digest, raw, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}

describe('ECDSA over a prehashed digest (shifted key, exact)', () => {
  it('agrees with OpenSSL on 2,000 random P-256 signatures and their mutations', () => {
    let valid = 0;
    let checkedInvalid = 0;
    for (let i = 0; i < 2000; i++) {
      const k = keyPair('P-256');
      const msg = randomBytes(1 + (i % 70));
      const sig = new Uint8Array(sign('sha256', msg, k.privateKey));
      const digest = new Uint8Array(createHash('sha256').update(msg).digest());
      assert.equal(verifyEcdsaDigest(k.point, digest, sig), true, `valid signature ${i}`);
      valid++;
      const { r, s } = parseDerSignature(sig)!;
      // every mutation is checked against OpenSSL verifying the same signature on the message
      const variants: Array<[string, Uint8Array, Uint8Array]> = [
        ['digest bit', digest.map((b, j) => (j === i % 32 ? b ^ (1 << (i % 8)) : b)), sig],
        ['r+1', digest, der(r + 1n, s)],
        ['s+1', digest, der(r, s + 1n)],
        ['high-S twin', digest, der(r, N256 - s)],
        ['r+n', digest, der(r + N256, s)],
      ];
      for (const [name, dg, sg] of variants) {
        const ours = verifyEcdsaDigest(k.point, dg, sg);
        const sameDigest = Buffer.from(dg).equals(Buffer.from(digest));
        const expected = sameDigest
          ? verify('sha256', msg, k.publicKey, sg)
          : i < 300
            ? nobleVerify('P-256', sg, dg, k.raw)
            : false;
        assert.equal(ours, expected, `${name} (${i})`);
        if (!expected) checkedInvalid++;
      }
    }
    assert.equal(valid, 2000);
    assert.ok(checkedInvalid >= 6000);
  });

  for (const curve of ['P-384', 'P-521'] as const) {
    const rounds = curve === 'P-521' ? 50 : 150;
    it(`agrees with OpenSSL and noble on ${curve}`, () => {
      for (let i = 0; i < rounds; i++) {
        const k = keyPair(curve);
        const msg = randomBytes(20);
        const sig = new Uint8Array(sign(HASH[curve], msg, k.privateKey));
        const digest = new Uint8Array(createHash(HASH[curve]).update(msg).digest());
        assert.equal(verifyEcdsaDigest(k.point, digest, sig), true);
        const bad = digest.slice();
        bad[0]! ^= 1;
        assert.equal(verifyEcdsaDigest(k.point, bad, sig), false);
        if (i < 20) assert.equal(nobleVerify(curve, sig, bad, k.raw), false);
      }
    });
  }

  it('truncates digests longer than the order like noble (SHA-512 with P-256)', () => {
    for (let i = 0; i < 50; i++) {
      const k = keyPair('P-256');
      const digest = new Uint8Array(randomBytes(64));
      const sig = p256.sign(digest, bytes(k.d, 32), { prehash: false, format: 'der' });
      assert.equal(verifyEcdsaDigest(k.point, digest, sig), true);
      assert.equal(nobleVerify('P-256', sig, digest, k.raw), true);
      const bad = digest.slice();
      bad[3]! ^= 4;
      assert.equal(verifyEcdsaDigest(k.point, bad, sig), false);
    }
  });

  it('handles e ≡ 0 (mod n): digest 0 and digest n', () => {
    const k = keyPair('P-256');
    for (const e of [0n, N256]) {
      const digest = bytes(e, 32);
      const sig = p256.sign(digest, bytes(k.d, 32), { prehash: false, format: 'der' });
      assert.equal(nobleVerify('P-256', sig, digest, k.raw), true);
      assert.equal(verifyEcdsaDigest(k.point, digest, sig), true);
      const { r, s } = parseDerSignature(sig)!;
      assert.equal(verifyEcdsaDigest(k.point, digest, der(r, s + 1n)), false);
    }
  });

  it('handles T = Q (doubling) and T = -Q (point at infinity) exactly', () => {
    for (let i = 0; i < 20; i++) {
      const k = keyPair('P-256');
      const nonce = keyPair('P-256');
      const r = mod(nonce.point.x, N256);
      // e = r·d makes t = e/r = d, so T = t·G = Q: the addition becomes a doubling.
      const e = mod(r * k.d, N256);
      const kinv = BigInt(p256.Point.Fn.inv(nonce.d));
      const s = mod(kinv * (e + r * k.d), N256);
      const sig = der(r, s);
      assert.equal(nobleVerify('P-256', sig, bytes(e, 32), k.raw), true);
      assert.equal(verifyEcdsaDigest(k.point, bytes(e, 32), sig), true, 'doubling case');
      assert.equal(verifyEcdsaDigest(k.point, bytes(mod(e + 1n, N256), 32), sig), false);
      // e = -r·d makes T = -Q: u1·G + u2·Q is the point at infinity for every s.
      const eNeg = mod(-r * k.d, N256);
      for (const s2 of [1n, 2n, s, N256 - 1n]) {
        const sig2 = der(r, s2);
        assert.equal(verifyEcdsaDigest(k.point, bytes(eNeg, 32), sig2), false, 'infinity');
        assert.equal(nobleVerify('P-256', sig2, bytes(eNeg, 32), k.raw), false);
      }
    }
  });

  // The key is shifted by t·G, t = (e - e0)/r, e0 = the digest of REFERENCE_MESSAGE: its
  // degenerate cases are t = 0 (Q' = Q), T = Q (doubling) and T = -Q (Q' at infinity).
  it('handles the shifted key exactly when T = Q, T = -Q and t = 0', () => {
    const e0 = big(createHash('sha256').update(REFERENCE_MESSAGE).digest());
    for (let i = 0; i < 20; i++) {
      const k = keyPair('P-256');
      const nonce = keyPair('P-256');
      const r = mod(nonce.point.x, N256);
      const kinv = BigInt(p256.Point.Fn.inv(nonce.d));
      // e - e0 = ±r·d makes t = ±d, so T = ±Q; a signer with this nonce signs such a digest
      for (const [name, e] of [
        ['doubling', mod(e0 + r * k.d, N256)],
        ['infinity', mod(e0 - r * k.d, N256)],
      ] as const) {
        const s = mod(kinv * (e + r * k.d), N256);
        const sig = der(r, s);
        assert.equal(nobleVerify('P-256', sig, bytes(e, 32), k.raw), true, name);
        assert.equal(verifyEcdsaDigest(k.point, bytes(e, 32), sig), true, name);
        for (const [bad, sg] of [
          [bytes(mod(e + 1n, N256), 32), sig],
          [bytes(e, 32), der(r, mod(s + 1n, N256))],
          [bytes(e, 32), der(mod(r + 1n, N256), s)],
        ] as const) {
          assert.equal(nobleVerify('P-256', sg, bad, k.raw), false);
          assert.equal(verifyEcdsaDigest(k.point, bad, sg), false, `${name}, mutated`);
        }
      }
      // t = 0: the digest of the reference message itself (a signature of an empty file)
      const sig = new Uint8Array(sign('sha256', REFERENCE_MESSAGE, k.privateKey));
      assert.equal(verifyEcdsaDigest(k.point, bytes(e0, 32), sig), true, 't = 0');
      const other = keyPair('P-256');
      assert.equal(verifyEcdsaDigest(other.point, bytes(e0, 32), sig), false, 't = 0, other key');
    }
  });

  it('rejects r or s out of [1, n-1]', () => {
    const k = keyPair('P-256');
    const digest = new Uint8Array(32).fill(7);
    for (const [r, s] of [
      [0n, 1n],
      [1n, 0n],
      [N256, 1n],
      [1n, N256],
      [N256 + 5n, 3n],
    ] as const)
      assert.equal(verifyEcdsaDigest(k.point, digest, der(r, s)), false);
  });

  it('rejects malformed DER: non-minimal, negative, trailing bytes, wrong tags, empty', () => {
    const k = keyPair('P-256');
    const msg = Buffer.from('abc');
    const sig = new Uint8Array(sign('sha256', msg, k.privateKey));
    const digest = new Uint8Array(createHash('sha256').update(msg).digest());
    const { r, s } = parseDerSignature(sig)!;
    const good = der(r, s);
    assert.ok(verifyEcdsaDigest(k.point, digest, good));
    const rBytes = Buffer.from(bytes(r, 32));
    const sInt = Buffer.from(der(r, s)).subarray(2 + 2 + (good[3] as number));
    const padded = Buffer.concat([Buffer.of(2, 34, 0, 0), rBytes]); // extra leading zero
    const nonMinimal = Buffer.concat([Buffer.of(0x30, padded.length + sInt.length), padded, sInt]);
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      Buffer.concat([good, Buffer.of(0)]),
      Buffer.concat([Buffer.of(0x31), good.subarray(1)]),
      nonMinimal,
      Buffer.concat([Buffer.of(0x30, 0x81), good.subarray(1)]), // long form for a short length
      sign('sha256', msg, { key: k.privateKey, dsaEncoding: 'ieee-p1363' }), // raw r||s is not DER
    ];
    for (const c of cases) {
      assert.equal(verifyEcdsaDigest(k.point, digest, c), false);
      assert.equal(verify('sha256', msg, k.publicKey, c), false, 'OpenSSL agrees');
    }
  });

  it('rejects points that are not on the curve', () => {
    const k = keyPair('P-256');
    const raw = k.raw.slice();
    raw[64]! ^= 1;
    assert.equal(ecPointFromUncompressed('P-256', raw), undefined);
    assert.equal(ecPointFromUncompressed('P-256', k.raw.subarray(0, 64)), undefined);
    const bad = { curve: 'P-256' as const, x: k.point.x, y: k.point.y + 1n };
    const msg = Buffer.from('x');
    const sig = new Uint8Array(sign('sha256', msg, k.privateKey));
    assert.equal(verifyEcdsaDigest(bad, createHash('sha256').update(msg).digest(), sig), false);
  });

  it('a batch gives the same answers as single verifications', () => {
    const jobs = [];
    const expected: boolean[] = [];
    for (let i = 0; i < 200; i++) {
      const curve: EcCurveName = i % 10 === 0 ? 'P-384' : 'P-256';
      const k = keyPair(curve);
      const msg = randomBytes(10);
      const sig = new Uint8Array(sign(HASH[curve], msg, k.privateKey));
      const digest = new Uint8Array(createHash(HASH[curve]).update(msg).digest());
      const ok = i % 3 !== 0;
      if (!ok) digest[0]! ^= 1;
      jobs.push({ key: k.point, digest, signature: sig });
      expected.push(ok);
    }
    assert.deepEqual(verifyEcdsaDigestBatch(jobs), expected);
    assert.deepEqual(
      jobs.map((j) => verifyEcdsaDigest(j.key, j.digest, j.signature)),
      expected,
    );
  });

  it('verifyDigest / verifyDigestBatch route EC, RSA and Ed25519ph keys', () => {
    const ec = keyPair('P-256');
    const msg = Buffer.from('hashedrekord');
    const d256 = new Uint8Array(createHash('sha256').update(msg).digest());
    const ecSig = new Uint8Array(sign('sha256', msg, ec.privateKey));
    assert.equal(verifyDigest(ec.publicKey, 'PKIX_ECDSA_P256_SHA_256', d256, ecSig), true);
    // a P-256 key claimed as P-384 is not verified
    assert.equal(verifyDigest(ec.publicKey, 'PKIX_ECDSA_P384_SHA_384', d256, ecSig), false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaSig = new Uint8Array(sign('sha256', msg, rsa.privateKey));
    assert.deepEqual(
      verifyDigestBatch([
        {
          key: rsa.publicKey,
          details: 'PKIX_RSA_PKCS1V15_2048_SHA256',
          digest: d256,
          signature: rsaSig,
        },
        { key: ec.publicKey, details: 'PKIX_ECDSA_P256_SHA_256', digest: d256, signature: ecSig },
        { key: ec.publicKey, details: 'PKIX_ECDSA_P256_SHA_256', digest: d256, signature: rsaSig },
        {
          key: rsa.publicKey,
          details: 'PKIX_RSA_PKCS1V15_2048_SHA256',
          digest: d256,
          signature: ecSig,
        },
      ]),
      [true, true, false, false],
    );
  });
});
