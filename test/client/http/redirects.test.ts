// Redirects, followed as Go's http.Client follows them for cosign and sigstore-go: a TUF mirror
// or trust root that moved, a TSA behind a 307/308. Real loopback servers (plain HTTP and TLS
// with an OpenSSL certificate) and OpenSSL's own timestamp responder play the services.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fetchTimestamp } from '../../../src/client/http/tsa.ts';
import { parseTimestamp } from '../../../src/core/rfc3161/token.ts';
import { MAX_REDIRECTS, send } from '../../../src/services/http/outbound.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { startOpensslTsa } from '../../helpers/openssl-tsa.ts';
import { selfSigned } from '../../helpers/tls.ts';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A loopback server that records what it was asked and answers with `handler`. */
async function loopback(handler: Handler, tls?: { cert: string; key: string }) {
  const seen: Seen[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString(),
      });
      handler(req, res);
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, seen };
}

const redirect = (res: http.ServerResponse, status: number, location: string) => {
  res.writeHead(status, { location });
  res.end();
};

const refused = (pattern: RegExp) => (e: unknown) =>
  e instanceof SignetError && e.code === 'REDIRECT_REFUSED' && pattern.test(e.message);

test('a GET follows redirects (relative and absolute, any 3xx) to the answer', async () => {
  const target = await loopback((_q, res) => res.end('{"moved":true}'));
  const origin = await loopback((req, res) => {
    if (req.url === '/tuf/root.json') redirect(res, 301, '/mirror/root.json');
    else if (req.url === '/mirror/root.json') redirect(res, 302, `${target.url}/final/root.json`);
    else res.writeHead(404).end();
  });
  const res = await send({
    service: 'the TUF repository',
    method: 'GET',
    url: `${origin.url}/tuf/root.json`,
  });
  assert.equal(Buffer.from(res.body).toString(), '{"moved":true}');
  assert.deepEqual(
    origin.seen.map((s) => s.url),
    ['/tuf/root.json', '/mirror/root.json'],
  );
  assert.deepEqual(
    target.seen.map((s) => s.url),
    ['/final/root.json'],
  );
});

test('a TSA behind a 308 gets the timestamp request again, body and all, and grants it', async () => {
  const tsa = await startOpensslTsa();
  after(() => tsa.close());
  const front = await loopback((_q, res) => redirect(res, 308, tsa.url));
  const signature = new Uint8Array([7, 7, 7]);
  const der = await fetchTimestamp(`${front.url}/timestamp`, signature);
  assert.equal(parseTimestamp(der).status, 0);
  assert.equal(front.seen.length, 1);
  assert.equal(front.seen[0]!.method, 'POST');
  // OpenSSL read the DER request it got after the redirect: the body went along.
  assert.deepEqual(tsa.requests, [
    { path: '/tsr', contentType: 'application/timestamp-query', read: true },
  ]);
});

test('a POST redirected with 301/302/303 is not turned into a GET: the error names the new URL', async () => {
  for (const status of [301, 302, 303]) {
    const elsewhere = await loopback((_q, res) => res.end('never'));
    const front = await loopback((_q, res) => redirect(res, status, `${elsewhere.url}/tsr`));
    await assert.rejects(
      send({
        service: 'the timestamp authority',
        method: 'POST',
        url: `${front.url}/tsr`,
        body: 'x',
      }),
      refused(
        new RegExp(
          `^the timestamp authority at ${front.url}/tsr answered HTTP ${status}, a redirect to ${elsewhere.url}/tsr that would turn the POST into a GET: give that URL instead$`,
        ),
      ),
    );
    assert.equal(elsewhere.seen.length, 0, `HTTP ${status}: nothing is sent to the new URL`);
  }
});

test('https is never redirected to plain http', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-redirect-tls-'));
  const { cert, key } = selfSigned(dir, 'IP:127.0.0.1');
  const plain = await loopback((_q, res) => res.end('in the clear'));
  const secure = await loopback(
    (_q, res) => redirect(res, 307, `${plain.url}/api/v2/signingCert`),
    {
      cert: fs.readFileSync(cert, 'utf8'),
      key: fs.readFileSync(key, 'utf8'),
    },
  );
  await assert.rejects(
    send(
      {
        service: 'the CA (Fulcio)',
        method: 'POST',
        url: `${secure.url}/api/v2/signingCert`,
        body: '{"token":"secret"}',
      },
      { tls: { ca: fs.readFileSync(cert, 'utf8') } },
    ),
    refused(
      /redirected from https to plain http \(http:\/\/127\.0\.0\.1:\d+\/api\/v2\/signingCert\): refused$/,
    ),
  );
  assert.equal(secure.seen.length, 1);
  assert.equal(plain.seen.length, 0, 'the token never goes out in the clear');
});

test('credentials go only to the origin they were given for', async () => {
  const other = await loopback((_q, res) => res.end('other'));
  const origin = await loopback((req, res) => {
    if (req.url === '/a') redirect(res, 302, '/b');
    else if (req.url === '/b') redirect(res, 302, `${other.url}/c`);
    else res.writeHead(404).end();
  });
  const res = await send(
    {
      service: 'the token endpoint',
      method: 'GET',
      url: `${origin.url}/a`,
      headers: { Authorization: 'Bearer request-token' },
    },
    { headers: { cookie: 'session=1', 'user-agent': 'signet-test' } },
  );
  assert.equal(Buffer.from(res.body).toString(), 'other');
  assert.deepEqual(
    origin.seen.map((s) => s.authorization),
    ['Bearer request-token', 'Bearer request-token'],
  );
  assert.deepEqual(
    other.seen.map((s) => s.authorization),
    [undefined],
  );
});

test(`at most ${MAX_REDIRECTS} redirects in a row are followed`, async () => {
  const chain = await loopback((req, res) => {
    const n = Number(req.url!.slice(1));
    if (n < 100) redirect(res, 302, `/${n + 1}`);
    else res.end('end');
  });
  // Ten hops to the answer: followed.
  const ok = await send({
    service: 'the log',
    method: 'GET',
    url: `${chain.url}/${100 - MAX_REDIRECTS}`,
  });
  assert.equal(Buffer.from(ok.body).toString(), 'end');
  // Eleven: refused after the tenth, without an eleventh request.
  chain.seen.length = 0;
  await assert.rejects(
    send({ service: 'the log', method: 'GET', url: `${chain.url}/${99 - MAX_REDIRECTS}` }),
    refused(new RegExp(`^the log at ${chain.url}/99 redirected more than ${MAX_REDIRECTS} times$`)),
  );
  assert.equal(chain.seen.length, MAX_REDIRECTS + 1);
});

test('a redirect without a usable Location is a clear error', async () => {
  const server = await loopback((req, res) => {
    if (req.url === '/none') res.writeHead(302).end();
    else if (req.url === '/ftp') redirect(res, 302, 'ftp://127.0.0.1/x');
    else redirect(res, 302, 'http://[::1');
  });
  await assert.rejects(
    send({ service: 'the log', method: 'GET', url: `${server.url}/none` }),
    refused(/at http:\/\/127\.0\.0\.1:\d+\/none answered HTTP 302 without a Location to go to$/),
  );
  await assert.rejects(
    send({ service: 'the log', method: 'GET', url: `${server.url}/ftp` }),
    refused(/redirected to ftp:\/\/127\.0\.0\.1\/x, which is not an http\(s\) URL$/),
  );
  await assert.rejects(
    send({ service: 'the log', method: 'GET', url: `${server.url}/bad` }),
    refused(/redirected to "http:\/\/\[::1", which is not a URL$/),
  );
});

test("redirect: 'manual' hands the 3xx to the caller, 'error' refuses it", async () => {
  const server = await loopback((_q, res) => redirect(res, 307, '/elsewhere'));
  const res = await send({
    service: 'the registry',
    method: 'GET',
    url: `${server.url}/v2/x/blobs/y`,
    redirect: 'manual',
    allow: [307],
  });
  assert.equal(res.status, 307);
  assert.equal(res.headers.get('location'), '/elsewhere');
  await assert.rejects(
    send({ service: 'the registry', method: 'GET', url: `${server.url}/z`, redirect: 'error' }),
    (e: unknown) =>
      e instanceof SignetError &&
      /at http:\/\/127\.0\.0\.1:\d+\/z: unexpected redirect$/.test(e.message),
  );
  assert.deepEqual(
    server.seen.map((s) => s.url),
    ['/v2/x/blobs/y', '/z'],
  );
});

test('a 3xx the caller handles itself (allow) is handed to it, not followed', async () => {
  const server = await loopback((_q, res) => redirect(res, 302, '/next'));
  const res = await send({
    service: 'the issuer',
    method: 'GET',
    url: `${server.url}/a`,
    allow: [302],
  });
  assert.equal(res.status, 302);
  assert.deepEqual(
    server.seen.map((s) => s.url),
    ['/a'],
  );
});

test("redirect: 'same-origin' follows within the origin and refuses another", async () => {
  const other = await loopback((_q, res) => res.end('{}'));
  const server = await loopback((req, res) => {
    if (req.url === '/.well-known/openid-configuration') redirect(res, 302, '/moved');
    else if (req.url === '/moved') res.end('{"ok":true}');
    else redirect(res, 302, `${other.url}/keys`);
  });
  const ok = await send({
    service: 'the discovery document',
    method: 'GET',
    url: `${server.url}/.well-known/openid-configuration`,
    redirect: 'same-origin',
  });
  assert.equal(Buffer.from(ok.body).toString(), '{"ok":true}');
  await assert.rejects(
    send({
      service: 'the JWKS',
      method: 'GET',
      url: `${server.url}/keys`,
      redirect: 'same-origin',
    }),
    refused(
      /^the JWKS at http:\/\/127\.0\.0\.1:\d+\/keys redirected to another origin \(http:\/\/127\.0\.0\.1:\d+\): refused$/,
    ),
  );
  assert.equal(other.seen.length, 0);
});

test('retries and redirects of one request end within twice its timeout, however the service answers', async () => {
  // Each URL answers 503 (retry at once) twice, then 307 to a new URL, forever, each answer
  // after 300 ms: no single attempt runs out of time, and ten hops take 9 s.
  const tries = new Map<string, number>();
  let hop = 0;
  const s = await loopback((req, res) => {
    const n = (tries.get(req.url!) ?? 0) + 1;
    tries.set(req.url!, n);
    setTimeout(() => {
      if (n <= 2) {
        res.writeHead(503, { 'retry-after': '0' });
        res.end();
      } else redirect(res, 307, `/hop/${++hop}`);
    }, 300);
  });
  const t0 = Date.now();
  await assert.rejects(
    send({ service: 'the log', method: 'GET', url: `${s.url}/start` }, { timeoutMs: 1000 }),
    (e: unknown) =>
      e instanceof SignetError &&
      // the last answer when the time ran out between retries, else said after a redirect
      /^(the log at \S+ answered HTTP 503|cannot reach the log at http:\/\/\S+\/start: its retries and redirects took more than 2 s \(2 times the timeout of a request\))$/.test(
        e.message,
      ),
  );
  const took = Date.now() - t0;
  // Without the bound: ten hops of 0.9 s, then "redirected more than 10 times".
  assert.ok(took < 4000, `ended after ${took} ms`);
});
