import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSigningConfig } from '../../../src/bundle/signing-config.ts';
import { servicesFromSigningConfig } from '../../../src/client/sign/services.ts';
import { predicateTypeOf, predicateValue } from '../../../src/client/sign/predicate.ts';
import { challengeOf } from '../../../src/client/sign/token.ts';

const svc = (url: string, v: number, start: string, end?: string) => ({
  url,
  majorApiVersion: v,
  validFor: end ? { start, end } : { start },
  operator: 'op',
});
const config = (o: Record<string, unknown>) =>
  parseSigningConfig({
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [],
    oidcUrls: [],
    rekorTlogUrls: [],
    tsaUrls: [],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
    ...o,
  });
const now = new Date('2026-06-01T00:00:00Z');

test('picks the CA valid now, the highest log API version, and one TSA for ANY', () => {
  const s = servicesFromSigningConfig(
    config({
      caUrls: [
        svc('http://old-ca', 1, '2020-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
        svc('http://ca', 1, '2025-01-01T00:00:00Z'),
      ],
      rekorTlogUrls: [
        svc('http://v1', 1, '2025-01-01T00:00:00Z'),
        svc('http://v2', 2, '2025-01-01T00:00:00Z'),
        svc('http://v3', 3, '2025-01-01T00:00:00Z'),
      ],
      tsaUrls: [
        svc('http://tsa-a', 1, '2024-01-01T00:00:00Z'),
        svc('http://tsa-b', 1, '2025-01-01T00:00:00Z'),
      ],
    }),
    { now, keyless: true },
  );
  assert.deepEqual(s, {
    caUrl: 'http://ca',
    tlogs: [{ url: 'http://v2', majorApiVersion: 2 }],
    tsaUrls: ['http://tsa-b'],
  });
});

test('--rekor-version 1 forces the v1 log; ALL and EXACT selectors', () => {
  const logs = [
    svc('http://v1a', 1, '2025-01-01T00:00:00Z'),
    svc('http://v1b', 1, '2024-01-01T00:00:00Z'),
    svc('http://v2', 2, '2025-01-01T00:00:00Z'),
  ];
  const s1 = servicesFromSigningConfig(config({ rekorTlogUrls: logs }), {
    now,
    keyless: false,
    rekorVersion: 1,
  });
  assert.deepEqual(s1.tlogs, [{ url: 'http://v1a', majorApiVersion: 1 }]);
  const all = servicesFromSigningConfig(
    config({ rekorTlogUrls: logs, rekorTlogConfig: { selector: 'ALL' } }),
    { now, keyless: false },
  );
  assert.deepEqual(
    all.tlogs.map((t) => t.url),
    ['http://v2', 'http://v1a', 'http://v1b'],
  );
  const two = servicesFromSigningConfig(
    config({ rekorTlogUrls: logs, rekorTlogConfig: { selector: 'EXACT', count: 2 } }),
    { now, keyless: false },
  );
  assert.deepEqual(
    two.tlogs.map((t) => t.url),
    ['http://v2', 'http://v1a'],
  );
  assert.throws(
    () =>
      servicesFromSigningConfig(
        config({ rekorTlogUrls: logs, rekorTlogConfig: { selector: 'EXACT', count: 4 } }),
        { now, keyless: false },
      ),
    /asks for exactly 4 services but only 3 are usable now/,
  );
});

test('no CA for keyless, or no log valid now: clear errors', () => {
  assert.throws(
    () => servicesFromSigningConfig(config({}), { now, keyless: true }),
    /lists no certificate authority valid now/,
  );
  assert.throws(
    () =>
      servicesFromSigningConfig(
        config({
          rekorTlogUrls: [svc('http://v1', 1, '2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z')],
        }),
        { now, keyless: false },
      ),
    /lists no transparency log valid now \(rekorTlogUrls\)/,
  );
  assert.throws(
    () =>
      servicesFromSigningConfig(
        config({ rekorTlogUrls: [svc('http://v1', 1, '2025-01-01T00:00:00Z')] }),
        { now, keyless: false, rekorVersion: 2 },
      ),
    /no transparency log valid now with API version 2/,
  );
});

test('predicate types as cosign maps them; predicates as cosign builds them', () => {
  assert.equal(predicateTypeOf('slsaprovenance'), 'https://slsa.dev/provenance/v0.2');
  assert.equal(predicateTypeOf('slsaprovenance1'), 'https://slsa.dev/provenance/v1');
  assert.equal(predicateTypeOf('spdxjson'), 'https://spdx.dev/Document');
  assert.equal(predicateTypeOf('cyclonedx'), 'https://cyclonedx.org/bom');
  assert.equal(predicateTypeOf('vuln'), 'https://cosign.sigstore.dev/attestation/vuln/v1');
  assert.equal(predicateTypeOf('custom'), 'https://cosign.sigstore.dev/attestation/v1');
  assert.equal(predicateTypeOf('https://example.com/my-type/v1'), 'https://example.com/my-type/v1');
  assert.throws(() => predicateTypeOf('slsa'), /--type: "slsa" is neither a known predicate type/);
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.deepEqual(
    predicateValue('custom', enc('free text'), new Date('2026-01-02T03:04:05.678Z')),
    {
      Data: 'free text',
      Timestamp: '2026-01-02T03:04:05Z',
    },
  );
  assert.equal(predicateValue('spdx', enc('SPDXVersion: SPDX-2.3'), now), 'SPDXVersion: SPDX-2.3');
  assert.deepEqual(predicateValue('https://example.com/t', enc('{"a":1}'), now), { a: 1 });
  assert.throws(
    () => predicateValue('cyclonedx', enc('<bom/>'), now),
    /--predicate: the predicate is not valid JSON \([^)]*\); predicate type cyclonedx takes JSON$/,
  );
});

test('the proof-of-possession challenge: verified email, else sub', () => {
  const jwt = (claims: object) =>
    `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
  assert.equal(challengeOf(jwt({ sub: 's', email: 'a@b.c', email_verified: true })), 'a@b.c');
  assert.equal(challengeOf(jwt({ sub: 's', email: 'a@b.c', email_verified: false })), 's');
  assert.equal(
    challengeOf(jwt({ sub: 'repo:x/y:ref:refs/heads/main' })),
    'repo:x/y:ref:refs/heads/main',
  );
  assert.throws(
    () => challengeOf(jwt({ email: 'a@b.c' })),
    /neither a verified email nor a subject/,
  );
  assert.throws(() => challengeOf('abc'), /is not a JWT/);
  // Three parts, one of them empty: which one is said
  const [h, p] = jwt({ sub: 's' }).split('.') as [string, string];
  assert.throws(
    () => challengeOf(`${h}.${p}.`),
    /identity token: is not a JWT: its signature \(the third of its three parts\) is empty$/,
  );
  assert.throws(
    () => challengeOf(`${h}..x`),
    /identity token: is not a JWT: its payload \(the second of its three parts\) is empty$/,
  );
  assert.throws(
    () => challengeOf(`${h}.${p}`),
    /identity token: is not a JWT: it has 2 parts separated by dots, not three \(header\.payload\.signature\)$/,
  );
});
