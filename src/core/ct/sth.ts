import type { KeyObject } from 'node:crypto';
import { invalid } from '../errors.ts';
import { HASH_SHA256, SIG_ECDSA, SIG_ED25519, SIG_RSA, TlsReader, tlsWriter } from './sct.ts';
const { sign: nodeSign, verify: nodeVerify } = process.getBuiltinModule('node:crypto');

/** RFC 6962 §3.5 signed tree head. */
export interface SignedTreeHead {
  treeSize: number;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  rootHash: Uint8Array;
  /** TLS DigitallySigned struct bytes (hash u8, sig u8, signature u16-prefixed). */
  treeHeadSignature: Uint8Array;
}

/** The bytes a tree head signature covers: TreeHeadSignature{v1, tree_hash(1), ts, size, root}. */
export function treeHeadSignedData(
  treeSize: number,
  timestamp: number,
  rootHash: Uint8Array,
): Uint8Array {
  if (rootHash.length !== 32) throw new RangeError('root hash must be 32 bytes');
  return tlsWriter()
    .uint(0, 1)
    .uint(1, 1)
    .uint(timestamp, 8)
    .uint(treeSize, 8)
    .raw(rootHash)
    .bytes();
}

function algs(key: KeyObject): { hash: number; sig: number; node: string | null } {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return { hash: HASH_SHA256, sig: SIG_ECDSA, node: 'sha256' };
    case 'rsa':
      return { hash: HASH_SHA256, sig: SIG_RSA, node: 'sha256' };
    case 'ed25519':
      return { hash: 0, sig: SIG_ED25519, node: null };
  }
  throw new Error(`unsupported CT log key type ${key.asymmetricKeyType}`);
}

/** Encodes a TLS DigitallySigned struct (RFC 5246 §4.7) made by `key` over `data`. */
export function digitallySign(key: KeyObject, data: Uint8Array): Uint8Array {
  const a = algs(key);
  const sig = new Uint8Array(nodeSign(a.node, data, key));
  return tlsWriter().uint(a.hash, 1).uint(a.sig, 1).vector(sig, 2).bytes();
}

/** Checks a DigitallySigned struct; false on any mismatch, never throws on bad signatures. */
export function verifyDigitallySigned(
  key: KeyObject,
  data: Uint8Array,
  signed: Uint8Array,
): boolean {
  let hash: number, sig: number, signature: Uint8Array;
  try {
    const r = new TlsReader(signed, 'signature');
    hash = r.uint(1);
    sig = r.uint(1);
    signature = r.vector(2);
    r.end();
  } catch {
    return false;
  }
  const a = algs(key);
  if (hash !== a.hash || sig !== a.sig) return false;
  try {
    return nodeVerify(a.node, data, key, signature);
  } catch {
    return false;
  }
}

export function signTreeHead(
  key: KeyObject,
  treeSize: number,
  timestamp: number,
  rootHash: Uint8Array,
): SignedTreeHead {
  return {
    treeSize,
    timestamp,
    rootHash,
    treeHeadSignature: digitallySign(key, treeHeadSignedData(treeSize, timestamp, rootHash)),
  };
}

export function verifyTreeHead(key: KeyObject, sth: SignedTreeHead): boolean {
  return verifyDigitallySigned(
    key,
    treeHeadSignedData(sth.treeSize, sth.timestamp, sth.rootHash),
    sth.treeHeadSignature,
  );
}

/** RFC 6962 §4.6 extra_data of a precert entry: PrecertChainEntry{pre_certificate, chain}. */
export function encodeChainExtraData(
  precert: Uint8Array | undefined,
  chain: Uint8Array[],
): Uint8Array {
  const list = tlsWriter();
  for (const c of chain) list.vector(c, 3);
  const w = tlsWriter();
  if (precert) w.vector(precert, 3);
  return w.vector(list.bytes(), 3).bytes();
}

export function parseChainExtraData(
  bytes: Uint8Array,
  precert: boolean,
  field = 'extra_data',
): { precertificate?: Uint8Array; chain: Uint8Array[] } {
  const r = new TlsReader(bytes, field);
  const out: { precertificate?: Uint8Array; chain: Uint8Array[] } = { chain: [] };
  if (precert) out.precertificate = r.vector(3);
  const list = r.vector(3);
  r.end();
  const lr = new TlsReader(list, field);
  while (lr.pos < list.length) out.chain.push(lr.vector(3));
  if (out.chain.length === 0 && !precert) throw invalid(field, 'has an empty chain');
  return out;
}
