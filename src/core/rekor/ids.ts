import { invalid } from '../errors.ts';
import { toHex } from '../encoding/hex.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

/**
 * Rekor v1 identifiers (rekor pkg/sharding/sharding.go; servers.md §2.3):
 * UUID = hex(leaf hash) = hex SHA-256(0x00 || body), 64 hex digits;
 * entryID = 16-hex zero-padded tree ID + UUID, 80 hex digits.
 */
export function entryUuid(leafHash: Uint8Array): string {
  return toHex(leafHash);
}

export function entryId(treeId: bigint, uuid: string): string {
  return treeIdHex(treeId) + uuid;
}

export function treeIdHex(treeId: bigint): string {
  return treeId.toString(16).padStart(16, '0');
}

/**
 * A Trillian-style tree ID (positive int64) for a log shard, derived from its key so it is
 * stable across restarts: the first 8 bytes of SHA-256("signet rekor tree" || SPKI DER) with
 * the sign bit cleared (0 is not a valid Trillian tree ID, so it maps to 1).
 */
export function treeIdForKey(spki: Uint8Array): bigint {
  const h = createHash('sha256').update('signet rekor tree\n').update(spki).digest();
  const id = h.readBigUInt64BE(0) & 0x7fffffffffffffffn;
  return id === 0n ? 1n : id;
}

/** A path parameter that is a 64-hex UUID or an 80-hex entryID (either case). */
export function parseEntryRef(text: string, field: string): { uuid: string; treeId?: bigint } {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return { uuid: text.toLowerCase() };
  if (/^[0-9a-fA-F]{80}$/.test(text))
    return {
      treeId: BigInt(`0x${text.slice(0, 16)}`),
      uuid: text.slice(16).toLowerCase(),
    };
  throw invalid(field, 'must be a 64-hex-digit UUID or an 80-hex-digit entry ID');
}
