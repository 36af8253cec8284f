import { digest } from '../crypto/digest.ts';
const { hash } = process.getBuiltinModule('node:crypto');

export type V1HashAlgorithm = 'sha256' | 'sha384' | 'sha512';
export const V1_HASH_HEX_LENGTH: Record<V1HashAlgorithm, number> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

// One-shot hashing (no Hash object): these run several times per admitted entry.
export function sha256(data: Uint8Array): Uint8Array {
  return digest('sha256', data);
}
export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}
