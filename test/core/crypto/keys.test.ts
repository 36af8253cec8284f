import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalSpki, spkiDer } from '../../../src/core/crypto/keys.ts';

const der = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }));
const parse = (d: Uint8Array) =>
  createPublicKey({ key: Buffer.from(d), format: 'der', type: 'spki' });

/** The same key with its point compressed (SEC 1 §2.3.3), as a client may send it. */
function compressed(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  const full = der(key);
  const alg = full.subarray(2, 4 + full[3]!); // the AlgorithmIdentifier, short-form lengths
  const point = Buffer.concat([Buffer.of(2 + (y[y.length - 1]! & 1)), x]);
  const body = Buffer.concat([alg, Buffer.of(0x03, point.length + 1, 0), point]);
  return new Uint8Array(Buffer.concat([Buffer.of(0x30, body.length), body]));
}

describe('canonicalSpki', () => {
  for (const curve of ['P-256', 'P-384', 'P-521']) {
    it(`returns the given DER of a ${curve} key, equal to OpenSSL's encoding`, () => {
      const given = der(generateKeyPairSync('ec', { namedCurve: curve }).publicKey);
      const out = canonicalSpki(parse(given), given);
      assert.equal(out, given);
      assert.deepEqual(out, spkiDer(parse(given)));
    });
  }

  it("never answers with DER of another key: the parsed key's own encoding wins", () => {
    const a = der(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const b = der(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    assert.deepEqual(canonicalSpki(parse(a), b), a);
    // Same coordinates, another curve's header: not taken either.
    const p384 = der(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
    assert.deepEqual(canonicalSpki(parse(p384), a), p384);
  });

  it('encodes compressed points as OpenSSL does (kept compressed), not as given-or-uncompressed', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const c = compressed(key);
    const out = canonicalSpki(parse(c), c);
    assert.deepEqual(out, spkiDer(parse(c)));
    assert.equal(out.length, c.length);
  });

  for (const type of ['ed25519', 'rsa'] as const) {
    it(`exports ${type} keys`, () => {
      const key =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
          : generateKeyPairSync('ed25519').publicKey;
      assert.deepEqual(canonicalSpki(key, der(key)), der(key));
    });
  }
});
