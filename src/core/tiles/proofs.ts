/**
 * Proofs and roots computed from tile reads alone — what a client or monitor does against a
 * tlog-tiles log (tessera's ProofBuilder), and what the engine does against its own storage.
 */
import { verificationFailed } from '../errors.ts';
import {
  consistencyRanges,
  foldRange,
  inclusionRanges,
  completeNode,
  nodeKey,
  nodesOf,
  rangeNodes,
  type NodeId,
  type ProofRange,
} from '../merkle/tree.ts';
import { rootOf } from '../merkle/tree.ts';
import { nodeTile, tileWidth } from './tiles.ts';
import { TILE_HEIGHT, TILE_WIDTH } from './paths.ts';
import { HASH_SIZE, nodeHash } from '../merkle/hash.ts';

/** Reads hash tile (level, index) at `width` (256 = full); returns its hashes. */
export type TileFetcher = (level: number, index: number, width: number) => Promise<Uint8Array[]>;

/**
 * A cache of complete-subtree hashes. Complete subtrees never change in an append-only log,
 * so entries stay valid forever; `maxEntries` bounds memory (cleared wholesale when full).
 */
export class NodeCache {
  readonly #map = new Map<number | string, Uint8Array>();
  readonly #max: number;
  readonly #minLevel: number;
  /** The nodes below minLevel of the few subtrees of that level used last, most recent last. */
  readonly #low = new Map<number, LowSubtree>();
  readonly #lowTiles: number;
  /**
   * `minLevel`: nodes below this level are kept only for the `recentLowTiles` subtrees of that
   * level used last. A node inside a level-0 tile costs at most 255 hashes to recompute from a
   * tile that a proof reads anyway, and in a large log a random proof almost never meets the same
   * level-0 tile twice: keeping all those nodes would fill the cache with hashes that are not
   * asked for again and push out the upper ones that are. The proofs of an append batch all
   * meet the newest one or two level-0 tiles (and every proof the right edge's), so those stay.
   */
  constructor(maxEntries = 200_000, opts: { minLevel?: number; recentLowTiles?: number } = {}) {
    this.#max = maxEntries;
    this.#minLevel = opts.minLevel ?? 0;
    this.#lowTiles = opts.recentLowTiles ?? 0;
  }
  /** The minLevel subtree a low node lies in. */
  #lowTile(n: NodeId): number {
    return Math.floor(n.index / 2 ** (this.#minLevel - n.level));
  }
  /**
   * A low node's slot in its subtree's arrays: the subtree's nodes level by level from level 0
   * (2^minLevel of them), then level 1 (half as many), and so on up to minLevel - 1.
   */
  #slot(n: NodeId, tile: number): number {
    const m = this.#minLevel;
    const perTile = 2 ** (m - n.level);
    return 2 ** (m + 1) - 2 * perTile + (n.index - tile * perTile);
  }
  get(n: NodeId): Uint8Array | undefined {
    if (n.level >= this.#minLevel) return this.#map.get(nodeKey(n));
    const t = this.#lowTile(n);
    const sub = this.#low.get(t);
    if (sub === undefined) return undefined;
    this.#low.delete(t); // most recently used goes last
    this.#low.set(t, sub);
    const slot = this.#slot(n, t);
    if (sub.have[slot] === 0) return undefined;
    return sub.hashes.subarray(slot * HASH_SIZE, (slot + 1) * HASH_SIZE);
  }
  set(n: NodeId, h: Uint8Array): void {
    if (h.length !== HASH_SIZE)
      throw new RangeError(`a node hash is ${HASH_SIZE} bytes, not ${h.length}`);
    if (n.level >= this.#minLevel) {
      if (this.#map.size >= this.#max) this.#map.clear();
      this.#map.set(nodeKey(n), h);
      return;
    }
    if (this.#lowTiles === 0) return;
    const t = this.#lowTile(n);
    let sub = this.#low.get(t);
    if (sub === undefined) {
      if (this.#low.size >= this.#lowTiles) this.#low.delete(this.#low.keys().next().value!);
      // One flat array per subtree rather than an object per node: a proof in a large log
      // fills a new subtree's worth (up to 255 hashes), and per-node objects that live for a
      // few proofs survive young-generation GC, which then copies them and grows the heap
      // (measured: 2,000 random proofs took the process from 200 to 370 MB RSS).
      const slots = 2 ** (this.#minLevel + 1) - 2;
      sub = { hashes: new Uint8Array(slots * HASH_SIZE), have: new Uint8Array(slots) };
      this.#low.set(t, sub);
    }
    const slot = this.#slot(n, t);
    sub.hashes.set(h, slot * HASH_SIZE);
    sub.have[slot] = 1;
  }
  /**
   * The leaves of level-0 tile `tile` (its first `width` hashes), when leaves are low nodes:
   * kept with the other low nodes of the recent tiles. Each proof of an append batch needs one
   * leaf of the newest tiles and otherwise went through a tile read for it.
   */
  setLeaves(tile: number, hashes: readonly Uint8Array[], width: number): void {
    if (this.#minLevel === 0 || this.#lowTiles === 0) return;
    for (let k = 0; k < width; k++)
      this.set({ level: 0, index: tile * TILE_WIDTH + k }, hashes[k]!);
  }
  /** Nodes kept at or above minLevel (the low ones are bounded by recentLowTiles). */
  get size(): number {
    return this.#map.size;
  }
}

/** The cached nodes below minLevel of one subtree of that level, by slot (see NodeCache). */
interface LowSubtree {
  readonly hashes: Uint8Array;
  /** 1 where the slot holds a hash. */
  readonly have: Uint8Array;
}

const NO_NODES: ReadonlyMap<number | string, Uint8Array> = new Map();

/** Bound on TileProofBuilder's folded ranges (more than any tree size below 2^53 has). */
const MAX_FOLDS = 128;

/** Proof and root computation for one tree size from tiles. */
export class TileProofBuilder {
  readonly size: number;
  readonly #fetch: TileFetcher;
  readonly #cache: NodeCache;

  constructor(size: number, fetch: TileFetcher, cache: NodeCache = new NodeCache(10_000)) {
    this.size = size;
    this.#fetch = fetch;
    this.#cache = cache;
  }

  /** Hashes of complete nodes (by nodeKey), each tile fetched once. */
  async nodes(nodes: NodeId[]): Promise<Map<number | string, Uint8Array>> {
    const out = new Map<number | string, Uint8Array>();
    const byTile = new Map<
      number | string,
      { level: number; index: number; list: Array<{ node: NodeId; offset: number; count: number }> }
    >();
    for (const n of nodes) {
      const hit = this.#cache.get(n);
      if (hit) {
        out.set(nodeKey(n), hit);
        continue;
      }
      const t = nodeTile(n);
      const key = nodeKey(t); // a tile's (level, index) as a map key
      let tile = byTile.get(key);
      if (!tile) byTile.set(key, (tile = { level: t.level, index: t.index, list: [] }));
      tile.list.push({ node: n, offset: t.offset, count: t.count });
    }
    await Promise.all(
      [...byTile.values()].map(async ({ level, index, list }) => {
        const width = tileWidth(level, index, this.size);
        const hashes = await this.#fetch(level, index, width);
        if (hashes.length < width)
          throw verificationFailed(
            'TILE_SHORT',
            `tile ${level}/${index} has ${hashes.length} hashes; a tree of size ${this.size} needs ${width}`,
          );
        if (level === 0) this.#cache.setLeaves(index, hashes, width);
        for (const { node, offset, count } of list) {
          if (offset + count > width)
            throw new RangeError(
              `node ${node.level}/${node.index} is not complete at size ${this.size}`,
            );
          // Another proof may have computed it while this one waited for the tile.
          out.set(nodeKey(node), this.#compute(node, level, index, hashes));
        }
      }),
    );
    return out;
  }

  /**
   * A complete node from its tile's hashes, through the cache and recursively, so every
   * interior node is hashed once and shared by all later proofs.
   */
  #compute(node: NodeId, tileLevel: number, tileIndex: number, hashes: Uint8Array[]): Uint8Array {
    return this.#computeAt(node.level, node.index, tileLevel * TILE_HEIGHT, tileIndex, hashes);
  }

  /** #compute with the node as two numbers: no object per node of a 255-node subtree. */
  #computeAt(
    level: number,
    index: number,
    base: number,
    tileIndex: number,
    hashes: Uint8Array[],
  ): Uint8Array {
    if (level === base) return hashes[index - tileIndex * TILE_WIDTH]!;
    const node = { level, index };
    const hit = this.#cache.get(node);
    if (hit) return hit;
    const h = nodeHash(
      this.#computeAt(level - 1, index * 2, base, tileIndex, hashes),
      this.#computeAt(level - 1, index * 2 + 1, base, tileIndex, hashes),
    );
    this.#cache.set(node, h);
    return h;
  }

  /**
   * MTH of the ranges made of several complete subtrees, by range. Each such range ends at this
   * tree's size (any other range of RFC 6962's recursion is one complete subtree), so there are
   * at most about log2(size) of them, and the proofs against one size (an append batch's) all
   * share them: folding them again per proof was most of a proof's hashing.
   */
  readonly #folds = new Map<number, { end: number; hash: Uint8Array }>();

  /** A range's hash if it needs no tile: a cached node, or a fold kept for this size. */
  #known(r: ProofRange): Uint8Array | undefined {
    const node = completeNode(r);
    if (node) return this.#cache.get(node);
    const f = this.#folds.get(r.begin);
    return f?.end === r.end ? f.hash : undefined;
  }

  async #resolve(ranges: ProofRange[]): Promise<Uint8Array[]> {
    const known = ranges.map((r) => this.#known(r));
    const missing = ranges.filter((_, i) => known[i] === undefined);
    // Most ranges of an append batch's proofs are known already: only the rest go through
    // nodes(), whose maps and tile reads were most of a proof's allocations.
    const hashes = missing.length > 0 ? await this.nodes(nodesOf(missing)) : NO_NODES;
    return ranges.map((r, i) => {
      const k = known[i];
      if (k) return k;
      const h = foldRange(r.nodes.map((n) => hashes.get(nodeKey(n))!));
      if (r.nodes.length > 1) {
        if (this.#folds.size >= MAX_FOLDS) this.#folds.clear();
        this.#folds.set(r.begin, { end: r.end, hash: h });
      }
      return h;
    });
  }

  /** MTH of the tree of this size. */
  async root(): Promise<Uint8Array> {
    if (this.size === 0) return rootOf([]);
    const nodes = rangeNodes(0, this.size);
    const hashes = await this.nodes(nodes);
    return foldRange(nodes.map((n) => hashes.get(nodeKey(n))!));
  }

  async inclusionProof(index: number): Promise<Uint8Array[]> {
    return this.#resolve(inclusionRanges(index, this.size));
  }

  /** Consistency proof from `from` to this size. */
  async consistencyProof(from: number): Promise<Uint8Array[]> {
    return this.#resolve(consistencyRanges(from, this.size));
  }
}
