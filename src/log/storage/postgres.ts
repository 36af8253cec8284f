/**
 * PostgreSQL adapter (pg). Several processes may append to one log: each sequencing
 * transaction locks the log's row (`SELECT ... FOR UPDATE`), reads the latest tree state
 * under that lock, and writes entries, tiles and the new head before committing, so indices
 * are never handed out twice and the tree never forks. Reads go through the pool and see
 * committed state only.
 */
import pg from 'pg';
import { SignetError } from '../../core/errors.ts';
import type { StoredEntry } from '../types.ts';
import {
  otherTables,
  type ExistingEntry,
  type LogStorage,
  type SequenceTx,
  type TileRow,
  type TreeState,
} from './types.ts';

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

/**
 * Many byte strings as one binary parameter plus offsets and lengths (-1 for NULL): pg sends a
 * Buffer parameter in binary, while a bytea[] goes as hex text, twice the size and parsed by
 * the server; for batches of 1 KiB entries this halves the insert time.
 */
function pack(list: ReadonlyArray<Uint8Array | undefined>): {
  blob: Buffer;
  offsets: number[];
  lengths: number[];
} {
  const offsets: number[] = [];
  const lengths: number[] = [];
  let o = 0;
  for (const b of list) {
    offsets.push(o);
    lengths.push(b ? b.length : -1);
    o += b ? b.length : 0;
  }
  const blob = Buffer.allocUnsafe(o);
  list.forEach((b, i) => {
    if (b) blob.set(b, offsets[i]!);
  });
  return { blob, offsets, lengths };
}

/** SQL for element i of a packed parameter `$blob` with columns `off` and `len` of `u`. */
const unpack = (blob: string, off: string, len: string): string =>
  `CASE WHEN ${len} < 0 THEN NULL ELSE substring(${blob}::bytea FROM ${off} + 1 FOR ${len}) END`;

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

/** Whether the database has the log's row (false too when it has no Signet tables at all). */
async function holdsLog(c: pg.PoolClient, log: string): Promise<boolean> {
  const t = await c.query<{ t: string | null }>(`SELECT to_regclass('tlog_logs')::text AS t`);
  if (!t.rows[0]?.t) return false;
  const r = await c.query('SELECT 1 FROM tlog_logs WHERE name = $1', [log]);
  return r.rows.length > 0;
}

/**
 * The tables and views of the schema Signet's tables go in (the first of the search path)
 * when it holds no `tlog_logs`: a database of something else (types.ts otherTables).
 */
async function otherTablesIn(c: pg.ClientBase): Promise<string[]> {
  const r = await c.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     ORDER BY c.relname`,
  );
  const names = r.rows.map((x) => x.name);
  return names.includes('tlog_logs') ? [] : names;
}

/**
 * Whether the database at `url` holds something else (the error init would refuse it with), or
 * undefined when it is new or Signet's: a read-only look on one connection, taking no lock.
 */
export async function postgresForeign(url: string): Promise<SignetError | undefined> {
  const c = new pg.Client({ connectionString: pgConnectionString(url) });
  await c.connect();
  try {
    const other = await otherTablesIn(c);
    return other.length > 0 ? otherTables(other) : undefined;
  } finally {
    await c.end();
  }
}

export interface PostgresOptions {
  url: string;
  log: string;
  /** Pool size (default 8). */
  maxConnections?: number;
}

/** libpq's sslmode values that pg 8 takes as verify-full (without `uselibpqcompat`). */
const CHECKED_AS_VERIFY_FULL = /[?&]sslmode=(prefer|require|verify-ca)(?=&|#|$)/;

/**
 * The connection string pg is given: `sslmode=prefer`, `require` or `verify-ca` written as the
 * `verify-full` that pg 8 takes them for (TLS, the server's certificate checked for its host
 * name). The same connection, without pg's 10-line SECURITY WARNING on stderr that their
 * meaning will weaken in pg 9; Signet keeps the checked meaning (it fails closed), and
 * sslModeNote says so in the error when the connection fails. `uselibpqcompat=true` (libpq's
 * meanings) is left to pg.
 */
export function pgConnectionString(url: string): string {
  if (/[?&]uselibpqcompat=/.test(url)) return url;
  return url.replace(CHECKED_AS_VERIFY_FULL, (m, mode: string) =>
    m.replace(`sslmode=${mode}`, 'sslmode=verify-full'),
  );
}

/**
 * What a TLS failure needs said for a connection string whose sslmode pg reads as verify-full:
 * libpq's `prefer` would fall back to plain text and `require` would take any certificate.
 */
export function sslModeNote(url: string): string | undefined {
  if (/[?&]uselibpqcompat=/.test(url)) return undefined;
  const mode = CHECKED_AS_VERIFY_FULL.exec(url)?.[1];
  return mode === undefined
    ? undefined
    : `sslmode=${mode} is taken as verify-full: TLS with a certificate trusted for the host name`;
}

export function postgresStorage(opts: PostgresOptions): LogStorage {
  const pool = new pg.Pool({
    connectionString: pgConnectionString(opts.url),
    max: opts.maxConnections ?? 8,
  });
  // An idle client's error (server restart) must not crash the process; queries will retry.
  pool.on('error', () => undefined);
  const log = opts.log;
  /** A query outside a transaction: a database that cannot be reached is a 503, not a 500. */
  const query = <R extends pg.QueryResultRow>(text: string, values: unknown[]) =>
    pool.query<R>(text, values).catch((e: unknown) => {
      throw unreachable(e) ?? e;
    });

  return {
    async init(initial, opts) {
      const create = opts?.create ?? true;
      const c = await pool.connect();
      try {
        // A log that must exist is looked for first, read-only: a wrong database is refused
        // with no table created in it.
        if (!create && !(await holdsLog(c, log))) return undefined;
        await c.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
        try {
          // Under the lock: a first start beside this one has made all of the schema or none.
          const other = await otherTablesIn(c);
          if (other.length > 0) throw otherTables(other);
          await c.query(SCHEMA);
          const s = initial();
          if (create)
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
        return r.rows[0] && toState(r.rows[0]);
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
            const k = pack(keys);
            const q = await c.query<{
              idx: string;
              leaf_hash: Buffer;
              itime: string;
              dedupe: Buffer;
            }>(
              `SELECT e.idx, e.leaf_hash, e.itime, e.dedupe FROM tlog_entries e
               WHERE e.log = $1 AND e.dedupe IN (
                 SELECT ${unpack('$2', 'u.off', 'u.len')} FROM unnest($3::int[], $4::int[]) AS u(off, len))`,
              [log, k.blob, k.offsets, k.lengths],
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
          async readLeafHashes(from, to) {
            const q = await c.query<{ leaf_hash: Buffer }>(
              'SELECT leaf_hash FROM tlog_entries WHERE log = $1 AND idx >= $2 AND idx < $3 ORDER BY idx',
              [log, from, to],
            );
            return q.rows.map((x) => u8(x.leaf_hash));
          },
          async insertEntries(entries) {
            if (entries.length === 0) return;
            const leaves = pack(entries.map((e) => e.leaf));
            const hashes = pack(entries.map((e) => e.leafHash));
            const dedupe = pack(entries.map((e) => e.dedupeKey));
            const extra = pack(entries.map((e) => e.extra));
            await c.query(
              `INSERT INTO tlog_entries (log, idx, leaf, leaf_hash, dedupe, itime, extra)
               SELECT $1, u.idx, ${unpack('$3', 'u.lo', 'u.ll')}, ${unpack('$6', 'u.ho', 'u.hl')},
                      ${unpack('$9', 'u.do', 'u.dl')}, u.itime, ${unpack('$12', 'u.xo', 'u.xl')}
               FROM unnest($2::bigint[], $4::int[], $5::int[], $7::int[], $8::int[], $10::int[],
                           $11::int[], $13::bigint[], $14::int[], $15::int[])
                 AS u(idx, lo, ll, ho, hl, "do", dl, itime, xo, xl)`,
              [
                log,
                entries.map((e) => e.index),
                leaves.blob,
                leaves.offsets,
                leaves.lengths,
                hashes.blob,
                hashes.offsets,
                hashes.lengths,
                dedupe.blob,
                dedupe.offsets,
                dedupe.lengths,
                extra.blob,
                entries.map((e) => e.integratedTime),
                extra.offsets,
                extra.lengths,
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
            const data = pack(tiles.map((t) => t.data));
            await c.query(
              `INSERT INTO tlog_tiles (log, level, idx, data)
               SELECT $1, u.level, u.idx, ${unpack('$4', 'u.o', 'u.l')}
               FROM unnest($2::int[], $3::bigint[], $5::int[], $6::int[]) AS u(level, idx, o, l)
               ON CONFLICT (log, level, idx) DO UPDATE SET data = EXCLUDED.data`,
              [
                log,
                tiles.map((t) => t.level),
                tiles.map((t) => t.index),
                data.blob,
                data.offsets,
                data.lengths,
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
      await query('UPDATE tlog_logs SET checkpoint = $1 WHERE name = $2 AND size = $3', [
        checkpoint,
        log,
        size,
      ]);
    },

    async updateSearchKeys(changes) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const c of changes) {
          if (c.remove.length > 0)
            await client.query(
              'DELETE FROM tlog_search WHERE log = $1 AND idx = $2 AND skey = ANY($3::text[])',
              [log, c.index, c.remove],
            );
          if (c.add.length > 0)
            await client.query(
              `INSERT INTO tlog_search (log, skey, idx) SELECT $1, k, $2 FROM unnest($3::text[]) AS k
               ON CONFLICT DO NOTHING`,
              [log, c.index, c.add],
            );
        }
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },

    async state() {
      const r = await query<StateRow>(
        'SELECT size, root, checkpoint FROM tlog_logs WHERE name = $1',
        [log],
      );
      if (r.rows.length === 0) throw new Error(`log ${log} is not initialized`);
      return toState(r.rows[0]!);
    },
    async entry(index) {
      const r = await query<EntryRow>(
        'SELECT idx, leaf, leaf_hash, itime, extra FROM tlog_entries WHERE log = $1 AND idx = $2',
        [log, index],
      );
      return toEntry(r.rows[0]);
    },
    async entryByLeafHash(h) {
      const r = await query<EntryRow>(
        'SELECT idx, leaf, leaf_hash, itime, extra FROM tlog_entries WHERE log = $1 AND leaf_hash = $2 ORDER BY idx LIMIT 1',
        [log, buf(h)],
      );
      return toEntry(r.rows[0]);
    },
    async leaves(from, to) {
      const r = await query<{ leaf: Buffer }>(
        'SELECT leaf FROM tlog_entries WHERE log = $1 AND idx >= $2 AND idx < $3 ORDER BY idx',
        [log, from, to],
      );
      return r.rows.map((x) => u8(x.leaf));
    },
    async leafHashes(from, to) {
      const r = await query<{ leaf_hash: Buffer }>(
        'SELECT leaf_hash FROM tlog_entries WHERE log = $1 AND idx >= $2 AND idx < $3 ORDER BY idx',
        [log, from, to],
      );
      return r.rows.map((x) => u8(x.leaf_hash));
    },
    async tile(level, index) {
      const r = await query<{ data: Buffer }>(
        'SELECT data FROM tlog_tiles WHERE log = $1 AND level = $2 AND idx = $3',
        [log, level, index],
      );
      return r.rows[0] ? u8(r.rows[0].data) : undefined;
    },
    async search(key) {
      const r = await query<{ idx: string }>(
        'SELECT idx FROM tlog_search WHERE log = $1 AND skey = $2 ORDER BY idx',
        [log, key],
      );
      return r.rows.map((x) => Number(x.idx));
    },
    async searchRows(after, limit) {
      const r = await query<{ skey: string; idx: string }>(
        'SELECT skey, idx FROM tlog_search WHERE log = $1 AND (skey, idx) > ($2, $3) ORDER BY skey, idx LIMIT $4',
        [log, after.key, after.index, limit],
      );
      return r.rows.map((x) => ({ key: x.skey, index: Number(x.idx) }));
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * The error for a query that failed because the database cannot be reached (refused, reset,
 * timed out, shut down: node's socket codes and PostgreSQL's class 08 and 57P0x), or undefined
 * for any other failure.
 */
function unreachable(e: unknown): SignetError | undefined {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  const down =
    (typeof code === 'string' &&
      (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)$/.test(code) ||
        /^(08|57P0)/.test(code))) ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(message);
  return down
    ? new SignetError(
        'unavailable',
        'STORE_UNAVAILABLE',
        `the log's PostgreSQL database cannot be reached: ${message}`,
        { cause: e },
      )
    : undefined;
}
