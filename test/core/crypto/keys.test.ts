import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignetError } from '../../../src/core/errors.ts';
import { keyDetailsOf, readSpki, spkiDer } from '../../../src/core/crypto/keys.ts';
import { compressed, EXPLICIT_P256 } from '../../helpers/ec-forms.ts';

const der = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }));
const parse = (d: Uint8Array) =>
  createPublicKey({ key: Buffer.from(d), format: 'der', type: 'spki' });

/** Refused as a form Go's x509 cannot read, naming the field. */
function refusedForm(f: () => unknown): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SignetError, String(e));
    assert.equal(e.field, 'key');
    assert.match(e.message, /compressed point or explicit curve parameters/);
    return true;
  });
}

describe('readSpki', () => {
  for (const curve of ['P-256', 'P-384', 'P-521']) {
    it(`returns the given DER of a ${curve} key, equal to OpenSSL's encoding`, () => {
      const given = der(generateKeyPairSync('ec', { namedCurve: curve }).publicKey);
      const { key, spki } = readSpki(given, 'key');
      assert.equal(spki, given);
      assert.deepEqual(spki, spkiDer(parse(given)));
      assert.deepEqual(der(key), given);
    });
  }

  it('refuses a point that is not on the curve (the given bytes are taken only once OpenSSL read them)', () => {
    const given = der(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const bad = new Uint8Array(given);
    bad[bad.length - 1]! ^= 1;
    assert.throws(() => readSpki(bad, 'key'));
  });

  it("another curve's header over the same point length is not taken as given", () => {
    // A P-384 key read with its own header: the P-256 prefix never matches it.
    const p384 = der(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
    const { spki } = readSpki(p384, 'key');
    assert.deepEqual(spki, p384);
  });

  it('refuses a compressed point and explicit curve parameters, which Go clients cannot read', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    // OpenSSL reads both (and would export them so): the certificate would carry them.
    assert.equal(parse(compressed(key)).asymmetricKeyType, 'ec');
    refusedForm(() => readSpki(compressed(key), 'key'));
    const explicit = new Uint8Array(
      createPublicKey(EXPLICIT_P256).export({ format: 'der', type: 'spki' }),
    );
    assert.ok(explicit.length > 200, 'the parameters are spelled out');
    refusedForm(() => readSpki(explicit, 'key'));
  });

  for (const type of ['ed25519', 'rsa'] as const) {
    it(`exports ${type} keys`, () => {
      const key =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
          : generateKeyPairSync('ed25519').publicKey;
      const { spki } = readSpki(der(key), 'key');
      assert.deepEqual(spki, der(key));
    });
  }
});

describe('keyDetailsOf', () => {
  it('refuses an RSA public exponent Go refuses (above 2^31 - 1), naming its size; 65537 and 3 are read', () => {
    const rsa = (publicExponent: number) =>
      generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent }).publicKey;
    assert.equal(keyDetailsOf(rsa(65537), 'key'), 'PKIX_RSA_PKCS1V15_2048_SHA256');
    assert.equal(keyDetailsOf(rsa(3), 'key'), 'PKIX_RSA_PKCS1V15_2048_SHA256');
    assert.throws(
      () => keyDetailsOf(rsa(0x80000001), 'key'),
      (e: unknown) =>
        e instanceof SignetError &&
        e.field === 'key' &&
        /^key: RSA public exponent 2147483649 is not supported \(3 to 2\^31 - 1/.test(e.message),
    );
  });
});
