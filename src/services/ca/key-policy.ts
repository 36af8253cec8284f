import type { KeyObject } from 'node:crypto';
import { verify as nodeVerify } from 'node:crypto';
import { defaultHash, keyDetailsOf, type KeyDetails } from '../../core/crypto/keys.ts';
import { verifyMessage } from '../../core/crypto/verify.ts';
import { SignetError, quoteInput } from '../../core/errors.ts';

/**
 * Which requester keys the CA certifies (Fulcio `--client-signing-algorithms`, servers.md 1.3
 * step 3) and the proof of possession (step 2).
 */
export const DEFAULT_ALGORITHMS: readonly KeyDetails[] = [
  'PKIX_ECDSA_P256_SHA_256',
  'PKIX_ECDSA_P384_SHA_384',
  'PKIX_ECDSA_P521_SHA_512',
  'PKIX_RSA_PKCS1V15_2048_SHA256',
  'PKIX_RSA_PKCS1V15_3072_SHA256',
  'PKIX_RSA_PKCS1V15_4096_SHA256',
  'PKIX_ED25519',
];

/** The key's scheme, when it is strong enough and allowed; else an error saying why not. */
export function checkKey(
  key: KeyObject,
  allowed: readonly KeyDetails[],
  field: string,
): KeyDetails {
  const details = keyDetailsOf(key, field);
  if (key.asymmetricKeyType === 'rsa') {
    // goodkey: the public exponent must be odd and at least 65537 (small exponents are weak).
    const e = key.asymmetricKeyDetails?.publicExponent;
    if (e === undefined || e < 65537n || e % 2n === 0n)
      throw new SignetError(
        'unsupported',
        'WEAK_KEY',
        `RSA public exponent ${e} is not allowed (must be odd and at least 65537)`,
        { field },
      );
  }
  if (!allowed.includes(details))
    throw new SignetError(
      'unsupported',
      'ALGORITHM_NOT_ALLOWED',
      `${details} keys are not allowed by this CA (allowed: ${allowed.join(', ')})`,
      { field },
    );
  return details;
}

/**
 * Fulcio's proof of possession: a signature over the UTF-8 bytes of the challenge (the email
 * for email identities, else the token's `sub`), with the key's default scheme: ECDSA with the
 * curve's SHA-2 (ASN.1 DER), RSA PKCS#1 v1.5 SHA-256, pure Ed25519.
 */
export async function checkProofOfPossession(
  key: KeyObject,
  details: KeyDetails,
  challenge: string,
  proof: Uint8Array,
  field: string,
): Promise<void> {
  if (proof.length === 0)
    throw new SignetError('invalid-input', 'PROOF_OF_POSSESSION', 'is missing', { field });
  if (!(await verifyOffLoop(key, details, new TextEncoder().encode(challenge), proof)))
    throw new SignetError(
      'verification',
      'PROOF_OF_POSSESSION',
      `is not a valid ${details} signature by the given public key over the challenge ` +
        `${quoteInput(challenge)} (the token's email for email identities, else its "sub")`,
      { field },
    );
}

/**
 * The default-scheme check of core/crypto `verifyMessage`; the slow schemes (P-384, P-521,
 * RSA: about half a millisecond) run on libuv's thread pool so a busy CA's event loop is not
 * blocked by them (bench/ca).
 */
function verifyOffLoop(
  key: KeyObject,
  details: KeyDetails,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  // P-256 and Ed25519 verify in well under 0.1 ms: a thread hop would cost more than it saves.
  if (
    details === 'PKIX_ED25519_PH' ||
    details === 'PKIX_ED25519' ||
    details === 'PKIX_ECDSA_P256_SHA_256'
  )
    return Promise.resolve(verifyMessage(key, details, message, signature));
  const hash = defaultHash(details);
  return new Promise((resolve) => {
    try {
      nodeVerify(hash, message, key, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}
