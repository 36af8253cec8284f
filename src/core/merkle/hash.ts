import { digest } from '../crypto/digest.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

/** Size of every hash in an RFC 6962 / 9162 SHA-256 Merkle tree. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256() — the root of the empty tree (RFC 6962 §2.1). */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(createHash('sha256').digest());

/** MTH({d(0)}) = SHA-256(0x00 || d(0)) (RFC 6962 §2.1). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(Buffer.concat([LEAF_PREFIX, leaf]));
}

/**
 * The input of nodeHash for two 32-byte children, reused: a proof in a large log hashes a
 * whole level-0 tile's 255 interior nodes, and a fresh buffer per node was a fifth of what
 * a proof allocates. Safe because hashing is synchronous.
 */
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/** SHA-256(0x01 || left || right) — an interior node (RFC 6962 §2.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE)
    return sha256(Buffer.concat([NODE_PREFIX, left, right], 1 + left.length + right.length));
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/** One-shot SHA-256: proofs and tiles hash many short inputs (see digest()). */
function sha256(data: Uint8Array): Uint8Array {
  return digest('sha256', data);
}

/** Byte-wise equality of two hashes (public values: no constant-time need). */
export function hashEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
