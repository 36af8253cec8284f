/**
 * A compact range of the tree [0, size): the roots of the complete subtrees of the binary
 * decomposition of `size`, left to right (at most 64 hashes). Appending leaf hashes to it and
 * folding it gives the root of any larger tree, so a follower that hashes every entry it reads
 * checks them all against a signed root without fetching a single hash tile, and its own
 * root at size m doubles as the old root of a consistency check m -> n.
 */
import { verificationFailed } from '../errors.ts';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hash.ts';

export class CompactRange {
  #size: number;
  /** Subtree roots, left (largest) to right. */
  readonly #hashes: Uint8Array[];

  constructor(size = 0, hashes: Uint8Array[] = []) {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`compact range size ${size} is not a non-negative integer`);
    if (popcount(size) !== hashes.length)
      throw new RangeError(
        `a compact range of size ${size} has ${popcount(size)} hashes, not ${hashes.length}`,
      );
    for (const h of hashes)
      if (h.length !== HASH_SIZE) throw new RangeError('hash is not 32 bytes');
    this.#size = size;
    this.#hashes = [...hashes];
  }

  get size(): number {
    return this.#size;
  }

  get hashes(): readonly Uint8Array[] {
    return this.#hashes;
  }

  /** Append one leaf hash: merge equal-sized subtrees from the right (binary carry). */
  append(leafHash: Uint8Array): void {
    let h = leafHash;
    let n = this.#size;
    while (n % 2 === 1) {
      h = nodeHash(this.#hashes.pop()!, h);
      n = Math.floor(n / 2);
    }
    this.#hashes.push(h);
    this.#size++;
  }

  /** MTH of the tree [0, size). */
  root(): Uint8Array {
    if (this.#hashes.length === 0) return EMPTY_ROOT;
    let h = this.#hashes[this.#hashes.length - 1]!;
    for (let i = this.#hashes.length - 2; i >= 0; i--) h = nodeHash(this.#hashes[i]!, h);
    return h;
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, this.#hashes);
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && popcount(n) === 1;
}

const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/**
 * The compact range of the tree of size `from` read out of an RFC 9162 consistency proof to
 * size `to` (§2.1.4.2): the hashes the verifier folds into the old root are exactly the old
 * tree's decomposition subtrees. Nothing here is verified: the caller checks the range's root
 * against a signed one, or appends the entries after `from` and checks the root at `to`.
 */
export function compactRangeFromProof(from: number, to: number, proof: Uint8Array[]): CompactRange {
  const code = 'MERKLE_CONSISTENCY';
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from <= 0 || from >= to)
    throw verificationFailed(
      code,
      `cannot read a compact range of size ${from} from a proof to ${to}`,
    );
  if (isPowerOfTwo(from)) {
    // A power of two: the old tree is one node, the proof omits it.
    throw verificationFailed(code, 'a power-of-two tree is one node: its root is its range');
  }
  if (proof.length === 0) throw verificationFailed(code, 'empty consistency proof');
  let fn = from - 1;
  let sn = to - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  const left: Uint8Array[] = [];
  for (const c of proof.slice(1)) {
    if (sn === 0) throw verificationFailed(code, 'consistency proof is too long');
    if (odd(fn) || fn === sn) {
      left.push(c);
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    }
    fn = half(fn);
    sn = half(sn);
  }
  const hashes = [...left.reverse(), proof[0]!];
  if (hashes.length !== popcount(from))
    throw verificationFailed(code, `consistency proof from ${from} to ${to} is malformed`);
  return new CompactRange(from, hashes);
}

/**
 * The compact range at `from` given a consistency proof to `to`, for any `from`: empty for 0,
 * the old root itself for a power of two (then `oldRoot` is needed), else read from the proof.
 */
export function compactRangeAt(
  from: number,
  to: number,
  proof: Uint8Array[],
  oldRoot?: Uint8Array,
): CompactRange {
  if (from === 0) return new CompactRange();
  if (isPowerOfTwo(from)) {
    if (!oldRoot)
      throw verificationFailed('MERKLE_CONSISTENCY', `the root of size ${from} is needed`);
    return new CompactRange(from, [oldRoot]);
  }
  return compactRangeFromProof(from, to, proof);
}
