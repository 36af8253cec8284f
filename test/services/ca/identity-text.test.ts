import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { parseCertificatesPem } from '../../../src/core/x509/certificate.ts';
import { fulcioExtensions } from '../../../src/core/x509/fulcio-extensions.ts';
import { identityView } from '../../../src/core/x509/identity-view.ts';
import { keyRequest, proofBy, startCa, type Harness } from './harness.ts';

/**
 * The CA names in a certificate only text an identity can be: a token whose identity or
 * extension values hold a control character (a NUL first of all) or a lone surrogate (JSON can
 * spell one) is refused, saying which value and why, and nothing is issued. What is printable
 * is issued exactly as the token says, a leading U+FEFF included, and read back so.
 */

let h: Harness;
before(async () => {
  h = await startCa({ ctlog: { batchMaxAgeMs: 1 } });
});
after(async () => {
  await h?.close();
});

type Flavor = Parameters<Harness['token']>[0];

async function request(flavor: Flavor, claims: Record<string, unknown>, challenge: string) {
  const token = await h.token(flavor, undefined, { claims });
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return h.post(keyRequest(kp.publicKey, proofBy(kp.privateKey, challenge), token));
}

test('a token naming a control character or a lone surrogate gets no certificate', async () => {
  const cases: Array<[Flavor, Record<string, unknown>, string, RegExp]> = [
    ['email', { email: 'de\0v@signet.local' }, 'de\0v@signet.local', /email identity .*U\+0000/],
    ['username', { sub: 'de\0v' }, 'de\0v', /username identity .*U\+0000/],
    ['username', { sub: 'de\u007fv' }, 'de\u007fv', /username identity .*U\+007F/],
    ['username', { sub: 'de\u0085v' }, 'de\u0085v', /username identity .*U\+0085/],
    ['username', { sub: 'de\ud800v' }, 'de\ud800v', /username identity .*not Unicode text/],
    ['uri', { sub: 'http://127.0.0.1/\0' }, 'http://127.0.0.1/\0', /uri identity .*U\+0000/],
    [
      'github',
      { repository: 'signet-dev/demo\0' },
      '',
      /extension 1\.3\.6\.1\.4\.1\.57264\.1\.5 \(githubWorkflowRepository\) .*U\+0000/,
    ],
  ];
  for (const [flavor, claims, challenge, message] of cases) {
    const token = await h.token(flavor, undefined, { claims });
    const sub = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      sub: string;
    };
    const res = await request(flavor, claims, challenge || sub.sub);
    assert.equal(
      res.status,
      401,
      `${flavor} ${JSON.stringify(claims)}: ${JSON.stringify(res.json)}`,
    );
    assert.match(String(res.json['message']), message);
  }
});

test('a printable identity is issued exactly, a leading byte order mark included', async () => {
  const res = await request('username', { sub: '\ufeffdev' }, '\ufeffdev');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const s = res.json['signedCertificateEmbeddedSct'] as { chain: { certificates: string[] } };
  const leaf = parseCertificatesPem(s.chain.certificates[0]!)[0]!;
  const host = new URL(h.url).hostname;
  assert.equal(leaf.subjectAltNames[0]!.value, `\ufeffdev!${host}`);
  assert.equal(identityView(leaf.der, 'certificate').sans[0]!.value, `\ufeffdev!${host}`);
  assert.equal(fulcioExtensions(leaf)[24], '\ufeffdev');
});
