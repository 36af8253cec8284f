/**
 * A data folder's log stores are looked at before anything is made in it: a SQLite file of
 * another application (or one that cannot be read, or a link to nothing) in a log's place, or a
 * --database of another application, refuses the start with the folder exactly as it was, not
 * after the first services made their keys (a new folder) or started (a folder with keys).
 * Signet's own stores, also those of a killed stack and those linked from another disk, start.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import pg from 'pg';
import { SignetError } from '../../src/core/errors.ts';
import { checkLogStores } from '../../src/services/log-stores.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { tempStack } from '../helpers/stack.ts';
import { ecSigner, hashedRekordV1 } from './rekor/fixtures.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-store-first-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every file and folder under `dir` with its size and modification time ('' when absent). */
function listing(dir: string): string {
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      // A link to nothing is listed as the link.
      const p = path.join(dir, f);
      const st = fs.statSync(p, { throwIfNoEntry: false }) ?? fs.lstatSync(p);
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

/** A stack started and stopped in a new folder: a data folder with keys, logs and their files. */
async function existingFolder(): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(tmp, 'existing-'));
  const stack = await tempStack({ dataDir });
  await stack.close();
  return dataDir;
}

test("a data folder with keys whose ctlog.sqlite or rekor.sqlite was replaced by another application's is refused before anything is written", async () => {
  for (const name of ['ctlog.sqlite', 'rekor.sqlite']) {
    const dataDir = await existingFolder();
    const file = path.join(dataDir, name);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    otherApplication(file, true);
    const before = listing(dataDir);
    await refused(
      { dataDir },
      'STORE_NOT_SIGNET',
      new RegExp(`^${file} holds other tables \\(users\\) and none of Signet's log tables`),
    );
    assert.equal(listing(dataDir), before, `${name}: the folder changed`);
  }
});

test('a ctlog.sqlite or rekor.sqlite linking to nothing is refused naming where it points, and nothing is made there nor in the folder', async () => {
  for (const name of ['ctlog.sqlite', 'rekor.sqlite']) {
    // Where the database would be: an existing folder (a disk's mount point) without it.
    const disk = fs.mkdtempSync(path.join(tmp, 'disk-'));
    const target = path.join(disk, name);
    const message = (file: string) =>
      new RegExp(
        `^cannot read ${file}: it is a symbolic link to ${target}, which does not exist \\(is its disk mounted\\?\\); put the database there, or remove the link for a new log in the data folder$`,
      );
    // A new folder; the link relative, as `ln -s` often makes it.
    const fresh = fs.mkdtempSync(path.join(tmp, 'folder-'));
    fs.symlinkSync(path.relative(fresh, target), path.join(fresh, name));
    let before = listing(fresh);
    await refused({ dataDir: fresh }, 'STORE_UNAVAILABLE', message(path.join(fresh, name)));
    assert.equal(listing(fresh), before);
    assert.deepEqual(fs.readdirSync(disk), [], 'a database was made where the link points');
    // A folder with keys whose database was moved to that disk, the disk not mounted.
    const dataDir = await existingFolder();
    const file = path.join(dataDir, name);
    const away = path.join(tmp, `${path.basename(dataDir)}-${name}`);
    fs.renameSync(file, away);
    fs.symlinkSync(target, file);
    before = listing(dataDir);
    await refused({ dataDir }, 'STORE_UNAVAILABLE', message(file));
    assert.equal(listing(dataDir), before);
    assert.deepEqual(fs.readdirSync(disk), []);
    // The disk back, the linked database is the folder's log again.
    fs.renameSync(away, target);
    const stack = await tempStack({ dataDir });
    await stack.close();
  }
});

test("another application's database linked as rekor.sqlite, its tables still in its WAL log, is looked at with that log", async () => {
  const disk = fs.mkdtempSync(path.join(tmp, 'disk-'));
  const target = path.join(disk, 'app.sqlite');
  // Open, as the application runs: its tables are in app.sqlite-wal, not yet in the file.
  const app = new DatabaseSync(target);
  try {
    app.exec('PRAGMA journal_mode = WAL');
    app.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)');
    const dataDir = fs.mkdtempSync(path.join(tmp, 'folder-'));
    fs.symlinkSync(target, path.join(dataDir, 'rekor.sqlite'));
    const before = listing(dataDir);
    await refused({ dataDir }, 'STORE_NOT_SIGNET', /holds other tables \(users\)/);
    assert.equal(listing(dataDir), before);
  } finally {
    app.close();
  }
});

const root = path.resolve(import.meta.dirname, '../..');

/** `signet up` on `dataDir` in a process of its own, once it serves (within 60 s). */
async function upProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(path.join(root, 'bin/signet'), ['up', '--port', '0', '--data', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /signet is up at (\S+)/.exec(out);
    if (m) return { child, url: m[1]! };
    assert.ok(Date.now() < deadline && child.exitCode === null, out);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function logEntry(url: string, text: string): Promise<void> {
  const r = await fetch(`${url}/rekor/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(hashedRekordV1(ecSigner(), Buffer.from(text))),
  });
  assert.equal(r.status, 201, await r.text());
}

async function treeSize(url: string): Promise<number> {
  const r = await fetch(`${url}/rekor/api/v1/log`);
  assert.equal(r.status, 200);
  return ((await r.json()) as { treeSize: number }).treeSize;
}

/** Every byte of a SQLite database and its WAL log (what a look must not change). */
function bytesOf(file: string): string {
  return [file, `${file}-wal`]
    .map((f) => (fs.existsSync(f) ? fs.readFileSync(f).toString('base64') : '-'))
    .join(' ');
}

test('a data folder of a stack killed with -9 (its entries in the WAL logs) is looked at without a change, and starts with its entries, also linked from another disk', async () => {
  const dataDir = fs.mkdtempSync(path.join(tmp, 'killed-'));
  const up = await upProcess(dataDir);
  const exited = new Promise((r) => up.child.once('exit', r));
  try {
    for (let i = 0; i < 3; i++) await logEntry(up.url, `entry ${i}`);
  } finally {
    up.child.kill('SIGKILL');
    await exited;
  }
  const rekor = path.join(dataDir, 'rekor.sqlite');
  assert.ok(fs.statSync(`${rekor}-wal`).size > 0, 'the entries are not in a WAL log');
  const files = fs.readdirSync(dataDir).sort();
  const before = [rekor, path.join(dataDir, 'ctlog.sqlite')].map(bytesOf);
  await checkLogStores(dataDir);
  assert.deepEqual([rekor, path.join(dataDir, 'ctlog.sqlite')].map(bytesOf), before);
  assert.deepEqual(fs.readdirSync(dataDir).sort(), files);
  let stack = await tempStack({ dataDir });
  try {
    assert.equal(await treeSize(stack.url), 3);
  } finally {
    await stack.close();
  }
  // Moved to another disk and linked: used where it is, its WAL log beside it there.
  const disk = fs.mkdtempSync(path.join(tmp, 'disk-'));
  const target = path.join(disk, 'rekor.sqlite');
  fs.renameSync(rekor, target);
  fs.symlinkSync(target, rekor);
  stack = await tempStack({ dataDir });
  try {
    assert.equal(await treeSize(stack.url), 3);
    await logEntry(stack.url, 'entry 3');
    assert.ok(fs.existsSync(`${target}-wal`));
    assert.ok(!fs.existsSync(`${rekor}-wal`));
  } finally {
    await stack.close();
  }
  assert.ok(fs.lstatSync(rekor).isSymbolicLink(), 'the link was replaced by a file');
  stack = await tempStack({ dataDir });
  try {
    assert.equal(await treeSize(stack.url), 4);
  } finally {
    await stack.close();
  }
});
