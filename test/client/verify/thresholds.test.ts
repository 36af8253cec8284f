// A threshold above 1 asks for independent witnesses: entries from that many transparency logs,
// timestamps from that many timestamp authorities, SCTs from that many CT logs. One authority
// must not count twice by saying the same thing twice (two entries of one signature in one log,
// two tokens from one TSA, two SCTs from one CT log), as sigstore-go counts them: one per log
// (VerifyTlogEntry), per TSA (isDuplicateTSA), per CT log (VerifySignedCertificateTimestamp).
// The bundle and its trust material are built here: a Fulcio-like CA, a leaf with embedded
// SCTs, Rekor v1 entries with SignedEntryTimestamps and RFC 3161 timestamps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { parseBundleJSON, parseTrustedRootJSON } from '../../../src/bundle/index.ts';
import {
  exact,
  verifyBundle,
  type SignerPolicy,
  type VerifyOptions,
} from '../../../src/client/verify/index.ts';
import { hashedRekordV001Body } from '../../../src/core/rekor/v1.ts';
import { setPayload } from '../../../src/core/rekor/wire.ts';
import { issuerKeyHash, logIdOf, signSct } from '../../../src/core/ct/sct.ts';
import {
  createTimestampResponse,
  encodeTimestampRequest,
  parseTimestampRequest,
  prepareTimestampSigner,
  timestampToken,
} from '../../../src/core/rfc3161/index.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import { encodeTbs } from '../../../src/core/x509/build.ts';
import {
  buildCaCertificate,
  buildFinalCertificate,
  leafTbsSpec,
} from '../../../src/core/x509/fulcio-profile.ts';
import { issueCertificate, keyIdentifier } from '../../../src/services/tsa/certificates.ts';
import { code } from './helpers.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const spki = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }));
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

const T0 = new Date('2026-03-01T12:00:00Z');
const min = 60_000;
const at = (ms: number) => new Date(T0.getTime() + ms);
const EMAIL = 'dev@example.com';
const ISSUER = 'https://issuer.example';
const policy: SignerPolicy = {
  kind: 'identity',
  identity: { subjectAlternativeName: exact(EMAIL), issuer: exact(ISSUER) },
};
const validFor = { start: at(-24 * 60 * min).toISOString() };

const caKey = ec();
const caDer = buildCaCertificate({
  organization: 'test',
  commonName: 'test-ca',
  publicKeySpki: spki(caKey.publicKey),
  notBefore: at(-24 * 60 * min),
  notAfter: at(365 * 24 * 60 * min),
  selfKey: caKey.privateKey,
});
const ca = { certificate: parseCertificate(caDer), key: caKey.privateKey };

// Two CT logs.
const ctKeys = [ec(), ec()];
const signerKey = ec();
const spec = leafTbsSpec(ca, {
  spki: spki(signerKey.publicKey),
  san: { type: 'email', value: EMAIL },
  extensions: { 1: ISSUER, 8: ISSUER },
  notBefore: T0,
});
/** The leaf with one SCT from each CT log named (by index); a log may be named twice. */
function leafWithScts(logs: number[]): Uint8Array {
  const entry = {
    type: 'precert' as const,
    issuerKeyHash: issuerKeyHash(spki(caKey.publicKey)),
    tbs: encodeTbs(spec),
  };
  const scts = logs.map((l, i) =>
    signSct(
      ctKeys[l]!.privateKey,
      logIdOf(spki(ctKeys[l]!.publicKey)),
      T0.getTime() + 1000 * i,
      entry,
    ),
  );
  return buildFinalCertificate(ca, spec, scts);
}

// Two Rekor v1 logs and two timestamp authorities.
const logKeys = [ec(), ec()];
const logIds = logKeys.map((k) => createHash('sha256').update(spki(k.publicKey)).digest());
const tsaRootKey = ec().privateKey;
const tsaName = { organization: 'test', commonName: 'tsa-root' };
const tsaRoot = issueCertificate({
  subject: tsaName,
  issuer: tsaName,
  subjectKey: tsaRootKey,
  issuerKey: tsaRootKey,
  notBefore: at(-24 * 60 * min),
  notAfter: at(365 * 24 * 60 * min),
  ca: true,
});
const tsas = [0, 1].map((i) => {
  const key = ec().privateKey;
  const leaf = issueCertificate({
    subject: { organization: 'test', commonName: `tsa-${i}` },
    issuer: tsaName,
    subjectKey: key,
    issuerKey: tsaRootKey,
    issuerKeyId: keyIdentifier(tsaRootKey),
    notBefore: at(-24 * 60 * min),
    notAfter: at(365 * 24 * 60 * min),
    ca: false,
  });
  return { key, leaf };
});

const trustedRoot = parseTrustedRootJSON(
  JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: logKeys.map((k, i) => ({
      baseUrl: `https://log${i}.example`,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: b64(spki(k.publicKey)),
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor,
      },
      logId: { keyId: b64(logIds[i]!) },
    })),
    certificateAuthorities: [
      {
        subject: { organization: 'test', commonName: 'test-ca' },
        uri: 'https://ca.example',
        certChain: { certificates: [{ rawBytes: b64(caDer) }] },
        validFor,
      },
    ],
    ctlogs: ctKeys.map((k, i) => ({
      baseUrl: `https://ct${i}.example`,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: b64(spki(k.publicKey)),
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor,
      },
      logId: { keyId: b64(logIdOf(spki(k.publicKey))) },
    })),
    timestampAuthorities: tsas.map((t, i) => ({
      subject: { organization: 'test', commonName: `tsa-${i}` },
      uri: `https://tsa${i}.example`,
      certChain: { certificates: [{ rawBytes: b64(t.leaf) }, { rawBytes: b64(tsaRoot) }] },
      validFor,
    })),
  }),
);

const artifact = new TextEncoder().encode('witnessed by many\n');
const digest = createHash('sha256').update(artifact).digest();
const signature = new Uint8Array(sign('sha256', artifact, signerKey.privateKey));
/** base64 of the PEM text, its lines `width` characters long (Go writes 64; others 76). */
const pemBase64 = (der: Uint8Array, width: number) =>
  b64(
    Buffer.from(
      `-----BEGIN CERTIFICATE-----\n${b64(der)
        .match(new RegExp(`.{1,${width}}`, 'g'))!
        .join('\n')}\n-----END CERTIFICATE-----\n`,
    ),
  );

/**
 * A Rekor v1 entry in log `log` at `logIndex`, integrated at T0 + `minutes`. Odd indices record
 * the certificate's PEM with 76-character lines: the same signature logged twice in one log
 * under two bodies.
 */
function entry(leaf: Uint8Array, log: number, logIndex: number, minutes: number) {
  const integratedTime = Math.floor(at(minutes * min).getTime() / 1000);
  const body = hashedRekordV001Body(
    'sha256',
    digest.toString('hex'),
    b64(signature),
    pemBase64(leaf, logIndex % 2 === 1 ? 76 : 64),
  );
  const logId = logIds[log]!;
  const set = sign(
    'sha256',
    setPayload({ body, integratedTime, logId, logIndex }),
    logKeys[log]!.privateKey,
  );
  return {
    logIndex: String(logIndex),
    logId: { keyId: b64(logId) },
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    integratedTime: String(integratedTime),
    inclusionPromise: { signedEntryTimestamp: b64(set) },
    canonicalizedBody: b64(body),
  };
}

/** A timestamp over the signature by TSA `tsa` at T0 + `minutes`. */
function timestamp(tsa: number, minutes: number, serial: bigint) {
  const req = parseTimestampRequest(
    encodeTimestampRequest({
      hashAlgorithm: 'sha256',
      digest: createHash('sha256').update(signature).digest(),
      certReq: true,
    }),
  );
  const t = tsas[tsa]!;
  const tsr = createTimestampResponse(prepareTimestampSigner(t.key, [t.leaf, tsaRoot]), req, {
    genTime: at(minutes * min),
    serialNumber: serial,
    policy: '1.3.6.1.4.1.57264.2',
    accuracySeconds: 1,
  });
  return { signedTimestamp: b64(timestampToken(tsr)) };
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
  const bundle = parseBundleJSON(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: b64(leaf) }] },
        tlogEntries: (parts.entries ?? [[0, 7, 2]]).map(([l, i, m]) => entry(leaf, l, i, m)),
        timestampVerificationData: {
          rfc3161Timestamps: (parts.timestamps ?? []).map(([t, m], i) =>
            timestamp(t, m, BigInt(i + 1)),
          ),
        },
      },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: b64(digest) },
        signature: b64(signature),
      },
    }),
  );
  return code(() =>
    verifyBundle(bundle, { kind: 'bytes', data: artifact }, trustedRoot, policy, options),
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
