import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  EMPTY_ROOT,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/core/merkle/index.ts';
import { openCheckpoint, noteVerifier } from '../../src/core/note/index.ts';
import { TileProofBuilder, decodeEntryBundle, decodeHashTile } from '../../src/core/tiles/index.ts';
import { SignetError } from '../../src/core/errors.ts';
import type { AppendResult } from '../../src/log/index.ts';
import { BACKENDS, ED_KEY, ORIGIN, backend, type Backend } from './helpers.ts';

const leaf = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

/** Every distinct checkpoint among results is consistent with every later one (proofs checked). */
async function checkConsistent(
  log: { consistencyProof(a: number, b: number): Promise<Uint8Array[]> },
  results: AppendResult[],
): Promise<number> {
  const bySize = new Map<number, Uint8Array>();
  for (const r of results) {
    const prev = bySize.get(r.checkpoint.size);
    if (prev) assert.deepEqual(prev, r.checkpoint.rootHash, 'two roots for one size: a fork');
    bySize.set(r.checkpoint.size, r.checkpoint.rootHash);
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  for (let i = 0; i < sizes.length; i++)
    for (const j of [i + 1, sizes.length - 1]) {
      if (j >= sizes.length || j <= i) continue;
      const [m, n] = [sizes[i]!, sizes[j]!];
      verifyConsistency(m, n, await log.consistencyProof(m, n), bySize.get(m)!, bySize.get(n)!);
    }
  return sizes.length;
}

for (const kind of BACKENDS) {
  describe(`log engine on ${kind}`, () => {
    let b: Backend;
    before(async () => {
      b = await backend(kind);
    });
    after(async () => {
      await b.cleanup();
    });

    test('an empty log has a signed checkpoint for the empty tree', async () => {
      const log = await b.open({ name: 'empty' });
      const cp = await log.checkpoint();
      assert.equal(cp.size, 0);
      assert.deepEqual(cp.rootHash, EMPTY_ROOT);
      const opened = openCheckpoint(cp.note, [log.key], { origin: ORIGIN });
      assert.equal(opened.size, 0);
      await log.close();
    });

    test('a lone append on an idle log is sequenced at once, not after a timer', async (t) => {
      const log = await b.open({ name: 'idle' });
      // With setTimeout mocked, a sequencer that waited for a timer would never start.
      t.mock.timers.enable({ apis: ['setTimeout'] });
      let stuck: NodeJS.Timeout | undefined;
      try {
        const r = await Promise.race([
          log.append({ leaf: leaf('alone') }),
          new Promise<never>((_, reject) => {
            stuck = setInterval(() => reject(new Error('the append waited for a timer')), 5000);
          }),
        ]);
        assert.equal(r.index, 0);
      } finally {
        clearInterval(stuck);
        t.mock.timers.reset();
      }
      await log.close();
    });

    test('concurrent appends: contiguous indices, proofs verify, checkpoints consistent', async () => {
      const log = await b.open({ name: 'concurrent', batchMaxSize: 64 });
      const n = 1500;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          log.append({ leaf: leaf(`entry ${i}`), searchKeys: [`mod:${i % 7}`] }),
        ),
      );
      const indices = results.map((r) => r.index).sort((a, b) => a - b);
      assert.deepEqual(
        indices,
        Array.from({ length: n }, (_, i) => i),
      );
      assert.ok(results.every((r) => !r.duplicate));
      // Every acknowledgement carries a signed checkpoint that contains the entry.
      for (const r of results.filter((_, i) => i % 25 === 0)) {
        assert.ok(r.checkpoint.size > r.index);
        openCheckpoint(r.checkpoint.note, [log.key], { origin: ORIGIN });
        const p = await log.inclusionProof(r.index, r.checkpoint.size);
        verifyInclusion(r.leafHash, r.index, r.checkpoint.size, p, r.checkpoint.rootHash);
      }
      const batches = await checkConsistent(log, results);
      assert.ok(batches >= n / 64, `at least ${n / 64} batches of <= 64, got ${batches}`);
      // The head's root equals the root recomputed from the stored leaves.
      const cp = await log.checkpoint();
      assert.equal(cp.size, n);
      const stored = await Promise.all(indices.map((i) => log.entry(i)));
      assert.deepEqual(cp.rootHash, rootOf(stored.map((e) => leafHash(e!.leaf))));
      // Search keys were stored with their entries.
      const mod3 = await log.search('mod:3');
      assert.equal(mod3.length, results.filter((_, i) => i % 7 === 3).length);
      assert.deepEqual(
        mod3,
        [...mod3].sort((a, b) => a - b),
      );
      for (const i of mod3.slice(0, 20)) {
        const e = await log.entry(i);
        assert.equal(Number(Buffer.from(e!.leaf).toString().split(' ')[1]) % 7, 3);
      }
      assert.deepEqual(await log.search('mod:99'), []);
      await log.close();
    });

    test('a large batch is acknowledged over several event-loop turns; flush waits for all of it', async () => {
      const log = await b.open({ name: 'acks', batchMaxSize: 1024 });
      const n = 500;
      let turn = 0;
      let ticking = true;
      const tick = (): void => {
        turn++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const turns: number[] = [];
      const appends = Array.from({ length: n }, (_, i) =>
        log.append({ leaf: leaf(`ack ${i}`) }).then((r) => {
          turns[r.index] = turn;
          return r;
        }),
      );
      let settled = 0;
      for (const a of appends) void a.then(() => settled++);
      await log.flush();
      // flush resolves only once every queued append has been answered
      await Promise.resolve();
      assert.equal(settled, n);
      ticking = false;
      const results = await Promise.all(appends);
      assert.equal(new Set(results.map((r) => r.checkpoint.size)).size, 1, 'one batch');
      // answered in log order, 64 per event-loop turn: other work gets in between
      assert.ok(new Set(turns).size >= Math.ceil(n / 64), `turns: ${new Set(turns).size}`);
      for (let i = 1; i < n; i++) assert.ok(turns[i]! >= turns[i - 1]!);
      await log.close();
    });

    test('concurrent proofs at many sizes all verify, and read each tile once', async () => {
      const log = await b.open({ name: 'proofs', batchMaxSize: 100 });
      const results: AppendResult[] = [];
      for (let k = 0; k < 6; k++)
        results.push(
          ...(await Promise.all(
            Array.from({ length: 300 }, (_, i) => log.append({ leaf: leaf(`p${k}-${i}`) })),
          )),
        );
      const proofs = await Promise.all(
        results.map((r) => log.inclusionProof(r.index, r.checkpoint.size)),
      );
      results.forEach((r, i) =>
        verifyInclusion(r.leafHash, r.index, r.checkpoint.size, proofs[i]!, r.checkpoint.rootHash),
      );
      await log.close();
      // The same through a storage that counts tile reads: a fresh engine (empty caches) on the
      // same data answers 300 concurrent proofs with one read per distinct tile.
      const { sqliteStorage } = await import('../../src/log/storage/sqlite.ts');
      const { postgresStorage } = await import('../../src/log/storage/postgres.ts');
      const inner =
        kind === 'sqlite'
          ? sqliteStorage({ file: `${b.dataDir}/log.sqlite`, log: 'proofs' })
          : postgresStorage({ url: b.databaseUrl!, log: 'proofs' });
      const reads: string[] = [];
      const counting = {
        ...inner,
        tile: (l: number, i: number) => {
          reads.push(`${l}/${i}`);
          return inner.tile(l, i);
        },
        leafHashes: (from: number, to: number) => {
          reads.push(`leaves ${from}`);
          return inner.leafHashes(from, to);
        },
      };
      const { TileLog } = await import('../../src/log/index.ts');
      const fresh = new TileLog({ storage: counting, signer: { key: ED_KEY, origin: ORIGIN } });
      await fresh.init();
      const size = (await fresh.checkpoint()).size;
      const again = await Promise.all(
        results.slice(0, 300).map((r) => fresh.inclusionProof(r.index, size)),
      );
      const head = await fresh.checkpoint();
      results
        .slice(0, 300)
        .forEach((r, i) => verifyInclusion(r.leafHash, r.index, size, again[i]!, head.rootHash));
      assert.equal(reads.length, new Set(reads).size, `tiles read more than once: ${reads}`);
      await fresh.close();
    });

    test('duplicates return the stored entry and store nothing', async () => {
      const log = await b.open({ name: 'dedupe' });
      const [a, a2, other] = await Promise.all([
        log.append({ leaf: leaf('same'), searchKeys: ['k:a'] }),
        log.append({ leaf: leaf('same'), searchKeys: ['k:b'] }),
        log.append({ leaf: leaf('other') }),
      ]);
      assert.equal(a!.duplicate, false);
      assert.equal(a2!.duplicate, true);
      assert.equal(a2!.index, a!.index);
      assert.equal(other!.duplicate, false);
      const later = await log.append({ leaf: leaf('same'), extra: leaf('ignored') });
      assert.equal(later.duplicate, true);
      assert.equal(later.index, a!.index);
      assert.equal(later.integratedTime, a!.integratedTime);
      assert.equal((await log.checkpoint()).size, 2);
      assert.deepEqual(await log.search('k:b'), []);
      assert.equal((await log.entry(a!.index))!.extra, undefined);
      // A custom dedupe key: different leaves with one key are duplicates.
      const k = new Uint8Array([1, 2, 3]);
      const x = await log.append({ leaf: leaf('x1'), dedupeKey: k, extra: leaf('side data') });
      const y = await log.append({ leaf: leaf('x2'), dedupeKey: k });
      assert.equal(y.duplicate, true);
      assert.equal(y.index, x.index);
      const stored = await log.entry(x.index);
      assert.deepEqual(stored!.extra, leaf('side data'));
      assert.deepEqual(stored!.leaf, leaf('x1'));
      assert.deepEqual((await log.entryByLeafHash(leafHash(leaf('x1'))))!.index, x.index);
      assert.equal(await log.entryByLeafHash(leafHash(leaf('x2'))), undefined);
      await log.close();
    });

    test('tiles and entry bundles: full ones immutable, partials for published sizes', async () => {
      const log = await b.open({ name: 'tiles' });
      const leaves = Array.from({ length: 600 }, (_, i) => leaf(`t${i}`));
      for (let i = 0; i < 600; i += 100)
        await Promise.all(leaves.slice(i, i + 100).map((l) => log.append({ leaf: l })));
      const hashes = leaves.map(leafHash);
      const t0 = await log.tile(0, 0);
      assert.equal(t0!.length, 8192);
      assert.deepEqual(decodeHashTile(t0!), hashes.slice(0, 256));
      assert.equal(await log.tile(0, 2), undefined, 'tile 2 is partial (88 wide), not full');
      assert.deepEqual(decodeHashTile((await log.tile(0, 2, 88))!), hashes.slice(512, 600));
      assert.equal(await log.tile(0, 2, 89), undefined, 'beyond the tree');
      assert.deepEqual(decodeHashTile((await log.tile(0, 2, 10))!), hashes.slice(512, 522));
      assert.deepEqual(decodeHashTile((await log.tile(1, 0, 2))!), [
        rootOf(hashes.slice(0, 256)),
        rootOf(hashes.slice(256, 512)),
      ]);
      assert.equal(await log.tile(1, 0, 3), undefined);
      assert.equal(await log.tile(0, 3, 1), undefined);
      assert.deepEqual(decodeEntryBundle((await log.entryBundle(1))!), leaves.slice(256, 512));
      assert.deepEqual(decodeEntryBundle((await log.entryBundle(2, 88))!), leaves.slice(512, 600));
      assert.equal(await log.entryBundle(2), undefined);
      assert.equal(await log.entryBundle(2, 89), undefined);
      // A client with only tile reads reproduces the checkpoint's root and proofs.
      const cp = await log.checkpoint();
      const client = new TileProofBuilder(cp.size, async (l, i, w) =>
        decodeHashTile((await log.tile(l, i, w === 256 ? undefined : w))!),
      );
      assert.deepEqual(await client.root(), cp.rootHash);
      verifyInclusion(hashes[599]!, 599, 600, await client.inclusionProof(599), cp.rootHash);
      assert.deepEqual(await client.inclusionProof(3), await log.inclusionProof(3, 600));
      assert.deepEqual(await log.rootAt(256), rootOf(hashes.slice(0, 256)));
      await log.close();
    });

    test('bad input is refused with errors that name the field; nothing is stored', async () => {
      const log = await b.open({ name: 'bad' });
      await log.append({ leaf: leaf('one') });
      const isInvalid = (field: string) => (e: unknown) =>
        e instanceof SignetError && e.kind === 'invalid-input' && e.field === field;
      await assert.rejects(
        log.append({ leaf: new Uint8Array(65536) }),
        (e: unknown) =>
          e instanceof SignetError && e.kind === 'too-large' && /65535/.test(e.message),
      );
      await assert.rejects(
        log.append({ leaf: 'text' as unknown as Uint8Array }),
        isInvalid('leaf'),
      );
      await assert.rejects(
        log.append({ leaf: leaf('x'), searchKeys: [''] }),
        isInvalid('searchKeys[0]'),
      );
      await assert.rejects(
        log.append({ leaf: leaf('x'), dedupeKey: new Uint8Array(0) }),
        isInvalid('dedupeKey'),
      );
      await assert.rejects(log.inclusionProof(0, 2), isInvalid('treeSize'));
      await assert.rejects(log.inclusionProof(1, 1), isInvalid('index'));
      await assert.rejects(log.inclusionProof(-1, 1), isInvalid('index'));
      await assert.rejects(log.inclusionProof(0.5, 1), isInvalid('index'));
      await assert.rejects(log.consistencyProof(2, 1), isInvalid('fromSize'));
      await assert.rejects(log.consistencyProof(1, 5), isInvalid('toSize'));
      await assert.rejects(log.tile(64, 0), isInvalid('level'));
      await assert.rejects(log.tile(0, 0, 0), isInvalid('width'));
      await assert.rejects(log.entryBundle(0, 300), isInvalid('width'));
      await assert.rejects(log.entryByLeafHash(new Uint8Array(5)), isInvalid('leafHash'));
      await assert.rejects(log.search(''), isInvalid('key'));
      assert.equal(await log.entry(5), undefined);
      assert.equal((await log.checkpoint()).size, 1);
      await log.close();
      await assert.rejects(log.append({ leaf: leaf('late') }), /shutting down/);
    });

    test('ECDSA P-256 checkpoints: key ID and log ID are SHA-256 of the SPKI', async () => {
      const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const log = await b.open({ name: 'ecdsa', key });
      const r = await log.append({ leaf: leaf('ec') });
      const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
      const id = createHash('sha256').update(spki).digest();
      assert.deepEqual(Buffer.from(log.key.logId), id);
      assert.equal(log.key.keyId, id.readUInt32BE(0));
      const v = noteVerifier(ORIGIN, createPublicKey(key));
      assert.equal(openCheckpoint(r.checkpoint.note, [v]).size, 1);
      await log.close();
    });

    test('reopening keeps the log; a rotated key re-signs the head, another key is refused', async () => {
      const log = await b.open({ name: 'reopen' });
      const first = await Promise.all([1, 2, 3].map((i) => log.append({ leaf: leaf(`r${i}`) })));
      const before = (await log.checkpoint()).note;
      await log.close();
      const newKey = generateKeyPairSync('ed25519').privateKey;
      // A key that did not sign the head: another data folder's keys on this store. Refused,
      // and the head keeps its signature.
      await assert.rejects(b.open({ name: 'reopen', key: newKey }), {
        code: 'LOG_KEY_MISMATCH',
        message:
          /the log "log\.example\/test" in this store \(3 entries\) is not signed by this stack's key/,
      });
      const unchanged = await b.open({ name: 'reopen' });
      assert.equal((await unchanged.checkpoint()).note, before);
      await unchanged.close();
      // The next version of the log's own key (rotated in place, as the CT log's): re-signed.
      const again = await b.open({
        name: 'reopen',
        signer: { key: newKey, origin: ORIGIN, previousKeys: [ED_KEY] },
      });
      const cp = await again.checkpoint();
      assert.equal(cp.size, 3);
      openCheckpoint(cp.note, [again.key], { origin: ORIGIN });
      const more = await again.append({ leaf: leaf('r4') });
      assert.equal(more.index, 3);
      assert.equal((await again.append({ leaf: leaf('r1') })).duplicate, true);
      await checkConsistent(again, [...first, more]);
      await again.close();
    });

    test('several logs share one database without seeing each other', async () => {
      const a = await b.open({ name: 'shared-a' });
      const c = await b.open({ name: 'shared-b' });
      await a.append({ leaf: leaf('only in a'), searchKeys: ['s'] });
      const rc = await c.append({ leaf: leaf('only in a') });
      assert.equal(rc.duplicate, false);
      assert.equal(rc.index, 0);
      assert.deepEqual(await c.search('s'), []);
      await a.close();
      await c.close();
    });
  });
}
