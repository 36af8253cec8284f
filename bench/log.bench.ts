/**
 * Raw log-engine figures (no HTTP): append throughput with many concurrent appends, append
 * latency at a fixed offered rate, and inclusion-proof generation, on SQLite and PostgreSQL.
 * PostgreSQL is skipped when it is not reachable (SIGNET_BENCH_PG or 127.0.0.1:5432).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { openLog, type TileLog } from '../src/log/index.ts';

const PG_ADMIN = process.env.SIGNET_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LEAF_SIZE = 1024; // about a hashedrekord body with its certificate

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const leafOf = (i: number): Uint8Array => {
  const b = randomBytes(LEAF_SIZE);
  b.writeUInt32BE(i, 0);
  return new Uint8Array(b);
};

async function throughput(log: TileLog, n: number, inFlight: number): Promise<number> {
  const leaves = Array.from({ length: n }, (_, i) => leafOf(i));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await log.append({ leaf: leaves[next++]! });
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function latencyAt(log: TileLog, rate: number, seconds: number): Promise<number[]> {
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const start = performance.now();
    pending.push(
      log.append({ leaf: leafOf(1e6 + i) }).then(() => void lat.push(performance.now() - start)),
    );
  }
  await Promise.all(pending);
  return lat;
}

async function proofs(log: TileLog, n: number): Promise<number> {
  const size = (await log.checkpoint()).size;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await log.inclusionProof(Math.floor(Math.random() * size), size);
  return n / ((performance.now() - t0) / 1000);
}

async function bench(label: string, open: () => Promise<TileLog>): Promise<void> {
  const log = await open();
  try {
    await throughput(log, 2000, 256); // warm-up
    const tput = await throughput(log, 40_000, 4096);
    console.log(
      `${label}: append throughput ${Math.round(tput)} entries/s (40k appends, 4096 in flight, ${LEAF_SIZE}-byte leaves)`,
    );
    for (const rate of [1000, 5000]) {
      const lat = await latencyAt(log, rate, 3);
      console.log(
        `${label}: latency at ${rate}/s  p50 ${pct(lat, 50).toFixed(1)} ms  p99 ${pct(lat, 99).toFixed(1)} ms  max ${Math.max(...lat).toFixed(1)} ms`,
      );
    }
    console.log(
      `${label}: inclusion proofs ${Math.round(await proofs(log, 20_000))} /s (random index, head size)`,
    );
  } finally {
    await log.close();
  }
}

export async function run(): Promise<void> {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const signer = { key, origin: 'bench.example/log' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bench-log-'));
  try {
    await bench('sqlite (synchronous=FULL)', () =>
      openLog({ name: 'bench', dataDir: dir, signer }),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const name = `signet_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  try {
    await admin.connect();
  } catch (e) {
    console.log(`postgres: skipped (${(e as Error).message})`);
    return;
  }
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = PG_ADMIN.replace(/\/[^/]*$/, `/${name}`);
    await bench('postgres', () =>
      openLog({ name: 'bench', dataDir: dir, databaseUrl: url, signer }),
    );
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
