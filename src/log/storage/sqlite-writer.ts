/**
 * The SQLite writer, run in a worker thread (see sqlite.ts): node:sqlite is synchronous, and a
 * commit with `synchronous=FULL` waits for fsync; doing that on the main thread would stall
 * every HTTP request for as long. The main thread sends one message per step of a sequencing
 * transaction; this thread owns the writer connection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { applySchema } from './sqlite-schema.ts';
import { type PackedBytes, unpackedAt } from '../../core/encoding/packed-bytes.ts';
import { type PackedEntries, sameBytes } from './sqlite-batch.ts';
import type { ExistingEntry, SearchKeyChange, TileRow, TreeState } from './types.ts';

interface Init {
  file: string;
  log: string;
  synchronous: 'FULL' | 'NORMAL';
}

const { file, log, synchronous } = workerData as Init;
const db = new DatabaseSync(file);
db.exec('PRAGMA busy_timeout = 10000');
const { compact } = applySchema(db);
db.exec(`PRAGMA synchronous = ${synchronous}`);
// Each batch looks up and inserts its keys at random places in the hash indexes; with
// SQLite's default 2 MB cache, the upper levels of those B-trees leave it at every batch of
// a large log. 16 MiB keeps them (the interior pages of a 10M-entry leaf-hash index are
// about 6 MiB); it bounds this process's memory whatever the log's size.
db.exec('PRAGMA cache_size = -16384');
/** The empty dedupe blob: "the dedupe key is the leaf hash" (sqlite-schema.ts). */
const SAME_AS_LEAF_HASH = new Uint8Array(0);

const q = {
  state: db.prepare('SELECT size, root, checkpoint FROM tlog_logs WHERE name = ?'),
  // `dedupe <> x''` lets SQLite use the partial index (it is true of every key looked up).
  dedupe: db.prepare(
    "SELECT idx, leaf_hash, itime FROM tlog_entries WHERE log = ? AND dedupe = ? AND dedupe <> x''",
  ),
  dedupeByLeafHash: db.prepare(
    "SELECT idx, leaf_hash, itime FROM tlog_entries WHERE log = ? AND leaf_hash = ? AND dedupe = x''",
  ),
  tile: db.prepare('SELECT data FROM tlog_tiles WHERE log = ? AND level = ? AND idx = ?'),
  leafHashes: db.prepare(
    'SELECT leaf_hash FROM tlog_entries WHERE log = ? AND idx >= ? AND idx < ? ORDER BY idx',
  ),
  insertEntry: db.prepare(
    'INSERT INTO tlog_entries (log, idx, leaf, leaf_hash, dedupe, itime, extra) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ),
  insertSearch: db.prepare('INSERT OR IGNORE INTO tlog_search (log, skey, idx) VALUES (?, ?, ?)'),
  deleteSearch: db.prepare('DELETE FROM tlog_search WHERE log = ? AND skey = ? AND idx = ?'),
  upsertTile: db.prepare(
    'INSERT INTO tlog_tiles (log, level, idx, data) VALUES (?, ?, ?, ?) ON CONFLICT (log, level, idx) DO UPDATE SET data = excluded.data',
  ),
  setState: db.prepare(
    'UPDATE tlog_logs SET size = ?, root = ?, checkpoint = ? WHERE name = ? AND size = ?',
  ),
  insertLog: db.prepare(
    'INSERT OR IGNORE INTO tlog_logs (name, size, root, checkpoint) VALUES (?, ?, ?, ?)',
  ),
  replaceCheckpoint: db.prepare('UPDATE tlog_logs SET checkpoint = ? WHERE name = ? AND size = ?'),
};

function readState(): TreeState | undefined {
  const row = q.state.get(log) as
    { size: number; root: Uint8Array; checkpoint: string } | undefined;
  return row ? { size: row.size, rootHash: row.root, checkpoint: row.checkpoint } : undefined;
}

type Op =
  | { op: 'init'; initial: TreeState; create: boolean }
  | { op: 'begin'; keys?: PackedBytes }
  | { op: 'dedupe'; keys: PackedBytes }
  | { op: 'readTiles'; coords: Array<{ level: number; index: number }> }
  | { op: 'leafHashes'; from: number; to: number }
  | {
      op: 'commit';
      entries: PackedEntries;
      tiles: TileRow[];
      state?: TreeState;
      prevSize: number;
    }
  | { op: 'rollback' }
  | { op: 'replaceCheckpoint'; size: number; checkpoint: string }
  | { op: 'updateSearchKeys'; changes: SearchKeyChange[] }
  | { op: 'close' };

function dedupe(packed: PackedBytes): ExistingEntry[] {
  const out: ExistingEntry[] = [];
  for (let i = 0; i < packed.ends.length; i++) {
    const k = unpackedAt(packed, i);
    if (k.length === 0) throw new Error('a dedupe key is empty');
    let row = q.dedupe.get(log, k) as Record<string, unknown> | undefined;
    // Asked in both shapes: a database that was opened by older code in between may hold
    // entries of either form.
    if (!row && k.length === 32)
      row = q.dedupeByLeafHash.get(log, k) as Record<string, unknown> | undefined;
    if (row)
      out.push({
        index: row.idx as number,
        leafHash: row.leaf_hash as Uint8Array,
        integratedTime: row.itime as number,
        dedupeKey: k.slice(), // not a view: the answer would carry every key's bytes
      });
  }
  return out;
}

function handle(m: Op): unknown {
  switch (m.op) {
    case 'init': {
      db.exec('BEGIN IMMEDIATE');
      try {
        if (!readState() && m.create)
          q.insertLog.run(log, m.initial.size, m.initial.rootHash, m.initial.checkpoint);
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
      return readState();
    }
    case 'begin': {
      db.exec('BEGIN IMMEDIATE');
      const state = readState();
      if (!state) {
        db.exec('ROLLBACK');
        throw new Error(`log ${log} is not initialized`);
      }
      if (!m.keys) return { state };
      try {
        // the batch's dedupe lookups, read under the same lock in the same round trip
        return { state, existing: dedupe(m.keys) };
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    }
    case 'dedupe':
      return dedupe(m.keys);
    case 'readTiles': {
      const out: TileRow[] = [];
      for (const c of m.coords) {
        const row = q.tile.get(log, c.level, c.index) as { data: Uint8Array } | undefined;
        if (row) out.push({ level: c.level, index: c.index, data: row.data });
      }
      return out;
    }
    case 'leafHashes':
      return (q.leafHashes.all(log, m.from, m.to) as Array<{ leaf_hash: Uint8Array }>).map(
        (x) => x.leaf_hash,
      );
    case 'commit': {
      // The transaction's writes and its commit, all or nothing (the caller rolls back on error).
      const p = m.entries;
      let key = 0;
      for (let i = 0; i < p.indexes.length; i++) {
        const index = p.indexes[i]!;
        const leafHash = p.leafHashes.subarray(i * 32, i * 32 + 32);
        const dedupeKey = p.dedupeKeys[i] ?? leafHash;
        q.insertEntry.run(
          log,
          index,
          unpackedAt(p.leaves, i),
          leafHash,
          compact && sameBytes(dedupeKey, leafHash) ? SAME_AS_LEAF_HASH : dedupeKey,
          p.integratedTimes[i]!,
          p.extras[i] ?? null,
        );
        for (const end = key + p.searchKeyCounts[i]!; key < end; key++)
          q.insertSearch.run(log, p.searchKeys[key]!, index);
      }
      for (const t of m.tiles) q.upsertTile.run(log, t.level, t.index, t.data);
      if (m.state) {
        const st = m.state;
        const r = q.setState.run(st.size, st.rootHash, st.checkpoint, log, m.prevSize);
        if (Number(r.changes) !== 1) throw new Error('log state changed under the lock');
      }
      db.exec('COMMIT');
      return undefined;
    }
    case 'rollback':
      if (db.isTransaction) db.exec('ROLLBACK');
      return undefined;
    case 'replaceCheckpoint':
      q.replaceCheckpoint.run(m.checkpoint, log, m.size);
      return undefined;
    case 'updateSearchKeys':
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const c of m.changes) {
          for (const k of c.remove) q.deleteSearch.run(log, k, c.index);
          for (const k of c.add) q.insertSearch.run(log, k, c.index);
        }
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
      return undefined;
    case 'close':
      if (db.isTransaction) db.exec('ROLLBACK');
      db.close();
      return undefined;
  }
}

parentPort!.on('message', (msg: { id: number; m: Op }) => {
  try {
    const result = handle(msg.m);
    parentPort!.postMessage({ id: msg.id, ok: true, result });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, ok: false, message: (e as Error).message });
  }
});
