import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { fromBase64 } from '../../core/encoding/base64.ts';
import { decodePemAll } from '../../core/encoding/pem.ts';
import { invalid, SignetError } from '../../core/errors.ts';

/**
 * A Fulcio v2 CreateSigningCertificateRequest (servers.md 1.2), parsed at the edge. protojson
 * accepts lowerCamelCase and the proto snake_case names; exactly one of the two key forms.
 */
export type KeyRequest =
  | { kind: 'publicKey'; key: KeyObject; spki: Uint8Array; proof: Uint8Array }
  /** The CSR bytes (PEM text or DER); verified after the token is authenticated, as Fulcio does. */
  | { kind: 'csr'; csr: Uint8Array };

export interface SigningCertRequest {
  token: string;
  key: KeyRequest;
}

function pick(o: Record<string, unknown>, camel: string, snake: string): unknown {
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

/** Where the token is: `credentials.oidcIdentityToken`, else `Authorization: Bearer`. */
export function tokenOf(body: Record<string, unknown>, authorization: string | undefined): string {
  const creds = pick(body, 'credentials', 'credentials');
  if (creds !== undefined && creds !== null) {
    const t = pick(obj(creds, 'credentials'), 'oidcIdentityToken', 'oidc_identity_token');
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

/** Fulcio reads PEM first and falls back to DER; we also accept base64 DER (unambiguous in JSON). */
function parseRequestKey(content: string, field: string): KeyObject {
  let der: Uint8Array;
  if (content.includes('-----BEGIN')) {
    const blocks = decodePemAll(content, field);
    if (blocks.length !== 1) throw invalid(field, `expected one PEM block, found ${blocks.length}`);
    if (blocks[0]!.label !== 'PUBLIC KEY')
      throw invalid(field, `PEM block "${blocks[0]!.label}" is not a PUBLIC KEY`);
    der = blocks[0]!.der;
  } else {
    der = fromBase64(content.trim(), field);
  }
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch (e) {
    throw invalid(field, `is not a SubjectPublicKeyInfo public key: ${(e as Error).message}`, e);
  }
}

export function parseSigningCertRequest(
  rawBody: unknown,
  authorization: string | undefined,
): SigningCertRequest {
  const body = obj(rawBody ?? {}, 'body');
  const pkr = pick(body, 'publicKeyRequest', 'public_key_request');
  const csr = pick(body, 'certificateSigningRequest', 'certificate_signing_request');
  const hasPk = pkr !== undefined && pkr !== null;
  const hasCsr = csr !== undefined && csr !== null && csr !== '';
  if (hasPk && hasCsr)
    throw invalid('body', 'give either publicKeyRequest or certificateSigningRequest, not both');
  if (!hasPk && !hasCsr)
    throw invalid(
      'body',
      'give a publicKeyRequest (key + proof of possession) or a certificateSigningRequest',
    );
  // The token is read after the shape, but authenticated first (in the issuer).
  const token = tokenOf(body, authorization);
  if (hasCsr) {
    const bytes = fromBase64(str(csr, 'certificateSigningRequest'), 'certificateSigningRequest');
    return { token, key: { kind: 'csr', csr: bytes } };
  }
  const p = obj(pkr, 'publicKeyRequest');
  const pk = obj(pick(p, 'publicKey', 'public_key'), 'publicKeyRequest.publicKey');
  const key = parseRequestKey(
    str(pk['content'], 'publicKeyRequest.publicKey.content'),
    'publicKeyRequest.publicKey.content',
  );
  const proofText = pick(p, 'proofOfPossession', 'proof_of_possession');
  if (proofText === undefined || proofText === '')
    throw new SignetError('invalid-input', 'PROOF_OF_POSSESSION', 'is missing', {
      field: 'publicKeyRequest.proofOfPossession',
    });
  const proof = fromBase64(
    str(proofText, 'publicKeyRequest.proofOfPossession'),
    'publicKeyRequest.proofOfPossession',
  );
  return {
    token,
    key: {
      kind: 'publicKey',
      key,
      spki: new Uint8Array(key.export({ format: 'der', type: 'spki' })),
      proof,
    },
  };
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
  const pk = body['publicKey'];
  const csr = body['certificateSigningRequest'];
  const hasPk = pk !== undefined && pk !== null;
  const hasCsr = csr !== undefined && csr !== null && csr !== '';
  if (hasPk && hasCsr)
    throw invalid('body', 'give either publicKey or certificateSigningRequest, not both');
  if (!hasPk && !hasCsr)
    throw invalid(
      'body',
      'give a publicKey (with signedEmailAddress) or a certificateSigningRequest',
    );
  const token = tokenOf({}, authorization);
  if (hasCsr)
    return {
      token,
      key: {
        kind: 'csr',
        csr: fromBase64(str(csr, 'certificateSigningRequest'), 'certificateSigningRequest'),
      },
    };
  const content = fromBase64(
    str(obj(pk, 'publicKey')['content'], 'publicKey.content'),
    'publicKey.content',
  );
  const text = Buffer.from(content).toString('latin1');
  const key = text.includes('-----BEGIN')
    ? parseRequestKey(text, 'publicKey.content')
    : parseRequestKey(Buffer.from(content).toString('base64'), 'publicKey.content');
  const proofText = body['signedEmailAddress'];
  if (proofText === undefined || proofText === '')
    throw new SignetError('invalid-input', 'PROOF_OF_POSSESSION', 'is missing', {
      field: 'signedEmailAddress',
    });
  return {
    token,
    key: {
      kind: 'publicKey',
      key,
      spki: new Uint8Array(key.export({ format: 'der', type: 'spki' })),
      proof: fromBase64(str(proofText, 'signedEmailAddress'), 'signedEmailAddress'),
    },
  };
}
