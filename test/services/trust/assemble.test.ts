import assert from 'node:assert/strict';
import { generateKeyPairSync, createHash } from 'node:crypto';
import { test } from 'node:test';
import { SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { SignetError } from '../../../src/core/errors.ts';
import {
  assembleSigningConfig,
  assembleTrustedRoot,
  collectTrust,
} from '../../../src/services/trust/assemble.ts';
import { startTsa } from '../tsa/helpers.ts';

function tlog(url: string, start: string, end?: string) {
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  return {
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: spki.toString('base64'),
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      validFor: { start, ...(end ? { end } : {}) },
    },
    logId: { keyId: createHash('sha256').update(spki).digest('base64') },
  };
}

test('assembles every service contribution into a TrustedRoot sigstore-js accepts', async () => {
  const tsa = await startTsa();
  try {
    const root = assembleTrustedRoot([
      {
        service: 'rekor',
        trust: {
          tlogs: [
            tlog('http://x/rekor', '2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
            tlog('http://x/rekor', '2026-01-01T00:00:00Z'),
          ],
        },
      },
      { service: 'ctlog', trust: { ctlogs: [tlog('http://x/ctlog', '2025-01-01T00:00:00Z')] } },
      { service: 'tsa', trust: await tsa.tsa.trust!() },
    ]);
    assert.equal(root.mediaType, 'application/vnd.dev.sigstore.trustedroot+json;version=0.1');
    const parsed = TrustedRoot.fromJSON(root);
    assert.equal(parsed.tlogs.length, 2);
    assert.equal(parsed.ctlogs.length, 1);
    assert.equal(parsed.timestampAuthorities.length, 1);
    assert.equal(
      parsed.tlogs[0]!.publicKey!.validFor!.end!.toISOString(),
      '2026-01-01T00:00:00.000Z',
    );
    const tm = toTrustMaterial(parsed);
    assert.equal(tm.timestampAuthorities.length, 1);
    assert.equal(tm.timestampAuthorities[0]!.certChain.length, 2);
    // Times are written as protojson RFC 3339, seconds precision.
    assert.equal(
      (root.tlogs as Array<{ publicKey: { validFor: { start: string } } }>)[0]!.publicKey.validFor
        .start,
      '2025-01-01T00:00:00Z',
    );
  } finally {
    await tsa.close();
  }
});

test('a malformed contribution is rejected and names the service', () => {
  assert.throws(
    () =>
      assembleTrustedRoot([
        {
          service: 'rekor',
          trust: { tlogs: [{ baseUrl: 'http://x', hashAlgorithm: 'SHA2_256' }] },
        },
      ]),
    (e: unknown) =>
      e instanceof SignetError &&
      e.code === 'TRUST_CONTRIBUTION' &&
      /service "rekor" trust\(\)/.test(e.message) &&
      /tlogs\[0\]/.test(e.message),
  );
  assert.throws(
    () =>
      assembleSigningConfig([
        { service: 'ca', config: { caUrls: [{ url: 'http://x', majorApiVersion: 1 }] } },
      ]),
    (e: unknown) =>
      e instanceof SignetError &&
      /service "ca" signingConfig\(\)/.test(e.message) &&
      /caUrls\[0\]/.test(e.message),
  );
});

test('signing config v0.2: every list merged, newest API version and start first, ANY selectors', async () => {
  const svc = (url: string, v: number, start: string) => ({
    url,
    majorApiVersion: v,
    validFor: { start },
    operator: 'signet',
  });
  const cfg = assembleSigningConfig([
    { service: 'ca', config: { caUrls: [svc('http://x/fulcio', 1, '2025-01-01T00:00:00Z')] } },
    { service: 'oidc', config: { oidcUrls: [svc('http://x/oidc', 1, '2025-01-01T00:00:00Z')] } },
    {
      service: 'rekor',
      config: {
        rekorTlogUrls: [
          svc('http://x/rekor', 1, '2025-01-01T00:00:00Z'),
          svc('http://x/rekor', 2, '2025-01-01T00:00:00Z'),
          svc('http://x/rekor2b', 2, '2026-01-01T00:00:00Z'),
        ],
      },
    },
    {
      service: 'tsa',
      config: { tsaUrls: [svc('http://x/tsa/api/v1/timestamp', 1, '2025-01-01T00:00:00Z')] },
    },
  ]);
  assert.equal(cfg.mediaType, 'application/vnd.dev.sigstore.signingconfig.v0.2+json');
  const p = SigningConfig.fromJSON(cfg);
  assert.deepEqual(
    p.rekorTlogUrls.map((s) => [s.url, s.majorApiVersion]),
    [
      ['http://x/rekor2b', 2],
      ['http://x/rekor', 2],
      ['http://x/rekor', 1],
    ],
  );
  assert.equal(p.caUrls[0]!.url, 'http://x/fulcio');
  assert.equal(p.oidcUrls[0]!.url, 'http://x/oidc');
  assert.deepEqual(cfg.rekorTlogConfig, { selector: 'ANY' });
  assert.deepEqual(cfg.tsaConfig, { selector: 'ANY' });
});

test('collectTrust reads trust() and signingConfig() of the services in stack order', async () => {
  const tsa = await startTsa();
  try {
    const { trustedRoot, signingConfig } = await collectTrust([tsa.tsa]);
    assert.equal((trustedRoot.timestampAuthorities as unknown[]).length, 1);
    assert.equal((signingConfig.tsaUrls as unknown[]).length, 1);
  } finally {
    await tsa.close();
  }
});
