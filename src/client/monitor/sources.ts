/**
 * Where a monitor reads a log from. Every source gives the latest tree head with its signature
 * checked against the key the trusted root names (never a key the log offers), consistency
 * proofs, and the entries' bytes in order. Nothing a source returns is trusted beyond that
 * signature: proofs are verified and every entry is hashed into the tree the monitor rebuilds.
 *
 * - `tiles`: a C2SP tlog-tiles log (Signet's Rekor shards, Rekor v2): `checkpoint`, hash tiles
 *   and entry bundles; consistency proofs are computed from the tiles, not asked of the log.
 * - `rekor-v1`: the Rekor v1 REST API (`/api/v1/log`, `/log/proof`, `/log/entries/retrieve`).
 * - `ct`: an RFC 6962 CT log (`get-sth`, `get-sth-consistency`, `get-entries`), or a
 *   static-ct-api log (TesseraCT, Sunlight: public-good's CT log): `checkpoint`, hash tiles and
 *   data tiles; which of the two a log speaks is asked once (`ctSource`), as rekor-monitor does.
 */
import { invalid, SignetError, verificationFailed } from '../../core/errors.ts';
import { fromBase64, toBase64 } from '../../core/encoding/base64.ts';
import { fromHex } from '../../core/encoding/hex.ts';
import { originOfUrl, parseCheckpoint } from '../../core/note/checkpoint.ts';
import { trustedLogVerifier } from '../../core/note/keys.ts';
import { verifyNote, type NoteVerifier } from '../../core/note/note.ts';
import { verifyTreeHead } from '../../core/ct/sth.ts';
import { decodeDataTile, rfc6962NoteVerifier } from '../../core/ct/static-ct.ts';
import { decodeEntryBundle, decodeHashTile } from '../../core/tiles/tiles.ts';
import { dataTilePath, entriesPath, tilePath, TILE_WIDTH } from '../../core/tiles/paths.ts';
import { NodeCache, TileProofBuilder } from '../../core/tiles/proofs.ts';
import type { TransparencyLogInstance } from '../../bundle/trusted-root.ts';
import { badResponse, parseJson, send, type HttpOptions } from '../../services/http/outbound.ts';
import { ctEntryFacts, rekorEntryFacts, type EntryFacts } from './match.ts';
import { parseJsonText } from '../../core/json.ts';

export interface LogHead {
  size: number;
  rootHash: Uint8Array;
  /** The signed head as served (a checkpoint note, or the CT STH as JSON). */
  note: string;
}

export type SourceKind = 'tiles' | 'rekor-v1' | 'ct';

export interface LogSource {
  readonly kind: SourceKind;
  /** The log's base URL (from the trusted root): its name in the state and in alerts. */
  readonly url: string;
  /** Where it is read (`--read-from`: a moved stack, a mirror); default `url`. */
  readonly readFrom: string;
  readonly log: TransparencyLogInstance;
  /**
   * The log index of the tree's first entry: a Rekor v1 log numbers its entries across its
   * inactive shards, and only the active shard is followed (0 for the others). Known after
   * `head()`.
   */
  readonly firstIndex: number;
  /** The latest head; a signature that does not verify throws code `LOG_SIGNATURE`. */
  head(): Promise<LogHead>;
  /** A head seen elsewhere (its text as `head().note`), its signature checked the same way. */
  openHead(note: string): LogHead;
  /** RFC 6962 consistency proof between two sizes the log has published. */
  consistencyProof(from: number, to: number): Promise<Uint8Array[]>;
  /** The root at a published size (tiles only: computed from the tiles). */
  rootAt?(size: number): Promise<Uint8Array>;
  /** Entries [from, to) as leaf bytes, in order, in batches. */
  leaves(from: number, to: number): AsyncGenerator<Uint8Array[]>;
  facts(leaf: Uint8Array): EntryFacts;
  /**
   * Where a person can look at entry `index` of a tree of `size` entries (the head read in this
   * pass: a tile log serves the newest entries in a partial tile until it fills).
   */
  entryUrl(index: number, size: number): string;
}

/**
 * Requests in flight while earlier answers are hashed and matched: entry bundles are static
 * files (a CDN may serve them), so a tiles log gets more at once than a Rekor v1 API.
 */
const PREFETCH = 8;
const PREFETCH_TILES = 32;

async function* ordered<T>(tasks: Array<() => Promise<T>>, depth = PREFETCH): AsyncGenerator<T> {
  const running: Array<Promise<T>> = [];
  let next = 0;
  while (next < tasks.length && running.length < depth) running.push(tasks[next++]!());
  while (running.length > 0) {
    const value = await running.shift()!;
    if (next < tasks.length) running.push(tasks[next++]!());
    yield value;
  }
}

function signatureError(url: string, e: unknown): SignetError {
  return verificationFailed(
    'LOG_SIGNATURE',
    `the tree head of ${url} is not signed by the key in the trusted root: ${(e as Error).message}`,
    e,
  );
}

/**
 * The hash tiles of a tile-based log (c2sp.org/tlog-tiles, and static-ct-api's): fetched, sized
 * exactly, full ones kept (bounded), and the proofs and roots computed from them.
 */
class HashTiles {
  readonly #url: string;
  readonly #get: (path: string) => Promise<Uint8Array>;
  readonly #cache = new NodeCache(100_000);
  readonly #tiles = new Map<string, Uint8Array[]>();

  constructor(url: string, get: (path: string) => Promise<Uint8Array>) {
    this.#url = url;
    this.#get = get;
  }

  /** Hash tile (level, index) at `width`: exactly that many hashes, or a TILE_SIZE failure. */
  async #tile(level: number, index: number, width: number): Promise<Uint8Array[]> {
    const key = `${level}/${index}`;
    const full = this.#tiles.get(key);
    if (full) return full;
    const path = tilePath(level, index, width);
    const bytes = await this.#get(path);
    let hashes: Uint8Array[];
    try {
      hashes = decodeHashTile(bytes, path);
    } catch (e) {
      throw verificationFailed('TILE_SIZE', `${this.#url}/${path}: ${(e as Error).message}`, e);
    }
    if (hashes.length !== width)
      throw verificationFailed(
        'TILE_SIZE',
        `${this.#url}/${path} has ${hashes.length} hashes; ${width} were asked for`,
      );
    if (width === TILE_WIDTH) {
      if (this.#tiles.size >= 4096) this.#tiles.clear();
      this.#tiles.set(key, hashes);
    }
    return hashes;
  }

  #builder(size: number): TileProofBuilder {
    return new TileProofBuilder(size, (l, i, w) => this.#tile(l, i, w), this.#cache);
  }

  consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    return this.#builder(to).consistencyProof(from);
  }

  rootAt(size: number): Promise<Uint8Array> {
    return this.#builder(size).root();
  }

  /**
   * The entry tiles (`path(n, width)`) covering [from, to), decoded, fetched several at once
   * and yielded in order.
   */
  async *leaves(
    from: number,
    to: number,
    path: (n: number, width: number) => string,
    decode: (bytes: Uint8Array, path: string, first: number) => Uint8Array[],
  ): AsyncGenerator<Uint8Array[]> {
    const first = Math.floor(from / TILE_WIDTH);
    const tasks: Array<() => Promise<Uint8Array[]>> = [];
    for (let n = first; n * TILE_WIDTH < to; n++) {
      const width = Math.min(TILE_WIDTH, to - n * TILE_WIDTH);
      tasks.push(async () => {
        const p = path(n, width);
        const bytes = await this.#get(p);
        let entries: Uint8Array[];
        try {
          entries = decode(bytes, p, n * TILE_WIDTH);
        } catch (e) {
          throw verificationFailed('TILE_SIZE', `${this.#url}/${p}: ${(e as Error).message}`, e);
        }
        if (entries.length !== width)
          throw verificationFailed(
            'TILE_SIZE',
            `${this.#url}/${p} has ${entries.length} entries; ${width} were asked for`,
          );
        const skip = Math.max(0, from - n * TILE_WIDTH);
        return skip > 0 ? entries.slice(skip) : entries;
      });
    }
    yield* ordered(tasks, PREFETCH_TILES);
  }
}

function getter(
  service: string,
  readFrom: string,
  http: HttpOptions,
): (path: string) => Promise<Uint8Array> {
  return async (path) =>
    (await send({ service, method: 'GET', url: `${readFrom}/${path}` }, http)).body;
}

/**
 * What the tile-based sources share: the checkpoint, checked with the log's key from the
 * trusted root and its origin, and the hash tiles the proofs and roots are computed from.
 */
abstract class TileLogSource {
  readonly firstIndex = 0;
  readonly url: string;
  readonly log: TransparencyLogInstance;
  readonly readFrom: string;
  /** The checkpoints' origin: the base URL without its scheme (tlog-tiles, static-ct-api). */
  protected readonly origin: string;
  protected readonly get: (path: string) => Promise<Uint8Array>;
  protected readonly tiles: HashTiles;

  constructor(
    log: TransparencyLogInstance,
    http: HttpOptions,
    readFrom: string | undefined,
    service: string,
  ) {
    this.log = log;
    this.url = log.baseUrl.replace(/\/+$/, '');
    this.origin = originOfUrl(this.url) ?? this.url;
    this.readFrom = (readFrom ?? this.url).replace(/\/+$/, '');
    this.get = getter(service, this.readFrom, http);
    this.tiles = new HashTiles(this.url, this.get);
  }

  /** How the log signs its checkpoints. */
  protected abstract verifier(): NoteVerifier;

  async head(): Promise<LogHead> {
    return this.openHead(new TextDecoder().decode(await this.get('checkpoint')));
  }

  openHead(note: string): LogHead {
    let text: string;
    try {
      text = verifyNote(note, [this.verifier()], 'checkpoint').text;
    } catch (e) {
      throw signatureError(this.url, e);
    }
    const cp = parseCheckpoint(text, 'checkpoint');
    if (cp.origin !== this.origin)
      throw signatureError(this.url, new Error(`origin "${cp.origin}" is not "${this.origin}"`));
    return { size: cp.size, rootHash: cp.rootHash, note };
  }

  consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    return this.tiles.consistencyProof(from, to);
  }

  rootAt(size: number): Promise<Uint8Array> {
    return this.tiles.rootAt(size);
  }
}

/**
 * The path of the tile that holds entry `index` in a tree of `size`: the full tile, or the
 * partial one (`.p/W`) when the entry is among the last, not yet a full tile (C2SP tlog-tiles).
 */
function tileHolding(
  index: number,
  size: number,
  path: (n: number, width?: number) => string,
): string {
  const n = Math.floor(index / TILE_WIDTH);
  const width = size - n * TILE_WIDTH;
  return width < TILE_WIDTH ? path(n, width) : path(n);
}

/** A C2SP tlog-tiles log: Signet's Rekor shards, Rekor v2. */
export class TilesSource extends TileLogSource implements LogSource {
  readonly kind = 'tiles' as const;

  constructor(log: TransparencyLogInstance, http: HttpOptions = {}, readFrom?: string) {
    super(log, http, readFrom, 'the log');
  }

  protected verifier(): NoteVerifier {
    const keyId = this.log.checkpointKeyId ?? this.log.logId;
    return trustedLogVerifier(this.origin, keyId, this.log.publicKey);
  }

  leaves(from: number, to: number): AsyncGenerator<Uint8Array[]> {
    return this.tiles.leaves(from, to, entriesPath, (bytes, path) =>
      decodeEntryBundle(bytes, path),
    );
  }

  facts(leaf: Uint8Array): EntryFacts {
    return rekorEntryFacts(leaf);
  }

  entryUrl(index: number, size: number): string {
    return `${this.readFrom}/${tileHolding(index, size, entriesPath)}#${index}`;
  }
}

/**
 * A static-ct-api CT log (c2sp.org/static-ct-api; core/ct/static-ct.ts): its checkpoint signed
 * with the CT log's key as an RFC6962NoteSignature, hash tiles, and data tiles whose entries are
 * rebuilt into the MerkleTreeLeaf the tree hashes; each entry's leaf_index must be its place.
 */
export class StaticCtSource extends TileLogSource implements LogSource {
  readonly kind = 'ct' as const;

  constructor(log: TransparencyLogInstance, http: HttpOptions = {}, readFrom?: string) {
    super(log, http, readFrom, 'the CT log');
  }

  protected verifier(): NoteVerifier {
    return rfc6962NoteVerifier(this.origin, this.log.logId, this.log.publicKey);
  }

  leaves(from: number, to: number): AsyncGenerator<Uint8Array[]> {
    return this.tiles.leaves(from, to, dataTilePath, (bytes, path, first) =>
      decodeDataTile(bytes, path).map((e, k) => {
        if (e.leafIndex !== first + k)
          throw invalid(
            `${path}[${k}]`,
            e.leafIndex === undefined
              ? 'has no leaf_index extension'
              : `says it is entry ${e.leafIndex}, at index ${first + k}`,
          );
        return e.leaf;
      }),
    );
  }

  facts(leaf: Uint8Array): EntryFacts {
    return ctEntryFacts(leaf);
  }

  entryUrl(index: number, size: number): string {
    return `${this.readFrom}/${tileHolding(index, size, dataTilePath)}#${index}`;
  }
}

/**
 * The source for a CT log of the trusted root: RFC 6962 when it answers get-sth, static-ct-api
 * when it has no get-sth but a checkpoint (rekor-monitor's ct_monitor asks the same way).
 * A log that answers neither is read as RFC 6962, whose errors then say what failed.
 */
export async function ctSource(
  log: TransparencyLogInstance,
  http: HttpOptions = {},
  readFrom?: string,
): Promise<LogSource> {
  const base = (readFrom ?? log.baseUrl).replace(/\/+$/, '');
  const status = async (path: string): Promise<number | undefined> => {
    try {
      const res = await send(
        { service: 'the CT log', method: 'GET', url: `${base}/${path}`, allow: [404] },
        http,
      );
      return res.status;
    } catch {
      return undefined;
    }
  };
  if ((await status('ct/v1/get-sth')) === 404 && (await status('checkpoint')) === 200)
    return new StaticCtSource(log, http, readFrom);
  return new CtSource(log, http, readFrom);
}

type J = Record<string, unknown>;
const field = (v: unknown, k: string): unknown =>
  typeof v === 'object' && v !== null ? (v as J)[k] : undefined;

export class RekorV1Source implements LogSource {
  readonly kind = 'rekor-v1' as const;
  readonly url: string;
  readonly log: TransparencyLogInstance;
  readonly #http: HttpOptions;
  readonly readFrom: string;
  /** Entries in inactive shards: v1 log indices are global. */
  #offset = 0;

  constructor(log: TransparencyLogInstance, http: HttpOptions = {}, readFrom?: string) {
    this.log = log;
    this.url = log.baseUrl.replace(/\/+$/, '');
    this.readFrom = (readFrom ?? this.url).replace(/\/+$/, '');
    this.#http = http;
  }

  get firstIndex(): number {
    return this.#offset;
  }

  async #json(method: 'GET' | 'POST', path: string, json?: unknown): Promise<unknown> {
    const req = {
      service: 'the Rekor log',
      method,
      url: `${this.readFrom}${path}`,
      accept: 'application/json',
      ...(json !== undefined
        ? { body: JSON.stringify(json), contentType: 'application/json' }
        : {}),
    };
    const res = await send(req, this.#http);
    return parseJson(req, res.body);
  }

  async head(): Promise<LogHead> {
    const info = await this.#json('GET', '/api/v1/log');
    const note = field(info, 'signedTreeHead');
    if (typeof note !== 'string')
      throw badResponse({ service: 'the Rekor log', url: this.url }, 'no signedTreeHead');
    const inactive = field(info, 'inactiveShards');
    this.#offset = Array.isArray(inactive)
      ? inactive.reduce((a: number, s) => a + Number(field(s, 'treeSize') ?? 0), 0)
      : 0;
    return this.openHead(note);
  }

  openHead(note: string): LogHead {
    const u = new URL(this.url);
    const names = [...new Set([u.host, u.hostname])];
    const keyId = this.log.checkpointKeyId ?? this.log.logId;
    let text: string;
    try {
      text = verifyNote(
        note,
        names.map((n) => trustedLogVerifier(n, keyId, this.log.publicKey)),
        'signedTreeHead',
      ).text;
    } catch (e) {
      throw signatureError(this.url, e);
    }
    const cp = parseCheckpoint(text, 'signedTreeHead');
    if (!names.some((n) => cp.origin.startsWith(`${n} - `)))
      throw signatureError(this.url, new Error(`origin "${cp.origin}" is not this log's`));
    return { size: cp.size, rootHash: cp.rootHash, note };
  }

  async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    if (from === 0 || from === to) return [];
    const j = await this.#json('GET', `/api/v1/log/proof?firstSize=${from}&lastSize=${to}`);
    const hashes = field(j, 'hashes');
    if (!Array.isArray(hashes))
      throw badResponse({ service: 'the Rekor log', url: this.url }, 'the proof has no hashes');
    return hashes.map((h, i) => fromHex(String(h), `hashes[${i}]`));
  }

  async *leaves(from: number, to: number): AsyncGenerator<Uint8Array[]> {
    const tasks: Array<() => Promise<Uint8Array[]>> = [];
    // Rekor answers at most 10 indexes per retrieve.
    for (let i = from; i < to; i += 10) {
      const idx = Array.from({ length: Math.min(10, to - i) }, (_, k) => this.#offset + i + k);
      tasks.push(async () => {
        const j = await this.#json('POST', '/api/v1/log/entries/retrieve', { logIndexes: idx });
        if (!Array.isArray(j) || j.length !== idx.length)
          throw verificationFailed(
            'LOG_ENTRIES',
            `${this.url} returned ${Array.isArray(j) ? j.length : 'no'} entries for ${idx.length} indexes`,
          );
        return j.map((m, k) => {
          const e = typeof m === 'object' && m !== null ? Object.values(m as J)[0] : undefined;
          if (field(e, 'logIndex') !== idx[k])
            throw verificationFailed(
              'LOG_ENTRIES',
              `${this.url} returned entry ${String(field(e, 'logIndex'))} for index ${idx[k]}`,
            );
          return fromBase64(String(field(e, 'body')), `entries[${idx[k]}].body`);
        });
      });
    }
    yield* ordered(tasks);
  }

  facts(leaf: Uint8Array): EntryFacts {
    return rekorEntryFacts(leaf);
  }

  entryUrl(index: number): string {
    return `${this.readFrom}/api/v1/log/entries?logIndex=${this.#offset + index}`;
  }
}

export class CtSource implements LogSource {
  readonly kind = 'ct' as const;
  readonly firstIndex = 0;
  readonly url: string;
  readonly log: TransparencyLogInstance;
  readonly #http: HttpOptions;

  readonly readFrom: string;

  constructor(log: TransparencyLogInstance, http: HttpOptions = {}, readFrom?: string) {
    this.log = log;
    this.url = log.baseUrl.replace(/\/+$/, '');
    this.readFrom = (readFrom ?? this.url).replace(/\/+$/, '');
    this.#http = http;
  }

  async #json(path: string): Promise<unknown> {
    const req = { service: 'the CT log', method: 'GET' as const, url: `${this.readFrom}${path}` };
    const res = await send(req, this.#http);
    return parseJson(req, res.body);
  }

  async head(): Promise<LogHead> {
    return this.openHead(JSON.stringify(await this.#json('/ct/v1/get-sth')));
  }

  /** An STH as get-sth's JSON. */
  openHead(text: string): LogHead {
    let j: unknown;
    try {
      j = parseJsonText(text, 'tree head');
    } catch {
      throw badResponse({ service: 'the CT log', url: this.url }, 'the tree head is not JSON');
    }
    const size = field(j, 'tree_size');
    const timestamp = field(j, 'timestamp');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || typeof timestamp !== 'number')
      throw badResponse(
        { service: 'the CT log', url: this.url },
        'get-sth has no tree_size/timestamp',
      );
    const rootHash = fromBase64(String(field(j, 'sha256_root_hash')), 'sha256_root_hash');
    const sig = fromBase64(String(field(j, 'tree_head_signature')), 'tree_head_signature');
    let ok: boolean;
    try {
      ok = verifyTreeHead(this.log.publicKey, {
        treeSize: size,
        timestamp,
        rootHash,
        treeHeadSignature: sig,
      });
    } catch {
      ok = false;
    }
    if (!ok) throw signatureError(this.url, new Error('the STH signature does not verify'));
    const note = JSON.stringify({
      tree_size: size,
      timestamp,
      sha256_root_hash: toBase64(rootHash),
      tree_head_signature: toBase64(sig),
    });
    return { size, rootHash, note };
  }

  async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    if (from === 0 || from === to) return [];
    const j = await this.#json(`/ct/v1/get-sth-consistency?first=${from}&second=${to}`);
    const c = field(j, 'consistency');
    if (!Array.isArray(c))
      throw badResponse({ service: 'the CT log', url: this.url }, 'no consistency proof');
    return c.map((h, i) => fromBase64(String(h), `consistency[${i}]`));
  }

  async *leaves(from: number, to: number): AsyncGenerator<Uint8Array[]> {
    let next = from;
    // get-entries may answer fewer than asked (RFC 6962 §4.6): ask again from where it stopped.
    for (let guard = 0; next < to && guard < 10_000_000; guard++) {
      const end = Math.min(to, next + TILE_WIDTH) - 1;
      const j = await this.#json(`/ct/v1/get-entries?start=${next}&end=${end}`);
      const entries = field(j, 'entries');
      if (!Array.isArray(entries) || entries.length === 0 || entries.length > end - next + 1)
        throw verificationFailed(
          'LOG_ENTRIES',
          `${this.url} get-entries ${next}..${end} returned no usable entries`,
        );
      const out = entries.map((e, k) =>
        fromBase64(String(field(e, 'leaf_input')), `entries[${next + k}].leaf_input`),
      );
      next += out.length;
      yield out;
    }
  }

  facts(leaf: Uint8Array): EntryFacts {
    return ctEntryFacts(leaf);
  }

  entryUrl(index: number): string {
    return `${this.readFrom}/ct/v1/get-entries?start=${index}&end=${index}`;
  }
}
