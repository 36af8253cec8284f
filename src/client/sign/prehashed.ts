import type { KeyObject } from 'node:crypto';
import type * as NobleNist from '@noble/curves/nist.js';
import { lazyModule } from '../../core/lazy.ts';
import type { MessageScheme } from '../../core/crypto/keys.ts';
import { SignetError } from '../../core/errors.ts';
import { verifyDigest } from '../../core/crypto/verify.ts';
import { signEd25519phDigest } from '../../core/crypto/ed25519ph.ts';
const { constants, privateEncrypt } = process.getBuiltinModule('node:crypto');

/**
 * Signing a message known only by its digest, so a file of any size is read once, as a
 * stream, and never held in memory. node:crypto (OpenSSL) signs only whole messages, so ECDSA
 * goes through @noble/curves (RFC 6979 nonces hedged with fresh randomness, low-S), RSA
 * PKCS#1 v1.5 through the raw private operation over DigestInfo || digest (RFC 8017 §9.2) and
 * Ed25519ph through core/crypto/ed25519ph.ts (its PH(M) is the SHA-512 digest). The result is
 * checked against the public key before it leaves this function (fail closed). Every message
 * scheme can sign a digest: pure Ed25519, which cannot, is not one (MessageScheme).
 */
export function digestSigner(
  key: KeyObject,
  publicKey: KeyObject,
  details: MessageScheme,
): (digest: Uint8Array) => Uint8Array {
  return (digest) => {
    const sig = signRaw(key, details, digest);
    if (!verifyDigest(publicKey, details, digest, sig))
      throw new SignetError('internal', 'SIGNING_FAILED', 'the new signature does not verify');
    return sig;
  };
}

// Loaded on first use: sign-blob signs small files whole through OpenSSL.
const nist = lazyModule<typeof NobleNist>('@noble/curves/nist.js');
const CURVES = {
  PKIX_ECDSA_P256_SHA_256: { curve: 'p256', size: 32 },
  PKIX_ECDSA_P384_SHA_384: { curve: 'p384', size: 48 },
  PKIX_ECDSA_P521_SHA_512: { curve: 'p521', size: 66 },
} as const;

// DigestInfo prefixes (RFC 8017 §9.2 note 1) by digest length.
const DIGEST_INFO: Record<number, string> = {
  32: '3031300d060960864801650304020105000420',
  48: '3041300d060960864801650304020205000430',
  64: '3051300d060960864801650304020305000440',
};

function signRaw(key: KeyObject, details: MessageScheme, digest: Uint8Array): Uint8Array {
  if (details === 'PKIX_ED25519_PH') {
    const seed = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
    try {
      return signEd25519phDigest(digest, seed);
    } finally {
      seed.fill(0);
    }
  }
  if (details in CURVES) {
    const { curve, size } = CURVES[details as keyof typeof CURVES];
    const d = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
    const secret = new Uint8Array(size);
    secret.set(d, size - d.length);
    try {
      return nist()[curve].sign(digest, secret, {
        prehash: false,
        format: 'der',
        extraEntropy: true,
      });
    } finally {
      secret.fill(0);
      d.fill(0);
    }
  }
  const prefix = DIGEST_INFO[digest.length];
  if (!prefix)
    throw new SignetError(
      'internal',
      'SIGNING_FAILED',
      `no DigestInfo for a ${digest.length}-byte digest`,
    );
  return new Uint8Array(
    privateEncrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([Buffer.from(prefix, 'hex'), digest]),
    ),
  );
}
