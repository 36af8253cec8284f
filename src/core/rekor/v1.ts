import { invalid, reasonOf, SignetError } from '../errors.ts';
import { canonicalBytes } from '../encoding/canonical-json.ts';
import { asciiBytes } from '../encoding/ascii.ts';
import { fromBase64, toBase64 } from '../encoding/base64.ts';
import { fromHex } from '../encoding/hex.ts';
import { pae } from '../dsse/index.ts';
import { messageHash, messageScheme } from '../crypto/keys.ts';
import { MAX_DSSE_SIGNATURES, MAX_DSSE_VERIFIERS, matchSignatures } from './dsse-verify.ts';
import { sha256Hex, V1_HASH_HEX_LENGTH, type V1HashAlgorithm } from './hash.ts';
import { array, base64, fields, isObject, join, object, optionalString, string } from './json.ts';
import { MAX_ATTESTATION_SIZE, type ParsedEntry } from './types.ts';
import { intotoSubjectKeys } from './subject-keys.ts';
import { canonicalPem, verifierFromPem, verifierSearchKeys } from './verifier.ts';
import { parseJsonText } from '../json.ts';

/**
 * Rekor v1 proposed entries (rekor openapi.yaml `ProposedEntry`, pkg/types/*): strict parsing,
 * the checks Rekor makes before admission, and the canonical body (JCS of the type's
 * Canonicalize() value; servers.md §2.2).
 */

const V1_KINDS: Record<string, readonly string[]> = {
  hashedrekord: ['0.0.1'],
  dsse: ['0.0.1'],
  intoto: ['0.0.2'],
};

/** Every kind and version Rekor v1 defines (rekor pkg/types); Signet admits those of V1_KINDS. */
const REKOR_V1_KINDS: Record<string, readonly string[]> = {
  alpine: ['0.0.1'],
  cose: ['0.0.1'],
  dsse: ['0.0.1'],
  hashedrekord: ['0.0.1'],
  helm: ['0.0.1'],
  intoto: ['0.0.1', '0.0.2'],
  jar: ['0.0.1'],
  rekord: ['0.0.1'],
  rfc3161: ['0.0.1'],
  rpm: ['0.0.1'],
  tuf: ['0.0.1'],
};

/** The versions of `kind` in `table`; own properties only (`constructor` is no kind). */
function versionsOf(table: Record<string, readonly string[]>, kind: string): readonly string[] {
  return Object.hasOwn(table, kind) ? table[kind]! : [];
}

/**
 * Whether a proposed entry names a kind and version that Rekor defines but Signet never admits
 * (intoto 0.0.1, rekord, ...): no entry of the log can have its body, so a lookup of it finds
 * nothing instead of failing. cosign looks an attestation up as dsse 0.0.1 and intoto 0.0.1 in
 * one query (FindTlogEntry), and Rekor answers with whichever is in the log.
 */
export function isNeverAdmittedV1(value: unknown): boolean {
  if (!isObject(value)) return false;
  const { kind, apiVersion } = value;
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') return false;
  return (
    versionsOf(REKOR_V1_KINDS, kind).includes(apiVersion) &&
    !versionsOf(V1_KINDS, kind).includes(apiVersion)
  );
}

export function parseProposedEntryV1(value: unknown): ParsedEntry {
  const top = fields(object(value, ''), '', ['kind', 'apiVersion', 'spec']);
  const kind = string(top.kind, 'kind');
  const apiVersion = string(top.apiVersion, 'apiVersion');
  const versions = versionsOf(V1_KINDS, kind);
  if (versions.length === 0)
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KIND',
      `kind "${kind}" is not supported (${Object.keys(V1_KINDS).join(', ')} are)`,
      { field: 'kind' },
    );
  if (!versions.includes(apiVersion))
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_VERSION',
      `${kind} apiVersion "${apiVersion}" is not supported (${versions.join(', ')})`,
      { field: 'apiVersion' },
    );
  const spec = object(top.spec, 'spec');
  switch (kind) {
    case 'hashedrekord':
      return hashedRekordV001(spec);
    case 'dsse':
      return dsseV001(spec);
    default:
      return intotoV002(spec);
  }
}

/**
 * The canonical hashedrekord 0.0.1 body: JCS (RFC 8785) of
 * {apiVersion, kind, spec: {data: {hash: {algorithm, value}}, signature: {content, publicKey:
 * {content}}}}, written out directly because it is built once per admission. Keys are in JCS
 * order and every value is a fixed word, lowercase hex or base64 (nothing to escape), so this is
 * byte for byte what canonicalBytes() gives (tested).
 */
export function hashedRekordV001Body(
  algorithm: V1HashAlgorithm,
  hexValue: string,
  signatureBase64: string,
  publicKeyBase64: string,
): Uint8Array {
  return asciiBytes(
    `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"${algorithm}","value":"${hexValue}"}},"signature":{"content":"${signatureBase64}","publicKey":{"content":"${publicKeyBase64}"}}}}`,
  );
}

// hashedrekord 0.0.1 (rekor pkg/types/hashedrekord/v0.0.1/entry.go)
function hashedRekordV001(specValue: Record<string, unknown>): ParsedEntry {
  const spec = fields(specValue, 'spec', ['data', 'signature']);
  const sigObj = fields(object(spec.signature, 'spec.signature'), 'spec.signature', [
    'content',
    'publicKey',
  ]);
  const signature = base64(sigObj.content, 'spec.signature.content');
  const pk = fields(
    object(sigObj.publicKey, 'spec.signature.publicKey'),
    'spec.signature.publicKey',
    ['content'],
  );
  const pem = base64(pk.content, 'spec.signature.publicKey.content');
  const material = verifierFromPem(pem, 'spec.signature.publicKey.content');
  const data = fields(object(spec.data, 'spec.data'), 'spec.data', ['hash']);
  const hash = fields(object(data.hash, 'spec.data.hash'), 'spec.data.hash', [
    'algorithm',
    'value',
  ]);
  const algorithm = string(hash.algorithm, 'spec.data.hash.algorithm');
  if (!Object.hasOwn(V1_HASH_HEX_LENGTH, algorithm))
    throw invalid('spec.data.hash.algorithm', `must be one of sha256, sha384, sha512`);
  const alg = algorithm as V1HashAlgorithm;
  const hexValue = string(hash.value, 'spec.data.hash.value');
  if (!/^[0-9a-f]*$/.test(hexValue) || hexValue.length !== V1_HASH_HEX_LENGTH[alg])
    throw invalid(
      'spec.data.hash.value',
      `must be ${V1_HASH_HEX_LENGTH[alg]} lowercase hex digits for ${alg}`,
    );
  const digest = fromHex(hexValue, 'spec.data.hash.value');
  // Ed25519 keys sign hashedrekord digests as Ed25519ph, whose prehash is SHA-512 only
  // (RFC 8032 §5.1; rekor #1325): another digest cannot be what the key signed.
  const scheme = messageScheme(material.details);
  if (scheme === 'PKIX_ED25519_PH' && alg !== messageHash(material.details))
    throw invalid(
      'spec.data.hash.algorithm',
      `must be sha512 for an Ed25519 key (Ed25519ph), not ${alg}`,
    );

  const sigB64 = toBase64(signature);
  const keyB64 = toBase64(asciiBytes(canonicalPem(material)));
  const pending: ParsedEntry['pending'][number] = material.point
    ? { point: material.point, details: scheme, digest, signature }
    : { key: material.key, details: scheme, digest, signature };
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    body: hashedRekordV001Body(alg, hexValue, sigB64, keyB64),
    searchKeys: [`${alg}:${hexValue}`, ...verifierSearchKeys(material)],
    pending: [pending],
  };
}

// dsse 0.0.1 (rekor pkg/types/dsse/v0.0.1/entry.go)
function dsseV001(specValue: Record<string, unknown>): ParsedEntry {
  const spec = fields(specValue, 'spec', ['proposedContent']);
  const pc = fields(object(spec.proposedContent, 'spec.proposedContent'), 'spec.proposedContent', [
    'envelope',
    'verifiers',
  ]);
  const envText = string(pc.envelope, 'spec.proposedContent.envelope');
  let envJson: unknown;
  try {
    envJson = parseJsonText(envText, 'spec.proposedContent.envelope');
  } catch (e) {
    // The reason stays (not valid JSON, and where; or the key given twice).
    throw invalid(
      'spec.proposedContent.envelope',
      `is not a JSON DSSE envelope: ${reasonOf(e)}`,
      e,
    );
  }
  const env = readEnvelope(envJson, 'spec.proposedContent.envelope');
  const verifiers = array(pc.verifiers, 'spec.proposedContent.verifiers', {
    min: 1,
    max: MAX_DSSE_VERIFIERS,
  }).map((v, i) => {
    const p = join('spec.proposedContent.verifiers', i);
    return verifierFromPem(base64(v, p), p);
  });
  const m = matchSignatures(
    verifiers,
    pae(env.payloadType, env.payload),
    env.signatures.map((s) => s.sig),
  );
  if (!m.ok)
    throw new SignetError(
      'verification',
      'SIGNATURE_INVALID',
      'no verifier verifies this signature (every signature must have a key that verifies it)',
      { field: `spec.proposedContent.envelope.signatures[${m.unverified}].sig` },
    );
  const signatures = env.signatures
    .map((s, i) => ({
      signature: s.sigText,
      verifier: toBase64(new TextEncoder().encode(canonicalPem(verifiers[m.by[i]!]!))),
    }))
    .sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  const payloadHash = sha256Hex(env.payload);
  const canonical = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256Hex(new TextEncoder().encode(envText)) },
      payloadHash: { algorithm: 'sha256', value: payloadHash },
      signatures,
    },
  };
  const used = [...new Set(m.by)].map((i) => verifiers[i]!);
  return {
    kind: 'dsse',
    apiVersion: '0.0.1',
    body: canonicalBytes(canonical),
    searchKeys: unique([
      `sha256:${payloadHash}`,
      ...intotoSubjectKeys(env.payloadType, env.payload),
      ...used.flatMap(verifierSearchKeys),
    ]),
    pending: [],
  };
}

interface RawEnvelope {
  payloadType: string;
  payload: Uint8Array;
  signatures: Array<{ sig: Uint8Array; sigText: string; keyid: string }>;
}

/** A DSSE envelope JSON value; keeps each `sig` string as given (Rekor stores it verbatim). */
function readEnvelope(value: unknown, path: string): RawEnvelope {
  const env = fields(object(value, path), path, ['payload', 'payloadType', 'signatures']);
  const payloadType = string(env.payloadType, join(path, 'payloadType'));
  const payload = fromBase64(
    string(env.payload, join(path, 'payload')),
    join(path, 'payload'),
    false,
  );
  const signatures = array(env.signatures, join(path, 'signatures'), {
    min: 1,
    max: MAX_DSSE_SIGNATURES,
  }).map((s, i) => {
    const p = join(join(path, 'signatures'), i);
    const o = fields(object(s, p), p, ['sig', 'keyid']);
    const sigText = string(o.sig, join(p, 'sig'));
    return {
      sigText,
      sig: base64(sigText, join(p, 'sig')),
      keyid: optionalString(o.keyid, join(p, 'keyid')) ?? '',
    };
  });
  return { payloadType, payload, signatures };
}

// intoto 0.0.2 (rekor pkg/types/intoto/v0.0.2/entry.go)
function intotoV002(specValue: Record<string, unknown>): ParsedEntry {
  const spec = fields(specValue, 'spec', ['content']);
  const content = fields(object(spec.content, 'spec.content'), 'spec.content', [
    'envelope',
    'hash',
    'payloadHash',
  ]);
  const ep = 'spec.content.envelope';
  const env = fields(object(content.envelope, ep), ep, ['payload', 'payloadType', 'signatures']);
  const payloadType = string(env.payloadType, `${ep}.payloadType`);
  // strfmt.Base64 of the envelope's (base64) payload string: decode twice.
  const payloadB64 = new TextDecoder().decode(base64(env.payload, `${ep}.payload`));
  const payload = fromBase64(payloadB64, `${ep}.payload`, false);
  if (payload.length === 0) throw invalid(`${ep}.payload`, 'must not be empty');
  // Each signature brings its own key, all tried against each signature: the same bound.
  const sigs = array(env.signatures, `${ep}.signatures`, {
    min: 1,
    max: Math.min(MAX_DSSE_SIGNATURES, MAX_DSSE_VERIFIERS),
  }).map((s, i) => {
    const p = `${ep}.signatures[${i}]`;
    const o = fields(object(s, p), p, ['sig', 'publicKey', 'keyid']);
    const sigBytes = base64(o.sig, `${p}.sig`); // base64 of the DSSE sig string
    const sigText = new TextDecoder().decode(sigBytes);
    const sig = base64(sigText, `${p}.sig`);
    const pemBytes = base64(o.publicKey, `${p}.publicKey`);
    return {
      keyid: optionalString(o.keyid, `${p}.keyid`) ?? '',
      sigBytes,
      sig,
      pemBytes,
      material: verifierFromPem(pemBytes, `${p}.publicKey`),
    };
  });
  const hash = readV1Hash(content.hash, 'spec.content.hash');
  if (content.payloadHash !== undefined && content.payloadHash !== null) {
    const given = readV1Hash(content.payloadHash, 'spec.content.payloadHash');
    if (given.value !== sha256Hex(payload))
      throw invalid('spec.content.payloadHash', 'does not match the SHA-256 of the payload');
  }
  const m = matchSignatures(
    sigs.map((s) => s.material),
    pae(payloadType, payload),
    sigs.map((s) => s.sig),
  );
  if (!m.ok)
    throw new SignetError(
      'verification',
      'SIGNATURE_INVALID',
      'no public key verifies this signature (every signature must have a key that verifies it)',
      { field: `${ep}.signatures[${m.unverified}].sig` },
    );
  const payloadHash = sha256Hex(payload);
  const canonical = {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          payloadType,
          signatures: sigs.map((s) => ({
            keyid: s.keyid === '' ? undefined : s.keyid,
            publicKey: toBase64(s.pemBytes),
            sig: toBase64(s.sigBytes),
          })),
        },
        hash,
        payloadHash: { algorithm: 'sha256', value: payloadHash },
      },
    },
  };
  const out: ParsedEntry = {
    kind: 'intoto',
    apiVersion: '0.0.2',
    body: canonicalBytes(canonical),
    searchKeys: unique([
      `sha256:${payloadHash}`,
      ...intotoSubjectKeys(payloadType, payload),
      ...sigs.flatMap((s) => verifierSearchKeys(s.material)),
    ]),
    pending: [],
  };
  if (payload.length <= MAX_ATTESTATION_SIZE) out.attestation = payload;
  return out;
}

function readV1Hash(value: unknown, path: string): { algorithm: 'sha256'; value: string } {
  const h = fields(object(value, path), path, ['algorithm', 'value']);
  const algorithm = string(h.algorithm, `${path}.algorithm`);
  if (algorithm !== 'sha256') throw invalid(`${path}.algorithm`, 'must be sha256');
  const v = string(h.value, `${path}.value`);
  if (!/^[0-9a-f]{64}$/.test(v)) throw invalid(`${path}.value`, 'must be 64 lowercase hex digits');
  return { algorithm: 'sha256', value: v };
}

function unique(keys: string[]): string[] {
  return [...new Set(keys)];
}
