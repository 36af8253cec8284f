/**
 * A sequenced batch as it crosses to the SQLite writer thread (sqlite.ts → sqlite-writer.ts):
 * the entries' byte strings packed into a few ArrayBuffers that are transferred, not cloned.
 * Cloned as objects, each entry cost the HTTP thread (and the writer) a serialization of seven
 * fields and two or three byte arrays with a backing store each: about 5 % of the HTTP thread's
 * admission work went into the commit message (bench/rekor.bench.ts, --cpu-prof).
 */
import {
  type PackedBytes,
  packBytes,
  packedTransferables,
} from '../../core/encoding/packed-bytes.ts';
import type { NewEntry } from './types.ts';

export interface PackedEntries {
  indexes: Float64Array<ArrayBuffer>;
  integratedTimes: Float64Array<ArrayBuffer>;
  leaves: PackedBytes;
  /** 32 bytes per entry. */
  leafHashes: Uint8Array<ArrayBuffer>;
  /** The entry's dedupe key, or null when it is its leaf hash (the usual case). */
  dedupeKeys: Array<Uint8Array | null>;
  extras: Array<Uint8Array | null>;
  /** Every entry's search keys in order, and how many each entry has. */
  searchKeys: string[];
  searchKeyCounts: Uint32Array<ArrayBuffer>;
}

/** Byte-wise equality (also used by the writer thread). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || (a.length === b.length && Buffer.compare(a, b) === 0);
}

export function packEntries(entries: readonly NewEntry[]): PackedEntries {
  const n = entries.length;
  const p: PackedEntries = {
    indexes: new Float64Array(n),
    integratedTimes: new Float64Array(n),
    leaves: packBytes(entries.map((e) => e.leaf)),
    leafHashes: new Uint8Array(n * 32),
    dedupeKeys: new Array<Uint8Array | null>(n),
    extras: new Array<Uint8Array | null>(n),
    searchKeys: [],
    searchKeyCounts: new Uint32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    if (e.leafHash.length !== 32) throw new Error(`entry ${e.index}: a leaf hash is 32 bytes`);
    p.indexes[i] = e.index;
    p.integratedTimes[i] = e.integratedTime;
    p.leafHashes.set(e.leafHash, i * 32);
    p.dedupeKeys[i] = sameBytes(e.dedupeKey, e.leafHash) ? null : e.dedupeKey;
    p.extras[i] = e.extra ?? null;
    p.searchKeys.push(...e.searchKeys);
    p.searchKeyCounts[i] = e.searchKeys.length;
  }
  return p;
}

/** The buffers postMessage can move instead of copying (the packed batch owns them). */
export function transferables(p: PackedEntries): ArrayBuffer[] {
  return [
    p.indexes.buffer,
    p.integratedTimes.buffer,
    ...packedTransferables(p.leaves),
    p.leafHashes.buffer,
    p.searchKeyCounts.buffer,
  ];
}
