/**
 * The tile-based transparency log engine (DESIGN.md layer 3). See ./index.ts for the pipeline.
 */
import type { KeyObject } from 'node:crypto';
import { SignetError, invalid, quoteInput } from '../core/errors.ts';
import { EMPTY_ROOT, HASH_SIZE, hashEqual, leafHash as hashLeaf } from '../core/merkle/hash.ts';
import { noteSigner, type NoteKey } from '../core/note/keys.ts';
import type { NoteSigner } from '../core/note/note.ts';
import { openCheckpoint, signCheckpoint } from '../core/note/checkpoint.ts';
import {
  EMPTY_EDGE,
  MAX_ENTRY_SIZE,
  appendToTiles,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  hashesAtTileLevel,
  partialTiles,
  rootFromEdge,
  type TileEdge,
  type TileWrite,
} from '../core/tiles/tiles.ts';
import { NodeCache, TileProofBuilder } from '../core/tiles/proofs.ts';
import { MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH } from '../core/tiles/paths.ts';
import type {
  AppendRequest,
  AppendResult,
  LogEngine,
  SignedCheckpoint,
  StoredEntry,
} from './types.ts';
import type {
  ExistingEntry,
  LogStorage,
  NewEntry,
  SearchKeyChange,
  SearchRow,
  SequenceTx,
  TreeState,
} from './storage/types.ts';
import { searchKeyFromStored, storedSearchKey } from './search-key.ts';

export interface EngineOptions {
  storage: LogStorage;
  /**
   * Checkpoint signing. `origin` names a NEW log; a log that exists keeps the origin stored with
   * it (in its signed head), whatever URL the stack is reached at now: the origin is the log's
   * name in every checkpoint a bundle carries and in the trusted root (C2SP tlog-checkpoint).
   */
  signer: {
    key: KeyObject;
    origin: string;
    keyName?: string;
    /**
     * Earlier versions of this log's key, when it rotates in place (the CT log's): a head they
     * signed is signed again with `key`. A head no key of the log signed is another log's.
     */
    previousKeys?: readonly KeyObject[];
  };
  /**
   * Most entries sequenced in one transaction (default 1024). Only reached under load: an
   * idle sequencer starts a batch after `batchMaxAgeMs`, a busy one takes all that queued
   * meanwhile, so a larger cap spreads one commit (fsync) over more entries.
   */
  batchMaxSize?: number;
  /**
   * How long an idle sequencer waits to gather a batch. Default 0: the batch is what arrived
   * in the same event-loop turn, so a lone append on an idle log is not held back by a timer
   * (under load batches still form: what queues while one is written is the next).
   */
  batchMaxAgeMs?: number;
  /** Appends waiting beyond this answer `unavailable` (pushback; default 16384). */
  maxPending?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

interface Pending {
  leaf: Uint8Array;
  leafHash: Uint8Array;
  dedupeKey: Uint8Array;
  searchKeys: string[];
  extra: Uint8Array | undefined;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

type Outcome = { fresh: NewEntry } | { existing: ExistingEntry };

const MAX_DEDUPE_KEY = 256;
/** Appends of a committed batch resolved per event-loop turn (see #acknowledge). */
const RESOLVE_SLICE = 64;
/** Most search keys per entry (an index, not evidence). */
export const MAX_SEARCH_KEYS = 64;

const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function checkIndexArg(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw invalid(field, `must be a non-negative integer, got ${quoteInput(v)}`);
  return v;
}

export class TileLog implements LogEngine {
  #origin: string;
  /** The checkpoint key: name, 4-byte key ID, full log ID, public key. */
  key: NoteKey;
  #signer: NoteSigner;
  readonly #signerOpts: EngineOptions['signer'];
  readonly #storage: LogStorage;
  readonly #maxSize: number;
  readonly #maxAge: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  /**
   * Proof caches, bounded (memory stays flat as the log grows; see NodeCache and
   * #rememberFull): complete subtrees above level-0 tiles, full tiles of the upper levels
   * (every proof reads one tile per level, and above level 0 there are 256 times fewer
   * tiles: a 10M-entry log has 153 full level-1 tiles), and a few recent level-0 tiles with
   * the nodes inside them (every proof of an append batch needs the newest ones: recomputing
   * their up to 255 interior hashes per proof doubled admission's CPU per entry).
   */
  readonly #nodes = new NodeCache(100_000, { minLevel: TILE_HEIGHT, recentLowTiles: 4 });
  readonly #fullTiles = new Map<string, Uint8Array[]>();
  readonly #fullLeafTiles = new Map<string, Uint8Array[]>();
  readonly #reading = new Map<string, Promise<Uint8Array[]>>();
  readonly #bundles = new Map<string, Uint8Array>();
  #queue: Pending[] = [];
  #running = false;
  /** Cancels the scheduled start of the next batch (a timer, or an immediate when maxAge is 0). */
  #cancelStart: (() => void) | undefined;
  #idle: Array<() => void> = [];
  /** Slices of committed batches whose appends are still to be resolved. */
  #acking = 0;
  #closed = false;
  /** The right edge of the tree after our last commit, with its root. */
  #edge: { edge: TileEdge; root: Uint8Array } | undefined;
  /** The largest tree size known to be published. */
  #knownSize = 0;
  /** Entries of the batch being sequenced now (metrics). */
  #inBatch = 0;
  /** When this process last committed a checkpoint that grew the tree (ms, metrics). */
  lastCheckpointAt: number | undefined;

  constructor(opts: EngineOptions) {
    this.#origin = opts.signer.origin;
    this.#signerOpts = opts.signer;
    const signer = noteSigner(opts.signer.keyName ?? opts.signer.origin, opts.signer.key);
    this.#signer = signer;
    this.key = signer;
    this.#storage = opts.storage;
    this.#maxSize = opts.batchMaxSize ?? 1024;
    this.#maxAge = opts.batchMaxAgeMs ?? 0;
    this.#maxPending = opts.maxPending ?? 16_384;
    this.#now = opts.now ?? Date.now;
    if (!Number.isInteger(this.#maxSize) || this.#maxSize < 1)
      throw invalid('batchMaxSize', 'must be a positive integer');
  }

  /** The log's name in its checkpoints: fixed when the log was created (see EngineOptions). */
  get origin(): string {
    return this.#origin;
  }

  /**
   * Create the log's storage if new. An existing log keeps its stored origin; its head is
   * re-signed only if the key changed.
   */
  /** Loads the log, creating it empty unless `create` is false (then LOG_MISSING). */
  async init(create = true): Promise<void> {
    const state = await this.#storage.init(
      () => ({ size: 0, rootHash: EMPTY_ROOT, checkpoint: this.#sign(0, EMPTY_ROOT) }),
      { create },
    );
    if (state === undefined)
      throw new SignetError('conflict', 'LOG_MISSING', 'the log is not in its store');
    this.#knownSize = state.size;
    const stored = state.checkpoint.slice(0, state.checkpoint.indexOf('\n'));
    if (stored.length > 0 && stored !== this.#origin) {
      this.#origin = stored;
      const signer = noteSigner(this.#signerOpts.keyName ?? stored, this.#signerOpts.key);
      this.#signer = signer;
      this.key = signer;
    }
    try {
      openCheckpoint(state.checkpoint, [this.key], { origin: this.origin });
    } catch {
      // Signed by an earlier version of the key: signed again with this one. Signed by no key
      // of this log: the store holds another log under this name (a new data folder's keys on
      // an existing database), and signing its head with these keys would fork it.
      const name = this.#signerOpts.keyName ?? this.origin;
      const earlier = (this.#signerOpts.previousKeys ?? []).map((k) => noteSigner(name, k));
      let ours = earlier.length > 0;
      if (ours)
        try {
          openCheckpoint(state.checkpoint, earlier, { origin: this.origin });
        } catch {
          ours = false;
        }
      if (!ours)
        throw new SignetError(
          'conflict',
          'LOG_KEY_MISMATCH',
          `the log "${this.origin}" in this store (${state.size} entries) is not signed by this stack's key: it is another data folder's log, and signing it with these keys would fork it. Nothing was changed; start with the data folder whose keys made it, or give another database`,
        );
      await this.#storage.replaceCheckpoint(state.size, this.#sign(state.size, state.rootHash));
    }
  }

  #sign(size: number, rootHash: Uint8Array): string {
    return signCheckpoint({ origin: this.origin, size, rootHash, extensions: [] }, [this.#signer]);
  }

  #signed(s: TreeState): SignedCheckpoint {
    return { origin: this.origin, size: s.size, rootHash: s.rootHash, note: s.checkpoint };
  }

  // ---- appends: batch -> sequence -> integrate -> sign -> ack ----

  append(req: AppendRequest): Promise<AppendResult> {
    let p: Omit<Pending, 'resolve' | 'reject'>;
    try {
      p = this.#admit(req);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#closed)
      return Promise.reject(
        new SignetError('unavailable', 'LOG_CLOSED', 'the log is shutting down'),
      );
    if (this.#queue.length >= this.#maxPending)
      return Promise.reject(
        new SignetError(
          'unavailable',
          'LOG_BUSY',
          `the log has ${this.#queue.length} entries waiting to be sequenced; retry shortly`,
        ),
      );
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ ...p, resolve, reject });
      this.#schedule();
    });
  }

  #admit(req: AppendRequest): Omit<Pending, 'resolve' | 'reject'> {
    if (!(req.leaf instanceof Uint8Array)) throw invalid('leaf', 'must be bytes');
    if (req.leaf.length > MAX_ENTRY_SIZE)
      throw new SignetError(
        'too-large',
        'ENTRY_TOO_LARGE',
        `entry is ${req.leaf.length} bytes; the log takes at most ${MAX_ENTRY_SIZE} (tlog-tiles entry bundles use a 16-bit length)`,
        { field: 'leaf' },
      );
    const leafHash = hashLeaf(req.leaf);
    let dedupeKey = leafHash;
    if (req.dedupeKey !== undefined) {
      if (!(req.dedupeKey instanceof Uint8Array) || req.dedupeKey.length === 0)
        throw invalid('dedupeKey', 'must be non-empty bytes');
      if (req.dedupeKey.length > MAX_DEDUPE_KEY)
        throw invalid('dedupeKey', `is longer than ${MAX_DEDUPE_KEY} bytes`);
      dedupeKey = req.dedupeKey;
    }
    const keys = req.searchKeys ?? [];
    if (!Array.isArray(keys) || keys.length > MAX_SEARCH_KEYS)
      throw invalid('searchKeys', `must be a list of at most ${MAX_SEARCH_KEYS} keys`);
    // A key no store can hold (search-key.ts) is left out of the index, not the log.
    const searchKeys = new Set<string>();
    for (const [i, k] of keys.entries()) {
      if (typeof k !== 'string' || k.length === 0)
        throw invalid(`searchKeys[${i}]`, 'must be a non-empty string');
      const stored = storedSearchKey(k);
      if (stored !== undefined) searchKeys.add(stored);
    }
    if (req.extra !== undefined && !(req.extra instanceof Uint8Array))
      throw invalid('extra', 'must be bytes');
    return {
      leaf: req.leaf,
      leafHash,
      dedupeKey,
      searchKeys: [...searchKeys],
      extra: req.extra,
    };
  }

  #schedule(): void {
    if (this.#running) return; // the running loop takes the queue when its batch is done
    if (this.#queue.length >= this.#maxSize) {
      this.#cancelStart?.();
      this.#cancelStart = undefined;
      void this.#drain();
    } else if (!this.#cancelStart) {
      const start = () => {
        this.#cancelStart = undefined;
        void this.#drain();
      };
      if (this.#maxAge > 0) {
        const t = setTimeout(start, this.#maxAge);
        this.#cancelStart = () => clearTimeout(t);
      } else {
        const t = setImmediate(start);
        this.#cancelStart = () => clearImmediate(t);
      }
    }
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      // Entries that arrived while a batch was being written have already waited for it:
      // sequence them at once (group commit).
      while (this.#queue.length > 0) await this.#runBatch(this.#queue.splice(0, this.#maxSize));
    } finally {
      this.#running = false;
      if (this.#acking === 0) for (const f of this.#idle.splice(0)) f();
    }
  }

  /** Appends queued or being sequenced in this process (metrics). */
  get pendingAppends(): number {
    return this.#queue.length + this.#inBatch;
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    this.#inBatch = batch.length;
    try {
      await this.#runBatchInner(batch);
    } finally {
      this.#inBatch = 0;
    }
  }

  async #runBatchInner(batch: Pending[]): Promise<void> {
    const integratedTime = Math.floor(this.#now() / 1000);
    let result: { state: TreeState; outcomes: Outcome[]; edge?: TileEdge; full?: TileWrite[] };
    const unique = new Map<string, Uint8Array>();
    for (const p of batch) unique.set(hex(p.dedupeKey), p.dedupeKey);
    const dedupeKeys = [...unique.values()];
    try {
      result = await this.#storage.sequence(
        (tx) => this.#sequence(tx, batch, dedupeKeys, integratedTime),
        { dedupeKeys },
      );
    } catch (e) {
      this.#edge = undefined; // whatever we computed was rolled back
      const err =
        e instanceof SignetError
          ? e
          : new SignetError(
              'unavailable',
              'LOG_WRITE_FAILED',
              `the log could not store the batch: ${(e as Error).message}`,
              { cause: e },
            );
      for (const p of batch) p.reject(err);
      return;
    }
    if (result.edge) this.#edge = { edge: result.edge, root: result.state.rootHash };
    // Tiles that just became full leave the edge; the next proofs need them.
    for (const w of result.full ?? [])
      this.#rememberFull(w.level, `${w.level}/${w.index}`, w.hashes);
    const checkpoint = this.#signed(result.state);
    if (result.state.size > this.#knownSize) this.#knownSize = result.state.size;
    if (result.outcomes.some((o) => 'fresh' in o)) this.lastCheckpointAt = Date.now();
    this.#acknowledge(batch, result.outcomes, checkpoint);
  }

  /**
   * Resolves a committed batch's appends, RESOLVE_SLICE at a time with the event loop turning
   * in between: whoever awaits an append usually does real work next (a Rekor answer: proof,
   * SET, JSON), and a whole batch of that at once would hold up the sequencing round trips of
   * the next batch to the storage thread, which then sits idle with the log's lock.
   */
  #acknowledge(batch: Pending[], outcomes: Outcome[], checkpoint: SignedCheckpoint): void {
    const slice = (from: number): void => {
      const to = Math.min(batch.length, from + RESOLVE_SLICE);
      this.#resolveRange(batch, outcomes, checkpoint, from, to);
      if (to < batch.length) {
        this.#acking++;
        setImmediate(() => {
          this.#acking--;
          slice(to);
          if (this.#acking === 0 && !this.#running) for (const f of this.#idle.splice(0)) f();
        });
      }
    };
    slice(0);
  }

  #resolveRange(
    batch: Pending[],
    outcomes: Outcome[],
    checkpoint: SignedCheckpoint,
    from: number,
    to: number,
  ): void {
    for (let i = from; i < to; i++) {
      const o = outcomes[i]!;
      const e = 'fresh' in o ? o.fresh : o.existing;
      batch[i]!.resolve({
        index: e.index,
        leafHash: e.leafHash,
        integratedTime: e.integratedTime,
        duplicate: !('fresh' in o),
        checkpoint,
      });
    }
  }

  /** One transaction: dedupe, assign indices, integrate into tiles, sign the new head. */
  async #sequence(
    tx: SequenceTx,
    batch: Pending[],
    dedupeKeys: Uint8Array[],
    integratedTime: number,
  ): Promise<{ state: TreeState; outcomes: Outcome[]; edge?: TileEdge; full?: TileWrite[] }> {
    const state = tx.state;
    const existing = new Map<string, ExistingEntry>();
    for (const e of await tx.findByDedupeKeys(dedupeKeys)) existing.set(hex(e.dedupeKey), e);
    const outcomes: Outcome[] = [];
    const fresh: NewEntry[] = [];
    const inBatch = new Map<string, NewEntry>();
    let next = state.size;
    for (const p of batch) {
      const k = hex(p.dedupeKey);
      const old = existing.get(k);
      const twin = inBatch.get(k);
      if (old) outcomes.push({ existing: old });
      else if (twin)
        outcomes.push({
          existing: {
            index: twin.index,
            leafHash: twin.leafHash,
            integratedTime: twin.integratedTime,
            dedupeKey: twin.dedupeKey,
          },
        });
      else {
        const e: NewEntry = {
          index: next++,
          leaf: p.leaf,
          leafHash: p.leafHash,
          dedupeKey: p.dedupeKey,
          integratedTime,
          extra: p.extra,
          searchKeys: p.searchKeys,
        };
        inBatch.set(k, e);
        fresh.push(e);
        outcomes.push({ fresh: e });
      }
    }
    if (fresh.length === 0) return { state, outcomes };

    const edge = await this.#edgeFor(tx, state);
    const grown = appendToTiles(
      edge,
      fresh.map((e) => e.leafHash),
    );
    const rootHash = rootFromEdge(grown.edge);
    const next_: TreeState = {
      size: grown.edge.size,
      rootHash,
      checkpoint: this.#sign(grown.edge.size, rootHash),
    };
    await tx.insertEntries(fresh);
    // A partial level-0 tile is the leaf hashes of the entries just written: storing it too
    // would rewrite 8 KiB per batch. Level 0 is stored once full; higher levels as they grow.
    await tx.writeTiles(
      grown.writes
        .filter((w) => w.level > 0 || w.hashes.length === TILE_WIDTH)
        .map((w) => ({ level: w.level, index: w.index, data: encodeHashTile(w.hashes) })),
    );
    await tx.setState(next_);
    // The new edge is adopted by #runBatch once the transaction has committed.
    return {
      state: next_,
      outcomes,
      edge: grown.edge,
      full: grown.writes.filter((w) => w.hashes.length === TILE_WIDTH),
    };
  }

  /** The right edge for `state`: our cached one if it is still the head, else from tiles. */
  async #edgeFor(tx: SequenceTx, state: TreeState): Promise<TileEdge> {
    const c = this.#edge;
    if (c && c.edge.size === state.size && hashEqual(c.root, state.rootHash)) return c.edge;
    if (state.size === 0) return EMPTY_EDGE;
    const coords = partialTiles(state.size);
    const rows = await tx.readTiles(coords.filter((c2) => c2.level > 0));
    const zero = coords.find((c2) => c2.level === 0);
    if (zero) {
      const from = zero.index * TILE_WIDTH;
      const hashes = await tx.readLeafHashes(from, from + zero.width);
      rows.push({ level: 0, index: zero.index, data: encodeHashTile(hashes) });
    }
    const levels: Uint8Array[][] = [];
    for (let l = 0; hashesAtTileLevel(l, state.size) > 0; l++) levels.push([]);
    for (const c2 of coords) {
      const row = rows.find((r) => r.level === c2.level && r.index === c2.index);
      if (!row)
        throw new SignetError(
          'internal',
          'LOG_CORRUPT',
          `tile ${c2.level}/${c2.index} of the tree head is missing`,
        );
      const hashes = decodeHashTile(row.data, `tile ${c2.level}/${c2.index}`);
      if (hashes.length < c2.width)
        throw new SignetError(
          'internal',
          'LOG_CORRUPT',
          `tile ${c2.level}/${c2.index} is shorter than the tree head needs`,
        );
      levels[c2.level] = hashes.slice(0, c2.width).map((h) => new Uint8Array(h));
    }
    const edge: TileEdge = { size: state.size, levels };
    // Fail closed: the stored tiles must reproduce the signed root.
    if (!hashEqual(rootFromEdge(edge), state.rootHash))
      throw new SignetError(
        'internal',
        'LOG_CORRUPT',
        'stored tiles do not match the signed tree head',
      );
    return edge;
  }

  // ---- reads ----

  async checkpoint(): Promise<SignedCheckpoint> {
    return this.#signed(await this.#head());
  }

  /** The stored head; other processes may have grown the tree, so it also raises #knownSize. */
  async #head(): Promise<TreeState> {
    const s = await this.#storage.state();
    if (s.size > this.#knownSize) this.#knownSize = s.size;
    return s;
  }

  /** Whether a tree of `size` entries has been published (reads the head when unsure). */
  async #isPublished(size: number): Promise<boolean> {
    return size <= this.#knownSize || size <= (await this.#head()).size;
  }

  /** Throws unless `size` is at most the published tree size. */
  async #published(size: number, field: string): Promise<void> {
    if (size <= this.#knownSize) return;
    const { size: current } = await this.#head();
    if (size > current) throw invalid(field, `${size} is beyond the current tree size ${current}`);
  }

  entry(index: number): Promise<StoredEntry | undefined> {
    checkIndexArg(index, 'index');
    return this.#storage.entry(index);
  }

  entryByLeafHash(leafHash: Uint8Array): Promise<StoredEntry | undefined> {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE)
      return Promise.reject(invalid('leafHash', `must be ${HASH_SIZE} bytes`));
    return this.#storage.entryByLeafHash(leafHash);
  }

  /** Change stored entries' search keys (an index migration of the service that wrote them). */
  updateSearchKeys(changes: SearchKeyChange[]): Promise<void> {
    const stored = (keys: string[]) =>
      keys.map(storedSearchKey).filter((k): k is string => k !== undefined);
    return this.#storage.updateSearchKeys(
      changes.map((c) => ({ index: c.index, remove: stored(c.remove), add: stored(c.add) })),
    );
  }

  async searchPage(
    after: SearchRow | undefined,
    limit: number,
  ): Promise<{ rows: SearchRow[]; next: SearchRow | undefined }> {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw invalid('limit', 'must be a positive integer');
    // Stored keys are never empty: ('', -1) is before every row.
    const stored = await this.#storage.searchRows(after ?? { key: '', index: -1 }, limit);
    return {
      rows: stored.map((r) => ({ key: searchKeyFromStored(r.key), index: r.index })),
      next: stored.length === limit ? stored[stored.length - 1] : undefined,
    };
  }

  search(key: string): Promise<number[]> {
    if (typeof key !== 'string' || key.length === 0)
      return Promise.reject(invalid('key', 'must be a non-empty string'));
    const stored = storedSearchKey(key);
    // No entry is indexed under a key that cannot be stored (too long, not Unicode text).
    return stored === undefined ? Promise.resolve([]) : this.#storage.search(stored);
  }

  /** The builder of the size asked for last: an append batch's proofs share it (and its folds). */
  #lastBuilder: TileProofBuilder | undefined;

  #builder(size: number): TileProofBuilder {
    if (this.#lastBuilder?.size !== size)
      this.#lastBuilder = new TileProofBuilder(
        size,
        (l, i, w) => this.#tileHashes(l, i, w),
        this.#nodes,
      );
    return this.#lastBuilder;
  }

  /** Hashes of a tile (at least `width`), from the in-memory edge when it holds the tile. */
  async #tileHashes(level: number, index: number, width: number): Promise<Uint8Array[]> {
    const e = this.#edge?.edge;
    if (e) {
      const edgeIndex = Math.floor(hashesAtTileLevel(level, e.size) / TILE_WIDTH);
      const row = e.levels[level];
      if (index === edgeIndex && row && row.length >= width) return row;
    }
    const key = `${level}/${index}`;
    const full = (level === 0 ? this.#fullLeafTiles : this.#fullTiles).get(key);
    if (full) return full;
    // Concurrent proofs of one batch want the same tiles: read each once.
    let p = this.#reading.get(key);
    if (!p) {
      p = this.#readTile(level, index, key);
      this.#reading.set(key, p);
      void p.then(
        () => this.#reading.delete(key),
        () => this.#reading.delete(key),
      );
    }
    const hashes = await p;
    if (hashes.length >= width) return hashes;
    // A partial read that another process has since extended: read again.
    const again = await this.#readTile(level, index, key);
    if (again.length < width)
      throw new SignetError(
        'internal',
        'LOG_CORRUPT',
        `tile ${key} has ${again.length} hashes, ${width} are published`,
      );
    return again;
  }

  async #readTile(level: number, index: number, key: string): Promise<Uint8Array[]> {
    const data = await this.#stored(level, index);
    if (data) {
      const hashes = decodeHashTile(data, `tile ${key}`);
      // A level-0 tile read for a proof is not kept: in a large log the next proof almost
      // never meets it again, and 256 hashes per proof kept for a while survived young GC
      // (scavenges copied them: 2,000 random proofs at 10M entries spent 70-100 ms in GC,
      // now 20-50, and the p99 with it). Tiles that fill up on append are kept (#runBatch).
      if (hashes.length === TILE_WIDTH && level > 0) this.#rememberFull(level, key, hashes);
      return hashes;
    }
    if (level === 0) {
      // Not full yet: the partial level-0 tile is the published entries' leaf hashes.
      const from = index * TILE_WIDTH;
      const size = Math.max(this.#knownSize, this.#edge?.edge.size ?? 0);
      return this.#storage.leafHashes(from, Math.min(from + TILE_WIDTH, Math.max(from, size)));
    }
    throw new SignetError('internal', 'LOG_CORRUPT', `tile ${key} is missing`);
  }

  /**
   * A stored tile. Level-0 tiles count only when full: a partial one may be left over from a
   * database written before partial level-0 tiles stopped being stored, and is stale.
   */
  async #stored(level: number, index: number): Promise<Uint8Array | undefined> {
    const data = await this.#storage.tile(level, index);
    if (level === 0 && data && data.length !== TILE_WIDTH * HASH_SIZE) return undefined;
    return data;
  }

  #rememberFull(level: number, key: string, hashes: Uint8Array[]): void {
    const [map, max] = level === 0 ? [this.#fullLeafTiles, 64] : [this.#fullTiles, 1024];
    if (map.size >= max) map.clear();
    map.set(key, hashes);
  }

  async inclusionProof(index: number, treeSize: number): Promise<Uint8Array[]> {
    checkIndexArg(index, 'index');
    checkIndexArg(treeSize, 'treeSize');
    if (index >= treeSize)
      throw invalid('index', `${index} is not below the tree size ${treeSize}`);
    await this.#published(treeSize, 'treeSize');
    return this.#builder(treeSize).inclusionProof(index);
  }

  async consistencyProof(fromSize: number, toSize: number): Promise<Uint8Array[]> {
    checkIndexArg(fromSize, 'fromSize');
    checkIndexArg(toSize, 'toSize');
    if (fromSize > toSize) throw invalid('fromSize', `${fromSize} is larger than toSize ${toSize}`);
    await this.#published(toSize, 'toSize');
    return this.#builder(toSize).consistencyProof(fromSize);
  }

  /** The root of the tree at an earlier (published) size, from tiles. */
  async rootAt(size: number): Promise<Uint8Array> {
    checkIndexArg(size, 'size');
    await this.#published(size, 'size');
    return this.#builder(size).root();
  }

  async tile(level: number, index: number, width?: number): Promise<Uint8Array | undefined> {
    checkIndexArg(level, 'level');
    if (level > MAX_TILE_LEVEL) throw invalid('level', `must be at most ${MAX_TILE_LEVEL}`);
    checkIndexArg(index, 'index');
    const w = width ?? TILE_WIDTH;
    if (!Number.isInteger(w) || w < 1 || w > TILE_WIDTH)
      throw invalid('width', 'must be 1..255 for a partial tile');
    const data = await this.#stored(level, index);
    if (data) {
      if (data.length < w * HASH_SIZE) return undefined;
      // A full tile is served only once full; a partial width is a prefix of the stored tile
      // (tiles only ever grow), i.e. the tile as it was at some published size.
      return data.subarray(0, w * HASH_SIZE);
    }
    if (level !== 0 || w === TILE_WIDTH) return undefined;
    // A partial level-0 tile: the leaf hashes of published entries.
    const from = index * TILE_WIDTH;
    if (!Number.isSafeInteger(from + w)) throw invalid('index', 'is too large');
    if (!(await this.#isPublished(from + w))) return undefined;
    const hashes = await this.#storage.leafHashes(from, from + w);
    return hashes.length === w ? encodeHashTile(hashes) : undefined;
  }

  async entryBundle(index: number, width?: number): Promise<Uint8Array | undefined> {
    checkIndexArg(index, 'index');
    const w = width ?? TILE_WIDTH;
    if (!Number.isInteger(w) || w < 1 || w > TILE_WIDTH)
      throw invalid('width', 'must be 1..255 for a partial bundle');
    const from = index * TILE_WIDTH;
    if (!Number.isSafeInteger(from + w)) throw invalid('index', 'is too large');
    const key = `${index}`;
    if (w === TILE_WIDTH) {
      const hit = this.#bundles.get(key);
      if (hit) return hit;
    }
    if (!(await this.#isPublished(from + w))) return undefined;
    const leaves = await this.#storage.leaves(from, from + w);
    if (leaves.length !== w)
      throw new SignetError(
        'internal',
        'LOG_CORRUPT',
        `entries ${from}..${from + w} are incomplete`,
      );
    const bundle = encodeEntryBundle(leaves);
    if (w === TILE_WIDTH) {
      if (this.#bundles.size >= 64) this.#bundles.clear();
      this.#bundles.set(key, bundle);
    }
    return bundle;
  }

  /** Resolves once nothing is queued or being written. */
  async flush(): Promise<void> {
    if (this.#cancelStart) {
      this.#cancelStart();
      this.#cancelStart = undefined;
      void this.#drain();
    }
    if (!this.#running && this.#queue.length === 0 && this.#acking === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#queue.length > 0) await this.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flush();
    await this.#storage.close();
  }
}
