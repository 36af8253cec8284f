/**
 * The read path of a C2SP static-ct-api log (c2sp.org/static-ct-api): a CT log published as
 * tiles, as TesseraCT (public-good's CT log) and Sunlight serve it.
 *  - `checkpoint`: a signed note whose signature is an RFC6962NoteSignature (c2sp.org/signed-note,
 *    key type 0x05): key ID = SHA-256(origin || 0x0A || 0x05 || log ID)[:4]; signature = the
 *    timestamp (uint64) || an RFC 6962 DigitallySigned TreeHeadSignature over the note's size
 *    and root hash at that timestamp.
 *  - `tile/<L>/<N>`: hash tiles, as in c2sp.org/tlog-tiles.
 *  - `tile/data/<N>`: data tiles, TileLeaf entries one after another:
 *      TimestampedEntry (timestamp u64, entry_type u16, signed_entry, extensions <u16>),
 *      then for a precert entry the pre_certificate <u24>, then the chain's SHA-256 fingerprints
 *      <u16>. The Merkle leaf of an entry is its MerkleTreeLeaf: 0x00 0x00 || TimestampedEntry.
 *  - The entry's CtExtensions carry its `leaf_index` (extension type 0, a 40-bit index).
 */
import type { KeyObject } from 'node:crypto';
import { invalid } from '../errors.ts';
import type { NoteVerifier } from '../note/note.ts';
import { parseCheckpoint } from '../note/checkpoint.ts';
import { TlsReader, tlsWriter } from './sct.ts';
import { verifyTreeHead } from './sth.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

/** c2sp.org/signed-note: the key type byte of an RFC6962NoteSignature. */
const RFC6962_NOTE_SIGNATURE = 0x05;
/** static-ct-api: the CtExtensions type of `leaf_index`. */
const LEAF_INDEX_EXTENSION = 0;

/** The 4-byte key ID (as a uint32) of a CT log's checkpoints: SHA-256(origin, 0x0A, 0x05, log ID). */
export function rfc6962NoteKeyId(origin: string, logId: Uint8Array): number {
  const h = createHash('sha256')
    .update(origin)
    .update(Uint8Array.of(0x0a, RFC6962_NOTE_SIGNATURE))
    .update(logId)
    .digest();
  return h.readUInt32BE(0);
}

/**
 * A verifier of a static-CT log's checkpoint signatures with the log's key (from the trusted
 * root): the tree head signed is the size and root hash of the note's own text.
 */
export function rfc6962NoteVerifier(
  origin: string,
  logId: Uint8Array,
  key: KeyObject,
): NoteVerifier {
  return {
    name: origin,
    keyId: rfc6962NoteKeyId(origin, logId),
    verify(text: Uint8Array, signature: Uint8Array): boolean {
      try {
        const r = new TlsReader(signature, 'signature');
        const timestamp = r.uint(8);
        const treeHeadSignature = r.take(signature.length - 8);
        const cp = parseCheckpoint(new TextDecoder().decode(text), 'checkpoint');
        return verifyTreeHead(key, {
          treeSize: cp.size,
          timestamp,
          rootHash: cp.rootHash,
          treeHeadSignature,
        });
      } catch {
        return false;
      }
    },
  };
}

/** One data-tile entry: its Merkle leaf, the precertificate, the chain's fingerprints. */
export interface TileLeaf {
  /** The MerkleTreeLeaf (RFC 6962 §3.4) the tree hashes. */
  leaf: Uint8Array;
  /** The entry's leaf_index extension, if it has one. */
  leafIndex: number | undefined;
  /** precert entries: the submitted precertificate (DER). */
  precertificate?: Uint8Array;
  /** SHA-256 of each certificate of the submitted chain, issuer first. */
  chain: Uint8Array[];
}

/** The `leaf_index` of a CtExtensions block, undefined when it has none. */
export function leafIndexOf(extensions: Uint8Array, field: string): number | undefined {
  const r = new TlsReader(extensions, field);
  let found: number | undefined;
  while (r.pos < extensions.length) {
    const type = r.uint(1);
    const data = r.vector(2);
    if (type !== LEAF_INDEX_EXTENSION) continue;
    if (found !== undefined) throw invalid(field, 'has two leaf_index extensions');
    if (data.length !== 5) throw invalid(field, 'has a leaf_index that is not 5 bytes');
    found = new TlsReader(data, field).uint(5);
  }
  return found;
}

/** The entries of a data tile (`tile/data/<N>`), strictly: no trailing or short bytes. */
export function decodeDataTile(bytes: Uint8Array, field: string): TileLeaf[] {
  const r = new TlsReader(bytes, field);
  const out: TileLeaf[] = [];
  while (r.pos < bytes.length) {
    const start = r.pos;
    r.uint(8); // timestamp
    const type = r.uint(2);
    let precertificate: Uint8Array | undefined;
    if (type === 0) r.vector(3);
    else if (type === 1) {
      r.take(32); // issuer_key_hash
      r.vector(3); // TBSCertificate
    } else throw invalid(`${field}[${out.length}]`, `has entry type ${type}, not x509 or precert`);
    const extensions = r.vector(2);
    const entryEnd = r.pos;
    if (type === 1) precertificate = r.vector(3);
    const fingerprints = r.vector(2);
    if (fingerprints.length % 32 !== 0)
      throw invalid(`${field}[${out.length}]`, 'has a chain fingerprint that is not 32 bytes');
    const chain: Uint8Array[] = [];
    for (let i = 0; i < fingerprints.length; i += 32) chain.push(fingerprints.subarray(i, i + 32));
    const leaf = tlsWriter().uint(0, 1).uint(0, 1).raw(bytes.subarray(start, entryEnd)).bytes();
    const e: TileLeaf = {
      leaf,
      leafIndex: leafIndexOf(extensions, `${field}[${out.length}].extensions`),
      chain,
    };
    if (precertificate) e.precertificate = precertificate;
    out.push(e);
  }
  return out;
}
