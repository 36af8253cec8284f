import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { tempStack } from '../../helpers/stack.ts';
import { keyRequest, proofBy } from './harness.ts';

test('signet up serves the CA at /fulcio with SCTs from /ctlog, and both contribute trust', async () => {
  const stack = await tempStack();
  try {
    const oidc = stack.services.oidc!;
    const p = oidc.provider;
    const token = await p.mint(
      p.issuer('email'),
      p.findIdentity('email', 'dev@signet.local'),
      'sigstore',
    );
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const res = await fetch(`${stack.url}/fulcio/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(keyRequest(kp.publicKey, proofBy(kp.privateKey, 'dev@signet.local'))),
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.ok(json['signedCertificateEmbeddedSct']);
    const ca = (await stack.services.ca!.trust!()) as {
      certificateAuthorities: Array<{
        uri: string;
        subject: unknown;
        certChain: { certificates: unknown[] };
      }>;
    };
    assert.equal(ca.certificateAuthorities[0]!.uri, `${stack.url}/fulcio`);
    assert.deepEqual(ca.certificateAuthorities[0]!.subject, {
      organization: 'signet',
      commonName: 'signet',
    });
    assert.equal(ca.certificateAuthorities[0]!.certChain.certificates.length, 2);
    const ct = (await stack.services.ctlog!.trust!()) as {
      ctlogs: Array<{ baseUrl: string }>;
    };
    assert.equal(ct.ctlogs[0]!.baseUrl, `${stack.url}/ctlog`);
    const sc = (await stack.services.ca!.signingConfig!()) as {
      caUrls: Array<{ url: string }>;
    };
    assert.equal(sc.caUrls[0]!.url, `${stack.url}/fulcio`);
  } finally {
    await stack.close();
  }
});
