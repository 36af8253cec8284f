import assert from 'node:assert/strict';
import { X509Certificate as NodeX509, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import {
  embeddedScts,
  logIdOf,
  precertTbs,
  signSct,
  verifyEmbeddedScts,
  issuerKeyHash,
} from '../../../src/core/ct/sct.ts';
import { encodeTbs, keyUsageValue, randomSerial } from '../../../src/core/x509/build.ts';
import { extensionOf, OID, parseCertificate } from '../../../src/core/x509/certificate.ts';
import { fulcioExtensions, fulcioOid } from '../../../src/core/x509/fulcio-extensions.ts';
import {
  buildCaCertificate,
  buildFinalCertificate,
  buildPrecertificate,
  leafTbsSpec,
  type IssuingCa,
} from '../../../src/core/x509/fulcio-profile.ts';
import { removeExtensionForTest } from './remove-extension.ts';

function spkiOf(k: KeyObject): Uint8Array {
  return new Uint8Array(k.export({ format: 'der', type: 'spki' }));
}

function makeCa(): { root: IssuingCa; ica: IssuingCa } {
  const rk = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ik = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const now = new Date();
  const later = new Date(now.getTime() + 10 * 365 * 86400_000);
  const rootDer = buildCaCertificate({
    organization: 'signet.test',
    commonName: 'signet-root',
    publicKeySpki: spkiOf(rk.publicKey),
    notBefore: now,
    notAfter: later,
    selfKey: rk.privateKey,
  });
  const root = { certificate: parseCertificate(rootDer), key: rk.privateKey };
  const icaDer = buildCaCertificate({
    organization: 'signet.test',
    commonName: 'signet-intermediate',
    publicKeySpki: spkiOf(ik.publicKey),
    notBefore: now,
    notAfter: later,
    issuer: root,
  });
  return { root, ica: { certificate: parseCertificate(icaDer), key: ik.privateKey } };
}

const { root, ica } = makeCa();

test('root and intermediate follow Fulcio certificate-specification.md', () => {
  const r = root.certificate;
  const i = ica.certificate;
  assert.equal(r.subject, 'CN=signet-root, O=signet.test');
  assert.equal(r.issuer, r.subject);
  assert.deepEqual(r.basicConstraints, { ca: true, pathLength: 1, critical: true });
  assert.equal(r.keyUsage?.keyCertSign && r.keyUsage.cRLSign && r.keyUsage.critical, true);
  assert.equal(r.keyUsage?.digitalSignature, false);
  assert.equal(r.extendedKeyUsage, undefined);
  assert.equal(i.issuer, 'CN=signet-root, O=signet.test');
  assert.deepEqual(i.basicConstraints, { ca: true, pathLength: 0, critical: true });
  assert.deepEqual(i.extendedKeyUsage, [OID.codeSigning]);
  assert.deepEqual(i.authorityKeyIdentifier, r.subjectKeyIdentifier);
  assert.equal(i.signatureAlgorithm, '1.2.840.10045.4.3.3'); // ecdsa-with-SHA384 like public good
  // OpenSSL (through node:crypto) agrees on the chain.
  const nr = new NodeX509(r.der);
  const ni = new NodeX509(i.der);
  assert.equal(nr.verify(nr.publicKey), true);
  assert.equal(ni.verify(nr.publicKey), true);
  assert.equal(ni.checkIssued(nr), true);
  assert.equal(ni.ca, true);
});

const principalExt = {
  1: 'https://issuer.example',
  8: 'https://issuer.example',
  9: 'https://github.com/o/r/.github/workflows/w.yml@refs/heads/main',
  2: 'push',
  24: 'repo:o/r:ref:refs/heads/main',
};

test('leaf profile: validity, serial, empty subject, critical SAN, KU, EKU, SKI/AKI, Fulcio extensions in order', () => {
  const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spec = leafTbsSpec(ica, {
    spki: spkiOf(leafKey.publicKey),
    san: { type: 'email', value: 'alice@example.com' },
    extensions: principalExt,
    notBefore: new Date('2026-01-02T03:04:05.678Z'),
  });
  const pre = parseCertificate(buildPrecertificate(ica, spec).der);
  assert.equal(pre.notBefore.toISOString(), '2026-01-02T03:04:05.000Z');
  assert.equal(pre.notAfter.getTime() - pre.notBefore.getTime(), 600_000);
  assert.ok(
    pre.serialNumber.length <= 20 && pre.serialNumber[0]! < 0x80 && pre.serialNumber[0]! > 0,
  );
  assert.equal(pre.subject, '');
  assert.equal(pre.issuer, 'CN=signet-intermediate, O=signet.test');
  assert.deepEqual(
    pre.extensions.map((e) => `${e.oid}${e.critical ? '!' : ''}`),
    [
      '2.5.29.15!',
      '2.5.29.37',
      '2.5.29.14',
      '2.5.29.35',
      '2.5.29.17!',
      fulcioOid(1),
      fulcioOid(2),
      fulcioOid(8),
      fulcioOid(9),
      fulcioOid(24),
      `${OID.ctPoison}!`,
    ],
  );
  assert.deepEqual([...extensionOf(pre, OID.ctPoison)!.value], [0x05, 0x00]);
  assert.deepEqual(pre.subjectAltNames, [{ type: 'email', value: 'alice@example.com' }]);
  assert.deepEqual(extensionOf(pre, OID.keyUsage)!.value, keyUsageValue(['digitalSignature']));
  assert.deepEqual([...keyUsageValue(['digitalSignature'])], [0x03, 0x02, 0x07, 0x80]);
  assert.equal(pre.keyUsage?.digitalSignature, true);
  assert.deepEqual(pre.extendedKeyUsage, [OID.codeSigning]);
  assert.deepEqual(pre.authorityKeyIdentifier, ica.certificate.subjectKeyIdentifier);
  assert.equal(pre.subjectKeyIdentifier?.length, 20);
  assert.deepEqual(fulcioExtensions(pre), principalExt);
  assert.deepEqual(
    extensionOf(pre, fulcioOid(1))!.value,
    new TextEncoder().encode('https://issuer.example'),
  );
  assert.equal(extensionOf(pre, fulcioOid(8))!.value[0], 0x0c);
  // OpenSSL reads it and agrees about the issuer and the SAN.
  const n = new NodeX509(pre.der);
  assert.equal(n.verify(ica.certificate.publicKey), true);
  assert.equal(n.subjectAltName, 'email:alice@example.com');
  assert.equal(n.publicKey.equals(leafKey.publicKey), true);
});

test('each SAN type is encoded as Fulcio does (URI, OtherName 57264.1.7 for usernames)', () => {
  const spki = spkiOf(generateKeyPairSync('ed25519').publicKey);
  const uri = parseCertificate(
    buildPrecertificate(
      ica,
      leafTbsSpec(ica, {
        spki,
        san: { type: 'uri', value: 'spiffe://td/x' },
        extensions: principalExt,
      }),
    ).der,
  );
  assert.deepEqual(uri.subjectAltNames, [{ type: 'uri', value: 'spiffe://td/x' }]);
  const user = parseCertificate(
    buildPrecertificate(
      ica,
      leafTbsSpec(ica, {
        spki,
        san: { type: 'username', value: 'bob!example.com' },
        extensions: principalExt,
      }),
    ).der,
  );
  assert.deepEqual(user.subjectAltNames, [
    { type: 'otherName', typeId: OID.fulcioUsername, value: 'bob!example.com' },
  ]);
  assert.equal(extensionOf(user, OID.subjectAltName)!.critical, true);
  assert.throws(
    () =>
      leafTbsSpec(ica, { spki, san: { type: 'email', value: 'ä@x' }, extensions: principalExt }),
    /san: .*not printable ASCII/,
  );
  assert.throws(
    () => leafTbsSpec(ica, { spki, san: { type: 'email', value: 'a@x' }, extensions: { 8: 'x' } }),
    /issuer extensions/,
  );
});

test('final certificate = precert TBS with the SCT list in the poison slot; its SCT verifies', () => {
  const ctKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const logId = logIdOf(spkiOf(ctKey.publicKey));
  const spec = leafTbsSpec(ica, {
    spki: spkiOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
    san: { type: 'email', value: 'alice@example.com' },
    extensions: principalExt,
    serial: randomSerial(),
  });
  const pre = parseCertificate(buildPrecertificate(ica, spec).der);
  // What the CT log signs: the precert TBS without the poison (RFC 6962 §3.2).
  const signedTbs = removeExtensionForTest(pre.tbs, OID.ctPoison);
  assert.deepEqual(signedTbs, encodeTbs(spec));
  const sct = signSct(ctKey.privateKey, logId, Date.now(), {
    type: 'precert',
    issuerKeyHash: issuerKeyHash(ica.certificate.spki),
    tbs: signedTbs,
  });
  const final = parseCertificate(buildFinalCertificate(ica, spec, [sct]));
  assert.deepEqual(precertTbs(final), signedTbs);
  assert.equal(final.extensions.at(-1)!.oid, OID.sctList);
  assert.equal(final.extensions.at(-1)!.critical, false);
  assert.deepEqual(final.serialNumber, pre.serialNumber);
  assert.deepEqual(embeddedScts(final), [sct]);
  const ok = verifyEmbeddedScts(final, ica.certificate.spki, [
    { logId, publicKey: ctKey.publicKey },
  ]);
  assert.equal(ok[0]!.verified, true);
  // With the root's key hash (the wrong issuer) it does not verify.
  const bad = verifyEmbeddedScts(final, root.certificate.spki, [
    { logId, publicKey: ctKey.publicKey },
  ]);
  assert.equal(bad[0]!.verified, false);
  assert.equal(new NodeX509(final.der).verify(ica.certificate.publicKey), true);
});
