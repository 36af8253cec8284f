import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  EMPTY_EDGE,
  NodeCache,
  TileProofBuilder,
  appendToTiles,
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  entriesPath,
  formatTileIndex,
  newFullTiles,
  partialTiles,
  parseTilePath,
  rootFromEdge,
  tilePath,
  tileWidth,
  type TileEdge,
} from '../../../src/core/tiles/index.ts';
import {
  consistencyRanges,
  foldRange,
  inclusionRanges,
  leafHash,
  listSource,
  rangeNodes,
  resolveRanges,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/core/merkle/index.ts';
import { SignetError } from '../../../src/core/errors.ts';

test('tile paths: x-prefixed 3-digit groups and .p/W partials', () => {
  assert.equal(formatTileIndex(1234067), 'x001/x234/067');
  assert.equal(formatTileIndex(5), '005');
  assert.equal(formatTileIndex(0), '000');
  assert.equal(formatTileIndex(1000), 'x001/000');
  assert.equal(tilePath(0, 1234067), 'tile/0/x001/x234/067');
  assert.equal(tilePath(2, 5, 17), 'tile/2/005.p/17');
  assert.equal(tilePath(2, 5, 256), 'tile/2/005');
  assert.equal(entriesPath(1234067, 255), 'tile/entries/x001/x234/067.p/255');
  assert.throws(() => tilePath(64, 0), RangeError);
  assert.throws(() => tilePath(0, 0, 0), RangeError);
  for (const i of [0, 5, 999, 1000, 1234067, 9_007_199_254_740]) {
    assert.deepEqual(parseTilePath(tilePath(3, i).slice(5)), { kind: 'hash', level: 3, index: i });
    assert.deepEqual(parseTilePath(entriesPath(i, 9).slice(5)), {
      kind: 'entries',
      index: i,
      width: 9,
    });
  }
});

test('tile paths: malformed ones are refused with a reason', () => {
  const bad: Array<[string, RegExp]> = [
    ['0', /is not <level>/],
    ['0/5', /three digits/],
    ['0/0005', /three digits/],
    ['0/001/234', /"x" and three digits/],
    ['0/x001/x234', /three digits/],
    ['0/x000/005', /leading x000/],
    ['00/005', /tile level/],
    ['64/005', /tile level/],
    ['-1/005', /tile level/],
    ['data/005', /tile level/],
    ['0/005.p/0', /1\.\.255/],
    ['0/005.p/256', /1\.\.255/],
    ['0/005.p/07', /leading zeros/],
    ['0/005.p/', /1\.\.255/],
    ['entries/x1/005', /"x" and three digits/],
    ['0/005/', /three digits/],
  ];
  for (const [p, re] of bad)
    assert.throws(
      () => parseTilePath(p),
      (e: unknown) => e instanceof SignetError && e.kind === 'invalid-input' && re.test(e.message),
      p,
    );
});

test('tile arithmetic: widths, partial tiles, newly full tiles', () => {
  assert.equal(tileWidth(0, 0, 0), 0);
  assert.equal(tileWidth(0, 0, 5), 5);
  assert.equal(tileWidth(0, 0, 256), 256);
  assert.equal(tileWidth(0, 1, 300), 44);
  assert.equal(tileWidth(1, 0, 300), 1);
  assert.equal(tileWidth(1, 0, 255), 0);
  assert.equal(tileWidth(2, 0, 65536 * 3 + 5), 3);
  assert.deepEqual(partialTiles(0), []);
  assert.deepEqual(partialTiles(256), [{ level: 1, index: 0, width: 1 }]);
  assert.deepEqual(partialTiles(70_000), [
    { level: 0, index: 273, width: 112 },
    { level: 1, index: 1, width: 17 },
    { level: 2, index: 0, width: 1 },
  ]);
  assert.deepEqual(newFullTiles(250, 520), [
    { level: 0, index: 0, width: 256 },
    { level: 0, index: 1, width: 256 },
  ]);
  assert.deepEqual(newFullTiles(65535, 65536).slice(-2), [
    { level: 0, index: 255, width: 256 },
    { level: 1, index: 0, width: 256 },
  ]);
});

test('hash tiles and entry bundles encode and decode; bad bytes are refused', () => {
  const hs = [randomBytes(32), randomBytes(32)].map((b) => new Uint8Array(b));
  assert.deepEqual(decodeHashTile(encodeHashTile(hs)), hs);
  assert.throws(() => decodeHashTile(new Uint8Array(33)), /not 1\.\.256 hashes/);
  assert.throws(() => decodeHashTile(new Uint8Array(0)), /not 1\.\.256 hashes/);
  const es = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(65535).fill(7)];
  const b = encodeEntryBundle(es);
  assert.deepEqual([...b.subarray(0, 5)], [0, 0, 0, 3, 1]);
  assert.deepEqual(decodeEntryBundle(b), es);
  assert.throws(() => decodeEntryBundle(b.subarray(0, 4)), /runs past the end/);
  assert.throws(() => decodeEntryBundle(new Uint8Array([0])), /truncated length prefix/);
  assert.throws(
    () => encodeEntryBundle([new Uint8Array(65536)]),
    (e: unknown) => e instanceof SignetError && e.kind === 'too-large',
  );
});

/** A tile store: the latest hashes of every tile, as a log would keep them. */
function grow(sizes: number[]): {
  leaves: Uint8Array[];
  tiles: Map<string, Uint8Array[]>;
  edges: TileEdge[];
} {
  const leaves: Uint8Array[] = [];
  const tiles = new Map<string, Uint8Array[]>();
  const edges: TileEdge[] = [];
  let edge = EMPTY_EDGE;
  for (const n of sizes) {
    const batch = Array.from({ length: n }, (_, i) =>
      leafHash(Buffer.from(`e${leaves.length + i}`)),
    );
    leaves.push(...batch);
    const r = appendToTiles(edge, batch);
    for (const w of r.writes) {
      const prev = tiles.get(`${w.level}/${w.index}`) ?? [];
      // Tiles only grow: what was there stays a prefix of what is written.
      assert.deepEqual(
        w.hashes.slice(0, prev.length),
        prev,
        `tile ${w.level}/${w.index} rewritten`,
      );
      tiles.set(`${w.level}/${w.index}`, w.hashes);
    }
    edge = r.edge;
    edges.push(edge);
  }
  return { leaves, tiles, edges };
}

test('appending builds the tiles the spec defines, and the edge gives the root', () => {
  // Batches of awkward sizes across the level-1 and level-2 boundaries (65536 leaves).
  const sizes = [1, 2, 253, 1, 300, 4000, 60_000, 979, 5000];
  const { leaves, tiles, edges } = grow(sizes);
  let total = 0;
  for (const [i, n] of sizes.entries()) {
    total += n;
    assert.equal(edges[i]!.size, total);
    assert.deepEqual(rootFromEdge(edges[i]!), rootOf(leaves.slice(0, total)), `root at ${total}`);
  }
  // Level 0 = leaf hashes; level 1 entry i = MTH of leaves [256 i, 256 i + 256);
  // level 2 entry 0 = MTH of the first 65536 leaves.
  assert.deepEqual(tiles.get('0/3'), leaves.slice(768, 1024));
  assert.deepEqual(tiles.get('1/0')![5], rootOf(leaves.slice(5 * 256, 6 * 256)));
  assert.deepEqual(tiles.get('2/0')![0], rootOf(leaves.slice(0, 65536)));
  assert.equal(tiles.get('2/0')!.length, 1);
  assert.equal(tiles.get(`0/${Math.floor(total / 256)}`)!.length, total % 256);
  assert.equal(rootFromEdge(EMPTY_EDGE).length, 32);
});

test('the root kept incrementally equals the root rebuilt from the rows (an edge read back from tiles)', () => {
  // One leaf at a time (as a CA's batches often are), then batches, across the 256 boundary.
  const { leaves, edges } = grow([...Array.from({ length: 300 }, () => 1), 7, 255, 1, 513]);
  let total = 0;
  for (const [i, n] of [...Array.from({ length: 300 }, () => 1), 7, 255, 1, 513].entries()) {
    total += n;
    const edge = edges[i]!;
    assert.ok(edge.runs, 'appendToTiles keeps the runs');
    const bare: TileEdge = { size: edge.size, levels: edge.levels };
    assert.deepEqual(rootFromEdge(edge), rootOf(leaves.slice(0, total)), `root at ${total}`);
    assert.deepEqual(rootFromEdge(bare), rootFromEdge(edge), `rebuilt root at ${total}`);
    // Appending to the bare edge builds the same runs as appending to the carried one.
    const next = leafHash(Buffer.from(`next${total}`));
    assert.deepEqual(
      rootFromEdge(appendToTiles(bare, [next]).edge),
      rootFromEdge(appendToTiles(edge, [next]).edge),
    );
  }
});

test('inclusion and consistency proofs from tile reads equal the list-based ones', async () => {
  const { leaves, tiles } = grow([70_001]);
  // Reference values from the leaf list, through one memoized node source.
  const src = listSource(leaves);
  const refRoot = (n: number): Uint8Array => foldRange(rangeNodes(0, n).map(src));
  const inclusionProof = (_: unknown, i: number, n: number): Uint8Array[] =>
    resolveRanges(inclusionRanges(i, n), src);
  const consistencyProof = (_: unknown, m: number, n: number): Uint8Array[] =>
    resolveRanges(consistencyRanges(m, n), src);
  assert.deepEqual(refRoot(1000), rootOf(leaves.slice(0, 1000)));
  let reads = 0;
  const fetch = async (level: number, index: number, width: number): Promise<Uint8Array[]> => {
    reads++;
    const t = tiles.get(`${level}/${index}`);
    if (!t || t.length < width) throw new Error(`missing tile ${level}/${index}.p/${width}`);
    return t.slice(0, width); // exactly what `tile/L/N[.p/W]` would serve
  };
  for (const size of [1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 70_001]) {
    const b = new TileProofBuilder(size, fetch);
    const root = await b.root();
    assert.deepEqual(root, refRoot(size), `root ${size}`);
    for (const i of [0, size - 1, Math.floor(size / 3)]) {
      const p = await b.inclusionProof(i);
      assert.deepEqual(p, inclusionProof(leaves, i, size), `inclusion ${i}/${size}`);
      verifyInclusion(leaves[i]!, i, size, p, root);
    }
    for (const m of [1, Math.floor(size / 2), size - 1]) {
      if (m < 1) continue;
      const p = await b.consistencyProof(m);
      assert.deepEqual(p, consistencyProof(leaves, m, size), `consistency ${m}->${size}`);
      verifyConsistency(m, size, p, refRoot(m), root);
    }
  }
  assert.ok(reads > 0);
  // A fetcher that serves too few hashes is caught.
  const short = new TileProofBuilder(300, async () => [leaves[0]!]);
  await assert.rejects(short.root(), /TILE_SHORT|has 1 hashes/);
});

test('the leaves of a level-0 tile read for a proof are kept with its low nodes: proofs in that tile read it only once', async () => {
  const { leaves, tiles } = grow([70_001]);
  const src = listSource(leaves);
  let reads = 0;
  const fetch = async (level: number, index: number, width: number): Promise<Uint8Array[]> => {
    if (level === 0) reads++;
    return tiles.get(`${level}/${index}`)!.slice(0, width);
  };
  const size = 70_001; // the edge is level-0 tile 273, 113 leaves wide
  const cache = new NodeCache(100_000, { minLevel: 8, recentLowTiles: 4 });
  const b = new TileProofBuilder(size, fetch, cache);
  const edge = Array.from({ length: 113 }, (_, k) => 273 * 256 + k);
  for (const i of edge) await b.inclusionProof(i);
  reads = 0;
  for (const i of edge)
    assert.deepEqual(await b.inclusionProof(i), resolveRanges(inclusionRanges(i, size), src));
  assert.equal(reads, 0, 'the level-0 tile is not read again');
  assert.equal(cache.get({ level: 0, index: 273 * 256 + 113 }), undefined, 'not beyond the width');
});

test('a node cache with minLevel keeps no node below it except in the few level-0 tiles used last; proofs through it are unchanged', async () => {
  const { leaves, tiles } = grow([70_001]);
  const src = listSource(leaves);
  const fetch = async (level: number, index: number, width: number): Promise<Uint8Array[]> =>
    tiles.get(`${level}/${index}`)!.slice(0, width);
  const size = 70_001;
  const all = new NodeCache(100_000);
  const upper = new NodeCache(100_000, { minLevel: 8 });
  for (const cache of [all, upper]) {
    const b = new TileProofBuilder(size, fetch, cache);
    for (const i of [5, 300, 65_600, 70_000])
      assert.deepEqual(await b.inclusionProof(i), resolveRanges(inclusionRanges(i, size), src));
  }
  // Leaf 5's sibling at level 1 is node 1/3, computed inside level-0 tile 0; its sibling at
  // level 9 is node 9/1, computed inside level-1 tile 0.
  assert.ok(all.get({ level: 1, index: 3 }));
  assert.equal(upper.get({ level: 1, index: 3 }), undefined);
  const kept = upper.size;
  upper.set({ level: 7, index: 0 }, leaves[0]!);
  assert.equal(upper.size, kept, 'a node below minLevel takes no room');
  assert.equal(upper.get({ level: 7, index: 0 }), undefined);
  assert.deepEqual(upper.get({ level: 9, index: 1 }), src({ level: 9, index: 1 }));
  // The interior nodes of the few level-0 tiles used last are kept (an append batch's proofs all
  // meet the newest tiles, and every proof meets the right edge's), with their right hashes.
  const recent = new NodeCache(100_000, { minLevel: 8, recentLowTiles: 2 });
  const rb = new TileProofBuilder(size, fetch, recent);
  for (const i of [5, 300, 65_600])
    assert.deepEqual(await rb.inclusionProof(i), resolveRanges(inclusionRanges(i, size), src));
  assert.deepEqual(recent.get({ level: 1, index: 32_801 }), src({ level: 1, index: 32_801 }));
  assert.equal(recent.get({ level: 1, index: 3 }), undefined, 'tile 0 (leaf 5) left');
  // The least recently used tile's nodes go first.
  const lru = new NodeCache(100, { minLevel: 8, recentLowTiles: 2 });
  lru.set({ level: 1, index: 3 }, leaves[0]!); // level-0 tile 0
  lru.set({ level: 1, index: 151 }, leaves[1]!); // tile 1
  assert.deepEqual(lru.get({ level: 1, index: 3 }), leaves[0]); // tile 0 used last
  lru.set({ level: 2, index: 128 }, leaves[2]!); // tile 2
  assert.equal(lru.get({ level: 1, index: 151 }), undefined);
  assert.deepEqual(lru.get({ level: 1, index: 3 }), leaves[0]);
  assert.deepEqual(lru.get({ level: 2, index: 128 }), leaves[2]);
  assert.equal(lru.size, 0, 'low nodes are bounded by tiles, not counted against maxEntries');
  // Every node below minLevel of a subtree has a slot of its own: none overwrites another.
  const flat = new NodeCache(100, { minLevel: 8, recentLowTiles: 1 });
  const nodesOfTile3: Array<{ level: number; index: number }> = [];
  for (let level = 0; level < 8; level++)
    for (let k = 0; k < 2 ** (8 - level); k++)
      nodesOfTile3.push({ level, index: 3 * 2 ** (8 - level) + k });
  const hashOf = (n: { level: number; index: number }) =>
    leafHash(Buffer.from(`${n.level}/${n.index}`));
  for (const n of nodesOfTile3) flat.set(n, hashOf(n));
  for (const n of nodesOfTile3) assert.deepEqual(flat.get(n), hashOf(n), `${n.level}/${n.index}`);
  assert.equal(
    flat.get({ level: 1, index: 3 * 128 - 1 }),
    undefined,
    'the tile before is not kept',
  );
  assert.throws(() => flat.set({ level: 1, index: 384 }, new Uint8Array(31)), /32 bytes, not 31/);
  // bounded: a full cache starts over
  const small = new NodeCache(3);
  for (let i = 0; i < 4; i++) small.set({ level: 9, index: i }, leaves[i]!);
  assert.equal(small.size, 1);
});
