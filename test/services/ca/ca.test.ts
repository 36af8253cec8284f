import assert from 'node:assert/strict';
import { X509Certificate as NodeX509, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { encodePem } from '../../../src/core/encoding/pem.ts';
import { after, before, test } from 'node:test';
import { parseCertificatesPem, OID } from '../../../src/core/x509/certificate.ts';
import { fulcioExtensions } from '../../../src/core/x509/fulcio-extensions.ts';
import { keyRequest, makeCsr, proofBy, startCa, type Harness } from './harness.ts';

let h: Harness;
before(async () => {
  h = await startCa();
});
after(async () => {
  await h?.close();
});

function offCurvePem(pub: KeyObject): string {
  const der = Buffer.from(pub.export({ format: 'der', type: 'spki' }));
  der[der.length - 1] ^= 1;
  return encodePem('PUBLIC KEY', der);
}

function chainOf(json: Record<string, unknown>): string[] {
  const s = (json['signedCertificateEmbeddedSct'] ?? json['signedCertificateDetachedSct']) as {
    chain: { certificates: string[] };
  };
  return s.chain.certificates;
}

test('public key + proof of possession over the email gives a Fulcio-shaped leaf', async () => {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = await h.token('email');
  const res = await h.post(
    keyRequest(kp.publicKey, proofBy(kp.privateKey, 'dev@signet.local'), token),
  );
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const pems = chainOf(res.json);
  assert.equal(pems.length, 3);
  const [leaf, ica, root] = pems.map((p) => parseCertificatesPem(p)[0]!);
  assert.deepEqual(leaf!.subjectAltNames, [{ type: 'email', value: 'dev@signet.local' }]);
  const x = fulcioExtensions(leaf!);
  assert.equal(x[1], `${h.url}/oidc`);
  assert.equal(x[8], `${h.url}/oidc`);
  assert.equal(leaf!.notAfter.getTime() - leaf!.notBefore.getTime(), 600_000);
  assert.deepEqual(leaf!.extendedKeyUsage, [OID.codeSigning]);
  assert.equal(new NodeX509(leaf!.der).publicKey.equals(kp.publicKey), true);
  assert.equal(new NodeX509(leaf!.der).verify(new NodeX509(ica!.der).publicKey), true);
  assert.equal(new NodeX509(ica!.der).verify(new NodeX509(root!.der).publicKey), true);
  assert.equal(ica!.subject, 'CN=signet-intermediate, O=signet');
});

test('the token can come as a bearer header; each key type Fulcio allows works', async () => {
  const token = await h.token('email');
  for (const kp of [
    generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    generateKeyPairSync('ed25519'),
    generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ]) {
    const res = await h.post(keyRequest(kp.publicKey, proofBy(kp.privateKey, 'dev@signet.local')), {
      authorization: `Bearer ${token}`,
    });
    assert.equal(res.status, 200, `${kp.publicKey.asymmetricKeyType}: ${JSON.stringify(res.json)}`);
    const leaf = new NodeX509(chainOf(res.json)[0]!);
    assert.equal(leaf.publicKey.equals(kp.publicKey), true);
    // And for each type, a proof over another challenge is refused.
    const bad = await h.post(keyRequest(kp.publicKey, proofBy(kp.privateKey, 'x@y.z'), token));
    assert.equal(bad.status, 400, kp.publicKey.asymmetricKeyType);
    assert.match(String(bad.json['message']), /proofOfPossession: is not a valid/);
  }
});

test('non-email identities sign the sub; SAN follows the issuer type', async () => {
  const flavors: Array<Parameters<Harness['token']>[0]> = [
    'github',
    'gitlab',
    'buildkite',
    'spiffe',
    'kubernetes',
    'uri',
    'username',
  ];
  for (const flavor of flavors) {
    const token = await h.token(flavor);
    const sub = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const res = await h.post(keyRequest(kp.publicKey, proofBy(kp.privateKey, sub), token));
    assert.equal(res.status, 200, `${flavor}: ${JSON.stringify(res.json)}`);
    const leaf = parseCertificatesPem(chainOf(res.json)[0]!)[0]!;
    assert.equal(fulcioExtensions(leaf)[24], sub, flavor);
    const san = leaf.subjectAltNames[0]!;
    if (flavor === 'username') {
      assert.equal(san.type, 'otherName');
      assert.equal(san.value, `${sub}!127.0.0.1`);
      assert.equal(san.typeId, OID.fulcioUsername);
    } else if (flavor === 'spiffe' || flavor === 'uri')
      assert.deepEqual(san, { type: 'uri', value: sub });
    else if (flavor === 'kubernetes')
      assert.deepEqual(san, {
        type: 'uri',
        value: 'https://kubernetes.io/namespaces/default/serviceaccounts/default',
      });
    else if (flavor === 'github') {
      assert.match(san.value, /^https:\/\/github\.com\/signet-dev\/demo\//);
      // GitHub certificates carry the deprecated .2-.6 and the .9-.22 build extensions.
      const arcs = Object.keys(fulcioExtensions(leaf)).map(Number);
      for (const arc of [2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22])
        assert.ok(arcs.includes(arc), `github: extension .${arc}`);
    } else {
      assert.equal(san.type, 'uri', flavor);
      assert.match(san.value, /^https:\/\//, flavor);
    }
    // The email of an email identity is not a valid challenge for them, and vice versa.
    const wrong = await h.post(
      keyRequest(kp.publicKey, proofBy(kp.privateKey, 'dev@signet.local'), token),
    );
    assert.equal(wrong.status, 400);
  }
});

test('a CSR with a valid self-signature is accepted (base64 of PEM, as cosign sends it)', async () => {
  const csr = makeCsr();
  const res = await h.post({
    credentials: { oidcIdentityToken: await h.token('email') },
    certificateSigningRequest: Buffer.from(csr.pem).toString('base64'),
  });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(new NodeX509(chainOf(res.json)[0]!).publicKey.equals(csr.publicKey), true);
});

test('bad requests fail with a 4xx naming the check, and issue nothing', async () => {
  const token = await h.token('email');
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const good = proofBy(kp.privateKey, 'dev@signet.local');
  const cases: Array<[string, unknown, Record<string, string>, number, RegExp]> = [
    [
      'wrong challenge',
      keyRequest(kp.publicKey, proofBy(kp.privateKey, 'someone@else'), token),
      {},
      400,
      /proofOfPossession: is not a valid PKIX_ECDSA_P256_SHA_256 signature.*"dev@signet.local"/,
    ],
    [
      'other key',
      keyRequest(kp.publicKey, proofBy(other.privateKey, 'dev@signet.local'), token),
      {},
      400,
      /proofOfPossession: is not a valid/,
    ],
    ['no proof', keyRequest(kp.publicKey, '', token), {}, 400, /proofOfPossession: is missing/],
    [
      'EC point off the curve',
      {
        credentials: { oidcIdentityToken: token },
        publicKeyRequest: {
          publicKey: { content: offCurvePem(kp.publicKey) },
          proofOfPossession: good,
        },
      },
      {},
      400,
      /publicKey.content: is not a SubjectPublicKeyInfo public key/,
    ],
    [
      'proof not base64',
      keyRequest(kp.publicKey, '!!', token),
      {},
      400,
      /proofOfPossession: is not valid base64/,
    ],
    ['missing token', keyRequest(kp.publicKey, good), {}, 401, /no identity token/],
    [
      'bad auth header',
      keyRequest(kp.publicKey, good),
      { authorization: 'Basic abc' },
      400,
      /Authorization: must be "Bearer/,
    ],
    [
      'both key and CSR',
      { ...keyRequest(kp.publicKey, good, token), certificateSigningRequest: 'AAAA' },
      {},
      400,
      /either publicKeyRequest or certificateSigningRequest, not both/,
    ],
    ['neither', { credentials: { oidcIdentityToken: token } }, {}, 400, /give a publicKeyRequest/],
    ['not JSON', '{nope', {}, 400, /not valid JSON/],
    [
      'key not PEM',
      {
        credentials: { oidcIdentityToken: token },
        publicKeyRequest: { publicKey: { content: 'hello' }, proofOfPossession: good },
      },
      {},
      400,
      /publicKey.content/,
    ],
    [
      'private key PEM',
      {
        credentials: { oidcIdentityToken: token },
        publicKeyRequest: {
          publicKey: { content: kp.privateKey.export({ format: 'pem', type: 'pkcs8' }) },
          proofOfPossession: good,
        },
      },
      {},
      400,
      /PEM block "PRIVATE KEY" is not a PUBLIC KEY/,
    ],
    [
      'malformed CSR',
      {
        credentials: { oidcIdentityToken: token },
        certificateSigningRequest: Buffer.from(
          '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
        ).toString('base64'),
      },
      {},
      400,
      /certificateSigningRequest: DER/,
    ],
    [
      'CSR bad signature',
      {
        credentials: { oidcIdentityToken: token },
        certificateSigningRequest: Buffer.from(makeCsr({ tamper: true }).pem).toString('base64'),
      },
      {},
      400,
      /certificateSigningRequest: the CSR self-signature does not verify/,
    ],
    [
      'forged token',
      keyRequest(kp.publicKey, good, token.slice(0, -4) + 'AAAA'),
      {},
      401,
      /signature/i,
    ],
  ];
  for (const [name, body, headers, status, re] of cases) {
    const res = await h.post(body, headers);
    assert.equal(res.status, status, `${name}: ${JSON.stringify(res.json)}`);
    assert.match(String(res.json['message']), re, name);
    assert.equal(res.json['signedCertificateEmbeddedSct'], undefined);
  }
});

test('unsupported key types and sizes are refused with the reason', async () => {
  const token = await h.token('email');
  const cases: Array<[ReturnType<typeof generateKeyPairSync>, RegExp]> = [
    [generateKeyPairSync('ec', { namedCurve: 'secp256k1' }), /EC curve secp256k1 is not supported/],
    [generateKeyPairSync('rsa', { modulusLength: 1024 }), /RSA key size 1024 is not supported/],
    [
      generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }),
      /RSA public exponent 3 is not allowed/,
    ],
    [generateKeyPairSync('ed448'), /key type ed448 is not supported/],
  ];
  for (const [kp, re] of cases) {
    const res = await h.post(keyRequest(kp.publicKey, 'AAAA', token));
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.match(String(res.json['message']), re);
  }
});

test('the allow-list is configurable', async () => {
  const h2 = await startCa({ ca: { signingAlgorithms: ['PKIX_ED25519'], keyType: 'P-256' } });
  try {
    const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const res = await h2.post(
      keyRequest(kp.publicKey, proofBy(kp.privateKey, 'dev@signet.local'), await h2.token('email')),
    );
    assert.equal(res.status, 400);
    assert.match(
      String(res.json['message']),
      /PKIX_ECDSA_P256_SHA_256 keys are not allowed by this CA \(allowed: PKIX_ED25519\)/,
    );
  } finally {
    await h2.close();
  }
});

test('trustBundle and configuration', async () => {
  const tb = (await (await fetch(`${h.url}/fulcio/api/v2/trustBundle`)).json()) as {
    chains: Array<{ certificates: string[] }>;
  };
  assert.equal(tb.chains.length, 1);
  assert.equal(tb.chains[0]!.certificates.length, 2);
  const [ica, root] = tb.chains[0]!.certificates.map((p) => parseCertificatesPem(p)[0]!);
  assert.equal(ica!.basicConstraints?.pathLength, 0);
  assert.equal(root!.issuer, root!.subject);
  const conf = (await (await fetch(`${h.url}/fulcio/api/v2/configuration`)).json()) as {
    issuers: Array<Record<string, unknown>>;
  };
  // Fulcio's gateway writes protojson with EmitUnpopulated: every OIDCIssuer field, in proto
  // order, the empty ones too; of the oneof only the URL that is set.
  const email = conf.issuers.find((i) => i['issuerUrl'] === `${h.url}/oidc`);
  assert.deepEqual(email, {
    issuerUrl: `${h.url}/oidc`,
    audience: 'sigstore',
    challengeClaim: 'email',
    spiffeTrustDomain: '',
    issuerType: 'email',
    subjectDomain: '',
    skipEmailVerification: false,
  });
  assert.deepEqual(Object.keys(email!), [
    'issuerUrl',
    'audience',
    'challengeClaim',
    'spiffeTrustDomain',
    'issuerType',
    'subjectDomain',
    'skipEmailVerification',
  ]);
  const k8s = conf.issuers.find((i) => i['wildcardIssuerUrl'] !== undefined);
  assert.equal(k8s?.['issuerType'], 'kubernetes');
  assert.equal(k8s?.['issuerUrl'], undefined);
  const spiffe = conf.issuers.find((i) => i['issuerType'] === 'spiffe');
  assert.equal(spiffe?.['spiffeTrustDomain'], 'signet.local');
  const uri = conf.issuers.find((i) => i['issuerType'] === 'uri');
  assert.match(String(uri?.['subjectDomain']), /^http:\/\/127\.0\.0\.1/);
});

test('deprecated v1 API (older cosign): PEM chain with HTTP 201, token only as bearer', async () => {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = await h.token('email');
  const v1 = async (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/fulcio/api/v1/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const der = kp.publicKey.export({ format: 'der', type: 'spki' });
  for (const content of [der, Buffer.from(kp.publicKey.export({ format: 'pem', type: 'spki' }))]) {
    const res = await v1(
      {
        publicKey: { algorithm: 'ecdsa', content: content.toString('base64') },
        signedEmailAddress: proofBy(kp.privateKey, 'dev@signet.local'),
      },
      { authorization: `Bearer ${token}` },
    );
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'application/pem-certificate-chain');
    const certs = parseCertificatesPem(await res.text());
    assert.equal(certs.length, 3);
    assert.equal(new NodeX509(certs[0]!.der).publicKey.equals(kp.publicKey), true);
  }
  // Fulcio's Go client (api.CertificateRequest, as gitsign uses it) writes every field, the
  // unused ones as null: a CSR comes with "publicKey":{"content":null}.
  const csr = makeCsr();
  const goCsr = await v1(
    {
      publicKey: { content: null },
      signedEmailAddress: null,
      certificateSigningRequest: Buffer.from(csr.pem).toString('base64'),
    },
    { authorization: `Bearer ${token}` },
  );
  assert.equal(goCsr.status, 201, await goCsr.clone().text());
  const issued = parseCertificatesPem(await goCsr.text())[0]!;
  assert.equal(new NodeX509(issued.der).publicKey.equals(csr.publicKey), true);
  const goKey = await v1(
    {
      publicKey: { content: der.toString('base64'), algorithm: 'ecdsa' },
      signedEmailAddress: proofBy(kp.privateKey, 'dev@signet.local'),
      certificateSigningRequest: null,
    },
    { authorization: `Bearer ${token}` },
  );
  assert.equal(goKey.status, 201, await goKey.clone().text());
  const both = await v1(
    {
      publicKey: { content: der.toString('base64') },
      signedEmailAddress: proofBy(kp.privateKey, 'dev@signet.local'),
      certificateSigningRequest: Buffer.from(csr.pem).toString('base64'),
    },
    { authorization: `Bearer ${token}` },
  );
  assert.equal(both.status, 400, 'a key with content and a CSR are still ambiguous');
  const noProof = await v1(
    { publicKey: { content: der.toString('base64') } },
    { authorization: `Bearer ${token}` },
  );
  assert.equal(noProof.status, 400);
  assert.match(await noProof.text(), /signedEmailAddress: is missing/);
  const noToken = await v1({
    publicKey: { content: der.toString('base64') },
    signedEmailAddress: proofBy(kp.privateKey, 'dev@signet.local'),
  });
  assert.equal(noToken.status, 401);
  const root = await fetch(`${h.url}/fulcio/api/v1/rootCert`);
  assert.equal(parseCertificatesPem(await root.text()).length, 2);
});

test('a JSON body is read whatever its Content-Type, as Fulcio (grpc-gateway) reads it: curl -d, text/plain, none', async () => {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = await h.token('email');
  const body = JSON.stringify(
    keyRequest(kp.publicKey, proofBy(kp.privateKey, 'dev@signet.local'), token),
  );
  for (const type of ['application/x-www-form-urlencoded', 'text/plain;charset=UTF-8', undefined]) {
    const res = await fetch(`${h.url}/fulcio/api/v2/signingCert`, {
      method: 'POST',
      // A Blob without a type: fetch sends no Content-Type at all.
      ...(type ? { headers: { 'content-type': type }, body } : { body: new Blob([body]) }),
    });
    assert.equal(res.status, 200, `${type}: ${await res.clone().text()}`);
    assert.equal(chainOf((await res.json()) as Record<string, unknown>).length, 3);
  }
  // Still JSON: what is not is refused as such, not as an unsupported type.
  const bad = await fetch(`${h.url}/fulcio/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'publicKey=x',
  });
  assert.equal(bad.status, 400);
  const refusal = (await bad.json()) as Record<string, unknown>;
  assert.deepEqual(
    { ...refusal, message: undefined },
    { code: 3, message: undefined, details: [] },
  );
  assert.match(refusal.message as string, /^request body is not valid JSON/);
});
