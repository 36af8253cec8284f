// A threshold above 1 asks for independent witnesses: entries from that many transparency logs,
// timestamps from that many timestamp authorities, SCTs from that many CT logs. One authority
// must not count twice by saying the same thing twice (two entries of one signature in one log,
// two tokens from one TSA, two SCTs from one CT log), as sigstore-go counts them: one per log
// (VerifyTlogEntry), per TSA (isDuplicateTSA), per CT log (VerifySignedCertificateTimestamp).
// The bundle and its trust material are built here: a Fulcio-like CA, a leaf with embedded
// SCTs, Rekor v1 entries with SignedEntryTimestamps and RFC 3161 timestamps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyBundle, type VerifyOptions } from '../../../src/client/verify/index.ts';
import { issuerKeyHash, logIdOf, signSct } from '../../../src/core/ct/sct.ts';
import { encodeTbs } from '../../../src/core/x509/build.ts';
import { buildFinalCertificate } from '../../../src/core/x509/fulcio-profile.ts';
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
  spki,
  T0,
  v1Entry,
} from './crafted-trust.ts';
import { code } from './helpers.ts';

// Two Rekor v1 logs, two timestamp authorities, two CT logs.
const trust = craftTrust({ logs: 2, tsas: 2, ctlogs: 2 });
const signerKey = ec();
const spec = signerSpec(trust, signerKey.publicKey);
const signed = signArtifact('witnessed by many\n', signerKey.privateKey);

/** The leaf with one SCT from each CT log named (by index); a log may be named twice. */
function leafWithScts(logs: number[]): Uint8Array {
  const entry = {
    type: 'precert' as const,
    issuerKeyHash: issuerKeyHash(trust.ca.certificate.spki),
    tbs: encodeTbs(spec),
  };
  const scts = logs.map((l, i) =>
    signSct(
      trust.ctlogs[l]!.privateKey,
      logIdOf(spki(trust.ctlogs[l]!.publicKey)),
      T0.getTime() + 1000 * i,
      entry,
    ),
  );
  return buildFinalCertificate(trust.ca, spec, scts);
}

function outcome(
  parts: {
    scts?: number[];
    entries?: Array<[log: number, logIndex: number, minutes: number]>;
    timestamps?: Array<[tsa: number, minutes: number]>;
  },
  options: VerifyOptions,
): string {
  const leaf = leafWithScts(parts.scts ?? [0]);
  // Odd indices record the certificate's PEM with 76-character lines: the same signature
  // logged twice in one log under two bodies.
  const entries = (parts.entries ?? [[0, 7, 2]]).map(([log, logIndex, m]) =>
    v1Entry(trust, {
      log,
      logIndex,
      time: at(m * min),
      leaf,
      signed,
      pemWidth: logIndex % 2 === 1 ? 76 : 64,
    }),
  );
  const timestamps = (parts.timestamps ?? []).map(([t, m], i) =>
    rfc3161(trust, t, signed.signature, at(m * min), BigInt(i + 1)),
  );
  const bundle = messageBundle(leaf, signed, entries, timestamps);
  return code(() =>
    verifyBundle(
      bundle,
      { kind: 'bytes', data: signed.artifact },
      trust.trustedRoot,
      policy,
      options,
    ),
  );
}

test('the bundle as built verifies with the default thresholds', () => {
  assert.equal(outcome({}, {}), 'ok');
});

test('tlogThreshold counts distinct logs: two entries of one log are one witness', () => {
  const twoLogs: Array<[number, number, number]> = [
    [0, 7, 2],
    [1, 3, 3],
  ];
  assert.equal(outcome({ entries: twoLogs }, { tlogThreshold: 2 }), 'ok');
  const oneLogTwice: Array<[number, number, number]> = [
    [0, 7, 2],
    [0, 8, 3],
  ];
  assert.equal(outcome({ entries: oneLogTwice }, {}), 'ok');
  assert.equal(outcome({ entries: oneLogTwice }, { tlogThreshold: 2 }), 'TLOG_MISSING');
});

test('timestampThreshold counts one time per log and per timestamp authority', () => {
  assert.equal(
    outcome({ entries: [[0, 7, 2]], timestamps: [[0, 2]] }, { timestampThreshold: 2 }),
    'ok',
  );
  assert.equal(
    outcome(
      {
        entries: [
          [0, 7, 2],
          [0, 8, 3],
        ],
      },
      { timestampThreshold: 2 },
    ),
    'NO_VERIFIED_TIME',
  );
  assert.equal(
    outcome(
      {
        entries: [[0, 7, 2]],
        timestamps: [
          [0, 2],
          [0, 3],
        ],
      },
      { timestampThreshold: 3 },
    ),
    'NO_VERIFIED_TIME',
  );
});

test('signedTimestampThreshold counts distinct timestamp authorities', () => {
  const twoTsas: Array<[number, number]> = [
    [0, 2],
    [1, 3],
  ];
  assert.equal(outcome({ timestamps: twoTsas }, { signedTimestampThreshold: 2 }), 'ok');
  const oneTsaTwice: Array<[number, number]> = [
    [0, 2],
    [0, 3],
  ];
  assert.equal(outcome({ timestamps: oneTsaTwice }, {}), 'ok');
  assert.equal(
    outcome({ timestamps: oneTsaTwice }, { signedTimestampThreshold: 2 }),
    'NO_SIGNED_TIMESTAMP',
  );
});

test('ctlogThreshold counts distinct CT logs: two SCTs of one log are one witness', () => {
  assert.equal(outcome({ scts: [0, 1] }, { ctlogThreshold: 2 }), 'ok');
  assert.equal(outcome({ scts: [0, 0] }, {}), 'ok');
  assert.equal(outcome({ scts: [0, 0] }, { ctlogThreshold: 2 }), 'SCT');
});
