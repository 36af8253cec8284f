import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { stackToken, tempStack } from '../../../helpers/stack.ts';
import { createIdentityVerifier } from '../../../../src/services/ca/identity/verifier.ts';
import { defaultCaIssuerConfig } from '../../../../src/services/oidc/ca-issuers.ts';
import type { Principal } from '../../../../src/services/ca/identity/types.ts';

// The whole path on one `signet up` stack: a token from the built-in provider (HTTP test grant)
// for each issuer flavor -> Fulcio v2 signingCert -> the certificate carries the SAN and the
// 1.3.6.1.4.1.57264.1.* extensions the verifier's Principal says, encoded as Fulcio does
// (.1-.6 raw UTF-8, .8+ DER UTF8String).

let stack: Awaited<ReturnType<typeof tempStack>>;
before(async () => {
  stack = await tempStack();
});
after(async () => stack.close());

async function tokenFor(flavorPath: string, subject: string): Promise<string> {
  return stackToken(stack.url, subject, flavorPath);
}

async function certificateFor(token: string, challenge: string): Promise<Certificate> {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = kp.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const proof = sign('sha256', Buffer.from(challenge), kp.privateKey).toString('base64');
  const r = await fetch(`${stack.url}/fulcio/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: pem },
        proofOfPossession: proof,
      },
    }),
  });
  const body = (await r.json()) as {
    signedCertificateEmbeddedSct?: { chain: { certificates: string[] } };
  };
  assert.equal(r.status, 200, JSON.stringify(body));
  const leaf = body.signedCertificateEmbeddedSct!.chain.certificates[0]!;
  const der = Buffer.from(leaf.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return AsnConvert.parse(der, Certificate);
}

const FULCIO = '1.3.6.1.4.1.57264.1.';

function utf8Der(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len =
    b.length < 0x80
      ? Buffer.from([b.length])
      : b.length < 0x100
        ? Buffer.from([0x81, b.length])
        : Buffer.from([0x82, b.length >> 8, b.length & 0xff]);
  return Buffer.concat([Buffer.from([0x0c]), len, b]);
}

function checkCertificate(cert: Certificate, p: Principal): void {
  const exts = cert.tbsCertificate.extensions!;
  const san = exts.find((e) => e.extnID === '2.5.29.17')!;
  assert.equal(san.critical, true, 'SAN is critical (empty subject)');
  const names = AsnConvert.parse(san.extnValue.buffer, SubjectAlternativeName);
  assert.equal(names.length, 1);
  const n = names[0]!;
  if (p.san.type === 'email') assert.equal(n.rfc822Name, p.san.value);
  else if (p.san.type === 'uri') assert.equal(n.uniformResourceIdentifier, p.san.value);
  else {
    assert.equal(n.otherName?.typeId, `${FULCIO}7`);
    assert.deepEqual(
      Buffer.from(n.otherName!.value).subarray(-p.san.value.length).toString(),
      p.san.value,
    );
  }
  const fulcio = new Map(
    exts
      .filter((e) => e.extnID.startsWith(FULCIO))
      .map((e) => [Number(e.extnID.slice(FULCIO.length)), Buffer.from(e.extnValue.buffer)]),
  );
  const expected = Object.entries(p.extensions).map(([k, v]) => [Number(k), v!] as const);
  assert.deepEqual(
    [...fulcio.keys()].sort((a, b) => a - b),
    expected.map(([k]) => k).sort((a, b) => a - b),
  );
  for (const [n, v] of expected) {
    const want = n <= 6 ? Buffer.from(v, 'utf8') : utf8Der(v);
    assert.deepEqual(fulcio.get(n), want, `extension .${n}`);
  }
}

const CASES: Array<[string, string, string]> = [
  ['email', '', 'dev@signet.local'],
  ['github', '/github', 'signet-dev/demo'],
  ['gitlab', '/gitlab', 'signet-dev/demo'],
  ['buildkite', '/buildkite', 'signet-dev/demo'],
  ['spiffe', '/spiffe', 'demo'],
  ['kubernetes', '/kubernetes/prod-eu', 'default/default'],
  ['uri', '/uri', 'dev'],
  ['username', '/username', 'dev'],
];

test('every built-in issuer flavor gets a certificate with its SAN and Fulcio extensions', async () => {
  const verifier = createIdentityVerifier(defaultCaIssuerConfig(stack.url));
  for (const [name, flavorPath, subject] of CASES) {
    const token = await tokenFor(flavorPath, subject);
    const principal = await verifier.verify(token);
    assert.ok(principal.extensions[8], name);
    const cert = await certificateFor(token, principal.challenge);
    checkCertificate(cert, principal);
  }
});

test('the CA refuses a token the verifier refuses, saying why', async () => {
  const token = await tokenFor('', 'dev@signet.local');
  const parts = token.split('.');
  const forged = `${parts[0]}.${parts[1]}.${Buffer.from('x'.repeat(64)).toString('base64url')}`;
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const r = await fetch(`${stack.url}/fulcio/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${forged}` },
    body: JSON.stringify({
      publicKeyRequest: {
        publicKey: {
          algorithm: 'ECDSA',
          content: kp.publicKey.export({ format: 'pem', type: 'spki' }),
        },
        proofOfPossession: sign('sha256', Buffer.from('dev@signet.local'), kp.privateKey).toString(
          'base64',
        ),
      },
    }),
  });
  assert.ok(r.status >= 400 && r.status < 500);
  assert.match(await r.text(), /signature does not verify/);
});
