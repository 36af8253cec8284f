// The CA's refusals in Fulcio's shape: its HTTP API is grpc-gateway, whose errors are
// google.rpc.Status as JSON, {code: <gRPC code>, message, details: []}, with the HTTP status
// grpc-gateway gives that code; and Signet's own client shows them in one line.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { createSigningCertificate } from '../../../src/client/http/fulcio.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { keyRequest, makeCsr, pemOf, proofBy, startCa, type Harness } from './harness.ts';
import { compressed, EXPLICIT_P256 } from '../../helpers/ec-forms.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';

let h: Harness;
before(async () => {
  h = await startCa();
});
after(async () => {
  await h?.close();
});

interface Answer {
  status: number;
  type: string;
  body: unknown;
}

async function post(
  version: 'v1' | 'v2',
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${h.url}/fulcio/api/${version}/signingCert`, {
    method: 'POST',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: await res.json(),
  };
}

/** Exactly Fulcio's error body: the gRPC code, the message, empty details, and nothing else. */
function assertFulcioError(what: string, a: Answer, status: number, code: number, message: RegExp) {
  assert.equal(a.status, status, `${what}: ${JSON.stringify(a.body)}`);
  assert.match(a.type, /^application\/json/, what);
  const b = a.body as { code: unknown; message: string; details: unknown };
  assert.deepEqual(Object.keys(b), ['code', 'message', 'details'], what);
  assert.equal(b.code, code, `${what}: gRPC code`);
  assert.deepEqual(b.details, [], what);
  assert.match(b.message, message, what);
}

const JSON_TYPE = { 'content-type': 'application/json' };

test('v2 refusals: status, gRPC code and the reason, as Fulcio writes them', async () => {
  const token = await h.token('email');
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const good = proofBy(kp.privateKey, 'dev@signet.local');
  const v2 = (body: unknown, headers: Record<string, string> = JSON_TYPE) =>
    post('v2', typeof body === 'string' ? body : JSON.stringify(body), headers);
  const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const twice = JSON.stringify(keyRequest(kp.publicKey, good, token)).replace(
    '"oidcIdentityToken":',
    '"oidcIdentityToken":"x","oidcIdentityToken":',
  );
  const cases: Array<[string, Promise<Answer>, number, number, RegExp]> = [
    // Bad tokens: Unauthenticated.
    ['no token', v2(keyRequest(kp.publicKey, good)), 401, 16, /^no identity token: give it in/],
    [
      'not a JWT',
      v2(keyRequest(kp.publicKey, good, 'not-a-jwt')),
      401,
      16,
      /^the identity token is not a JWT/,
    ],
    ['forged token', v2(keyRequest(kp.publicKey, good, forged)), 401, 16, /signature/],
    // Bad proof of possession, bad key, bad CSR: InvalidArgument.
    [
      'proof over another challenge',
      v2(keyRequest(kp.publicKey, proofBy(kp.privateKey, 'someone@else'), token)),
      400,
      3,
      /^publicKeyRequest\.proofOfPossession: is not a valid PKIX_ECDSA_P256_SHA_256 signature/,
    ],
    [
      'no proof',
      v2(keyRequest(kp.publicKey, '', token)),
      400,
      3,
      /^publicKeyRequest\.proofOfPossession: is missing$/,
    ],
    [
      'unsupported key',
      v2(keyRequest(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey, good, token)),
      400,
      3,
      /EC curve secp256k1 is not supported/,
    ],
    [
      'weak RSA key',
      v2(keyRequest(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, good, token)),
      400,
      3,
      /RSA key size 1024 is not supported/,
    ],
    // Go's x509 (Fulcio, cosign) reads neither form: the certificate would be unreadable to them.
    ...[
      ['a compressed EC point', encodePem('PUBLIC KEY', compressed(kp.publicKey))],
      ['explicit curve parameters', EXPLICIT_P256],
    ].map(([what, content]): [string, Promise<Answer>, number, number, RegExp] => [
      what!,
      v2({
        credentials: { oidcIdentityToken: token },
        publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content }, proofOfPossession: good },
      }),
      400,
      3,
      /^publicKeyRequest\.publicKey\.content: is an EC key with a compressed point or explicit curve parameters/,
    ]),
    [
      'a CSR with a compressed EC point',
      v2({
        credentials: { oidcIdentityToken: token },
        certificateSigningRequest: Buffer.from(makeCsr({ compressed: true }).pem).toString(
          'base64',
        ),
      }),
      400,
      3,
      /^certificateSigningRequest\.subjectPublicKeyInfo: is an EC key with a compressed point/,
    ],
    [
      'key not PEM',
      v2({
        credentials: { oidcIdentityToken: token },
        publicKeyRequest: { publicKey: { content: 'hello' }, proofOfPossession: good },
      }),
      400,
      3,
      /^publicKeyRequest\.publicKey\.content: /,
    ],
    [
      'CSR not DER',
      v2({
        credentials: { oidcIdentityToken: token },
        certificateSigningRequest: Buffer.from(
          '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
        ).toString('base64'),
      }),
      400,
      3,
      /^certificateSigningRequest: DER/,
    ],
    [
      'CSR with a bad self-signature',
      v2({
        credentials: { oidcIdentityToken: token },
        certificateSigningRequest: Buffer.from(makeCsr({ tamper: true }).pem).toString('base64'),
      }),
      400,
      3,
      /^certificateSigningRequest: the CSR self-signature does not verify/,
    ],
    // Missing or unreadable bodies.
    ['no body', post('v2', undefined), 400, 3, /^body: give a publicKeyRequest/],
    ['empty JSON body', v2(''), 400, 3, /^request body is not valid JSON \(it is empty\)$/],
    ['empty object', v2({}), 400, 3, /^body: give a publicKeyRequest/],
    [
      'not JSON',
      v2('{nope'),
      400,
      3,
      /^request body is not valid JSON \(a syntax error at position 1\)$/,
    ],
    ['a JSON array', v2([]), 400, 3, /^body: must be a JSON object$/],
    // A key twice: Fulcio's protojson refuses it; JSON.parse kept the last, so a throwaway first
    // token and a real second one were read as the second.
    [
      'the token twice',
      v2(twice),
      400,
      3,
      /^request body has the key "oidcIdentityToken" twice in one object$/,
    ],
    [
      'the token twice, sent as a form',
      v2(twice, { 'content-type': 'application/x-www-form-urlencoded' }),
      400,
      3,
      /^request body has the key "oidcIdentityToken" twice in one object$/,
    ],
    // The token's JSON name and its proto name at once: protojson's "duplicate field".
    [
      'the token under both its names',
      v2(twice.replace('"oidcIdentityToken":"x"', '"oidc_identity_token":"x"')),
      400,
      3,
      /^credentials\.oidc_identity_token: is given twice \(as oidcIdentityToken and oidc_identity_token\)$/,
    ],
    // "__proto__" is an ordinary key of the parsed body, never its prototype: an unknown field,
    // ignored as Fulcio (grpc-gateway, DiscardUnknown) ignores one, so the token under it is
    // not read.
    [
      'the token only under a __proto__ key',
      v2(
        JSON.stringify({
          ['__proto__']: { credentials: { oidcIdentityToken: token } },
          ...keyRequest(kp.publicKey, good),
        }),
      ),
      401,
      16,
      /^no identity token/,
    ],
    // curl --data-binary's default type: read as JSON all the same, and said so without it
    [
      'a PEM CSR as a form',
      v2('-----BEGIN CERTIFICATE REQUEST-----\n', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      400,
      3,
      // V8 names no position for this one (No number after minus sign).
      /^request body is not valid JSON \(a syntax error\)$/,
    ],
    [
      'too large',
      v2({ certificateSigningRequest: 'A'.repeat(5 * 1024 * 1024) }),
      413,
      8,
      /^request body is larger than the limit of 4194304 bytes$/,
    ],
    [
      'compressed',
      post('v2', gzipSync('{}'), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
      415,
      3,
      /^Content-Encoding: Content-Encoding "gzip" is not supported/,
    ],
  ];
  for (const [what, answer, status, code, message] of cases)
    assertFulcioError(what, await answer, status, code, message);
});

test('v1 (legacy) refusals have the same shape; successes keep their bytes', async () => {
  const token = await h.token('email');
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const body = (proof: string) =>
    JSON.stringify({
      publicKey: {
        algorithm: 'ecdsa',
        content: Buffer.from(pemOf(kp.publicKey)).toString('base64'),
      },
      signedEmailAddress: proof,
    });
  const bearer = { ...JSON_TYPE, authorization: `Bearer ${token}` };
  assertFulcioError(
    'no token',
    await post('v1', body(proofBy(kp.privateKey, 'dev@signet.local')), JSON_TYPE),
    401,
    16,
    /^no identity token/,
  );
  assertFulcioError(
    'bad proof',
    await post('v1', body(proofBy(kp.privateKey, 'x@y')), bearer),
    400,
    3,
    // v1 requests name their fields as v1 has them, not as v2 does
    /^signedEmailAddress: is not a valid PKIX_ECDSA_P256_SHA_256 signature/,
  );
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  assertFulcioError(
    'weak key',
    await post(
      'v1',
      JSON.stringify({
        publicKey: {
          algorithm: 'rsa',
          content: Buffer.from(pemOf(rsa.publicKey)).toString('base64'),
        },
        signedEmailAddress: proofBy(rsa.privateKey, 'dev@signet.local'),
      }),
      bearer,
    ),
    400,
    3,
    /^publicKey\.content: RSA key size 1024 is not supported/,
  );
  assertFulcioError(
    'a key twice',
    await post(
      'v1',
      body(proofBy(kp.privateKey, 'dev@signet.local')).replace(
        '"signedEmailAddress":',
        '"signedEmailAddress":"x","signedEmailAddress":',
      ),
      bearer,
    ),
    400,
    3,
    /^request body has the key "signedEmailAddress" twice in one object$/,
  );
  assertFulcioError(
    'no body',
    await post('v1', undefined, { authorization: `Bearer ${token}` }),
    400,
    3,
    /^body: give a publicKey \(with signedEmailAddress\) or a certificateSigningRequest$/,
  );
  const ok = await fetch(`${h.url}/fulcio/api/v1/signingCert`, {
    method: 'POST',
    headers: bearer,
    body: body(proofBy(kp.privateKey, 'dev@signet.local')),
  });
  assert.equal(ok.status, 201);
  assert.equal(ok.headers.get('content-type'), 'application/pem-certificate-chain');
  assert.match(await ok.text(), /^-----BEGIN CERTIFICATE-----\n/);
});

test("Signet's Fulcio client shows a refusal in one line, with the status and the reason", async () => {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const req = (identityToken: string, challenge: string) => ({
    identityToken,
    publicKeyPem: pemOf(kp.publicKey),
    proofOfPossession: Buffer.from(proofBy(kp.privateKey, challenge), 'base64'),
  });
  const url = `${h.url}/fulcio/api/v2/signingCert`;
  for (const [identityToken, challenge, kind, line] of [
    [
      'not-a-jwt',
      'dev@signet.local',
      'unauthorized',
      `the CA (Fulcio) at ${url} answered HTTP 401: the identity token is not a JWT: it must be three base64url parts separated by two dots (found 0)`,
    ],
    [
      await h.token('email'),
      'someone@else',
      'invalid-input',
      `the CA (Fulcio) at ${url} answered HTTP 400: publicKeyRequest.proofOfPossession: is not a valid PKIX_ECDSA_P256_SHA_256 signature`,
    ],
  ] as const)
    await assert.rejects(
      createSigningCertificate(`${h.url}/fulcio`, req(identityToken, challenge)),
      (e: unknown) =>
        e instanceof SignetError &&
        e.kind === kind &&
        e.message.startsWith(line) &&
        !e.message.includes('\n'),
    );
});
