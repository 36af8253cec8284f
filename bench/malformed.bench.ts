/**
 * Malformed-input run (`npm run bench -- malformed`; issue 8 "Exposure"): a real `signet up`
 * (bin/signet) in its own process, and malformed requests at EVERY route it serves (the list
 * comes from the stack itself, RunningStack.routes, so a new route is covered without editing
 * this file):
 *  - path parameters: bad escapes, NUL, 4,000 characters, negative and 2^64 numbers, "../";
 *  - query parameters (every name any route reads) with bad values, bad escapes, repeats;
 *  - headers: 20 KB of one header, 2,000 headers, a Content-Type on a GET;
 *  - bad identity tokens in Authorization (not a JWT, alg none, a real token with its signature
 *    or payload changed, 15,000 characters);
 *  - bodies of POST routes: JSON nested 20,000 levels, bad escapes and lone surrogates,
 *    truncated JSON, a body shorter than its Content-Length, wrong content types, 5 MB; and a
 *    plausible body per route with each field in turn replaced by bad base64, PEM and DER,
 *    wrong types, 100,000 characters, deep nesting, or left out;
 *  - the TSA's DER form: random bytes, truncated requests, absurd lengths, deep nesting.
 * Every answer is counted by status. A failure is: a 5xx, no answer (except when the client
 * cut the body), the process dying, an error body not in the project's shape
 * ({code, message, error, field?, error_description?}, code = status) or, from the CA's
 * routes and Rekor v2's write API, grpc-gateway's ({code: gRPC code, message, details: []})
 * unless the route is an HTML page,
 * or an error message over the cap (MAX_ERROR_MESSAGE plus its "... more" note). A refused DER
 * TSA request is a 200 (an RFC 3161 rejection).
 * Knobs: MALFORMED_ROUTES (a substring: only routes containing it), MALFORMED_VERBOSE=1 (every
 * request's status).
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../src/services/stack.ts';
import { MAX_ERROR_MESSAGE } from '../src/services/http/errors.ts';
import { rawRequest, type RawRequest, type RawResponse } from './support/raw-http.ts';
import { freePort, startSignet, type StackProcess } from './support/stack-process.ts';
import type { TargetRow } from './table.ts';

const ONLY = process.env['MALFORMED_ROUTES'];
const VERBOSE = process.env['MALFORMED_VERBOSE'] === '1';
/** An error message may be the cap plus "... (N more characters)". */
const MESSAGE_CAP = MAX_ERROR_MESSAGE + 40;
const BODY_CAP = 2048;
const SHAPE_KEYS = new Set(['code', 'message', 'error', 'field', 'error_description']);
/**
 * The CA's routes and Rekor v2's write API answer as Fulcio's and rekor-tiles' grpc-gateway
 * does: `{code: <gRPC code>, message, details: []}`, the gRPC code the HTTP status stands for.
 */
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 405: 12, 409: 6, 413: 8, 415: 3 };
const GRPC_GATEWAY = /^\/fulcio\/|^\/rekor(\/shards\/\d+)?\/api\/v2\/log\/entries$/;
/** Answers made before a route is found (HTTP parser, URL, no route): the shape above there too. */
const BEFORE_ROUTING = new Set([
  'BAD_URL',
  'BAD_REQUEST',
  'HEADERS_TOO_LARGE',
  'METHOD_NOT_ALLOWED',
  'NOT_FOUND',
]);

interface Case extends RawRequest {
  name: string;
  /** The client cuts the body short: no answer is acceptable. */
  mayGoUnanswered?: boolean;
}

const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const b64u = (s: string) => Buffer.from(s).toString('base64url');
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObj = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const DEEP = 'DEEP_PLACEHOLDER';
const SURROGATE = 'SURROGATE_PLACEHOLDER';

/** Values a field is replaced with, one at a time. DEEP and SURROGATE are spliced in raw. */
const BAD_VALUES: Array<[string, unknown]> = [
  ['not base64', '!!!not base64 at all***'],
  ['base64 of garbage', b64(randomBytes(64))],
  ['PEM with garbage', b64('-----BEGIN CERTIFICATE-----\nAAAA!!\n-----END CERTIFICATE-----\n')],
  ['PEM of a truncated key', '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n'],
  ['DER with absurd length', b64(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 1, 2]))],
  ['empty string', ''],
  ['100,000 characters', 'x'.repeat(100_000)],
  ['lone surrogate escape', SURROGATE],
  ['negative number', -1],
  ['huge number', 1e308],
  ['2^64', '18446744073709551616'],
  ['null', null],
  ['true', true],
  ['array', ['x']],
  ['object', { x: 'y' }],
  ['nested 20,000 levels', DEEP],
];

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }) as string;
const SPKI_B64 = b64(publicKey.export({ type: 'spki', format: 'der' }));
const DIGEST = createHash('sha256').update('malformed').digest();
const SIG_B64 = b64(sign('sha256', Buffer.from('malformed'), privateKey));

/** A plausible body per POST route (by the route's last segments), for field-by-field mutation. */
function template(url: string, token: string): unknown {
  if (url.endsWith('/rekor/api/v1/log/entries'))
    return {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: DIGEST.toString('hex') } },
        signature: { content: SIG_B64, publicKey: { content: b64(PEM) } },
      },
    };
  if (url.endsWith('/log/entries/retrieve'))
    return { entryUUIDs: ['ab'.repeat(32)], logIndexes: [0], entries: [] };
  if (url.endsWith('/index/retrieve'))
    return {
      hash: `sha256:${DIGEST.toString('hex')}`,
      email: 'a@b.c',
      publicKey: { format: 'x509', content: b64(PEM) },
    };
  if (url.endsWith('/api/v2/log/entries'))
    return {
      hashedRekordRequestV002: {
        digest: b64(DIGEST),
        signature: {
          content: SIG_B64,
          verifier: {
            publicKey: { rawBytes: SPKI_B64 },
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          },
        },
      },
    };
  if (url.endsWith('/fulcio/api/v2/signingCert'))
    return {
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: PEM },
        proofOfPossession: SIG_B64,
      },
    };
  if (url.endsWith('/fulcio/api/v1/signingCert'))
    return { publicKey: { algorithm: 'ecdsa', content: SPKI_B64 }, signedEmailAddress: SIG_B64 };
  if (url.endsWith('/add-chain') || url.endsWith('/add-pre-chain'))
    return { chain: [SPKI_B64, SIG_B64] };
  if (url.endsWith('/tsa/api/v1/timestamp'))
    return { artifactHash: b64(DIGEST), hashAlgorithm: 'sha256', nonce: '12', certificates: true };
  if (url.endsWith('/token'))
    return {
      grant_type: 'client_credentials',
      client_id: 'sigstore',
      subject: 'a@b.c',
      code: 'x',
      code_verifier: 'y',
      redirect_uri: 'http://localhost/cb',
      device_code: 'z',
    };
  if (url.endsWith('/device/code')) return { client_id: 'sigstore', scope: 'openid email' };
  if (url.endsWith('/explorer/api/verify'))
    return { bundle: { mediaType: 'x', verificationMaterial: {} }, artifact: b64('x') };
  // Login and device forms, and anything new: the usual OAuth/OIDC fields.
  return {
    client_id: 'sigstore',
    redirect_uri: 'http://localhost/cb',
    state: 's',
    user_code: 'ABCD-EFGH',
    subject: 'a@b.c',
  };
}

/** Every leaf path of a JSON value, and every object key (to leave out). */
function leaves(v: unknown, p: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...p, i]));
  if (typeof v === 'object' && v !== null)
    return [
      ...(p.length ? [p] : []),
      ...Object.entries(v).flatMap(([k, x]) => leaves(x, [...p, k])),
    ];
  return [p];
}

function replaced(v: unknown, p: Array<string | number>, value: unknown, remove = false): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let o = copy;
  for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = p[p.length - 1]!;
  if (remove) delete o[last];
  else o[last] = value;
  return copy;
}

function serialize(v: unknown): string {
  return JSON.stringify(v)
    .replace(`"${DEEP}"`, deepObj(20_000))
    .replace(`"${SURROGATE}"`, '"\\ud800x"');
}

/** The TSA's DER form, garbage of every kind. */
function tsaDerCases(): Case[] {
  const good = Buffer.from(
    '30310201013031300d060960864801650304020105000420' + DIGEST.toString('hex') + '0101ff',
    'hex',
  );
  const c = (name: string, body: Uint8Array): Case => ({
    name: `TSA DER: ${name}`,
    method: 'POST',
    path: '/tsa/api/v1/timestamp',
    headers: [['Content-Type', 'application/timestamp-query']],
    body,
  });
  return [
    c('random 1 byte', randomBytes(1)),
    c('random 100 bytes', randomBytes(100)),
    c('random 3,000 bytes', randomBytes(3000)),
    c('empty', new Uint8Array()),
    ...[1, 2, 10, 20, good.length - 1].map((n) => c(`truncated to ${n}`, good.subarray(0, n))),
    c('trailing garbage', Buffer.concat([good, randomBytes(5)])),
    c('absurd length', Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01])),
    c('indefinite length', Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00])),
    c(
      'nested 10,000 SEQUENCEs',
      Buffer.concat([...Array.from({ length: 10_000 }, () => Buffer.from([0x30, 0x80]))]),
    ),
    c('a JSON body', Buffer.from('{"artifactHash":"x"}')),
  ];
}

function authorizationValues(token: string): Array<[string, string]> {
  const [h, p] = token.split('.');
  return [
    ['empty bearer', 'Bearer '],
    ['not a JWT', 'Bearer not-a-jwt'],
    ['two parts', 'Bearer a.b'],
    ['garbage parts', 'Bearer a.b.c'],
    ['alg none', `Bearer ${b64u('{"alg":"none"}')}.${b64u('{"sub":"x"}')}.`],
    ['signature changed', `Bearer ${token.slice(0, -4)}AAAA`],
    ['payload changed', `Bearer ${h}.${b64u('{"sub":"root","iss":"x"}')}.${token.split('.')[2]}`],
    ['header deep', `Bearer ${b64u(`{"alg":${deep(3000)}}`)}.${p}.sig`],
    ['15,000 characters', `Bearer ${'x'.repeat(15_000)}`],
    ['Basic', 'Basic Zm9vOmJhcg=='],
  ];
}

const QUERY_NAMES = [
  'logIndex',
  'firstSize',
  'lastSize',
  'treeID',
  'hash',
  'publicKey',
  'identity',
  'issuer',
  'operator',
  'q',
  'start',
  'end',
  'tree_size',
  'first',
  'second',
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'code_challenge',
  'user_code',
  'scope',
  'nonce',
];
const QUERY_VALUES: Array<[string, string]> = [
  ['-1', '-1'],
  ['abc', 'abc'],
  ['1e400', '1e400'],
  ['2^70', '1180591620717411303424'],
  ['bad escape', '%zz'],
  ['5,000 characters', 'x'.repeat(5000)],
  ['NUL', '%00'],
];
const PATH_VALUES: Array<[string, string]> = [
  ['bad escape', '%zz'],
  ['NUL', '%00'],
  ['4,000 characters', 'A'.repeat(4000)],
  ['-1', '-1'],
  ['2^64', '18446744073709551616'],
  ['../', '..%2F..%2Fetc%2Fpasswd'],
  ['unicode', '%C3%A9%E2%98%83'],
  ['invalid UTF-8', '%ff%fe'],
];

function concrete(url: string, value: string): string {
  return url.replace(/:[A-Za-z]+/g, value).replace(/\*$/, value === 'x' ? '0/000' : value);
}

function casesFor(method: string, url: string, token: string): Case[] {
  const base = concrete(url, 'x');
  const out: Case[] = [{ name: 'baseline', method, path: base }];
  if (/[:*]/.test(url))
    for (const [n, v] of PATH_VALUES)
      out.push({ name: `path parameter ${n}`, method, path: concrete(url, v) });
  out.push({ name: 'trailing bad escape', method, path: `${base}/%zz` });
  out.push({ name: 'bad escape in query', method, path: `${base}?%zz=%zz&a=%` });
  out.push({
    name: '20 KB header',
    method,
    path: base,
    headers: [['X-Big', 'y'.repeat(20_000)]],
  });
  out.push({
    name: '2,000 headers',
    method,
    path: base,
    headers: Array.from({ length: 2000 }, (_, i): [string, string] => [`X-H${i}`, 'v']),
  });
  for (const [n, v] of authorizationValues(token))
    out.push({
      name: `Authorization: ${n}`,
      method,
      path: base,
      headers: [
        ['Authorization', v],
        ['Content-Type', 'application/json'],
      ],
      ...(method === 'POST' ? { body: serialize(template(url, token)) } : {}),
    });
  if (method === 'GET') {
    for (const q of QUERY_NAMES)
      for (const [n, v] of QUERY_VALUES)
        out.push({ name: `query ${q}=${n}`, method, path: `${base}?${q}=${v}` });
    out.push({ name: 'repeated query', method, path: `${base}?logIndex=1&logIndex=2&q=a&q=b` });
    out.push({
      name: 'GET with a JSON body',
      method,
      path: base,
      headers: [['Content-Type', 'application/json']],
      body: deep(20_000),
    });
  }
  if (method !== 'POST') return out;

  const t = template(url, token);
  const json = serialize(t);
  const post = (name: string, body: string | Uint8Array, type = 'application/json'): Case => ({
    name,
    method,
    path: base,
    headers: [['Content-Type', type]],
    body,
  });
  out.push(
    post('arrays nested 20,000 levels', deep(20_000)),
    post('objects nested 20,000 levels', deepObj(20_000)),
    post('bad escape \\x', '{"a":"\\x"}'),
    post('short unicode escape', '{"a":"\\u12"}'),
    post('lone surrogate', '{"client_id":"\\ud800","kind":"\\udfff"}'),
    post('control character in a string', '{"a":"\u0001"}'),
    post('truncated JSON', json.slice(0, Math.floor(json.length / 2))),
    post('JSON then garbage', `${json}}}}`),
    post('empty body', ''),
    post('JSON null', 'null'),
    post('a JSON string', '"x"'),
    post('a number', '1e99999'),
    post('5 MB', `{"x":"${'x'.repeat(5 * 1024 * 1024)}"}`),
    post('binary', randomBytes(512)),
    post('as text/plain', json, 'text/plain'),
    post('as application/xml', '<a><b>&x;</b></a>', 'application/xml'),
    post(
      'as multipart',
      '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
      'multipart/form-data; boundary=x',
    ),
    post(
      'as a form with bad escapes',
      'grant_type=%zz&client_id=%&subject=%E0%A4%A',
      'application/x-www-form-urlencoded',
    ),
    post(
      'as a form with 10,000 fields',
      Array.from({ length: 10_000 }, (_, i) => `f${i}=1`).join('&'),
      'application/x-www-form-urlencoded',
    ),
    post('as UTF-16 JSON', Buffer.from(json, 'utf16le'), 'application/json; charset=utf-16'),
    post('content type with garbage parameters', json, 'application/json; ;;=; charset="'),
    { name: 'no content type', method, path: base, body: json },
    {
      name: 'body shorter than its Content-Length',
      method,
      path: base,
      headers: [['Content-Type', 'application/json']],
      body: json,
      truncateTo: Math.floor(json.length / 2),
      mayGoUnanswered: true,
    },
    {
      name: 'Content-Length not a number',
      method,
      path: base,
      headers: [
        ['Content-Type', 'application/json'],
        ['Content-Length', 'abc'],
      ],
      body: json,
    },
  );
  for (const p of leaves(t)) {
    const where = p.join('.');
    for (const [n, v] of BAD_VALUES)
      out.push(post(`${where} = ${n}`, serialize(replaced(t, p, v))));
    out.push(post(`${where} left out`, serialize(replaced(t, p, undefined, true))));
  }
  if (url.endsWith('/token') || url.endsWith('/device/code') || url.endsWith('/auth'))
    out.push(
      post(
        'the template as a form',
        new URLSearchParams(t as Record<string, string>).toString(),
        'application/x-www-form-urlencoded',
      ),
    );
  if (url === '/tsa/api/v1/timestamp') out.push(...tsaDerCases());
  return out;
}

interface Failure {
  route: string;
  name: string;
  status: number;
  problem: string;
}

/** The failure in one answer, if any. */
function problemOf(c: Case, r: RawResponse, htmlRoute: boolean): string | undefined {
  if (r.status === 0) return c.mayGoUnanswered ? undefined : 'no answer (connection closed)';
  if (r.status >= 500) return `a ${r.status}`;
  if (r.status < 400 || c.method === 'HEAD') return undefined;
  const type = r.headers['content-type'] ?? '';
  if (htmlRoute && type.startsWith('text/html')) return undefined;
  if (r.body.length > BODY_CAP) return `a ${r.body.length}-byte error body`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return `an error body that is not JSON (${type}): ${r.body.subarray(0, 120).toString()}`;
  }
  if (typeof body !== 'object' || body === null) return 'an error body that is not an object';
  if (GRPC_GATEWAY.test(c.path.split('?')[0]!) && !BEFORE_ROUTING.has(String(body.error))) {
    if (Object.keys(body).join() !== 'code,message,details' || String(body.details) !== '')
      return `not grpc-gateway's error shape: ${r.body.subarray(0, 120).toString()}`;
    if (body.code !== GRPC_CODE[r.status])
      return `gRPC code ${String(body.code)} is not the one for HTTP ${r.status}`;
    if (typeof body.message !== 'string') return 'message is not a string';
    if (body.message.length > MESSAGE_CAP) return `a ${body.message.length}-character message`;
    return undefined;
  }
  const extra = Object.keys(body).filter((k) => !SHAPE_KEYS.has(k));
  if (extra.length) return `error body keys not in the shape: ${extra.join(', ')}`;
  if (body.code !== r.status) return `code ${String(body.code)} is not the status ${r.status}`;
  if (typeof body.message !== 'string' || typeof body.error !== 'string')
    return 'message or error is not a string';
  if (body.message.length > MESSAGE_CAP) return `a ${body.message.length}-character message`;
  return undefined;
}

async function routeList(): Promise<Array<{ method: string; url: string }>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-routes-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const s = await startStack({ port: 0, host: '127.0.0.1', dataDir, log: quiet, accessLog: false });
  const routes = [...s.routes];
  await s.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  return routes;
}

export interface MalformedResult {
  routes: number;
  requests: number;
  byStatus: Record<string, number>;
  failures: Failure[];
  crashes: number;
  seconds: number;
}

export async function malformedRun(): Promise<MalformedResult> {
  const t0 = performance.now();
  const routes = (await routeList()).filter((r) => !ONLY || r.url.includes(ONLY));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-malformed-'));
  const logFile = path.join(dataDir, 'stack.log');
  const port = await freePort();
  let stack: StackProcess = startSignet({ port, dataDir, logFile });
  const url = await stack.up;
  const tr = await fetch(`${url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=sigstore&subject=dev@signet.local',
  });
  const token = ((await tr.json()) as { id_token: string }).id_token;
  const byStatus: Record<string, number> = {};
  const failures: Failure[] = [];
  let requests = 0;
  let crashes = 0;
  try {
    for (const route of routes) {
      const label = `${route.method} ${route.url}`;
      const cases = casesFor(route.method, route.url, token);
      const baseline = await rawRequest(port, cases[0]!);
      const htmlRoute = (baseline.headers['content-type'] ?? '').startsWith('text/html');
      for (const c of cases) {
        const r = await rawRequest(port, c);
        requests++;
        const k = r.status === 0 ? 'no answer' : String(r.status);
        byStatus[k] = (byStatus[k] ?? 0) + 1;
        const problem = problemOf(c, r, htmlRoute);
        if (VERBOSE) console.log(`${label} [${c.name}] ${r.status}`);
        if (problem) failures.push({ route: label, name: c.name, status: r.status, problem });
        if (stack.proc.exitCode !== null || stack.proc.signalCode !== null) {
          crashes++;
          failures.push({
            route: label,
            name: c.name,
            status: r.status,
            problem: 'the stack died',
          });
          stack = startSignet({ port, dataDir, logFile });
          await stack.up;
        }
      }
    }
  } finally {
    await stack.stop();
  }
  return {
    routes: routes.length,
    requests,
    byStatus,
    failures,
    crashes,
    seconds: (performance.now() - t0) / 1000,
  };
}

export async function run(): Promise<TargetRow[]> {
  const r = await malformedRun();
  const statuses = Object.entries(r.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const fiveXX = Object.entries(r.byStatus)
    .filter(([k]) => Number(k) >= 500)
    .reduce((n, [, v]) => n + v, 0);
  console.log(
    `${r.routes} routes, ${r.requests} malformed requests in ${r.seconds.toFixed(0)} s (load average ${os.loadavg()[0]!.toFixed(1)}): ${statuses}`,
  );
  console.log(`failures ${r.failures.length} (5xx ${fiveXX}, crashes ${r.crashes})`);
  for (const f of r.failures.slice(0, 40))
    console.log(`  ${f.route} [${f.name}] ${f.status}: ${f.problem}`);
  return [
    {
      target: 'malformed input: no 5xx, no crash, every error in its API shape and under the cap',
      measured: `${r.requests} requests at ${r.routes} routes, ${r.failures.length} failures, ${fiveXX} 5xx, ${r.crashes} crashes`,
      ratio: `${r.failures.length} failures`,
      met: r.failures.length === 0,
    },
  ];
}
