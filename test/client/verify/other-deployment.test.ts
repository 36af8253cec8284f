// A bundle made with another deployment than the trusted root's fails as it did, with one line
// that says so and names the CA, logs and timestamp authorities it was made with; a bundle of
// which the trusted root holds one anchor keeps the failed check's own message. Real public-good
// and staging bundles against each other's trusted roots, and bundles built here under two
// deployments that name their CA, log and TSA alike (as two Signet stacks do).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { parseBundleJSON, parseTrustedRootJSON } from '../../../src/bundle/index.ts';
import type { Bundle, TrustedRoot } from '../../../src/bundle/index.ts';
import {
  exact,
  verifyBundle,
  type Artifact,
  type SignerPolicy,
} from '../../../src/client/verify/index.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { buildPlainCertificate } from '../../../src/core/x509/fulcio-profile.ts';
import {
  at,
  craftTrust,
  ec,
  messageBundle,
  min,
  policy,
  rfc3161,
  signArtifact,
  signerSpec,
  v1Entry,
  type CraftedTrust,
} from './crafted-trust.ts';

const C = 'test/fixtures/conformance/';
const fixture = (name: string) =>
  parseBundleJSON(fs.readFileSync(`${C}bundle-verify/${name}/bundle.sigstore.json`, 'utf8'));
const rootOf = (file: string) => parseTrustedRootJSON(fs.readFileSync(`${C}${file}`, 'utf8'));
const production = rootOf('trust-roots/production/trusted_root.json');
const staging = rootOf('trust-roots/staging/trusted_root.json');
const a: Artifact = {
  kind: 'bytes',
  data: new Uint8Array(fs.readFileSync(`${C}bundle-verify/a.txt`)),
};
const beacon: SignerPolicy = {
  kind: 'identity',
  identity: {
    subjectAlternativeName: exact(
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
    ),
    issuer: exact('https://token.actions.githubusercontent.com'),
  },
};

/** `CODE: message` of the failure, or `ok`. */
function outcome(
  bundle: Bundle,
  artifact: Artifact,
  root: TrustedRoot,
  p: SignerPolicy,
  options = {},
): string {
  try {
    verifyBundle(bundle, artifact, root, p, options);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    assert.equal(e.kind, 'verification');
    return `${e.code}: ${e.message}`;
  }
}

const PROD_LOG = 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d';
const STAGING_CAS = '("CN=sigstore-intermediate, O=sigstore.dev")';

test('a public-good bundle against the staging trusted root: its CA (named alike) and its log are named', () => {
  assert.equal(outcome(fixture('happy-path-v0.3'), a, production, beacon), 'ok');
  assert.equal(
    outcome(fixture('happy-path-v0.3'), a, staging, beacon),
    `OTHER_DEPLOYMENT: the bundle is from a deployment the trusted root does not cover: its certificate was issued by "CN=sigstore-intermediate, O=sigstore.dev", which no certificate authority in the trusted root ${STAGING_CAS} matches: the one of that name did not sign it; its transparency log "rekor.sigstore.dev - 2605736670972794746" (log ID ${PROD_LOG}) is not in it either`,
  );
});

test('a staging bundle with a timestamp against the public-good trusted root: CA, log and TSA are named', () => {
  const b = fixture('rekor2-happy-path');
  assert.equal(outcome(b, a, staging, beacon), 'ok');
  assert.equal(
    outcome(b, a, production, beacon),
    'OTHER_DEPLOYMENT: the bundle is from a deployment the trusted root does not cover: its certificate was issued by "CN=sigstore-intermediate, O=sigstore.dev", which no certificate authority in the trusted root ("CN=sigstore, O=sigstore.dev", "CN=sigstore-intermediate, O=sigstore.dev") matches: the one of that name did not sign it; its transparency log "log2025-alpha1.rekor.sigstage.dev" (log ID f30d5a999d92e662484244263f174cb8eacbfe8264bc583d32741799e3825dc9) and timestamp authority "CN=sigstore-tsa, O=sigstore.dev" are not in it either',
  );
  // The conformance case of a bundle from the wrong instance is such a bundle: staging's.
  assert.match(
    outcome(fixture('bundle-from-wrong-instance_fail'), a, production, beacon),
    /^OTHER_DEPLOYMENT: .*its transparency log "rekor\.sigstage\.dev - 8050909264565447525" \(log ID d32f30a3/,
  );
});

test('a key-signed bundle has only its log and timestamp authority to go by', () => {
  const b = fixture('managed-key-happy-path');
  const key: SignerPolicy = {
    kind: 'key',
    key: createPublicKey(fs.readFileSync(`${C}bundle-verify/managed-key-happy-path/key.pub`)),
  };
  assert.equal(outcome(b, a, production, key), 'ok');
  assert.equal(
    outcome(b, a, staging, key),
    `OTHER_DEPLOYMENT: the bundle is from a deployment the trusted root does not cover: its transparency log "rekor.sigstore.dev - 1193050959916656506" (log ID ${PROD_LOG}) is not one of the trusted root's transparency logs (https://rekor.sigstage.dev, https://log2025-alpha1.rekor.sigstage.dev, https://log2025-alpha2.rekor.sigstage.dev, https://log2025-alpha3.rekor.sigstage.dev); its timestamp authority (certificate serial 3a13542f0c9061eebcc1432fcb8a8e8b2a238b0c issued by "CN=sigstore-tsa-selfsigned, O=sigstore.dev") is not in it either`,
  );
  // Asked for an identity, a key-signed bundle still says it has no certificate (cosign's exit 13).
  assert.match(outcome(b, a, staging, beacon), /^NO_CERTIFICATE: /);
});

test('the deployment is named before any other failed check: a wrong artifact too', () => {
  const wrong: Artifact = { kind: 'bytes', data: new TextEncoder().encode('not a.txt\n') };
  assert.match(
    outcome(fixture('happy-path-v0.3'), wrong, production, beacon),
    /^MESSAGE_DIGEST_MISMATCH: /,
  );
  assert.match(
    outcome(fixture('happy-path-v0.3'), wrong, staging, beacon),
    /^OTHER_DEPLOYMENT: the bundle is from a deployment/,
  );
  // A failure of a bundle the trusted root covers keeps its own check's message.
  assert.match(
    outcome(fixture('signature-mismatch_fail'), a, production, beacon),
    /^SIGNATURE: the signature does not verify/,
  );
});

// Two deployments built alike: same CA, log and TSA names, other keys (as two Signet stacks).
const home = craftTrust({ logs: 1, tsas: 1, ctlogs: 0 });
const away = craftTrust({ logs: 1, tsas: 1, ctlogs: 0 });
const signerKey = ec();
const leaf = buildPlainCertificate(away.ca, signerSpec(away, signerKey.publicKey));
const signed = signArtifact('made away\n', signerKey.privateKey);
const made: Artifact = { kind: 'bytes', data: signed.artifact };
const awayBundle = messageBundle(
  leaf,
  signed,
  [v1Entry(away, { log: 0, logIndex: 3, time: at(2 * min), leaf, signed })],
  [rfc3161(away, 0, signed.signature, at(2 * min), 9n)],
);
const logId = (t: CraftedTrust) => t.logs[0]!.id.toString('hex');
/** `home`'s trusted root with some of `away`'s parts in place of its own. */
const mixed = (parts: Partial<TrustedRoot>): TrustedRoot => ({ ...home.trustedRoot, ...parts });

test('a deployment that names its CA, log and TSA alike: none is in the trusted root, each is named', () => {
  const noCt = { ctlogThreshold: 0 };
  assert.equal(outcome(awayBundle, made, away.trustedRoot, policy, noCt), 'ok');
  assert.equal(
    outcome(awayBundle, made, home.trustedRoot, policy, noCt),
    `OTHER_DEPLOYMENT: the bundle is from a deployment the trusted root does not cover: its certificate was issued by "CN=test-ca, O=test", which no certificate authority in the trusted root ("CN=test-ca, O=test") matches: the one of that name did not sign it; its transparency log (log ID ${logId(away)}) and timestamp authority "CN=tsa-0, O=test" are not in it either`,
  );
});

test('one anchor in the trusted root: the failed check names the others, as before', () => {
  const noCt = { ctlogThreshold: 0 };
  const { certificateAuthorities, tlogs, timestampAuthorities } = away.trustedRoot;
  // The log and the TSA are known, the CA is not.
  assert.equal(
    outcome(awayBundle, made, mixed({ tlogs, timestampAuthorities }), policy, noCt),
    'CERTIFICATE_UNTRUSTED: the signing certificate\'s signature does not verify with the key of its issuer "CN=test-ca, O=test" in the trusted root (the certificate was altered, or another CA of that name issued it: if the CA was rotated after this trusted root was taken, get the trusted root again)',
  );
  // The CA and the TSA are known, the log is not.
  assert.equal(
    outcome(
      awayBundle,
      made,
      mixed({ certificateAuthorities, timestampAuthorities }),
      policy,
      noCt,
    ),
    `TLOG_UNTRUSTED: log entry 3 comes from a transparency log that is not in the trusted root (log ID ${logId(away)})`,
  );
  // The CA is known, the log and the TSA are not: the first check to fail names the TSA.
  assert.equal(
    outcome(awayBundle, made, mixed({ certificateAuthorities }), policy, noCt),
    'TIMESTAMP_UNTRUSTED: RFC 3161 timestamp 1 does not verify: the timestamp was not signed by a timestamp authority of the trusted root: its signer "CN=tsa-0, O=test" matches none',
  );
});

test('a timestamp authority the trusted root does not hold is named as such, not by its validity window', () => {
  const noCt = { ctlogThreshold: 0 };
  const { certificateAuthorities, tlogs } = away.trustedRoot;
  const later = { start: at(60 * min), end: undefined };
  const window = (root: TrustedRoot) =>
    root.timestampAuthorities.map((t) => ({ ...t, validFor: later }));
  // Its own TSA, trusted only from after the timestamp: the window is the reason.
  assert.equal(
    outcome(
      awayBundle,
      made,
      { ...away.trustedRoot, timestampAuthorities: window(away.trustedRoot) },
      policy,
      noCt,
    ),
    `TIMESTAMP_UNTRUSTED: RFC 3161 timestamp 1 does not verify: no timestamp authority in the trusted root is valid at the timestamp's genTime ${at(2 * min).toISOString()}`,
  );
  // Another TSA of the same name in that window: the signer is the reason.
  assert.equal(
    outcome(
      awayBundle,
      made,
      mixed({ certificateAuthorities, tlogs, timestampAuthorities: window(home.trustedRoot) }),
      policy,
      noCt,
    ),
    'TIMESTAMP_UNTRUSTED: RFC 3161 timestamp 1 does not verify: the timestamp was not signed by a timestamp authority of the trusted root: its signer "CN=tsa-0, O=test" matches none',
  );
});

test("a timestamp authority given by its CA chain only: the token's certificate must be issued by it", () => {
  const noCt = { ctlogThreshold: 0 };
  /** The trusted root's TSA as only the root certificate of `t`'s TSAs (no TSA certificate). */
  const caOnly = (t: CraftedTrust) =>
    t.trustedRoot.timestampAuthorities.map((x) => ({ ...x, certChain: [t.tsaRoot] }));
  // Its own TSA root: the timestamp is known, so not another deployment's; the first check to
  // fail (the certificate's CA, before the log) is named.
  assert.match(
    outcome(awayBundle, made, mixed({ timestampAuthorities: caOnly(away) }), policy, noCt),
    /^CERTIFICATE_UNTRUSTED: the signing certificate's signature does not verify with the key of its issuer "CN=test-ca, O=test"/,
  );
  // Another root of the same name: nothing of the bundle is in the trusted root.
  assert.match(
    outcome(awayBundle, made, mixed({ timestampAuthorities: caOnly(home) }), policy, noCt),
    /^OTHER_DEPLOYMENT: .* and timestamp authority "CN=tsa-0, O=test" are not in it either$/,
  );
});
