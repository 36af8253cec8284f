import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  extensionOf,
  OID,
  parseCertificate,
  parseCertificatesPem,
  verifyCertificateSignature,
} from '../../../src/core/x509/certificate.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { issuerOf, loadFixture } from './fixtures.ts';

test('reads a real public-good Fulcio leaf (GitHub Actions identity)', () => {
  const f = loadFixture('happy-path-v0.3');
  const c = f.leaf;
  assert.equal(c.version, 3);
  assert.equal(c.issuer, 'CN=sigstore-intermediate, O=sigstore.dev');
  assert.equal(c.subject, '');
  assert.deepEqual([...c.subjectDer], [0x30, 0x00]);
  assert.equal(c.serialHex, '68bfedb264131e4db59add54ba4fb0edabc3073e');
  assert.equal(c.notAfter.getTime() - c.notBefore.getTime(), 10 * 60 * 1000);
  assert.equal(c.notBefore.toISOString(), '2024-03-19T17:26:26.000Z');
  assert.deepEqual(c.subjectAltNames, [
    {
      type: 'uri',
      value:
        'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
    },
  ]);
  assert.equal(c.keyUsage?.critical, true);
  assert.equal(c.keyUsage?.digitalSignature, true);
  assert.equal(c.keyUsage?.keyCertSign, false);
  assert.deepEqual(c.extendedKeyUsage, [OID.codeSigning]);
  assert.equal(extensionOf(c, OID.subjectAltName)?.critical, true);
  assert.equal(c.publicKey.asymmetricKeyType, 'ec');
  assert.equal(c.signatureAlgorithm, '1.2.840.10045.4.3.3');
  // The TBS bytes are a prefix-exact slice of the DER.
  assert.ok(Buffer.from(c.der).includes(Buffer.from(c.tbs)));
  assert.equal(c.basicConstraints, undefined);
});

test('issuer SKI matches leaf AKI and the issuer signed the exact TBS', () => {
  const f = loadFixture('happy-path-v0.3');
  const ica = issuerOf(f);
  assert.equal(ica.subject, 'CN=sigstore-intermediate, O=sigstore.dev');
  assert.equal(ica.basicConstraints?.ca, true);
  assert.equal(ica.basicConstraints?.pathLength, 0);
  assert.equal(ica.keyUsage?.keyCertSign, true);
  assert.deepEqual(ica.extendedKeyUsage, [OID.codeSigning]);
  assert.equal(verifyCertificateSignature(f.leaf, ica.publicKey), true);
  // Any other key fails, and so does a flipped bit in the signed bytes.
  const aki = Buffer.from(ica.authorityKeyIdentifier!);
  const root = f.cas.find((c) => aki.equals(c.subjectKeyIdentifier ?? new Uint8Array()))!;
  assert.equal(root.subject, 'CN=sigstore, O=sigstore.dev');
  assert.equal(verifyCertificateSignature(f.leaf, root.publicKey), false);
  assert.equal(verifyCertificateSignature(ica, root.publicKey), true);
  const tampered = new Uint8Array(f.leaf.der);
  const at = Buffer.from(tampered).indexOf(Buffer.from('sigstore-conformance'));
  tampered[at] ^= 1;
  assert.equal(verifyCertificateSignature(parseCertificate(tampered), ica.publicKey), false);
});

test('PEM round trip reads several certificates in order', () => {
  const f = loadFixture('happy-path-v0.3');
  const pem = encodePem('CERTIFICATE', f.leaf.der) + encodePem('CERTIFICATE', issuerOf(f).der);
  const certs = parseCertificatesPem(pem);
  assert.equal(certs.length, 2);
  assert.equal(certs[1]!.subject, 'CN=sigstore-intermediate, O=sigstore.dev');
  assert.throws(
    () => parseCertificatesPem(encodePem('PUBLIC KEY', f.leaf.spki)),
    /certificates\[0\].*not a CERTIFICATE/,
  );
});

test('malformed certificates are errors that name the field', () => {
  const f = loadFixture('happy-path-v0.3');
  const bad: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array([0x30, 0x03, 0x02, 0x01]), /truncated|past the end/],
    [new Uint8Array([...f.leaf.der, 0]), /trailing data/],
    [new Uint8Array([0x04, 0x00]), /not a DER certificate/],
    [f.leaf.der.subarray(0, 500), /past the end|truncated/],
  ];
  for (const [der, re] of bad) {
    assert.throws(
      () => parseCertificate(der, 'chain[0]'),
      (e: unknown) =>
        e instanceof SignetError && /^chain\[0\]/.test(e.message) && re.test(e.message),
    );
  }
});
