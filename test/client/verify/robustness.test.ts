/**
 * Hostile input: every field of real bundles is removed, retyped, emptied or corrupted in turn,
 * and the log entry bodies are rewritten; parsing and verification must end in a SignetError
 * (a clear, field-naming rejection), never in a TypeError or an accidental success.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseBundle, parseTrustedRootJSON } from '../../../src/bundle/index.ts';
import { exact, verifyBundle } from '../../../src/client/verify/index.ts';
import { SignetError } from '../../../src/core/errors.ts';

const C = 'test/fixtures/conformance/';
const SAN =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const policy = {
  kind: 'identity' as const,
  identity: {
    subjectAlternativeName: exact(SAN),
    issuer: exact('https://token.actions.githubusercontent.com'),
  },
};
const artifact = {
  kind: 'bytes' as const,
  data: new Uint8Array(fs.readFileSync(`${C}bundle-verify/a.txt`)),
};
const roots = {
  prod: parseTrustedRootJSON(
    fs.readFileSync(`${C}trust-roots/production/trusted_root.json`, 'utf8'),
  ),
  staging: parseTrustedRootJSON(
    fs.readFileSync(`${C}bundle-verify/rekor2-happy-path/trusted_root.json`, 'utf8'),
  ),
};
const CASES = [
  ['happy-path-v0.1', 'prod'],
  ['happy-path-intoto-in-dsse-v3', 'prod'],
  ['rekor2-happy-path', 'staging'],
] as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside `v`. */
function paths(v: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function edit(
  root: Json,
  p: Array<string | number>,
  f: (parent: any, key: string | number) => void,
): Json {
  const copy = structuredClone(root);
  let cur: any = copy;
  for (const k of p.slice(0, -1)) cur = cur[k];
  f(cur, p[p.length - 1]!);
  return copy;
}

const MUTATIONS: Array<[string, (parent: any, key: string | number) => void]> = [
  ['delete', (o, k) => (Array.isArray(o) ? o.splice(k as number, 1) : delete o[k])],
  ['null', (o, k) => (o[k] = null)],
  ['number', (o, k) => (o[k] = 7)],
  ['object', (o, k) => (o[k] = {})],
  ['array', (o, k) => (o[k] = [1])],
  ['empty string', (o, k) => (o[k] = '')],
  ['corrupt', (o, k) => (o[k] = typeof o[k] === 'string' ? `${o[k].slice(0, -4)}A!==` : 'x')],
  [
    'flip',
    (o, k) => {
      if (typeof o[k] === 'string' && o[k].length > 8) {
        const s: string = o[k];
        const i = Math.floor(s.length / 2);
        o[k] = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      } else o[k] = 'x';
    },
  ],
];

function outcome(j: Json, root: keyof typeof roots): 'ok' | 'rejected' {
  try {
    verifyBundle(parseBundle(j), artifact, roots[root], policy);
    return 'ok';
  } catch (e) {
    if (!(e instanceof SignetError))
      throw new Error(`not a SignetError: ${(e as Error).stack}`, { cause: e });
    assert.ok(e.message.length > 10);
    return 'rejected';
  }
}

test('every mutation of every field is rejected with a SignetError or is harmless', () => {
  let rejected = 0;
  const accepted: string[] = [];
  for (const [name, root] of CASES) {
    const j = JSON.parse(
      fs.readFileSync(`${C}bundle-verify/${name}/bundle.sigstore.json`, 'utf8'),
    ) as Json;
    assert.equal(outcome(j, root), 'ok', name);
    for (const p of paths(j).slice(1))
      for (const [m, f] of MUTATIONS) {
        const r = outcome(edit(j, p, f), root);
        if (r === 'rejected') rejected++;
        else accepted.push(`${name}: ${m} at ${p.join('.')}`);
      }
  }
  // The only accepted changes, each harmless: a v0.1 bundle's SET alone proves inclusion, so
  // its optional proof/checkpoint may go; the flipped byte of the RFC 3161 token lies in the
  // certificates it embeds, which are never trusted (the TSA chain comes from the trusted root).
  assert.deepEqual(accepted.sort(), [
    'happy-path-v0.1: delete at verificationMaterial.tlogEntries.0.inclusionProof',
    'happy-path-v0.1: delete at verificationMaterial.tlogEntries.0.inclusionProof.checkpoint',
    'happy-path-v0.1: null at verificationMaterial.tlogEntries.0.inclusionProof',
    'happy-path-v0.1: null at verificationMaterial.tlogEntries.0.inclusionProof.checkpoint',
    'rekor2-happy-path: flip at verificationMaterial.timestampVerificationData.rfc3161Timestamps.0.signedTimestamp',
  ]);
  assert.ok(rejected > 500, `only ${rejected} rejections`);
});

test('rewritten log entry bodies are rejected as mismatches, never crash', () => {
  const j = JSON.parse(
    fs.readFileSync(`${C}bundle-verify/happy-path-v0.1/bundle.sigstore.json`, 'utf8'),
  );
  const entry = j.verificationMaterial.tlogEntries[0];
  const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString());
  const variants: unknown[] = [
    'not json',
    [],
    {},
    { ...body, kind: 'rekord' },
    { ...body, apiVersion: '0.0.2' },
    { ...body, spec: null },
    { ...body, spec: { data: {}, signature: {} } },
    {
      ...body,
      spec: {
        ...body.spec,
        data: { hash: { algorithm: 'sha512', value: body.spec.data.hash.value } },
      },
    },
    {
      ...body,
      spec: {
        ...body.spec,
        signature: { ...body.spec.signature, publicKey: { content: 'bm90IHBlbQ==' } },
      },
    },
  ];
  for (const v of variants) {
    const m = structuredClone(j);
    m.verificationMaterial.tlogEntries[0].canonicalizedBody = Buffer.from(
      typeof v === 'string' ? v : JSON.stringify(v),
    ).toString('base64');
    assert.equal(outcome(m, 'prod'), 'rejected', JSON.stringify(v).slice(0, 80));
  }
});

test('a bundle with more than 32 log entries or 32 timestamps is refused before any check', () => {
  const json = JSON.parse(
    fs.readFileSync(`${C}bundle-verify/happy-path-v0.1/bundle.sigstore.json`, 'utf8'),
  ) as { verificationMaterial: Record<string, unknown> & { tlogEntries: unknown[] } };
  const vm = json.verificationMaterial;
  const codeOf = (j: unknown): string => {
    try {
      verifyBundle(parseBundle(j), artifact, roots.prod, policy);
    } catch (e) {
      assert.ok(e instanceof SignetError, String(e));
      return e.code;
    }
    return 'verified';
  };
  assert.equal(codeOf(json), 'verified');
  const entry = vm.tlogEntries[0];
  const withEntries = (n: number) => ({
    ...json,
    verificationMaterial: { ...vm, tlogEntries: Array.from({ length: n }, () => entry) },
  });
  // 32 copies of one entry are read (and refused as one entry counted twice), 33 are not read.
  assert.notEqual(codeOf(withEntries(32)), 'TLOG_TOO_MANY');
  assert.equal(codeOf(withEntries(33)), 'TLOG_TOO_MANY');
  const token = Buffer.alloc(8, 1).toString('base64');
  const withTimestamps = (n: number) => ({
    ...json,
    verificationMaterial: {
      ...vm,
      timestampVerificationData: {
        rfc3161Timestamps: Array.from({ length: n }, () => ({ signedTimestamp: token })),
      },
    },
  });
  assert.notEqual(codeOf(withTimestamps(32)), 'TIMESTAMP_TOO_MANY');
  assert.equal(codeOf(withTimestamps(33)), 'TIMESTAMP_TOO_MANY');
});
