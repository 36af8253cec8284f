/**
 * A large SQLite log (issue 8): fills one log engine to SIGNET_BENCH_ENTRIES entries (default
 * 200,000 so `npm run bench` stays short; `npm run bench:scale` fills 10,000,000) and, at each
 * power of ten on the way, measures what must stay flat as the log grows (O(log n)):
 * inclusion-proof latency (random index, head size, p50/p99), checkpoint latency (one append
 * through sequence + sign + commit, and reading the head), plus storage per entry against the
 * raw entry bytes and the process RSS. Targets at 10M: proof p99 <= 5 ms, storage <= 1.3x raw,
 * RSS <= 512 MB.
 *
 * A 10M fill takes most of an hour on a shared machine. Two settings let it run in the
 * background without the measurements suffering for it:
 *   SIGNET_BENCH_FILL_NICE=19         every thread of the process fills at that niceness and
 *                                     measures at niceness 0 (Linux; needs CAP_SYS_NICE)
 *   SIGNET_BENCH_MEASURE_LOCK=FILE    each measurement holds flock(1) on FILE, so it does not
 *                                     run alongside other benchmarks that take the same lock
 *   SIGNET_BENCH_LOG_DIR=DIR          the log lives in DIR and is kept: a later run continues
 *                                     it (or, at SIGNET_BENCH_ENTRIES already, measures again)
 */
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { generateKeyPairSync, randomFillSync } from 'node:crypto';
import { openLog, type TileLog } from '../src/log/index.ts';

/** About a hashedrekord body with its certificate (the same size as log.bench.ts). */
const LEAF_SIZE = 1024;
const IN_FLIGHT = 4096;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const template = randomFillSync(Buffer.alloc(LEAF_SIZE));
/** Unique leaf i: random bytes with the index written over the first eight. */
function leafOf(i: number): Uint8Array {
  const b = Buffer.from(template);
  b.writeDoubleBE(i, 0);
  randomFillSync(b, 8, 24);
  return new Uint8Array(b);
}

function dbBytes(dir: string): number {
  let total = 0;
  for (const f of fs.readdirSync(dir))
    if (f.startsWith('scale.sqlite')) total += fs.statSync(path.join(dir, f)).size;
  return total;
}

async function fill(log: TileLog, from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < to) await log.append({ leaf: leafOf(next++) });
    }),
  );
}

/** Sets the niceness of every thread of this process (on Linux, niceness is per thread). */
function niceAll(n: number): void {
  for (const tid of fs.readdirSync('/proc/self/task')) os.setPriority(Number(tid), n);
}

/** Holds flock(1) on `file` until the returned function is called. */
async function lock(file: string): Promise<() => Promise<void>> {
  const child = spawn('flock', [file, 'sh', '-c', 'echo locked; cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`flock ${file} exited with ${code}`)));
  });
  return () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
    });
}

async function measure(log: TileLog, dir: string, rssPeak: number, fillRate: number) {
  const head = await log.checkpoint();
  const size = head.size;
  const proof: number[] = [];
  // Proofs run on this thread (the SQLite reads too): its CPU time is their cost without the
  // waits for a core that a loaded machine adds to the wall-clock figures. The thread clock
  // ticks too coarsely for one proof, so this is the mean over all of them.
  const cpu0 = process.threadCpuUsage();
  for (let i = 0; i < 2000; i++) {
    const idx = Math.floor(Math.random() * size);
    const t = performance.now();
    await log.inclusionProof(idx, size);
    proof.push(performance.now() - t);
  }
  const cpu = process.threadCpuUsage(cpu0);
  const proofCpu = (cpu.user + cpu.system) / 1000 / proof.length;
  const append: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await log.append({ leaf: leafOf(1e12 + size + i) });
    append.push(performance.now() - t);
  }
  const read: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await log.checkpoint();
    read.push(performance.now() - t);
  }
  const bytes = dbBytes(dir);
  const wal = fs.statSync(path.join(dir, 'scale.sqlite-wal'), { throwIfNoEntry: false })?.size ?? 0;
  const perEntry = bytes / (size + 50);
  console.log(
    `${String(size).padStart(9)} entries: proof p50 ${pct(proof, 50).toFixed(2)} ms p99 ${pct(proof, 99).toFixed(2)} ms ` +
      `(CPU ${proofCpu.toFixed(2)} ms each) | ` +
      `checkpoint (1 append) p50 ${pct(append, 50).toFixed(1)} ms p99 ${pct(append, 99).toFixed(1)} ms | ` +
      `head read p50 ${pct(read, 50).toFixed(3)} ms | storage ${(perEntry / LEAF_SIZE).toFixed(3)}x raw (${Math.round(perEntry)} B/entry) | ` +
      `(WAL ${(wal / 2 ** 20).toFixed(0)} MB) | RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB, peak ${Math.round(rssPeak / 2 ** 20)} MB | ` +
      `fill ${Math.round(fillRate)} entries/s | load ${os.loadavg()[0]!.toFixed(1)}`,
  );
}

export async function run(): Promise<void> {
  const total = Number(process.env.SIGNET_BENCH_ENTRIES ?? 200_000);
  if (!Number.isSafeInteger(total) || total < 1000)
    throw new Error('SIGNET_BENCH_ENTRIES must be a whole number >= 1000');
  const niceEnv = process.env.SIGNET_BENCH_FILL_NICE;
  const nice = niceEnv === undefined ? undefined : Number(niceEnv);
  if (nice !== undefined && !(Number.isInteger(nice) && nice >= 0 && nice <= 19))
    throw new Error('SIGNET_BENCH_FILL_NICE must be 0..19');
  const measureLock = process.env.SIGNET_BENCH_MEASURE_LOCK;
  const keep = process.env.SIGNET_BENCH_LOG_DIR;
  if (keep) fs.mkdirSync(keep, { recursive: true });
  const dir =
    keep ?? fs.mkdtempSync(path.join(process.env.SIGNET_BENCH_DIR ?? os.tmpdir(), 'signet-scale-'));
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const log = await openLog({
    name: 'scale',
    dataDir: dir,
    sqliteFile: 'scale.sqlite',
    signer: { key, origin: 'bench.example/scale' },
  });
  let rssPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 200);
  console.log(
    `sqlite log filled to ${total} entries of ${LEAF_SIZE} bytes (${IN_FLIGHT} in flight)`,
  );
  try {
    let size = (await log.checkpoint()).size;
    const marks: number[] = [];
    for (let m = 10_000; m < total; m *= 10) if (m > size) marks.push(m);
    marks.push(total);
    for (const mark of marks) {
      const t = performance.now();
      const start = (await log.checkpoint()).size;
      if (nice !== undefined) niceAll(nice);
      const n = Math.max(0, mark - start);
      await fill(log, size, size + n);
      size += n;
      const rate = n / ((performance.now() - t) / 1000);
      const unlock = measureLock ? await lock(measureLock) : undefined;
      if (nice !== undefined) niceAll(0);
      try {
        await measure(log, dir, rssPeak, rate);
      } finally {
        await unlock?.();
      }
    }
  } finally {
    clearInterval(sampler);
    await log.close();
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
