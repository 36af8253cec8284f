import { invalid } from '../errors.ts';
import { ProtoWriter, readProtoFields, type ProtoField } from '../encoding/protobuf.ts';

/**
 * protobuf-specs `dev.sigstore.rekor.v1.TransparencyLogEntry` in its binary form (sigstore_rekor.proto:
 * log_index 1, log_id 2 {key_id 1}, kind_version 3 {kind 1, version 2}, integrated_time 4,
 * inclusion_promise 5 {signed_entry_timestamp 1}, inclusion_proof 6 {log_index 1, root_hash 2,
 * tree_size 3, hashes 4, checkpoint 5 {envelope 1}}, canonicalized_body 7), as gitsign embeds
 * it in a signature. Converted to and from its protobuf JSON form, which the bundle layer parses
 * strictly: int64 as decimal strings, bytes as base64.
 */
export interface TlogEntryProtoJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  inclusionProof?: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
  canonicalizedBody: string;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function text(f: ProtoField, field: string): string {
  try {
    return UTF8.decode(bytesOf(f, field));
  } catch {
    throw invalid(field, 'is not UTF-8 text');
  }
}

function bytesOf(f: ProtoField, field: string): Uint8Array {
  if (f.bytes === undefined) throw invalid(field, 'has the wrong protobuf wire type');
  return f.bytes;
}

function int64(f: ProtoField, field: string): string {
  if (f.varint === undefined) throw invalid(field, 'has the wrong protobuf wire type');
  if (f.varint > 0x7fffffffffffffffn) throw invalid(field, 'must not be negative');
  return f.varint.toString();
}

/** Known fields by number; the last occurrence wins (protobuf merge rule for scalars). */
function byNumber(buf: Uint8Array, field: string): Map<number, ProtoField[]> {
  const m = new Map<number, ProtoField[]>();
  for (const f of readProtoFields(buf, field)) m.set(f.number, [...(m.get(f.number) ?? []), f]);
  return m;
}

function last(m: Map<number, ProtoField[]>, n: number): ProtoField | undefined {
  const l = m.get(n);
  return l?.[l.length - 1];
}

/** Decodes the binary TransparencyLogEntry; errors name the field path under `field`. */
export function decodeTlogEntryProto(buf: Uint8Array, field: string): TlogEntryProtoJson {
  const m = byNumber(buf, field);
  const f = (n: number) => last(m, n);
  const out: TlogEntryProtoJson = {
    logIndex: f(1) ? int64(f(1)!, `${field}.logIndex`) : '0',
    logId: { keyId: '' },
    kindVersion: { kind: '', version: '' },
    integratedTime: f(4) ? int64(f(4)!, `${field}.integratedTime`) : '0',
    canonicalizedBody: f(7) ? b64(bytesOf(f(7)!, `${field}.canonicalizedBody`)) : '',
  };
  if (f(2)) {
    const id = byNumber(bytesOf(f(2)!, `${field}.logId`), `${field}.logId`);
    const k = last(id, 1);
    out.logId.keyId = k ? b64(bytesOf(k, `${field}.logId.keyId`)) : '';
  }
  if (f(3)) {
    const kv = byNumber(bytesOf(f(3)!, `${field}.kindVersion`), `${field}.kindVersion`);
    const k = last(kv, 1);
    const v = last(kv, 2);
    out.kindVersion = {
      kind: k ? text(k, `${field}.kindVersion.kind`) : '',
      version: v ? text(v, `${field}.kindVersion.version`) : '',
    };
  }
  if (f(5)) {
    const p = byNumber(bytesOf(f(5)!, `${field}.inclusionPromise`), `${field}.inclusionPromise`);
    const s = last(p, 1);
    out.inclusionPromise = {
      signedEntryTimestamp: s
        ? b64(bytesOf(s, `${field}.inclusionPromise.signedEntryTimestamp`))
        : '',
    };
  }
  if (f(6)) {
    const g = `${field}.inclusionProof`;
    const p = byNumber(bytesOf(f(6)!, g), g);
    let envelope = '';
    const cp = last(p, 5);
    if (cp) {
      const c = byNumber(bytesOf(cp, `${g}.checkpoint`), `${g}.checkpoint`);
      const e = last(c, 1);
      envelope = e ? text(e, `${g}.checkpoint.envelope`) : '';
    }
    out.inclusionProof = {
      logIndex: last(p, 1) ? int64(last(p, 1)!, `${g}.logIndex`) : '0',
      rootHash: last(p, 2) ? b64(bytesOf(last(p, 2)!, `${g}.rootHash`)) : '',
      treeSize: last(p, 3) ? int64(last(p, 3)!, `${g}.treeSize`) : '0',
      hashes: (p.get(4) ?? []).map((h, i) => b64(bytesOf(h, `${g}.hashes[${i}]`))),
      checkpoint: { envelope },
    };
  }
  return out;
}

/** Encodes a TransparencyLogEntry from its protobuf JSON form. */
export function encodeTlogEntryProto(e: TlogEntryProtoJson): Uint8Array {
  const w = new ProtoWriter()
    .int(1, BigInt(e.logIndex))
    .message(2, new ProtoWriter().bytes(1, unb64(e.logId.keyId)))
    .message(3, new ProtoWriter().bytes(1, e.kindVersion.kind).bytes(2, e.kindVersion.version))
    .int(4, BigInt(e.integratedTime));
  if (e.inclusionPromise)
    w.message(5, new ProtoWriter().bytes(1, unb64(e.inclusionPromise.signedEntryTimestamp)));
  if (e.inclusionProof) {
    const p = new ProtoWriter()
      .int(1, BigInt(e.inclusionProof.logIndex))
      .bytes(2, unb64(e.inclusionProof.rootHash))
      .int(3, BigInt(e.inclusionProof.treeSize));
    // repeated bytes: every element is written, even an empty one.
    for (const h of e.inclusionProof.hashes) p.bytes(4, unb64(h), true);
    p.message(5, new ProtoWriter().bytes(1, e.inclusionProof.checkpoint.envelope));
    w.message(6, p);
  }
  w.bytes(7, unb64(e.canonicalizedBody));
  return w.finish();
}
