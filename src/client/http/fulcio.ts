import {
  badResponse,
  type HttpOptions,
  sendJson,
  trimSlash,
} from '../../services/http/outbound.ts';

/**
 * Fulcio API v2 `POST /api/v2/signingCert` with a public key and proof of possession
 * (fulcio.proto `CreateSigningCertificateRequest`; servers.md 1.2).
 */
export interface SigningCertRequest {
  identityToken: string;
  /** PEM `PUBLIC KEY` text of the signing key. */
  publicKeyPem: string;
  /** Signature by the signing key over the token's challenge claim (email or sub). */
  proofOfPossession: Uint8Array;
  algorithm?: 'ECDSA' | 'ED25519' | 'RSA_PSS';
}

export interface SigningCertResult {
  /** PEM certificates, leaf first. */
  chain: string[];
  /** base64 JSON AddChainResponse when the CA returned a detached SCT. */
  detachedSct?: string;
}

export async function createSigningCertificate(
  baseUrl: string,
  req: SigningCertRequest,
  opts: HttpOptions = {},
): Promise<SigningCertResult> {
  const url = `${trimSlash(baseUrl)}/api/v2/signingCert`;
  const service = 'the CA (Fulcio)';
  const { json } = await sendJson(
    {
      service,
      method: 'POST',
      url,
      json: {
        credentials: { oidcIdentityToken: req.identityToken },
        publicKeyRequest: {
          publicKey: { algorithm: req.algorithm ?? 'ECDSA', content: req.publicKeyPem },
          proofOfPossession: Buffer.from(req.proofOfPossession).toString('base64'),
        },
      },
    },
    opts,
  );
  const r = json as Record<string, unknown> | null;
  const embedded = r?.signedCertificateEmbeddedSct as Record<string, unknown> | undefined;
  const detached = r?.signedCertificateDetachedSct as Record<string, unknown> | undefined;
  const holder = embedded ?? detached;
  const certs = (holder?.chain as { certificates?: unknown } | undefined)?.certificates;
  if (
    !Array.isArray(certs) ||
    certs.length === 0 ||
    !certs.every((c) => typeof c === 'string' && c.includes('-----BEGIN CERTIFICATE-----'))
  )
    throw badResponse(
      { service, url },
      'expected signedCertificateEmbeddedSct or signedCertificateDetachedSct with a chain of PEM certificates',
    );
  const out: SigningCertResult = { chain: certs as string[] };
  if (detached && typeof detached.signedCertificateTimestamp === 'string')
    out.detachedSct = detached.signedCertificateTimestamp;
  return out;
}
