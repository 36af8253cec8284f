import type { KeyObject, X509Certificate as Certificate } from 'node:crypto';
import { defaultHash, keyDetailsOf, spkiDer, type KeyDetails } from '../../core/crypto/keys.ts';
import { SignetError } from '../../core/errors.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { createSigningCertificate } from '../http/fulcio.ts';
import type { HttpOptions } from '../../services/http/outbound.ts';
import { challengeOf } from './token.ts';
import { digestSigner } from './prehashed.ts';
const {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  sign: nodeSign,
  X509Certificate,
} = process.getBuiltinModule('node:crypto');

/**
 * Who signs: a key, and the material that identifies it in the bundle. Keyless signers hold
 * an ephemeral key certified by the CA (the key lives only in this object and is never written
 * anywhere); keyed signers hold the user's key and put a public key hint in the bundle.
 */
export interface Signer {
  keyDetails: KeyDetails;
  /** Sign `data` with the scheme `keyDetails` names (ECDSA: ASN.1 DER). */
  sign(data: Uint8Array): Uint8Array;
  /**
   * Sign a message given by its digest (the hash of `keyDetails`), for files streamed from
   * disk; undefined for pure Ed25519, which needs the whole message.
   */
  signDigest: ((digest: Uint8Array) => Uint8Array) | undefined;
  /** PEM of the certificate or public key, as Rekor v1 entries carry it. */
  verifierPem: string;
  material:
    | { $case: 'certificate'; certificateDer: Uint8Array }
    | { $case: 'publicKey'; hint: string; publicKeyDer: Uint8Array };
}

function signWith(key: KeyObject, details: KeyDetails, data: Uint8Array): Uint8Array {
  const alg = details === 'PKIX_ED25519' ? null : defaultHash(details);
  return new Uint8Array(nodeSign(alg, data, key));
}

/** A signer over a user's key (`--key`): the bundle names the key by its hint. */
export function keySigner(privateKey: KeyObject): Signer {
  const pub = createPublicKey(privateKey);
  const keyDetails = keyDetailsOf(pub, '--key');
  const der = spkiDer(pub);
  return {
    keyDetails,
    sign: (data) => signWith(privateKey, keyDetails, data),
    signDigest: digestSigner(privateKey, pub, keyDetails),
    verifierPem: encodePem('PUBLIC KEY', der),
    material: { $case: 'publicKey', hint: publicKeyHint(der), publicKeyDer: der },
  };
}

/** The hint sigstore-go and cosign put in key-signed bundles: base64(SHA-256(SPKI DER)). */
export function publicKeyHint(spki: Uint8Array): string {
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Keyless: a fresh ECDSA P-256 key (or `keyPair`, when the caller keeps the key for a
 * credential cache), a proof of possession over the token's challenge claim, and a certificate
 * from the CA (Fulcio API v2). The certificate must certify our key.
 */
export async function keylessSigner(
  caUrl: string,
  identityToken: string,
  http: HttpOptions = {},
  keyPair: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  }),
): Promise<Signer & { chainPem: string[] }> {
  const challenge = challengeOf(identityToken);
  const { privateKey, publicKey } = keyPair;
  const keyDetails: KeyDetails = 'PKIX_ECDSA_P256_SHA_256';
  const der = spkiDer(publicKey);
  const pop = signWith(privateKey, keyDetails, new TextEncoder().encode(challenge));
  const { chain } = await createSigningCertificate(
    caUrl,
    { identityToken, publicKeyPem: encodePem('PUBLIC KEY', der), proofOfPossession: pop },
    http,
  );
  return certifiedSigner(privateKey, chain);
}

/**
 * A signer over a key and the certificate chain (PEM, leaf first) the CA issued for it: for a
 * fresh keyless signer, or one a credential cache kept. The leaf must certify this key.
 */
export function certifiedSigner(
  privateKey: KeyObject,
  chain: string[],
): Signer & { chainPem: string[] } {
  const publicKey = createPublicKey(privateKey);
  const keyDetails = keyDetailsOf(publicKey, 'signing key');
  const der = spkiDer(publicKey);
  // OpenSSL's parser (node:crypto) is enough to read the key and DER back: the verifier
  // checks everything else about the certificate.
  let leaf: Certificate;
  try {
    leaf = new X509Certificate(chain[0]!);
  } catch (e) {
    throw new SignetError(
      'internal',
      'BAD_RESPONSE',
      `the CA returned a certificate that does not parse: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const leafSpki = leaf.publicKey.export({ format: 'der', type: 'spki' });
  if (!leafSpki.equals(Buffer.from(der)))
    throw new SignetError(
      'verification',
      'CERTIFICATE_KEY_MISMATCH',
      'the CA returned a certificate for a different key than the one we asked it to certify',
    );
  return {
    keyDetails,
    sign: (data) => signWith(privateKey, keyDetails, data),
    signDigest: digestSigner(privateKey, publicKey, keyDetails),
    verifierPem: encodePem('CERTIFICATE', new Uint8Array(leaf.raw)),
    material: { $case: 'certificate', certificateDer: new Uint8Array(leaf.raw) },
    chainPem: chain,
  };
}
