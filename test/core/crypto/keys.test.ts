import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { readSpki, spkiDer } from '../../../src/core/crypto/keys.ts';

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

describe('readSpki', () => {
  for (const curve of ['P-256', 'P-384', 'P-521']) {
    it(`returns the given DER of a ${curve} key, equal to OpenSSL's encoding`, () => {
      const given = der(generateKeyPairSync('ec', { namedCurve: curve }).publicKey);
      const { key, spki } = readSpki(given);
      assert.equal(spki, given);
      assert.deepEqual(spki, spkiDer(parse(given)));
      assert.deepEqual(der(key), given);
    });
  }

  it('refuses a point that is not on the curve (the given bytes are taken only once OpenSSL read them)', () => {
    const given = der(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const bad = new Uint8Array(given);
    bad[bad.length - 1]! ^= 1;
    assert.throws(() => readSpki(bad));
  });

  it("another curve's header over the same point length is not taken as given", () => {
    // A P-384 key read with its own header: the P-256 prefix never matches it.
    const p384 = der(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
    const { spki } = readSpki(p384);
    assert.deepEqual(spki, p384);
  });

  it('encodes compressed points as OpenSSL does (kept compressed), not as given-or-uncompressed', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const c = compressed(key);
    const { spki } = readSpki(c);
    assert.notEqual(spki, c);
    assert.deepEqual(spki, spkiDer(parse(c)));
    assert.equal(spki.length, c.length);
  });

  for (const type of ['ed25519', 'rsa'] as const) {
    it(`exports ${type} keys`, () => {
      const key =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
          : generateKeyPairSync('ed25519').publicKey;
      const { spki } = readSpki(der(key));
      assert.deepEqual(spki, der(key));
    });
  }
});
