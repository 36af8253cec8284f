/**
 * A log written before identity search keys were made exact (an email SAN indexed lower-cased
 * under `identity:`, no `email:` key) answers identity searches correctly once reopened: the
 * service migrates its index on open. The old index is made here as the old indexer wrote it
 * (same rows, in the log's own database), on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { freshDatabase } from '../../helpers/postgres.ts';
import { certificateFor, ecSigner, hashedRekordV1, hashedRekordV2 } from './fixtures.ts';
import { startRekor } from './harness.ts';
import { SEARCH_INDEX_MARK } from '../../../src/services/rekor/search-index.ts';

const MIXED = 'Old.Style@Signet.Test';
const LOWER = 'plain@signet.test';

/** The old indexer's rows: `identity:<lower-cased email>`, no `email:` key, no mark. */
const OLD_FORM = [
  `DELETE FROM tlog_search WHERE skey IN ('email:${MIXED.toLowerCase()}', 'email:${LOWER}', 'identity:${MIXED}', '${SEARCH_INDEX_MARK}')`,
];
const oldRows = (idx: number[]) =>
  idx.map(
    (i) =>
      `INSERT INTO tlog_search (log, skey, idx) SELECT name, 'identity:${MIXED.toLowerCase()}', ${i} FROM tlog_logs`,
  );

async function scenario(
  opts: { databaseUrl?: string },
  oldWay: (dataDir: string, mixed: number[]) => Promise<void>,
) {
  let s = await startRekor(opts);
  const post = async (p: string, body: unknown) => {
    const r = await fetch(`${s.rekor}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as unknown };
  };
  const signer = ecSigner();
  const mixed = certificateFor(signer, MIXED);
  const lower = certificateFor(signer, LOWER);
  const at = async (p: string, body: unknown) => {
    const r = await post(p, body);
    assert.equal(r.status, 201, JSON.stringify(r.json));
  };
  await at('/api/v1/log/entries', hashedRekordV1(signer, Buffer.from('one'), { pem: mixed.pem }));
  await at(
    '/api/v2/log/entries',
    hashedRekordV2(signer, Buffer.from('two'), { certDer: mixed.der }),
  );
  await at('/api/v1/log/entries', hashedRekordV1(signer, Buffer.from('three'), { pem: lower.pem }));
  const dataDir = s.dataDir;
  await s.close();
  await oldWay(dataDir, [0, 1]);

  s = await startRekor({ ...opts, dataDir });
  try {
    const v2 = async (identity: string) =>
      (
        (await (
          await fetch(`${s.rekor}/api/v2/index?identity=${encodeURIComponent(identity)}`)
        ).json()) as { entries: Array<{ logIndex: string }> }
      ).entries.map((e) => Number(e.logIndex));
    assert.deepEqual(await v2(MIXED), [0, 1], 'exact identity finds the old entries');
    assert.deepEqual(await v2(MIXED.toLowerCase()), [], 'and only for the exact value');
    assert.deepEqual(await v2(LOWER), [2]);
    const v1 = async (email: string) =>
      ((await post('/api/v1/index/retrieve', { email })).json as string[]).length;
    assert.equal(await v1('old.style@signet.test'), 2, 'v1 email search, any case');
    assert.equal(await v1('OLD.STYLE@signet.test'), 2);
    assert.equal(await v1(LOWER), 1);
  } finally {
    await s.close();
  }
}

test('an index written the old way is migrated on open (SQLite)', async () => {
  await scenario({}, async (dataDir, mixed) => {
    const db = new DatabaseSync(path.join(dataDir, 'rekor.sqlite'));
    try {
      for (const sql of [...OLD_FORM, ...oldRows(mixed)]) db.exec(sql);
      const n = db.prepare(`SELECT COUNT(*) AS n FROM tlog_search WHERE skey LIKE 'email:%'`).get();
      assert.equal(n?.n, 0, 'the old form has no email key');
    } finally {
      db.close();
    }
  });
});

test('an index written the old way is migrated on open (PostgreSQL)', async () => {
  const database = await freshDatabase();
  try {
    await scenario({ databaseUrl: database.url }, async (_dataDir, mixed) => {
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      try {
        for (const sql of [...OLD_FORM, ...oldRows(mixed)]) await c.query(sql);
      } finally {
        await c.end();
      }
    });
  } finally {
    await database.drop();
  }
});
