// Rekor's refusals in the shape of each API. Rekor v2's write API is rekor-tiles' grpc-gateway:
// an error is google.rpc.Status as JSON, {code: <gRPC code>, message, details: []}, with the
// HTTP status grpc-gateway gives that code. Rekor v1 is go-swagger: {code: <HTTP status>,
// message}. Tile reads are files, outside the gateway. Signet's own clients show each refusal in
// one line.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEntryV1 } from '../../../src/client/http/rekor-v1.ts';
import { createEntryV2 } from '../../../src/client/http/rekor-v2.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { dsseV1, ecSigner, hashedRekordV1, hashedRekordV2, statement } from './fixtures.ts';
import { startRekor, type RekorServer } from './harness.ts';

let s: RekorServer;
before(async () => {
  s = await startRekor();
});
after(async () => {
  await s?.close();
});

interface Answer {
  status: number;
  type: string;
  headers: Headers;
  body: Record<string, unknown>;
}

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Answer> {
  const r = await fetch(`${s.rekor}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: r.status,
    type: r.headers.get('content-type') ?? '',
    headers: r.headers,
    body: (await r.json()) as Record<string, unknown>,
  };
}

/** Exactly rekor-tiles' error body: the gRPC code, the message, empty details, nothing else. */
function assertGrpcError(what: string, a: Answer, status: number, code: number, message: RegExp) {
  assert.equal(a.status, status, `${what}: ${JSON.stringify(a.body)}`);
  assert.match(a.type, /^application\/json/, what);
  assert.deepEqual(Object.keys(a.body), ['code', 'message', 'details'], what);
  assert.equal(a.body.code, code, `${what}: gRPC code`);
  assert.deepEqual(a.body.details, [], what);
  assert.match(a.body.message as string, message, what);
}

test('v2 reads a write of any media type as JSON, as grpc-gateway does; v1 keeps its own', async () => {
  const signer = ecSigner();
  for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
    const body = hashedRekordV2(signer, Buffer.from(`${type} ${Math.random()}`));
    const a = await post('/api/v2/log/entries', body, { 'content-type': type });
    assert.equal(a.status, 201, `${type}: ${JSON.stringify(a.body)}`);
    assertGrpcError(
      `${type}, not JSON`,
      await post('/api/v2/log/entries', '{nope', { 'content-type': type }),
      400,
      3,
      /^request body is not valid JSON/,
    );
  }
  // Rekor v1 (go-swagger) consumes application/json only.
  const v1 = await post('/api/v1/log/entries', hashedRekordV1(signer, Buffer.from('v1')), {
    'content-type': 'application/x-www-form-urlencoded',
  });
  assert.equal(v1.status, 415, JSON.stringify(v1.body));
});

test('v1 POSTs refuse a body of another media type, or of none, in one line naming it (415, as go-swagger); nothing is stored', async () => {
  const signer = ecSigner();
  const size = async () =>
    ((await (await fetch(`${s.rekor}/api/v1/log`)).json()) as { treeSize: number }).treeSize;
  const before = await size();
  const bodies: Record<string, unknown> = {
    '/api/v1/log/entries': hashedRekordV1(signer, Buffer.from('sent as text')),
    '/api/v1/log/entries/retrieve': { logIndexes: [0] },
    '/api/v1/index/retrieve': { hash: `sha256:${'0'.repeat(64)}` },
  };
  for (const [path, body] of Object.entries(bodies)) {
    // A JSON body sent as text/plain (curl -H 'Content-Type: text/plain' -d @entry.json), as a
    // form (curl -d's default) and with no Content-Type at all.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const r = await fetch(`${s.rekor}${path}`, {
        method: 'POST',
        headers: type === undefined ? {} : { 'content-type': type },
        body: Buffer.from(JSON.stringify(body)), // bytes: fetch adds no Content-Type of its own
      });
      assert.deepEqual(await r.json(), {
        code: 415,
        message: `${type === undefined ? 'no Content-Type' : `unsupported Content-Type "${type}"`}: send application/json`,
        error: 'UNSUPPORTED_MEDIA_TYPE',
      });
      assert.equal(r.status, 415, `${path} ${type}`);
    }
    // The same body as application/json (with parameters, in any case) is read.
    const ok = await post(path, body, { 'content-type': 'Application/JSON; charset=utf-8' });
    assert.ok(ok.status === 201 || ok.status === 200, `${path}: ${JSON.stringify(ok.body)}`);
  }
  assert.equal(await size(), before + 1, 'only the application/json entry was logged');
});

test('v2 refusals: status, gRPC code and the reason, as rekor-tiles writes them', async () => {
  const signer = ecSigner();
  const good = hashedRekordV2(signer, Buffer.from(`errors ${Math.random()}`));
  const created = await post('/api/v2/log/entries', good);
  assert.equal(created.status, 201);
  const badSig = hashedRekordV2(signer, Buffer.from('x'), {
    signature: new Uint8Array(Buffer.from('3006020101020101', 'hex')),
  });
  const cases: Array<[string, unknown, number, number, RegExp]> = [
    [
      'not JSON',
      '{nope',
      400,
      3,
      /^request body is not valid JSON \(a syntax error at position 1\)$/,
    ],
    ['an empty body', '', 400, 3, /^request body is not valid JSON \(it is empty\)$/],
    ['a JSON array', [], 400, 3, /./],
    ['no kind', {}, 400, 3, /./],
    ['an unknown kind', { fooRequestV002: {} }, 400, 3, /fooRequestV002/],
    [
      'a bad signature',
      badSig,
      400,
      3,
      /^hashedRekordRequestV002\.signature\.content: .*does not verify/,
    ],
    [
      'key details not allowed',
      hashedRekordV2(signer, Buffer.from('x'), { keyDetails: 'PKIX_ED25519' }),
      400,
      3,
      /^hashedRekordRequestV002\.signature\.verifier\.keyDetails: .*not supported/,
    ],
    [
      'too large',
      { hashedRekordRequestV002: { digest: 'A'.repeat(5 * 1024 * 1024) } },
      413,
      8,
      /^request body is larger than the limit of 4194304 bytes$/,
    ],
    // AlreadyExists, with the index of the entry there (x-log-index).
    ['a duplicate', good, 409, 6, /already exists/],
  ];
  // The current shard through the service URL (the signing config's) and its own URL.
  for (const path of ['/api/v2/log/entries', '/shards/1/api/v2/log/entries'])
    for (const [what, body, status, code, message] of cases) {
      const a = await post(path, body);
      assertGrpcError(`${path} ${what}`, a, status, code, message);
      if (status === 409)
        assert.equal(a.headers.get('x-log-index'), (created.body as { logIndex: string }).logIndex);
    }
});

test("v1 refusals keep go-swagger's shape: code is the HTTP status", async () => {
  const signer = ecSigner();
  const good = hashedRekordV1(signer, Buffer.from(`v1 errors ${Math.random()}`));
  assert.equal((await post('/api/v1/log/entries', good)).status, 201);
  const bad = hashedRekordV1(signer, Buffer.from('y'), {
    signature: new Uint8Array(Buffer.from('3006020101020101', 'hex')),
  });
  for (const [what, a, status] of [
    ['not JSON', await post('/api/v1/log/entries', '{nope'), 400],
    ['bad signature', await post('/api/v1/log/entries', bad), 400],
    ['duplicate', await post('/api/v1/log/entries', good), 409],
  ] as const) {
    assert.equal(a.status, status, what);
    assert.equal(a.body.code, status, `${what}: code is the status`);
    assert.equal(typeof a.body.message, 'string', what);
    assert.equal(a.body.details, undefined, what);
  }
});

test('a key twice in one object is refused on every JSON route, naming the key; an Object.prototype name is an unknown field; nothing is stored', async () => {
  const signer = ecSigner();
  const size = async () =>
    ((await (await fetch(`${s.rekor}/api/v1/log`)).json()) as { treeSize: number }).treeSize;
  const before = await size();
  /** `body` as JSON text with `"key":<decoy>,` written before the (first) real `"key":`. */
  const twice = (body: unknown, key: string, decoy: string) =>
    JSON.stringify(body).replace(`"${key}":`, `"${key}":${decoy},"${key}":`);
  const data = Buffer.from(`twice ${Math.random()}`);
  // JSON.parse kept the last value: a reader that keeps the first saw another entry.
  const v1 = hashedRekordV1(signer, data);
  const v2 = hashedRekordV2(signer, data);
  const dsse = dsseV1(signer, statement('c'.repeat(64)));
  const env = JSON.parse(dsse.spec.proposedContent.envelope) as Record<string, unknown>;
  dsse.spec.proposedContent.envelope = twice(env, 'payloadType', '"text/plain"');
  const v1Cases: Array<[string, string, string, RegExp]> = [
    [
      'v1 entry',
      '/api/v1/log/entries',
      twice(v1, 'value', `"${'0'.repeat(64)}"`),
      /^request body has the key "value" twice in one object$/,
    ],
    [
      'v1 retrieve',
      '/api/v1/log/entries/retrieve',
      twice({ logIndexes: [0] }, 'logIndexes', '[1]'),
      /^request body has the key "logIndexes" twice in one object$/,
    ],
    [
      'v1 index search',
      '/api/v1/index/retrieve',
      twice({ hash: `sha256:${'0'.repeat(64)}` }, 'hash', `"sha256:${'1'.repeat(64)}"`),
      /^request body has the key "hash" twice in one object$/,
    ],
    // In the DSSE envelope, a JSON string inside the body: the reason is kept.
    [
      'v1 dsse envelope',
      '/api/v1/log/entries',
      JSON.stringify(dsse),
      /^spec\.proposedContent\.envelope: is not a JSON DSSE envelope: has the key "payloadType" twice in one object$/,
    ],
    // JSON.parse makes "__proto__" an ordinary key (no prototype is set): the typed reader
    // names it as the unknown field it is, where fastify's parser called the body "not valid
    // JSON (a syntax error)".
    [
      'v1 __proto__ key',
      '/api/v1/log/entries',
      `{"__proto__":{"kind":"x"},${JSON.stringify(v1).slice(1)}`,
      /^__proto__: is not a known field$/,
    ],
    [
      'v1 constructor.prototype',
      '/api/v1/log/entries',
      `{"constructor":{"prototype":{"x":1}},${JSON.stringify(v1).slice(1)}`,
      /^constructor: is not a known field$/,
    ],
    [
      'v1 spec.__proto__',
      '/api/v1/log/entries',
      JSON.stringify(v1).replace('"spec":{', '"spec":{"__proto__":{},'),
      /^spec\.__proto__: is not a known field$/,
    ],
  ];
  for (const [what, path, text, message] of v1Cases) {
    const a = await post(path, text);
    assert.equal(a.status, 400, `${what}: ${JSON.stringify(a.body)}`);
    assert.equal(a.body.code, 400, what);
    assert.match(a.body.message as string, message, what);
  }
  for (const path of ['/api/v2/log/entries', '/shards/1/api/v2/log/entries'])
    for (const type of ['application/json', 'text/plain'])
      assertGrpcError(
        `${path} ${type}`,
        await post(path, twice(v2, 'digest', '"AAAA"'), { 'content-type': type }),
        400,
        3,
        /^request body has the key "digest" twice in one object$/,
      );
  assert.equal(await size(), before, 'nothing was logged');
});

test("tile reads and Signet's v2 search are no gateway routes: the project's shape", async () => {
  for (const path of ['/tile/0/999', '/api/v2/tile/0/999', '/api/v2/index?hash=zz']) {
    const r = await fetch(`${s.rekor}${path}`);
    const body = (await r.json()) as Record<string, unknown>;
    assert.ok(r.status === 404 || r.status === 400, path);
    assert.equal(body.code, r.status, path);
    assert.equal(typeof body.error, 'string', path);
  }
});

test("Signet's Rekor clients show a refusal in one line, with the status and the reason", async () => {
  const signer = ecSigner();
  const v2 = `${s.rekor}/api/v2/log/entries`;
  const bad = hashedRekordV2(signer, Buffer.from('z'), {
    signature: new Uint8Array(Buffer.from('3006020101020101', 'hex')),
  });
  const good = hashedRekordV2(signer, Buffer.from(`client ${Math.random()}`));
  await createEntryV2(s.rekor, good);
  for (const [request, kind, line] of [
    [
      bad,
      'invalid-input',
      `the transparency log (Rekor v2) at ${v2} answered HTTP 400: hashedRekordRequestV002.signature.content: `,
    ],
    [
      good,
      'conflict',
      `the transparency log (Rekor v2) at ${v2} answered HTTP 409: an equivalent entry already exists in the log at index `,
    ],
  ] as const)
    await assert.rejects(
      createEntryV2(s.rekor, request),
      (e: unknown) =>
        e instanceof SignetError &&
        e.kind === kind &&
        e.message.startsWith(line) &&
        !e.message.includes('\n'),
    );
  const v1bad = hashedRekordV1(signer, Buffer.from('w'), {
    signature: new Uint8Array(Buffer.from('3006020101020101', 'hex')),
  });
  await assert.rejects(
    createEntryV1(s.rekor, v1bad),
    (e: unknown) =>
      e instanceof SignetError &&
      e.kind === 'invalid-input' &&
      e.message.startsWith(
        `the transparency log (Rekor v1) at ${s.rekor}/api/v1/log/entries answered HTTP 400: spec.signature.content: `,
      ) &&
      !e.message.includes('\n'),
  );
});

test('a frozen shard refuses writes with 405 and gRPC code 12 (Unimplemented), as rekor-tiles', async () => {
  const first = await startRekor();
  const dataDir = first.dataDir;
  await first.close();
  KeyRing.rotate(dataDir, 'rekor');
  const second = await startRekor({ dataDir });
  try {
    const r = await fetch(`${second.rekor}/shards/1/api/v2/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hashedRekordV2(ecSigner(), Buffer.from('late'))),
    });
    assertGrpcError(
      'frozen',
      {
        status: r.status,
        type: r.headers.get('content-type') ?? '',
        headers: r.headers,
        body: (await r.json()) as Record<string, unknown>,
      },
      405,
      12,
      /frozen/,
    );
    assert.equal(r.headers.get('allow'), '');
  } finally {
    await second.close();
  }
});
