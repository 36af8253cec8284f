import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { invalid, SignetError } from '../../core/errors.ts';
import {
  encodeMerkleTreeLeaf,
  issuerKeyHash,
  logIdOf,
  parseMerkleTreeLeaf,
  type Sct,
  type SignedEntry,
  signSct,
  tbsWithoutPoison,
} from '../../core/ct/sct.ts';
import { encodeChainExtraData, signTreeHead, type SignedTreeHead } from '../../core/ct/sth.ts';
import { parseCertificate, type X509Certificate } from '../../core/x509/certificate.ts';
import { bytesEqual } from '../../core/encoding/der.ts';
import type { LogEngine, StoredEntry } from '../../log/types.ts';
import { acceptChain } from './chain.ts';

export interface CtLogKey {
  /** The signing key (private). */
  key: KeyObject;
  spki: Uint8Array;
  logId: Uint8Array;
}

export function ctLogKey(privateKey: KeyObject): CtLogKey {
  const spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  return { key: privateKey, spki, logId: logIdOf(spki) };
}

/** How long one signed tree head is served again while the tree does not change. */
export const STH_MAX_AGE_MS = 60_000;

/** Most entries one get-entries answers (RFC 6962 §4.6 lets a log return fewer). */
const MAX_GET_ENTRIES = 256;

/**
 * An RFC 6962 certificate transparency log on the shared log engine (DESIGN.md layer 3): leaves
 * are MerkleTreeLeaf structures (§3.4), extra_data is stored beside them, SCTs are signed with
 * the log key, and tree heads are signed on request over the engine's latest checkpoint.
 */
export class CtLog {
  readonly engine: LogEngine;
  readonly signer: CtLogKey;
  private readonly acceptedRoots: X509Certificate[] = [];
  private readonly now: () => number;
  private sthCache: SignedTreeHead | undefined;

  constructor(engine: LogEngine, signer: CtLogKey, opts: { now?: () => number } = {}) {
    this.engine = engine;
    this.signer = signer;
    this.now = opts.now ?? Date.now;
  }

  /** Accept chains ending in `root` (the stack's CA registers its roots here). */
  addRoot(root: X509Certificate | Uint8Array): void {
    const cert = root instanceof Uint8Array ? parseCertificate(root, 'root') : root;
    if (!this.acceptedRoots.some((r) => bytesEqual(r.der, cert.der))) this.acceptedRoots.push(cert);
  }

  roots(): readonly X509Certificate[] {
    return this.acceptedRoots;
  }

  /** RFC 6962 §4.1 add-chain: a final certificate, chain verified to an accepted root. */
  async addChain(chainDer: Uint8Array[]): Promise<Sct> {
    const chain = acceptChain(chainDer, this.acceptedRoots, false);
    return this.log(
      { type: 'x509', certificate: chain.certs[0]!.der },
      encodeChainExtraData(undefined, chain.rest),
    );
  }

  /** RFC 6962 §4.2 add-pre-chain: a precertificate, chain verified to an accepted root. */
  async addPreChain(chainDer: Uint8Array[]): Promise<Sct> {
    const chain = acceptChain(chainDer, this.acceptedRoots, true);
    const pre = chain.certs[0]!;
    return this.log(
      {
        type: 'precert',
        issuerKeyHash: issuerKeyHash(chain.issuer.spki),
        tbs: tbsWithoutPoison(pre, 'chain[0]'),
      },
      encodeChainExtraData(pre.der, chain.rest),
    );
  }

  /**
   * In-process path for the stack's own CA (no HTTP hop, no re-verification of a chain it just
   * signed): logs the precertificate whose TBS without poison is `tbs`.
   */
  async logPrecertificate(req: {
    precertificate: Uint8Array;
    tbs: Uint8Array;
    issuerSpki: Uint8Array;
    chain: Uint8Array[];
  }): Promise<Sct> {
    return this.log(
      { type: 'precert', issuerKeyHash: issuerKeyHash(req.issuerSpki), tbs: req.tbs },
      encodeChainExtraData(req.precertificate, req.chain),
    );
  }

  private async log(entry: SignedEntry, extra: Uint8Array): Promise<Sct> {
    const timestamp = this.now();
    const noExtensions: Uint8Array = new Uint8Array(0);
    const leaf = encodeMerkleTreeLeaf(timestamp, entry, noExtensions);
    // One entry per (pre)certificate: a resubmission gets an SCT for the first entry.
    const h = createHash('sha256');
    if (entry.type === 'x509') h.update(Uint8Array.of(0)).update(entry.certificate);
    else h.update(Uint8Array.of(1)).update(entry.issuerKeyHash).update(entry.tbs);
    const res = await this.engine.append({
      leaf,
      dedupeKey: new Uint8Array(h.digest()),
      extra,
    });
    let ts = timestamp;
    let ext = noExtensions;
    if (res.duplicate) {
      const stored = await this.engine.entry(res.index);
      if (!stored) throw new SignetError('internal', 'CT_ENTRY', `entry ${res.index} not found`);
      const parsed = parseMerkleTreeLeaf(stored.leaf);
      ts = parsed.timestamp;
      ext = parsed.extensions;
    }
    return signSct(this.signer.key, this.signer.logId, ts, entry, ext);
  }

  /**
   * RFC 6962 §4.3 get-sth: the engine's latest tree head, signed by the log key. §3.5: its
   * timestamp is the current time (a head is served again for an unchanged tree for at most
   * STH_MAX_AGE_MS, not for as long as the log stays idle), and each new one is later than
   * the one before, even within one millisecond or after the clock stepped back.
   */
  async sth(): Promise<SignedTreeHead> {
    const cp = await this.engine.checkpoint();
    const c = this.sthCache;
    const now = this.now();
    if (
      c &&
      c.treeSize === cp.size &&
      bytesEqual(c.rootHash, cp.rootHash) &&
      now - c.timestamp < STH_MAX_AGE_MS
    )
      return c;
    const timestamp = c ? Math.max(now, c.timestamp + 1) : now;
    const sth = signTreeHead(this.signer.key, cp.size, timestamp, cp.rootHash);
    this.sthCache = sth;
    return sth;
  }

  private async size(): Promise<number> {
    return (await this.engine.checkpoint()).size;
  }

  /** RFC 6962 §4.4 get-sth-consistency. */
  async consistency(first: number, second: number): Promise<Uint8Array[]> {
    const size = await this.size();
    if (first > second) throw invalid('first', `${first} is larger than second (${second})`);
    if (second > size)
      throw invalid('second', `${second} is larger than the current tree size ${size}`);
    if (first === 0 || first === second) return [];
    return this.engine.consistencyProof(first, second);
  }

  /** RFC 6962 §4.5 get-proof-by-hash. */
  async proofByHash(
    leafHash: Uint8Array,
    treeSize: number,
  ): Promise<{ leafIndex: number; auditPath: Uint8Array[] }> {
    const size = await this.size();
    if (treeSize < 1 || treeSize > size)
      throw invalid('tree_size', `must be from 1 to the current tree size ${size}`);
    const e = await this.engine.entryByLeafHash(leafHash);
    if (!e || e.index >= treeSize)
      throw new SignetError(
        'not-found',
        'NOT_FOUND',
        `no entry with that leaf hash in the tree of size ${treeSize}`,
        { field: 'hash' },
      );
    return { leafIndex: e.index, auditPath: await this.engine.inclusionProof(e.index, treeSize) };
  }

  /** RFC 6962 §4.6 get-entries (at most MAX_GET_ENTRIES, clipped to the tree size). */
  async entries(start: number, end: number): Promise<StoredEntry[]> {
    const size = await this.size();
    if (start > end) throw invalid('start', `${start} is larger than end (${end})`);
    if (start >= size) throw invalid('start', `${start} is beyond the current tree size ${size}`);
    const last = Math.min(end, size - 1, start + MAX_GET_ENTRIES - 1);
    const out: StoredEntry[] = [];
    for (let i = start; i <= last; i++) {
      const e = await this.engine.entry(i);
      if (!e) break;
      out.push(e);
    }
    return out;
  }
}
