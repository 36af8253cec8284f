import { moduleUrl } from '../../core/module-url.ts';
/**
 * SQLite adapter (node:sqlite): one file in the data folder, WAL journal, `synchronous=FULL`
 * so a committed batch survives a crash of the process or the machine. Writes go through a
 * worker thread (sqlite-writer.ts) that owns the writer connection, so waiting for fsync never
 * blocks the main thread; BEGIN IMMEDIATE takes the database write lock, which is also what
 * serializes several processes. Reads use a connection on the calling thread and only ever
 * see committed state.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import type { StoredEntry } from '../types.ts';
import { packBytes, packedTransferables } from '../../core/encoding/packed-bytes.ts';
import { packEntries, transferables } from './sqlite-batch.ts';
import { storeContents } from './sqlite-schema.ts';
import type {
  ExistingEntry,
  LogStorage,
  NewEntry,
  SequenceTx,
  TileRow,
  TreeState,
} from './types.ts';

// Sequencing transactions of every log in one file are serialized in-process, so two writer
// threads of this process never busy-wait on each other.
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

/** Message channel to the writer thread: one request at a time per step. */
class Writer {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #next = 1;
  #dead: Error | undefined;

  constructor(data: { file: string; log: string; synchronous: 'FULL' | 'NORMAL' }) {
    this.#worker = new Worker(moduleUrl('./sqlite-writer.ts', import.meta.url), {
      workerData: data,
      name: 'signet-sqlite', // thread name, as `top -H` shows it
      // Every batch arrives as a fresh copy (about 1 MiB at 1 KiB entries) that is garbage
      // once committed; V8's default young generation (tens of MiB per thread) lets that
      // pile up before a scavenge frees it. A small one frees it sooner, for a few more
      // (cheap) scavenges: this thread keeps nothing between batches.
      resourceLimits: { maxYoungGenerationSizeMb: 12 },
    });
    this.#worker.unref();
    this.#worker.on(
      'message',
      (msg: { id: number; ok: boolean; result?: unknown; message?: string }) => {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        if (this.#pending.size === 0) this.#worker.unref();
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(msg.message));
      },
    );
    const fail = (e: Error): void => {
      this.#dead = e;
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', () => fail(new Error('the SQLite writer thread exited')));
  }

  call<T>(m: Record<string, unknown> & { op: string }, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      // Keep the process alive while a write is outstanding.
      this.#worker.ref();
      this.#worker.postMessage({ id, m }, transfer);
    });
  }

  async close(): Promise<void> {
    if (!this.#dead) await this.call({ op: 'close' });
    await this.#worker.terminate();
  }
}

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
  const log = opts.log;
  // Started by init, once the file is known to be new or Signet's: it applies the schema.
  let started: Writer | undefined;
  const writer = (): Writer =>
    (started ??= new Writer({ file, log, synchronous: opts.synchronous ?? 'FULL' }));
  let reader: DatabaseSync | undefined;
  let r:
    | {
        state: ReturnType<DatabaseSync['prepare']>;
        entry: ReturnType<DatabaseSync['prepare']>;
        byHash: ReturnType<DatabaseSync['prepare']>;
        leaves: ReturnType<DatabaseSync['prepare']>;
        leafHashes: ReturnType<DatabaseSync['prepare']>;
        tile: ReturnType<DatabaseSync['prepare']>;
        search: ReturnType<DatabaseSync['prepare']>;
        searchRows: ReturnType<DatabaseSync['prepare']>;
      }
    | undefined;

  /** The read connection, opened once the writer has created the schema. */
  const reads = (): NonNullable<typeof r> => {
    if (r) return r;
    reader = new DatabaseSync(file);
    reader.exec('PRAGMA busy_timeout = 10000');
    r = {
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
      leafHashes: reader.prepare(
        'SELECT leaf_hash FROM tlog_entries WHERE log = ? AND idx >= ? AND idx < ? ORDER BY idx',
      ),
      tile: reader.prepare('SELECT data FROM tlog_tiles WHERE log = ? AND level = ? AND idx = ?'),
      search: reader.prepare('SELECT idx FROM tlog_search WHERE log = ? AND skey = ? ORDER BY idx'),
      searchRows: reader.prepare(
        'SELECT skey, idx FROM tlog_search WHERE log = ? AND (skey, idx) > (?, ?) ORDER BY skey, idx LIMIT ?',
      ),
    };
    return r;
  };

  const toEntry = (row: Record<string, unknown> | undefined): StoredEntry | undefined => {
    if (!row) return undefined;
    const e: StoredEntry = {
      index: row.idx as number,
      leaf: row.leaf as Uint8Array,
      leafHash: row.leaf_hash as Uint8Array,
      integratedTime: row.itime as number,
    };
    if (row.extra != null) e.extra = row.extra as Uint8Array;
    return e;
  };

  let closed = false;

  return {
    async init(initial, opts) {
      const create = opts?.create ?? true;
      // Looked at before the writer opens the file: a log that must exist is not looked for
      // by making tables, and a database of something else gets none of Signet's.
      const contents = storeContents(file);
      if (!create && contents.kind !== 'signet') return undefined;
      if (contents.kind === 'other') throw contents.error;
      const s = await withFileLock(file, () =>
        writer().call<TreeState | undefined>({ op: 'init', initial: initial(), create }),
      );
      reads();
      return s;
    },

    sequence(fn, opts) {
      return withFileLock(file, async () => {
        const prefetch = opts?.dedupeKeys;
        const keys = prefetch && packBytes(prefetch);
        const { state, existing } = await writer().call<{
          state: TreeState;
          existing?: ExistingEntry[];
        }>({ op: 'begin', ...(keys ? { keys } : {}) }, keys ? packedTransferables(keys) : []);
        try {
          // The writes are sent with the commit, in one message that the writer applies and
          // commits at once (or rolls back): each round trip to the writer waits for this
          // thread's event loop, which under load is busy answering the previous batch, and
          // the log's lock is held all that time.
          const writes: { entries: NewEntry[]; tiles: TileRow[]; state?: TreeState } = {
            entries: [],
            tiles: [],
          };
          const dedupeCall = (list: Uint8Array[]): Promise<ExistingEntry[]> => {
            const packed = packBytes(list);
            return writer().call({ op: 'dedupe', keys: packed }, packedTransferables(packed));
          };
          const tx: SequenceTx = {
            state,
            findByDedupeKeys: (keys) =>
              keys === prefetch && existing ? Promise.resolve(existing) : dedupeCall(keys),
            readTiles: (coords) => writer().call<TileRow[]>({ op: 'readTiles', coords }),
            readLeafHashes: (from, to) =>
              writer().call<Uint8Array[]>({ op: 'leafHashes', from, to }),
            insertEntries: async (entries) => void writes.entries.push(...entries),
            writeTiles: async (tiles) => void writes.tiles.push(...tiles),
            setState: async (s) => void (writes.state = s),
          };
          const out = await fn(tx);
          const entries = packEntries(writes.entries);
          await writer().call(
            { op: 'commit', ...writes, entries, prevSize: state.size },
            transferables(entries),
          );
          return out;
        } catch (e) {
          await writer()
            .call({ op: 'rollback' })
            .catch(() => undefined);
          throw e;
        }
      });
    },

    async replaceCheckpoint(size, checkpoint) {
      await withFileLock(file, () => writer().call({ op: 'replaceCheckpoint', size, checkpoint }));
    },

    async updateSearchKeys(changes) {
      await withFileLock(file, () => writer().call({ op: 'updateSearchKeys', changes }));
    },

    async state() {
      const row = reads().state.get(log) as
        { size: number; root: Uint8Array; checkpoint: string } | undefined;
      if (!row) throw new Error(`log ${log} is not initialized`);
      return { size: row.size, rootHash: row.root, checkpoint: row.checkpoint };
    },
    async entry(index) {
      return toEntry(reads().entry.get(log, index) as Record<string, unknown> | undefined);
    },
    async entryByLeafHash(h) {
      return toEntry(reads().byHash.get(log, h) as Record<string, unknown> | undefined);
    },
    async leaves(from, to) {
      return (reads().leaves.all(log, from, to) as Array<{ leaf: Uint8Array }>).map((x) => x.leaf);
    },
    async leafHashes(from, to) {
      return (reads().leafHashes.all(log, from, to) as Array<{ leaf_hash: Uint8Array }>).map(
        (x) => x.leaf_hash,
      );
    },
    async tile(level, index) {
      const row = reads().tile.get(log, level, index) as { data: Uint8Array } | undefined;
      return row?.data;
    },
    async search(key) {
      return (reads().search.all(log, key) as Array<{ idx: number }>).map((x) => x.idx);
    },
    async searchRows(after, limit) {
      const rows = reads().searchRows.all(log, after.key, after.index, limit) as Array<{
        skey: string;
        idx: number;
      }>;
      return rows.map((x) => ({ key: x.skey, index: x.idx }));
    },
    async close() {
      if (closed) return;
      closed = true;
      if (started) await withFileLock(file, () => started!.close());
      reader?.close();
    },
  };
}
