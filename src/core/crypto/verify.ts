import { createHash, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { defaultHash, type HashAlgorithm, type KeyDetails, spkiDer } from './keys.ts';

/**
 * Verify `signature` over `message` with the scheme `details` names (ECDSA signatures are
 * ASN.1 DER, as everywhere in Sigstore). Never throws on a bad signature: returns false.
 */
export function verifyMessage(
  key: KeyObject,
  details: KeyDetails,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (details === 'PKIX_ED25519') return nodeVerify(null, message, key, signature);
    if (details === 'PKIX_ED25519_PH')
      return verifyDigest(key, details, sha(defaultHash(details), message), signature);
    return nodeVerify(defaultHash(details), message, key, signature);
  } catch {
    return false;
  }
}

/**
 * Verify `signature` over a message known only by its `digest` (hashedrekord, digest-mode
 * verification). OpenSSL through node:crypto cannot verify a prehashed ECDSA digest, so EC
 * keys go through @noble/curves. (Hot path for Rekor admission: see core/crypto notes.)
 */
export function verifyDigest(
  key: KeyObject,
  details: KeyDetails,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    const raw = rawPublicKey(key);
    switch (details) {
      case 'PKIX_ECDSA_P256_SHA_256':
        return p256.verify(signature, digest, raw, { prehash: false, format: 'der', lowS: false });
      case 'PKIX_ECDSA_P384_SHA_384':
        return p384.verify(signature, digest, raw, { prehash: false, format: 'der', lowS: false });
      case 'PKIX_ECDSA_P521_SHA_512':
        return p521.verify(signature, digest, raw, { prehash: false, format: 'der', lowS: false });
      case 'PKIX_ED25519_PH':
        // Ed25519ph signs SHA-512(message); with the digest in hand we need the prehashed API.
        return ed25519ph.verify(signature, digest, raw, { prehash: false } as never);
      case 'PKIX_ED25519':
        return false; // pure Ed25519 cannot be verified from a digest
      default:
        return verifyRsaDigest(key, digest, signature);
    }
  } catch {
    return false;
  }
}

function sha(alg: HashAlgorithm, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(alg).update(data).digest());
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
