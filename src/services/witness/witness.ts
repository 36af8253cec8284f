/**
 * A C2SP tlog-witness (c2sp.org/tlog-witness): for each log it is configured for, it keeps the
 * latest checkpoint it cosigned, and cosigns a new one only when the log proves it consistent
 * with that one. Checking the old size and recording the new checkpoint happen under one lock
 * and the record is on disk (fsynced, atomic rename) before the cosignature leaves, so neither
 * a race nor a crash (kill -9) can roll the witness back (the spec's "persist before responding").
 */
import fs from 'node:fs';
import { createHash, type KeyObject } from 'node:crypto';
import { quoteInput, SignetError } from '../../core/errors.ts';
import { capText } from '../http/errors.ts';
import { fromBase64, toBase64 } from '../../core/encoding/base64.ts';
import { EMPTY_ROOT, HASH_SIZE, hashEqual } from '../../core/merkle/hash.ts';
import { verifyConsistency } from '../../core/merkle/tree.ts';
import { parseAddCheckpoint } from '../../core/note/add-checkpoint.ts';
import { parseCheckpoint, type Checkpoint } from '../../core/note/checkpoint.ts';
import { cosigner, formatCosignatureLines, type Cosigner } from '../../core/note/cosignature.ts';
import {
  formatNote,
  parseNote,
  verifyNote,
  type Note,
  type NoteVerifier,
} from '../../core/note/note.ts';
import { writeFileAtomic } from '../../log/atomic-file.ts';
import { parseJsonText } from '../../core/json.ts';

export interface WitnessedLog {
  /** The checkpoint origin line of the log. */
  origin: string;
  /** The log's checkpoint keys. */
  verifiers: NoteVerifier[];
}

export interface WitnessOptions {
  /** The witness's key name (its cosignatures' name). */
  name: string;
  /** Ed25519 private key. */
  key: KeyObject;
  logs: WitnessedLog[];
  /** Where the latest cosigned checkpoint of every log is kept. */
  stateFile: string;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

/** An HTTP answer of the protocol. */
export interface WitnessAnswer {
  status: number;
  contentType: string;
  body: string;
}

interface LogRecord {
  size: number;
  rootHash: Uint8Array;
  /** The log's checkpoint with this witness's cosignature added. */
  note: string;
}

interface StateFile {
  version: 1;
  logs: Record<string, { size: number; rootHash: string; note: string }>;
}

/** An answer; a refusal's reason is cut short (it may quote the request, up to 64 KiB of it). */
const text = (status: number, body: string, contentType = 'text/plain; charset=utf-8') => {
  const b = status === 200 ? body : capText(body);
  return { status, contentType, body: b.endsWith('\n') ? b : `${b}\n` };
};

export const originHash = (origin: string): string =>
  createHash('sha256').update(origin).digest('hex');

export class Witness {
  readonly cosigner: Cosigner;
  readonly #logs = new Map<string, WitnessedLog>();
  readonly #state = new Map<string, LogRecord>();
  readonly #file: string;
  readonly #now: () => number;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(opts: WitnessOptions) {
    this.cosigner = cosigner(opts.name, opts.key);
    for (const l of opts.logs) this.#logs.set(l.origin, l);
    this.#file = opts.stateFile;
    this.#now = opts.now ?? Date.now;
    this.#load();
  }

  get origins(): string[] {
    return [...this.#logs.keys()];
  }

  #load(): void {
    let raw: string;
    try {
      raw = fs.readFileSync(this.#file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new SignetError(
        'internal',
        'WITNESS_STATE',
        `cannot read the witness state ${this.#file}: ${(e as Error).message}`,
      );
    }
    let parsed: StateFile;
    try {
      parsed = parseJsonText(raw, 'witness state', this.#file) as StateFile;
      if (parsed.version !== 1 || typeof parsed.logs !== 'object') throw new Error('bad shape');
      for (const [origin, r] of Object.entries(parsed.logs)) {
        const rootHash = fromBase64(r.rootHash, 'rootHash');
        if (!Number.isSafeInteger(r.size) || rootHash.length !== HASH_SIZE)
          throw new Error(`record of ${origin} is malformed`);
        this.#state.set(origin, { size: r.size, rootHash, note: r.note });
      }
    } catch (e) {
      // Fail closed: a witness that forgot what it cosigned could be rolled back.
      throw new SignetError(
        'internal',
        'WITNESS_STATE',
        `the witness state ${this.#file} is corrupt (${(e as Error).message}); restore it from a backup`,
      );
    }
  }

  #save(next: Map<string, LogRecord>): void {
    const out: StateFile = { version: 1, logs: {} };
    for (const [origin, r] of next)
      out.logs[origin] = { size: r.size, rootHash: toBase64(r.rootHash), note: r.note };
    writeFileAtomic(this.#file, `${JSON.stringify(out, null, 1)}\n`);
  }

  /** The latest cosigned checkpoint of a log (by its origin), or undefined. */
  latest(origin: string): LogRecord | undefined {
    return this.#state.get(origin);
  }

  /** GET <origin hash>/checkpoint (tlog-witness §Monitor Retrieval Mechanism). */
  latestByHash(hashHex: string): string | undefined {
    for (const [origin, r] of this.#state) if (originHash(origin) === hashHex) return r.note;
    return undefined;
  }

  /** POST add-checkpoint: the whole protocol decision (c2sp.org/tlog-witness §add-checkpoint). */
  async addCheckpoint(body: Uint8Array | string): Promise<WitnessAnswer> {
    let req;
    let note: Note;
    let cp: Checkpoint;
    try {
      req = parseAddCheckpoint(body);
      note = parseNote(req.checkpoint, 'checkpoint');
      cp = parseCheckpoint(note.text, 'checkpoint');
    } catch (e) {
      return text(400, (e as Error).message);
    }
    const log = this.#logs.get(cp.origin);
    if (!log) return text(404, `this witness does not witness the log ${quoteInput(cp.origin)}`);
    try {
      verifyNote(req.checkpoint, log.verifiers, 'checkpoint');
    } catch (e) {
      return text(403, (e as Error).message);
    }
    if (req.oldSize > cp.size)
      return text(400, `old size ${req.oldSize} is larger than the checkpoint size ${cp.size}`);
    // Check-then-record is atomic: one request at a time.
    const run = this.#lock.then(() => this.#decide(log, req, note, cp));
    this.#lock = run.catch(() => undefined);
    return run;
  }

  #decide(
    log: WitnessedLog,
    req: { oldSize: number; proof: Uint8Array[] },
    note: Note,
    cp: Checkpoint,
  ): WitnessAnswer {
    const latest = this.#state.get(log.origin);
    const latestSize = latest?.size ?? 0;
    if (req.oldSize !== latestSize) return text(409, `${latestSize}\n`, 'text/x.tlog.size');
    if (cp.size === 0 && !hashEqual(cp.rootHash, EMPTY_ROOT))
      return text(422, 'a checkpoint of size 0 must have the root hash of the empty tree');
    if (req.oldSize === 0) {
      if (req.proof.length > 0) return text(422, 'the proof from size 0 must be empty');
    } else {
      try {
        verifyConsistency(req.oldSize, cp.size, req.proof, latest!.rootHash, cp.rootHash);
      } catch (e) {
        return text(
          422,
          `not consistent with the checkpoint of size ${latestSize} this witness cosigned: ${(e as Error).message}`,
        );
      }
    }
    const time = Math.floor(this.#now() / 1000);
    const cosig = this.cosigner.cosign(note.text, time);
    // Keep the log's own signatures (verified above) and ours: what a monitor fetching it wants
    // to see. Other lines are the sender's, unverified: they are not stored or served.
    const own = note.signatures.filter((s) =>
      log.verifiers.some((v) => v.name === s.name && v.keyId === s.keyId),
    );
    const record: LogRecord = {
      size: cp.size,
      rootHash: cp.rootHash,
      note: formatNote({ text: note.text, signatures: [...own, cosig] }),
    };
    const next = new Map(this.#state);
    next.set(log.origin, record);
    try {
      this.#save(next);
    } catch (e) {
      return text(500, `the witness could not record the checkpoint: ${(e as Error).message}`);
    }
    this.#state.set(log.origin, record);
    return text(200, formatCosignatureLines([cosig]));
  }
}
