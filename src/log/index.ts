/**
 * The transparency log engine: one engine for the Rekor-compatible log and the CT log.
 *
 * Pipeline of an append (engine.ts):
 *   1. batch     — `append` checks the request, hashes the leaf (RFC 6962 §2.1) and queues it.
 *                  An idle sequencer takes what arrived in the same event-loop turn (or
 *                  waits `batchMaxAgeMs` if set, or until `batchMaxSize` (1024) entries are
 *                  queued); while a batch is being written, new arrivals queue and form the
 *                  next batch at once (group commit).
 *   2. sequence  — one storage transaction holding the log's lock (SQLite: BEGIN IMMEDIATE;
 *                  PostgreSQL: the log row FOR UPDATE) reads the tree head, drops duplicates
 *                  (dedupe key, default the leaf hash; duplicates get the stored entry back
 *                  with `duplicate: true`), and gives the rest consecutive indices.
 *   3. integrate — the new leaf hashes are appended to the tree's right edge of tiles
 *                  (core/tiles: full tiles become immutable, partial ones grow; a partial
 *                  level-0 tile is not stored, it is the entries' leaf hashes); the edge is
 *                  cached in memory and reloaded from stored tiles when another process has
 *                  moved the head (checked by size and root).
 *   4. sign      — a checkpoint (C2SP signed note; Ed25519 or ECDSA) for the new size and root.
 *   5. commit    — entries, search keys, tiles and the signed head are written and committed
 *                  together; only then are the appends acknowledged, so every acknowledged
 *                  entry is durable and under a signed checkpoint, and a crash anywhere before
 *                  leaves the previous head, consistent with every later one.
 * Reads (proofs, tiles, entry bundles) use committed data only; proofs are computed from
 * tiles (core/tiles TileProofBuilder) with a cache of complete-subtree hashes.
 *
 * Storage: see storage/types.ts for the interface and schema; storage/sqlite.ts and
 * storage/postgres.ts are the two adapters.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeSystemError, SignetError } from '../core/errors.ts';
import { type EngineOptions, TileLog } from './engine.ts';
import { sqliteStorage } from './storage/sqlite.ts';
import { postgresForeign, postgresStorage, sslModeNote } from './storage/postgres.ts';
import { isSymlink, storeContents } from './storage/sqlite-schema.ts';
import type { LogStorage } from './storage/types.ts';

export { MAX_SEARCH_KEYS, TileLog } from './engine.ts';
export { MAX_SEARCH_KEY, MAX_STORED_KEY_BYTES } from './search-key.ts';
export type * from './types.ts';

export interface OpenLogOptions {
  /** The log's name in the database (several logs can share one). */
  name: string;
  /** Data folder: the SQLite file `log.sqlite` lives here unless `databaseUrl` is set. */
  dataDir: string;
  /** `postgres://...` to keep the log in PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  /** Checkpoint signing: the origin line, the key (Ed25519 default, ECDSA P-256 possible),
   * the note key name (default: the origin; Rekor v1 uses the bare hostname), and the key's
   * earlier versions when it rotates in place (engine.ts). */
  signer: EngineOptions['signer'];
  batchMaxSize?: number;
  batchMaxAgeMs?: number;
  maxPending?: number;
  /** SQLite file name inside dataDir (default `log.sqlite`). */
  sqliteFile?: string;
  /**
   * false: the log must already be in its store; LOG_MISSING (naming where it was looked
   * for) when it is not, with nothing written to the store. Default true: created empty.
   */
  create?: boolean;
  /** SQLite durability: FULL (default, fsync per batch) or NORMAL. */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  now?: () => number;
}

export async function openLog(opts: OpenLogOptions): Promise<TileLog> {
  const file = path.join(opts.dataDir, opts.sqliteFile ?? 'log.sqlite');
  const where = storeName(opts);
  const missing = () =>
    new SignetError('conflict', 'LOG_MISSING', `log "${opts.name}" is not in ${where}`);
  const create = opts.create ?? true;
  // A link to nothing is not a missing log: the look at the store names it (storeContents).
  const absent = !fs.existsSync(file) && !isSymlink(file);
  if (!create && !opts.databaseUrl && absent) throw missing();
  const storage: LogStorage = opts.databaseUrl
    ? postgresStorage({ url: opts.databaseUrl, log: opts.name })
    : sqliteStorage({ file, log: opts.name, synchronous: opts.sqliteSynchronous ?? 'FULL' });
  const engine = new TileLog({
    storage,
    signer: opts.signer,
    ...(opts.batchMaxSize !== undefined && { batchMaxSize: opts.batchMaxSize }),
    ...(opts.batchMaxAgeMs !== undefined && { batchMaxAgeMs: opts.batchMaxAgeMs }),
    ...(opts.maxPending !== undefined && { maxPending: opts.maxPending }),
    ...(opts.now !== undefined && { now: opts.now }),
  });
  try {
    await engine.init(create);
  } catch (e) {
    await storage.close();
    if (e instanceof SignetError && e.code === 'LOG_MISSING') throw missing();
    throw storeError(e, where, opts.databaseUrl);
  }
  return engine;
}

/**
 * Throws what openLog would refuse the store with (another application's, unreadable or out
 * of reach), without opening it for writing or creating anything: a caller about to make files
 * for a new log (its keys) looks first, so a refusal leaves nothing behind.
 */
export async function checkStore(
  opts: Pick<OpenLogOptions, 'dataDir' | 'databaseUrl' | 'sqliteFile'>,
): Promise<void> {
  const file = path.join(opts.dataDir, opts.sqliteFile ?? 'log.sqlite');
  const where = storeName(opts);
  let foreign: SignetError | undefined;
  try {
    if (opts.databaseUrl) foreign = await postgresForeign(opts.databaseUrl);
    else {
      const contents = storeContents(file, { leaveNoFiles: true });
      if (contents.kind === 'other') foreign = contents.error;
    }
  } catch (e) {
    throw storeError(e, where, opts.databaseUrl);
  }
  if (foreign) throw storeError(foreign, where, opts.databaseUrl);
}

/** The store of a log, for messages: the SQLite file, or the database without its password. */
function storeName(opts: Pick<OpenLogOptions, 'dataDir' | 'databaseUrl' | 'sqliteFile'>): string {
  return opts.databaseUrl
    ? `the PostgreSQL database ${redactUrl(opts.databaseUrl)}`
    : path.join(opts.dataDir, opts.sqliteFile ?? 'log.sqlite');
}

/** A store's refusal or failure as the operator reads it: naming the store and the way out. */
function storeError(e: unknown, where: string, databaseUrl: string | undefined): unknown {
  if (e instanceof SignetError && e.code === 'STORE_NOT_SIGNET')
    return new SignetError(
      'conflict',
      'STORE_NOT_SIGNET',
      `${where} ${e.message}: it was left as it was; ${
        databaseUrl
          ? "give Signet a database of its own (createdb), or a schema of its own first in the role's search_path"
          : "it is not Signet's, so move it out of the data folder"
      }`,
      { cause: e },
    );
  // The first connection: a wrong host, port, database or password is the operator's to
  // fix, so the message names the database (without its password) and what it answered.
  if (databaseUrl && !(e instanceof SignetError))
    return new SignetError(
      'unavailable',
      'STORE_UNAVAILABLE',
      `cannot open ${where}: ${databaseProblem(e, databaseUrl)}`,
      { cause: e },
    );
  return e;
}

/** What went wrong opening a database: the system's reason, or the server's message. */
function databaseProblem(e: unknown, url: string): string {
  const code = (e as { code?: unknown }).code;
  let host = 'the database host';
  try {
    host = new URL(url).host || host;
  } catch {
    // the URL was checked by the caller; a name for the message is all this is
  }
  // Errno and TLS codes have Signet's wording (Node's TLS text suggests its own flags).
  const message =
    typeof code === 'string' && /^E[A-Z]+$|CERT|LEAF_SIGNATURE/.test(code)
      ? describeSystemError(e, host)
      : e instanceof Error
        ? e.message
        : String(e);
  const note = /SSL|TLS|certificate/i.test(message) ? sslModeNote(url) : undefined;
  return note === undefined ? message : `${message}; ${note}`;
}

/** A database URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'given with --database';
  }
}
