/**
 * SQLite adapter (node:sqlite): one file in the data folder, WAL journal, `synchronous=FULL`
 * so a committed batch survives a crash of the process or the machine. A writer connection
 * runs sequencing transactions (BEGIN IMMEDIATE takes the database write lock, which is also
 * what serializes several processes); a second connection serves reads, so readers only ever
 * see committed state.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { StoredEntry } from '../types.ts';
import type {
  ExistingEntry,
  LogStorage,
  NewEntry,
  SequenceTx,
  TileRow,
  TreeState,
} from './types.ts';

const SCHEMA = `
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
  extra BLOB,
  PRIMARY KEY (log, idx)
) WITHOUT ROWID;
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

// Sequencing transactions of every log in one file are serialized in-process: a second
// BEGIN IMMEDIATE on the same thread would block it in busy-wait while the first awaits.
const fileLocks = new Map<string, Promise<unknown>>();

function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = fileLocks.get(file) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  fileLocks.set(file, tail);
  void tail.then(() => {
    if (fileLocks.get(file) === tail) fileLocks.delete(file);
  });
  return run;
}

function open(file: string, synchronous: 'FULL' | 'NORMAL'): DatabaseSync {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA busy_timeout = 10000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${synchronous}`);
  return db;
}

const u8 = (v: unknown): Uint8Array => v as Uint8Array;

export interface SqliteOptions {
  /** The database file (created with its folder). */
  file: string;
  /** The log's name; several logs can share one file. */
  log: string;
  /** `FULL` (default) fsyncs every commit; `NORMAL` survives process crashes only. */
  synchronous?: 'FULL' | 'NORMAL';
}

export function sqliteStorage(opts: SqliteOptions): LogStorage {
  const file = path.resolve(opts.file);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const sync = opts.synchronous ?? 'FULL';
  const writer = open(file, sync);
  writer.exec(SCHEMA);
  const reader = open(file, sync);
  const log = opts.log;

  const w = {
    state: writer.prepare('SELECT size, root, checkpoint FROM tlog_logs WHERE name = ?'),
    dedupe: writer.prepare(
      'SELECT idx, leaf_hash, itime, dedupe FROM tlog_entries WHERE log = ? AND dedupe = ?',
    ),
    tile: writer.prepare('SELECT data FROM tlog_tiles WHERE log = ? AND level = ? AND idx = ?'),
    insertEntry: writer.prepare(
      'INSERT INTO tlog_entries (log, idx, leaf, leaf_hash, dedupe, itime, extra) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertSearch: writer.prepare(
      'INSERT OR IGNORE INTO tlog_search (log, skey, idx) VALUES (?, ?, ?)',
    ),
    upsertTile: writer.prepare(
      'INSERT INTO tlog_tiles (log, level, idx, data) VALUES (?, ?, ?, ?) ON CONFLICT (log, level, idx) DO UPDATE SET data = excluded.data',
    ),
    setState: writer.prepare(
      'UPDATE tlog_logs SET size = ?, root = ?, checkpoint = ? WHERE name = ? AND size = ?',
    ),
    insertLog: writer.prepare(
      'INSERT OR IGNORE INTO tlog_logs (name, size, root, checkpoint) VALUES (?, ?, ?, ?)',
    ),
    replaceCheckpoint: writer.prepare(
      'UPDATE tlog_logs SET checkpoint = ? WHERE name = ? AND size = ?',
    ),
  };
  const r = {
    state: reader.prepare('SELECT size, root, checkpoint FROM tlog_logs WHERE name = ?'),
    entry: reader.prepare(
      'SELECT idx, leaf, leaf_hash, itime, extra FROM tlog_entries WHERE log = ? AND idx = ?',
    ),
    byHash: reader.prepare(
      'SELECT idx, leaf, leaf_hash, itime, extra FROM tlog_entries WHERE log = ? AND leaf_hash = ? ORDER BY idx LIMIT 1',
    ),
    leaves: reader.prepare(
      'SELECT leaf FROM tlog_entries WHERE log = ? AND idx >= ? AND idx < ? ORDER BY idx',
    ),
    tile: reader.prepare('SELECT data FROM tlog_tiles WHERE log = ? AND level = ? AND idx = ?'),
    search: reader.prepare('SELECT idx FROM tlog_search WHERE log = ? AND skey = ? ORDER BY idx'),
  };

  const readState = (stmt: StatementSync): TreeState | undefined => {
    const row = stmt.get(log) as { size: number; root: Uint8Array; checkpoint: string } | undefined;
    return row ? { size: row.size, rootHash: u8(row.root), checkpoint: row.checkpoint } : undefined;
  };
  const toEntry = (row: Record<string, unknown> | undefined): StoredEntry | undefined => {
    if (!row) return undefined;
    const e: StoredEntry = {
      index: row.idx as number,
      leaf: u8(row.leaf),
      leafHash: u8(row.leaf_hash),
      integratedTime: row.itime as number,
    };
    if (row.extra != null) e.extra = u8(row.extra);
    return e;
  };

  let closed = false;

  return {
    async init(initial) {
      writer.exec('BEGIN IMMEDIATE');
      try {
        if (!readState(w.state)) {
          const s = initial();
          w.insertLog.run(log, s.size, s.rootHash, s.checkpoint);
        }
        writer.exec('COMMIT');
      } catch (e) {
        writer.exec('ROLLBACK');
        throw e;
      }
      return readState(r.state)!;
    },

    sequence(fn) {
      return withFileLock(file, async () => {
        writer.exec('BEGIN IMMEDIATE');
        try {
          const state = readState(w.state);
          if (!state) throw new Error(`log ${log} is not initialized`);
          const tx: SequenceTx = {
            state,
            async findByDedupeKeys(keys) {
              const out: ExistingEntry[] = [];
              for (const k of keys) {
                const row = w.dedupe.get(log, k) as Record<string, unknown> | undefined;
                if (row)
                  out.push({
                    index: row.idx as number,
                    leafHash: u8(row.leaf_hash),
                    integratedTime: row.itime as number,
                    dedupeKey: u8(row.dedupe),
                  });
              }
              return out;
            },
            async readTiles(coords) {
              const out: TileRow[] = [];
              for (const c of coords) {
                const row = w.tile.get(log, c.level, c.index) as { data: Uint8Array } | undefined;
                if (row) out.push({ level: c.level, index: c.index, data: row.data });
              }
              return out;
            },
            async insertEntries(entries: NewEntry[]) {
              for (const e of entries) {
                w.insertEntry.run(
                  log,
                  e.index,
                  e.leaf,
                  e.leafHash,
                  e.dedupeKey,
                  e.integratedTime,
                  e.extra ?? null,
                );
                for (const k of e.searchKeys) w.insertSearch.run(log, k, e.index);
              }
            },
            async writeTiles(tiles) {
              for (const t of tiles) w.upsertTile.run(log, t.level, t.index, t.data);
            },
            async setState(s) {
              const res = w.setState.run(s.size, s.rootHash, s.checkpoint, log, state.size);
              if (Number(res.changes) !== 1) throw new Error('log state changed under the lock');
            },
          };
          const out = await fn(tx);
          writer.exec('COMMIT');
          return out;
        } catch (e) {
          if (writer.isTransaction) writer.exec('ROLLBACK');
          throw e;
        }
      });
    },

    async replaceCheckpoint(size, checkpoint) {
      await withFileLock(file, async () => {
        w.replaceCheckpoint.run(checkpoint, log, size);
      });
    },

    async state() {
      const s = readState(r.state);
      if (!s) throw new Error(`log ${log} is not initialized`);
      return s;
    },
    async entry(index) {
      return toEntry(r.entry.get(log, index) as Record<string, unknown> | undefined);
    },
    async entryByLeafHash(h) {
      return toEntry(r.byHash.get(log, h) as Record<string, unknown> | undefined);
    },
    async leaves(from, to) {
      return (r.leaves.all(log, from, to) as Array<{ leaf: Uint8Array }>).map((x) => x.leaf);
    },
    async tile(level, index) {
      const row = r.tile.get(log, level, index) as { data: Uint8Array } | undefined;
      return row?.data;
    },
    async search(key) {
      return (r.search.all(log, key) as Array<{ idx: number }>).map((x) => x.idx);
    },
    async close() {
      if (closed) return;
      closed = true;
      await withFileLock(file, async () => {
        reader.close();
        writer.close();
      });
    },
  };
}
