// How the HTTP clients report failures of the remote side. The success paths run against a
// real stack in test/client/sign and test/interop; here a loopback server plays a broken or
// refusing service, which the real services (rightly) never do on purpose.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigningCertificate } from '../../../src/client/http/fulcio.ts';
import { createEntryV1, hashedrekordV001, toTlogEntry } from '../../../src/client/http/rekor-v1.ts';
import { createEntryV2 } from '../../../src/client/http/rekor-v2.ts';
import { fetchTimestamp, timestampEndpoints } from '../../../src/client/http/tsa.ts';
import { parseTimestampRequest } from '../../../src/core/rfc3161/request.ts';
import { fetchSigningConfigJson } from '../../../src/client/http/trust.ts';
import { send } from '../../../src/services/http/outbound.ts';
import { SignetError } from '../../../src/core/errors.ts';

type Handler = (
  req: http.IncomingMessage,
  body: string,
  res: http.ServerResponse,
  raw: Buffer,
) => void;
let handler: Handler = (_q, _b, res) => res.end();
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    handler(req, raw.toString(), res, raw);
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.closeAllConnections();
  server.close();
});

const pkr = {
  identityToken: 'tok',
  publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n',
  proofOfPossession: new Uint8Array([1, 2]),
};

test('Fulcio request has the v2 JSON shape; the error body message is surfaced', async () => {
  let seen: any;
  handler = (req, body, res) => {
    seen = { url: req.url, ct: req.headers['content-type'], body: JSON.parse(body) };
    res.writeHead(400, { 'content-type': 'application/json' });
    // As Fulcio's grpc-gateway writes it: google.rpc.Status, gRPC code 3 (InvalidArgument).
    res.end(
      JSON.stringify({
        code: 3,
        message: 'There was an error processing the identity token',
        details: [],
      }),
    );
  };
  await assert.rejects(
    createSigningCertificate(`${base}/fulcio/`, pkr),
    (e: unknown) =>
      e instanceof SignetError &&
      e.kind === 'invalid-input' &&
      e.message ===
        `the CA (Fulcio) at ${base}/fulcio/api/v2/signingCert answered HTTP 400: There was an error processing the identity token`,
  );
  assert.equal(seen.url, '/fulcio/api/v2/signingCert');
  assert.equal(seen.ct, 'application/json');
  assert.deepEqual(seen.body, {
    credentials: { oidcIdentityToken: 'tok' },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: pkr.publicKeyPem },
      proofOfPossession: 'AQI=',
    },
  });
});

test('a 200 without a certificate chain is a clear bad-response error', async () => {
  handler = (_q, _b, res) =>
    res.end(JSON.stringify({ signedCertificateEmbeddedSct: { chain: {} } }));
  await assert.rejects(
    createSigningCertificate(base, pkr),
    /expected signedCertificateEmbeddedSct or signedCertificateDetachedSct/,
  );
  handler = (_q, _b, res) => res.end('<html>proxy error</html>');
  await assert.rejects(createSigningCertificate(base, pkr), /the response is not JSON/);
});

test('detached SCT responses are accepted', async () => {
  const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
  handler = (_q, _b, res) =>
    res.end(
      JSON.stringify({
        signedCertificateDetachedSct: {
          chain: { certificates: [pem] },
          signedCertificateTimestamp: 'e30=',
        },
      }),
    );
  const r = await createSigningCertificate(base, pkr);
  assert.deepEqual(r, { chain: [pem], detachedSct: 'e30=' });
});

test('unreachable service and timeouts name the service and the URL', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  await assert.rejects(
    fetchSigningConfigJson(`http://127.0.0.1:${port}`),
    (e: unknown) =>
      e instanceof SignetError &&
      e.code === 'SERVICE_UNREACHABLE' &&
      e.message ===
        `cannot reach the trust server at http://127.0.0.1:${port}/signing_config.json: nothing is listening at http://127.0.0.1:${port}; is the server running there?`,
  );
  handler = () => {}; // never answers
  await assert.rejects(
    createEntryV2(base, {}, { timeoutMs: 200 }),
    (e: unknown) =>
      e instanceof SignetError &&
      e.code === 'SERVICE_UNREACHABLE' &&
      /cannot reach the transparency log \(Rekor v2\) at .*\/api\/v2\/log\/entries: no answer within 0.2 s/.test(
        e.message,
      ),
  );
  // Cut off by the operation's deadline rather than its own timeout: the code says so, since
  // the request's timer may fire before the caller's clock reaches the deadline.
  await assert.rejects(
    createEntryV2(base, {}, { timeoutMs: 5000, deadline: Date.now() + 200 }),
    (e: unknown) =>
      e instanceof SignetError &&
      e.code === 'DEADLINE_EXCEEDED' &&
      /\/api\/v2\/log\/entries: no answer within 0\.\d+ s/.test(e.message),
  );
});

test('a port whose service closes the connection without an answer (not HTTP) is named as such, not only "try again"', async () => {
  const net = await import('node:net');
  // As Redis or SSH on the port given: it reads a little and closes.
  const notHttp = net.createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((r) => notHttp.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(notHttp.address() as AddressInfo).port}`;
  try {
    await assert.rejects(
      fetchSigningConfigJson(url),
      (e: unknown) =>
        e instanceof SignetError &&
        e.code === 'SERVICE_UNREACHABLE' &&
        e.message ===
          `cannot reach the trust server at ${url}/signing_config.json: the connection to ${url} was closed before it answered: check that the URL's port is the service's (one that does not speak HTTP closes it so), or try again`,
    );
  } finally {
    notHttp.close();
  }
});

test('https:// to a server that speaks plain HTTP is named as such, not as OpenSSL text', async () => {
  const tls = base.replace('http:', 'https:');
  await assert.rejects(
    fetchSigningConfigJson(tls),
    (e: unknown) =>
      e instanceof SignetError &&
      e.code === 'SERVICE_UNREACHABLE' &&
      e.message ===
        `cannot reach the trust server at ${tls}/signing_config.json: ${tls} does not speak TLS (perhaps its URL is http://, not https://)`,
  );
});

test('Rekor v1: 409 follows Location to the existing entry; a plain-text 500 is shown', async () => {
  const body = Buffer.from(
    JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: {} }),
  ).toString('base64');
  const entry = {
    ['ab'.repeat(32)]: {
      body,
      integratedTime: 1700000000,
      logID: 'cd'.repeat(32),
      logIndex: 7,
      verification: {
        signedEntryTimestamp: 'c2V0',
        inclusionProof: {
          logIndex: 7,
          rootHash: 'ee'.repeat(32),
          treeSize: 8,
          hashes: ['ff'.repeat(32)],
          checkpoint: 'cp\n',
        },
      },
    },
  };
  const paths: string[] = [];
  handler = (req, _b, res) => {
    paths.push(`${req.method} ${req.url}`);
    if (req.method === 'POST') {
      res.writeHead(409, {
        location: '/api/v1/log/entries/abc',
        'content-type': 'application/json',
      });
      res.end(
        JSON.stringify({
          code: 409,
          message: 'An equivalent entry already exists in the transparency log',
        }),
      );
      return;
    }
    res.end(JSON.stringify(entry));
  };
  const e = await createEntryV1(
    base,
    hashedrekordV001({
      digest: new Uint8Array(32),
      signature: new Uint8Array([1]),
      verifierPem: 'PEM',
    }),
  );
  assert.deepEqual(paths, ['POST /api/v1/log/entries', 'GET /api/v1/log/entries/abc']);
  assert.deepEqual(e, {
    logIndex: '7',
    logId: { keyId: Buffer.from('cd'.repeat(32), 'hex').toString('base64') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    integratedTime: '1700000000',
    canonicalizedBody: body,
    inclusionPromise: { signedEntryTimestamp: 'c2V0' },
    inclusionProof: {
      logIndex: '7',
      rootHash: Buffer.from('ee'.repeat(32), 'hex').toString('base64'),
      treeSize: '8',
      hashes: [Buffer.from('ff'.repeat(32), 'hex').toString('base64')],
      checkpoint: { envelope: 'cp\n' },
    },
  });
  handler = (_q, _b, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('database is down');
  };
  await assert.rejects(
    createEntryV1(base, {}),
    /Rekor v1\) at .* answered HTTP 500: database is down/,
  );
});

test('Rekor v1 entries without proof or SET, or with a bad logID, are refused', () => {
  const where = { service: 'rekor', url: 'u' };
  const body = Buffer.from('{"kind":"hashedrekord","apiVersion":"0.0.1"}').toString('base64');
  assert.throws(
    () =>
      toTlogEntry({ x: { body, integratedTime: 1, logID: 'cd'.repeat(32), logIndex: 1 } }, where),
    /neither a signedEntryTimestamp nor an inclusion proof/,
  );
  assert.throws(
    () => toTlogEntry({ x: { body, integratedTime: 1, logID: 'zz', logIndex: 1 } }, where),
    /logID is not 64 hex/,
  );
  assert.throws(() => toTlogEntry({}, where), /expected one log entry, got 0/);
});

test('TSA: a DER TimeStampReq; a rejection status and non-DER answers are errors', async () => {
  let seen: { url?: string; ct?: string; accept?: string; raw: Buffer } | undefined;
  handler = (req, _b, res, raw) => {
    seen = { url: req.url, ct: req.headers['content-type'], accept: req.headers.accept, raw };
    // TimeStampResp { status { status: rejection(2), statusString { UTF8String "bad a" } } }
    res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
    res.end(Buffer.from('300e300c02010230070c056261642061', 'hex'));
  };
  await assert.rejects(
    fetchTimestamp(`${base}/tsr`, new Uint8Array([1, 2, 3])),
    (e: unknown) =>
      e instanceof SignetError &&
      e.code === 'TIMESTAMP_REJECTED' &&
      e.message ===
        `the timestamp authority at ${base}/tsr did not grant the timestamp: rejection: bad a`,
  );
  // RFC 3161 §3.4: the DER request, as cosign sends it: SHA-256 of the signature, a nonce, certReq.
  assert.equal(seen?.url, '/tsr');
  assert.equal(seen?.ct, 'application/timestamp-query');
  assert.equal(seen?.accept, 'application/timestamp-reply');
  const q = parseTimestampRequest(new Uint8Array(seen!.raw));
  assert.equal(q.hashAlgorithm, 'sha256');
  assert.equal(
    Buffer.from(q.digest).toString('base64'),
    'A5BYxvLAy0ksUzsKTRTvd8wPeKvMztUofYShogEc+4E=',
  );
  assert.equal(q.certReq, true);
  assert.equal(typeof q.nonce, 'bigint');
  // As Go's digitorus/timestamp writes a refusal (CreateErrorResponse): a failInfo bit, no
  // text, the BIT STRING padded to 4 bytes.
  handler = (_q, _b, res) => res.end(Buffer.from('300c300a02010203050520000000', 'hex'));
  await assert.rejects(
    fetchTimestamp(`${base}/api/v1/timestamp`, new Uint8Array([1])),
    /at .*\/api\/v1\/timestamp did not grant the timestamp: rejection \(badRequest\)$/,
  );
  handler = (_q, _b, res) => res.end('not der');
  await assert.rejects(
    fetchTimestamp(base, new Uint8Array([1])),
    /the response is not a valid TimeStampResp/,
  );
});

test('TSA URL: the endpoint as given, else a Sigstore TSA base URL with its API path', async () => {
  // A signing config's URL (path ends in /timestamp) is the endpoint; any other is asked as
  // given (cosign's --timestamp-server-url), then as a base URL (sigstore-js, Signet's $S/tsa).
  assert.deepEqual(timestampEndpoints('http://h/api/v1/timestamp/'), ['http://h/api/v1/timestamp']);
  assert.deepEqual(timestampEndpoints('http://h/tsa'), [
    'http://h/tsa',
    'http://h/tsa/api/v1/timestamp',
  ]);
  assert.deepEqual(timestampEndpoints('http://h/'), ['http://h', 'http://h/api/v1/timestamp']);
  let asked: string[] = [];
  // A TSA that serves only /x/api/v1/timestamp, and answers 404 or 405 (as go-swagger and
  // Signet do for a path that is not a route) anywhere else.
  const only =
    (path: string, elsewhere: number): Handler =>
    (req, _b, res) => {
      asked.push(req.url ?? '');
      if (req.url !== path) return void res.writeHead(elsewhere).end('{"message":"not here"}');
      res.end(Buffer.from('300e300c02010230070c056261642061', 'hex'));
    };
  const granted = /did not grant the timestamp: rejection: bad a$/;
  for (const elsewhere of [404, 405]) {
    handler = only('/x/api/v1/timestamp', elsewhere);
    asked = [];
    await assert.rejects(fetchTimestamp(`${base}/x`, new Uint8Array([1])), (e: unknown) => {
      assert.match((e as Error).message, granted);
      assert.ok((e as Error).message.includes(`at ${base}/x/api/v1/timestamp `));
      return true;
    });
    assert.deepEqual(asked, ['/x', '/x/api/v1/timestamp'], String(elsewhere));
  }
  // The endpoint itself: asked once; a 404 there is reported as it is.
  handler = only('/x/api/v1/timestamp', 404);
  asked = [];
  await assert.rejects(fetchTimestamp(`${base}/x/api/v1/timestamp`, new Uint8Array([1])), granted);
  assert.deepEqual(asked, ['/x/api/v1/timestamp']);
  asked = [];
  await assert.rejects(
    fetchTimestamp(`${base}/y/api/v1/timestamp`, new Uint8Array([1])),
    /: the timestamp authority at .*\/y\/api\/v1\/timestamp answered HTTP 404: not here$/,
  );
  assert.deepEqual(asked, ['/y/api/v1/timestamp']);
  // No TSA at either: one line naming both.
  asked = [];
  await assert.rejects(
    fetchTimestamp(`${base}/y`, new Uint8Array([1])),
    (e: unknown) =>
      e instanceof SignetError &&
      e.kind === 'not-found' &&
      e.message ===
        `the timestamp authority at ${base}/y answered HTTP 404 (and at ${base}/y/api/v1/timestamp HTTP 404): no timestamp authority there`,
  );
  assert.deepEqual(asked, ['/y', '/y/api/v1/timestamp']);
  // Any other answer at the URL as given is that TSA's: no second request.
  handler = (req, _b, res) => {
    asked.push(req.url ?? '');
    res.writeHead(400).end('bad request: not a TimeStampReq');
  };
  asked = [];
  await assert.rejects(
    fetchTimestamp(`${base}/tsr`, new Uint8Array([1])),
    /at .*\/tsr answered HTTP 400: bad request: not a TimeStampReq$/,
  );
  assert.deepEqual(asked, ['/tsr']);
});

test('503/429 answers are retried (Retry-After honoured), then the last answer is reported', async () => {
  const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
  let calls = 0;
  handler = (_q, _b, res) => {
    calls++;
    if (calls === 1) {
      res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'too many entries in flight, retry' }));
    } else if (calls === 2) {
      res.writeHead(429);
      res.end();
    } else
      res.end(JSON.stringify({ signedCertificateEmbeddedSct: { chain: { certificates: [pem] } } }));
  };
  const t0 = Date.now();
  assert.deepEqual(await createSigningCertificate(base, pkr), { chain: [pem] });
  assert.equal(calls, 3);
  assert.ok(Date.now() - t0 < 2000);

  calls = 0;
  handler = (_q, _b, res) => {
    calls++;
    res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'log is busy' }));
  };
  await assert.rejects(
    createEntryV2(base, {}),
    (e: unknown) =>
      e instanceof SignetError &&
      e.kind === 'unavailable' &&
      /answered HTTP 503: log is busy/.test(e.message),
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(createEntryV2(base, {}, { retries: 0 }), /HTTP 503/);
  assert.equal(calls, 1);
});

test('service URLs from flags must parse and be http(s); the error names the flag', async () => {
  const { httpUrl } = await import('../../../src/services/http/outbound.ts');
  assert.equal(httpUrl('http://127.0.0.1:8080/x', '--server').port, '8080');
  assert.throws(() => httpUrl('localhost', '--server'), /--server: "localhost" is not a URL/);
  assert.throws(
    () => httpUrl('ftp://example.com', '--server'),
    (e: unknown) =>
      e instanceof SignetError &&
      e.message === '--server: "ftp://example.com" is not an http(s) URL',
  );
});

test('Rekor v1 entries that are not objects, or whose proof hashes are not SHA-256 hex, are refused as bad responses', () => {
  const where = { service: 'rekor', url: 'u' };
  const body = Buffer.from('{"kind":"hashedrekord","apiVersion":"0.0.1"}').toString('base64');
  const entry = (inclusionProof: unknown) => ({
    x: {
      body,
      integratedTime: 1,
      logID: 'cd'.repeat(32),
      logIndex: 1,
      verification: { inclusionProof },
    },
  });
  const proof = {
    logIndex: 1,
    treeSize: 2,
    rootHash: 'ab'.repeat(32),
    hashes: ['ef'.repeat(32)],
    checkpoint: 'cp\n',
  };
  assert.equal(toTlogEntry(entry(proof), where).inclusionProof?.hashes.length, 1);
  for (const e of [null, 'entry', 7])
    assert.throws(
      () => toTlogEntry({ x: e }, where),
      (err: unknown) => {
        assert.ok(err instanceof SignetError, String(err));
        return /log entry is not a JSON object/.test(err.message);
      },
    );
  for (const bad of [
    { rootHash: 'abc' },
    { rootHash: 'zz'.repeat(32) },
    { hashes: ['abc'] },
    { hashes: [''] },
  ])
    assert.throws(
      () => toTlogEntry(entry({ ...proof, ...bad }), where),
      /must be 64 hex characters/,
      JSON.stringify(bad),
    );
});

test('a response body without Content-Length is cut off at the size limit, not read to the end first', async () => {
  // 17 MiB (over the 16 MiB limit) in chunks, then the server stalls without ending the
  // response: only a reader that counts as it goes can answer before the timeout.
  let stalled: http.ServerResponse | undefined;
  handler = (_q, _b, res) => {
    stalled = res;
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    for (let i = 0; i < 17; i++) res.write(chunk);
  };
  const started = Date.now();
  await assert.rejects(fetchSigningConfigJson(base, { timeoutMs: 4000 }), (e: unknown) => {
    assert.ok(e instanceof SignetError, String(e));
    assert.match(e.message, /too large/);
    return true;
  });
  assert.ok(Date.now() - started < 4000, 'answered before the timeout');
  stalled?.destroy();
});

test('Rekor v2: proof indexes must be integers and proof hashes base64 SHA-256, or the answer is a bad response', async () => {
  const proof = {
    logIndex: '3',
    rootHash: Buffer.alloc(32, 1).toString('base64'),
    treeSize: '4',
    hashes: [Buffer.alloc(32, 2).toString('base64')],
    checkpoint: { envelope: 'cp\n' },
  };
  const answer = (p: Record<string, unknown>) => ({
    logIndex: '3',
    logId: { keyId: 'a2V5' },
    kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
    inclusionProof: p,
    canonicalizedBody: 'e30=',
  });
  let reply: unknown = answer(proof);
  handler = (_q, _b, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply));
  };
  const ok = await createEntryV2(base, {});
  assert.deepEqual(ok.inclusionProof, proof);
  // protojson leaves out an empty list
  reply = answer({ ...proof, hashes: undefined });
  assert.deepEqual((await createEntryV2(base, {})).inclusionProof?.hashes, []);
  for (const bad of [
    { logIndex: undefined },
    { treeSize: '-1' },
    { treeSize: 'x' },
    { rootHash: undefined },
    { rootHash: 'AAAA' },
    { hashes: ['AAAA'] },
    { hashes: 'notalist' },
  ]) {
    reply = answer({ ...proof, ...bad });
    await assert.rejects(createEntryV2(base, {}), (e: unknown) => {
      assert.ok(e instanceof SignetError, String(e));
      assert.match(
        e.message,
        /inclusionProof\.(logIndex|treeSize|rootHash|hashes)/,
        JSON.stringify(bad),
      );
      return true;
    });
  }
});

test('onSent: called when the request is on the wire, before the answer, once per attempt', async () => {
  let answer!: () => void;
  const held = new Promise<void>((r) => {
    let calls = 0;
    handler = (_q, body, res) => {
      calls++;
      assert.equal(body, 'hello');
      if (calls === 1) {
        res.writeHead(503, { 'retry-after': '0' });
        res.end();
      } else {
        answer = () => res.end('{}');
        r();
      }
    };
  });
  let sent = 0;
  let secondSent!: () => void;
  const onTheWire = new Promise<void>((r) => (secondSent = r));
  const reply = send(
    { service: 'a test server', method: 'POST', url: base, body: 'hello' },
    { onSent: () => ++sent === 2 && secondSent() },
  );
  // The server holds its answer to the retry until onSent has said the request went out.
  const waited = await Promise.race([
    onTheWire.then(() => 'sent'),
    new Promise((r) => setTimeout(() => r('timed out'), 5000)),
  ]);
  assert.equal(waited, 'sent');
  await held;
  answer();
  assert.equal((await reply).status, 200);
  assert.equal(sent, 2);
});
