import { digest } from '../crypto/digest.ts';
const { hash } = process.getBuiltinModule('node:crypto');

export type V1HashAlgorithm = 'sha256' | 'sha384' | 'sha512';
export const V1_HASH_HEX_LENGTH: Record<V1HashAlgorithm, number> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

/** Hex digits of each digest the log's hash search takes (Rekor's SearchIndex `hash`). */
export const SEARCH_HASH_HEX_LENGTH: Readonly<Record<string, number>> = {
  sha1: 40,
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

/**
 * The hash search key `alg:hex` (lower-cased) of a digest named by untrusted text (an in-toto
 * subject's), or undefined unless `alg` is a hash the search takes and `hex` a digest of it.
 */
export function digestSearchKey(alg: string, hex: string): string | undefined {
  const a = alg.toLowerCase();
  const n = Object.hasOwn(SEARCH_HASH_HEX_LENGTH, a) ? SEARCH_HASH_HEX_LENGTH[a] : undefined;
  return n !== undefined && hex.length === n && /^[0-9a-fA-F]+$/.test(hex)
    ? `${a}:${hex.toLowerCase()}`
    : undefined;
}

// One-shot hashing (no Hash object): these run several times per admitted entry.
export function sha256(data: Uint8Array): Uint8Array {
  return digest('sha256', data);
}
export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}
