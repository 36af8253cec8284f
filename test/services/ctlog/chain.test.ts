import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { acceptChain } from '../../../src/services/ctlog/chain.ts';
import { signTreeHead, verifyTreeHead } from '../../../src/core/ct/sth.ts';
import { ca, leaf } from './fixtures.ts';

const root = ca('root');
const ica = ca('ica', root);
const otherRoot = ca('other');
const { pre, plain } = leaf(ica, 'a@b.c');

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
