/**
 * The log side of witnessing (c2sp.org/tlog-witness, as Tessera's `WithWitnesses` with
 * FailOpen): each new checkpoint goes to every configured witness with a consistency proof from
 * the size that witness last cosigned; the cosignatures that come back (each checked against
 * the witness's key) are added to the note, and that cosigned checkpoint is what readers get
 * (`/checkpoint`) and what the v2 entries' inclusion proofs end in. The Rekor v1 view of a shard
 * (checkpoints with origin `<host> - <treeID>`, shards.ts) is witnessed the same way, as a log of
 * its own: its cosigned checkpoints are the v1 `signedTreeHead` and end the v1 entries' proofs.
 *
 * A witness that is down, slow or refusing never stops the log: a round waits at most
 * `timeoutMs`, a failing witness is left out for a growing back-off, and without cosignatures
 * the plain checkpoint is served.
 */
import { invalid, SignetError } from '../../core/errors.ts';
import { formatAddCheckpoint } from '../../core/note/add-checkpoint.ts';
import {
  parseCosignerKey,
  verifyCosignatures,
  type CosignerKey,
} from '../../core/note/cosignature.ts';
import { formatNote, parseNote, type NoteSignature } from '../../core/note/note.ts';
import type { LogEngine, SignedCheckpoint } from '../../log/types.ts';

/** What witnessing reads of a log: its signed head (in one view) and consistency proofs. */
export type WitnessedView = Pick<LogEngine, 'checkpoint' | 'consistencyProof'>;
import type { Logger } from '../types.ts';
import { send } from '../http/outbound.ts';

export interface WitnessEndpoint {
  /** The witness's submission prefix; `add-checkpoint` is appended. */
  url: string;
  key: CosignerKey;
}

interface WitnessView extends WitnessEndpoint {
  /** The size this witness last cosigned (learned from 200s and 409s). */
  known: number;
  /** Not before this time (ms) after a failure. */
  retryAt: number;
  failures: number;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * Most of a witness's answer that is read: cosignature lines or a tree size are a few hundred
 * bytes, and a witness that sends more must not make the log buffer it.
 */
const MAX_ANSWER_BYTES = 64 * 1024;

/** `rekor.witnesses` from the config: a list of `{url, key}` (key = the witness vkey). */
export function parseWitnessConfig(v: unknown): WitnessEndpoint[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid('rekor.witnesses', 'must be a list of {url, key}');
  return v.map((w, i) => {
    const field = `rekor.witnesses[${i}]`;
    if (typeof w !== 'object' || w === null || Array.isArray(w))
      throw invalid(field, 'must be {url, key}');
    const o = w as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (k !== 'url' && k !== 'key') throw invalid(`${field}.${k}`, 'is not a known field');
    if (typeof o.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(o.url))
      throw invalid(`${field}.url`, 'must be an http(s) URL');
    if (typeof o.key !== 'string') throw invalid(`${field}.key`, 'must be the witness vkey');
    return { url: o.url.replace(/\/+$/, ''), key: parseCosignerKey(o.key, `${field}.key`) };
  });
}

export class CheckpointWitnessing {
  readonly #engine: WitnessedView;
  readonly #witnesses: WitnessView[];
  readonly #timeoutMs: number;
  readonly #log: Logger;
  /** What readers get: the last round's checkpoint, with whatever cosignatures it gathered. */
  #published: SignedCheckpoint | undefined;
  #round: Promise<void> | undefined;
  #again = false;
  /** A witness that has cosigned a larger tree of this log than the log holds (#ask). */
  #ahead: { url: string; size: number; local: number } | undefined;

  constructor(
    engine: WitnessedView,
    witnesses: WitnessEndpoint[],
    opts: { timeoutMs?: number; log: Logger },
  ) {
    this.#engine = engine;
    this.#witnesses = witnesses.map((w) => ({ ...w, known: 0, retryAt: 0, failures: 0 }));
    this.#timeoutMs = opts.timeoutMs ?? 2_000;
    this.#log = opts.log;
  }

  /** The witnesses' keys (the explorer shows and checks their cosignatures). */
  get keys(): CosignerKey[] {
    return this.#witnesses.map((w) => w.key);
  }

  /**
   * The checkpoint to serve at `/checkpoint`: the head once witnessed; while a newer head is
   * being witnessed, the last cosigned one (Tessera publishes only witnessed checkpoints);
   * when the last round gathered no cosignature, the plain head (fail-open).
   */
  async checkpoint(): Promise<SignedCheckpoint> {
    const head = await this.#engine.checkpoint();
    const p = this.#published;
    if (!p || p.size < head.size) void this.#witness();
    if (p && (p.size === head.size || this.#hasCosignatures(p))) return p;
    return head;
  }

  #hasCosignatures(cp: SignedCheckpoint): boolean {
    return parseNote(cp.note).signatures.length > 1;
  }

  /**
   * A checkpoint at least as large as `cp`, with the witnesses' cosignatures once a round that
   * covers it is done (fail-open: without cosignatures when none came).
   */
  async cosigned(cp: SignedCheckpoint): Promise<SignedCheckpoint> {
    let p = this.#published;
    if (!p || p.size < cp.size) {
      await this.#witness();
      p = this.#published;
    }
    return p && p.size >= cp.size ? p : cp;
  }

  /**
   * At start, before the log takes entries: one round, refused when a witness has cosigned a
   * larger tree of this log than the data holds. Such data is older than what was published (a
   * restored backup, say), and every entry added to it would fork the log the witness and its
   * readers know: two entries at one index, both signed by the log key. A witness that is down
   * does not stop the start (fail-open, as in every round).
   */
  async checkNotBehind(): Promise<void> {
    await this.#witness();
    const a = this.#ahead;
    if (!a) return;
    const origin = parseNote((await this.#engine.checkpoint()).note).text.split('\n')[0];
    throw new SignetError(
      'conflict',
      'WITNESS_AHEAD',
      `log "${origin}": the witness at ${a.url} has cosigned ${a.size} entries, but the data holds ${a.local}: it is older than what was published (a restored backup?), and new entries would fork the log; start from data holding every published entry`,
    );
  }

  /** One round at a time; calls during a round ask for one more round after it. */
  #witness(): Promise<void> {
    if (this.#round) {
      // The running loop goes round once more before it settles.
      this.#again = true;
      return this.#round;
    }
    const run = async (): Promise<void> => {
      do {
        this.#again = false;
        await this.#oneRound();
      } while (this.#again);
    };
    this.#round = run().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  async #oneRound(): Promise<void> {
    const head = await this.#engine.checkpoint();
    if (this.#published && this.#published.size >= head.size) return;
    const now = Date.now();
    const ready = this.#witnesses.filter((w) => w.retryAt <= now);
    const got = await Promise.all(ready.map((w) => this.#ask(w, head)));
    const cosigs = got.filter((s): s is NoteSignature => s !== undefined);
    let note = head.note;
    if (cosigs.length > 0) {
      const n = parseNote(head.note);
      note = formatNote({ text: n.text, signatures: [...n.signatures, ...cosigs] });
    }
    if (!this.#published || head.size >= this.#published.size) this.#published = { ...head, note };
  }

  /** One witness's cosignature on `head`, or undefined (and a back-off) when it gives none. */
  async #ask(w: WitnessView, head: SignedCheckpoint): Promise<NoteSignature | undefined> {
    // One deadline for the whole exchange, a second round after a 409 included.
    const deadline = Date.now() + this.#timeoutMs;
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        if (w.known > head.size) {
          this.#ahead = { url: w.url, size: w.known, local: head.size };
          throw new SignetError(
            'conflict',
            'WITNESS_AHEAD',
            `the witness has cosigned size ${w.known}, beyond this log's ${head.size}`,
          );
        }
        const proof = w.known === 0 ? [] : await this.#engine.consistencyProof(w.known, head.size);
        // A redirect, an error status or an answer over the limit fails here, saying which.
        const res = await send(
          {
            service: 'the witness',
            method: 'POST',
            url: `${w.url}/add-checkpoint`,
            body: formatAddCheckpoint({ oldSize: w.known, proof, checkpoint: head.note }),
            contentType: 'text/plain; charset=utf-8',
            allow: [409],
            maxBytes: MAX_ANSWER_BYTES,
            // The log posts only to the witness the operator configured, never where a
            // redirect points (a server's requests are not for others to aim).
            redirect: 'error',
          },
          { deadline, retries: 0 },
        );
        const text = new TextDecoder().decode(res.body);
        if (res.status === 409 && res.headers.get('content-type')?.startsWith('text/x.tlog.size')) {
          const m = /^(0|[1-9][0-9]{0,15})\n$/.exec(text);
          if (!m) throw new Error(`409 with a malformed size "${text.slice(0, 40)}"`);
          w.known = Number(m[1]);
          continue;
        }
        if (res.status !== 200)
          throw new Error(
            `the witness at ${w.url} answered HTTP ${res.status}: ${text.slice(0, 200)}`,
          );
        // The answer is signature lines; only a valid cosignature by this witness's key counts.
        const parsed = parseNote(`${head.note}${text}`, 'cosignature');
        const mine = verifyCosignatures(parsed, [w.key], 'cosignature');
        if (mine.length === 0) {
          // Name what it did sign as: a witness started under another --name or key says so.
          const origin = parsed.text.split('\n')[0];
          const as = parsed.signatures
            .filter((s) => s.name !== origin)
            .map((s) => `${s.name}+${s.keyId.toString(16).padStart(8, '0')}`);
          throw new Error(
            `the answer holds no cosignature by its key ${w.key.name}+${w.key.keyId.toString(16).padStart(8, '0')}${as.length > 0 ? ` (it is signed as ${as.join(', ')})` : ''}`,
          );
        }
        const sig = parsed.signatures.find(
          (s) => s.name === w.key.name && s.keyId === w.key.keyId,
        )!;
        w.known = head.size;
        w.failures = 0;
        w.retryAt = 0;
        return sig;
      }
      throw new Error('the witness keeps changing its size');
    } catch (e) {
      w.failures++;
      w.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** (w.failures - 1));
      this.#log.warn('witness gave no cosignature', {
        witness: w.url,
        size: head.size,
        error: (e as Error).message,
      });
      return undefined;
    }
  }
}
