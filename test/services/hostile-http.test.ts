// Hostile input against every HTTP endpoint of a whole stack on loopback (and the witness
// server): wrong JSON types, missing and extra fields, Object.prototype names as keys and values,
// huge values, bad encodings, duplicate keys, numbers out of range, bad query parameters and path
// segments, and HTTP-level oddities. Each answer is a 4xx in the endpoint's error shape that is
// one bounded line (never a 500, a hang, a stack trace or an echo of the input), and a refused
// request stores nothing (the logs' sizes are compared before and after).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { stackToken, tempStack } from '../helpers/stack.ts';
import { explorerBundleCheck } from '../../src/cli/explorer-check.ts';
import { startWitness } from '../../src/services/witness/server.ts';
import { leafHash } from '../../src/core/merkle/hash.ts';
import { rootOf } from '../../src/core/merkle/tree.ts';
import { signCheckpoint } from '../../src/core/note/checkpoint.ts';
import { noteSigner } from '../../src/core/note/keys.ts';
import { formatAddCheckpoint } from '../../src/core/note/add-checkpoint.ts';
import {
  dsseV1,
  dsseV2,
  ecSigner,
  hashedRekordV1,
  hashedRekordV2,
  intotoV2,
  statement,
} from './rekor/fixtures.ts';
import { assertErrorShape } from '../helpers/error-shape.ts';

const stack = await tempStack({ checkBundle: explorerBundleCheck });
after(() => stack.close());
const token = await stackToken(stack.url);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

// ---- bodies: JSON with what JSON.stringify cannot write (raw numbers, duplicate keys, bad UTF-8)

/** A value written as raw JSON text (`1e400`, `-0`, `9007199254740993`). */
const raw = (text: string): string => `\u0000RAW:${text}\u0000`;
/** A key written as `name` next to the real one: a duplicate key. */
const dup = (name: string): string => `\u0000DUP:${name}\u0000`;
/** A string whose bytes are not UTF-8. */
const BAD_UTF8 = '\u0000BADUTF8\u0000';

function encode(v: Json): Buffer {
  const text = JSON.stringify(v)
    .replace(/"\\u0000RAW:([^\\]*)\\u0000"/g, (_m, t: string) => t)
    .replace(/"\\u0000DUP:([^\\]*)\\u0000"/g, (_m, t: string) => JSON.stringify(t));
  const [a, b] = text.split(JSON.stringify(BAD_UTF8).slice(1, -1));
  return b === undefined
    ? Buffer.from(a!)
    : Buffer.concat([Buffer.from(a!), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(b)]);
}

/** What each field of each body is replaced with (`undefined`: the field is removed). */
const HOSTILE: Array<[string, Json | undefined]> = [
  ['removed', undefined],
  ['null', null],
  ['true', true],
  ['-1', -1],
  ['0.5', 0.5],
  ['2^53+1', raw('9007199254740993')],
  ['1e400', raw('1e400')],
  ['""', ''],
  ['constructor', 'constructor'],
  ['__proto__', '__proto__'],
  ['toString', 'toString'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['valueOf', 'valueOf'],
  ['invalid base64', '!!!not base64'],
  ['base64url', '-_-_'],
  ['non-canonical base64', 'AB=='],
  ['NUL', 'a\u0000b'],
  ['lone surrogate', '\ud800'],
  ['invalid UTF-8', BAD_UTF8],
  ['a megabyte string', 'A'.repeat(1_000_000)],
  ['[]', []],
  ['{}', {}],
  ['{constructor}', { constructor: 1 }],
  ['a 100,000-element array', new Array<Json>(100_000).fill(0)],
];
const PROTO_KEYS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

function paths(v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}
const at = (root: Json, p: Path): Json =>
  p.reduce<Json>((c, k) => (c as Record<string | number, Json>)[k]!, root);

/** `root` with the value at `p` replaced (or removed, for `undefined`). */
function setAt(root: Json, p: Path, value: Json | undefined): Json {
  if (p.length === 0) return value ?? null;
  const copy = structuredClone(root);
  const parent = at(copy, p.slice(0, -1)) as Record<string | number, Json>;
  const last = p[p.length - 1]!;
  if (value !== undefined) parent[last] = value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

/** `root` with `key: value` first in the object at `p`. */
function withKey(root: Json, p: Path, key: string, value: Json): Json {
  const copy = structuredClone(root);
  const o = at(copy, p) as Record<string, Json>;
  const entries = Object.entries(o);
  for (const k of Object.keys(o)) delete o[k];
  o[key] = value;
  for (const [k, x] of entries) o[k] = x;
  return copy;
}

/** Every hostile variant of a valid body: each field replaced, keys added and duplicated. */
function* variants(base: Json): Generator<[string, Buffer]> {
  for (const p of paths(base))
    for (const [name, v] of HOSTILE)
      if (p.length > 0 || v !== undefined)
        yield [`${p.join('.') || '(body)'} = ${name}`, encode(setAt(base, p, v))];
  for (const p of paths(base)) {
    const o = at(base, p);
    if (o === null || typeof o !== 'object' || Array.isArray(o)) continue;
    for (const k of PROTO_KEYS) yield [`${p.join('.')} + ${k}`, encode(withKey(base, p, k, 'x'))];
    for (const k of Object.keys(o))
      yield [
        `${p.join('.')}.${k} twice, "constructor" first`,
        encode(withKey(base, p, dup(k), 'constructor')),
      ];
  }
  const text = encode(base).toString();
  for (const [name, body] of [
    ['an empty body', ''],
    ['not JSON', 'hello'],
    ['truncated JSON', text.slice(0, 20)],
    ['a JSON array', '[]'],
    ['a JSON string', '"x"'],
    ['1e400', '1e400'],
    ['JSON nested 100,000 levels deep', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['a __proto__ key', '{"__proto__":{"x":1}}'],
    ['constructor.prototype', '{"constructor":{"prototype":{"x":1}}}'],
    ['a byte order mark', `\ufeff${text}`],
  ] as const)
    yield [name, Buffer.from(body)];
}

// ---- answers

interface Answer {
  /** The path asked for (its API decides the error shape). */
  path: string;
  status: number;
  text: string;
  type: string;
}

async function send(urlPath: string, init: RequestInit = {}): Promise<Answer> {
  const r = await fetch(stack.url + urlPath, { ...init, signal: AbortSignal.timeout(20_000) });
  return {
    path: urlPath,
    status: r.status,
    text: await r.text(),
    type: r.headers.get('content-type') ?? '',
  };
}

/**
 * A refusal in the project's JSON error shape: 4xx, `{code, message, error, field?}` (OAuth
 * endpoints add error_description), a one-line message of bounded length, no stack trace.
 */
function assertJsonRefusal(what: string, a: Answer): Record<string, unknown> {
  assert.ok(a.status >= 400 && a.status < 500, `${what}: ${a.status} ${a.text.slice(0, 300)}`);
  assert.match(a.type, /^application\/json/, `${what}: ${a.type}`);
  const body = JSON.parse(a.text) as Record<string, unknown>;
  assertErrorShape(what, a.path, a.status, body);
  assertBounded(what, a, body.message as string);
  return body;
}

function assertBounded(what: string, a: Answer, message: string): void {
  assert.ok(
    !message.includes('\n'),
    `${what}: a message of several lines: ${message.slice(0, 300)}`,
  );
  assert.ok(
    a.text.length < 3000,
    `${what}: a ${a.text.length}-byte answer: ${a.text.slice(0, 300)}`,
  );
  assert.doesNotMatch(a.text, /\n\s+at .*:\d+/, `${what}: a stack trace`);
}

/** A success or a refusal; never a 5xx, never an unbounded error. */
function assertNoFault(what: string, a: Answer): void {
  if (a.status < 300) return;
  if (a.type.startsWith('application/json')) assertJsonRefusal(what, a);
  else {
    assert.ok(a.status >= 400 && a.status < 500, `${what}: ${a.status} ${a.text.slice(0, 300)}`);
    assert.ok(a.text.length < 20_000, `${what}: a ${a.text.length}-byte page`);
  }
}

async function sizes(): Promise<{ rekor: number; ct: number }> {
  const r = (await (await fetch(`${stack.url}/rekor/api/v1/log`)).json()) as { treeSize: number };
  const c = (await (await fetch(`${stack.url}/ctlog/ct/v1/get-sth`)).json()) as {
    tree_size: number;
  };
  return { rekor: r.treeSize, ct: c.tree_size };
}

/** Waits until the logs reach `want` (entries are sequenced in batches). */
async function settle(want: { rekor: number; ct: number }): Promise<{ rekor: number; ct: number }> {
  let got = await sizes();
  for (let i = 0; i < 100 && (got.rekor < want.rekor || got.ct < want.ct); i++) {
    await new Promise((r) => setTimeout(r, 50));
    got = await sizes();
  }
  return got;
}

// ---- valid bodies

const signer = ecSigner();
const artifact = (n: string) => Buffer.from(`hostile-http ${n}`);
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const proof = sign('sha256', Buffer.from('dev@signet.local'), privateKey).toString('base64');
const caV2: Json = {
  credentials: { oidcIdentityToken: token },
  publicKeyRequest: {
    publicKey: {
      algorithm: 'ECDSA',
      content: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
    proofOfPossession: proof,
  },
};
const caV1: Json = {
  publicKey: {
    algorithm: 'ecdsa',
    content: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  },
  signedEmailAddress: proof,
};
const issued = await send('/fulcio/api/v2/signingCert', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(caV2),
});
const chain = (
  JSON.parse(issued.text) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } }
).signedCertificateEmbeddedSct.chain.certificates.map((pem) =>
  pem.replace(/-----[^-]+-----|\s/g, ''),
);

/** The JSON write endpoints, each with a valid body. */
const WRITES: Array<{ name: string; path: string; body: Json; headers?: Record<string, string> }> =
  [
    {
      name: 'Rekor v1 hashedrekord',
      path: '/rekor/api/v1/log/entries',
      body: hashedRekordV1(signer, artifact('v1')),
    },
    {
      name: 'Rekor v1 dsse',
      path: '/rekor/api/v1/log/entries',
      body: dsseV1(signer, statement('ab'.repeat(32))),
    },
    {
      name: 'Rekor v1 intoto',
      path: '/rekor/api/v1/log/entries',
      body: intotoV2(signer, statement('cd'.repeat(32))),
    },
    {
      name: 'Rekor v2 hashedrekord',
      path: '/rekor/api/v2/log/entries',
      body: hashedRekordV2(signer, artifact('v2')),
    },
    {
      name: 'Rekor v2 dsse',
      path: '/rekor/api/v2/log/entries',
      body: dsseV2(signer, statement('ef'.repeat(32))),
    },
    {
      name: 'Rekor v1 retrieve',
      path: '/rekor/api/v1/log/entries/retrieve',
      body: {
        entryUUIDs: ['ab'.repeat(32)],
        logIndexes: [0],
        entries: [hashedRekordV1(signer, artifact('r'))],
      },
    },
    {
      name: 'Rekor v1 search index',
      path: '/rekor/api/v1/index/retrieve',
      body: {
        hash: `sha256:${'ab'.repeat(32)}`,
        email: 'a@b.c',
        subject: 'a@b.c',
        publicKey: { format: 'x509', content: Buffer.from(signer.pem).toString('base64') },
        operator: 'and',
      },
    },
    { name: 'CT add-chain', path: '/ctlog/ct/v1/add-chain', body: { chain } },
    { name: 'CT add-pre-chain', path: '/ctlog/ct/v1/add-pre-chain', body: { chain } },
    {
      name: 'TSA (JSON)',
      path: '/tsa/api/v1/timestamp',
      body: {
        artifactHash: createHash('sha256').update('x').digest('base64'),
        hashAlgorithm: 'sha256',
        nonce: 12345,
        certificates: true,
      },
    },
    {
      name: 'OIDC token',
      path: '/oidc/token',
      body: {
        grant_type: 'client_credentials',
        client_id: 'sigstore',
        subject: 'dev@signet.local',
      },
    },
    { name: 'OIDC device code', path: '/oidc/device/code', body: { client_id: 'sigstore' } },
    {
      name: 'explorer verify',
      path: '/explorer/api/verify',
      body: {
        bundle: '{}',
        bundleName: 'b.json',
        artifact: { name: 'a', digest: `sha256:${'ab'.repeat(32)}` },
      },
    },
  ];
const CA_WRITES = [
  { name: 'Fulcio v2 signingCert', path: '/fulcio/api/v2/signingCert', body: caV2, headers: {} },
  {
    name: 'Fulcio v1 signingCert',
    path: '/fulcio/api/v1/signingCert',
    body: caV1,
    headers: { authorization: `Bearer ${token}` },
  },
];

test('every JSON write endpoint answers hostile bodies with a bounded 4xx and stores nothing', async () => {
  for (const w of WRITES) {
    const post = (body: Buffer | string, contentType = 'application/json') =>
      send(w.path, {
        method: 'POST',
        headers: { 'content-type': contentType, ...w.headers },
        body,
      });
    // The valid body first: a mutation that leaves it valid is then a duplicate (409), not new.
    assertNoFault(`${w.name}: the valid body`, await post(encode(w.body)));
    const before = await settle(await sizes());
    // A mutation may still be valid (an extra field, a CT chain without its leaf or root): a
    // log may grow by at most one entry per success, and by none for a refusal.
    let successes = 0;
    const tryIt = async (what: string, body: Buffer, type?: string) => {
      const a = await post(body, type);
      assertNoFault(`${w.name}: ${what}`, a);
      if (a.status < 300) successes++;
    };
    for (const [what, body] of variants(w.body)) await tryIt(what, body);
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
    ])
      await tryIt(`Content-Type ${type}`, encode(w.body), type);
    const grown = await settle(before);
    assert.ok(
      grown.rekor - before.rekor <= successes && grown.ct - before.ct <= successes,
      `${w.name}: the logs grew from ${JSON.stringify(before)} to ${JSON.stringify(grown)} with ${successes} successes`,
    );
  }
});

test('the CA issues for valid requests only: each refused one adds nothing to the CT log', async () => {
  for (const w of CA_WRITES) {
    const before = await settle(await sizes());
    let issuedNow = 0;
    for (const [what, body] of variants(w.body)) {
      const a = await send(w.path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...w.headers },
        body,
      });
      assertNoFault(`${w.name}: ${what}`, a);
      if (a.status < 300) issuedNow++;
    }
    const want = { rekor: before.rekor, ct: before.ct + issuedNow };
    assert.deepEqual(await settle(want), want, `${w.name}: ${issuedNow} certificates issued`);
  }
});

test('the CA refuses a publicKey.algorithm of the wrong type, by its field (found by this run: any value was taken)', async () => {
  const v2 = (algorithm: Json) =>
    setAt(caV2, ['publicKeyRequest', 'publicKey', 'algorithm'], algorithm);
  const v1 = (algorithm: Json) => setAt(caV1, ['publicKey', 'algorithm'], algorithm);
  for (const bad of [{}, [], true, 0.5] as Json[]) {
    const a = await send('/fulcio/api/v2/signingCert', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(v2(bad)),
    });
    assert.match(
      assertJsonRefusal('v2', a).message as string,
      /^publicKeyRequest\.publicKey\.algorithm: must be a PublicKeyAlgorithm name/,
    );
    const b = await send('/fulcio/api/v1/signingCert', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(v1(bad)),
    });
    assert.match(
      assertJsonRefusal('v1', b).message as string,
      /^publicKey\.algorithm: must be a string$/,
    );
  }
  // What clients send: enum names and numbers (protojson), Fulcio's v1 free-form string.
  for (const ok of ['ECDSA', 2, null] as Json[]) {
    const a = await send('/fulcio/api/v2/signingCert', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(v2(ok)),
    });
    assert.equal(a.status, 200, a.text);
  }
});

/** Query parameters and path segments, each tried with every value of QUERY_VALUES. */
const QUERY_VALUES = [
  '',
  '-1',
  '0.5',
  '1e400',
  '9007199254740993',
  '99999999999999999999',
  '0x10',
  '+1',
  '01',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  '%00',
  '%ff',
  '%zz',
  '%E2%82',
  '%ED%A0%80',
  '..',
  '..%2F..%2Fetc',
  'x'.repeat(8000),
  '!!!',
  'a%20b',
];
const QUERIES = [
  '/ctlog/ct/v1/get-sth-consistency?first=1&second=$',
  '/ctlog/ct/v1/get-sth-consistency?first=$&second=2',
  '/ctlog/ct/v1/get-proof-by-hash?hash=$&tree_size=1',
  `/ctlog/ct/v1/get-proof-by-hash?hash=${encodeURIComponent(Buffer.alloc(32).toString('base64'))}&tree_size=$`,
  '/ctlog/ct/v1/get-entries?start=0&end=$',
  '/ctlog/ct/v1/get-entries?start=$&end=0',
  '/rekor/api/v1/log/entries?logIndex=$',
  '/rekor/api/v1/log/proof?lastSize=$',
  '/rekor/api/v1/log/proof?lastSize=1&firstSize=$',
  '/rekor/api/v1/log/proof?lastSize=1&treeID=$',
  '/rekor/api/v1/log/publicKey?treeID=$',
  '/rekor/api/v2/index?hash=$',
  '/rekor/api/v2/index?publicKey=$',
  '/rekor/api/v2/index?identity=$',
  '/rekor/api/v2/index?issuer=$',
  '/rekor/api/v2/index?identity=a&operator=$',
  '/rekor/api/v2/index?$=1',
  '/?q=$',
  '/?q=a@b.c&page=$',
  '/entry/0?shard=$',
  '/explorer/api/search?q=$',
  '/explorer/api/search?q=a@b.c&page=$',
  '/explorer/api/status?latest=$',
  '/explorer/api/entries/0?shard=$',
  '/oidc/device?user_code=$',
  '/oidc/auth?client_id=$',
  '/oidc/auth?client_id=sigstore&redirect_uri=$',
  '/rekor/api/v1/log/entries/$',
  '/rekor/shards/1/api/v1/log/entries/$',
  '/rekor/tile/$',
  '/rekor/tile/0/$',
  '/rekor/tile/entries/$',
  '/rekor/api/v2/tile/0/000.p/$',
  '/tuf/$',
  '/tuf/targets/$',
  '/entry/$',
  '/explorer/$',
  '/explorer/api/entries/$',
  '/oidc/kubernetes/$/.well-known/openid-configuration',
  '/$',
];

test('bad query parameters and path segments answer 2xx or a bounded 4xx, never a 5xx', async () => {
  for (const q of QUERIES)
    for (const v of QUERY_VALUES) {
      const url = q.replace('$', v);
      assertNoFault(`GET ${url.slice(0, 120)}`, await send(url));
    }
  // A parameter given twice is a mistake that names the parameter.
  for (const [url, field] of [
    ['/ctlog/ct/v1/get-entries?start=0&start=1&end=1', 'start'],
    ['/rekor/api/v1/log/entries?logIndex=0&logIndex=1', 'logIndex'],
    ['/rekor/api/v2/index?hash=a&hash=b', 'hash'],
    ['/explorer/api/status?latest=1&latest=2', 'latest'],
  ] as const)
    assert.equal(assertJsonRefusal(url, await send(url)).field, field);
  // Paths that climb out of the TUF repository or the explorer's assets find nothing.
  for (const url of [
    '/tuf/..%2F..%2Fkeys',
    '/tuf/targets/..%2F..%2Froot.json',
    '/explorer/..%2Fservice.ts',
  ])
    assert.equal((await send(url)).status, 404, url);
});

test('OIDC client authentication: Basic credentials with a malformed percent-escape are a 400, not a 500 (found by this run)', async () => {
  const basic = (user: string, pass: string) =>
    `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  for (const [user, pass, what] of [
    ['%zz', 'x', 'client_id'],
    ['sigstore', '%E2%82', 'client_secret'],
  ] as const)
    for (const endpoint of ['/oidc/token', '/oidc/device/code', '/oidc/github/token']) {
      const a = await send(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(user, pass),
        },
        body: 'grant_type=client_credentials&subject=dev%40signet.local',
      });
      const body = assertJsonRefusal(`${endpoint} ${what}`, a);
      assert.equal(a.status, 400);
      assert.equal(body.error, 'invalid_request');
      assert.match(body.message as string, new RegExp(`Authorization: the ${what} `));
    }
  // Prototype names and other oddities in the credentials are unknown clients (401).
  for (const auth of ['Basic !!!', 'Bearer', basic('constructor', 'x'), basic('__proto__', '')]) {
    const a = await send('/oidc/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: 'grant_type=client_credentials',
    });
    assert.equal(a.status, 401, `${auth}: ${a.text}`);
    assertJsonRefusal(auth, a);
  }
});

test('the explorer check quotes a bounded part of a bundle (found by this run: a verdict echoed 600 KB)', async () => {
  const bundle = JSON.parse(
    fs.readFileSync(
      'test/fixtures/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json',
      'utf8',
    ),
  ) as Json;
  const big = 'A'.repeat(200_000);
  for (const [p, field] of [
    [['mediaType'], 'mediaType'],
    [['verificationMaterial', 'tlogEntries', 0, 'logIndex'], 'logIndex'],
    [['verificationMaterial', 'tlogEntries', 0, 'integratedTime'], 'integratedTime'],
    [['messageSignature', 'messageDigest', 'digest'], 'messageDigest.digest'],
  ] as const) {
    const a = await send('/explorer/api/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        bundle: JSON.stringify(setAt(bundle, [...p], big)),
        artifact: { name: 'a', base64: 'aGVsbG8=' },
      }),
    });
    assert.equal(a.status, 200, a.text.slice(0, 300));
    assert.ok(a.text.length < 5000, `${p.join('.')}: a ${a.text.length}-byte answer`);
    const answer = JSON.parse(a.text) as { ok: boolean; verdict: string };
    assert.equal(answer.ok, false);
    assert.ok(answer.verdict.includes(field), `${p.join('.')}: ${answer.verdict.slice(0, 300)}`);
  }
});

/** Writes `parts` to a raw connection (numbers are pauses, in ms); returns what came back. */
function rawHttp(parts: Array<string | Buffer | number>, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(Number(new URL(stack.url).port), '127.0.0.1');
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    sock.on('data', () => {
      // A whole answer (headers, then a JSON body or none): no need to wait for the close.
      const [headers, body] = got.split(/\r\n\r\n(?!HTTP)/, 2) as [string, string?];
      const length = /\r\ncontent-length: (\d+)/i.exec(headers)?.[1];
      if (
        body !== undefined &&
        length !== undefined &&
        Buffer.byteLength(body, 'latin1') >= Number(length)
      )
        done();
    });
    sock.on('error', done);
    sock.on('close', done);
    const timer = setTimeout(done, waitMs);
    void (async () => {
      for (const p of parts)
        if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
        else if (!sock.destroyed) sock.write(p);
    })();
  });
}

const HEAD =
  'POST /rekor/api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
const statusOf = (answer: string) => /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1];

test('HTTP framing: chunked bodies, a body over the limit, framing Node refuses, a short body', async () => {
  const entry = JSON.stringify(hashedRekordV1(signer, artifact('chunked')));
  const chunk = (b: string) => `${Buffer.byteLength(b).toString(16)}\r\n${b}\r\n`;
  const before = await settle(await sizes());
  // A chunked body (no Content-Length), sent in two pieces: admitted.
  const ok = await rawHttp([
    `${HEAD}Transfer-Encoding: chunked\r\n\r\n`,
    chunk(entry.slice(0, 60)),
    50,
    chunk(entry.slice(60)),
    '0\r\n\r\n',
  ]);
  assert.equal(statusOf(ok), '201', ok.slice(0, 300));
  // A chunked body over the limit: 413 in the error shape.
  const tooBig = await rawHttp(
    [
      `${HEAD}Transfer-Encoding: chunked\r\n\r\n`,
      ...new Array<string>(70).fill(chunk('x'.repeat(65536))),
    ],
    5000,
  );
  assert.equal(statusOf(tooBig), '413', tooBig.slice(0, 300));
  assert.match(tooBig, /"error":"BODY_TOO_LARGE"/);
  // Framing Node's parser refuses: 400 in the error shape.
  for (const bad of [
    `${HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
    `${HEAD}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    `${HEAD}Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}    `,
    `${HEAD}Content-Length: -1\r\n\r\n{}`,
    `${HEAD}\r\n${entry}`,
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n',
  ]) {
    const a = await rawHttp([bad]);
    assert.equal(statusOf(a), '400', `${JSON.stringify(bad.slice(-40))}: ${a.slice(0, 200)}`);
    assert.match(a, /"error":"BAD_REQUEST"/);
  }
  // A body that ends before its Content-Length: the connection closes, nothing is stored.
  await rawHttp([`${HEAD}Content-Length: ${entry.length + 100}\r\n\r\n`, entry], 300);
  const want = { ...before, rekor: before.rekor + 1 };
  assert.deepEqual(await settle(want), want);
  // Expect: 100-continue is honoured.
  const cont = await rawHttp([
    `${HEAD}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n`,
    100,
    '{}',
  ]);
  assert.match(cont, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 400 /);
  assert.deepEqual(await sizes(), want);
});

test('a compressed body is a 415 naming Content-Encoding, an odd Expect a 417 in the error shape (found by this run: "not valid JSON", an empty 417)', async () => {
  const before = await sizes();
  // No service decodes a compressed body: it is not read as JSON or DER.
  for (const [url, type, body] of [
    [
      '/rekor/api/v1/log/entries',
      'application/json',
      gzipSync(JSON.stringify(hashedRekordV1(signer, artifact('gzip')))),
    ],
    ['/tsa/api/v1/timestamp', 'application/timestamp-query', gzipSync(Buffer.from([0x30, 0]))],
  ] as const) {
    const a = await send(url, {
      method: 'POST',
      headers: { 'content-type': type, 'content-encoding': 'gzip' },
      body,
    });
    assert.equal(a.status, 415, a.text);
    assert.equal(assertJsonRefusal(url, a).field, 'Content-Encoding');
  }
  const expect = await rawHttp([`${HEAD}Expect: something\r\nContent-Length: 2\r\n\r\n{}`]);
  assert.equal(statusOf(expect), '417', expect);
  assert.match(expect, /"field":"Expect"/);
  assert.deepEqual(await sizes(), before);
});

test('a slow body holds its own connection only: others are answered meanwhile, and it stores nothing', async () => {
  const before = await sizes();
  const slow = rawHttp(
    [
      'POST /rekor/api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
      '{"kind":',
      800,
      '"hashedrekord"',
    ],
    1500,
  );
  const t0 = Date.now();
  for (const url of ['/healthz', '/rekor/api/v1/log', '/ctlog/ct/v1/get-sth'])
    assert.equal((await send(url)).status, 200, url);
  assert.ok(Date.now() - t0 < 700, 'answers waited for the slow body');
  assert.equal(await slow, '', 'no answer before the body is complete');
  assert.deepEqual(await sizes(), before);
});

test('the witness: hostile add-checkpoint bodies are refused in bounded text, and only verified signatures are kept (found by this run)', async () => {
  const ORIGIN = 'log.example/hostile';
  const logKey = noteSigner(ORIGIN, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const hashes = Array.from({ length: 10 }, (_, i) => leafHash(Buffer.from(`e${i}`)));
  const note = (size: number, origin = ORIGIN, keys = [logKey]) =>
    signCheckpoint({ origin, size, rootHash: rootOf(hashes.slice(0, size)), extensions: [] }, keys);
  const w = await startWitness({
    port: 0,
    host: '127.0.0.1',
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-hostile-witness-')),
    name: 'w.example',
    logs: [{ origin: ORIGIN, verifiers: [logKey] }],
    log: { info() {}, warn() {}, error() {} },
  });
  try {
    const add = async (body: string | Buffer) => {
      const r = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body });
      return {
        path: '/add-checkpoint',
        status: r.status,
        text: await r.text(),
        type: r.headers.get('content-type') ?? '',
      };
    };
    const good = formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: note(5) });
    const strangers = Array.from({ length: 90 }, (_, i) =>
      noteSigner(`${'n'.repeat(600)}${i}`, generateKeyPairSync('ed25519').privateKey),
    );
    for (const [what, body, want] of [
      ['an empty body', '', 400],
      ['old -1', good.replace('old 0', 'old -1'), 400],
      ['old 2^53+1', good.replace('old 0', 'old 9007199254740993'), 400],
      ['old 1e400', good.replace('old 0', 'old 1e400'), 400],
      ['old constructor', good.replace('old 0', 'old constructor'), 400],
      ['a proof line of invalid base64', good.replace('old 0\n', 'old 0\n!!!\n'), 400],
      [
        '1,400 proof lines',
        good.replace('old 0\n', `old 0\n${`${'A'.repeat(43)}=\n`.repeat(1400)}`),
        400,
      ],
      ['invalid UTF-8', Buffer.concat([Buffer.from('old 0\n\n'), Buffer.from([0xff, 0xfe])]), 400],
      ['a NUL in the origin', good.replace(ORIGIN, `${ORIGIN}\u0000`), 400],
      ['size 2^53+1', good.replace('\n5\n', '\n9007199254740993\n'), 400],
      [
        'the origin "constructor"',
        formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: note(5, 'constructor') }),
        404,
      ],
      [
        'a 50 KB origin',
        formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: note(5, 'o'.repeat(50_000)) }),
        404,
      ],
      [
        '90 unknown signers with long names',
        formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: note(5, ORIGIN, strangers) }),
        403,
      ],
    ] as const) {
      const a = await add(body);
      assert.equal(a.status, want, `${what}: ${a.text.slice(0, 200)}`);
      assert.match(a.type, /^text\/plain/, what);
      assertBounded(`witness: ${what}`, a, a.text.trimEnd());
    }
    // A valid checkpoint with a stranger's signature line appended (64 KiB fit in a body): the
    // witness cosigns, and what it stores and serves has the log's signature and its own only.
    const junk = `— stranger ${Buffer.alloc(40_000, 7).toString('base64')}\n`;
    const a = await add(good + junk);
    assert.equal(a.status, 200, a.text);
    const served = await fetch(
      `${w.url}/${createHash('sha256').update(ORIGIN).digest('hex')}/checkpoint`,
    );
    const text = await served.text();
    assert.equal(served.status, 200);
    assert.ok(!text.includes('stranger'), 'the unverified signature line was stored');
    assert.equal(text.split('\n— ').length - 1, 2, text);
  } finally {
    await w.close();
  }
});
