/**
 * A new data folder's log stores are looked at before anything is made in it: a SQLite file of
 * another application (or one that cannot be read) in a log's place, or a --database of another
 * application, refuses the start with the folder exactly as it was, not after the first
 * services made their keys there.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import pg from 'pg';
import { SignetError } from '../../src/core/errors.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { tempStack } from '../helpers/stack.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-store-first-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every file and folder under `dir` with its size and modification time ('' when absent). */
function listing(dir: string): string {
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const st = fs.statSync(path.join(dir, f));
      return `${f} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`;
    })
    .join('\n');
}

/** Another application's SQLite database, in WAL mode or not. */
function otherApplication(file: string, wal: boolean): void {
  const db = new DatabaseSync(file);
  if (wal) db.exec('PRAGMA journal_mode = WAL');
  db.exec(
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann')",
  );
  db.close();
}

async function refused(
  opts: { dataDir: string; databaseUrl?: string },
  code: string,
  message: RegExp,
): Promise<void> {
  await assert.rejects(
    tempStack(opts).then((s) => s.close()),
    (e: unknown) => {
      assert.ok(e instanceof SignetError, String(e));
      assert.equal(e.code, code);
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.message, message);
      return true;
    },
  );
}

test("a new data folder holding another application's ctlog.sqlite or rekor.sqlite is left exactly as it was", async () => {
  for (const name of ['ctlog.sqlite', 'rekor.sqlite'])
    for (const wal of [false, true]) {
      const dataDir = fs.mkdtempSync(path.join(tmp, 'folder-'));
      const file = path.join(dataDir, name);
      otherApplication(file, wal);
      const before = listing(dataDir);
      await refused(
        { dataDir },
        'STORE_NOT_SIGNET',
        new RegExp(`^${file} holds other tables \\(users\\) and none of Signet's log tables`),
      );
      assert.equal(listing(dataDir), before, `${name}${wal ? ' (WAL)' : ''}: the folder changed`);
      // Moved out, the folder starts.
      fs.rmSync(file);
      const stack = await tempStack({ dataDir });
      await stack.close();
    }
});

test('a new data folder with a folder in the place of rekor.sqlite is left as it was', async () => {
  const dataDir = fs.mkdtempSync(path.join(tmp, 'folder-'));
  const file = path.join(dataDir, 'rekor.sqlite');
  fs.mkdirSync(file);
  const before = listing(dataDir);
  await refused(
    { dataDir },
    'STORE_UNAVAILABLE',
    new RegExp(`^cannot read ${file}: it is a folder, not a SQLite database file$`),
  );
  assert.equal(listing(dataDir), before);
});

test('--database of another application: a new data folder is not made, nor written to, nor the database', async () => {
  const db = await freshDatabase();
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query('CREATE TABLE users (id SERIAL PRIMARY KEY)');
    const tables = async () =>
      (
        await c.query<{ t: string }>(
          "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        )
      ).rows.map((r) => r.t);
    const absent = path.join(tmp, 'absent');
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    for (const dataDir of [absent, empty]) {
      await refused(
        { dataDir, databaseUrl: db.url },
        'STORE_NOT_SIGNET',
        /^the PostgreSQL database \S+ holds other tables \(users\)/,
      );
      assert.deepEqual(await tables(), ['users']);
    }
    assert.equal(fs.existsSync(absent), false, 'the data folder was made');
    assert.deepEqual(fs.readdirSync(empty), []);
  } finally {
    await c.end();
    await db.drop();
  }
});
