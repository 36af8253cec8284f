import type { ErrorCode } from '../errors.ts';
/**
 * RFC 6962 §2.1 / RFC 9162 §2.1 Merkle tree math: roots, and inclusion and consistency proofs,
 * generated from any source of complete-subtree hashes and verified with the RFC 9162
 * §2.1.3.2 and §2.1.4.2 algorithms. Sizes and indices are JS numbers (exact up to 2^53).
 */
import { verificationFailed } from '../errors.ts';
import { EMPTY_ROOT, HASH_SIZE, hashEqual, nodeHash } from './hash.ts';

/** The complete subtree of 2^level leaves starting at leaf index * 2^level. */
export interface NodeId {
  level: number;
  index: number;
}

/**
 * One proof element is the MTH of a leaf range [begin, end); it is computed from the complete
 * subtrees that tile the range, left to right (`nodes`), by folding from the right.
 */
export interface ProofRange {
  begin: number;
  end: number;
  nodes: NodeId[];
}

/** Largest power of two strictly smaller than n (n >= 2): RFC 6962's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The complete subtrees that make up MTH(D[begin:end]) for a range whose start is aligned to a
 * power of two at least its length (every range in RFC 6962's recursion is), left to right.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let cur = begin;
  while (cur < end) {
    let size = 1;
    let level = 0;
    while (size * 2 <= end - cur && cur % (size * 2) === 0) {
      size *= 2;
      level++;
    }
    out.push({ level, index: cur / size });
    cur += size;
  }
  return out;
}

/** MTH of a range from the hashes of its `rangeNodes` (fold right: h(n0, h(n1, ... ))). */
export function foldRange(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}

/**
 * A range that lists its complete subtrees only when asked: a caller that knows the range's hash
 * already (TileProofBuilder keeps the folds of ranges ending at its tree size) never needs them,
 * and listing them for every range of every proof was a third of a proof's allocations.
 */
class LeafRange implements ProofRange {
  readonly begin: number;
  readonly end: number;
  #nodes: NodeId[] | undefined;

  constructor(begin: number, end: number) {
    this.begin = begin;
    this.end = end;
  }

  get nodes(): NodeId[] {
    return (this.#nodes ??= rangeNodes(this.begin, this.end));
  }
}

function range(begin: number, end: number): ProofRange {
  return new LeafRange(begin, end);
}

/**
 * The complete subtree that [begin, end) is, if it is one (its rangeNodes are that single node),
 * for a range whose start is aligned to a power of two at least its length, as every range of
 * RFC 6962's recursion is.
 */
export function completeNode(r: { begin: number; end: number }): NodeId | undefined {
  const n = r.end - r.begin;
  const level = Math.round(Math.log2(n));
  return n > 0 && 2 ** level === n && r.begin % n === 0 ? { level, index: r.begin / n } : undefined;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, leaf to root. */
export function inclusionRanges(index: number, size: number): ProofRange[] {
  checkIndex(index, size);
  const out: ProofRange[] = [];
  const walk = (lo: number, hi: number): void => {
    const n = hi - lo;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (index < lo + k) {
      walk(lo, lo + k);
      out.push(range(lo + k, hi));
    } else {
      walk(lo + k, hi);
      out.push(range(lo, lo + k));
    }
  };
  walk(0, size);
  return out;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) as leaf ranges. Empty when m == n or m == 0. */
export function consistencyRanges(from: number, to: number): ProofRange[] {
  checkSizes(from, to);
  if (from === 0 || from === to) return [];
  const out: ProofRange[] = [];
  const sub = (m: number, lo: number, hi: number, b: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!b) out.push(range(lo, hi));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, lo, lo + k, b);
      out.push(range(lo + k, hi));
    } else {
      sub(m - k, lo + k, hi, false);
      out.push(range(lo, lo + k));
    }
  };
  sub(from, 0, to, true);
  return out;
}

/**
 * A node's key for maps: its position in an in-order walk of the tree, 2^level·(2·index + 1) - 1
 * (one-to-one: the level is the number of trailing one bits), a number while that is below 2^53
 * (every node of a tree of fewer than 2^52 leaves), text beyond. A number costs no allocation.
 */
export function nodeKey(n: NodeId): number | string {
  const k = n.index * 2 ** (n.level + 1) + (2 ** n.level - 1);
  return Number.isSafeInteger(k) ? k : `${n.level}/${n.index}`;
}

/** Every distinct node a set of ranges needs, so a caller can fetch them in one go. */
export function nodesOf(ranges: ProofRange[]): NodeId[] {
  const seen = new Map<number | string, NodeId>();
  for (const r of ranges) for (const n of r.nodes) seen.set(nodeKey(n), n);
  return [...seen.values()];
}

/** A source of complete-subtree hashes (a leaf list, tiles, a database). */
export type NodeSource = (node: NodeId) => Uint8Array;

/** Proof hashes for ranges, with node hashes from `node`. */
export function resolveRanges(ranges: ProofRange[], node: NodeSource): Uint8Array[] {
  return ranges.map((r) => foldRange(r.nodes.map(node)));
}

/** A node source over an in-memory list of leaf hashes (memoized per call). */
export function listSource(leafHashes: readonly Uint8Array[]): NodeSource {
  const memo = new Map<string, Uint8Array>();
  const get = (n: NodeId): Uint8Array => {
    if (n.level === 0) {
      const h = leafHashes[n.index];
      if (!h) throw new RangeError(`leaf ${n.index} is beyond the list`);
      return h;
    }
    const key = `${n.level}/${n.index}`;
    let h = memo.get(key);
    if (!h) {
      h = nodeHash(
        get({ level: n.level - 1, index: n.index * 2 }),
        get({ level: n.level - 1, index: n.index * 2 + 1 }),
      );
      memo.set(key, h);
    }
    return h;
  };
  return get;
}

/** MTH(D[n]) of a list of leaf hashes (RFC 6962 §2.1): pair up, promote an odd last node. */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  let level: Uint8Array[] = [...leafHashes];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** Inclusion proof for leaf `index` in the tree of the first `size` leaf hashes of a list. */
export function inclusionProof(
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number = leafHashes.length,
): Uint8Array[] {
  if (size > leafHashes.length) throw new RangeError(`size ${size} exceeds the list`);
  return resolveRanges(inclusionRanges(index, size), listSource(leafHashes));
}

/** Consistency proof between the trees of the first `from` and `to` leaf hashes of a list. */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  from: number,
  to: number = leafHashes.length,
): Uint8Array[] {
  if (to > leafHashes.length) throw new RangeError(`size ${to} exceeds the list`);
  return resolveRanges(consistencyRanges(from, to), listSource(leafHashes));
}

function checkIndex(index: number, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`tree size ${size} is not a non-negative integer`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new RangeError(`leaf index ${index} is not in a tree of size ${size}`);
}

function checkSizes(from: number, to: number): void {
  if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(to) || to < 0)
    throw new RangeError(`tree sizes ${from}, ${to} are not non-negative integers`);
  if (from > to) throw new RangeError(`tree size ${from} is larger than ${to}`);
}

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;

function checkHashes(code: ErrorCode, what: string, hashes: Uint8Array[]): void {
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE)
      throw verificationFailed(code, `${what}[${i}] is ${h.length} bytes, not ${HASH_SIZE}`);
  });
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-5 without the final root
 * comparison). Throws a verification SignetError that says why the proof is malformed.
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
): Uint8Array {
  const code: ErrorCode = 'MERKLE_INCLUSION';
  if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(size) || size < 0)
    throw verificationFailed(code, `index ${index} and tree size ${size} must be non-negative`);
  if (index >= size)
    throw verificationFailed(code, `leaf index ${index} is not below tree size ${size}`);
  if (leafHash.length !== HASH_SIZE)
    throw verificationFailed(code, `leaf hash is ${leafHash.length} bytes, not ${HASH_SIZE}`);
  checkHashes(code, 'proof', proof);
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0)
      throw verificationFailed(
        code,
        `inclusion proof has ${proof.length} hashes, more than a tree of size ${size} needs`,
      );
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0)
    throw verificationFailed(
      code,
      `inclusion proof has ${proof.length} hashes, fewer than index ${index} in a tree of size ${size} needs`,
    );
  return r;
}

/** RFC 9162 §2.1.3.2: verify that `leafHash` is at `index` in the tree (size, root). */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  if (!hashEqual(computed, root))
    throw verificationFailed(
      'MERKLE_INCLUSION',
      `inclusion proof for index ${index} leads to a root that differs from the tree head's root (size ${size})`,
    );
}

/**
 * RFC 9162 §2.1.4.2: verify that the tree (from, oldRoot) is a prefix of (to, newRoot).
 * Equal sizes need an empty proof and equal roots; size 0 is a prefix of everything.
 */
export function verifyConsistency(
  from: number,
  to: number,
  proof: Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): void {
  const code: ErrorCode = 'MERKLE_CONSISTENCY';
  if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(to) || to < 0)
    throw verificationFailed(code, `tree sizes ${from} and ${to} must be non-negative integers`);
  if (from > to)
    throw verificationFailed(code, `old tree size ${from} is larger than new tree size ${to}`);
  checkHashes(code, 'proof', proof);
  if (from === to) {
    if (proof.length > 0)
      throw verificationFailed(code, `proof between equal sizes ${from} must be empty`);
    if (!hashEqual(oldRoot, newRoot))
      throw verificationFailed(code, `two different roots for the same tree size ${from}`);
    return;
  }
  if (from === 0) {
    if (proof.length > 0) throw verificationFailed(code, 'proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0)
    throw verificationFailed(code, `empty consistency proof from size ${from} to ${to}`);
  const path = [...proof];
  // Step 2: a power-of-two old tree is itself a node of the new one.
  if (isPowerOfTwo(from)) path.unshift(oldRoot);
  let fn = from - 1;
  let sn = to - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0)
      throw verificationFailed(
        code,
        `consistency proof has more hashes than sizes ${from} -> ${to} need`,
      );
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0)
    throw verificationFailed(
      code,
      `consistency proof has fewer hashes than sizes ${from} -> ${to} need`,
    );
  if (!hashEqual(fr, oldRoot))
    throw verificationFailed(
      code,
      `consistency proof does not lead to the old root (size ${from})`,
    );
  if (!hashEqual(sr, newRoot))
    throw verificationFailed(code, `consistency proof does not lead to the new root (size ${to})`);
}
