// Certificates Signet issues are the same bytes for the same inputs: a guard for changes to the
// encoders under them (here KeyUsage, now written by core's named-bit BIT STRING writer). Keys
// are Ed25519 from fixed seeds (its signatures are deterministic), times and serials fixed;
// the hashes were taken from the encoders before that change.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { keyUsageValue, type KeyUsageName } from '../../../src/core/x509/build.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import {
  buildPlainCertificate,
  buildPrecertificate,
  leafTbsSpec,
} from '../../../src/core/x509/fulcio-profile.ts';
import { issueCertificate } from '../../../src/services/tsa/certificates.ts';

/** An Ed25519 key from a fixed seed (PKCS#8: the RFC 8410 prefix, then the 32 seed bytes). */
function ed25519(seed: number): KeyObject {
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({
    key: Buffer.concat([prefix, Buffer.alloc(32, seed)]),
    format: 'der',
    type: 'pkcs8',
  });
}
const spki = (k: KeyObject) =>
  new Uint8Array(createPublicKey(k).export({ format: 'der', type: 'spki' }));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const root = ed25519(1);
const tsaKey = ed25519(2);
const leafKey = ed25519(3);
const notBefore = new Date('2026-01-02T03:04:05Z');
const notAfter = new Date('2036-01-02T03:04:05Z');

test('TSA root and leaf certificates: the same bytes as before', () => {
  const common = {
    issuer: { organization: 'signet', commonName: 'signet-tsa-root' },
    issuerKey: root,
    notBefore,
    notAfter,
  };
  const rootDer = issueCertificate({
    ...common,
    subject: common.issuer,
    subjectKey: root,
    ca: true,
    serial: Uint8Array.of(1),
  });
  const leafDer = issueCertificate({
    ...common,
    subject: { organization: 'signet', commonName: 'signet-tsa-1' },
    subjectKey: tsaKey,
    ca: false,
    serial: Uint8Array.of(2),
  });
  assert.equal(sha256(rootDer), '94b9ed2e415f7614c0909de4d7073fe4e32a243d11d68ecb738c1578149aceaa');
  assert.equal(sha256(leafDer), '2d0bbf2a5a7beac008b82f7ab38269599fb056976ef622b8a88e00ea4bf10606');
});

test('Fulcio-profile leaf and precertificate: the same bytes as before', () => {
  const rootDer = issueCertificate({
    issuer: { organization: 'signet', commonName: 'signet-ca' },
    subject: { organization: 'signet', commonName: 'signet-ca' },
    issuerKey: root,
    subjectKey: root,
    notBefore,
    notAfter,
    ca: true,
    serial: Uint8Array.of(3),
  });
  const ca = { certificate: parseCertificate(rootDer), key: root };
  const spec = leafTbsSpec(ca, {
    spki: spki(leafKey),
    san: { type: 'email', value: 'dev@signet.local' },
    extensions: { 1: 'https://issuer.signet.test', 8: 'https://issuer.signet.test' },
    notBefore,
    serial: Uint8Array.of(4, 5, 6),
  });
  assert.equal(
    sha256(buildPlainCertificate(ca, spec)),
    'ba70258865008f74204f7bcac96680ff4e90c98745a300d0d52cb75fd3ba187f',
  );
  assert.equal(
    sha256(buildPrecertificate(ca, spec).der),
    '6f19c2301a06e6790325f168633e8552490cf01e241102bcfc5a1bb101037265',
  );
});

test('KeyUsage: every set of the usages Signet issues, as the encoder it replaced wrote it', () => {
  const bit: Record<KeyUsageName, number> = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 };
  const names = Object.keys(bit) as KeyUsageName[];
  for (let m = 1; m < 1 << names.length; m++) {
    const usages = names.filter((_, i) => m & (1 << i));
    // the replaced encoder: one byte of bits, the unused count the trailing zeros
    let bits = 0;
    for (const u of usages) bits |= 0x80 >> bit[u];
    let unused = 0;
    while (!(bits & (1 << unused))) unused++;
    assert.deepEqual([...keyUsageValue(usages)], [0x03, 0x02, unused, bits], usages.join());
  }
});
