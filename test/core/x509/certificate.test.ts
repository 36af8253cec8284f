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
import { fulcioExtensions } from '../../../src/core/x509/fulcio-extensions.ts';
import { identityView } from '../../../src/core/x509/identity-view.ts';
import { craftCertificate, ownCa } from '../../helpers/crafted-entries.ts';
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

/** The leaf with the first occurrence of `from` replaced by `to` (same length). */
function patched(der: Uint8Array, from: number[], to: number[]): Uint8Array {
  const at = Buffer.from(der).indexOf(Buffer.from(from));
  assert.ok(at > 0, 'pattern present');
  const out = new Uint8Array(der);
  out.set(to, at);
  return out;
}

test('the DER reader refuses what RFC 5280 / X.690 forbid, naming the field', () => {
  const der = loadFixture('happy-path-v0.3').leaf.der;
  // notBefore is UTCTime "240319172626Z": month 13 does not exist
  const badMonth = patched(
    der,
    [0x17, 0x0d, 0x32, 0x34, 0x30, 0x33],
    [0x17, 0x0d, 0x32, 0x34, 0x31, 0x33],
  );
  assert.throws(
    () => parseCertificate(badMonth, 'c'),
    /c\.validity\.notBefore: is not a valid date/,
  );
  // a time with an offset instead of Z
  const s = Buffer.from(der).indexOf(Buffer.from([0x17, 0x0d, 0x32, 0x34, 0x30, 0x33]));
  const offset = new Uint8Array(der);
  offset[s + 2 + 12] = 0x2b; // 'Z' -> '+'
  assert.throws(() => parseCertificate(offset, 'c'), /c\.validity\.notBefore: is not a DER time/);
  // the critical flag of the key usage extension must be DER TRUE (0xff), not 0x01
  const ku = patched(
    der,
    [0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff],
    [0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0x01],
  );
  assert.throws(
    () => parseCertificate(ku, 'c'),
    /c\.extensions\[0\]: critical is not a DER BOOLEAN/,
  );
  // a version outside v1..v3
  const v = patched(der, [0xa0, 0x03, 0x02, 0x01, 0x02], [0xa0, 0x03, 0x02, 0x01, 0x07]);
  assert.throws(() => parseCertificate(v, 'c'), /c\.version: is not v1, v2 or v3/);
});

test('UTCTime years 50-99 are 19xx, 00-49 are 20xx (RFC 5280 §4.1.2.5.1)', async () => {
  const { decodeTime } = await import('../../../src/core/encoding/der.ts');
  const time = (tag: number, s: string) => {
    const b = new Uint8Array([tag, s.length, ...Buffer.from(s, 'latin1')]);
    return decodeTime(b, { tag, start: 0, contentStart: 2, end: b.length }, 't').toISOString();
  };
  assert.equal(time(0x17, '500101000000Z'), '1950-01-01T00:00:00.000Z');
  assert.equal(time(0x17, '491231235959Z'), '2049-12-31T23:59:59.000Z');
  assert.equal(time(0x18, '20240229120000.5Z'), '2024-02-29T12:00:00.500Z');
  assert.throws(() => time(0x18, '20230229120000Z'), /t: is not a valid date/);
  assert.throws(() => time(0x18, '20240229120000.50Z'), /t: is not a DER time/);
  assert.throws(() => time(0x04, '20240229120000Z'), /t: expected a UTCTime or GeneralizedTime/);
});

test('parseCertificateOnce parses once per exact content; parseCertificate always parses', async () => {
  const { parseCertificateOnce } = await import('../../../src/core/x509/certificate.ts');
  const der = issuerOf(loadFixture('happy-path-v0.3')).der;
  const a = parseCertificateOnce(der);
  assert.equal(parseCertificateOnce(new Uint8Array(der)), a);
  assert.notEqual(parseCertificate(der), parseCertificate(der));
  assert.equal(a.subject, 'CN=sigstore-intermediate, O=sigstore.dev');
});

test('names are read as the certificate has them: a leading U+FEFF is part of the name', () => {
  const bom = '\ufeff';
  const c = parseCertificatesPem(
    craftCertificate(ownCa(), {
      username: `${bom}alice`,
      extensions: { 1: `${bom}https://issuer.example`, 8: `${bom}https://issuer.example` },
    }).pem,
  )[0]!;
  assert.equal(c.subjectAltNames[0]!.value, `${bom}alice`);
  assert.equal(identityView(c.der, 'certificate').sans[0]!.value, `${bom}alice`);
  assert.equal(fulcioExtensions(c)[1], `${bom}https://issuer.example`);
  assert.equal(fulcioExtensions(c)[8], `${bom}https://issuer.example`);
});
