// The signing certificate's chain must hold at EVERY verified time of a bundle, not only at the
// first one the verifier happens to collect. The bundle and its trust material are built here
// (a CA, a leaf valid for Fulcio's 10 minutes, a Rekor v1 entry with a SignedEntryTimestamp, an
// RFC 3161 timestamp), so each time can be put inside or outside the certificate's window:
// the verifier collects the timestamp authority's time first and the log's second, and each
// order is tested with the bad time in either place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyBundle } from '../../../src/client/verify/index.ts';
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
  T0,
  v1Entry,
} from './crafted-trust.ts';

// A CA, a Rekor v1 log and a timestamp authority, trusted for a year; a leaf valid T0 .. T0+10 min.
const trust = craftTrust({ logs: 1, tsas: 1, ctlogs: 0 });
const signerKey = ec();
const leafDer = buildPlainCertificate(trust.ca, signerSpec(trust, signerKey.publicKey));
const signed = signArtifact('signed twice in time\n', signerKey.privateKey);

/** A v0.1 bundle whose log entry was integrated at `logTime` and timestamped at `tsaTime`. */
function bundleAt(logTime: Date, tsaTime: Date) {
  return messageBundle(
    leafDer,
    signed,
    [v1Entry(trust, { log: 0, logIndex: 7, time: logTime, leaf: leafDer, signed })],
    [rfc3161(trust, 0, signed.signature, tsaTime, 1n)],
  );
}

function outcome(logTime: Date, tsaTime: Date): string {
  try {
    const r = verifyBundle(
      bundleAt(logTime, tsaTime),
      { kind: 'bytes', data: signed.artifact },
      trust.trustedRoot,
      policy,
      { ctlogThreshold: 0 },
    );
    return `ok ${r.times.map((t) => `${t.source}@${t.time.toISOString()}`).join(' ')}`;
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    return `${e.code}: ${e.message}`;
  }
}

const inside = at(5 * min);
const inside2 = at(7 * min);
const after = at(20 * min);

test('both verified times inside the certificate window: the bundle verifies, with both times', () => {
  assert.equal(
    outcome(inside, inside2),
    `ok timestamp-authority@${inside2.toISOString()} transparency-log@${inside.toISOString()}`,
  );
});

test('the timestamp (first time) is inside the window, the log time (second) after it: refused', () => {
  assert.equal(
    outcome(after, inside),
    `CERTIFICATE_EXPIRED: the signing certificate was not valid at ${after.toISOString()} (valid ${T0.toISOString()} to ${at(10 * min).toISOString()}) (signing time from the transparency log)`,
  );
});

test('the log time (second) is inside the window, the timestamp (first) after it: refused', () => {
  assert.equal(
    outcome(inside, after),
    `CERTIFICATE_EXPIRED: the signing certificate was not valid at ${after.toISOString()} (valid ${T0.toISOString()} to ${at(10 * min).toISOString()}) (signing time from the timestamp authority)`,
  );
});

test('no verified time, checked at the current time: the error says so, not "from the log"', () => {
  const bare = messageBundle(leafDer, signed, [], []);
  assert.throws(
    () =>
      verifyBundle(bare, { kind: 'bytes', data: signed.artifact }, trust.trustedRoot, policy, {
        ctlogThreshold: 0,
        tlogThreshold: 0,
        timestampThreshold: 0,
        currentTimeWhenUntimed: true,
      }),
    {
      code: 'CERTIFICATE_EXPIRED',
      message:
        /^the signing certificate was not valid at .* \(the current time: the bundle has no verified signing time\)$/,
    },
  );
});
