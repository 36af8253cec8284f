import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  derInteger,
  derTime,
  encodeName,
  extKeyUsageValue,
  keyIdentifier,
  keyUsageValue,
  NAME_OID,
  subjectAltNameValue,
  subjectKeyIdentifierValue,
} from '../../../src/core/x509/build.ts';
import { extensionOf, OID } from '../../../src/core/x509/certificate.ts';
import { issuerOf, loadFixture } from './fixtures.ts';

// Byte-compatibility: our encoders reproduce the extension bytes of real public-good Fulcio
// certificates (made by Go's crypto/x509), given the same values.
const f = loadFixture('happy-path-v0.3');
const leaf = f.leaf;
const ica = issuerOf(f);

test('leaf extensions match a real Fulcio leaf byte for byte', () => {
  assert.deepEqual(keyUsageValue(['digitalSignature']), extensionOf(leaf, OID.keyUsage)!.value);
  assert.deepEqual(extKeyUsageValue([OID.codeSigning]), extensionOf(leaf, OID.extKeyUsage)!.value);
  assert.deepEqual(keyIdentifier(leaf.spki), leaf.subjectKeyIdentifier);
  assert.deepEqual(
    subjectKeyIdentifierValue(keyIdentifier(leaf.spki)),
    extensionOf(leaf, OID.subjectKeyIdentifier)!.value,
  );
  assert.deepEqual(
    authorityKeyIdentifierValue(ica.subjectKeyIdentifier!),
    extensionOf(leaf, OID.authorityKeyIdentifier)!.value,
  );
  const san = leaf.subjectAltNames[0]!;
  assert.equal(san.type, 'uri');
  assert.deepEqual(
    subjectAltNameValue({ type: 'uri', value: san.value }),
    extensionOf(leaf, OID.subjectAltName)!.value,
  );
  const email = loadFixture('integrated-time-in-future_fail').leaf;
  const e = email.subjectAltNames[0]!;
  assert.equal(e.type, 'email');
  assert.deepEqual(
    subjectAltNameValue({ type: 'email', value: e.value }),
    extensionOf(email, OID.subjectAltName)!.value,
  );
});

test('CA extensions and names match the real sigstore intermediate', () => {
  assert.deepEqual(
    keyUsageValue(['keyCertSign', 'cRLSign']),
    extensionOf(ica, OID.keyUsage)!.value,
  );
  assert.deepEqual(basicConstraintsValue(true, 0), extensionOf(ica, OID.basicConstraints)!.value);
  assert.deepEqual(keyIdentifier(ica.spki), ica.subjectKeyIdentifier);
  assert.deepEqual(
    encodeName([
      [NAME_OID.organization, 'sigstore.dev'],
      [NAME_OID.commonName, 'sigstore-intermediate'],
    ]),
    ica.subjectDer,
  );
});

test('DER primitives: times, integers', () => {
  assert.equal(
    Buffer.from(derTime(new Date('2049-12-31T23:59:59.999Z')))
      .toString('latin1')
      .slice(2),
    '491231235959Z',
  );
  assert.equal(derTime(new Date('2049-01-01T00:00:00Z'))[0], 0x17); // UTCTime
  assert.equal(derTime(new Date('2050-01-01T00:00:00Z'))[0], 0x18); // GeneralizedTime
  assert.equal(
    Buffer.from(derTime(new Date('2050-01-01T00:00:00Z')))
      .toString('latin1')
      .slice(2),
    '20500101000000Z',
  );
  assert.deepEqual([...derInteger(Uint8Array.of(0x80))], [0x02, 0x02, 0x00, 0x80]);
  assert.deepEqual([...derInteger(Uint8Array.of(0, 0, 0x7f))], [0x02, 0x01, 0x7f]);
  assert.deepEqual([...derInteger(Uint8Array.of(0))], [0x02, 0x01, 0x00]);
  assert.deepEqual([...basicConstraintsValue(false)], [0x30, 0x00]);
});
