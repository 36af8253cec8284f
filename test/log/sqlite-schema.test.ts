/**
 * The two shapes of a SQLite log database (src/log/storage/sqlite-schema.ts): a new one is
 * compact (8 KiB pages, default dedupe keys not stored twice); one made before keeps its shape
 * and keeps working.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { leafHash, verifyInclusion } from '../../src/core/merkle/index.ts';
import { openLog, type TileLog } from '../../src/log/index.ts';
import { ED_KEY, ORIGIN } from './helpers.ts';

/** The DDL of every SQLite log created before the compact shape (commit 51d384b), verbatim. */
const OLD_SCHEMA = `
CREATE TABLE IF NOT EXISTS tlog_logs (
  name TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  checkpoint TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_entries (
  log TEXT NOT NULL,
  idx INTEGER NOT NULL,
  leaf BLOB NOT NULL,
  leaf_hash BLOB NOT NULL,
  dedupe BLOB NOT NULL,
  itime INTEGER NOT NULL,
  extra BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS tlog_entries_idx ON tlog_entries (log, idx);
CREATE UNIQUE INDEX IF NOT EXISTS tlog_entries_dedupe ON tlog_entries (log, dedupe);
CREATE INDEX IF NOT EXISTS tlog_entries_leaf_hash ON tlog_entries (log, leaf_hash);
CREATE TABLE IF NOT EXISTS tlog_search (
  log TEXT NOT NULL,
  skey TEXT NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (log, skey, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tlog_tiles (
  log TEXT NOT NULL,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (log, level, idx)
) WITHOUT ROWID;
`;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-sqlite-schema-'));
  dirs.push(d);
  return d;
}

const open = (dir: string): Promise<TileLog> =>
  openLog({ name: 'rekor', dataDir: dir, signer: { key: ED_KEY, origin: ORIGIN } });

const leaf = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

/** Appends of both dedupe kinds, then their duplicates, before and after a reopen. */
async function exerciseDedupe(dir: string): Promise<void> {
  const custom = new Uint8Array([7, 7, 7]);
  let log = await open(dir);
  const base = (await log.checkpoint()).size;
  const a = await log.append({ leaf: leaf('a') });
  const c = await log.append({ leaf: leaf('c1'), dedupeKey: custom });
  // A custom 32-byte key equal to an earlier entry's leaf hash is that entry's dedupe key.
  const clash = await log.append({ leaf: leaf('clash'), dedupeKey: leafHash(leaf('a')) });
  assert.deepEqual([a.duplicate, c.duplicate, clash.duplicate], [false, false, true]);
  assert.equal(clash.index, a.index);
  await log.close();
  log = await open(dir);
  const again = await log.append({ leaf: leaf('a'), searchKeys: ['late'] });
  const c2 = await log.append({ leaf: leaf('c2'), dedupeKey: custom });
  // and a default key equal to an earlier custom key is a duplicate of that entry
  const k = leafHash(leaf('d'));
  const d1 = await log.append({ leaf: leaf('d-custom'), dedupeKey: k });
  const d2 = await log.append({ leaf: leaf('d') });
  assert.deepEqual(
    [again.duplicate, c2.duplicate, d1.duplicate, d2.duplicate],
    [true, true, false, true],
  );
  assert.deepEqual([again.index, c2.index, d2.index], [a.index, c.index, d1.index]);
  const head = await log.checkpoint();
  assert.equal(head.size, base + 3);
  assert.deepEqual(await log.search('late'), []);
  for (const [i, l] of [
    [a.index, 'a'],
    [c.index, 'c1'],
    [d1.index, 'd-custom'],
  ] as const) {
    const e = await log.entryByLeafHash(leafHash(leaf(l)));
    assert.equal(e!.index, i);
    verifyInclusion(
      e!.leafHash,
      i,
      head.size,
      await log.inclusionProof(i, head.size),
      head.rootHash,
    );
  }
  await log.close();
}

const sql = (dir: string): DatabaseSync => new DatabaseSync(path.join(dir, 'log.sqlite'));

describe('SQLite log database shapes', () => {
  test('a log made with the old schema (4 KiB pages, full dedupe index) opens and keeps working in its shape', async () => {
    const dir = tmp();
    const old = sql(dir);
    old.exec('PRAGMA journal_mode = WAL');
    old.exec(OLD_SCHEMA);
    old.close();
    // entries written before the upgrade, as the old code stored them
    let log = await open(dir);
    const before = await Promise.all(
      Array.from({ length: 300 }, (_, i) => log.append({ leaf: leaf(`old ${i}`) })),
    );
    await log.close();
    await exerciseDedupe(dir);
    log = await open(dir);
    const dup = await log.append({ leaf: leaf('old 299') });
    assert.equal(dup.duplicate, true);
    assert.equal(dup.index, before[299]!.index);
    await log.close();

    const db = sql(dir);
    assert.equal((db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size, 4096);
    const indexes = (
      db
        .prepare(
          "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tlog_entries'",
        )
        .all() as Array<{ name: string }>
    ).map((r) => r.name);
    assert.deepEqual(indexes.sort(), [
      'tlog_entries_dedupe',
      'tlog_entries_idx',
      'tlog_entries_leaf_hash',
    ]);
    // every row keeps its dedupe key in full, as the old code reads and writes them
    const empty = db.prepare("SELECT count(*) AS n FROM tlog_entries WHERE dedupe = x''").get() as {
      n: number;
    };
    assert.equal(empty.n, 0);
    const same = db
      .prepare('SELECT count(*) AS n FROM tlog_entries WHERE dedupe = leaf_hash')
      .get() as { n: number };
    assert.equal(same.n, 301);
    db.close();
  });

  test('a new log is compact: 8 KiB pages, default dedupe keys stored once, partial unique index', async () => {
    const dir = tmp();
    await exerciseDedupe(dir);
    const db = sql(dir);
    assert.equal((db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size, 8192);
    const rows = db
      .prepare('SELECT idx, length(dedupe) AS n FROM tlog_entries ORDER BY idx')
      .all() as Array<{ idx: number; n: number }>;
    // 'a' default key; 'c1' custom [7,7,7]; 'd-custom' custom 32 bytes
    assert.deepEqual(
      rows.map((r) => r.n),
      [0, 3, 32],
    );
    const inIndex = db
      .prepare(
        "SELECT count(*) AS n FROM tlog_entries INDEXED BY tlog_entries_dedupe_key WHERE log = 'rekor' AND dedupe <> x''",
      )
      .get() as { n: number };
    assert.equal(inIndex.n, 2);
    // the database refuses a second row with one custom key, whatever the engine does
    assert.throws(
      () =>
        db
          .prepare(
            "INSERT INTO tlog_entries (log, idx, leaf, leaf_hash, dedupe, itime) VALUES ('rekor', 99, x'00', ?, x'070707', 0)",
          )
          .run(randomBytes(32)),
      /UNIQUE/,
    );
    db.close();
  });

  test('a compact log that older code opened in between (it adds its full dedupe index) still finds its entries', async () => {
    const dir = tmp();
    let log = await open(dir);
    const first = await log.append({ leaf: leaf('only') });
    await log.close();
    const older = sql(dir);
    older.exec(OLD_SCHEMA); // what the older code runs on open
    older.close();
    log = await open(dir);
    const again = await log.append({ leaf: leaf('only') });
    assert.equal(again.duplicate, true);
    assert.equal(again.index, first.index);
    assert.equal((await log.checkpoint()).size, 1);
    await log.close();
  });

  test('storage of a new log is at most 1.3 times the raw entry bytes (1 KiB entries)', async () => {
    const dir = tmp();
    const log = await open(dir);
    const n = 4000;
    for (let i = 0; i < n; i += 500)
      await Promise.all(
        Array.from({ length: 500 }, () => log.append({ leaf: new Uint8Array(randomBytes(1024)) })),
      );
    assert.equal((await log.checkpoint()).size, n);
    await log.close(); // the last connection folds the WAL into the file
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('log.sqlite'));
    const bytes = files.reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
    const ratio = bytes / (n * 1024);
    assert.ok(ratio <= 1.3, `storage is ${ratio.toFixed(3)}x the raw entry bytes`);
  });
});
