/**
 * tlog-tiles arithmetic and tile contents (c2sp.org/tlog-tiles). A hash tile at level L holds
 * up to 256 hashes of level 8L of the Merkle tree (tree level 0 = leaf hashes); entry i of
 * tile N at level L is the root of the complete subtree of 256^L leaves starting at leaf
 * (N*256+i)*256^L. Levels above 0 only contain hashes of complete tiles below.
 */
import { invalid, SignetError } from '../errors.ts';
import { HASH_SIZE, nodeHash } from '../merkle/hash.ts';
import { rootOf, type NodeId } from '../merkle/tree.ts';
import { TILE_HEIGHT, TILE_WIDTH } from './paths.ts';

const POW = (level: number): number => TILE_WIDTH ** level;

/** How many hashes tile level L has in a tree of `size`: floor(size / 256^L). */
export function hashesAtTileLevel(level: number, size: number): number {
  return Math.floor(size / POW(level));
}

/**
 * Width of tile (level, index) in a tree of `size`: 256 for a full tile, 1..255 for the
 * partial tile at the right edge, 0 when the tile does not exist (yet).
 */
export function tileWidth(level: number, index: number, size: number): number {
  const n = hashesAtTileLevel(level, size) - index * TILE_WIDTH;
  return n <= 0 ? 0 : Math.min(TILE_WIDTH, n);
}

export interface TileCoord {
  level: number;
  index: number;
  /** 1..256 */
  width: number;
}

/** The right-edge partial tiles of a tree (at most one per level). */
export function partialTiles(size: number): TileCoord[] {
  const out: TileCoord[] = [];
  for (let level = 0; hashesAtTileLevel(level, size) > 0; level++) {
    const n = hashesAtTileLevel(level, size);
    if (n % TILE_WIDTH !== 0)
      out.push({ level, index: Math.floor(n / TILE_WIDTH), width: n % TILE_WIDTH });
  }
  return out;
}

/** Full tiles that a tree of `newSize` has and one of `oldSize` did not. */
export function newFullTiles(oldSize: number, newSize: number): TileCoord[] {
  const out: TileCoord[] = [];
  for (let level = 0; hashesAtTileLevel(level, newSize) >= TILE_WIDTH; level++) {
    const before = Math.floor(hashesAtTileLevel(level, oldSize) / TILE_WIDTH);
    const after = Math.floor(hashesAtTileLevel(level, newSize) / TILE_WIDTH);
    for (let i = before; i < after; i++) out.push({ level, index: i, width: TILE_WIDTH });
  }
  return out;
}

/** Where a complete Merkle node lives: its tile, and the run of tile hashes it is the root of. */
export function nodeTile(node: NodeId): {
  level: number;
  index: number;
  offset: number;
  count: number;
} {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const sub = node.level % TILE_HEIGHT;
  const count = 2 ** sub;
  const first = node.index * count; // position in tile level `level`'s row of hashes
  return { level, index: Math.floor(first / TILE_WIDTH), offset: first % TILE_WIDTH, count };
}

/** Concatenated 32-byte hashes. */
export function encodeHashTile(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => out.set(h, i * HASH_SIZE));
  return out;
}

export function decodeHashTile(bytes: Uint8Array, field = 'tile'): Uint8Array[] {
  if (bytes.length === 0 || bytes.length % HASH_SIZE !== 0 || bytes.length > TILE_WIDTH * HASH_SIZE)
    throw invalid(field, `is ${bytes.length} bytes, not 1..256 hashes of ${HASH_SIZE} bytes`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += HASH_SIZE) out.push(bytes.subarray(i, i + HASH_SIZE));
  return out;
}

/** Largest entry an entry bundle can carry (u16 length prefix). */
export const MAX_ENTRY_SIZE = 0xffff;

/** Entry bundle: each entry as u16 big-endian length || bytes (c2sp.org/tlog-tiles). */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const [i, e] of entries.entries()) {
    if (e.length > MAX_ENTRY_SIZE)
      throw new SignetError(
        'too-large',
        'ENTRY_TOO_LARGE',
        `entry ${i} is ${e.length} bytes; entry bundles carry at most ${MAX_ENTRY_SIZE}`,
      );
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

export function decodeEntryBundle(bytes: Uint8Array, field = 'bundle'): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) throw invalid(field, `truncated length prefix at offset ${o}`);
    const n = (bytes[o]! << 8) | bytes[o + 1]!;
    if (o + 2 + n > bytes.length)
      throw invalid(field, `entry ${out.length} of ${n} bytes runs past the end of the bundle`);
    out.push(bytes.subarray(o + 2, o + 2 + n));
    o += 2 + n;
  }
  if (out.length > TILE_WIDTH) throw invalid(field, `has ${out.length} entries, more than 256`);
  return out;
}

/**
 * The right edge of a tree in tile form: for each tile level, the hashes of its last
 * (partial) tile. Together with the size this is all that appending needs.
 */
export interface TileEdge {
  size: number;
  /** edge[L] = hashes of tile floor(n_L/256) at level L (0..255 of them). */
  levels: Uint8Array[][];
  /**
   * runs[L] = the roots of the complete power-of-two runs of levels[L], largest first (the
   * subtrees the root is folded from). Kept by appendToTiles, one or a few hashes per appended
   * hash, so a batch's new root costs O(log n) hashes instead of rehashing the partial tiles
   * (up to 254 per batch); absent (an edge read back from tiles), they come from the rows.
   */
  runs?: Uint8Array[][];
}

/** The roots of `row`'s complete power-of-two runs, largest first (row.length < 256). */
function rowRuns(row: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  for (let bit = TILE_HEIGHT - 1; bit >= 0; bit--) {
    const n = 2 ** bit;
    if ((row.length & n) !== 0) {
      out.push(rootOf(row.slice(off, off + n)));
      off += n;
    }
  }
  return out;
}

export const EMPTY_EDGE: TileEdge = { size: 0, levels: [] };

export interface TileWrite {
  level: number;
  index: number;
  hashes: Uint8Array[];
}

/**
 * Append leaf hashes to a tree given its right edge: returns the new edge and every tile that
 * changed (tiles that became full and the new right-edge partials), in the order to write.
 * Pure: the input edge is not modified.
 */
export function appendToTiles(
  edge: TileEdge,
  leafHashes: readonly Uint8Array[],
): { edge: TileEdge; writes: TileWrite[] } {
  const levels = edge.levels.map((l) => [...l]);
  const runs = edge.runs ? edge.runs.map((r) => [...r]) : edge.levels.map(rowRuns);
  const touched = new Map<string, TileWrite>();
  const added: number[] = [];
  const push = (level: number, h: Uint8Array): void => {
    while (levels.length <= level) levels.push([]);
    while (runs.length <= level) runs.push([]);
    const row = levels[level]!;
    const run = runs[level]!;
    const count = hashesAtTileLevel(level, edge.size) + (added[level] ?? 0);
    const index = Math.floor(count / TILE_WIDTH);
    added[level] = (added[level] ?? 0) + 1;
    // The new hash closes one run per trailing 1 bit of the row's length (a binary counter).
    let node = h;
    for (let c = row.length; (c & 1) === 1; c >>= 1) node = nodeHash(run.pop()!, node);
    run.push(node);
    row.push(h);
    touched.set(`${level}/${index}`, { level, index, hashes: row });
    if (row.length === TILE_WIDTH) {
      // A full row is one run of 256: its root, which goes up a level.
      levels[level] = [];
      runs[level] = [];
      push(level + 1, node);
    }
  };
  for (const h of leafHashes) {
    if (h.length !== HASH_SIZE) throw new RangeError('leaf hash is not 32 bytes');
    push(0, h);
  }
  // Rows were referenced live while appending: snapshot them.
  const writes = [...touched.values()].map((w) => ({ ...w, hashes: [...w.hashes] }));
  return { edge: { size: edge.size + leafHashes.length, levels, runs }, writes };
}

/**
 * MTH of the whole tree from its right edge: the tree is the sequence of complete subtrees of
 * the binary decomposition of `size`, each the root of a power-of-two run of edge hashes.
 */
export function rootFromEdge(edge: TileEdge): Uint8Array {
  if (edge.size === 0) return rootOf([]);
  // Collect subtree roots from the highest level down (left to right in the tree).
  const parts: Uint8Array[] = [];
  for (let level = edge.levels.length - 1; level >= 0; level--)
    parts.push(...(edge.runs?.[level] ?? rowRuns(edge.levels[level] ?? [])));
  let h = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) h = nodeHash(parts[i]!, h);
  return h;
}
