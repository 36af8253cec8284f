import { moduleUrl } from '../../core/module-url.ts';
import { Worker } from 'node:worker_threads';
import { type DigestVerification, verifyDigestBatch } from '../../core/crypto/verify.ts';
import {
  type PackedBytes,
  packBytes,
  packedTransferables,
  unpackedAt,
} from '../../core/encoding/packed-bytes.ts';

/**
 * Digest signature checks of concurrent admissions, verified together: requests that arrive in
 * the same event-loop turn form one batch, so their modular inversions are shared
 * (core/crypto/ecdsa.ts). With `workers > 0` batches go to worker threads, which lets
 * verification use the other cores while the main thread parses and answers HTTP.
 */
export interface VerifyQueueOptions {
  /** Worker threads for verification; 0 verifies on the calling thread. */
  workers?: number;
  /** Largest batch handed to one verification run. */
  maxBatch?: number;
}

interface Job {
  item: DigestVerification;
  resolve: (ok: boolean) => void;
  reject: (e: unknown) => void;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let verify;
parentPort.on('message', async (msg) => {
  if (!verify) verify = (await import(msg.module)).verifyPacked;
  let result;
  try {
    result = verify(msg.batch);
  } catch (e) {
    result = msg.batch.items.map(() => false);
  }
  parentPort.postMessage({ id: msg.id, result });
});
`;

/**
 * A batch as it crosses to a worker: each item without its bytes, and every digest and
 * signature packed in one buffer that is transferred. Digests and signatures decoded from a
 * request are views of Node's shared Buffer pool, and cloning a view for postMessage clones its
 * whole ArrayBuffer (the 64 KiB pool slab); copying each out first still cost two backing
 * stores per item to allocate, clone and free.
 */
interface PackedBatch {
  items: Array<Omit<DigestVerification, 'digest' | 'signature'>>;
  /** digest 0, signature 0, digest 1, signature 1, ... */
  bytes: PackedBytes;
}

function pack(items: readonly DigestVerification[]): PackedBatch {
  const bytes: Uint8Array[] = [];
  const rest = items.map(({ digest, signature, ...it }) => {
    bytes.push(digest, signature);
    return it;
  });
  return { items: rest, bytes: packBytes(bytes) };
}

/** What a verification worker runs on a batch (exported for it). */
export function verifyPacked(batch: PackedBatch): boolean[] {
  return verifyDigestBatch(
    batch.items.map((it, i) => ({
      ...it,
      digest: unpackedAt(batch.bytes, 2 * i),
      signature: unpackedAt(batch.bytes, 2 * i + 1),
    })),
  );
}

interface PoolWorker {
  worker: Worker;
  busy: number;
}

export class VerifyQueue {
  readonly #maxBatch: number;
  readonly #workers: PoolWorker[] = [];
  readonly #inflight = new Map<number, { jobs: Job[]; w: PoolWorker }>();
  #queue: Job[] = [];
  #scheduled = false;
  #nextId = 1;
  #closed = false;
  /** URL of this module, which the workers import (verifyPacked). */
  readonly #module = moduleUrl('./verify-queue.ts', import.meta.url).href;

  constructor(opts: VerifyQueueOptions = {}) {
    this.#maxBatch = opts.maxBatch ?? 256;
    const n = opts.workers ?? 0;
    for (let i = 0; i < n; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'signet-verify' });
      const pw: PoolWorker = { worker, busy: 0 };
      worker.on('message', (msg: { id: number; result: boolean[] }) => {
        const f = this.#inflight.get(msg.id);
        if (!f) return;
        this.#inflight.delete(msg.id);
        f.w.busy--;
        f.jobs.forEach((j, k) => j.resolve(msg.result[k] === true));
      });
      worker.on('error', (e) => this.#failWorker(pw, e));
      worker.unref();
      this.#workers.push(pw);
    }
  }

  /** Resolves true iff the signature verifies. Never rejects for a bad signature. */
  verify(item: DigestVerification): Promise<boolean> {
    if (this.#closed) return Promise.resolve(verifyDigestBatch([item])[0]!);
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const jobs = this.#queue.splice(0, this.#maxBatch);
      const w = this.#pickWorker();
      if (!w) {
        const res = verifyDigestBatch(jobs.map((j) => j.item));
        jobs.forEach((j, k) => j.resolve(res[k]!));
        continue;
      }
      const id = this.#nextId++;
      w.busy++;
      this.#inflight.set(id, { jobs, w });
      // KeyObjects and bigints are structured-cloneable; points carry no functions.
      const batch = pack(jobs.map((j) => j.item));
      w.worker.postMessage({ id, module: this.#module, batch }, packedTransferables(batch.bytes));
    }
  }

  #pickWorker(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const w of this.#workers) if (!best || w.busy < best.busy) best = w;
    return best;
  }

  #failWorker(w: PoolWorker, e: unknown): void {
    for (const [id, f] of this.#inflight) {
      if (f.w !== w) continue;
      this.#inflight.delete(id);
      f.jobs.forEach((j) => j.reject(e));
    }
    const i = this.#workers.indexOf(w);
    if (i >= 0) this.#workers.splice(i, 1);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
    this.#workers.length = 0;
  }
}
