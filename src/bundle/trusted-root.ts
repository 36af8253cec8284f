/**
 * protobuf-specs `dev.sigstore.trustroot.v1.TrustedRoot`: the CAs, transparency logs, CT logs
 * and timestamp authorities a verifier trusts, each with the time window it is trusted for.
 * Windows are closed intervals [start, end]; a window without a start is malformed and
 * rejected rather than read as "always" (sigstore-conformance trust-root-tlog-missing-validity-start).
 */
import type { KeyObject } from 'node:crypto';
import { invalid, quoteInput, SignetError } from '../core/errors.ts';
import { keyDetailsOf, type KeyDetails } from '../core/crypto/keys.ts';
import {
  array,
  enumName,
  message,
  nonEmptyBytes,
  optStr,
  required,
  str,
  timestamp,
  formatTimestamp,
  type JsonObject,
  parseJsonText,
} from './json.ts';
import { toBase64 } from '../core/encoding/base64.ts';
import { ownEntry } from '../core/own.ts';
const { createPublicKey } = process.getBuiltinModule('node:crypto');

export const TRUSTED_ROOT_MEDIA_TYPE_V01 =
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
export const TRUSTED_ROOT_MEDIA_TYPE_V02 = 'application/vnd.dev.sigstore.trustedroot.v0.2+json';

export interface TimeRange {
  start: Date;
  end: Date | undefined;
}

/** Closed interval: both ends included. */
export function inRange(range: TimeRange, at: Date): boolean {
  const t = at.getTime();
  return t >= range.start.getTime() && (range.end === undefined || t <= range.end.getTime());
}

export interface TransparencyLogInstance {
  baseUrl: string;
  hashAlgorithm: string;
  /** The declared key details (as written in the root, e.g. `PKIX_ECDSA_P256_SHA_256`). */
  keyDetailsName: string;
  /** The signature scheme for this key. */
  keyDetails: KeyDetails;
  publicKey: KeyObject;
  /** The DER the root carries (SPKI, or PKCS#1 for legacy RSA entries). */
  rawBytes: Uint8Array;
  validFor: TimeRange;
  logId: Uint8Array;
  /** Key ID of checkpoints; defaults to logId (Rekor v2 logs, servers.md 3.4). */
  checkpointKeyId: Uint8Array | undefined;
  operator: string | undefined;
}

export interface CertificateAuthority {
  subject: { organization: string; commonName: string };
  uri: string;
  /** DER certificates, leaf (issuing) first, root last. */
  certChain: Uint8Array[];
  validFor: TimeRange;
  operator: string | undefined;
}

export interface TrustedRoot {
  mediaType: string;
  tlogs: TransparencyLogInstance[];
  certificateAuthorities: CertificateAuthority[];
  ctlogs: TransparencyLogInstance[];
  timestampAuthorities: CertificateAuthority[];
}

const KEY_DETAIL_NAMES = [
  'PKIX_ECDSA_P256_SHA_256',
  'PKIX_ECDSA_P384_SHA_384',
  'PKIX_ECDSA_P521_SHA_512',
  'PKIX_ED25519',
  'PKIX_ED25519_PH',
  'PKIX_RSA_PKCS1V15_2048_SHA256',
  'PKIX_RSA_PKCS1V15_3072_SHA256',
  'PKIX_RSA_PKCS1V15_4096_SHA256',
  // deprecated names still found in public-good roots (RSA CT logs)
  'PKCS1_RSA_PKCS1V5',
  'PKIX_RSA_PKCS1V5',
] as const;

export function parseTrustedRootJSON(text: string, field = 'trusted root'): TrustedRoot {
  return parseTrustedRoot(parseJsonText(text, field));
}

/**
 * The trusted roots parseTrustedRoot made: a caller's object that only looks parsed is written
 * out and parsed again (its windows, keys and media type checked), as bundles are.
 */
const parsedTrustedRoots = new WeakSet<object>();
export const isParsedTrustedRoot = (v: object): v is TrustedRoot => parsedTrustedRoots.has(v);

export function parseTrustedRoot(value: unknown): TrustedRoot {
  const o = message(
    value,
    '',
    ['mediaType', 'tlogs', 'certificateAuthorities', 'ctlogs', 'timestampAuthorities'],
    false,
  );
  const mediaType = str(required(o.mediaType, 'mediaType'), 'mediaType');
  if (mediaType !== TRUSTED_ROOT_MEDIA_TYPE_V01 && mediaType !== TRUSTED_ROOT_MEDIA_TYPE_V02)
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_TRUSTED_ROOT',
      `${quoteInput(mediaType)} is not a supported trusted root media type`,
      { field: 'mediaType' },
    );
  const root: TrustedRoot = {
    mediaType,
    tlogs: array(o.tlogs, 'tlogs').map((x, i) => parseLog(x, `tlogs[${i}]`)),
    certificateAuthorities: array(o.certificateAuthorities, 'certificateAuthorities').map((x, i) =>
      parseAuthority(x, `certificateAuthorities[${i}]`),
    ),
    ctlogs: array(o.ctlogs, 'ctlogs').map((x, i) => parseLog(x, `ctlogs[${i}]`)),
    timestampAuthorities: array(o.timestampAuthorities, 'timestampAuthorities').map((x, i) =>
      parseAuthority(x, `timestampAuthorities[${i}]`),
    ),
  };
  parsedTrustedRoots.add(root);
  return root;
}

export function parseTimeRange(value: unknown, path: string): TimeRange {
  const o = message(value, path, ['start', 'end'], false);
  if (o.start === undefined)
    throw invalid(`${path}.start`, 'is missing: a validity window must say when it starts');
  const start = timestamp(o.start, `${path}.start`);
  const end = o.end === undefined ? undefined : timestamp(o.end, `${path}.end`);
  if (end !== undefined && end.getTime() < start.getTime())
    throw invalid(`${path}.end`, 'is before start');
  return { start, end };
}

function parseLog(value: unknown, P: string): TransparencyLogInstance {
  const o = message(
    value,
    P,
    ['baseUrl', 'hashAlgorithm', 'publicKey', 'logId', 'checkpointKeyId', 'operator'],
    false,
  );
  const pk = message(
    required(o.publicKey, `${P}.publicKey`),
    `${P}.publicKey`,
    ['rawBytes', 'keyDetails', 'validFor'],
    false,
  );
  const rawBytes = nonEmptyBytes(pk.rawBytes, `${P}.publicKey.rawBytes`);
  const keyDetailsName = enumName(
    required(pk.keyDetails, `${P}.publicKey.keyDetails`),
    `${P}.publicKey.keyDetails`,
    KEY_DETAIL_NAMES,
  );
  const publicKey = readKey(rawBytes, `${P}.publicKey.rawBytes`);
  const keyDetails = keyDetailsOf(publicKey, `${P}.publicKey.rawBytes`);
  const declared = ownEntry(DECLARED, keyDetailsName);
  if (declared !== undefined && declared !== keyDetails)
    throw invalid(
      `${P}.publicKey.keyDetails`,
      `says ${keyDetailsName} but the key is ${keyDetails}`,
    );
  const kd = keyDetailsName === 'PKIX_ED25519_PH' ? 'PKIX_ED25519_PH' : keyDetails;
  const validFor = parseTimeRange(
    required(pk.validFor, `${P}.publicKey.validFor`),
    `${P}.publicKey.validFor`,
  );
  const logId = nonEmptyBytes(
    message(required(o.logId, `${P}.logId`), `${P}.logId`, ['keyId'], false).keyId,
    `${P}.logId.keyId`,
  );
  const checkpointKeyId =
    o.checkpointKeyId === undefined
      ? undefined
      : nonEmptyBytes(
          message(o.checkpointKeyId, `${P}.checkpointKeyId`, ['keyId'], false).keyId,
          `${P}.checkpointKeyId.keyId`,
        );
  return {
    baseUrl: optStr(o.baseUrl, `${P}.baseUrl`) ?? '',
    hashAlgorithm: optStr(o.hashAlgorithm, `${P}.hashAlgorithm`) ?? 'SHA2_256',
    keyDetailsName,
    keyDetails: kd,
    publicKey,
    rawBytes,
    validFor,
    logId,
    checkpointKeyId,
    operator: optStr(o.operator, `${P}.operator`),
  };
}

const DECLARED: Record<string, KeyDetails> = {
  PKIX_ECDSA_P256_SHA_256: 'PKIX_ECDSA_P256_SHA_256',
  PKIX_ECDSA_P384_SHA_384: 'PKIX_ECDSA_P384_SHA_384',
  PKIX_ECDSA_P521_SHA_512: 'PKIX_ECDSA_P521_SHA_512',
  PKIX_ED25519: 'PKIX_ED25519',
  PKIX_ED25519_PH: 'PKIX_ED25519',
  PKIX_RSA_PKCS1V15_2048_SHA256: 'PKIX_RSA_PKCS1V15_2048_SHA256',
  PKIX_RSA_PKCS1V15_3072_SHA256: 'PKIX_RSA_PKCS1V15_3072_SHA256',
  PKIX_RSA_PKCS1V15_4096_SHA256: 'PKIX_RSA_PKCS1V15_4096_SHA256',
};

/** SPKI DER, or a bare PKCS#1 RSAPublicKey (the legacy `PKCS1_RSA_PKCS1V5` entries). */
function readKey(der: Uint8Array, path: string): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    try {
      return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'pkcs1' });
    } catch (e) {
      throw invalid(path, 'is not a DER public key (SPKI or PKCS#1)', e);
    }
  }
}

function parseAuthority(value: unknown, P: string): CertificateAuthority {
  const o = message(value, P, ['subject', 'uri', 'certChain', 'validFor', 'operator'], false);
  const s =
    o.subject === undefined
      ? {}
      : message(o.subject, `${P}.subject`, ['organization', 'commonName'], false);
  const chain = message(
    required(o.certChain, `${P}.certChain`),
    `${P}.certChain`,
    ['certificates'],
    false,
  );
  const certs = array(chain.certificates, `${P}.certChain.certificates`).map((c, i) => {
    const p = `${P}.certChain.certificates[${i}]`;
    return nonEmptyBytes(message(c, p, ['rawBytes'], false).rawBytes, `${p}.rawBytes`);
  });
  if (certs.length === 0) throw invalid(`${P}.certChain.certificates`, 'must not be empty');
  return {
    subject: {
      organization: optStr(s.organization, `${P}.subject.organization`) ?? '',
      commonName: optStr(s.commonName, `${P}.subject.commonName`) ?? '',
    },
    uri: optStr(o.uri, `${P}.uri`) ?? '',
    certChain: certs,
    validFor: parseTimeRange(required(o.validFor, `${P}.validFor`), `${P}.validFor`),
    operator: optStr(o.operator, `${P}.operator`),
  };
}

function rangeToJSON(r: TimeRange): JsonObject {
  return r.end === undefined
    ? { start: formatTimestamp(r.start) }
    : { start: formatTimestamp(r.start), end: formatTimestamp(r.end) };
}

function logToJSON(l: TransparencyLogInstance): JsonObject {
  const out: JsonObject = {
    baseUrl: l.baseUrl,
    hashAlgorithm: l.hashAlgorithm,
    publicKey: {
      rawBytes: toBase64(l.rawBytes),
      keyDetails: l.keyDetailsName,
      validFor: rangeToJSON(l.validFor),
    },
    logId: { keyId: toBase64(l.logId) },
  };
  if (l.checkpointKeyId) out.checkpointKeyId = { keyId: toBase64(l.checkpointKeyId) };
  if (l.operator !== undefined) out.operator = l.operator;
  return out;
}

function authorityToJSON(a: CertificateAuthority): JsonObject {
  const out: JsonObject = {
    subject: a.subject,
    uri: a.uri,
    certChain: { certificates: a.certChain.map((c) => ({ rawBytes: toBase64(c) })) },
    validFor: rangeToJSON(a.validFor),
  };
  if (a.operator !== undefined) out.operator = a.operator;
  return out;
}

/** The trusted root as protobuf JSON. */
export function trustedRootToJSON(r: TrustedRoot): JsonObject {
  return {
    mediaType: r.mediaType,
    tlogs: r.tlogs.map(logToJSON),
    certificateAuthorities: r.certificateAuthorities.map(authorityToJSON),
    ctlogs: r.ctlogs.map(logToJSON),
    timestampAuthorities: r.timestampAuthorities.map(authorityToJSON),
  };
}
