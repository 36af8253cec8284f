import type { KeyObject } from 'node:crypto';
import {
  type EcCurveName,
  type EcPoint,
  ecPointFromUncompressed,
  verifyEcdsaDigestBatch,
} from './ecdsa.ts';
import { defaultHash, type HashAlgorithm, type KeyDetails, spkiDer } from './keys.ts';
import { digest } from './digest.ts';
import { verifyEd25519phDigest } from './ed25519ph.ts';
const { verify: nodeVerify } = process.getBuiltinModule('node:crypto');

/**
 * Verify `signature` over `message` with the scheme `details` names (ECDSA signatures are
 * ASN.1 DER, as everywhere in Sigstore). `hash` replaces the scheme's hash for ECDSA and RSA
 * (a signer that hashed with another one). Never throws on a bad signature: returns false.
 */
export function verifyMessage(
  key: KeyObject,
  details: KeyDetails,
  message: Uint8Array,
  signature: Uint8Array,
  hash?: HashAlgorithm,
): boolean {
  try {
    // node:crypto reads a null algorithm as SHA-256 for EC keys: the key must be Ed25519.
    if (details === 'PKIX_ED25519')
      return key.asymmetricKeyType === 'ed25519' && nodeVerify(null, message, key, signature);
    if (details === 'PKIX_ED25519_PH')
      return verifyDigest(key, details, digest(defaultHash(details), message), signature);
    return nodeVerify(hash ?? defaultHash(details), message, key, signature);
  } catch {
    return false;
  }
}

/**
 * Verify `signature` over a message known only by its `digest` (hashedrekord, digest-mode
 * verification). OpenSSL through node:crypto cannot verify a prehashed ECDSA digest, so EC keys
 * go through ecdsa.ts (exact ECDSA with OpenSSL doing the scalar multiplications); RSA through
 * the PKCS#1 v1.5 block; Ed25519ph through @noble/curves.
 */
export function verifyDigest(
  key: KeyObject,
  details: KeyDetails,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifyDigestBatch([{ key, details, digest, signature }])[0]!;
}

export interface DigestVerification {
  /** The key; may be left out for ECDSA when `point` is given. */
  key?: KeyObject;
  details: KeyDetails;
  digest: Uint8Array;
  signature: Uint8Array;
  /** The key's EC point when the caller already has it (saves a KeyObject import and export). */
  point?: EcPoint;
}

/**
 * Many digest verifications at once: ECDSA ones share their modular inversions (see ecdsa.ts),
 * which makes a batch several times cheaper per signature than single calls. `result[i]` is
 * true iff item i verifies. Never throws on bad input.
 */
export function verifyDigestBatch(items: readonly DigestVerification[]): boolean[] {
  const out = new Array<boolean>(items.length).fill(false);
  const ec: Array<{ i: number; key: EcPoint; digest: Uint8Array; signature: Uint8Array }> = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const curve = EC_CURVE[it.details];
    if (curve) {
      const point = it.point ?? (it.key && ecPointOf(it.key, curve));
      if (point && point.curve === curve)
        ec.push({ i, key: point, digest: it.digest, signature: it.signature });
      continue;
    }
    if (it.key) out[i] = verifyOtherDigest(it.key, it.details, it.digest, it.signature);
  }
  if (ec.length > 0) {
    const res = verifyEcdsaDigestBatch(ec);
    for (let k = 0; k < ec.length; k++) out[ec[k]!.i] = res[k]!;
  }
  return out;
}

const EC_CURVE: Partial<Record<KeyDetails, EcCurveName>> = {
  PKIX_ECDSA_P256_SHA_256: 'P-256',
  PKIX_ECDSA_P384_SHA_384: 'P-384',
  PKIX_ECDSA_P521_SHA_512: 'P-521',
};

const NODE_CURVE: Record<EcCurveName, string> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
};

/** The affine point of an EC public key of `curve`, or undefined for any other key. */
export function ecPointOf(key: KeyObject, curve: EcCurveName): EcPoint | undefined {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== NODE_CURVE[curve])
    return undefined;
  const raw = rawPublicKey(key);
  return ecPointFromUncompressed(curve, raw);
}

function verifyOtherDigest(
  key: KeyObject,
  details: KeyDetails,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    switch (details) {
      case 'PKIX_ED25519_PH':
        // Ed25519ph signs SHA-512(message): the digest is all it needs (RFC 8032 §5.1).
        if (key.asymmetricKeyType !== 'ed25519') return false;
        return verifyEd25519phDigest(signature, digest, rawPublicKey(key));
      case 'PKIX_ED25519':
        return false; // pure Ed25519 signs the message itself: a digest cannot check it
      case 'PKIX_RSA_PKCS1V15_2048_SHA256':
      case 'PKIX_RSA_PKCS1V15_3072_SHA256':
      case 'PKIX_RSA_PKCS1V15_4096_SHA256':
        if (key.asymmetricKeyType !== 'rsa') return false;
        return verifyRsaDigest(key, digest, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** Raw public key bytes: uncompressed EC point or the 32-byte Ed25519 key. */
function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'OKP') return new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
  if (jwk.kty === 'EC') {
    const x = Buffer.from(jwk.x!, 'base64url');
    const y = Buffer.from(jwk.y!, 'base64url');
    return new Uint8Array(Buffer.concat([Buffer.from([4]), x, y]));
  }
  return spkiDer(key);
}

// DigestInfo prefixes (RFC 8017 §9.2 note 1) for PKCS#1 v1.5 over a given digest.
const DIGEST_INFO: Record<number, string> = {
  32: '3031300d060960864801650304020105000420',
  48: '3041300d060960864801650304020205000430',
  64: '3051300d060960864801650304020305000440',
};

function verifyRsaDigest(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const prefix = DIGEST_INFO[digest.length];
  if (!prefix) return false;
  // Node can verify PKCS#1 v1.5 over a digest via publicDecrypt of the signature block.
  const { publicDecrypt, constants } = process.getBuiltinModule('node:crypto');
  const decoded = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  const expected = Buffer.concat([Buffer.from(prefix, 'hex'), digest]);
  return decoded.length === expected.length && decoded.equals(expected);
}
