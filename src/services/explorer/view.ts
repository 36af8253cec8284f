import { createHash, createPublicKey } from 'node:crypto';
import { reasonOf, SignetError } from '../../core/errors.ts';
import { INTOTO_PAYLOAD_TYPE, parseStatement, type Subject } from '../../core/intoto/index.ts';
import { toBase64 } from '../../core/encoding/base64.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import {
  formatCosignerKey,
  verifyCosignatures,
  type CosignerKey,
  type VerifiedCosignature,
} from '../../core/note/cosignature.ts';
import { parseNote } from '../../core/note/note.ts';
import {
  describeEntryBody,
  emailSearchKey,
  entryId,
  entryUuid,
  identitySearchKey,
  issuerSearchKey,
  MAX_ATTESTATION_SIZE,
  type EntryDescription,
} from '../../core/rekor/index.ts';
import { gitCommitSearchKey } from '../../core/rekor/subject-keys.ts';
import { parseCertificate, type X509Certificate } from '../../core/x509/certificate.ts';
import {
  checkIssuedByTrustedCa,
  type CaCheck,
  type TrustedAuthority,
} from '../../core/x509/chain.ts';
import {
  FULCIO_EXTENSION_NAMES,
  FULCIO_OID_PREFIX,
  fulcioExtensions,
  fulcioIssuer,
} from '../../core/x509/fulcio-extensions.ts';
import type { SignedCheckpoint, StoredEntry } from '../../log/types.ts';
import { searchLog } from '../rekor/search.ts';
import { notFound, type Shard, type Shards } from '../rekor/shards.ts';
import type { SearchQuery } from './query.ts';

/**
 * The explorer's reading of the log: search over every shard (newest first, paged), entries
 * described for people (kind, digests, signer, certificate, times), the proof material the
 * browser checks, and each shard's status. Everything comes from the Rekor service's shards
 * and the search keys stored with each entry (core/rekor verifier.ts): no second index.
 */
export const PAGE_SIZE = 20;

const sha256Hex = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

/** An entry as a line of a result list. */
export interface EntrySummary {
  uuid: string;
  /** Rekor v1 global index (entries of earlier shards + index in the shard). */
  logIndex: number;
  shard: number;
  shardIndex: number;
  integratedTime: number;
  kind: string;
  apiVersion: string;
  /**
   * `sha256:<hex>` the entry records: what a hashedrekord's signature covers (a file, or the
   * PAE of a DSSE envelope logged by digest: core/rekor describe.ts DigestOf), or the DSSE payload.
   */
  digest: string | undefined;
  /** The certificate's identity (SAN), or `public key sha256:<fingerprint>`. */
  signer: string;
  issuer: string | undefined;
  /**
   * Whether a CA of the stack's trusted root issued the signing certificate (absent for a key,
   * an unreadable certificate, or a stack without a trusted root): anyone can log a
   * certificate they made naming anyone, and no verifier accepts it.
   */
  issuedByTrustedCa?: boolean;
}

/** Who issued a signing certificate: a CA of the trusted root (its name), or why not. */
export type { CaCheck };

export interface NamedExtension {
  oid: string;
  name: string;
  value: string;
}

export type Validity = 'valid' | 'not-yet-valid' | 'expired';

/** A signer as the entry page shows it. */
export type SignerView =
  | {
      type: 'certificate';
      identities: string[];
      issuer: string | undefined;
      fulcio: NamedExtension[];
      certificate: X509Certificate;
      pem: string;
      fingerprint: string;
      keyFingerprint: string;
      /** The log's time against the certificate's validity. */
      validAtLogTime: Validity;
      /** Undefined when the stack has no trusted root to check against. */
      caCheck: CaCheck | undefined;
    }
  | { type: 'publicKey'; pem: string; keyFingerprint: string; keyType: string };

/**
 * What a DSSE entry's attestation is about: the in-toto statement's subjects and predicate type
 * when the log keeps the payload (Rekor v1 intoto: rekor's attestation storage) and it matches
 * the payload digest the entry records; else why they cannot be shown.
 */
export type AttestationView =
  | { kind: 'statement'; predicateType: string; subjects: Subject[] }
  | { kind: 'unavailable'; reason: string };

export interface EntryView {
  summary: EntrySummary;
  entryId: string;
  origin: string;
  body: Uint8Array;
  description: EntryDescription | undefined;
  /** Why the body could not be read, if it could not. */
  bodyError: string | undefined;
  signers: SignerView[];
  /** For entries that record a DSSE payload digest (dsse, intoto); undefined for others. */
  attestation: AttestationView | undefined;
}

/** What the browser needs to check inclusion itself (explorer assets/check.js). */
export interface ProofView {
  uuid: string;
  shard: number;
  shardIndex: number;
  logIndex: number;
  origin: string;
  /** The entry body (the Merkle leaf), base64. */
  body: string;
  treeSize: number;
  rootHash: string;
  hashes: string[];
  /** The latest signed checkpoint of the entry's shard (a C2SP signed note). */
  checkpoint: string;
  /** The witnesses this stack sends checkpoints to: key name and vkey (c2sp.org/signed-note). */
  witnesses: Array<{ name: string; vkey: string }>;
}

export interface ShardStatus {
  id: number;
  active: boolean;
  origin: string;
  url: string;
  /** Entries in the shard now (the checkpoint below may lag while witnesses cosign). */
  treeSize: number;
  rootHash: string;
  /** The checkpoint readers get: cosigned by the witnesses when the stack has any. */
  checkpoint: string;
  checkpointSize: number;
  /**
   * Signature lines other than the log's own: witness cosignatures, with the time the witness
   * signed when it is one of this stack's witnesses and its cosignature verifies.
   */
  cosignatures: Array<{ name: string; keyId: string; verifiedAt?: number }>;
  entriesLastMinute: number;
}

export interface StatusView {
  shards: ShardStatus[];
  latest: EntrySummary[];
  /** Server time, Unix seconds, so "n seconds ago" needs no trust in the browser's clock. */
  now: number;
}

/** The identity a certificate names for lists: SANs as the verifier reads them. */
function identitiesOf(c: X509Certificate): string[] {
  return c.subjectAltNames
    .filter((n) => n.type === 'email' || n.type === 'uri' || n.type === 'otherName')
    .map((n) => n.value);
}

function safeIssuer(c: X509Certificate): string | undefined {
  try {
    return fulcioIssuer(c);
  } catch {
    return undefined;
  }
}

export class LogView {
  readonly shards: Shards;
  readonly #shardUrl: (s: Shard) => string;
  readonly #authorities: readonly TrustedAuthority[] | undefined;

  /** `authorities`: the certificate authorities of the stack's trusted root, if it has one. */
  constructor(
    shards: Shards,
    shardUrl: (s: Shard) => string,
    authorities?: readonly TrustedAuthority[],
  ) {
    this.shards = shards;
    this.#shardUrl = shardUrl;
    this.#authorities = authorities;
  }

  /**
   * The chain, key usages and codeSigning EKU checked as a verifier does, at the certificate's
   * own notBefore (as the monitor does: an entry outlives its certificate).
   */
  caCheck(c: X509Certificate): CaCheck | undefined {
    return this.#authorities ? checkIssuedByTrustedCa(c, this.#authorities) : undefined;
  }

  shardById(id: number): Shard | undefined {
    return this.shards.list.find((s) => s.id === id);
  }

  summary(shard: Shard, e: StoredEntry): EntrySummary {
    let d: EntryDescription | undefined;
    try {
      d = describeEntryBody(e.leaf);
    } catch {
      d = undefined;
    }
    const main = d?.digests.find((x) => x.of !== 'envelope');
    let signer = '(unreadable body)';
    let issuer: string | undefined;
    let ca: CaCheck | undefined;
    const s = d?.signers[0];
    if (s?.type === 'certificate') {
      try {
        const c = parseCertificate(s.der, 'certificate');
        signer = identitiesOf(c).join(', ') || c.subject || '(no identity)';
        issuer = safeIssuer(c);
        ca = this.caCheck(c);
      } catch {
        signer = '(unreadable certificate)';
      }
    } else if (s?.type === 'publicKey') signer = `public key sha256:${sha256Hex(s.spki)}`;
    return {
      uuid: entryUuid(e.leafHash),
      logIndex: shard.offset + e.index,
      shard: shard.id,
      shardIndex: e.index,
      integratedTime: e.integratedTime,
      kind: d?.kind ?? '?',
      apiVersion: d?.apiVersion ?? '?',
      digest: main ? `${main.algorithm}:${main.hex}` : undefined,
      signer,
      issuer,
      ...(ca ? { issuedByTrustedCa: ca.trusted } : {}),
    };
  }

  /** Matching entries of every shard, newest first, one page of them and the total. */
  async search(
    q: SearchQuery,
    page: number,
  ): Promise<{ total: number; items: EntrySummary[]; pages: number }> {
    const hits: Array<{ shard: Shard; index: number }> = [];
    if (q.kind === 'index') {
      const loc = await this.shards.locate(q.index);
      if (loc) hits.push({ shard: loc.shard, index: loc.index });
    } else if (q.kind === 'entryId') {
      const found = await this.shards.findByRef({ uuid: q.uuid, treeId: q.treeId });
      if (found) hits.push({ shard: found.shard, index: found.entry.index });
    } else {
      const keys =
        q.kind === 'hex'
          ? [`sha256:${q.hex}`, `key:${q.hex}`, `cert:${q.hex}`, gitCommitSearchKey(q.hex)!]
          : q.kind === 'digest'
            ? // Lists name a key signer `public key sha256:<fingerprint>`: that finds it too.
              q.key.startsWith('sha256:')
              ? [q.key, `key:${q.key.slice(7)}`, `cert:${q.key.slice(7)}`]
              : [q.key]
            : q.kind === 'identity'
              ? // The SAN exactly, or an email SAN in any case (the index's two identity keys).
                [
                  identitySearchKey(q.identity),
                  emailSearchKey(q.identity),
                  ...(q.asGiven === undefined ? [] : [identitySearchKey(q.asGiven)]),
                ]
              : q.kind === 'issuer'
                ? [issuerSearchKey(q.issuer)]
                : q.keys;
      for (const s of this.shards.list) {
        const found = new Set(await searchLog(s.engine, keys, 'or'));
        if (q.kind === 'hex') {
          const e = await s.entryByUuid(q.hex);
          if (e) found.add(e.index);
        }
        for (const index of found) hits.push({ shard: s, index });
      }
    }
    // Newest first: later shards first, then descending index within a shard.
    hits.sort((a, b) => b.shard.id - a.shard.id || b.index - a.index);
    const pages = Math.max(1, Math.ceil(hits.length / PAGE_SIZE));
    const items: EntrySummary[] = [];
    for (const h of hits.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)) {
      const e = await h.shard.engine.entry(h.index);
      if (e) items.push(this.summary(h.shard, e));
    }
    return { total: hits.length, items, pages };
  }

  /** The entry with this UUID (or 80-hex entry ID); in `shardId` when given, else the oldest. */
  async find(
    ref: { uuid: string; treeId?: bigint },
    shardId?: number,
  ): Promise<{ shard: Shard; entry: StoredEntry }> {
    if (shardId !== undefined) {
      const shard = this.shardById(shardId);
      if (!shard) throw notFound(`the log has no shard ${shardId}`, 'shard');
      const entry = await shard.entryByUuid(ref.uuid);
      if (!entry) throw notFound(`shard ${shardId} has no entry with UUID ${ref.uuid}`, 'uuid');
      return { shard, entry };
    }
    const found = await this.shards.findByRef(ref);
    if (!found) throw notFound(`the log has no entry with UUID ${ref.uuid}`, 'uuid');
    return found;
  }

  /** The entry at a global log index, or a not-found error saying how large the log is. */
  async atIndex(index: number): Promise<{ shard: Shard; entry: StoredEntry }> {
    const loc = await this.shards.locate(index);
    const entry = loc && (await loc.shard.engine.entry(loc.index));
    if (!loc || !entry) {
      const size = await this.totalSize();
      throw notFound(
        `log index ${index} is beyond the log: it holds ${size} entr${size === 1 ? 'y' : 'ies'}${size > 0 ? ` (indexes 0 to ${size - 1})` : ''}`,
        'logIndex',
      );
    }
    return { shard: loc.shard, entry };
  }

  async totalSize(): Promise<number> {
    const cur = this.shards.current;
    return cur.offset + (await cur.head()).size;
  }

  entry(shard: Shard, e: StoredEntry): EntryView {
    const summary = this.summary(shard, e);
    let description: EntryDescription | undefined;
    let bodyError: string | undefined;
    try {
      description = describeEntryBody(e.leaf);
    } catch (err) {
      bodyError = (err as Error).message;
    }
    const signers: SignerView[] = [];
    for (const s of description?.signers ?? []) {
      if (s.type === 'publicKey') {
        signers.push({
          type: 'publicKey',
          pem: encodePem('PUBLIC KEY', s.spki),
          keyFingerprint: sha256Hex(s.spki),
          keyType: keyTypeOf(s.spki),
        });
        continue;
      }
      let c: X509Certificate;
      try {
        c = parseCertificate(s.der, 'certificate');
      } catch (err) {
        bodyError = `the signing certificate cannot be read: ${(err as Error).message}`;
        continue;
      }
      signers.push({
        type: 'certificate',
        identities: identitiesOf(c),
        issuer: safeIssuer(c),
        fulcio: fulcioNamed(c),
        certificate: c,
        pem: encodePem('CERTIFICATE', s.der),
        fingerprint: sha256Hex(s.der),
        keyFingerprint: sha256Hex(c.spki),
        validAtLogTime: validityAt(c, e.integratedTime),
        caCheck: this.caCheck(c),
      });
    }
    return {
      summary,
      entryId: entryId(shard.treeId, summary.uuid),
      origin: shard.engine.origin,
      body: e.leaf,
      description,
      bodyError,
      signers,
      attestation: description && attestationOf(description, e.extra),
    };
  }

  async proof(shard: Shard, e: StoredEntry): Promise<ProofView> {
    // As the v2 entries: with witnesses, the proof ends in the cosigned checkpoint.
    let cp = await shard.head();
    if (shard.witnessing) cp = await shard.witnessing.cosigned(cp);
    const hashes = await shard.inclusionProof(e.index, cp.size);
    return {
      uuid: entryUuid(e.leafHash),
      shard: shard.id,
      shardIndex: e.index,
      logIndex: shard.offset + e.index,
      origin: shard.engine.origin,
      body: toBase64(e.leaf),
      treeSize: cp.size,
      rootHash: toBase64(cp.rootHash),
      hashes: hashes.map(toBase64),
      checkpoint: cp.note,
      witnesses: (shard.witnessing?.keys ?? []).map((k) => ({
        name: k.name,
        vkey: formatCosignerKey(k),
      })),
    };
  }

  async status(latestCount = 10): Promise<StatusView> {
    const now = Math.floor(Date.now() / 1000);
    const shards: ShardStatus[] = [];
    for (const s of this.shards.list) {
      const head = await s.head();
      const cp = s.witnessing ? await s.witnessing.checkpoint() : head;
      shards.push({
        id: s.id,
        active: s.active,
        origin: cp.origin,
        url: this.#shardUrl(s),
        treeSize: head.size,
        rootHash: toHex(head.rootHash),
        checkpoint: cp.note,
        checkpointSize: cp.size,
        cosignatures: cosignaturesOf(cp, s.witnessing?.keys ?? []),
        entriesLastMinute: await entriesSince(s, head.size, now - 60),
      });
    }
    const latest: EntrySummary[] = [];
    for (const s of [...this.shards.list].reverse()) {
      const size = shards.find((x) => x.id === s.id)!.treeSize;
      for (let i = size - 1; i >= 0 && latest.length < latestCount; i--) {
        const e = await s.engine.entry(i);
        if (e) latest.push(this.summary(s, e));
      }
      if (latest.length >= latestCount) break;
    }
    return { shards, latest, now };
  }
}

/** The cosignature lines of a checkpoint; those of known witnesses verified (c2sp.org/tlog-cosignature). */
function cosignaturesOf(cp: SignedCheckpoint, keys: CosignerKey[]): ShardStatus['cosignatures'] {
  let note;
  try {
    note = parseNote(cp.note, 'checkpoint');
  } catch {
    return [];
  }
  let verified: VerifiedCosignature[];
  try {
    verified = verifyCosignatures(note, keys);
  } catch {
    verified = []; // a known witness's bad cosignature: listed, never shown as verified
  }
  return note.signatures
    .filter((x) => x.name !== cp.origin)
    .map((x) => {
      const v = verified.find((k) => k.key.name === x.name && k.key.keyId === x.keyId);
      return {
        name: x.name,
        keyId: x.keyId.toString(16).padStart(8, '0'),
        ...(v ? { verifiedAt: v.time } : {}),
      };
    });
}

/**
 * Entries of a shard integrated at or after `since` (Unix seconds). Integration times do not
 * decrease along the log (the sequencer stamps batches in order), so a binary search finds the
 * first one: about log2(size) entry reads, whatever the rate.
 */
async function entriesSince(s: Shard, size: number, since: number): Promise<number> {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const e = await s.engine.entry(mid);
    if (e && e.integratedTime >= since) hi = mid;
    else lo = mid + 1;
  }
  return size - lo;
}

/**
 * The attestation of an entry that records a DSSE payload digest, from the payload stored with
 * it (`extra`, outside the Merkle tree, so believed only when it hashes to the digest the
 * logged body records).
 */
export function attestationOf(
  d: EntryDescription,
  stored: Uint8Array | undefined,
): AttestationView | undefined {
  const payload = d.digests.find((x) => x.of === 'payload');
  if (!payload) return undefined;
  if (!stored || stored.length === 0)
    return {
      kind: 'unavailable',
      reason:
        d.kind === 'intoto'
          ? `the log did not keep this attestation (it keeps those up to ${MAX_ATTESTATION_SIZE / 1024} KiB), only its digest`
          : "the log keeps the payload's digest, not the payload (as Rekor's dsse type does); an in-toto statement's subjects are indexed, so a search by a subject's digest finds this entry",
    };
  if (payload.algorithm !== 'sha256' || sha256Hex(stored) !== payload.hex)
    return {
      kind: 'unavailable',
      reason:
        'the attestation stored with this entry does not hash to the payload digest the entry records, so it is not shown',
    };
  if (d.payloadType !== undefined && d.payloadType !== INTOTO_PAYLOAD_TYPE)
    return {
      kind: 'unavailable',
      reason: `the payload is ${d.payloadType}, not an in-toto statement`,
    };
  try {
    const st = parseStatement(stored, 'payload');
    return { kind: 'statement', predicateType: st.predicateType, subjects: st.subject };
  } catch (e) {
    return {
      kind: 'unavailable',
      reason: `the payload is not an in-toto statement: ${reasonOf(e)}`,
    };
  }
}

/** A certificate's validity at a log time (Unix seconds), both ends inclusive (RFC 5280 §4.1.2.5). */
export function validityAt(c: X509Certificate, unixSeconds: number): Validity {
  const t = unixSeconds * 1000;
  if (t < c.notBefore.getTime()) return 'not-yet-valid';
  return t > c.notAfter.getTime() ? 'expired' : 'valid';
}

function fulcioNamed(c: X509Certificate): NamedExtension[] {
  let values: Partial<Record<number, string>>;
  try {
    values = fulcioExtensions(c);
  } catch (e) {
    if (e instanceof SignetError)
      return [{ oid: FULCIO_OID_PREFIX, name: 'unreadable', value: e.message }];
    throw e;
  }
  return Object.entries(values).map(([arc, value]) => ({
    oid: `${FULCIO_OID_PREFIX}${arc}`,
    name: FULCIO_EXTENSION_NAMES[Number(arc)]!,
    value: value!,
  }));
}

function keyTypeOf(spki: Uint8Array): string {
  try {
    const k = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    const curve = k.asymmetricKeyDetails?.namedCurve;
    return curve ? `${k.asymmetricKeyType} ${curve}` : String(k.asymmetricKeyType);
  } catch {
    return 'unreadable key';
  }
}
