import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { test } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AlgorithmIdentifier, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { parseAndVerifyCsr } from '../../../src/core/x509/csr.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';

function csr(
  pub: KeyObject,
  priv: KeyObject,
  algOid: string,
  hash: string | null,
  withNull = false,
): Uint8Array {
  const info = new CertificationRequestInfo({
    version: 0,
    subject: new Name(),
    subjectPKInfo: AsnConvert.parse(
      pub.export({ format: 'der', type: 'spki' }),
      SubjectPublicKeyInfo,
    ),
  });
  const sig = sign(hash, Buffer.from(AsnConvert.serialize(info)), priv);
  const alg = new AlgorithmIdentifier({ algorithm: algOid });
  if (withNull) alg.parameters = null;
  return new Uint8Array(
    AsnConvert.serialize(
      new CertificationRequest({
        certificationRequestInfo: info,
        signatureAlgorithm: alg,
        signature: new Uint8Array(sig).buffer,
      }),
    ),
  );
}

test('CSRs signed with each supported algorithm verify, as DER or PEM', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cases: Array<[KeyObject, Uint8Array]> = [
    [ec.publicKey, csr(ec.publicKey, ec.privateKey, '1.2.840.10045.4.3.3', 'sha384')],
    [ed.publicKey, csr(ed.publicKey, ed.privateKey, '1.3.101.112', null)],
    [rsa.publicKey, csr(rsa.publicKey, rsa.privateKey, '1.2.840.113549.1.1.11', 'sha256', true)],
  ];
  for (const [pub, der] of cases) {
    assert.equal(parseAndVerifyCsr(der, 'csr').publicKey.equals(pub), true);
    const pem = new TextEncoder().encode(encodePem('CERTIFICATE REQUEST', der));
    assert.deepEqual(
      parseAndVerifyCsr(pem, 'csr').spki,
      new Uint8Array(pub.export({ format: 'der', type: 'spki' })),
    );
  }
});

test('bad CSRs are refused with the reason', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Signed by another key than the one inside.
  assert.throws(
    () =>
      parseAndVerifyCsr(
        csr(ec.publicKey, other.privateKey, '1.2.840.10045.4.3.2', 'sha256'),
        'csr',
      ),
    /csr: the CSR self-signature does not verify/,
  );
  // Signed with SHA-384 but labelled SHA-256.
  assert.throws(
    () =>
      parseAndVerifyCsr(csr(ec.publicKey, ec.privateKey, '1.2.840.10045.4.3.2', 'sha384'), 'csr'),
    /self-signature does not verify/,
  );
  // An algorithm that does not fit the key.
  assert.throws(
    () => parseAndVerifyCsr(csr(ec.publicKey, ec.privateKey, '1.3.101.112', null), 'csr'),
    /does not match its ec key/,
  );
  // SHA-1 is not accepted.
  assert.throws(
    () => parseAndVerifyCsr(csr(ec.publicKey, ec.privateKey, '1.2.840.10045.4.1', 'sha1'), 'csr'),
    /signature algorithm 1.2.840.10045.4.1 is not supported/,
  );
  const good = csr(ec.publicKey, ec.privateKey, '1.2.840.10045.4.3.2', 'sha256');
  assert.throws(
    () => parseAndVerifyCsr(new Uint8Array([...good, 0]), 'csr'),
    /csr: is not a DER certificate signing request/,
  );
  assert.throws(
    () => parseAndVerifyCsr(new TextEncoder().encode(encodePem('CERTIFICATE', good)), 'csr'),
    /not a CERTIFICATE REQUEST/,
  );
  assert.throws(
    () => parseAndVerifyCsr(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), 'csr'),
    /csr: is not a PKCS#10/,
  );
});
