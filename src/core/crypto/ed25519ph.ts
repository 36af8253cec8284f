import type * as NobleEd25519 from '@noble/curves/ed25519.js';
import type * as NobleEdwards from '@noble/curves/abstract/edwards.js';
import { lazyModule } from '../lazy.ts';
import { SignetError } from '../errors.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

/**
 * Ed25519ph (RFC 8032 §5.1, HashEdDSA with PH = SHA-512, empty context) over a SHA-512 digest
 * the caller already has: Sigstore's scheme for Ed25519 message signatures (hashedrekord,
 * `PKIX_ED25519_PH`), where a file streamed from disk and a log know only the digest.
 * noble's ed25519ph hashes the message itself; this is the same scheme with the prehash being
 * the identity, because the digest given IS PH(M). OpenSSL (node:crypto) has no Ed25519ph.
 */
const noble = {
  ed25519: lazyModule<typeof NobleEd25519>('@noble/curves/ed25519.js'),
  edwards: lazyModule<typeof NobleEdwards>('@noble/curves/abstract/edwards.js'),
};

const sha512 = Object.assign(
  (m: Uint8Array) => new Uint8Array(createHash('sha512').update(m).digest()),
  { outputLen: 64, blockLen: 128, create: () => createHash('sha512') },
);

const DOM2_PREFIX = new TextEncoder().encode('SigEd25519 no Ed25519 collisions');

let scheme: ReturnType<typeof NobleEdwards.eddsa> | undefined;
const ed25519ph = () =>
  (scheme ??= noble.edwards().eddsa(noble.ed25519().ed25519.Point, sha512 as never, {
    // dom2(phflag = 1, context) — RFC 8032 §5.1: every hash of the scheme is domain-separated
    // from pure Ed25519, so a signature of one never verifies as the other.
    domain: (data: Uint8Array, ctx: Uint8Array, phflag: boolean) =>
      new Uint8Array([...DOM2_PREFIX, phflag ? 1 : 0, ctx.length, ...ctx, ...data]),
    prehash: (digest: Uint8Array) => digest,
    // RFC 8032 §5.1.5 step 2: the secret scalar is the clamped first half of SHA-512(seed).
    adjustScalarBytes: (b: Uint8Array) => {
      const out = b.slice();
      out[0]! &= 248;
      out[31]! &= 127;
      out[31]! |= 64;
      return out;
    },
  }));

/** SHA-512 digest size: Ed25519ph's PH is SHA-512 and nothing else (RFC 8032 §5.1). */
export const ED25519PH_DIGEST_BYTES = 64;

/** Sign the SHA-512 digest of a message with the 32-byte Ed25519 secret seed. */
export function signEd25519phDigest(digest: Uint8Array, seed: Uint8Array): Uint8Array {
  if (digest.length !== ED25519PH_DIGEST_BYTES)
    throw new SignetError(
      'internal',
      'BAD_DIGEST',
      `Ed25519ph signs a 64-byte SHA-512 digest, not ${digest.length} bytes`,
    );
  return ed25519ph().sign(digest, seed);
}

/**
 * Verify an Ed25519ph signature over a SHA-512 digest with the 32-byte public key, strictly
 * (RFC 8032 §5.1.7: canonical encodings, no ZIP-215 leniency). False for any bad input.
 */
export function verifyEd25519phDigest(
  signature: Uint8Array,
  digest: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (digest.length !== ED25519PH_DIGEST_BYTES) return false;
  try {
    return ed25519ph().verify(signature, digest, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
