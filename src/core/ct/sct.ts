import type { KeyObject } from 'node:crypto';
import { invalid, SignetError } from '../errors.ts';
import { BytesMap } from '../cache.ts';
import {
  bytesEqual,
  children,
  content,
  encodeOid,
  readTlv,
  slice,
  TAG,
  tlv,
} from '../encoding/der.ts';
import { extensionOf, OID, type X509Certificate } from '../x509/certificate.ts';
const { createHash, sign: nodeSign, verify: nodeVerify } = process.getBuiltinModule('node:crypto');

/**
 * RFC 6962 signed certificate timestamps: the TLS structures (§3.2, §3.3), the data an SCT
 * signs, and checking one against a CT log key.
 */
export interface Sct {
  /** 0 = v1, the only version. */
  version: number;
  /** SHA-256 of the log's SubjectPublicKeyInfo DER. */
  logId: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  /** CtExtensions (opaque; static-ct logs put leaf_index here). */
  extensions: Uint8Array;
  /** TLS HashAlgorithm (4 = sha256) and SignatureAlgorithm (1 = rsa, 3 = ecdsa, 7 = ed25519). */
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Uint8Array;
}

export const HASH_SHA256 = 4;
export const SIG_RSA = 1;
export const SIG_ECDSA = 3;
export const SIG_ED25519 = 7;

const TLS_HASH: Record<number, string> = { 4: 'sha256', 5: 'sha384', 6: 'sha512' };

/** A byte writer for TLS presentation-language structures (RFC 5246 §4). */
class TlsWriter {
  private parts: Uint8Array[] = [];
  private size = 0;
  uint(value: number, bytes: number): this {
    const b = new Uint8Array(bytes);
    let v = BigInt(value);
    for (let i = bytes - 1; i >= 0; i--) {
      b[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    if (v !== 0n) throw new RangeError(`${value} does not fit in ${bytes} bytes`);
    return this.raw(b);
  }
  raw(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
  /** A variable-length vector with a `lenBytes`-byte length prefix. */
  vector(b: Uint8Array, lenBytes: number): this {
    return this.uint(b.length, lenBytes).raw(b);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let pos = 0;
    for (const p of this.parts) {
      out.set(p, pos);
      pos += p.length;
    }
    return out;
  }
}

/** A reader for the same; errors name `field`. */
export class TlsReader {
  pos = 0;
  readonly buf: Uint8Array;
  private readonly field: string;
  constructor(buf: Uint8Array, field: string) {
    this.buf = buf;
    this.field = field;
  }
  uint(bytes: number): number {
    if (this.pos + bytes > this.buf.length) throw invalid(this.field, 'is truncated');
    let v = 0;
    for (let i = 0; i < bytes; i++) v = v * 256 + this.buf[this.pos++]!;
    return v;
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw invalid(this.field, 'is truncated');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  vector(lenBytes: number): Uint8Array {
    return this.take(this.uint(lenBytes));
  }
  end(): void {
    if (this.pos !== this.buf.length)
      throw invalid(this.field, `has ${this.buf.length - this.pos} trailing bytes`);
  }
}

export function tlsWriter(): TlsWriter {
  return new TlsWriter();
}

/** TLS encoding of one SCT (RFC 6962 §3.2 SignedCertificateTimestamp). */
export function encodeSct(sct: Sct): Uint8Array {
  return new TlsWriter()
    .uint(sct.version, 1)
    .raw(sct.logId)
    .uint(sct.timestamp, 8)
    .vector(sct.extensions, 2)
    .uint(sct.hashAlgorithm, 1)
    .uint(sct.signatureAlgorithm, 1)
    .vector(sct.signature, 2)
    .bytes();
}

export function parseSct(bytes: Uint8Array, field = 'sct'): Sct {
  const r = new TlsReader(bytes, field);
  const version = r.uint(1);
  if (version !== 0) throw invalid(field, `SCT version ${version} is not v1 (0)`);
  const sct: Sct = {
    version,
    logId: r.take(32),
    timestamp: r.uint(8),
    extensions: r.vector(2),
    hashAlgorithm: r.uint(1),
    signatureAlgorithm: r.uint(1),
    signature: r.vector(2),
  };
  r.end();
  return sct;
}

/** RFC 6962 §3.3 SignedCertificateTimestampList: u16 total, each SCT u16-prefixed. */
export function encodeSctList(scts: readonly Sct[]): Uint8Array {
  const inner = new TlsWriter();
  for (const s of scts) inner.vector(encodeSct(s), 2);
  return new TlsWriter().vector(inner.bytes(), 2).bytes();
}

export function parseSctList(bytes: Uint8Array, field = 'sctList'): Sct[] {
  const r = new TlsReader(bytes, field);
  const list = r.vector(2);
  r.end();
  const lr = new TlsReader(list, field);
  const out: Sct[] = [];
  while (lr.pos < list.length) out.push(parseSct(lr.vector(2), `${field}[${out.length}]`));
  if (out.length === 0) throw invalid(field, 'is empty');
  return out;
}

/** The SCT extension value: an OCTET STRING wrapping the TLS list (RFC 6962 §3.3). */
export function encodeSctListExtension(scts: readonly Sct[]): Uint8Array {
  return tlv(TAG.OCTET_STRING, encodeSctList(scts));
}

/**
 * The SCTs embedded in a certificate (empty when it has no SCT list extension). Read once per
 * certificate object (the parse of fixed bytes) and shared: never modify the result.
 */
export function embeddedScts(cert: X509Certificate): readonly Sct[] {
  let scts = sctsOf.get(cert);
  if (!scts) {
    scts = Object.freeze(readEmbeddedScts(cert));
    sctsOf.set(cert, scts);
  }
  return scts;
}

const sctsOf = new WeakMap<X509Certificate, readonly Sct[]>();

function readEmbeddedScts(cert: X509Certificate): Sct[] {
  const ext = extensionOf(cert, OID.sctList);
  if (!ext) return [];
  const field = `certificate.extensions[${OID.sctList}]`;
  const t = readTlv(ext.value, 0, field);
  if (t.tag !== TAG.OCTET_STRING || t.end !== ext.value.length)
    throw invalid(field, 'is not an OCTET STRING');
  return parseSctList(content(ext.value, t), field);
}

const SCT_LIST_OID = encodeOid(OID.sctList);

/**
 * The precertificate TBS a CT log signed for `cert` (RFC 6962 §3.2): the final TBS with the
 * SCT list extension removed, every other byte kept. DER-level, so no re-encoding can move it.
 */
export function precertTbs(cert: X509Certificate): Uint8Array {
  // Rebuilt once per certificate object (the parse of fixed bytes; verifiers reuse it).
  let tbs = precertTbsOf.get(cert);
  if (!tbs) {
    tbs = removeExtension(cert.tbs, SCT_LIST_OID, 'certificate.tbsCertificate');
    precertTbsOf.set(cert, tbs);
  }
  return tbs;
}

const precertTbsOf = new WeakMap<X509Certificate, Uint8Array>();

/** A precertificate's TBS without its poison extension: what the log and the SCT cover. */
export function tbsWithoutPoison(precert: X509Certificate, field = 'precertificate'): Uint8Array {
  return removeExtension(precert.tbs, POISON_OID, field);
}

const POISON_OID = encodeOid(OID.ctPoison);

/** TBS DER with the extension `oidDer` removed, every other byte kept; error if absent. */
function removeExtension(tbs: Uint8Array, oidDer: Uint8Array, field: string): Uint8Array {
  const top = readTlv(tbs, 0, field);
  const fields = children(tbs, top, field);
  const out: Uint8Array[] = [];
  let removed = false;
  for (const f of fields) {
    if (f.tag !== 0xa3) {
      out.push(slice(tbs, f));
      continue;
    }
    const seq = children(tbs, f, field)[0];
    if (!seq || seq.tag !== TAG.SEQUENCE) throw invalid(field, 'extensions are malformed');
    const kept: Uint8Array[] = [];
    for (const ext of children(tbs, seq, field)) {
      const id = children(tbs, ext, field)[0];
      if (id && bytesEqual(slice(tbs, id), oidDer)) removed = true;
      else kept.push(slice(tbs, ext));
    }
    if (kept.length > 0) out.push(tlv(0xa3, tlv(TAG.SEQUENCE, ...kept)));
  }
  if (!removed)
    throw invalid(
      field,
      bytesEqual(oidDer, POISON_OID) ? 'has no CT poison extension' : 'has no SCT list extension',
    );
  return tlv(TAG.SEQUENCE, ...out);
}

export type SignedEntry =
  | { type: 'x509'; certificate: Uint8Array }
  | { type: 'precert'; issuerKeyHash: Uint8Array; tbs: Uint8Array };

/** Encodes the `signed_entry` part shared by the SCT signature input and the Merkle leaf. */
function writeEntry(w: TlsWriter, entry: SignedEntry): TlsWriter {
  if (entry.type === 'x509') return w.uint(0, 2).vector(entry.certificate, 3);
  if (entry.issuerKeyHash.length !== 32) throw new RangeError('issuer_key_hash must be 32 bytes');
  return w.uint(1, 2).raw(entry.issuerKeyHash).vector(entry.tbs, 3);
}

/**
 * The bytes an SCT signature covers (RFC 6962 §3.2 `digitally-signed struct`): version,
 * signature_type certificate_timestamp (0), timestamp, entry_type + signed_entry, extensions.
 */
export function sctSignedData(
  sct: Pick<Sct, 'version' | 'timestamp' | 'extensions'>,
  entry: SignedEntry,
): Uint8Array {
  const w = new TlsWriter().uint(sct.version, 1).uint(0, 1).uint(sct.timestamp, 8);
  return writeEntry(w, entry).vector(sct.extensions, 2).bytes();
}

/** RFC 6962 §3.4 MerkleTreeLeaf (v1, timestamped_entry). */
export function encodeMerkleTreeLeaf(
  timestamp: number,
  entry: SignedEntry,
  extensions: Uint8Array,
): Uint8Array {
  const w = new TlsWriter().uint(0, 1).uint(0, 1).uint(timestamp, 8);
  return writeEntry(w, entry).vector(extensions, 2).bytes();
}

export interface MerkleTreeLeaf {
  timestamp: number;
  entry: SignedEntry;
  extensions: Uint8Array;
}

export function parseMerkleTreeLeaf(bytes: Uint8Array, field = 'leaf_input'): MerkleTreeLeaf {
  const r = new TlsReader(bytes, field);
  if (r.uint(1) !== 0) throw invalid(field, 'is not a v1 MerkleTreeLeaf');
  if (r.uint(1) !== 0) throw invalid(field, 'is not a timestamped_entry');
  const timestamp = r.uint(8);
  const type = r.uint(2);
  let entry: SignedEntry;
  if (type === 0) entry = { type: 'x509', certificate: r.vector(3) };
  else if (type === 1) entry = { type: 'precert', issuerKeyHash: r.take(32), tbs: r.vector(3) };
  else throw invalid(field, `unknown entry type ${type}`);
  const extensions = r.vector(2);
  r.end();
  return { timestamp, entry, extensions };
}

/** RFC 6962 §3.2 LogID: SHA-256 of the log's public key (SubjectPublicKeyInfo DER). */
export function logIdOf(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(spki).digest());
}

/** SHA-256 of the issuer's SubjectPublicKeyInfo DER (precert entries' issuer_key_hash). */
export function issuerKeyHash(issuerSpki: Uint8Array): Uint8Array {
  return logIdOf(issuerSpki);
}

function sigAlgFor(key: KeyObject): number {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return SIG_ECDSA;
    case 'rsa':
      return SIG_RSA;
    case 'ed25519':
      return SIG_ED25519;
  }
  throw new SignetError(
    'unsupported',
    'UNSUPPORTED_KEY',
    `CT log key type ${key.asymmetricKeyType}`,
  );
}

/** Issues an SCT with `key` (the CT log's) over `entry` at `timestamp`. */
export function signSct(
  key: KeyObject,
  logId: Uint8Array,
  timestamp: number,
  entry: SignedEntry,
  extensions: Uint8Array = new Uint8Array(0),
): Sct {
  const base = { version: 0, timestamp, extensions };
  const sigAlg = sigAlgFor(key);
  const data = sctSignedData(base, entry);
  const signature = new Uint8Array(nodeSign(sigAlg === SIG_ED25519 ? null : 'sha256', data, key));
  return {
    ...base,
    logId,
    hashAlgorithm: sigAlg === SIG_ED25519 ? 0 : HASH_SHA256,
    signatureAlgorithm: sigAlg,
    signature,
  };
}

/** Whether `sct` is a valid signature by `logKey` over `entry`. Never throws on bad input. */
export function verifySct(sct: Sct, entry: SignedEntry, logKey: KeyObject): boolean {
  try {
    if (sct.signatureAlgorithm !== sigAlgFor(logKey)) return false;
    const data = sctSignedData(sct, entry);
    if (sct.signatureAlgorithm === SIG_ED25519)
      return nodeVerify(null, data, logKey, sct.signature);
    const hash = TLS_HASH[sct.hashAlgorithm];
    if (!hash) return false;
    return nodeVerify(hash, data, logKey, sct.signature);
  } catch {
    return false;
  }
}

export interface CtLogKey {
  logId: Uint8Array;
  publicKey: KeyObject;
}

export interface EmbeddedSctResult<L extends CtLogKey = CtLogKey> {
  sct: Sct;
  /** The log that issued it (by log ID), when known: the caller's own entry from `logs`. */
  log?: L;
  verified: boolean;
}

const verifiedScts = new BytesMap<true>(256);
const spkis = new WeakMap<KeyObject, Uint8Array>();

function spkiOf(k: KeyObject): Uint8Array {
  let spki = spkis.get(k);
  if (spki === undefined) {
    spki = new Uint8Array(k.export({ format: 'der', type: 'spki' }));
    spkis.set(k, spki);
  }
  return spki;
}

/**
 * Checks every SCT embedded in `cert` (issued by the holder of `issuerSpki`) against `logs`
 * (RFC 6962 §3.2 with the precert entry rebuilt from the final certificate).
 */
export function verifyEmbeddedScts<L extends CtLogKey>(
  cert: X509Certificate,
  issuerSpki: Uint8Array,
  logs: readonly L[],
): EmbeddedSctResult<L>[] {
  const scts = embeddedScts(cert);
  if (scts.length === 0) return [];
  // What the SCTs sign, built only when one is not remembered.
  let entry: SignedEntry | undefined;
  return scts.map((sct, i) => {
    const log = logs.find((l) => bytesEqual(l.logId, sct.logId));
    let verified = false;
    if (log) {
      // One certificate signs many things (a git rebase, a CI job): its SCTs are checked once
      // per (certificate, issuer key, log key, SCT); a miss is checked again, a failure never kept.
      const key = [cert.der, issuerSpki, spkiOf(log.publicKey), Uint8Array.of(i >> 8, i & 0xff)];
      verified = verifiedScts.get(key) ?? false;
      if (!verified) {
        verified = verifySct(
          sct,
          (entry ??= {
            type: 'precert',
            issuerKeyHash: issuerKeyHash(issuerSpki),
            tbs: precertTbs(cert),
          }),
          log.publicKey,
        );
        if (verified) verifiedScts.set(key, true);
      }
    }
    const res: EmbeddedSctResult<L> = { sct, verified };
    if (log) res.log = log;
    return res;
  });
}

/** RFC 6962 §4.1 AddChainResponse JSON (also Fulcio's detached-SCT payload). */
export interface AddChainResponseJson {
  sct_version: number;
  id: string;
  timestamp: number;
  extensions: string;
  signature: string;
}

export function sctToJson(sct: Sct): AddChainResponseJson {
  const sig = new TlsWriter()
    .uint(sct.hashAlgorithm, 1)
    .uint(sct.signatureAlgorithm, 1)
    .vector(sct.signature, 2)
    .bytes();
  return {
    sct_version: sct.version,
    id: Buffer.from(sct.logId).toString('base64'),
    timestamp: sct.timestamp,
    extensions: Buffer.from(sct.extensions).toString('base64'),
    signature: Buffer.from(sig).toString('base64'),
  };
}

export function sctFromJson(json: unknown, field = 'sct'): Sct {
  if (typeof json !== 'object' || json === null) throw invalid(field, 'must be an object');
  const j = json as Record<string, unknown>;
  const b64 = (k: string): Uint8Array => {
    const v = j[k];
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
      throw invalid(`${field}.${k}`, 'must be a base64 string');
    return new Uint8Array(Buffer.from(v, 'base64'));
  };
  if (j['sct_version'] !== 0) throw invalid(`${field}.sct_version`, 'must be 0 (v1)');
  const ts = j['timestamp'];
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0)
    throw invalid(`${field}.timestamp`, 'must be a non-negative integer');
  const logId = b64('id');
  if (logId.length !== 32) throw invalid(`${field}.id`, 'must be 32 bytes');
  const r = new TlsReader(b64('signature'), `${field}.signature`);
  const hashAlgorithm = r.uint(1);
  const signatureAlgorithm = r.uint(1);
  const signature = r.vector(2);
  r.end();
  return {
    version: 0,
    logId,
    timestamp: ts,
    extensions: b64('extensions'),
    hashAlgorithm,
    signatureAlgorithm,
    signature,
  };
}
