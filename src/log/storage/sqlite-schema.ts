/**
 * The SQLite schema of the log tables (see types.ts), and its two shapes.
 *
 * A database created by this code (the "compact" shape) differs from one created before it:
 *   - 8 KiB pages: a table row is about 1.1 KiB (a 1 KiB entry plus its hashes), and a 4 KiB
 *     page holds only three of them, leaving a fifth of every page empty; an 8 KiB page holds
 *     seven (page_size only applies to a new, empty database: an old one keeps its pages).
 *   - `dedupe` is the empty blob when the dedupe key is the leaf hash (the default), and the
 *     unique index over dedupe keys is partial (non-empty keys only): otherwise every entry's
 *     leaf hash is stored and indexed twice. Such entries are found through the leaf-hash index.
 *     Two entries never share an effective dedupe key because sequencing looks every key up
 *     (both ways) under the database write lock before it inserts (engine.ts #sequence).
 * A database with the old full index `tlog_entries_dedupe` keeps it and keeps storing every
 * dedupe key in full, so data folders made before stay readable and writable as they are (no
 * rebuild on open). Lookups ask both ways in either shape: older code that opens a compact
 * database adds its full index (or, with two default-key entries, refuses to open it), and
 * the entries written before that are in the compact form.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { describeSystemError, SignetError } from '../../core/errors.ts';
import { storedSearchKey } from '../search-key.ts';
import { otherTables } from './types.ts';

export const PAGE_SIZE = 8192;

const TABLES = `
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

/**
 * What a database file holds, read before anything opens it for writing: nothing yet (no file,
 * an empty one, or a database without tables), which applySchema makes a log store; Signet's
 * log tables (every version made them together, `tlog_logs` first); or something else, which
 * Signet adds no tables to. Read-only, so the file is left as it was whatever it holds. A file
 * that cannot be read is a STORE_UNAVAILABLE error in one line naming it: SQLite's own text
 * ("disk I/O error", "unable to open database file") names neither the file nor the reason.
 *
 * A symbolic link is followed (a database kept on another disk), and the database's log and
 * journal are looked for beside its target, where SQLite keeps them. A link to nothing is
 * refused: SQLite would create its target, a new empty log wherever the link points.
 *
 * SQLite's read-only look at a database in WAL mode leaves its WAL index and an empty log
 * beside it. `leaveNoFiles`, for a look ahead of time (the look before writing is repeated),
 * reads a file with no log or journal beside it as it is on disk, creating nothing: exact
 * unless a writer starts meanwhile.
 */
export function storeContents(
  file: string,
  opts: { leaveNoFiles?: boolean } = {},
): { kind: 'new' } | { kind: 'signet' } | { kind: 'other'; error: SignetError } {
  if (!fs.existsSync(file) && !isSymlink(file)) return { kind: 'new' };
  const unreadable = (reason: string, cause?: unknown): SignetError =>
    new SignetError('unavailable', 'STORE_UNAVAILABLE', `cannot read ${file}: ${reason}`, {
      cause,
    });
  let real: string;
  try {
    // SQLite would fail on a folder with "disk I/O error" and wait forever on a FIFO.
    const st = fs.statSync(file);
    if (st.isDirectory()) throw unreadable('it is a folder, not a SQLite database file');
    if (!st.isFile()) throw unreadable('it is not a regular file (a FIFO, socket or device)');
    fs.accessSync(file, fs.constants.R_OK);
    real = fs.realpathSync(file);
  } catch (e) {
    if (e instanceof SignetError) throw e;
    if (isSymlink(file)) throw unreadable(brokenLink(file, e), e);
    throw unreadable(describeSystemError(e, 'the file'), e);
  }
  let db: DatabaseSync | undefined;
  try {
    const alone = !fs.existsSync(`${real}-wal`) && !fs.existsSync(`${real}-journal`);
    db = new DatabaseSync(opts.leaveNoFiles && alone ? immutable(file) : file, { readOnly: true });
    db.exec('PRAGMA busy_timeout = 10000');
    // Indexes and triggers belong to tables: tables and views say what a database holds.
    const rows = db
      .prepare("SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name")
      .all() as Array<{ type: string; name: string }>;
    if (rows.some((r) => r.type === 'table' && r.name === 'tlog_logs')) return { kind: 'signet' };
    if (rows.length === 0) return { kind: 'new' };
    return { kind: 'other', error: otherTables(rows.map((r) => r.name)) };
  } catch (e) {
    // Not SQLite at all (SQLITE_NOTADB): as foreign as another application's tables.
    if ((e as { errcode?: unknown }).errcode === 26)
      return {
        kind: 'other',
        error: new SignetError('conflict', 'STORE_NOT_SIGNET', 'is not a SQLite database', {
          cause: e,
        }),
      };
    throw unreadable(`SQLite cannot read it (${(e as Error).message})`, e);
  } finally {
    db?.close();
  }
}

/** Whether `file` is a symbolic link, to something or to nothing (fs.existsSync follows it). */
export function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Why a link cannot be opened, naming where it points (a disk that is not mounted, often). */
function brokenLink(file: string, e: unknown): string {
  const target = path.resolve(path.dirname(file), fs.readlinkSync(file));
  return (e as NodeJS.ErrnoException).code === 'ENOENT'
    ? `it is a symbolic link to ${target}, which does not exist (is its disk mounted?); put the database there, or remove the link for a new log in the data folder`
    : `it is a symbolic link to ${target}: ${describeSystemError(e, 'its target')}`;
}

/** SQLite's URI for reading `file` without locks or a WAL index (it must not change meanwhile). */
function immutable(file: string): URL {
  const u = pathToFileURL(file);
  u.searchParams.set('immutable', '1');
  return u;
}

/** The index of databases created before the compact shape: every dedupe key, in full. */
export const OLD_DEDUPE_INDEX = 'tlog_entries_dedupe';

/** Non-empty dedupe keys only; queries must repeat the condition to use it. */
const COMPACT_DEDUPE_INDEX = `CREATE UNIQUE INDEX IF NOT EXISTS tlog_entries_dedupe_key
  ON tlog_entries (log, dedupe) WHERE dedupe <> x''`;

/** The DDL of a new (compact) database, e.g. to key caches of filled logs on. */
export const SCHEMA = `PRAGMA page_size = ${PAGE_SIZE};${TABLES}${COMPACT_DEDUPE_INDEX};\n`;

/**
 * Creates what is missing, in one write transaction (several processes may open a new file at
 * once). Must run before anything else on a new file: the page size is fixed by the first
 * write. Returns whether the database has the compact shape.
 */
export function applySchema(db: DatabaseSync): { compact: boolean } {
  db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('BEGIN IMMEDIATE');
  try {
    const old = db
      .prepare("SELECT 1 AS x FROM sqlite_schema WHERE type = 'index' AND name = ?")
      .get(OLD_DEDUPE_INDEX);
    db.exec(TABLES);
    if (!old) db.exec(COMPACT_DEDUPE_INDEX);
    storeSearchKeysEscaped(db);
    db.exec('COMMIT');
    return { compact: !old };
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

/** PRAGMA user_version from which search keys are in their stored form (../search-key.ts). */
const ESCAPED_KEYS_VERSION = 1;

/**
 * Search keys holding U+0000 were stored as they are before the stored form escaped them
 * (SQLite can hold them; PostgreSQL never could): rewritten once per file, so a search, which
 * asks in the stored form, finds the entries indexed before. (A key starting with U+0001, the
 * other escaped kind, no search key of Signet's ever did.)
 */
function storeSearchKeysEscaped(db: DatabaseSync): void {
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as {
    user_version: number;
  };
  if (version >= ESCAPED_KEYS_VERSION) return;
  const rows = db
    .prepare('SELECT log, skey, idx FROM tlog_search WHERE instr(skey, char(0)) > 0')
    .all() as Array<{ log: string; skey: string; idx: number }>;
  const remove = db.prepare('DELETE FROM tlog_search WHERE log = ? AND skey = ? AND idx = ?');
  const add = db.prepare('INSERT OR IGNORE INTO tlog_search (log, skey, idx) VALUES (?, ?, ?)');
  for (const r of rows) {
    remove.run(r.log, r.skey, r.idx);
    const stored = storedSearchKey(r.skey);
    if (stored !== undefined) add.run(r.log, stored, r.idx);
  }
  db.exec(`PRAGMA user_version = ${ESCAPED_KEYS_VERSION}`);
}
