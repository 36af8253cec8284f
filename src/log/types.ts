/**
 * The contract of the one log engine (DESIGN.md layer 3). The Rekor-compatible log and the
 * CT log are both instances of it, with different leaf bytes and keys. The engine owner may
 * extend these types; consumers (services/rekor, services/ctlog) code against them.
 */
import type { SearchKeyChange, SearchRow } from './storage/types.ts';

export type { SearchKeyChange, SearchRow };

/** A tree head: what a checkpoint commits to. */
export interface TreeHead {
  size: number;
  rootHash: Uint8Array; // 32 bytes; SHA-256 of the empty string for size 0
}

/** A checkpoint as a C2SP signed note (tlog-checkpoint), with its parsed head. */
export interface SignedCheckpoint extends TreeHead {
  origin: string;
  /** The whole signed note text, body + blank line + signature lines. */
  note: string;
}

export interface AppendRequest {
  /** The entry bytes; the Merkle leaf hash is SHA-256(0x00 || leaf) (RFC 6962 §2.1). */
  leaf: Uint8Array;
  /**
   * Identity for deduplication; defaults to the leaf hash. A second append with the same key
   * returns the first entry with `duplicate: true` and stores nothing.
   */
  dedupeKey?: Uint8Array;
  /**
   * Search keys stored atomically with the entry (e.g. `sha256:<hex>`, `email:a@b`). A key no
   * store can hold (search-key.ts: too long, not Unicode text) is left out of the index.
   */
  searchKeys?: string[];
  /** Opaque side data stored with the entry but not logged (e.g. an attestation payload). */
  extra?: Uint8Array;
}

export interface AppendResult {
  index: number;
  leafHash: Uint8Array;
  /** Unix seconds at which the entry was sequenced (Rekor v1's integratedTime). */
  integratedTime: number;
  duplicate: boolean;
  /** A signed checkpoint whose tree contains the entry. */
  checkpoint: SignedCheckpoint;
}

export interface StoredEntry {
  index: number;
  leaf: Uint8Array;
  leafHash: Uint8Array;
  integratedTime: number;
  extra?: Uint8Array;
}

export interface LogEngine {
  readonly origin: string;
  /** Resolves once the entry is durable and covered by a signed checkpoint. */
  append(req: AppendRequest): Promise<AppendResult>;
  /** The latest signed checkpoint. */
  checkpoint(): Promise<SignedCheckpoint>;
  entry(index: number): Promise<StoredEntry | undefined>;
  entryByLeafHash(leafHash: Uint8Array): Promise<StoredEntry | undefined>;
  /** RFC 6962 §2.1.1 audit path for `index` in the tree of `treeSize` (leaf to root order). */
  inclusionProof(index: number, treeSize: number): Promise<Uint8Array[]>;
  /** RFC 6962 §2.1.2 consistency proof between two tree sizes. */
  consistencyProof(fromSize: number, toSize: number): Promise<Uint8Array[]>;
  /** The root hash of the tree at an earlier published size (RFC 6962 §2.1 MTH). */
  rootAt(size: number): Promise<Uint8Array>;
  /** tlog-tiles hash tile bytes; `width` for a partial tile (1..255), undefined for full. */
  tile(level: number, index: number, width?: number): Promise<Uint8Array | undefined>;
  /** tlog-tiles entry bundle bytes (u16 length-prefixed entries). */
  entryBundle(index: number, width?: number): Promise<Uint8Array | undefined>;
  /** Indices of entries stored under a search key, ascending (none for a key no store holds). */
  search(key: string): Promise<number[]>;
  /** Change stored entries' search keys (an index migration of the service that wrote them). */
  updateSearchKeys(changes: SearchKeyChange[]): Promise<void>;
  /**
   * The search index a page at a time (an index migration reads it whole): each row's key, as
   * searched for, and the entry it names, in the store's order; `next` (a position in the
   * store's terms) continues after the page, and is absent after the last one.
   */
  searchPage(
    after: SearchRow | undefined,
    limit: number,
  ): Promise<{ rows: SearchRow[]; next: SearchRow | undefined }>;
  close(): Promise<void>;
}
