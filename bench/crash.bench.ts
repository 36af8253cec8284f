/**
 * kill -9 run (`npm run bench -- crash`; issue 8: "an acknowledged log entry is never lost, and
 * a log never forks, across crashes and restarts"). For each store (SQLite, then PostgreSQL on
 * 127.0.0.1:5432):
 *  1. a real `signet up` (bin/signet) on one port and data folder, and a load driver in another
 *     process (bench/support/load-driver.ts) appending hashedrekord entries through Rekor v1 and
 *     Rekor v2 without pause, recording each acknowledged (201) entry;
 *  2. CRASH_CYCLES times: start the stack, kill -9 it at a random moment (one kill in five
 *     during start, the others 0.1-2.5 s after it is up), while sampling the published
 *     checkpoint (GET /rekor/api/v1/log) whenever it is up;
 *  3. a last start; the driver stops; then every acknowledged entry is fetched by its index and
 *     must be there with the acknowledged body, and verifies with Signet's one verifier
 *     (client/verify) against the stack's trusted root, with an inclusion proof to the latest
 *     checkpoint; every checkpoint ever seen (acknowledgements' and sampled) must be proven
 *     consistent with the latest (two roots for one size, or a failed proof, is a fork).
 * Prints cycles, acknowledged, lost, 5xx (other than the 503 of a starting stack), forks.
 * Knobs: CRASH_CYCLES (default 50), CRASH_STORES (default "sqlite,postgres"), CRASH_LOOPS
 * (driver loops per API, default 2).
 */
import { spawn } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { assembleBundle } from '../src/bundle/assemble.ts';
import { parseTrustedRootJSON } from '../src/bundle/trusted-root.ts';
import { entryByIndexV1 } from '../src/client/http/rekor-v1.ts';
import { verifyBundle } from '../src/client/verify/index.ts';
import { verifyConsistency } from '../src/core/merkle/index.ts';
import type { Ack, LoadStats } from './support/load-driver.ts';
import {
  freePort,
  freshDatabase,
  NODE,
  sleep,
  startSignet,
  type StackProcess,
} from './support/stack-process.ts';
import type { TargetRow } from './table.ts';

const CYCLES = Number(process.env['CRASH_CYCLES'] ?? 50);
const STORES = (process.env['CRASH_STORES'] ?? 'sqlite,postgres').split(',');
const LOOPS = process.env['CRASH_LOOPS'] ?? '2';
const DRIVER = path.join(import.meta.dirname, 'support', 'load-driver.ts');

export interface CrashResult {
  store: string;
  cycles: number;
  killedStarting: number;
  acknowledged: { v1: number; v2: number };
  lost: string[];
  serverErrors: number;
  starting503: number;
  noAnswer: number;
  forks: string[];
  checkpointsChecked: number;
  finalSize: number;
  seconds: number;
}

const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

/** The driver: acknowledgements as they arrive, and its stats when it is stopped. */
function startDriver(url: string) {
  const proc = spawn(NODE, ['--disable-warning=ExperimentalWarning', DRIVER], {
    env: { ...process.env, LOAD_URL: url, LOAD_MIX: 'v1,v2', LOAD_LOOPS: LOOPS },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acks: Ack[] = [];
  let key = '';
  let stats: LoadStats | undefined;
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { ack?: Ack; key?: string; stats?: LoadStats };
    if (m.ack) acks.push(m.ack);
    if (m.key) key = m.key;
    if (m.stats) stats = m.stats;
  });
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  return {
    acks,
    key: () => key,
    async stop(): Promise<LoadStats> {
      proc.kill('SIGTERM');
      await exited;
      if (!stats) throw new Error('the load driver ended without its stats');
      return stats;
    },
  };
}

interface Head {
  size: number;
  root: string;
}

async function head(url: string): Promise<Head | undefined> {
  try {
    const r = await fetch(`${url}/rekor/api/v1/log`, { signal: AbortSignal.timeout(5000) });
    if (r.status !== 200) return undefined;
    const j = (await r.json()) as { treeSize: number; rootHash: string };
    return { size: j.treeSize, root: j.rootHash };
  } catch {
    return undefined;
  }
}

export async function crashRun(store: string, cycles: number): Promise<CrashResult> {
  const t0 = performance.now();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `signet-crash-${store}-`));
  const logFile = path.join(dataDir, 'stack.log');
  const db = store === 'postgres' ? await freshDatabase('crash') : undefined;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const start = () =>
    startSignet({ port, dataDir, logFile, ...(db ? { databaseUrl: db.url } : {}) });
  const seen: Head[] = [];
  const driver = startDriver(url);
  let killedStarting = 0;
  let stack: StackProcess | undefined;
  try {
    for (let c = 0; c < cycles; c++) {
      stack = start();
      const duringStart = Math.random() < 0.2;
      if (duringStart) {
        await Promise.race([sleep(Math.random() * 1500), stack.exited]);
        if (!(await isUp(stack))) killedStarting++;
      } else {
        await stack.up;
        const until = performance.now() + 100 + Math.random() * 2400;
        while (performance.now() < until) {
          const h = await head(url);
          if (h) seen.push(h);
          await sleep(Math.min(300, Math.max(0, until - performance.now())));
        }
      }
      await stack.kill9();
      if ((c + 1) % 10 === 0 || c + 1 === cycles)
        console.log(`${store}: cycle ${c + 1}/${cycles}, ${driver.acks.length} acknowledged`);
    }
    // The last start: let the driver see it, stop the driver, then check everything.
    stack = start();
    const base = await stack.up;
    await sleep(1000);
    const stats = await driver.stop();
    const result = await check(base, driver.acks, driver.key(), seen);
    await stack.stop();
    const sum = (f: (status: number, key: string) => boolean) =>
      Object.entries(stats.responses)
        .filter(([k]) => f(Number(k.split(' ')[1]), k))
        .reduce((n, [, v]) => n + v, 0);
    for (const [k, body] of Object.entries(stats.serverErrors)) console.log(`  ${k}: ${body}`);
    return {
      store,
      cycles,
      killedStarting,
      acknowledged: {
        v1: driver.acks.filter((a) => a.api === 'v1').length,
        v2: driver.acks.filter((a) => a.api === 'v2').length,
      },
      lost: result.lost,
      serverErrors: sum((s, k) => s >= 500 && !k.endsWith(' starting')),
      starting503: sum((_, k) => k.endsWith(' starting')),
      noAnswer: sum((s) => s === 0),
      forks: result.forks,
      checkpointsChecked: result.checkpoints,
      finalSize: result.size,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await stack?.kill9();
    await db?.drop();
  }
}

async function isUp(stack: StackProcess): Promise<boolean> {
  return Promise.race([stack.up.then(() => true), sleep(0).then(() => false)]).catch(() => false);
}

/** Every acknowledged entry is there and verifies; every checkpoint seen is consistent with the last. */
async function check(
  url: string,
  acks: Ack[],
  keyPem: string,
  seen: Head[],
): Promise<{ lost: string[]; forks: string[]; checkpoints: number; size: number }> {
  const last = await head(url);
  if (!last) throw new Error('the restarted stack does not answer GET /rekor/api/v1/log');
  const trustedRoot = parseTrustedRootJSON(await (await fetch(`${url}/trusted_root.json`)).text());
  const key = createPublicKey(keyPem);
  const lost: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < acks.length) {
      const a = acks[next++]!;
      const what = `${a.api} entry ${a.logIndex}`;
      try {
        const entry = await entryByIndexV1(`${url}/rekor`, a.logIndex);
        if (entry.canonicalizedBody !== a.body) {
          lost.push(`${what}: the log holds another body at that index`);
          continue;
        }
        if (Number(entry.inclusionProof?.treeSize) !== last.size)
          throw new Error(
            `its proof is to size ${entry.inclusionProof?.treeSize}, not ${last.size}`,
          );
        const artifact = Buffer.from(a.artifact, 'hex');
        const bundle = assembleBundle({
          signature: a.signature,
          attestation: false,
          digest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(artifact).digest() },
          publicKeyHint: '',
          tlogEntries: [entry],
        });
        verifyBundle(bundle, { kind: 'bytes', data: artifact }, trustedRoot, {
          kind: 'key',
          key,
        });
      } catch (e) {
        lost.push(`${what}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));

  // Fork check: one root per size, and each proven consistent with the last checkpoint.
  const roots = new Map<number, string>();
  const forks: string[] = [];
  const all: Head[] = [...seen, ...acks.map((a) => ({ size: a.treeSize, root: hex(a.rootHash) }))];
  for (const h of all) {
    const r = roots.get(h.size);
    if (r !== undefined && r !== h.root) forks.push(`two roots for size ${h.size}`);
    roots.set(h.size, h.root);
  }
  for (const [size, root] of roots) {
    try {
      if (size > last.size) throw new Error(`beyond the last checkpoint (${last.size})`);
      // The empty tree is a prefix of every tree; its root is fixed (RFC 6962 §2.1).
      if (size === 0) {
        if (root !== createHash('sha256').digest('hex')) throw new Error('not the empty root');
        continue;
      }
      if (size === last.size) {
        if (root !== last.root) throw new Error('another root than the last checkpoint');
        continue;
      }
      const r = await fetch(
        `${url}/rekor/api/v1/log/proof?firstSize=${size}&lastSize=${last.size}`,
      );
      const p = (await r.json()) as { hashes: string[]; rootHash: string };
      if (p.rootHash !== last.root) throw new Error('the proof is to another root');
      verifyConsistency(
        size,
        last.size,
        p.hashes.map((h) => Buffer.from(h, 'hex')),
        Buffer.from(root, 'hex'),
        Buffer.from(last.root, 'hex'),
      );
    } catch (e) {
      forks.push(`checkpoint of size ${size}: ${(e as Error).message}`);
    }
  }
  return { lost, forks, checkpoints: roots.size, size: last.size };
}

export async function run(): Promise<TargetRow[]> {
  const rows: TargetRow[] = [];
  for (const store of STORES) {
    const r = await crashRun(store, CYCLES);
    console.log(
      `${store}: cycles ${r.cycles} (${r.killedStarting} killed while starting), acknowledged ${r.acknowledged.v1 + r.acknowledged.v2} (v1 ${r.acknowledged.v1}, v2 ${r.acknowledged.v2}), lost ${r.lost.length}, 5xx ${r.serverErrors}, forks ${r.forks.length}; ` +
        `503 while starting ${r.starting503}, no answer (stack down) ${r.noAnswer}, checkpoints proven consistent ${r.checkpointsChecked}, final tree size ${r.finalSize}, ${r.seconds.toFixed(0)} s, load average ${os.loadavg()[0]!.toFixed(1)}`,
    );
    for (const l of r.lost.slice(0, 10)) console.log(`  lost: ${l}`);
    for (const f of r.forks.slice(0, 10)) console.log(`  fork: ${f}`);
    rows.push({
      target: `${store}: kill -9 loses no acknowledged entry, never forks, never 5xx`,
      measured: `${r.cycles} cycles, ${r.acknowledged.v1 + r.acknowledged.v2} acknowledged, ${r.lost.length} lost, ${r.forks.length} forks, ${r.serverErrors} 5xx`,
      ratio: `${r.lost.length} lost`,
      met: r.lost.length === 0 && r.forks.length === 0 && r.serverErrors === 0,
    });
  }
  return rows;
}
