// The signing certificate's chain must hold at EVERY verified time of a bundle, not only at the
// first one the verifier happens to collect. The bundle and its trust material are built here
// (a CA, a leaf valid for Fulcio's 10 minutes, a Rekor v1 entry with a SignedEntryTimestamp, an
// RFC 3161 timestamp), so each time can be put inside or outside the certificate's window:
// the verifier collects the timestamp authority's time first and the log's second, and each
// order is tested with the bad time in either place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { parseBundleJSON, parseTrustedRootJSON } from '../../../src/bundle/index.ts';
import { exact, verifyBundle, type SignerPolicy } from '../../../src/client/verify/index.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { hashedRekordV001Body } from '../../../src/core/rekor/v1.ts';
import { setPayload } from '../../../src/core/rekor/wire.ts';
import {
  createTimestampResponse,
  encodeTimestampRequest,
  parseTimestampRequest,
  prepareTimestampSigner,
  timestampToken,
} from '../../../src/core/rfc3161/index.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import {
  buildCaCertificate,
  buildPlainCertificate,
  leafTbsSpec,
} from '../../../src/core/x509/fulcio-profile.ts';
import { issueCertificate, keyIdentifier } from '../../../src/services/tsa/certificates.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const spki = (k: import('node:crypto').KeyObject) =>
  new Uint8Array(k.export({ format: 'der', type: 'spki' }));
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

// Fulcio-like CA (self-signed root, trusted for a year) and a leaf valid T0 .. T0+10 min.
const caKey = ec();
const caDer = buildCaCertificate({
  organization: 'test',
  commonName: 'test-ca',
  publicKeySpki: spki(caKey.publicKey),
  notBefore: at(-24 * 60 * min),
  notAfter: at(365 * 24 * 60 * min),
  selfKey: caKey.privateKey,
});
const signerKey = ec();
const leafDer = buildPlainCertificate(
  { certificate: parseCertificate(caDer), key: caKey.privateKey },
  leafTbsSpec(
    { certificate: parseCertificate(caDer), key: caKey.privateKey },
    {
      spki: spki(signerKey.publicKey),
      san: { type: 'email', value: EMAIL },
      extensions: { 1: ISSUER, 8: ISSUER },
      notBefore: T0,
    },
  ),
);

// A timestamp authority trusted for a year.
const tsaRootKey = ec().privateKey;
const tsaKey = ec().privateKey;
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
const tsaLeaf = issueCertificate({
  subject: { organization: 'test', commonName: 'tsa' },
  issuer: tsaName,
  subjectKey: tsaKey,
  issuerKey: tsaRootKey,
  issuerKeyId: keyIdentifier(tsaRootKey),
  notBefore: at(-24 * 60 * min),
  notAfter: at(365 * 24 * 60 * min),
  ca: false,
});

// A Rekor v1 log trusted for a year.
const logKey = ec();
const logId = createHash('sha256').update(spki(logKey.publicKey)).digest();

const validFor = { start: at(-24 * 60 * min).toISOString() };
const trustedRoot = parseTrustedRootJSON(
  JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: 'https://log.example',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: b64(spki(logKey.publicKey)),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor,
        },
        logId: { keyId: b64(logId) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'test', commonName: 'test-ca' },
        uri: 'https://ca.example',
        certChain: { certificates: [{ rawBytes: b64(caDer) }] },
        validFor,
      },
    ],
    ctlogs: [],
    timestampAuthorities: [
      {
        subject: { organization: 'test', commonName: 'tsa' },
        certChain: { certificates: [{ rawBytes: b64(tsaLeaf) }, { rawBytes: b64(tsaRoot) }] },
        validFor,
      },
    ],
  }),
);

const artifact = new TextEncoder().encode('signed twice in time\n');
const digest = createHash('sha256').update(artifact).digest();
const signature = new Uint8Array(sign('sha256', artifact, signerKey.privateKey));

/** A v0.1 bundle whose log entry was integrated at `logTime` and timestamped at `tsaTime`. */
function bundleAt(logTime: Date, tsaTime: Date) {
  const integratedTime = Math.floor(logTime.getTime() / 1000);
  const body = hashedRekordV001Body(
    'sha256',
    digest.toString('hex'),
    b64(signature),
    b64(
      Buffer.from(
        `-----BEGIN CERTIFICATE-----\n${b64(leafDer)
          .match(/.{1,64}/g)!
          .join('\n')}\n-----END CERTIFICATE-----\n`,
      ),
    ),
  );
  const set = sign(
    'sha256',
    setPayload({ body, integratedTime, logId, logIndex: 7 }),
    logKey.privateKey,
  );
  const req = parseTimestampRequest(
    encodeTimestampRequest({
      hashAlgorithm: 'sha256',
      digest: createHash('sha256').update(signature).digest(),
      certReq: true,
    }),
  );
  const tsr = createTimestampResponse(prepareTimestampSigner(tsaKey, [tsaLeaf, tsaRoot]), req, {
    genTime: tsaTime,
    serialNumber: 1n,
    policy: '1.3.6.1.4.1.57264.2',
    accuracySeconds: 1,
  });
  return parseBundleJSON(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: b64(leafDer) }] },
        tlogEntries: [
          {
            logIndex: '7',
            logId: { keyId: b64(logId) },
            kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
            integratedTime: String(integratedTime),
            inclusionPromise: { signedEntryTimestamp: b64(set) },
            canonicalizedBody: b64(body),
          },
        ],
        timestampVerificationData: {
          rfc3161Timestamps: [{ signedTimestamp: b64(timestampToken(tsr)) }],
        },
      },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: b64(digest) },
        signature: b64(signature),
      },
    }),
  );
}

function outcome(logTime: Date, tsaTime: Date): string {
  try {
    const r = verifyBundle(
      bundleAt(logTime, tsaTime),
      { kind: 'bytes', data: artifact },
      trustedRoot,
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
