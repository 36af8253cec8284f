/**
 * Trust material and Rekor v1 message bundles built offline, for verifier tests that need times,
 * logs, timestamp authorities or CT logs a real bundle cannot be bent to: a Fulcio-like CA, Rekor
 * v1 logs that sign SignedEntryTimestamps, RFC 3161 timestamp authorities under one root, CT logs,
 * and the trusted root naming them all. Everything is valid from a day before T0 for a year.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { parseBundleJSON, parseTrustedRootJSON } from '../../../src/bundle/index.ts';
import type { Bundle, TrustedRoot } from '../../../src/bundle/index.ts';
import { exact, type SignerPolicy } from '../../../src/client/verify/index.ts';
import { hashedRekordV001Body } from '../../../src/core/rekor/v1.ts';
import { setPayload } from '../../../src/core/rekor/wire.ts';
import { logIdOf } from '../../../src/core/ct/sct.ts';
import {
  createTimestampResponse,
  encodeTimestampRequest,
  parseTimestampRequest,
  prepareTimestampSigner,
  timestampToken,
} from '../../../src/core/rfc3161/index.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import type { TbsSpec } from '../../../src/core/x509/build.ts';
import {
  buildCaCertificate,
  leafTbsSpec,
  type IssuingCa,
} from '../../../src/core/x509/fulcio-profile.ts';
import { issueCertificate, keyIdentifier } from '../../../src/services/tsa/certificates.ts';

export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
export const spki = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }));
export const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

export const T0 = new Date('2026-03-01T12:00:00Z');
export const min = 60_000;
export const at = (ms: number) => new Date(T0.getTime() + ms);
export const EMAIL = 'dev@example.com';
export const ISSUER = 'https://issuer.example';
export const policy: SignerPolicy = {
  kind: 'identity',
  identity: { subjectAlternativeName: exact(EMAIL), issuer: exact(ISSUER) },
};

type KeyPair = ReturnType<typeof ec>;

export interface CraftedTrust {
  ca: IssuingCa;
  caDer: Uint8Array;
  /** Rekor v1 logs: signing key and log ID (SHA-256 of the SPKI). */
  logs: Array<{ key: KeyPair; id: Buffer }>;
  tsaRoot: Uint8Array;
  /** Timestamp authorities, each with its own leaf under `tsaRoot`. */
  tsas: Array<{ key: KeyObject; leaf: Uint8Array }>;
  ctlogs: KeyPair[];
  trustedRoot: TrustedRoot;
}

/** A CA and `counts` logs, TSAs and CT logs, with the trusted root that trusts them all. */
export function craftTrust(counts: { logs: number; tsas: number; ctlogs: number }): CraftedTrust {
  const notBefore = at(-24 * 60 * min);
  const notAfter = at(365 * 24 * 60 * min);
  const validFor = { start: notBefore.toISOString() };
  const caKey = ec();
  const caDer = buildCaCertificate({
    organization: 'test',
    commonName: 'test-ca',
    publicKeySpki: spki(caKey.publicKey),
    notBefore,
    notAfter,
    selfKey: caKey.privateKey,
  });
  const logs = Array.from({ length: counts.logs }, () => {
    const key = ec();
    return { key, id: createHash('sha256').update(spki(key.publicKey)).digest() };
  });
  const tsaRootKey = ec().privateKey;
  const tsaName = { organization: 'test', commonName: 'tsa-root' };
  const tsaRoot = issueCertificate({
    subject: tsaName,
    issuer: tsaName,
    subjectKey: tsaRootKey,
    issuerKey: tsaRootKey,
    notBefore,
    notAfter,
    ca: true,
  });
  const tsas = Array.from({ length: counts.tsas }, (_, i) => {
    const key = ec().privateKey;
    const leaf = issueCertificate({
      subject: { organization: 'test', commonName: `tsa-${i}` },
      issuer: tsaName,
      subjectKey: key,
      issuerKey: tsaRootKey,
      issuerKeyId: keyIdentifier(tsaRootKey),
      notBefore,
      notAfter,
      ca: false,
    });
    return { key, leaf };
  });
  const ctlogs = Array.from({ length: counts.ctlogs }, ec);
  const logKey = (k: KeyPair, keyId: Uint8Array) => ({
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: b64(spki(k.publicKey)),
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      validFor,
    },
    logId: { keyId: b64(keyId) },
  });
  const trustedRoot = parseTrustedRootJSON(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: logs.map((l, i) => ({ baseUrl: `https://log${i}.example`, ...logKey(l.key, l.id) })),
      certificateAuthorities: [
        {
          subject: { organization: 'test', commonName: 'test-ca' },
          uri: 'https://ca.example',
          certChain: { certificates: [{ rawBytes: b64(caDer) }] },
          validFor,
        },
      ],
      ctlogs: ctlogs.map((k, i) => ({
        baseUrl: `https://ct${i}.example`,
        ...logKey(k, logIdOf(spki(k.publicKey))),
      })),
      timestampAuthorities: tsas.map((t, i) => ({
        subject: { organization: 'test', commonName: `tsa-${i}` },
        uri: `https://tsa${i}.example`,
        certChain: { certificates: [{ rawBytes: b64(t.leaf) }, { rawBytes: b64(tsaRoot) }] },
        validFor,
      })),
    }),
  );
  return {
    ca: { certificate: parseCertificate(caDer), key: caKey.privateKey },
    caDer,
    logs,
    tsaRoot,
    tsas,
    ctlogs,
    trustedRoot,
  };
}

/** The TBS of a leaf for EMAIL (issuer ISSUER) and `signer`, valid from T0 for Fulcio's 10 minutes. */
export function signerSpec(trust: CraftedTrust, signer: KeyObject): TbsSpec {
  return leafTbsSpec(trust.ca, {
    spki: spki(signer),
    san: { type: 'email', value: EMAIL },
    extensions: { 1: ISSUER, 8: ISSUER },
    notBefore: T0,
  });
}

/** What was signed: the artifact, its SHA-256 and the signature over it. */
export interface Signed {
  artifact: Uint8Array;
  digest: Buffer;
  signature: Uint8Array;
}

export function signArtifact(text: string, signer: KeyObject): Signed {
  const artifact = new TextEncoder().encode(text);
  return {
    artifact,
    digest: createHash('sha256').update(artifact).digest(),
    signature: new Uint8Array(sign('sha256', artifact, signer)),
  };
}

/** base64 of the PEM text, its lines `width` characters long (Go writes 64; others 76). */
export const pemBase64 = (der: Uint8Array, width = 64) =>
  b64(
    Buffer.from(
      `-----BEGIN CERTIFICATE-----\n${b64(der)
        .match(new RegExp(`.{1,${width}}`, 'g'))!
        .join('\n')}\n-----END CERTIFICATE-----\n`,
    ),
  );

/**
 * A Rekor v1 hashedrekord entry (bundle JSON) of `signed` with the certificate `leaf` (as PEM of
 * `pemWidth`-character lines), in log `log` at `logIndex`, integrated at `time`, with its SET.
 */
export function v1Entry(
  trust: CraftedTrust,
  e: {
    log: number;
    logIndex: number;
    time: Date;
    leaf: Uint8Array;
    signed: Signed;
    pemWidth?: number;
  },
) {
  const integratedTime = Math.floor(e.time.getTime() / 1000);
  const body = hashedRekordV001Body(
    'sha256',
    e.signed.digest.toString('hex'),
    b64(e.signed.signature),
    pemBase64(e.leaf, e.pemWidth),
  );
  const { key, id } = trust.logs[e.log]!;
  const set = sign(
    'sha256',
    setPayload({ body, integratedTime, logId: id, logIndex: e.logIndex }),
    key.privateKey,
  );
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: b64(id) },
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    integratedTime: String(integratedTime),
    inclusionPromise: { signedEntryTimestamp: b64(set) },
    canonicalizedBody: b64(body),
  };
}

/** An RFC 3161 timestamp (bundle JSON) over `signature` by TSA `tsa` at `genTime`. */
export function rfc3161(
  trust: CraftedTrust,
  tsa: number,
  signature: Uint8Array,
  genTime: Date,
  serialNumber: bigint,
) {
  const req = parseTimestampRequest(
    encodeTimestampRequest({
      hashAlgorithm: 'sha256',
      digest: createHash('sha256').update(signature).digest(),
      certReq: true,
    }),
  );
  const t = trust.tsas[tsa]!;
  const tsr = createTimestampResponse(prepareTimestampSigner(t.key, [t.leaf, trust.tsaRoot]), req, {
    genTime,
    serialNumber,
    policy: '1.3.6.1.4.1.57264.2',
    accuracySeconds: 1,
  });
  return { signedTimestamp: b64(timestampToken(tsr)) };
}

/** A v0.1 message-signature bundle of `signed` with the certificate `leaf`. */
export function messageBundle(
  leaf: Uint8Array,
  signed: Signed,
  tlogEntries: unknown[],
  rfc3161Timestamps: unknown[],
): Bundle {
  return parseBundleJSON(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: b64(leaf) }] },
        tlogEntries,
        timestampVerificationData: { rfc3161Timestamps },
      },
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: b64(signed.digest) },
        signature: b64(signed.signature),
      },
    }),
  );
}
