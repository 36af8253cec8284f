import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { backupDataDir, restoreDataDir } from '../../src/services/backup.ts';
import { SignetError } from '../../src/core/errors.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { tempStack } from '../helpers/stack.ts';

/**
 * A data folder's keys sign the checkpoints of logs kept in one store (SQLite files in the
 * folder, or a PostgreSQL database). Started against another store, the stack would make new
 * empty logs under the same keys and origins: a second history, signed by the real keys, of
 * logs whose entries and checkpoints are already out (a fork). It must refuse, before writing.
 */
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));
const root = path.resolve(import.meta.dirname, '../..');
const signet = (...args: string[]) =>
  spawnSync(process.execPath, ['src/cli/main.ts', ...args], { cwd: root, encoding: 'utf8' });

async function refused(opts: { dataDir: string; databaseUrl?: string }): Promise<SignetError> {
  let err: unknown;
  try {
    const s = await tempStack(opts);
    await s.close();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof SignetError, `expected a refusal, got ${String(err)}`);
  assert.equal(err.code, 'LOG_MISSING');
  return err;
}

/** The tables of a database: a refused start must leave a wrong database as it was. */
async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY tablename`,
    );
    return r.rows.map((x) => x.tablename);
  } finally {
    await c.end();
  }
}

test('a data folder whose logs are in PostgreSQL is refused without --database, with another database, and from a backup', async () => {
  const db = await freshDatabase();
  const other = await freshDatabase();
  try {
    const dataDir = tmp('signet-pg-');
    const s = await tempStack({ dataDir, databaseUrl: db.url });
    await s.close();

    const e = await refused({ dataDir });
    assert.match(e.message, /rekor-1|ctlog/);
    assert.match(e.message, /--database/);
    assert.deepEqual(
      fs.readdirSync(dataDir).filter((f) => f.endsWith('.sqlite')),
      [],
      'nothing written',
    );
    await refused({ dataDir, databaseUrl: other.url });
    assert.deepEqual(await tables(other.url), [], 'nothing created in the other database');
    // The same from the command line, as an operator meets it.
    const up = signet('up', '--port', '0', '--data', dataDir, '--database', other.url);
    assert.equal(up.status, 1, up.stdout + up.stderr);
    assert.match(
      up.stderr,
      /^error: log "ctlog" is not in the PostgreSQL database postgres:\/\/\S+, but the keys of .* Nothing was changed; /,
    );
    assert.deepEqual(await tables(other.url), [], 'nothing created by signet up');
    // A new stack on that empty database makes its schema and logs there.
    const fresh = await tempStack({ databaseUrl: other.url });
    await fresh.close();
    assert.deepEqual(await tables(other.url), [
      'tlog_entries',
      'tlog_logs',
      'tlog_search',
      'tlog_tiles',
    ]);

    // A backup of such a folder holds keys and TUF only: restored, it is refused the same.
    const bk = path.join(tmp('signet-bk-'), 'b');
    await backupDataDir(dataDir, bk);
    const restored = path.join(tmp('signet-rs-'), 'd');
    restoreDataDir(bk, restored);
    await refused({ dataDir: restored });

    // With its database it starts as before.
    const again = await tempStack({ dataDir, databaseUrl: db.url });
    await again.close();
  } finally {
    await db.drop();
    await other.drop();
  }
});

test('a data folder whose logs are in SQLite is refused with --database (also a folder from before the log records)', async () => {
  const db = await freshDatabase();
  try {
    const dataDir = tmp('signet-sq-');
    const s = await tempStack({ dataDir });
    await s.close();
    await refused({ dataDir, databaseUrl: db.url });
    assert.deepEqual(await tables(db.url), []);
    // A folder written by an earlier version (no record of its logs, but a stack started in
    // it: TUF metadata published) is protected the same.
    fs.rmSync(path.join(dataDir, 'logs'), { recursive: true, force: true });
    await refused({ dataDir, databaseUrl: db.url });
    const again = await tempStack({ dataDir });
    await again.close();
  } finally {
    await db.drop();
  }
});

test('not refused: a first start that failed before its logs existed, and a rekor key rotated twice between starts', async () => {
  const db = await freshDatabase();
  try {
    const dataDir = tmp('signet-first-');
    await assert.rejects(
      tempStack({ dataDir, databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing' }),
    );
    const s = await tempStack({ dataDir, databaseUrl: db.url });
    await s.close();
    for (let i = 0; i < 2; i++) {
      const r = signet('rotate', '--data', dataDir, 'rekor');
      assert.equal(r.status, 0, r.stderr);
    }
    const again = await tempStack({ dataDir, databaseUrl: db.url });
    await again.close();
  } finally {
    await db.drop();
  }
});
