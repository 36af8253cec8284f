import { canonicalBytes } from '../encoding/canonical-json.ts';
import { asciiBytes } from '../encoding/ascii.ts';
import { toBase64 } from '../encoding/base64.ts';
import { toHex } from '../encoding/hex.ts';

/**
 * Wire forms of log entries: Rekor v1's LogEntry JSON with its SignedEntryTimestamp, and the
 * protobuf-specs TransparencyLogEntry JSON that Rekor v2 answers with.
 */

const UTF8 = new TextEncoder();

/**
 * The bytes a SignedEntryTimestamp signs (rekor pkg/api/entries.go signEntry; servers.md §2.4):
 * JCS of exactly {body, integratedTime, logID, logIndex}.
 */
export function setPayload(e: {
  body: Uint8Array;
  integratedTime: number;
  logId: Uint8Array;
  logIndex: number;
  /** base64 of `body`, when the caller has it already (the v1 answer carries it too). */
  bodyBase64?: string;
}): Uint8Array {
  // Signed once per admitted entry: written out directly. This is JCS (RFC 8785) of the four
  // fields: keys in sorted order, base64/hex strings need no escaping, and safe integers
  // serialize as their decimal digits (§3.2.2.3). Anything else takes the general encoder.
  const body = e.bodyBase64 ?? toBase64(e.body);
  if (Number.isSafeInteger(e.integratedTime) && Number.isSafeInteger(e.logIndex))
    return asciiBytes(
      `{"body":"${body}","integratedTime":${e.integratedTime},"logID":"${toHex(e.logId)}","logIndex":${e.logIndex}}`,
    );
  return canonicalBytes({
    body,
    integratedTime: e.integratedTime,
    logID: toHex(e.logId),
    logIndex: e.logIndex,
  });
}

export interface V1EntryParts {
  entryId: string;
  body: Uint8Array;
  integratedTime: number;
  /** SHA-256 of the log key's SPKI (Rekor v1 logID). */
  logId: Uint8Array;
  /** Global (virtual) index across shards. */
  logIndex: number;
  /** Index within the shard's tree. */
  shardIndex: number;
  set: Uint8Array;
  proof: { rootHash: Uint8Array; treeSize: number; hashes: Uint8Array[]; checkpoint: string };
  attestation?: Uint8Array;
  /** base64 of `body`, when the caller has it already. */
  bodyBase64?: string;
}

/**
 * The LogEntry map `{"<entryID>": LogEntry}` every v1 entry endpoint answers with, as UTF-8 JSON,
 * fields in the order Rekor's Go models marshal them (models.LogEntryAnon: attestation, body,
 * integratedTime, logID, logIndex, verification; InclusionProof: checkpoint, hashes, logIndex,
 * rootHash, treeSize). Written out directly, once per admitted entry: every value is a number,
 * hex or base64 except the checkpoint, whose note signature lines start with "—" (U+2014), so
 * the checkpoint is encoded on its own (checkpointJson) and the ASCII pieces around it are copied
 * into the answer's buffer as they are: joining them into one string first made V8 flatten a
 * kilobyte of base64 and then encode it again.
 */
export function v1LogEntryJson(p: V1EntryParts): Buffer {
  const attestation = p.attestation ? `"attestation":{"data":"${toBase64(p.attestation)}"},` : '';
  return asciiAround([
    `{${JSON.stringify(p.entryId)}:{${attestation}"body":"`,
    p.bodyBase64 ?? toBase64(p.body),
    `","integratedTime":${int(p.integratedTime)},"logID":"${toHex(p.logId)}","logIndex":${int(p.logIndex)},` +
      `"verification":{"inclusionProof":{"checkpoint":`,
    checkpointJson(p.proof.checkpoint),
    ',"hashes":[',
    new HexItems(p.proof.hashes),
    `],"logIndex":${int(p.shardIndex)},"rootHash":"${toHex(p.proof.rootHash)}",` +
      `"treeSize":${int(p.proof.treeSize)}},"signedEntryTimestamp":"${toBase64(p.set)}"}}}`,
  ]);
}

/** ASCII text pieces, encoded bytes and hex items, in order, in one buffer. */
function asciiAround(parts: Array<string | Uint8Array | HexItems>): Buffer {
  let size = 0;
  for (const x of parts) size += x.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const x of parts)
    if (typeof x === 'string') at += out.write(x, at, 'latin1');
    else if (x instanceof HexItems) at = x.writeTo(out, at);
    else {
      out.set(x, at);
      at += x.length;
    }
  return out;
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * Byte strings as the items of a JSON list of lowercase hex strings (`"0a1b","2c3d"`), written
 * straight into the answer: an inclusion proof's hashes as a string each, quoted and joined, were
 * the largest share of the answer's allocations.
 */
class HexItems {
  readonly #items: readonly Uint8Array[];
  readonly length: number;

  constructor(items: readonly Uint8Array[]) {
    this.#items = items;
    let n = Math.max(0, items.length - 1); // commas
    for (const b of items) n += 2 * b.length + 2;
    this.length = n;
  }

  writeTo(out: Buffer, from: number): number {
    let at = from;
    for (let i = 0; i < this.#items.length; i++) {
      if (i > 0) out[at++] = 0x2c; // ,
      out[at++] = 0x22; // "
      for (const byte of this.#items[i]!) {
        out[at++] = HEX_DIGITS[byte >> 4]!;
        out[at++] = HEX_DIGITS[byte & 15]!;
      }
      out[at++] = 0x22;
    }
    return at;
  }
}

/**
 * A checkpoint as a JSON string in UTF-8. The answers to one sequenced batch carry the same
 * checkpoint: the last one is kept (one, compared by its whole text).
 */
function checkpointJson(note: string): Uint8Array {
  if (lastCheckpoint?.note !== note)
    lastCheckpoint = { note, json: UTF8.encode(JSON.stringify(note)) };
  return lastCheckpoint.json;
}
let lastCheckpoint: { note: string; json: Uint8Array } | undefined;

/** A count or index as JSON (decimal digits); anything else is a bug upstream. */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${n} is not a safe integer`);
  return String(n);
}

export interface V2EntryParts {
  logIndex: number;
  /** The checkpoint key ID, full 32 bytes (logId.keyId). */
  logKeyId: Uint8Array;
  kind: string;
  version: string;
  body: Uint8Array;
  proof: { rootHash: Uint8Array; treeSize: number; hashes: Uint8Array[]; checkpoint: string };
}

/**
 * protobuf-specs TransparencyLogEntry as protojson with EmitUnpopulated (rekor-tiles'
 * answer; servers.md §3.2): int64 as strings, bytes as base64, integratedTime "0", no promise.
 */
export function v2TransparencyLogEntry(p: V2EntryParts): Record<string, unknown> {
  return {
    logIndex: String(p.logIndex),
    logId: { keyId: toBase64(p.logKeyId) },
    kindVersion: { kind: p.kind, version: p.version },
    integratedTime: '0',
    inclusionPromise: null,
    inclusionProof: {
      logIndex: String(p.logIndex),
      rootHash: toBase64(p.proof.rootHash),
      treeSize: String(p.proof.treeSize),
      hashes: p.proof.hashes.map(toBase64),
      checkpoint: { envelope: p.proof.checkpoint },
    },
    canonicalizedBody: toBase64(p.body),
  };
}
