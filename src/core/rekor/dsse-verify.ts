import type { VerifierMaterial } from './verifier.ts';
const { verify: nodeVerify } = process.getBuiltinModule('node:crypto');

/**
 * A DSSE signature over PAE bytes, as Rekor checks it (rekor dsse/intoto and rekor-tiles dsse
 * load every verifier with SHA-256: ECDSA of any curve and RSA PKCS#1 v1.5 hash with SHA-256,
 * Ed25519 signs the PAE bytes themselves). Never throws.
 */
export function verifyDsseSignature(
  m: VerifierMaterial,
  pae: Uint8Array,
  sig: Uint8Array,
): boolean {
  try {
    const key = m.key;
    if (key.asymmetricKeyType === 'ed25519') return nodeVerify(null, pae, key, sig);
    if (key.asymmetricKeyType === 'ec' || key.asymmetricKeyType === 'rsa')
      return nodeVerify('sha256', pae, key, sig);
    return false;
  } catch {
    return false;
  }
}

/**
 * The most signatures, and the most verifiers, one DSSE entry may carry (dsse, intoto, Rekor v2
 * dsse). Each signature is tried against every verifier on the server's event loop, so their
 * product bounds the work one request can make every other request wait for: 16 x 16 is at most
 * 256 verifies (tens of ms), where a 4 MiB body could otherwise hold thousands of each (hours).
 * Rekor sets no such bound, but it checks on goroutines; real envelopes carry one or two.
 */
export const MAX_DSSE_SIGNATURES = 16;
export const MAX_DSSE_VERIFIERS = 16;

/**
 * Matches every envelope signature with a verifier that verifies it (Rekor: "all signatures
 * must have a key that verifies it"). Returns, per signature, the index of the verifier, or
 * the index of the first signature no verifier accepts.
 */
export function matchSignatures(
  verifiers: readonly VerifierMaterial[],
  pae: Uint8Array,
  sigs: readonly Uint8Array[],
): { ok: true; by: number[] } | { ok: false; unverified: number } {
  const by: number[] = [];
  for (let i = 0; i < sigs.length; i++) {
    const v = verifiers.findIndex((m) => verifyDsseSignature(m, pae, sigs[i]!));
    if (v < 0) return { ok: false, unverified: i };
    by.push(v);
  }
  return { ok: true, by };
}
