import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SignetError } from '../../../src/core/errors.ts';
import { type Element, elementChildren, readOne, tlv } from '../../../src/core/encoding/der.ts';
import {
  parseTimestamp,
  type TimestampAuthority,
  verifyTimestamp,
} from '../../../src/core/rfc3161/index.ts';

/**
 * Real RFC 3161 timestamps from the Sigstore conformance corpus (staging TSA, a local test
 * TSA, FreeTSA) checked against each case's trusted root.
 */
const BASE = 'test/fixtures/conformance';

interface Case {
  case: string;
  bundle: string;
  trusted_root: string;
  expect: 'pass' | 'fail';
  features: { rfc3161_timestamps: number };
}

interface Loaded {
  signature: Buffer;
  timestamps: Buffer[];
  authorities: TimestampAuthority[];
}

const cases = (
  JSON.parse(fs.readFileSync(path.join(BASE, 'cases.json'), 'utf8')) as { cases: Case[] }
).cases;

function load(name: string): Loaded {
  const c = cases.find((x) => x.case === name)!;
  const b = JSON.parse(fs.readFileSync(path.join(BASE, c.bundle), 'utf8'));
  const tr = JSON.parse(fs.readFileSync(path.join(BASE, c.trusted_root), 'utf8'));
  const signature = Buffer.from(
    b.messageSignature?.signature ?? b.dsseEnvelope.signatures[0].sig,
    'base64',
  );
  const timestamps = (
    b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []
  ).map((t: { signedTimestamp: string }) => Buffer.from(t.signedTimestamp, 'base64'));
  const authorities = (tr.timestampAuthorities ?? []).map(
    (a: {
      certChain: { certificates: { rawBytes: string }[] };
      validFor: { start: string; end?: string };
    }) => {
      const r: TimestampAuthority = {
        certChain: a.certChain.certificates.map((x) => Buffer.from(x.rawBytes, 'base64')),
        validFor: { start: new Date(a.validFor.start) },
      };
      if (a.validFor.end) r.validFor.end = new Date(a.validFor.end);
      return r;
    },
  );
  return { signature, timestamps, authorities };
}

// Every case that is meant to verify and carries timestamps: each timestamp verifies.
const passing = cases.filter((c) => c.expect === 'pass' && c.features.rfc3161_timestamps > 0);

test('the corpus has passing cases with RFC 3161 timestamps', () => {
  assert.ok(passing.length >= 8, `only ${passing.length} cases`);
});

for (const c of passing) {
  test(`verifies the real timestamp of ${c.case}`, () => {
    const l = load(c.case);
    assert.ok(l.timestamps.length > 0);
    for (const ts of l.timestamps) {
      const r = verifyTimestamp(ts, l.signature, l.authorities);
      assert.equal(r.genTime.getTime(), parseTimestamp(ts).tstInfo.genTime.getTime());
      assert.ok(r.authorityIndex >= 0 && r.authorityIndex < l.authorities.length);
    }
  });
}

test('reads the fields of the staging TSA token of rekor2-happy-path', () => {
  const l = load('rekor2-happy-path');
  const t = parseTimestamp(l.timestamps[0]!);
  assert.equal(t.status, 0);
  assert.equal(t.tstInfo.genTime.toISOString(), '2025-06-12T12:02:20.000Z');
  assert.equal(t.tstInfo.policy, '1.3.6.1.4.1.57264.2');
  assert.equal(t.tstInfo.hashAlgorithm, 'sha256');
  assert.equal(t.tstInfo.accuracy?.seconds, 1);
  assert.ok(t.signer.essCertIds.length >= 1);
});

// The cases whose only fault is in the timestamp, with the check that must catch it.
const expectedFailures: Record<string, string> = {
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'TIMESTAMP_UNTRUSTED',
  'rekor2-timestamp-outside-tsa-cert-validity_fail': 'TIMESTAMP_CHAIN',
  'rekor2-timestamp-payload-mismatch_fail': 'TIMESTAMP_IMPRINT',
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'TIMESTAMP_UNTRUSTED',
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'TIMESTAMP_UNTRUSTED',
};

for (const [name, code] of Object.entries(expectedFailures)) {
  test(`rejects ${name} (${code})`, () => {
    const l = load(name);
    assert.throws(
      () => verifyTimestamp(l.timestamps[0]!, l.signature, l.authorities),
      (e: unknown) => e instanceof SignetError && e.kind === 'verification' && e.code === code,
    );
  });
}

test('validFor.end of the trusted root is inclusive (trust-root-tsa-validity-end-inclusive)', () => {
  const l = load('trust-root-tsa-validity-end-inclusive');
  const r = verifyTimestamp(l.timestamps[0]!, l.signature, l.authorities);
  assert.equal(r.genTime.getTime(), l.authorities[r.authorityIndex]!.validFor.end!.getTime());
  // One millisecond earlier and the same TSA is out of its window.
  const shortened = l.authorities.map((a) => ({
    ...a,
    validFor: { start: a.validFor.start, end: new Date(r.genTime.getTime() - 1) },
  }));
  assert.throws(
    () => verifyTimestamp(l.timestamps[0]!, l.signature, shortened),
    /no timestamp authority/,
  );
});

test('a tampered token fails: signature, TSTInfo, signed attributes, truncation', () => {
  const l = load('rekor2-happy-path');
  const good = l.timestamps[0]!;
  const t = parseTimestamp(good);
  const flip = (needle: Uint8Array, delta = 1): Buffer => {
    const at = good.indexOf(Buffer.from(needle));
    assert.ok(at > 0);
    const bad = Buffer.from(good);
    bad[at + needle.length - 1]! ^= delta;
    return bad;
  };
  // A byte of the ECDSA signature (its last byte, an integer's contents).
  assert.throws(
    () => verifyTimestamp(flip(t.signer.signature), l.signature, l.authorities),
    (e: unknown) =>
      e instanceof SignetError &&
      (e.code === 'TIMESTAMP_SIGNATURE' || e.code === 'TIMESTAMP_MALFORMED'),
  );
  // The TSTInfo genTime's last digit: the messageDigest attribute no longer matches.
  const gen = Buffer.from('20250612120220Z');
  assert.throws(
    () => verifyTimestamp(flip(gen.subarray(0, 14), 1), l.signature, l.authorities),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_SIGNED_ATTRS',
  );
  // The messageDigest attribute itself.
  assert.throws(
    () => verifyTimestamp(flip(t.signer.messageDigest!), l.signature, l.authorities),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_SIGNED_ATTRS',
  );
  assert.throws(
    () => verifyTimestamp(good.subarray(0, good.length - 3), l.signature, l.authorities),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_MALFORMED',
  );
  assert.throws(
    () => verifyTimestamp(Buffer.from('not der'), l.signature, l.authorities),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_MALFORMED',
  );
  // The right token over different data.
  assert.throws(
    () => verifyTimestamp(good, Buffer.concat([l.signature, Buffer.of(0)]), l.authorities),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_IMPRINT',
  );
  // No authorities at all.
  assert.throws(
    () => verifyTimestamp(good, l.signature, []),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_UNTRUSTED',
  );
});

/**
 * `token` re-encoded with `edit` applied to every element (innermost first; lengths follow):
 * a structurally changed token that no byte flip gives.
 */
function reencode(token: Uint8Array, edit: (e: Element) => Uint8Array | undefined): Uint8Array {
  const walk = (e: Element): Uint8Array => {
    const replaced = edit(e);
    if (replaced) return replaced;
    if ((e.tag & 0x20) === 0) return e.raw;
    return tlv(e.tag, ...elementChildren(e, 'test').map(walk));
  };
  return walk(readOne(token, 'test'));
}

test('an ESS issuerSerial whose directoryName holds no Name is a named error, not a crash', () => {
  const l = load('rekor2-happy-path');
  const good = l.timestamps[0]!;
  let emptied = 0;
  const bad = reencode(good, (e) => {
    if (e.tag !== 0xa4) return undefined;
    emptied++;
    return Uint8Array.of(0xa4, 0);
  });
  assert.equal(emptied, 1); // the staging TSA's ESSCertIDv2 names its issuer once
  for (const run of [
    () => parseTimestamp(bad),
    () => verifyTimestamp(bad, l.signature, l.authorities),
  ])
    assert.throws(
      run,
      (e: unknown) =>
        e instanceof SignetError &&
        /issuerSerial\.issuer: a directoryName must hold one Name/.test(e.message),
    );
  // The re-encoding itself changes nothing when nothing is edited.
  assert.deepEqual(Buffer.from(reencode(good, () => undefined)), good);
});

test("a trusted root whose TSA chain is cut to its root takes the token's certificate; a wrong issuer fails", () => {
  const l = load('rekor2-happy-path');
  // The root alone names no TSA certificate: as sigstore-go, the staging TSA's own, which its
  // token carries, is checked up to that root.
  const rootOnly = l.authorities.map((a) => ({
    ...a,
    certChain: [a.certChain[a.certChain.length - 1]!],
  }));
  assert.equal(parseTimestamp(l.timestamps[0]!).certificates.length, 1);
  assert.equal(
    verifyTimestamp(l.timestamps[0]!, l.signature, rootOnly).genTime.getTime(),
    verifyTimestamp(l.timestamps[0]!, l.signature, l.authorities).genTime.getTime(),
  );
  // Another TSA's root alone: the token's certificate does not chain to it.
  const otherRoot = load('rekor2-timestamp-with-expired-cert-chain').authorities.map((a) => ({
    ...a,
    certChain: [a.certChain[a.certChain.length - 1]!],
  }));
  assert.throws(
    () => verifyTimestamp(l.timestamps[0]!, l.signature, otherRoot),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_CHAIN',
  );
  // Leaf with a wrong issuer in the chain: the chain signature check fails.
  const other = load('rekor2-timestamp-with-expired-cert-chain').authorities[0]!;
  const mixed = l.authorities.map((a) => ({
    ...a,
    certChain: [a.certChain[0]!, other.certChain[other.certChain.length - 1]!],
  }));
  assert.throws(
    () => verifyTimestamp(l.timestamps[0]!, l.signature, mixed),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_CHAIN',
  );
});

test('the expected nonce and policy are enforced when given', () => {
  const l = load('rekor2-happy-path');
  const t = parseTimestamp(l.timestamps[0]!);
  const ok = verifyTimestamp(l.timestamps[0]!, l.signature, l.authorities, {
    policy: '1.3.6.1.4.1.57264.2',
    ...(t.tstInfo.nonce !== undefined ? { nonce: t.tstInfo.nonce } : {}),
  });
  assert.ok(ok.genTime);
  assert.throws(
    () => verifyTimestamp(l.timestamps[0]!, l.signature, l.authorities, { policy: '1.2.3' }),
    /policy/,
  );
  assert.throws(
    () => verifyTimestamp(l.timestamps[0]!, l.signature, l.authorities, { nonce: 12345n }),
    /nonce/,
  );
});
