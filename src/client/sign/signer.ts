import type { KeyObject, X509Certificate as Certificate } from 'node:crypto';
import {
  defaultHash,
  keyDetailsOf,
  messageScheme,
  spkiDer,
  type KeyDetails,
  type MessageScheme,
} from '../../core/crypto/keys.ts';
import { SignetError } from '../../core/errors.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { createSigningCertificate } from '../http/fulcio.ts';
import type { HttpOptions } from '../../services/http/outbound.ts';
import { challengeOf } from './token.ts';
import { digest } from '../../core/crypto/digest.ts';
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
  /** The key's own scheme: what DSSE envelopes are signed with (pure Ed25519 for Ed25519). */
  keyDetails: KeyDetails;
  /** The scheme of message signatures (messageScheme: Ed25519ph for an Ed25519 key). */
  messageDetails: MessageScheme;
  /** Sign `data` (a DSSE PAE) with the scheme `keyDetails` names (ECDSA: ASN.1 DER). */
  sign(data: Uint8Array): Uint8Array;
  /** Sign an artifact with the scheme `messageDetails` names. */
  signMessage(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Sign an artifact given by its digest (the hash of `messageDetails`), for files streamed
   * from disk: the same signature signMessage makes over the whole file.
   */
  signDigest(digest: Uint8Array): Promise<Uint8Array>;
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

/** The signing operations of a key: its own scheme, and its message scheme (whole or digest). */
function schemesOf(
  privateKey: KeyObject,
  publicKey: KeyObject,
  keyDetails: KeyDetails,
): Pick<Signer, 'keyDetails' | 'messageDetails' | 'sign' | 'signMessage' | 'signDigest'> {
  const messageDetails = messageScheme(keyDetails);
  // Signing a digest (prehashed.ts, with the verifier it checks each signature against) is
  // loaded when first needed: most signatures are made over a whole file through OpenSSL, and
  // the five modules cost a `signet sign-blob` about a millisecond to load.
  let digestSigner: ((d: Uint8Array) => Uint8Array) | undefined;
  const signDigest = async (d: Uint8Array): Promise<Uint8Array> => {
    digestSigner ??= (await import('./prehashed.ts')).digestSigner(
      privateKey,
      publicKey,
      messageDetails,
    );
    return digestSigner(d);
  };
  return {
    keyDetails,
    messageDetails,
    sign: (data) => signWith(privateKey, keyDetails, data),
    // OpenSSL has no Ed25519ph: its message signatures are made over the SHA-512 digest.
    signMessage:
      messageDetails === keyDetails
        ? async (data) => signWith(privateKey, keyDetails, data)
        : (data) => signDigest(digest(defaultHash(messageDetails), data)),
    signDigest,
  };
}

/** A signer over a user's key (`--key`): the bundle names the key by its hint. */
export function keySigner(privateKey: KeyObject): Signer {
  const pub = createPublicKey(privateKey);
  const keyDetails = keyDetailsOf(pub, '--key');
  const der = spkiDer(pub);
  return {
    ...schemesOf(privateKey, pub, keyDetails),
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
    ...schemesOf(privateKey, publicKey, keyDetails),
    verifierPem: encodePem('CERTIFICATE', new Uint8Array(leaf.raw)),
    material: { $case: 'certificate', certificateDer: new Uint8Array(leaf.raw) },
    chainPem: chain,
  };
}
