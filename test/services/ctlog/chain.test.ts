import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import {
  buildCaCertificate,
  buildPlainCertificate,
  buildPrecertificate,
  leafTbsSpec,
  type IssuingCa,
} from '../../../src/core/x509/fulcio-profile.ts';
import { acceptChain } from '../../../src/services/ctlog/chain.ts';
import { signTreeHead, verifyTreeHead } from '../../../src/core/ct/sth.ts';

const spki = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }));

function ca(name: string, issuer?: IssuingCa): IssuingCa {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const der = buildCaCertificate({
    organization: name,
    commonName: name,
    publicKeySpki: spki(kp.publicKey),
    notBefore: now,
    notAfter: new Date(now.getTime() + 86400_000),
    ...(issuer ? { issuer } : { selfKey: kp.privateKey }),
  });
  return { certificate: parseCertificate(der), key: kp.privateKey };
}

const root = ca('root');
const ica = ca('ica', root);
const otherRoot = ca('other');
const spec = leafTbsSpec(ica, {
  spki: spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
  san: { type: 'email', value: 'a@b.c' },
  extensions: { 1: 'https://i', 8: 'https://i' },
});
const pre = buildPrecertificate(ica, spec).der;
const plain = buildPlainCertificate(ica, spec);

test('a chain ending in an accepted root is accepted, with or without the root', () => {
  const full = acceptChain(
    [pre, ica.certificate.der, root.certificate.der],
    [root.certificate],
    true,
  );
  assert.deepEqual(full.issuer.der, ica.certificate.der);
  assert.deepEqual(full.rest, [ica.certificate.der, root.certificate.der]);
  const noRoot = acceptChain([pre, ica.certificate.der], [root.certificate], true);
  assert.deepEqual(noRoot.rest, [ica.certificate.der, root.certificate.der]);
  const x509 = acceptChain(
    [plain, ica.certificate.der],
    [otherRoot.certificate, root.certificate],
    false,
  );
  assert.deepEqual(x509.certs[0]!.der, plain);
});

test('chains that must be refused, each with the reason', () => {
  const r = [root.certificate];
  const cases: Array<[Uint8Array[], boolean, RegExp]> = [
    [[], true, /chain: is empty/],
    [
      [pre, ica.certificate.der],
      false,
      /chain\[0\]: is a precertificate: submit it with add-pre-chain/,
    ],
    [[plain, ica.certificate.der], true, /chain\[0\]: is not a precertificate/],
    [
      [pre, root.certificate.der],
      true,
      /chain\[0\]: its signature does not verify with the key of chain\[1\]/,
    ],
    [
      [pre, ica.certificate.der, otherRoot.certificate.der],
      true,
      /chain\[1\]: its signature does not verify/,
    ],
    [[plain, plain], false, /chain\[1\]: is not a CA certificate/],
    [[root.certificate.der], false, /chain\[0\]: is an accepted root itself/],
    [[new Uint8Array([1, 2, 3])], false, /chain\[0\]/],
  ];
  for (const [chain, precert, re] of cases) assert.throws(() => acceptChain(chain, r, precert), re);
  assert.throws(
    () => acceptChain([pre, ica.certificate.der], [otherRoot.certificate], true),
    /chain\[1\]: is not issued by a root this log accepts \(issuer "CN=root, O=root"\)/,
  );
});

test('signed tree heads verify and a changed field does not', () => {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const sth = signTreeHead(kp.privateKey, 42, 1700000000000, new Uint8Array(32).fill(9));
  assert.equal(verifyTreeHead(kp.publicKey, sth), true);
  assert.equal(verifyTreeHead(kp.publicKey, { ...sth, treeSize: 43 }), false);
  assert.equal(verifyTreeHead(kp.publicKey, { ...sth, timestamp: 1 }), false);
  assert.equal(
    verifyTreeHead(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, sth),
    false,
  );
  assert.equal(
    verifyTreeHead(kp.publicKey, { ...sth, treeHeadSignature: new Uint8Array([4, 3, 0]) }),
    false,
  );
});
