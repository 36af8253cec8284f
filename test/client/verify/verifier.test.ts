import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  parseBundleJSON,
  parseTrustedRootJSON,
  type Bundle,
  type TrustedRoot,
} from '../../../src/bundle/index.ts';
import {
  anchoredRegExp,
  exact,
  verifyBundle,
  type Artifact,
  type IdentityPolicy,
  type SignerPolicy,
} from '../../../src/client/verify/index.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { code } from './helpers.ts';

const C = 'test/fixtures/conformance/';
const bundle = (name: string) =>
  parseBundleJSON(fs.readFileSync(`${C}bundle-verify/${name}/bundle.sigstore.json`, 'utf8'));
const prodRoot = parseTrustedRootJSON(
  fs.readFileSync(`${C}trust-roots/production/trusted_root.json`, 'utf8'),
);
const stagingRoot = parseTrustedRootJSON(
  fs.readFileSync(`${C}bundle-verify/rekor2-happy-path/trusted_root.json`, 'utf8'),
);
const A = new Uint8Array(fs.readFileSync(`${C}bundle-verify/a.txt`));
const bytes: Artifact = { kind: 'bytes', data: A };
const SAN =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const who = (extra: Partial<IdentityPolicy> = {}): SignerPolicy => ({
  kind: 'identity',
  identity: { subjectAlternativeName: exact(SAN), issuer: exact(ISS), ...extra },
});

test('a public-good v0.3 bundle verifies and reports signer and verified time', () => {
  const r = verifyBundle(bundle('happy-path-v0.3'), bytes, prodRoot, who());
  assert.equal(r.signer.kind, 'certificate');
  if (r.signer.kind === 'certificate') {
    assert.deepEqual(r.signer.identity, [SAN]);
    assert.equal(r.signer.issuer, ISS);
    assert.equal(r.signer.chain.length, 3);
  }
  assert.equal(r.times.length, 1);
  assert.equal(r.times[0]!.source, 'transparency-log');
  assert.equal(r.tlogEntries.length, 1);
});

test('identity is matched exactly unless a regexp is asked for, and a regexp is anchored', () => {
  const b = bundle('happy-path-v0.3');
  const id = (san: IdentityPolicy['subjectAlternativeName'], iss = exact(ISS)): SignerPolicy => ({
    kind: 'identity',
    identity: { subjectAlternativeName: san, issuer: iss },
  });
  assert.equal(
    code(() => verifyBundle(b, bytes, prodRoot, id(exact(SAN + 'x')))),
    'IDENTITY_MISMATCH',
  );
  assert.equal(
    code(() => verifyBundle(b, bytes, prodRoot, id(exact(SAN.slice(1))))),
    'IDENTITY_MISMATCH',
  );
  // unanchored-looking patterns must match the whole value
  assert.equal(
    code(() =>
      verifyBundle(b, bytes, prodRoot, id({ regexp: anchoredRegExp('sigstore-conformance', 'r') })),
    ),
    'IDENTITY_MISMATCH',
  );
  assert.equal(
    code(() =>
      verifyBundle(
        b,
        bytes,
        prodRoot,
        id({ regexp: anchoredRegExp('https://github\\.com/sigstore-conformance/.*', 'r') }),
      ),
    ),
    'ok',
  );
  assert.equal(
    code(() =>
      verifyBundle(b, bytes, prodRoot, id({ regexp: anchoredRegExp('.*@refs/heads/main|x', 'r') })),
    ),
    'ok',
  );
  assert.equal(
    code(() =>
      verifyBundle(b, bytes, prodRoot, id(exact(SAN), exact('https://accounts.google.com'))),
    ),
    'ISSUER_MISMATCH',
  );
  assert.equal(
    code(() =>
      verifyBundle(
        b,
        bytes,
        prodRoot,
        id(exact(SAN), {
          regexp: anchoredRegExp('https://token\\.actions\\.githubusercontent\\.co', 'r'),
        }),
      ),
    ),
    'ISSUER_MISMATCH',
  );
  assert.throws(
    () => anchoredRegExp('(', '--certificate-identity-regexp'),
    /--certificate-identity-regexp/,
  );
});

test('GitHub workflow flags and any Fulcio OID are checked exactly', () => {
  const b = bundle('happy-path-v0.3');
  const ok = {
    trigger: 'workflow_dispatch',
    sha: 'c7b3dfb335f051e1c86bda4c716fac97df62ad81',
    name: 'Extremely dangerous OIDC beacon',
    repository: 'sigstore-conformance/extremely-dangerous-public-oidc-beacon',
    ref: 'refs/heads/main',
  };
  assert.equal(
    code(() => verifyBundle(b, bytes, prodRoot, who({ githubWorkflow: ok }))),
    'ok',
  );
  for (const k of Object.keys(ok) as Array<keyof typeof ok>)
    assert.equal(
      code(() =>
        verifyBundle(b, bytes, prodRoot, who({ githubWorkflow: { ...ok, [k]: ok[k] + 'x' } })),
      ),
      'EXTENSION_MISMATCH',
      k,
    );
  assert.equal(
    code(() =>
      verifyBundle(
        b,
        bytes,
        prodRoot,
        who({ extensions: { '1.3.6.1.4.1.57264.1.11': 'github-hosted' } }),
      ),
    ),
    'ok',
  );
  assert.equal(
    code(() =>
      verifyBundle(
        b,
        bytes,
        prodRoot,
        who({ extensions: { '1.3.6.1.4.1.57264.1.11': 'self-hosted' } }),
      ),
    ),
    'EXTENSION_MISMATCH',
  );
  assert.equal(
    code(() =>
      verifyBundle(b, bytes, prodRoot, who({ extensions: { '1.3.6.1.4.1.57264.1.23': 'prod' } })),
    ),
    'EXTENSION_MISMATCH',
  );
});

test('tampering with the artifact, signature or log entry is caught by the right check', () => {
  const b = bundle('happy-path-v0.3');
  const other: Artifact = { kind: 'bytes', data: new TextEncoder().encode('other') };
  assert.equal(
    code(() => verifyBundle(b, other, prodRoot, who())),
    'MESSAGE_DIGEST_MISMATCH',
  );
  const noDigest = structuredClone(b) as Bundle;
  if (noDigest.content.$case === 'messageSignature')
    noDigest.content.messageSignature.messageDigest = undefined;
  // without the hint, the signature itself rejects the wrong artifact
  assert.equal(
    code(() => verifyBundle(noDigest, other, prodRoot, who())),
    'SIGNATURE',
  );
  const badSet = structuredClone(b) as Bundle;
  badSet.verificationMaterial.tlogEntries[0]!.integratedTime += 1;
  assert.equal(
    code(() => verifyBundle(badSet, bytes, prodRoot, who())),
    'TLOG_SET',
  );
  const dup = structuredClone(b) as Bundle;
  dup.verificationMaterial.tlogEntries.push(dup.verificationMaterial.tlogEntries[0]!);
  assert.equal(
    code(() => verifyBundle(dup, bytes, prodRoot, who())),
    'TLOG_DUPLICATE',
  );
  const none = structuredClone(b) as Bundle;
  none.verificationMaterial.tlogEntries = [];
  assert.equal(
    code(() => verifyBundle(none, bytes, prodRoot, who())),
    'TLOG_MISSING',
  );
  // the digest form of the artifact gives the same answers
  const digest: Artifact = {
    kind: 'digest',
    algorithm: 'sha256',
    digest: new Uint8Array(createHash('sha256').update(A).digest()),
  };
  assert.equal(
    code(() => verifyBundle(b, digest, prodRoot, who())),
    'ok',
  );
  assert.equal(
    code(() => verifyBundle(b, { ...digest, digest: new Uint8Array(32) }, prodRoot, who())),
    'MESSAGE_DIGEST_MISMATCH',
  );
});

test('times come only from verified sources; thresholds are honoured', () => {
  const b = bundle('rekor2-happy-path');
  const r = verifyBundle(b, bytes, stagingRoot, who());
  assert.deepEqual(
    r.times.map((t) => t.source),
    ['timestamp-authority'],
  );
  // integratedTime in a v2 entry without a SET is not a time source
  const claimed = structuredClone(b) as Bundle;
  claimed.verificationMaterial.rfc3161Timestamps = [];
  claimed.verificationMaterial.tlogEntries[0]!.integratedTime = Math.floor(
    r.times[0]!.time.getTime() / 1000,
  );
  assert.equal(
    code(() => verifyBundle(claimed, bytes, stagingRoot, who())),
    'NO_VERIFIED_TIME',
  );
  assert.equal(
    code(() => verifyBundle(b, bytes, stagingRoot, who(), { timestampThreshold: 2 })),
    'NO_VERIFIED_TIME',
  );
  assert.equal(
    code(() => verifyBundle(b, bytes, stagingRoot, who(), { tlogThreshold: 2 })),
    'TLOG_MISSING',
  );
});

/** `fn`'s SignetError as "CODE: message", or 'ok'. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    return `${e.code}: ${e.message}`;
  }
  return 'ok';
}

/** `root` with the validity window of the log at `log` replaced. */
function withLogWindow(
  root: TrustedRoot,
  log: TrustedRoot['tlogs'][number],
  start: Date,
  end?: Date,
): TrustedRoot {
  return {
    ...root,
    tlogs: root.tlogs.map((l) => (l === log ? { ...l, validFor: { start, end } } : l)),
  };
}

test('a log counts only if its key was trusted at the signing time: start and end inclusive, 1 ms outside refused', () => {
  const ms = (d: Date, delta: number) => new Date(d.getTime() + delta);
  // Rekor v1: the time is the SET's integrated time
  const v1 = bundle('happy-path-v0.3');
  const r1 = verifyBundle(v1, bytes, prodRoot, who());
  const t1 = r1.times[0]!.time;
  const log1 = r1.tlogEntries[0]!.log;
  const at1 = (start: Date, end?: Date) =>
    failure(() => verifyBundle(v1, bytes, withLogWindow(prodRoot, log1, start, end), who()));
  assert.equal(at1(t1), 'ok');
  assert.equal(at1(ms(t1, -3600_000), t1), 'ok');
  assert.equal(
    at1(ms(t1, 1)),
    `TLOG_KEY_NOT_VALID: the key of log ${log1.baseUrl} was not trusted at the entry's integrated time ${t1.toISOString()}`,
  );
  assert.equal(
    at1(ms(t1, -3600_000), ms(t1, -1)),
    `TLOG_KEY_NOT_VALID: the key of log ${log1.baseUrl} was not trusted at the entry's integrated time ${t1.toISOString()}`,
  );
  // Rekor v2: no SET; the time is the RFC 3161 timestamp's
  const v2 = bundle('rekor2-happy-path');
  const r2 = verifyBundle(v2, bytes, stagingRoot, who());
  assert.equal(r2.times[0]!.source, 'timestamp-authority');
  const t2 = r2.times[0]!.time;
  const log2 = r2.tlogEntries[0]!.log;
  const at2 = (start: Date, end?: Date) =>
    failure(() => verifyBundle(v2, bytes, withLogWindow(stagingRoot, log2, start, end), who()));
  assert.equal(at2(t2), 'ok');
  assert.equal(at2(ms(t2, -3600_000), t2), 'ok');
  const refused = `TLOG_KEY_NOT_VALID: the key of log ${log2.baseUrl} (entry ${r2.tlogEntries[0]!.entry.logIndex}) was not trusted at the signing time ${t2.toISOString()}`;
  assert.equal(at2(ms(t2, 1)), refused);
  assert.equal(at2(ms(t2, -3600_000), ms(t2, -1)), refused);
});

test('the certificate chain must hold at every verified time: good at the SET time, expired at the timestamp', () => {
  // sigstore-conformance's case: the SET's integrated time (2023-02-01T00:00Z) is inside the
  // certificate's 10 minutes, the RFC 3161 timestamp (a day later) is not.
  const dir = `${C}bundle-verify/intoto-tsa-timestamp-outside-cert-validity_fail/`;
  const b = parseBundleJSON(fs.readFileSync(`${dir}bundle.sigstore.json`, 'utf8'));
  const root = parseTrustedRootJSON(fs.readFileSync(`${dir}trusted_root.json`, 'utf8'));
  const artifact: Artifact = {
    kind: 'bytes',
    data: new Uint8Array(fs.readFileSync(`${dir}artifact`)),
  };
  assert.equal(
    failure(() => verifyBundle(b, artifact, root, who())),
    'CERTIFICATE_EXPIRED: the signing certificate was not valid at 2023-02-02T00:00:00.000Z (valid 2023-02-01T00:00:00.000Z to 2023-02-01T00:10:00.000Z) (signing time from the timestamp authority)',
  );
  // the same bundle with only the SET time verifies: that time alone is good
  const setOnly = structuredClone(b) as Bundle;
  setOnly.verificationMaterial.rfc3161Timestamps = [];
  const r = verifyBundle(setOnly, artifact, root, who());
  assert.deepEqual(
    r.times.map((t) => [t.source, t.time.toISOString()]),
    [['transparency-log', '2023-02-01T00:00:00.000Z']],
  );
});

test('attestations: the artifact must be a subject, and --type must match', () => {
  const b = bundle('happy-path-intoto-in-dsse-v3');
  const r = verifyBundle(b, bytes, prodRoot, who());
  assert.equal(r.statement?.subject.length, 1);
  const pt = r.statement!.predicateType;
  assert.equal(
    code(() => verifyBundle(b, bytes, prodRoot, who(), { predicateType: pt })),
    'ok',
  );
  assert.equal(
    code(() => verifyBundle(b, bytes, prodRoot, who(), { predicateType: 'https://example.com/x' })),
    'ATTESTATION_TYPE',
  );
  const other: Artifact = { kind: 'bytes', data: new TextEncoder().encode('not the subject') };
  assert.equal(
    code(() => verifyBundle(b, other, prodRoot, who())),
    'ATTESTATION_SUBJECT',
  );
});

test('keyed bundles verify only with the right key', () => {
  const b = bundle('managed-key-happy-path');
  const pem = fs.readFileSync(`${C}bundle-verify/managed-key-happy-path/key.pub`, 'utf8');
  const { createPublicKey } = process.getBuiltinModule('node:crypto');
  assert.equal(
    code(() => verifyBundle(b, bytes, prodRoot, { kind: 'key', key: createPublicKey(pem) })),
    'ok',
  );
  const wrong = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  assert.equal(
    code(() => verifyBundle(b, bytes, prodRoot, { kind: 'key', key: wrong })),
    'SIGNATURE',
  );
  assert.equal(
    code(() => verifyBundle(b, bytes, prodRoot, who())),
    'NO_CERTIFICATE',
  );
  // a certificate bundle checked with a key that is not the certificate's
  assert.equal(
    code(() =>
      verifyBundle(bundle('happy-path-v0.3'), bytes, prodRoot, { kind: 'key', key: wrong }),
    ),
    'KEY_MISMATCH',
  );
});

test("a checkpoint must be the trusted log's own: its origin names the log's base URL", () => {
  // the same log key under another base URL: the signed tree is not that log's
  const moved = (root: TrustedRoot, url: string): TrustedRoot => ({
    ...root,
    tlogs: root.tlogs.map((l) => ({ ...l, baseUrl: url })),
  });
  const v1 = bundle('happy-path-v0.3');
  const v2 = bundle('rekor2-happy-path');
  assert.equal(
    code(() => verifyBundle(v1, bytes, prodRoot, who())),
    'ok',
  );
  assert.equal(
    code(() => verifyBundle(v2, bytes, stagingRoot, who())),
    'ok',
  );
  assert.equal(
    code(() => verifyBundle(v1, bytes, moved(prodRoot, 'https://rekor.example.dev'), who())),
    'TLOG_CHECKPOINT',
  );
  // a longer host that merely contains the origin is not the log either
  assert.equal(
    code(() =>
      verifyBundle(
        v2,
        bytes,
        moved(stagingRoot, 'https://log2025-alpha1.rekor.sigstage.dev.evil.example'),
        who(),
      ),
    ),
    'TLOG_CHECKPOINT',
  );
  assert.throws(
    () => verifyBundle(v2, bytes, moved(stagingRoot, 'https://other.example.dev'), who()),
    /the checkpoint of entry \d+ is for the log "log2025-alpha1\.rekor\.sigstage\.dev", not the trusted log https:\/\/other\.example\.dev/,
  );
});

test('one log entry named twice (by log ID and by checkpoint key ID) counts once', () => {
  const b = bundle('rekor2-happy-path');
  const entry = b.verificationMaterial.tlogEntries[0]!;
  // the trusted log also answers to a checkpoint key ID (same 4-byte note key hint)
  const alias = new Uint8Array(entry.logId);
  alias[31] ^= 1;
  const root: TrustedRoot = {
    ...stagingRoot,
    tlogs: stagingRoot.tlogs.map((l) =>
      Buffer.compare(l.logId, entry.logId) === 0 ? { ...l, checkpointKeyId: alias } : l,
    ),
  };
  assert.equal(
    code(() => verifyBundle(b, bytes, root, who())),
    'ok',
  );
  const twice = structuredClone(b) as Bundle;
  twice.verificationMaterial.tlogEntries.push({ ...structuredClone(entry), logId: alias });
  assert.equal(
    code(() => verifyBundle(twice, bytes, root, who(), { tlogThreshold: 2 })),
    'TLOG_DUPLICATE',
  );
});
