/**
 * PostgreSQL adapter (pg). Several processes may append to one log: each sequencing
 * transaction locks the log's row (`SELECT ... FOR UPDATE`), reads the latest tree state
 * under that lock, and writes entries, tiles and the new head before committing, so indices
 * are never handed out twice and the tree never forks. Reads go through the pool and see
 * committed state only.
 */
import pg from 'pg';
import type { StoredEntry } from '../types.ts';
import type { ExistingEntry, LogStorage, SequenceTx, TileRow, TreeState } from './types.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tlog_logs (
  name TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  root BYTEA NOT NULL,
  checkpoint TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_entries (
  log TEXT NOT NULL,
  idx BIGINT NOT NULL,
  leaf BYTEA NOT NULL,
  leaf_hash BYTEA NOT NULL,
  dedupe BYTEA NOT NULL,
  itime BIGINT NOT NULL,
  extra BYTEA,
  PRIMARY KEY (log, idx)
);
CREATE UNIQUE INDEX IF NOT EXISTS tlog_entries_dedupe ON tlog_entries (log, dedupe);
CREATE INDEX IF NOT EXISTS tlog_entries_leaf_hash ON tlog_entries (log, leaf_hash);
CREATE TABLE IF NOT EXISTS tlog_search (
  log TEXT NOT NULL,
  skey TEXT NOT NULL,
  idx BIGINT NOT NULL,
  PRIMARY KEY (log, skey, idx)
);
CREATE TABLE IF NOT EXISTS tlog_tiles (
  log TEXT NOT NULL,
  level INT NOT NULL,
  idx BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (log, level, idx)
);
`;

/** Advisory lock key for schema creation (concurrent CREATE IF NOT EXISTS can collide). */
const SCHEMA_LOCK = 0x5167_6e74;

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

interface StateRow {
  size: string;
  root: Buffer;
  checkpoint: string;
}
const toState = (row: StateRow): TreeState => ({
  size: Number(row.size),
  rootHash: u8(row.root),
  checkpoint: row.checkpoint,
});

interface EntryRow {
  idx: string;
  leaf: Buffer;
  leaf_hash: Buffer;
  itime: string;
  extra: Buffer | null;
}
const toEntry = (row: EntryRow | undefined): StoredEntry | undefined => {
  if (!row) return undefined;
  const e: StoredEntry = {
    index: Number(row.idx),
    leaf: u8(row.leaf),
    leafHash: u8(row.leaf_hash),
    integratedTime: Number(row.itime),
  };
  if (row.extra) e.extra = u8(row.extra);
  return e;
};

export interface PostgresOptions {
  url: string;
  log: string;
  /** Pool size (default 8). */
  maxConnections?: number;
}

export function postgresStorage(opts: PostgresOptions): LogStorage {
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.maxConnections ?? 8 });
  // An idle client's error (server restart) must not crash the process; queries will retry.
  pool.on('error', () => undefined);
  const log = opts.log;

  return {
    async init(initial) {
      const c = await pool.connect();
      try {
        await c.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
        try {
          await c.query(SCHEMA);
          const s = initial();
          await c.query(
            'INSERT INTO tlog_logs (name, size, root, checkpoint) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING',
            [log, s.size, buf(s.rootHash), s.checkpoint],
          );
        } finally {
          await c.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]);
        }
        const r = await c.query<StateRow>(
          'SELECT size, root, checkpoint FROM tlog_logs WHERE name = $1',
          [log],
        );
        return toState(r.rows[0]!);
      } finally {
        c.release();
      }
    },

    async sequence(fn) {
      const c = await pool.connect();
      let broken = false;
      try {
        await c.query('BEGIN');
        const r = await c.query<StateRow>(
          'SELECT size, root, checkpoint FROM tlog_logs WHERE name = $1 FOR UPDATE',
          [log],
        );
        if (r.rows.length === 0) throw new Error(`log ${log} is not initialized`);
        const state = toState(r.rows[0]!);
        const tx: SequenceTx = {
          state,
          async findByDedupeKeys(keys) {
            if (keys.length === 0) return [];
            const q = await c.query<{
              idx: string;
              leaf_hash: Buffer;
              itime: string;
              dedupe: Buffer;
            }>(
              'SELECT idx, leaf_hash, itime, dedupe FROM tlog_entries WHERE log = $1 AND dedupe = ANY($2::bytea[])',
              [log, keys.map(buf)],
            );
            return q.rows.map((x): ExistingEntry => ({
              index: Number(x.idx),
              leafHash: u8(x.leaf_hash),
              integratedTime: Number(x.itime),
              dedupeKey: u8(x.dedupe),
            }));
          },
          async readTiles(coords) {
            if (coords.length === 0) return [];
            const q = await c.query<{ level: number; idx: string; data: Buffer }>(
              'SELECT t.level, t.idx, t.data FROM tlog_tiles t JOIN unnest($2::int[], $3::bigint[]) AS w(level, idx) ON t.level = w.level AND t.idx = w.idx WHERE t.log = $1',
              [log, coords.map((x) => x.level), coords.map((x) => x.index)],
            );
            return q.rows.map((x): TileRow => ({
              level: x.level,
              index: Number(x.idx),
              data: u8(x.data),
            }));
          },
          async insertEntries(entries) {
            if (entries.length === 0) return;
            await c.query(
              `INSERT INTO tlog_entries (log, idx, leaf, leaf_hash, dedupe, itime, extra)
               SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bigint[], $7::bytea[])`,
              [
                log,
                entries.map((e) => e.index),
                entries.map((e) => buf(e.leaf)),
                entries.map((e) => buf(e.leafHash)),
                entries.map((e) => buf(e.dedupeKey)),
                entries.map((e) => e.integratedTime),
                entries.map((e) => (e.extra ? buf(e.extra) : null)),
              ],
            );
            const keys: string[] = [];
            const idx: number[] = [];
            for (const e of entries)
              for (const k of new Set(e.searchKeys)) {
                keys.push(k);
                idx.push(e.index);
              }
            if (keys.length > 0)
              await c.query(
                `INSERT INTO tlog_search (log, skey, idx) SELECT $1, * FROM unnest($2::text[], $3::bigint[])
                 ON CONFLICT DO NOTHING`,
                [log, keys, idx],
              );
          },
          async writeTiles(tiles) {
            if (tiles.length === 0) return;
            await c.query(
              `INSERT INTO tlog_tiles (log, level, idx, data) SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::bytea[])
               ON CONFLICT (log, level, idx) DO UPDATE SET data = EXCLUDED.data`,
              [
                log,
                tiles.map((t) => t.level),
                tiles.map((t) => t.index),
                tiles.map((t) => buf(t.data)),
              ],
            );
          },
          async setState(s) {
            const q = await c.query(
              'UPDATE tlog_logs SET size = $1, root = $2, checkpoint = $3 WHERE name = $4 AND size = $5',
              [s.size, buf(s.rootHash), s.checkpoint, log, state.size],
            );
            if (q.rowCount !== 1) throw new Error('log state changed under the lock');
          },
        };
        const out = await fn(tx);
        await c.query('COMMIT');
        return out;
      } catch (e) {
        try {
          await c.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw e;
      } finally {
        c.release(broken);
      }
    },

    async replaceCheckpoint(size, checkpoint) {
      await pool.query('UPDATE tlog_logs SET checkpoint = $1 WHERE name = $2 AND size = $3', [
        checkpoint,
        log,
        size,
      ]);
    },

    async state() {
      const r = await pool.query<StateRow>(
        'SELECT size, root, checkpoint FROM tlog_logs WHERE name = $1',
        [log],
      );
      if (r.rows.length === 0) throw new Error(`log ${log} is not initialized`);
      return toState(r.rows[0]!);
    },
    async entry(index) {
      const r = await pool.query<EntryRow>(
        'SELECT idx, leaf, leaf_hash, itime, extra FROM tlog_entries WHERE log = $1 AND idx = $2',
        [log, index],
      );
      return toEntry(r.rows[0]);
    },
    async entryByLeafHash(h) {
      const r = await pool.query<EntryRow>(
        'SELECT idx, leaf, leaf_hash, itime, extra FROM tlog_entries WHERE log = $1 AND leaf_hash = $2 ORDER BY idx LIMIT 1',
        [log, buf(h)],
      );
      return toEntry(r.rows[0]);
    },
    async leaves(from, to) {
      const r = await pool.query<{ leaf: Buffer }>(
        'SELECT leaf FROM tlog_entries WHERE log = $1 AND idx >= $2 AND idx < $3 ORDER BY idx',
        [log, from, to],
      );
      return r.rows.map((x) => u8(x.leaf));
    },
    async tile(level, index) {
      const r = await pool.query<{ data: Buffer }>(
        'SELECT data FROM tlog_tiles WHERE log = $1 AND level = $2 AND idx = $3',
        [log, level, index],
      );
      return r.rows[0] ? u8(r.rows[0].data) : undefined;
    },
    async search(key) {
      const r = await pool.query<{ idx: string }>(
        'SELECT idx FROM tlog_search WHERE log = $1 AND skey = $2 ORDER BY idx',
        [log, key],
      );
      return r.rows.map((x) => Number(x.idx));
    },
    async close() {
      await pool.end();
    },
  };
}
