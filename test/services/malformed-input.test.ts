// Malformed input against a whole stack: JSON nested thousands of levels deep, megabyte
// fields, bad URL escapes and oversized headers each get a 4xx in the error shape of their API
// ({code, message, error, field?}; OAuth endpoints add error_description; the CA's is Fulcio's
// {code, message, details}), out-of-range DER TSA nonces an RFC 3161 rejection; never a 500,
// and error messages quote at most a bounded part of the input.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import net from 'node:net';
import { assertErrorShape } from '../helpers/error-shape.ts';
import { tempStack } from '../helpers/stack.ts';
import { createApp } from '../../src/services/http/app.ts';
import { timestampStatus } from '../../src/core/rfc3161/token.ts';

const stack = await tempStack();
after(() => stack.close());

const DEPTH = 20_000;
const deep = (n = DEPTH) => '['.repeat(n) + ']'.repeat(n);
const b64u = (t: string) => Buffer.from(t).toString('base64url');
const jwt = (header: string, payload: string) => `${b64u(header)}.${b64u(payload)}.${b64u('sig')}`;
const JSON_TYPE = { 'content-type': 'application/json' };

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const caBody = (token: string) =>
  JSON.stringify({
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: {
      publicKey: {
        algorithm: 'ECDSA',
        content: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      proofOfPossession: sign('sha256', Buffer.from('dev@signet.local'), privateKey).toString(
        'base64',
      ),
    },
  });

/** Sends a request; checks the error shape of its API and returns status and body. */
async function errorOf(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown>; size: number }> {
  const r = await fetch(stack.url + path, init);
  const text = await r.text();
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${text.slice(0, 200)}`);
  assertErrorShape(path, path, r.status, body);
  for (const k of Object.keys(body))
    assert.ok(['code', 'message', 'error', 'field', 'error_description', 'details'].includes(k), k);
  return { status: r.status, body, size: text.length };
}

test('JSON nested 20,000 levels deep is a 4xx in the error shape at every JSON endpoint', async () => {
  const cases: Array<[string, string, Record<string, string>?]> = [
    ['/rekor/api/v1/index/retrieve', `{"publicKey":{"format":${deep()}}}`],
    ['/rekor/api/v1/index/retrieve', deep()],
    ['/rekor/api/v1/log/entries', `{"kind":${deep()}}`],
    ['/rekor/api/v1/log/entries/retrieve', `{"entryUUIDs":${deep()}}`],
    ['/rekor/api/v2/log/entries', `{"hashedRekordRequestV002":${deep()}}`],
    ['/oidc/token', `{"client_id":"sigstore","grant_type":${deep()}}`],
    ['/oidc/token', `{"client_id":${deep()}}`],
    ['/oidc/device/code', `{"client_id":${deep()}}`],
    ['/fulcio/api/v2/signingCert', caBody(jwt(`{"alg":${deep()}}`, '{}'))],
    ['/fulcio/api/v2/signingCert', caBody(jwt(`{"alg":"ES256","kid":${deep()}}`, '{}'))],
    ['/fulcio/api/v2/signingCert', caBody(jwt('{"alg":"ES256"}', `{"iss":${deep()}}`))],
    ['/ctlog/ct/v1/add-chain', `{"chain":${deep()}}`],
  ];
  for (const [path, body] of cases) {
    const { body: err } = await errorOf(path, { method: 'POST', headers: JSON_TYPE, body });
    assert.ok((err.message as string).length < 300, `${path}: ${err.message as string}`);
  }
  // The CA's token header, in the Authorization header (16 KiB limit: 3,000 levels).
  await errorOf('/fulcio/api/v2/signingCert', {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: `Bearer ${jwt(`{"alg":${deep(3000)}}`, '{}')}` },
    body: caBody(''),
  });
});

test('error messages quote a bounded part of the input (a 1 MB field is not a 1 MB error)', async () => {
  const big = 'x'.repeat(1_000_000);
  const cases: Array<[string, string]> = [
    ['/rekor/api/v1/index/retrieve', JSON.stringify({ publicKey: { format: big } })],
    ['/rekor/api/v1/index/retrieve', JSON.stringify({ hash: big })],
    ['/oidc/token', JSON.stringify({ client_id: big })],
    ['/oidc/token', JSON.stringify({ client_id: 'sigstore', grant_type: big })],
    [
      '/fulcio/api/v2/signingCert',
      caBody(jwt(JSON.stringify({ alg: big.slice(0, 40_000) }), '{}')),
    ],
  ];
  for (const [path, body] of cases) {
    const { size } = await errorOf(path, { method: 'POST', headers: JSON_TYPE, body });
    assert.ok(size < 2500, `${path}: a ${size}-byte error`);
  }
});

test('the identity provider quotes at most 100 characters of a subject or redirect_uri (found by the malformed-input run)', async () => {
  const big = 'y'.repeat(100_000);
  for (const [path, body] of [
    ['/oidc/token', { grant_type: 'client_credentials', client_id: 'sigstore', subject: big }],
    [
      '/oidc/github/token',
      { grant_type: 'client_credentials', client_id: 'sigstore', subject: big },
    ],
  ] as const) {
    const { body: err, size } = await errorOf(path, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify(body),
    });
    assert.ok(size < 800, `${path}: a ${size}-byte error`);
    assert.match(err.message as string, /identity named "y{100}\.\.\." is configured/);
  }
  // The sign-in page (HTML for a person) names a bad redirect_uri by its first 100 characters.
  const page = await fetch(
    `${stack.url}/oidc/auth?${new URLSearchParams({
      client_id: 'sigstore',
      response_type: 'code',
      redirect_uri: `https://evil.example/${big.slice(0, 5000)}`,
      code_challenge: 'abc',
      code_challenge_method: 'S256',
      scope: 'openid',
    })}`,
  );
  const html = await page.text();
  assert.equal(page.status, 400);
  assert.ok(html.length < 4000, `a ${html.length}-byte page`);
  assert.ok(!html.includes('y'.repeat(101)), 'the page quotes more than 100 characters');
});

test('a bad URL escape and oversized headers answer in the project error shape', async () => {
  const bad = await errorOf('/rekor/api/v1/log/entries/%zz');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'BAD_URL');
  const headers = await errorOf('/rekor/api/v1/log', { headers: { 'x-big': 'y'.repeat(20_000) } });
  assert.equal(headers.status, 431);
  assert.equal(headers.body.error, 'HEADERS_TOO_LARGE');
  const none = await errorOf('/no/such/route');
  assert.equal(none.status, 404);
});

test('a body over the limit: the 413 comes at once, and the connection stays open while the client sends the rest, then serves the next request', async () => {
  const sock = net.connect(Number(new URL(stack.url).port), '127.0.0.1');
  let got = '';
  let failed: Error | undefined;
  sock.on('data', (d: Buffer) => (got += d.toString()));
  sock.on('error', (e) => (failed = e));
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) {
      if (failed || sock.destroyed)
        assert.fail(`${what}: the connection ended (${failed?.message})`);
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(ok(), `${what}: nothing after 5 s: ${got}`);
  };
  const total = 5 * 1024 * 1024;
  sock.write(
    `POST /rekor/api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`,
  );
  await until('the 413', () => got.endsWith('"BODY_TOO_LARGE"}'));
  assert.match(got, /^HTTP\/1\.1 413 /);
  // A client that does not wait for answers before sending keeps sending its body.
  for (let sent = 0; sent < total; sent += 65536) {
    if (failed || sock.destroyed)
      assert.fail(`the connection ended while sending (${failed?.message})`);
    if (!sock.write(Buffer.alloc(Math.min(65536, total - sent), 0x78)))
      await new Promise((r) => sock.once('drain', r));
  }
  got = '';
  sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await until('the next answer', () => /^HTTP\/1\.1 200 /.test(got));
  sock.destroy();
});

test('the stack lists every route it serves (the malformed-input run tries each)', () => {
  const has = (method: string, url: string) =>
    stack.routes.some((r) => r.method === method && r.url === url);
  for (const [m, u] of [
    ['GET', '/healthz'],
    ['GET', '/readyz'],
    ['GET', '/metrics'],
    ['POST', '/rekor/api/v1/log/entries'],
    ['POST', '/rekor/api/v2/log/entries'],
    ['POST', '/fulcio/api/v2/signingCert'],
    ['POST', '/tsa/api/v1/timestamp'],
    ['POST', '/oidc/token'],
    ['GET', '/tuf/:file'],
  ])
    assert.ok(has(m!, u!), `${m} ${u} is not listed`);
});

/** A DER TimeStampReq for a SHA-256 digest with the given raw nonce INTEGER contents. */
function tsq(nonce: Uint8Array): Uint8Array {
  const tlv = (tag: number, body: Uint8Array): Buffer => {
    const n = body.length;
    const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...len]), body]);
  };
  const sha256Oid = Buffer.from('0609608648016503040201', 'hex');
  const alg = tlv(0x30, Buffer.concat([sha256Oid, Buffer.from([5, 0])]));
  const imprint = tlv(
    0x30,
    Buffer.concat([alg, tlv(0x04, createHash('sha256').update('x').digest())]),
  );
  return tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([1])), imprint, tlv(0x02, nonce)]));
}

test('the TSA refuses non-minimal and over-long nonces (DER and JSON) and takes a 160-bit one', async () => {
  const post = (body: Uint8Array) =>
    fetch(`${stack.url}/tsa/api/v1/timestamp`, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body,
    });
  const ok = await post(tsq(Buffer.from([0x00, 0xff, ...new Array(19).fill(0xab)])));
  assert.equal(ok.status, 200, await ok.clone().text());
  // Refused with a TimeStampResp (RFC 3161 §2.4.2), the reason as its statusString.
  for (const [nonce, why, failInfo] of [
    [Buffer.from([0x00, 0x01]), /minimally encoded/, 'badDataFormat'],
    [Buffer.from([0xff, 0x80]), /minimally encoded/, 'badDataFormat'],
    [Buffer.from([0x01, ...new Array(20).fill(0)]), /longer than 160 bits/, 'badRequest'],
    [Buffer.alloc(1000, 0x7f), /longer than 160 bits/, 'badRequest'],
  ] as const) {
    const r = await post(tsq(nonce));
    const der = new Uint8Array(await r.arrayBuffer());
    assert.equal(r.status, 200, Buffer.from(der).toString());
    const status = timestampStatus(der)!;
    assert.deepEqual([status.status, status.failInfo], [2, [failInfo]]);
    assert.match(status.statusString!, why);
  }
  for (const nonce of ['1'.repeat(50), '007', -1, String(2n ** 160n)]) {
    const { body } = await errorOf('/tsa/api/v1/timestamp', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({
        artifactHash: createHash('sha256').update('x').digest('base64'),
        hashAlgorithm: 'sha256',
        nonce,
      }),
    });
    assert.equal(body.field, 'nonce');
  }
});

test('a 500 is logged with its route and request id; the client sees only "internal server error"', async () => {
  const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const log = {
    info() {},
    warn() {},
    error: (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields }),
  };
  const app = createApp({ log });
  app.get('/boom/:id', async () => {
    throw new Error('database exploded');
  });
  const r = await app.inject({ method: 'GET', url: '/boom/7' });
  assert.equal(r.statusCode, 500);
  assert.deepEqual(r.json(), { code: 500, message: 'internal server error', error: 'INTERNAL' });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'internal error');
  assert.equal(lines[0]!.fields!.route, '/boom/:id');
  assert.equal(lines[0]!.fields!.error, 'database exploded');
  assert.ok(lines[0]!.fields!.requestId);
  await app.close();
});
