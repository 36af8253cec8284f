import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { SignetError } from '../../core/errors.ts';
import { toBase64 } from '../../core/encoding/base64.ts';
import { signCheckpoint, rekorV1Origin } from '../../core/note/checkpoint.ts';
import { noteSigner } from '../../core/note/keys.ts';
import {
  entryId,
  entryUuid,
  setPayload,
  treeIdForKey,
  v1LogEntryJson,
  v2TransparencyLogEntry,
} from '../../core/rekor/index.ts';
import type { LogEngine, SignedCheckpoint, StoredEntry } from '../../log/types.ts';
import type { KeyVersion } from '../keyring.ts';
import { CheckpointWitnessing, type WitnessEndpoint } from './witnessing.ts';
import type { Logger } from '../types.ts';

/**
 * One shard of Signet's Rekor: one log (one tree) signed by one version of the `rekor` key.
 * Rotating the key starts a new shard; earlier shards stay readable (Rekor v1's inactive
 * shards, Rekor v2's frozen logs).
 *
 * Log identity: the key is ECDSA P-256, so Rekor v1's logID (SHA-256 of the SPKI), the v1
 * checkpoint key hint (its first 4 bytes) and the C2SP ECDSA checkpoint key ID all coincide:
 * one trusted-root tlog entry per key version serves both views.
 *
 * Views of the same tree:
 * - v2 (C2SP): checkpoints stored by the engine, origin = scheme-less base URL of the shard;
 * - v1: checkpoints `"<hostname> - <treeID>"` signed afresh per response as Rekor v1 does,
 *   key name = hostname; tree ID derived from the key (ids.ts treeIdForKey); global log index =
 *   entries of earlier shards + index in the shard.
 */
export class Shard {
  readonly id: number;
  readonly engine: LogEngine;
  readonly version: KeyVersion;
  readonly publicKey: KeyObject;
  readonly spki: Uint8Array;
  /** SHA-256(SPKI): v1 logID, v2 logId.keyId and checkpointKeyId. */
  readonly logId: Uint8Array;
  readonly treeId: bigint;
  /** Entries in earlier shards (v1 global index offset). */
  offset = 0;
  readonly #hostname: string;
  readonly #v1Signer;
  /** Set when the stack sends this shard's checkpoints to witnesses (witnessing.ts). */
  witnessing: CheckpointWitnessing | undefined;
  /** The same for its Rekor v1 checkpoints (another origin: another log to a witness). */
  v1Witnessing: CheckpointWitnessing | undefined;

  constructor(id: number, engine: LogEngine, version: KeyVersion, hostname: string) {
    this.id = id;
    this.engine = engine;
    this.version = version;
    this.publicKey = createPublicKey(version.key);
    this.spki = new Uint8Array(this.publicKey.export({ format: 'der', type: 'spki' }));
    this.logId = new Uint8Array(createHash('sha256').update(this.spki).digest());
    this.treeId = treeIdForKey(this.spki);
    this.#hostname = hostname;
    this.#v1Signer = noteSigner(hostname, version.key);
  }

  /** Send both views' checkpoints (C2SP and Rekor v1) to these witnesses. */
  witnessWith(witnesses: WitnessEndpoint[], opts: { timeoutMs?: number; log: Logger }): void {
    this.witnessing = new CheckpointWitnessing(this.engine, witnesses, opts);
    this.v1Witnessing = new CheckpointWitnessing(
      {
        checkpoint: async () => this.#v1Head(await this.engine.checkpoint()),
        consistencyProof: (a, b) => this.engine.consistencyProof(a, b),
      },
      witnesses,
      opts,
    );
  }

  /** A tree head as a Rekor v1 signed checkpoint (one signature per size, see v1Checkpoint). */
  #v1Head(h: { size: number; rootHash: Uint8Array }): SignedCheckpoint {
    return {
      origin: rekorV1Origin(this.#hostname, this.treeId),
      size: h.size,
      rootHash: h.rootHash,
      note: this.v1Checkpoint(h, true),
    };
  }

  /**
   * The v1 checkpoint readers get (`/api/v1/log`): with witnesses, the last cosigned one (as
   * `/checkpoint` in the v2 view); its size and root go with it.
   */
  async v1SignedHead(): Promise<SignedCheckpoint> {
    if (this.v1Witnessing) return this.v1Witnessing.checkpoint();
    const h = await this.head();
    return { ...this.#v1Head(h), note: this.v1Checkpoint(h) };
  }

  get active(): boolean {
    return this.version.validTo === undefined;
  }

  get treeIdString(): string {
    return this.treeId.toString();
  }

  #lastV1: { size: number; note: string } | undefined;
  #proofs: Promise<unknown> = Promise.resolve();

  /**
   * Inclusion proofs, one at a time: the answers to one sequenced batch all need proofs against
   * the same new tree size, and the engine caches the subtree hashes a proof computes only once
   * it is done. Run concurrently, every proof of the batch recomputes the same large subtrees
   * from tiles (measured: a quarter of admission CPU); run in turn, the first fills the cache.
   */
  inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    const p = this.#proofs.then(() => this.engine.inclusionProof(index, size));
    this.#proofs = p.catch(() => undefined);
    return p;
  }

  /**
   * Rekor v1 checkpoint for a tree head (rekor pkg/util/checkpoint.go), freshly signed as Rekor
   * v1 does — except that `shared` lets the answers to one sequenced batch share one signature
   * (ECDSA signatures are randomized anyway; this saves a signature per admitted entry).
   */
  v1Checkpoint(head: { size: number; rootHash: Uint8Array }, shared = false): string {
    if (shared && this.#lastV1?.size === head.size) return this.#lastV1.note;
    const note = this.#signV1(head);
    if (shared) this.#lastV1 = { size: head.size, note };
    return note;
  }

  #signV1(head: { size: number; rootHash: Uint8Array }): string {
    return signCheckpoint(
      {
        origin: rekorV1Origin(this.#hostname, this.treeId),
        size: head.size,
        rootHash: head.rootHash,
        extensions: [],
      },
      [this.#v1Signer],
    );
  }

  /** SignedEntryTimestamp: ECDSA (SHA-256, DER) over the JCS payload (servers.md §2.4). */
  signEntryTimestamp(
    body: Uint8Array,
    integratedTime: number,
    globalIndex: number,
    bodyBase64?: string,
  ): Uint8Array {
    const payload = setPayload({
      body,
      integratedTime,
      logId: this.logId,
      logIndex: globalIndex,
      ...(bodyBase64 !== undefined ? { bodyBase64 } : {}),
    });
    return sign('sha256', payload, this.version.key);
  }

  async head(): Promise<SignedCheckpoint> {
    return this.engine.checkpoint();
  }

  /** The v1 LogEntry map for an entry (JSON), with proof against `head` (default: latest). */
  async v1Entry(
    e: StoredEntry,
    head?: { size: number; rootHash: Uint8Array },
    sharedCheckpoint = false,
  ): Promise<{ id: string; json: Buffer }> {
    let h: { size: number; rootHash: Uint8Array } = head ?? (await this.head());
    // With witnesses, the proof ends in a cosigned v1 checkpoint (possibly of a larger tree).
    let cosigned: string | undefined;
    if (this.v1Witnessing) {
      const cp = await this.v1Witnessing.cosigned(this.#v1Head(h));
      h = cp;
      cosigned = cp.note;
    }
    const hashes = await this.inclusionProof(e.index, h.size);
    const global = this.offset + e.index;
    const id = entryId(this.treeId, entryUuid(e.leafHash));
    const bodyBase64 = toBase64(e.leaf); // signed in the SET and sent in the answer
    const parts = {
      entryId: id,
      body: e.leaf,
      bodyBase64,
      integratedTime: e.integratedTime,
      logId: this.logId,
      logIndex: global,
      shardIndex: e.index,
      set: this.signEntryTimestamp(e.leaf, e.integratedTime, global, bodyBase64),
      proof: {
        rootHash: h.rootHash,
        treeSize: h.size,
        hashes,
        checkpoint: cosigned ?? this.v1Checkpoint(h, sharedCheckpoint),
      },
    };
    if (e.extra && e.extra.length > 0) Object.assign(parts, { attestation: e.extra });
    return { id, json: v1LogEntryJson(parts) };
  }

  /** The v2 TransparencyLogEntry for an entry, proven against a v2 checkpoint. */
  async v2Entry(
    e: StoredEntry,
    cp: SignedCheckpoint,
    kind: string,
    apiVersion: string,
  ): Promise<Record<string, unknown>> {
    // With witnesses, the proof ends in a cosigned checkpoint (possibly of a larger tree).
    if (this.witnessing) cp = await this.witnessing.cosigned(cp);
    const hashes = await this.inclusionProof(e.index, cp.size);
    return v2TransparencyLogEntry({
      logIndex: e.index,
      logKeyId: this.logId,
      kind,
      version: apiVersion,
      body: e.leaf,
      proof: { rootHash: cp.rootHash, treeSize: cp.size, hashes, checkpoint: cp.note },
    });
  }

  async entryByUuid(uuid: string): Promise<StoredEntry | undefined> {
    return this.engine.entryByLeafHash(new Uint8Array(Buffer.from(uuid, 'hex')));
  }
}

/** The shards of the log, oldest first; the last one takes writes. */
export class Shards {
  readonly list: Shard[];

  constructor(list: Shard[]) {
    this.list = list;
  }

  get current(): Shard {
    return this.list[this.list.length - 1]!;
  }

  /** Recomputes the v1 global-index offsets (earlier shards no longer grow). */
  async computeOffsets(): Promise<void> {
    let offset = 0;
    for (const s of this.list) {
      s.offset = offset;
      if (s !== this.current) offset += (await s.head()).size;
    }
  }

  byTreeId(treeId: bigint): Shard | undefined {
    return this.list.find((s) => s.treeId === treeId);
  }

  /** The shard and local index of a v1 global index, or undefined beyond the log. */
  async locate(global: number): Promise<{ shard: Shard; index: number } | undefined> {
    for (const s of this.list) {
      const size = (await s.head()).size;
      if (global >= s.offset && global < s.offset + size)
        return { shard: s, index: global - s.offset };
    }
    return undefined;
  }

  /** Finds an entry by UUID (all shards) or entry ID (its shard). */
  async findByRef(ref: {
    uuid: string;
    treeId?: bigint;
  }): Promise<{ shard: Shard; entry: StoredEntry } | undefined> {
    const shards =
      ref.treeId === undefined
        ? this.list
        : [this.byTreeId(ref.treeId)].filter((s) => s !== undefined);
    for (const s of shards) {
      const e = await s!.entryByUuid(ref.uuid);
      if (e) return { shard: s!, entry: e };
    }
    return undefined;
  }
}

export function notFound(message: string, field?: string): SignetError {
  return new SignetError('not-found', 'NOT_FOUND', message, field ? { field } : {});
}
