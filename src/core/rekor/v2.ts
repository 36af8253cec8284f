import { invalid, SignetError } from '../errors.ts';
import { canonicalBytes } from '../encoding/canonical-json.ts';
import { toBase64 } from '../encoding/base64.ts';
import { toHex } from '../encoding/hex.ts';
import { pae } from '../dsse/index.ts';
import { HASH_SIZE, type HashAlgorithm, type KeyDetails, defaultHash } from '../crypto/keys.ts';
import { MAX_DSSE_SIGNATURES, MAX_DSSE_VERIFIERS, matchSignatures } from './dsse-verify.ts';
import { sha256 } from './hash.ts';
import { array, base64, fields, join, object, optionalString, string } from './json.ts';
import { intotoSubjectKeys } from './subject-keys.ts';
import type { ParsedEntry } from './types.ts';
import {
  certificatesFromDer,
  publicKeyFromSpki,
  type VerifierMaterial,
  verifierSearchKeys,
} from './verifier.ts';

/**
 * Rekor v2 write requests (rekor-tiles api/proto/rekor/v2, protobuf-specs JSON): strict parsing
 * (unknown fields rejected, camelCase or snake_case accepted, as protojson), the checks
 * rekor-tiles makes (key details allow-list, digest length, signature verified, certificate
 * chains not validated) and the canonical body JCS(protojson(Entry)) (servers.md §3.1).
 */

/** rekor-tiles' default allow-list (pure Ed25519 is not allowed for hashedrekord). */
const ALLOWED: readonly KeyDetails[] = [
  'PKIX_ECDSA_P256_SHA_256',
  'PKIX_ECDSA_P384_SHA_384',
  'PKIX_ECDSA_P521_SHA_512',
  'PKIX_RSA_PKCS1V15_2048_SHA256',
  'PKIX_RSA_PKCS1V15_3072_SHA256',
  'PKIX_RSA_PKCS1V15_4096_SHA256',
  'PKIX_ED25519_PH',
];
/**
 * DSSE signs the PAE bytes themselves, so an Ed25519 verifier is pure Ed25519 there, and only
 * that: the log verifies it as such (dsse-verify.ts) and must not record it as Ed25519ph.
 */
const ALLOWED_DSSE: readonly KeyDetails[] = [
  ...ALLOWED.filter((d) => d !== 'PKIX_ED25519_PH'),
  'PKIX_ED25519',
];

/** Why the other Ed25519 scheme is refused, said where it is (a Map: names come from input). */
const ED25519_HINT = new Map([
  ['PKIX_ED25519', '; a digest is signed with Ed25519 as Ed25519ph (PKIX_ED25519_PH)'],
  ['PKIX_ED25519_PH', '; a DSSE envelope is signed with Ed25519 over its PAE (PKIX_ED25519)'],
]);

const HASH_NAME: Record<HashAlgorithm, string> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
};

const ALIASES = {
  hashed_rekord_request_v002: 'hashedRekordRequestV002',
  dsse_request_v002: 'dsseRequestV002',
  public_key: 'publicKey',
  x509_certificate: 'x509Certificate',
  raw_bytes: 'rawBytes',
  key_details: 'keyDetails',
  payload_type: 'payloadType',
};

export function parseCreateEntryRequestV2(value: unknown): ParsedEntry {
  const req = fields(
    object(value, ''),
    '',
    ['hashedRekordRequestV002', 'dsseRequestV002'],
    ALIASES,
  );
  const given = Object.keys(req).filter((k) => req[k] !== undefined && req[k] !== null);
  if (given.length !== 1)
    throw invalid(
      '',
      'must contain exactly one of hashedRekordRequestV002, dsseRequestV002 (the request kind)',
    );
  if (req.hashedRekordRequestV002 !== undefined && req.hashedRekordRequestV002 !== null)
    return hashedRekordV002(object(req.hashedRekordRequestV002, 'hashedRekordRequestV002'));
  return dsseV002(object(req.dsseRequestV002, 'dsseRequestV002'));
}

interface ParsedVerifier {
  material: VerifierMaterial;
  details: KeyDetails;
  /** protojson of the Verifier as the canonical body carries it. */
  json: Record<string, unknown>;
}

/** Verifier { publicKey{rawBytes} | x509Certificate{rawBytes}, keyDetails } */
function readVerifier(
  value: unknown,
  path: string,
  allowed: readonly KeyDetails[],
): ParsedVerifier {
  const v = fields(
    object(value, path),
    path,
    ['publicKey', 'x509Certificate', 'keyDetails'],
    ALIASES,
  );
  const detailsName = string(v.keyDetails, join(path, 'keyDetails'));
  if (!allowed.includes(detailsName as KeyDetails))
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KEY',
      `"${detailsName}" is not supported (${allowed.join(', ')} are)${ED25519_HINT.get(detailsName) ?? ''}`,
      { field: join(path, 'keyDetails') },
    );
  const details = detailsName as KeyDetails;
  const hasKey = v.publicKey !== undefined && v.publicKey !== null;
  const hasCert = v.x509Certificate !== undefined && v.x509Certificate !== null;
  if (hasKey === hasCert)
    throw invalid(path, 'must contain exactly one of publicKey, x509Certificate');
  let material: VerifierMaterial;
  let json: Record<string, unknown>;
  if (hasKey) {
    const p = join(path, 'publicKey');
    const pk = fields(object(v.publicKey, p), p, ['rawBytes'], ALIASES);
    const raw = base64(pk.rawBytes, join(p, 'rawBytes'), { strict: false });
    material = publicKeyFromSpki(raw, join(p, 'rawBytes'));
    json = { keyDetails: details, publicKey: { rawBytes: toBase64(raw) } };
  } else {
    const p = join(path, 'x509Certificate');
    const c = fields(object(v.x509Certificate, p), p, ['rawBytes'], ALIASES);
    const raw = base64(c.rawBytes, join(p, 'rawBytes'), { strict: false });
    material = certificatesFromDer([raw], join(p, 'rawBytes'));
    json = { keyDetails: details, x509Certificate: { rawBytes: toBase64(raw) } };
  }
  // The key must be of the type keyDetails names (Ed25519ph is an Ed25519 key).
  const natural =
    material.details === 'PKIX_ED25519' ? ['PKIX_ED25519', 'PKIX_ED25519_PH'] : [material.details];
  if (!natural.includes(details))
    throw invalid(join(path, 'keyDetails'), `is ${details} but the key is ${material.details}`);
  return { material, details, json };
}

// hashedrekord 0.0.2 (rekor-tiles pkg/types/hashedrekord)
function hashedRekordV002(reqValue: Record<string, unknown>): ParsedEntry {
  const path = 'hashedRekordRequestV002';
  const req = fields(reqValue, path, ['digest', 'signature'], ALIASES);
  const digest = base64(req.digest, `${path}.digest`, { strict: false });
  const sp = `${path}.signature`;
  const sig = fields(object(req.signature, sp), sp, ['content', 'verifier'], ALIASES);
  const content = base64(sig.content, `${sp}.content`, { strict: false });
  const verifier = readVerifier(sig.verifier, `${sp}.verifier`, ALLOWED);
  const hash = defaultHash(verifier.details);
  if (digest.length !== HASH_SIZE[hash])
    throw invalid(
      `${path}.digest`,
      `is ${digest.length} bytes; ${verifier.details} needs a ${HASH_SIZE[hash]}-byte ${hash} digest`,
    );
  const canonical = {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: HASH_NAME[hash], digest: toBase64(digest) },
        signature: { content: toBase64(content), verifier: verifier.json },
      },
    },
  };
  const m = verifier.material;
  const pending: ParsedEntry['pending'][number] = m.point
    ? { point: m.point, details: verifier.details, digest, signature: content }
    : { key: m.key, details: verifier.details, digest, signature: content };
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.2',
    body: canonicalBytes(canonical),
    searchKeys: [`${hash}:${toHex(digest)}`, ...verifierSearchKeys(m)],
    pending: [pending],
  };
}

// dsse 0.0.2 (rekor-tiles pkg/types/dsse; deprecated upstream, kept here)
function dsseV002(reqValue: Record<string, unknown>): ParsedEntry {
  const path = 'dsseRequestV002';
  const req = fields(reqValue, path, ['envelope', 'verifiers'], ALIASES);
  const ep = `${path}.envelope`;
  const env = fields(
    object(req.envelope, ep),
    ep,
    ['payload', 'payloadType', 'signatures'],
    ALIASES,
  );
  const payloadType = string(env.payloadType, `${ep}.payloadType`);
  const payload = base64(env.payload, `${ep}.payload`, { strict: false });
  const sigs = array(env.signatures, `${ep}.signatures`, {
    min: 1,
    max: MAX_DSSE_SIGNATURES,
  }).map((s, i) => {
    const p = `${ep}.signatures[${i}]`;
    const o = fields(object(s, p), p, ['sig', 'keyid']);
    optionalString(o.keyid, `${p}.keyid`);
    return base64(o.sig, `${p}.sig`, { strict: false });
  });
  const verifiers = array(req.verifiers, `${path}.verifiers`, {
    min: 1,
    max: MAX_DSSE_VERIFIERS,
  }).map((v, i) => readVerifier(v, `${path}.verifiers[${i}]`, ALLOWED_DSSE));
  const m = matchSignatures(
    verifiers.map((v) => v.material),
    pae(payloadType, payload),
    sigs,
  );
  if (!m.ok)
    throw new SignetError(
      'verification',
      'SIGNATURE_INVALID',
      'no verifier verifies this signature (every signature must have a key that verifies it)',
      { field: `${ep}.signatures[${m.unverified}].sig` },
    );
  const canonical = {
    apiVersion: '0.0.2',
    kind: 'dsse',
    spec: {
      dsseV002: {
        payloadHash: { algorithm: 'SHA2_256', digest: toBase64(sha256(payload)) },
        signatures: sigs.map((s, i) => ({
          content: toBase64(s),
          verifier: verifiers[m.by[i]!]!.json,
        })),
      },
    },
  };
  const used = [...new Set(m.by)].map((i) => verifiers[i]!.material);
  return {
    kind: 'dsse',
    apiVersion: '0.0.2',
    body: canonicalBytes(canonical),
    searchKeys: [
      ...new Set([
        `sha256:${toHex(sha256(payload))}`,
        // The body keeps only the payload's digest; the subjects are indexed while it is here.
        ...intotoSubjectKeys(payloadType, payload),
        ...used.flatMap(verifierSearchKeys),
      ]),
    ],
    pending: [],
  };
}
