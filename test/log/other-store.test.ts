/**
 * A store that holds something else is not made a log store: an existing SQLite file or a
 * PostgreSQL database with tables and none of Signet's is refused in one line naming it, and
 * nothing is written to it, not even tables. A new or empty store is made one, and Signet's own
 * opens as before. SQLite and PostgreSQL behave alike.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { SignetError } from '../../src/core/errors.ts';
import { openLog, type TileLog } from '../../src/log/index.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { ED_KEY, ORIGIN } from './helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-other-store-'));
  dirs.push(d);
  return d;
}

const open = (o: {
  dataDir: string;
  databaseUrl?: string;
  name?: string;
  create?: boolean;
  sqliteFile?: string;
}) => openLog({ name: 'rekor', signer: { key: ED_KEY, origin: ORIGIN }, ...o });

/** The error an open that must fail gives: a SignetError of `code`, in one line. */
async function refusal(p: Promise<TileLog>, code: string): Promise<SignetError> {
  const e = await p.then(
    async (log) => {
      await log.close();
      assert.fail('opened');
    },
    (err: unknown) => err,
  );
  assert.ok(e instanceof SignetError, String(e));
  assert.equal(e.code, code);
  assert.doesNotMatch(e.message, /\n/);
  return e;
}

/** The refusal openLog gives, checked to be one line that names `where`. */
async function refusedAsOther(p: Promise<TileLog>, where: RegExp): Promise<SignetError> {
  const e = await refusal(p, 'STORE_NOT_SIGNET');
  assert.match(e.message, where);
  assert.match(e.message, /it was left as it was/);
  return e;
}

/**
 * Every byte of a database: the file, and what its write-ahead log or rollback journal holds
 * (nothing may be written to a refused database; SQLite's read-only look at a WAL database
 * leaves its index and an empty log beside it, which hold no data).
 */
function snapshot(file: string): string {
  const h = createHash('sha256');
  for (const f of [file, `${file}-wal`, `${file}-journal`]) {
    const bytes = fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0);
    h.update(`${bytes.length}:`).update(bytes);
  }
  return h.digest('hex');
}

/** Another application's database: its tables and a row, made with SQLite as it would be. */
function otherApplication(file: string, wal = false): void {
  const db = new DatabaseSync(file);
  if (wal) db.exec('PRAGMA journal_mode = WAL');
  db.exec(
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO users (name) VALUES ('ann')",
  );
  db.close();
}

function sqliteTables(file: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (
      db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .all() as Array<{ name: string }>
    ).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('SQLite', () => {
  test("another application's database in the log's place is refused, naming the file, with nothing written", async () => {
    for (const wal of [false, true]) {
      const dataDir = tmp();
      const file = path.join(dataDir, 'log.sqlite');
      otherApplication(file, wal);
      const before = snapshot(file);
      const e = await refusedAsOther(open({ dataDir }), new RegExp(`^${file}`));
      assert.match(
        e.message,
        /holds other tables \(posts, users\) and none of Signet's log tables/,
      );
      assert.equal(snapshot(file), before, 'the file is as it was');
      assert.deepEqual(sqliteTables(file), ['posts', 'users']);
      // A log that must exist is not looked for by making tables either.
      await assert.rejects(open({ dataDir, create: false }), { code: 'LOG_MISSING' });
      assert.equal(snapshot(file), before);
    }
  });

  test('a file that is not SQLite is refused the same', async () => {
    const dataDir = tmp();
    const file = path.join(dataDir, 'log.sqlite');
    fs.writeFileSync(file, 'a text file, not a database\n'.repeat(200));
    const before = snapshot(file);
    const e = await refusedAsOther(open({ dataDir }), new RegExp(`^${file}`));
    assert.match(e.message, /is not a SQLite database/);
    assert.equal(snapshot(file), before);
  });

  /** The error openLog gives for a file it cannot read: one line naming the file and why. */
  async function unreadable(dataDir: string, file: string, why: RegExp): Promise<void> {
    const e = await refusal(open({ dataDir }), 'STORE_UNAVAILABLE');
    assert.ok(e.message.startsWith(`cannot read ${file}: `), e.message);
    assert.match(e.message, why);
  }

  test('a file that cannot be read is named with what is wrong, in one line', async () => {
    // A folder in the file's place (SQLite: "disk I/O error").
    let dataDir = tmp();
    fs.mkdirSync(path.join(dataDir, 'log.sqlite'));
    await unreadable(dataDir, path.join(dataDir, 'log.sqlite'), /it is a folder, not a SQLite/);
    // A database whose first page is damaged: SQLite's error, led by the file.
    dataDir = tmp();
    const file = path.join(dataDir, 'log.sqlite');
    otherApplication(file);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.fill(0x41, 100, 4000));
    const before = snapshot(file);
    await unreadable(dataDir, file, /SQLite cannot read it \(database disk image is malformed\)$/);
    assert.equal(snapshot(file), before);
  });

  /**
   * What openLog says in another process, as user nobody when `asNobody` and this is root
   * (root reads through file modes); bounded in time, as a look that blocks cannot be timed
   * out from the process it blocks.
   */
  function openInChild(dataDir: string, asNobody: boolean): string {
    const script = `import { openLog } from ${JSON.stringify(path.join(root, 'src/log/index.ts'))};
      import { generateKeyPairSync } from 'node:crypto';
      const key = generateKeyPairSync('ed25519').privateKey;
      openLog({ name: 'rekor', dataDir: ${JSON.stringify(dataDir)}, signer: { key, origin: 'o' } })
        .then(() => console.log('opened'), (e) => console.log(e.code, e.message));`;
    const node = [process.execPath, '--input-type=module', '-e', script];
    const options = { encoding: 'utf8', timeout: 30_000 } as const;
    const r =
      asNobody && process.getuid?.() === 0
        ? spawnSync(
            'setpriv',
            ['--reuid=65534', '--regid=65534', '--clear-groups', ...node],
            options,
          )
        : spawnSync(node[0]!, node.slice(1), options);
    assert.equal(r.status, 0, `${r.error ?? ''} ${r.stderr}`);
    return r.stdout;
  }

  test("a FIFO in the file's place is named, not waited on for ever", () => {
    const dataDir = tmp();
    const file = path.join(dataDir, 'log.sqlite');
    assert.equal(spawnSync('mkfifo', [file]).status, 0);
    assert.equal(
      openInChild(dataDir, false),
      `STORE_UNAVAILABLE cannot read ${file}: it is not a regular file (a FIFO, socket or device)\n`,
    );
  });

  test('a file without read permission is named as such', () => {
    const dataDir = tmp();
    fs.chmodSync(dataDir, 0o755);
    const file = path.join(dataDir, 'log.sqlite');
    otherApplication(file);
    fs.chmodSync(file, 0o000);
    assert.equal(
      openInChild(dataDir, true),
      `STORE_UNAVAILABLE cannot read ${file}: permission denied for the file; check its owner and mode\n`,
    );
  });

  test('a link to nothing is refused naming where it points, also for a log that must exist; nothing is made there', async () => {
    const dataDir = tmp();
    const disk = tmp();
    const file = path.join(dataDir, 'log.sqlite');
    const target = path.join(disk, 'log.sqlite');
    fs.symlinkSync(target, file);
    for (const create of [true, false]) {
      const e = await refusal(open({ dataDir, create }), 'STORE_UNAVAILABLE');
      assert.equal(
        e.message,
        `cannot read ${file}: it is a symbolic link to ${target}, which does not exist (is its disk mounted?); put the database there, or remove the link for a new log in the data folder`,
      );
      assert.deepEqual(fs.readdirSync(disk), []);
      assert.deepEqual(fs.readdirSync(dataDir), ['log.sqlite']);
    }
  });

  test('a link to a log elsewhere opens it there', async () => {
    const disk = tmp();
    let log = await open({ dataDir: disk });
    await log.append({ leaf: new Uint8Array([1]) });
    await log.close();
    const dataDir = tmp();
    fs.symlinkSync(path.join(disk, 'log.sqlite'), path.join(dataDir, 'log.sqlite'));
    log = await open({ dataDir, create: false });
    assert.equal((await log.checkpoint()).size, 1);
    await log.close();
  });

  test('an empty file, and a SQLite database without tables, are made a log', async () => {
    const dataDir = tmp();
    fs.writeFileSync(path.join(dataDir, 'log.sqlite'), '');
    // A database SQLite has written (a header, a user_version) that holds no table.
    const bare = new DatabaseSync(path.join(dataDir, 'bare.sqlite'));
    bare.exec('PRAGMA user_version = 7');
    bare.close();
    for (const sqliteFile of ['log.sqlite', 'bare.sqlite']) {
      const log = await open({ dataDir, sqliteFile });
      assert.equal((await log.append({ leaf: new Uint8Array([1]) })).index, 0);
      await log.close();
      assert.ok(sqliteTables(path.join(dataDir, sqliteFile)).includes('tlog_logs'));
    }
  });

  test("Signet's own file opens as before, also for another log kept in it", async () => {
    const dataDir = tmp();
    let log = await open({ dataDir });
    await log.append({ leaf: new Uint8Array([1]) });
    await log.close();
    log = await open({ dataDir, create: false });
    assert.equal((await log.checkpoint()).size, 1);
    await log.close();
    const second = await open({ dataDir, name: 'rekor-2' });
    assert.equal((await second.checkpoint()).size, 0);
    await second.close();
  });

  test('signet up on a data folder holding such a file: one line naming it, exit 1', () => {
    const dataDir = tmp();
    const file = path.join(dataDir, 'ctlog.sqlite');
    otherApplication(file);
    const before = snapshot(file);
    const r = spawnSync(
      process.execPath,
      ['src/cli/main.ts', 'up', '--port', '0', '--data', dataDir],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.equal(
      r.stderr,
      `error: ${file} holds other tables (posts, users) and none of Signet's log tables: it was left as it was; it is not Signet's, so move it out of the data folder\n`,
    );
    assert.equal(snapshot(file), before);
    // Nothing was made beside it (keys, the other log's file, run/).
    assert.deepEqual(fs.readdirSync(dataDir), ['ctlog.sqlite']);
  });
});

describe('PostgreSQL', () => {
  async function tables(url: string): Promise<string[]> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
      );
      return r.rows.map((x) => x.tablename);
    } finally {
      await c.end();
    }
  }

  test("another application's database is refused, naming it without its password, with no table created", async () => {
    const db = await freshDatabase();
    try {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      await c.query(
        "CREATE TABLE users (id SERIAL PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ann')",
      );
      await c.end();
      const withPassword = db.url.replace('postgres@', 'postgres:hunter2@');
      const e = await refusedAsOther(
        open({ dataDir: tmp(), databaseUrl: withPassword }),
        /^the PostgreSQL database postgres:\/\/postgres@\S+ holds other tables \(users\) and none of Signet's log tables: .*createdb.*search_path$/,
      );
      assert.doesNotMatch(e.message, /hunter2/);
      assert.deepEqual(await tables(db.url), ['users']);
      await assert.rejects(open({ dataDir: tmp(), databaseUrl: db.url, create: false }), {
        code: 'LOG_MISSING',
      });
      assert.deepEqual(await tables(db.url), ['users']);
    } finally {
      await db.drop();
    }
  });

  test("an empty database is made a log store, and Signet's own opens as before", async () => {
    const db = await freshDatabase();
    try {
      let log = await open({ dataDir: tmp(), databaseUrl: db.url });
      await log.append({ leaf: new Uint8Array([1]) });
      await log.close();
      assert.deepEqual(await tables(db.url), [
        'tlog_entries',
        'tlog_logs',
        'tlog_search',
        'tlog_tiles',
      ]);
      log = await open({ dataDir: tmp(), databaseUrl: db.url, create: false });
      assert.equal((await log.checkpoint()).size, 1);
      await log.close();
      const second = await open({ dataDir: tmp(), databaseUrl: db.url, name: 'rekor-2' });
      assert.equal((await second.checkpoint()).size, 0);
      await second.close();
    } finally {
      await db.drop();
    }
  });
});
