import { createPublicKey, type KeyObject } from 'node:crypto';
import { invalid, SignetError } from '../errors.ts';
import { decodePemAll } from '../encoding/pem.ts';

/**
 * protobuf-specs `PublicKeyDetails` names for the key types Sigstore uses
 * (sigstore_common.proto). The name fixes key type, size and the hash of the signature.
 */
export type KeyDetails =
  | 'PKIX_ECDSA_P256_SHA_256'
  | 'PKIX_ECDSA_P384_SHA_384'
  | 'PKIX_ECDSA_P521_SHA_512'
  | 'PKIX_ED25519'
  | 'PKIX_ED25519_PH'
  | 'PKIX_RSA_PKCS1V15_2048_SHA256'
  | 'PKIX_RSA_PKCS1V15_3072_SHA256'
  | 'PKIX_RSA_PKCS1V15_4096_SHA256';

export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

export const HASH_SIZE: Record<HashAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** The hash a key type signs with by default (Fulcio's and Rekor's default schemes). */
export function defaultHash(details: KeyDetails): HashAlgorithm {
  switch (details) {
    case 'PKIX_ECDSA_P384_SHA_384':
      return 'sha384';
    case 'PKIX_ECDSA_P521_SHA_512':
    case 'PKIX_ED25519_PH':
      return 'sha512';
    default:
      return 'sha256';
  }
}

/** Parse a public key from PEM (`PUBLIC KEY` or a `CERTIFICATE`, whose key is taken) or SPKI DER. */
export function parsePublicKey(input: string | Uint8Array, field: string): KeyObject {
  try {
    if (typeof input === 'string') {
      const block = decodePemAll(input, field)[0]!;
      if (block.label === 'CERTIFICATE') return createPublicKey({ key: input, format: 'pem' });
      if (
        block.label !== 'PUBLIC KEY' &&
        block.label !== 'RSA PUBLIC KEY' &&
        block.label !== 'EC PUBLIC KEY'
      )
        throw invalid(field, `PEM block "${block.label}" is not a public key`);
      return createPublicKey({
        key: Buffer.from(block.der),
        format: 'der',
        type: block.label === 'RSA PUBLIC KEY' ? 'pkcs1' : 'spki',
      });
    }
    return createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw invalid(field, `is not a public key: ${(e as Error).message}`, e);
  }
}

/** The `KeyDetails` of a public key, or a SignetError when the type or size is not supported. */
export function keyDetailsOf(key: KeyObject, field: string): KeyDetails {
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  if (t === 'ec') {
    switch (d.namedCurve) {
      case 'prime256v1':
        return 'PKIX_ECDSA_P256_SHA_256';
      case 'secp384r1':
        return 'PKIX_ECDSA_P384_SHA_384';
      case 'secp521r1':
        return 'PKIX_ECDSA_P521_SHA_512';
    }
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KEY',
      `EC curve ${d.namedCurve} is not supported (P-256, P-384, P-521 are)`,
      { field },
    );
  }
  if (t === 'ed25519') return 'PKIX_ED25519';
  if (t === 'rsa') {
    switch (d.modulusLength) {
      case 2048:
        return 'PKIX_RSA_PKCS1V15_2048_SHA256';
      case 3072:
        return 'PKIX_RSA_PKCS1V15_3072_SHA256';
      case 4096:
        return 'PKIX_RSA_PKCS1V15_4096_SHA256';
    }
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_KEY',
      `RSA key size ${d.modulusLength} is not supported (2048, 3072, 4096 are)`,
      { field },
    );
  }
  throw new SignetError('unsupported', 'UNSUPPORTED_KEY', `key type ${t} is not supported`, {
    field,
  });
}

/** SubjectPublicKeyInfo DER of a key. */
export function spkiDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}
