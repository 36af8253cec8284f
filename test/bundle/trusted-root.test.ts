import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  inRange,
  parseSigningConfigJSON,
  parseTrustedRootJSON,
  parseTrustedRoot,
  selectServices,
  signingConfigToJSON,
  trustedRootToJSON,
} from '../../src/bundle/index.ts';
import { SignetError } from '../../src/core/errors.ts';

const C = 'test/fixtures/conformance/';
const readRoot = (p: string) => fs.readFileSync(C + p, 'utf8');

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    return e.field;
  }
  assert.fail('expected an error');
}

test('the public-good production and staging trusted roots parse, with their keys', () => {
  const prod = parseTrustedRootJSON(readRoot('trust-roots/production/trusted_root.json'));
  assert.ok(prod.tlogs.length >= 1);
  assert.ok(prod.certificateAuthorities.length >= 2);
  assert.ok(prod.ctlogs.length >= 2);
  assert.equal(prod.tlogs[0]!.keyDetails, 'PKIX_ECDSA_P256_SHA_256');
  const staging = parseTrustedRootJSON(readRoot('trust-roots/staging/trusted_root.json'));
  assert.ok(staging.tlogs.some((t) => t.keyDetails === 'PKIX_ED25519'));
  // legacy PKCS#1 RSA CT log keys are read
  assert.ok(
    [...prod.ctlogs, ...staging.ctlogs].some(
      (l) => l.keyDetailsName === 'PKCS1_RSA_PKCS1V5' && l.publicKey.asymmetricKeyType === 'rsa',
    ),
  );
});

test('a tlog whose validFor has no start is rejected, not read as unbounded', () => {
  const f = fieldOf(() =>
    parseTrustedRootJSON(
      readRoot('bundle-verify/trust-root-tlog-missing-validity-start_fail/trusted_root.json'),
    ),
  );
  assert.equal(f, 'tlogs[1].publicKey.validFor.start');
});

test('explicit null fields are absent; validity windows are closed intervals', () => {
  const r = parseTrustedRootJSON(
    readRoot('bundle-verify/trust-root-tlog-validity-end-inclusive/trusted_root.json'),
  );
  const log = r.tlogs.find((t) => t.validFor.end !== undefined)!;
  assert.ok(inRange(log.validFor, log.validFor.end!));
  assert.ok(!inRange(log.validFor, new Date(log.validFor.end!.getTime() + 1000)));
  assert.ok(inRange(log.validFor, log.validFor.start));
  assert.ok(!inRange(log.validFor, new Date(log.validFor.start.getTime() - 1000)));
});

test('bad trusted roots name the field', () => {
  const good = JSON.parse(readRoot('trust-roots/production/trusted_root.json'));
  assert.equal(
    fieldOf(() => parseTrustedRootJSON('{')),
    'trusted root',
  );
  assert.equal(
    fieldOf(() => parseTrustedRoot({ ...good, mediaType: 'x' })),
    'mediaType',
  );
  const badKey = structuredClone(good);
  badKey.tlogs[0].publicKey.rawBytes = 'AAAA';
  assert.equal(
    fieldOf(() => parseTrustedRoot(badKey)),
    'tlogs[0].publicKey.rawBytes',
  );
  const wrongType = structuredClone(good);
  wrongType.tlogs[0].publicKey.keyDetails = 'PKIX_ED25519';
  assert.equal(
    fieldOf(() => parseTrustedRoot(wrongType)),
    'tlogs[0].publicKey.keyDetails',
  );
  const badTime = structuredClone(good);
  badTime.certificateAuthorities[0].validFor.start = 'yesterday';
  assert.equal(
    fieldOf(() => parseTrustedRoot(badTime)),
    'certificateAuthorities[0].validFor.start',
  );
  const noChain = structuredClone(good);
  noChain.timestampAuthorities[0].certChain.certificates = [];
  assert.equal(
    fieldOf(() => parseTrustedRoot(noChain)),
    'timestampAuthorities[0].certChain.certificates',
  );
});

test('a trusted root round-trips through its JSON', () => {
  const r = parseTrustedRootJSON(readRoot('trust-roots/staging/trusted_root.json'));
  const again = parseTrustedRoot(JSON.parse(JSON.stringify(trustedRootToJSON(r))));
  assert.deepEqual(trustedRootToJSON(again), trustedRootToJSON(r));
  assert.equal(again.tlogs.length, r.tlogs.length);
});

test('signing config v0.2 parses, selects valid services newest first, and rejects bad input', () => {
  const cfg = parseSigningConfigJSON(readRoot('trust-roots/staging/signing_config.v0.2.json'));
  assert.ok(cfg.rekorTlogUrls.length >= 1);
  const now = new Date('2026-11-21T00:00:00Z');
  const v2 = selectServices(cfg.rekorTlogUrls, now, [2]);
  for (const s of v2) assert.equal(s.majorApiVersion, 2);
  const all = selectServices(cfg.rekorTlogUrls, now, [1, 2]);
  for (let i = 1; i < all.length; i++)
    assert.ok(all[i - 1]!.validFor.start.getTime() >= all[i]!.validFor.start.getTime());
  const again = parseSigningConfigJSON(JSON.stringify(signingConfigToJSON(cfg)));
  assert.deepEqual(again, cfg);
  const j = JSON.parse(readRoot('trust-roots/staging/signing_config.v0.2.json'));
  j.caUrls[0].url = 'not a url';
  assert.equal(
    fieldOf(() => parseSigningConfigJSON(JSON.stringify(j))),
    'caUrls[0].url',
  );
  j.caUrls[0].url = 'https://x';
  j.rekorTlogConfig = { selector: 'EXACT' };
  assert.equal(
    fieldOf(() => parseSigningConfigJSON(JSON.stringify(j))),
    'rekorTlogConfig.count',
  );
  j.mediaType = 'application/vnd.dev.sigstore.signingconfig.v0.1+json';
  assert.equal(
    fieldOf(() => parseSigningConfigJSON(JSON.stringify(j))),
    'mediaType',
  );
});
