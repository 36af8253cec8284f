/**
 * The one small storage interface behind the log engine, with two adapters: SQLite
 * (node:sqlite, one file) and PostgreSQL (pg). Several logs, by name, share one database.
 *
 * Schema (both adapters; `log` is the log's name):
 *   logs(name PK, size, root, checkpoint)               the published tree head; its row is
 *                                                       the lock that serializes sequencing
 *   entries(log, idx PK, leaf, leaf_hash, dedupe UNIQUE, itime, extra)
 *   search(log, skey, idx PK)                           search keys in their stored form
 *                                                       (../search-key.ts), written with
 *                                                       the entry
 *   tiles(log, level, idx PK, data)                     hash tiles: level 0 only once full
 *                                                       (its partial tile is the entries' leaf
 *                                                       hashes), higher levels with their latest
 *                                                       (possibly partial) contents, only ever
 *                                                       extended
 * Entry bundles are read from `entries`, so leaves are stored once.
 */
import { SignetError } from '../../core/errors.ts';
import type { StoredEntry } from '../types.ts';

/** The published state of a log: what its latest checkpoint commits to. */
export interface TreeState {
  size: number;
  rootHash: Uint8Array;
  /** The signed checkpoint note for (size, rootHash). */
  checkpoint: string;
}

export interface NewEntry {
  index: number;
  leaf: Uint8Array;
  leafHash: Uint8Array;
  dedupeKey: Uint8Array;
  integratedTime: number;
  extra: Uint8Array | undefined;
  /** Stored forms (../search-key.ts), distinct. */
  searchKeys: string[];
}

/** One row of the search index: a stored key and an entry it names. */
export interface SearchRow {
  key: string;
  index: number;
}

/** Keys are search keys for the engine, stored forms (../search-key.ts) for a LogStorage. */
export interface SearchKeyChange {
  index: number;
  remove: string[];
  add: string[];
}

export interface ExistingEntry {
  index: number;
  leafHash: Uint8Array;
  integratedTime: number;
  dedupeKey: Uint8Array;
}

export interface TileRow {
  level: number;
  index: number;
  data: Uint8Array;
}

/** What a sequencing transaction may do; all of it commits or none of it does. */
export interface SequenceTx {
  /** The state at the start of the transaction, read under the log's lock. */
  readonly state: TreeState;
  findByDedupeKeys(keys: Uint8Array[]): Promise<ExistingEntry[]>;
  readTiles(coords: Array<{ level: number; index: number }>): Promise<TileRow[]>;
  /** Leaf hashes of entries [from, to), in index order (the level-0 right edge). */
  readLeafHashes(from: number, to: number): Promise<Uint8Array[]>;
  insertEntries(entries: NewEntry[]): Promise<void>;
  writeTiles(tiles: TileRow[]): Promise<void>;
  setState(state: TreeState): Promise<void>;
}

export interface LogStorage {
  /**
   * Create the schema if needed and the log's row with `initial` if it has none; returns the
   * stored state. Safe to call from several processes at once. With `create: false` a log the
   * store does not hold is not created: undefined, and nothing is written (not even the schema,
   * so a wrong database is left as it was). A store that holds tables and none of Signet's is
   * someone else's: refused (STORE_NOT_SIGNET, see otherTables), with nothing written to it.
   */
  init(initial: () => TreeState, opts?: { create?: boolean }): Promise<TreeState | undefined>;
  /**
   * Run `fn` in one transaction holding the log's lock (no other sequencer runs meanwhile).
   * `dedupeKeys`, when given, are the keys `fn` will look up first (with this very array): an
   * adapter may read them together with the state, saving a round trip under the lock.
   */
  sequence<T>(fn: (tx: SequenceTx) => Promise<T>, opts?: { dedupeKeys?: Uint8Array[] }): Promise<T>;
  /** Replace the checkpoint of the current state (re-signing after a key change). */
  replaceCheckpoint(size: number, checkpoint: string): Promise<void>;
  /** The latest committed state. */
  state(): Promise<TreeState>;
  entry(index: number): Promise<StoredEntry | undefined>;
  entryByLeafHash(leafHash: Uint8Array): Promise<StoredEntry | undefined>;
  /** Leaves of entries [from, to), in index order. */
  leaves(from: number, to: number): Promise<Uint8Array[]>;
  /** Leaf hashes of entries [from, to), in index order: partial level-0 tiles. */
  leafHashes(from: number, to: number): Promise<Uint8Array[]>;
  /** The latest stored bytes of a hash tile. */
  tile(level: number, index: number): Promise<Uint8Array | undefined>;
  /** Indices of the entries under a stored key (../search-key.ts), ascending. */
  search(key: string): Promise<number[]>;
  /**
   * The search rows (stored key, entry index) after `after`, in (key, index) order, at most
   * `limit`: an index migration reads the whole index a page at a time.
   */
  searchRows(after: SearchRow, limit: number): Promise<SearchRow[]>;
  /**
   * Change the search keys of stored entries (an index migration), in one transaction: every
   * `remove` key of an entry goes, every `add` key is there after (already there: kept).
   */
  updateSearchKeys(changes: SearchKeyChange[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * init's refusal of a database that holds tables of something else and none of Signet's log
 * tables (another application's, or one mistyped): Signet's would be added beside them. The
 * message is what the store holds; openLog puts the store's name before it.
 */
export function otherTables(names: readonly string[]): SignetError {
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, +${names.length - 3}` : '');
  return new SignetError(
    'conflict',
    'STORE_NOT_SIGNET',
    `holds other tables (${shown}) and none of Signet's log tables`,
  );
}
