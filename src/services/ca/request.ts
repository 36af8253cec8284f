import type { KeyObject } from 'node:crypto';
import { readSpki } from '../../core/crypto/keys.ts';
import { fromBase64 } from '../../core/encoding/base64.ts';
import { decodePemAll } from '../../core/encoding/pem.ts';
import { invalid, SignetError } from '../../core/errors.ts';

/**
 * A Fulcio v2 CreateSigningCertificateRequest (servers.md 1.2), parsed at the edge. protojson
 * accepts lowerCamelCase and the proto snake_case names; exactly one of the two key forms.
 */
export type KeyRequest =
  | {
      kind: 'publicKey';
      key: KeyObject;
      spki: Uint8Array;
      proof: Uint8Array;
      /** Where the request put the key and the proof, for errors (v2 and v1 name them apart). */
      fields: { key: string; proof: string };
    }
  /** The CSR bytes (PEM text or DER); verified after the token is authenticated, as Fulcio does. */
  | { kind: 'csr'; csr: Uint8Array };

export interface SigningCertRequest {
  token: string;
  key: KeyRequest;
}

/**
 * A field of the object at `path` by its JSON name or its proto name, as protojson reads both.
 * Both at once are one field given twice, which protojson refuses ("duplicate field"), as a
 * JSON key repeated is (json-body.ts): either reading would be a guess.
 */
function pick(o: Record<string, unknown>, camel: string, snake: string, path: string): unknown {
  if (Object.hasOwn(o, camel) && Object.hasOwn(o, snake))
    throw invalid(path ? `${path}.${snake}` : snake, `is given twice (as ${camel} and ${snake})`);
  return o[camel] ?? o[snake];
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'must be a JSON object');
  return v as Record<string, unknown>;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw invalid(field, 'must be a non-empty string');
  return v;
}

/**
 * `publicKey.algorithm`: not used (the key's own SubjectPublicKeyInfo says what it is), but of
 * its type. v2 has Fulcio's PublicKeyAlgorithm enum, which protojson reads from a name or an
 * int32 number (a name it does not know is dropped, as Fulcio's gateway drops it); the v1 API
 * has a free-form string ("ecdsa").
 */
function checkAlgorithm(v: unknown, field: string, numbers: boolean): void {
  if (v === undefined || v === null || typeof v === 'string') return;
  if (numbers && typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 31) return;
  throw invalid(
    field,
    numbers
      ? 'must be a PublicKeyAlgorithm name such as "ECDSA", or its number'
      : 'must be a string',
  );
}

/** Where the token is: `credentials.oidcIdentityToken`, else `Authorization: Bearer`. */
function tokenOf(body: Record<string, unknown>, authorization: string | undefined): string {
  const creds = body['credentials'];
  if (creds !== undefined && creds !== null) {
    const t = pick(
      obj(creds, 'credentials'),
      'oidcIdentityToken',
      'oidc_identity_token',
      'credentials',
    );
    if (t !== undefined && t !== '') return str(t, 'credentials.oidcIdentityToken');
  }
  if (authorization !== undefined) {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!m) throw invalid('Authorization', 'must be "Bearer <identity token>"');
    return m[1]!;
  }
  throw new SignetError(
    'unauthorized',
    'MISSING_TOKEN',
    'no identity token: give it in credentials.oidcIdentityToken or an "Authorization: Bearer" header',
  );
}

/** A public key and its SubjectPublicKeyInfo DER (what the certificate will carry). */
interface ParsedKey {
  key: KeyObject;
  spki: Uint8Array;
}

/** A PEM `PUBLIC KEY` block (Fulcio reads PEM first and falls back to DER). */
function pemKey(text: string, field: string): ParsedKey {
  const blocks = decodePemAll(text, field);
  if (blocks.length !== 1) throw invalid(field, `expected one PEM block, found ${blocks.length}`);
  if (blocks[0]!.label !== 'PUBLIC KEY')
    throw invalid(field, `PEM block "${blocks[0]!.label}" is not a PUBLIC KEY`);
  return spkiKey(blocks[0]!.der, field);
}

function spkiKey(der: Uint8Array, field: string): ParsedKey {
  try {
    return readSpki(der, field);
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw invalid(field, `is not a SubjectPublicKeyInfo public key: ${(e as Error).message}`, e);
  }
}

/**
 * Exactly one of the two key forms; an empty CSR string counts as absent (protojson writes
 * unset strings that way).
 */
function keyForm(pk: unknown, csr: unknown, pkName: string, hint: string): 'publicKey' | 'csr' {
  const hasPk = pk !== undefined && pk !== null;
  const hasCsr = csr !== undefined && csr !== null && csr !== '';
  if (hasPk && hasCsr)
    throw invalid('body', `give either ${pkName} or certificateSigningRequest, not both`);
  if (!hasPk && !hasCsr)
    throw invalid('body', `give a ${pkName} ${hint} or a certificateSigningRequest`);
  return hasCsr ? 'csr' : 'publicKey';
}

function csrRequest(token: string, csr: unknown): SigningCertRequest {
  const bytes = fromBase64(str(csr, 'certificateSigningRequest'), 'certificateSigningRequest');
  return { token, key: { kind: 'csr', csr: bytes } };
}

function publicKeyRequest(
  token: string,
  { key, spki }: ParsedKey,
  proofText: unknown,
  fields: { key: string; proof: string },
): SigningCertRequest {
  const proofField = fields.proof;
  if (proofText === undefined || proofText === '')
    throw new SignetError('invalid-input', 'PROOF_OF_POSSESSION', 'is missing', {
      field: proofField,
    });
  return {
    token,
    key: {
      kind: 'publicKey',
      key,
      spki,
      proof: fromBase64(str(proofText, proofField), proofField),
      fields,
    },
  };
}

export function parseSigningCertRequest(
  rawBody: unknown,
  authorization: string | undefined,
): SigningCertRequest {
  const body = obj(rawBody ?? {}, 'body');
  const pkr = pick(body, 'publicKeyRequest', 'public_key_request', '');
  const csr = pick(body, 'certificateSigningRequest', 'certificate_signing_request', '');
  const form = keyForm(pkr, csr, 'publicKeyRequest', '(key + proof of possession)');
  // The token is read after the shape, but authenticated first (in the issuer).
  const token = tokenOf(body, authorization);
  if (form === 'csr') return csrRequest(token, csr);
  const p = obj(pkr, 'publicKeyRequest');
  const pk = obj(
    pick(p, 'publicKey', 'public_key', 'publicKeyRequest'),
    'publicKeyRequest.publicKey',
  );
  checkAlgorithm(pk['algorithm'], 'publicKeyRequest.publicKey.algorithm', true);
  const field = 'publicKeyRequest.publicKey.content';
  // We also accept base64 DER, which is unambiguous in JSON.
  const content = str(pk['content'], field);
  const key = content.includes('-----BEGIN')
    ? pemKey(content, field)
    : spkiKey(fromBase64(content.trim(), field), field);
  return publicKeyRequest(
    token,
    key,
    pick(p, 'proofOfPossession', 'proof_of_possession', 'publicKeyRequest'),
    {
      key: field,
      proof: 'publicKeyRequest.proofOfPossession',
    },
  );
}

/**
 * Fulcio's deprecated v1 request (servers.md 1.1/1.2; still what older cosign sends):
 * `{publicKey: {algorithm, content: base64(PEM or DER)}, signedEmailAddress: base64 proof}` or
 * `{certificateSigningRequest: base64}`; the token only in `Authorization: Bearer`.
 */
export function parseLegacySigningCertRequest(
  rawBody: unknown,
  authorization: string | undefined,
): SigningCertRequest {
  const body = obj(rawBody ?? {}, 'body');
  const csr = body['certificateSigningRequest'];
  // Fulcio's Go client (api.CertificateRequest, no omitempty) sends `"publicKey":{"content":null}`
  // with a CSR: next to a CSR, a key without content is no key.
  const pk = csr && emptyKey(body['publicKey']) ? undefined : body['publicKey'];
  const form = keyForm(pk, csr, 'publicKey', '(with signedEmailAddress)');
  const token = tokenOf({}, authorization);
  if (form === 'csr') return csrRequest(token, csr);
  const given = obj(pk, 'publicKey');
  checkAlgorithm(given['algorithm'], 'publicKey.algorithm', false);
  const field = 'publicKey.content';
  const content = fromBase64(str(given['content'], field), field);
  const text = Buffer.from(content).toString('latin1');
  const key = text.includes('-----BEGIN') ? pemKey(text, field) : spkiKey(content, field);
  return publicKeyRequest(token, key, body['signedEmailAddress'], {
    key: field,
    proof: 'signedEmailAddress',
  });
}

function emptyKey(pk: unknown): boolean {
  if (typeof pk !== 'object' || pk === null || Array.isArray(pk)) return false;
  const content = (pk as Record<string, unknown>)['content'];
  return content === undefined || content === null || content === '';
}
