import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, postgresProxy } from '../../helpers/postgres.ts';
import { ecSigner, hashedRekordV1, hashedRekordV2 } from './fixtures.ts';
import { startRekor, type RekorServer } from './harness.ts';

/** The same service on PostgreSQL, and two replicas on one database behaving as one log. */
describe('Signet Rekor on PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  let a: RekorServer;
  let b: RekorServer;
  before(async () => {
    db = await freshDatabase();
    a = await startRekor({ databaseUrl: db.url });
    // a second replica: same keys (data folder), same database
    b = await startRekor({ databaseUrl: db.url, dataDir: a.dataDir });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('entries written through either replica share one tree; duplicates are found across them', async () => {
    const s = ecSigner();
    const post = (base: string, path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(
          i % 2 ? a.rekor : b.rekor,
          '/api/v1/log/entries',
          hashedRekordV1(s, Buffer.from(`pg ${i}`)),
        ),
      ),
    );
    const indices = await Promise.all(
      results.map(async (r) => {
        assert.equal(r.status, 201);
        const m = (await r.json()) as Record<string, { logIndex: number }>;
        return Object.values(m)[0]!.logIndex;
      }),
    );
    assert.deepEqual(
      [...indices].sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i),
    );
    const req = hashedRekordV2(s, Buffer.from('pg v2')); // one signature (ECDSA is randomized)
    const v2 = await post(a.rekor, '/api/v2/log/entries', req);
    assert.equal(v2.status, 201);
    const dup = await post(b.rekor, '/api/v2/log/entries', req);
    assert.equal(dup.status, 409);
    assert.equal(dup.headers.get('x-log-index'), '20');
    const infoA = (await (await fetch(`${a.rekor}/api/v1/log`)).json()) as {
      treeSize: number;
      rootHash: string;
    };
    const infoB = (await (await fetch(`${b.rekor}/api/v1/log`)).json()) as {
      treeSize: number;
      rootHash: string;
    };
    assert.equal(infoA.treeSize, 21);
    assert.deepEqual(infoB, { ...infoB, treeSize: 21, rootHash: infoA.rootHash });
  });
});

describe('Signet Rekor when its PostgreSQL database goes away', () => {
  it('reads answer 503 naming the database, not 500', async () => {
    const db = await freshDatabase();
    const proxy = await postgresProxy(db.url);
    const r = await startRekor({ databaseUrl: proxy.via });
    try {
      const s = ecSigner();
      const created = await fetch(`${r.rekor}/api/v1/log/entries`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hashedRekordV1(s, Buffer.from('before the outage'))),
      });
      assert.equal(created.status, 201);
      await proxy.cut();
      for (const path of ['/api/v1/log/entries?logIndex=0', '/api/v1/log/entries/retrieve']) {
        const res = path.endsWith('retrieve')
          ? await fetch(`${r.rekor}${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ logIndexes: [0] }),
            })
          : await fetch(`${r.rekor}${path}`);
        const body = (await res.json()) as { error: string; message: string };
        assert.equal(res.status, 503, `${path}: ${JSON.stringify(body)}`);
        assert.equal(body.error, 'STORE_UNAVAILABLE');
        assert.match(body.message, /the log's PostgreSQL database cannot be reached/);
      }
    } finally {
      await r.close().catch(() => undefined);
      await db.drop();
    }
  });
});
