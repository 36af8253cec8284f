import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../../../src/services/http/app.ts';
import { IMMUTABLE, tileRoutes } from '../../../src/services/tiles/index.ts';
import { leafHash, verifyInclusion } from '../../../src/core/merkle/index.ts';
import { openCheckpoint } from '../../../src/core/note/index.ts';
import {
  TileProofBuilder,
  decodeEntryBundle,
  decodeHashTile,
  entriesPath,
  tilePath,
} from '../../../src/core/tiles/index.ts';
import type { TileLog } from '../../../src/log/index.ts';
import { ORIGIN, backend, type Backend } from '../../log/helpers.ts';

let b: Backend;
let log: TileLog;
let app: FastifyInstance;
let base: string;
const leaves = Array.from({ length: 300 }, (_, i) => new Uint8Array(Buffer.from(`http ${i}`)));

before(async () => {
  b = await backend('sqlite');
  log = await b.open({ name: 'http' });
  await Promise.all(leaves.map((leaf) => log.append({ leaf })));
  app = createApp();
  await app.register(tileRoutes(log), { prefix: '/rekor' });
  await app.register(tileRoutes(log), { prefix: '/rekor/api/v2' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await app.close();
  await log.close();
  await b.cleanup();
});

const get = (p: string, init?: RequestInit): Promise<Response> => fetch(`${base}${p}`, init);
const bytes = async (r: Response): Promise<Uint8Array> => new Uint8Array(await r.arrayBuffer());

test('GET checkpoint: the signed note as text/plain with a short cache', async () => {
  for (const prefix of ['/rekor', '/rekor/api/v2']) {
    const r = await get(`${prefix}/checkpoint`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'public, max-age=1');
    const cp = openCheckpoint(await r.text(), [log.key], { origin: ORIGIN });
    assert.equal(cp.size, 300);
  }
});

test('GET tiles: full tiles immutable, partial tiles short-lived, both with the right bytes', async () => {
  const stored = await Promise.all(leaves.map((l) => log.entryByLeafHash(leafHash(l))));
  const byIndex = new Map(stored.map((e) => [e!.index, e!]));
  const full = await get(`/rekor/${tilePath(0, 0)}`);
  assert.equal(full.status, 200);
  assert.equal(full.headers.get('content-type'), 'application/octet-stream');
  assert.equal(full.headers.get('cache-control'), IMMUTABLE);
  const hashes = decodeHashTile(await bytes(full));
  assert.equal(hashes.length, 256);
  assert.deepEqual(hashes[17], byIndex.get(17)!.leafHash);
  const partial = await get(`/rekor/api/v2/${tilePath(0, 1, 44)}`);
  assert.equal(partial.status, 200);
  assert.equal(partial.headers.get('cache-control'), 'public, max-age=1');
  assert.equal((await bytes(partial)).length, 44 * 32);
  const bundle = await get(`/rekor/${entriesPath(1, 44)}`);
  assert.equal(bundle.status, 200);
  const entries = decodeEntryBundle(await bytes(bundle));
  assert.deepEqual(
    entries,
    [...Array(44).keys()].map((i) => byIndex.get(256 + i)!.leaf),
  );
  const fullBundle = await get(`/rekor/${entriesPath(0)}`);
  assert.equal(fullBundle.headers.get('cache-control'), IMMUTABLE);
  assert.equal(decodeEntryBundle(await bytes(fullBundle)).length, 256);
  const head = await get(`/rekor/${tilePath(0, 0)}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('a client with only HTTP tile reads computes the root and verifiable proofs', async () => {
  const cp = openCheckpoint(await (await get('/rekor/checkpoint')).text(), [log.key]);
  const client = new TileProofBuilder(cp.size, async (l, i, w) => {
    const r = await get(`/rekor/${tilePath(l, i, w)}`);
    assert.equal(r.status, 200, `tile ${l}/${i}/${w}`);
    return decodeHashTile(await bytes(r));
  });
  assert.deepEqual(await client.root(), cp.rootHash);
  const e = (await log.entry(299))!;
  verifyInclusion(e.leafHash, 299, cp.size, await client.inclusionProof(299), cp.rootHash);
});

test('tiles beyond the tree answer 404, malformed paths 400, both as JSON that says why', async () => {
  for (const p of [
    tilePath(0, 1),
    tilePath(0, 1, 45),
    tilePath(0, 2, 1),
    tilePath(1, 0),
    tilePath(2, 0, 1),
    entriesPath(1),
    entriesPath(5, 3),
  ]) {
    const r = await get(`/rekor/${p}`);
    assert.equal(r.status, 404, p);
    const body = (await r.json()) as { error: string; message: string };
    assert.equal(body.error, 'TILE_NOT_FOUND');
    assert.match(body.message, /not in the tree/);
  }
  const bad: Array<[string, RegExp]> = [
    ['tile/0/1', /three digits/],
    ['tile/abc/000', /tile level/],
    ['tile/0/000.p/0', /1\.\.255/],
    ['tile/0/000.p/256', /1\.\.255/],
    ['tile/0/x000/001', /leading x000/],
    ['tile/entries', /is not <level>/],
    ['tile/64/000', /tile level/],
  ];
  for (const [p, re] of bad) {
    const r = await get(`/rekor/${p}`);
    assert.equal(r.status, 400, p);
    assert.match(r.headers.get('content-type')!, /application\/json/);
    const body = (await r.json()) as { field: string; message: string; error: string };
    assert.equal(body.field, 'path', p);
    assert.equal(body.error, 'INVALID_INPUT');
    assert.match(body.message, re, p);
  }
  // The server keeps serving.
  assert.equal((await get('/rekor/checkpoint')).status, 200);
});
