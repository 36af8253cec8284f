/**
 * Rekor v1 entry kinds older clients wrote, which a public log holds many of and rekor-monitor
 * matches: rekord (cosign sign-blob before hashedrekord) with an X.509 certificate, and intoto
 * 0.0.1 (cosign attest). Bodies in Rekor's canonical form, with real certificates.
 */
import { ownCa } from '../../helpers/crafted-entries.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { parseMonitorConfig } from '../../../src/client/monitor/config.ts';
import { IdentityMatcher, rekorEntryFacts } from '../../../src/client/monitor/match.ts';
import { buildPlainCertificate, leafTbsSpec } from '../../../src/core/x509/fulcio-profile.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';

const ca = ownCa({ organization: 'signet.test', commonName: 'test root' });
const spki = new Uint8Array(
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    format: 'der',
    type: 'spki',
  }),
);
const der = buildPlainCertificate(
  ca,
  leafTbsSpec(ca, {
    spki,
    san: { type: 'email', value: 'dev@example.com' },
    extensions: { 1: 'https://issuer.test', 8: 'https://issuer.test' },
  }),
);
const pem64 = Buffer.from(encodePem('CERTIFICATE', der)).toString('base64');
const hash = { algorithm: 'sha256', value: '07'.repeat(32) };
const body = (o: unknown) => Buffer.from(JSON.stringify(o));

const rekord = (format: string) =>
  body({
    apiVersion: '0.0.1',
    kind: 'rekord',
    spec: {
      data: { hash },
      signature: { content: 'AAAA', format, publicKey: { content: pem64 } },
    },
  });
const intoto1 = body({
  apiVersion: '0.0.1',
  kind: 'intoto',
  spec: {
    content: { hash: { algorithm: 'sha256', value: '08'.repeat(32) }, payloadHash: hash },
    publicKey: pem64,
  },
});

test('rekord (x509) and intoto 0.0.1 entries are matched', () => {
  const m = new IdentityMatcher(
    parseMonitorConfig(
      'monitoredValues:\n  certIdentities:\n    - certSubject: dev@example\\.com\n      issuers: [https://issuer\\.test]\n',
    ),
  );
  for (const [leaf, kind] of [
    [rekord('x509'), 'rekord/0.0.1'],
    [intoto1, 'intoto/0.0.1'],
  ] as const) {
    const found = m.match(rekorEntryFacts(leaf));
    assert.ok(found, kind);
    assert.equal(found.kind, kind);
    assert.equal(found.identity, 'dev@example.com');
    assert.equal(found.issuer, 'https://issuer.test');
    assert.equal(found.digest, `sha256:${hash.value}`);
  }
  // PGP, SSH and minisign keys name no certificate identity: unreadable, said by the format.
  assert.throws(
    () => rekorEntryFacts(rekord('pgp')),
    /spec\.signature\.format: pgp keys are not read \(only x509\)/,
  );
});
