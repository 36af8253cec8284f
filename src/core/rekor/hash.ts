import { createHash } from 'node:crypto';
import { toHex } from '../encoding/hex.ts';

export type V1HashAlgorithm = 'sha256' | 'sha384' | 'sha512';
export const V1_HASH_HEX_LENGTH: Record<V1HashAlgorithm, number> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}
export function sha256Hex(data: Uint8Array): string {
  return toHex(sha256(data));
}
