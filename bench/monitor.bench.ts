/**
 * Watching a large log (issue 12). The bench fills one log engine (SQLite) with
 * SIGNET_BENCH_MONITOR_ENTRIES entries (default 1,000,000): Rekor v2 hashedrekord bodies with
 * Fulcio-style certificates (a pool of 1,000 identities), each stored with the search keys the
 * Rekor service indexes (digest, key, certificate, identity, issuer). The filled log is kept in a
 * cache folder (SIGNET_BENCH_CACHE, default <tmp>/signet-bench-cache) under a key made of the
 * entry count, the identity pool size, the bench's entry format and the SQLite schema, so a run
 * with other parameters or another schema fills its own (and the previous one is removed: one
 * log is kept). The measurements only read it. Then it measures:
 * - identity scan: the monitor reading the whole log from local tiles (the engine's entry
 *   bundles, no HTTP) into its compact range and matching one identity: entries/s (target
 *   >= 50,000);
 * - catch-up: the same from an empty state over HTTP (tile routes on loopback, served by a
 *   process of its own, bench/monitor-serve.ts): wall seconds for
 *   the whole log (target < 60 s at 1,000,000);
 * - search: p50/p99 of the index for a random artifact digest and a random identity (target p99
 *   <= 20 ms), and the index's size per entry (SQLite dbstat);
 * - witness: add-checkpoint requests cosigned per second (each recorded with fsync).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { openLog, type TileLog } from '../src/log/index.ts';
import { SCHEMA } from '../src/log/storage/sqlite-schema.ts';
import { parseTrustedRoot, type TransparencyLogInstance } from '../src/bundle/trusted-root.ts';
import { certificatesFromDer, verifierSearchKeys } from '../src/core/rekor/verifier.ts';
import { toBase64 } from '../src/core/encoding/base64.ts';
import { leafHash } from '../src/core/merkle/hash.ts';
import { consistencyProof } from '../src/core/merkle/tree.ts';
import { signCheckpoint } from '../src/core/note/checkpoint.ts';
import { noteSigner } from '../src/core/note/keys.ts';
import { formatAddCheckpoint } from '../src/core/note/add-checkpoint.ts';
import { rootOf } from '../src/core/merkle/tree.ts';
import { decodeEntryBundle } from '../src/core/tiles/tiles.ts';
import { TILE_WIDTH } from '../src/core/tiles/paths.ts';
import { Monitor } from '../src/client/monitor/monitor.ts';
import { TilesSource, type LogSource } from '../src/client/monitor/sources.ts';
import { rekorEntryFacts } from '../src/client/monitor/match.ts';
import { parseMonitorConfig } from '../src/client/monitor/config.ts';
import { Witness } from '../src/services/witness/witness.ts';
import { certificateFor, ecSigner } from '../test/services/rekor/fixtures.ts';
import type { TargetRow } from './table.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const IDENTITIES = 1000;
const IN_FLIGHT = 4096;
/** The log's name in its checkpoints: fixed, so a cached log serves from any port. */
const ORIGIN = 'bench.example/monitored';
const email = (i: number) => `dev${i}@bench.example`;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Pool {
  certs: Array<{ b64: string; keys: string[] }>;
}

function pool(): Pool {
  const certs: Pool['certs'] = [];
  for (let i = 0; i < IDENTITIES; i++) {
    const c = certificateFor(ecSigner(), email(i), 'https://issuer.bench.example');
    certs.push({
      b64: toBase64(c.der),
      keys: verifierSearchKeys(certificatesFromDer([c.der], 'cert')),
    });
  }
  return { certs };
}

/** Entry i: a hashedrekord 0.0.2 body (canonical key order) by identity i % IDENTITIES. */
function entryOf(p: Pool, i: number): { leaf: Uint8Array; searchKeys: string[] } {
  const digest = createHash('sha256').update(`artifact ${i}`).digest();
  const cert = p.certs[i % IDENTITIES]!;
  const body =
    `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"${digest.toString('base64')}"},` +
    `"signature":{"content":"${randomBytes(71).toString('base64')}","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{"rawBytes":"${cert.b64}"}}}}}}`;
  return {
    leaf: new TextEncoder().encode(body),
    searchKeys: [...cert.keys, `sha256:${digest.toString('hex')}`],
  };
}

async function fill(log: TileLog, p: Pool, total: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < total) await log.append(entryOf(p, next++));
    }),
  );
}

/** The next line a child prints, as a function (each call: the following line). */
function readLines(child: ChildProcessWithoutNullStreams): () => Promise<string> {
  let buf = '';
  const waiting: Array<(l: string) => void> = [];
  const ready: string[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else ready.push(line);
    }
  });
  child.stderr.pipe(process.stderr);
  return () =>
    new Promise((resolve, reject) => {
      const l = ready.shift();
      if (l !== undefined) return resolve(l);
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`the log server exited (${code})`)));
    });
}

interface Filled {
  dir: string;
  key: KeyObject;
  /** Seconds the fill took, when this run filled it. */
  fillS: number | undefined;
}

/**
 * The filled log: from the cache when a complete one with the same key is there, else filled
 * now (in a temporary folder renamed into place once closed, so an interrupted fill is never
 * reused). The key covers everything the log's bytes depend on; one log is kept.
 */
export async function filledLog(total: number): Promise<Filled> {
  const root = process.env.SIGNET_BENCH_CACHE ?? path.join(os.tmpdir(), 'signet-bench-cache');
  const id = createHash('sha256')
    .update(
      JSON.stringify([total, IDENTITIES, ORIGIN, entryOf.toString(), pool.toString(), SCHEMA]),
    )
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(root, `monitor-${id}`);
  if (fs.existsSync(path.join(dir, 'filled.json')))
    return {
      dir,
      key: createPrivateKey(fs.readFileSync(path.join(dir, 'key.pem'))),
      fillS: undefined,
    };
  fs.mkdirSync(root, { recursive: true });
  for (const old of fs.readdirSync(root)) {
    const pid = /^monitor-.*\.tmp-(\d+)$/.exec(old)?.[1];
    const alive = pid !== undefined && fs.existsSync(`/proc/${pid}`);
    if (old.startsWith('monitor-') && !alive)
      fs.rmSync(path.join(root, old), { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.mkdirSync(tmp);
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  fs.writeFileSync(path.join(tmp, 'key.pem'), key.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  const log = await openLog({
    name: 'monitored',
    dataDir: tmp,
    sqliteFile: 'monitored.sqlite',
    sqliteSynchronous: 'NORMAL',
    signer: { key, origin: ORIGIN },
  });
  const t = performance.now();
  try {
    await fill(log, pool(), total);
  } finally {
    await log.close();
  }
  const fillS = (performance.now() - t) / 1000;
  fs.writeFileSync(path.join(tmp, 'filled.json'), JSON.stringify({ total, fillS }));
  fs.renameSync(tmp, dir);
  return { dir, key, fillS };
}

/** The log read straight from the engine's storage: "local tiles", no HTTP. */
function localSource(log: TileLog, inst: TransparencyLogInstance): LogSource {
  const http = new TilesSource(inst);
  return {
    kind: 'tiles',
    firstIndex: 0,
    url: http.url,
    readFrom: http.readFrom,
    log: inst,
    async head() {
      return http.openHead((await log.checkpoint()).note);
    },
    openHead: (n) => http.openHead(n),
    consistencyProof: (a, b) => log.consistencyProof(a, b),
    async *leaves(from, to) {
      for (let n = Math.floor(from / TILE_WIDTH); n * TILE_WIDTH < to; n++) {
        const width = Math.min(TILE_WIDTH, to - n * TILE_WIDTH);
        const entries = decodeEntryBundle((await log.entryBundle(n, width))!);
        yield entries.slice(Math.max(0, from - n * TILE_WIDTH));
      }
    },
    facts: rekorEntryFacts,
    entryUrl: (i) => `${http.url}#${i}`,
  };
}

function indexBytes(file: string): Map<string, number> {
  const db = new DatabaseSync(file, { readOnly: true });
  const out = new Map<string, number>();
  try {
    for (const r of db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all())
      out.set(String(r.name), Number(r.bytes));
  } catch {
    // dbstat not compiled in: only the file size is known
  } finally {
    db.close();
  }
  return out;
}

async function witnessRate(dir: string): Promise<number> {
  const origin = 'bench.example/witnessed';
  const logKey = noteSigner(origin, generateKeyPairSync('ed25519').privateKey);
  const w = new Witness({
    name: 'bench.example/witness',
    key: generateKeyPairSync('ed25519').privateKey,
    logs: [{ origin, verifiers: [logKey] }],
    stateFile: path.join(dir, 'witness.json'),
  });
  const leaves: Uint8Array[] = [];
  const rounds = 500;
  for (let i = 0; i < rounds * 3; i++) leaves.push(leafHash(new TextEncoder().encode(`w${i}`)));
  const bodies: string[] = [];
  let old = 0;
  for (let r = 1; r <= rounds; r++) {
    const size = r * 3;
    const note = signCheckpoint(
      { origin, size, rootHash: rootOf(leaves.slice(0, size)), extensions: [] },
      [logKey],
    );
    bodies.push(
      formatAddCheckpoint({
        oldSize: old,
        proof: old === 0 ? [] : consistencyProof(leaves, old, size),
        checkpoint: note,
      }),
    );
    old = size;
  }
  const t = performance.now();
  for (const b of bodies) {
    const a = await w.addCheckpoint(b);
    if (a.status !== 200) throw new Error(`witness refused: ${a.body}`);
  }
  return rounds / ((performance.now() - t) / 1000);
}

export async function run(): Promise<TargetRow[]> {
  const total = Number(process.env.SIGNET_BENCH_MONITOR_ENTRIES ?? 1_000_000);
  if (!Number.isSafeInteger(total) || total < 1000)
    throw new Error('SIGNET_BENCH_MONITOR_ENTRIES must be a whole number >= 1000');
  const filled = await filledLog(total);
  console.log(
    filled.fillS !== undefined
      ? `filled ${total} entries (${IDENTITIES} identities) in ${filled.fillS.toFixed(0)} s (${Math.round(total / filled.fillS)} entries/s), kept in ${filled.dir}`
      : `${total} entries (${IDENTITIES} identities) filled by an earlier run, from ${filled.dir}`,
  );
  const dir = fs.mkdtempSync(
    path.join(process.env.SIGNET_BENCH_DIR ?? os.tmpdir(), 'signet-monitor-'),
  );
  // The trusted root names the log by its origin; the tiles are read where it is served now.
  const baseUrl = `https://${ORIGIN}`;
  const log = await openLog({
    name: 'monitored',
    dataDir: filled.dir,
    sqliteFile: 'monitored.sqlite',
    sqliteSynchronous: 'NORMAL',
    signer: { key: filled.key, origin: ORIGIN },
  });
  const rows: TargetRow[] = [];
  let server: ChildProcessWithoutNullStreams | undefined;
  try {
    let t: number;
    const inst = parseTrustedRoot({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl,
          hashAlgorithm: 'SHA2_256',
          publicKey: {
            rawBytes: toBase64(log.key.publicKey.export({ format: 'der', type: 'spki' })),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start: '2020-01-01T00:00:00Z' },
          },
          logId: { keyId: toBase64(log.key.logId) },
        },
      ],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    }).tlogs[0]!;
    const config = parseMonitorConfig(
      `startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev7@bench.example\n      issuersExact: [https://issuer.bench.example]\n`,
    );
    const scan = async (source: LogSource) => {
      let alerts = 0;
      const m = new Monitor({
        sources: [source],
        config,
        print: () => alerts++,
        report: () => {},
        chunk: 65_536,
      });
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await m.pass();
      const s = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const cpu = (c.user + c.system) / 1e6;
      if (r.entries !== total || r.problems > 0 || r.errors > 0 || alerts !== total / IDENTITIES)
        throw new Error(
          `scan read ${r.entries} entries, ${alerts} alerts, ${r.problems} problems, ${r.errors} errors`,
        );
      return { s, cpu };
    };
    // CPU seconds as well as wall time: on a shared, loaded machine the wall time mostly
    // measures waiting for a core; the CPU time is what the scan costs.
    const local = await scan(localSource(log, inst));
    const localS = local.s;
    const scanRate = total / local.cpu;
    console.log(
      `identity scan from local tiles: ${total} entries in ${local.s.toFixed(1)} s wall, ${local.cpu.toFixed(1)} s CPU = ` +
        `${Math.round(total / local.s)} entries/s wall, ${Math.round(scanRate)} entries per CPU second (${total / IDENTITIES} alerts)`,
    );
    // The log is served by a process of its own, as a monitor catching up reads a log
    // served elsewhere: the wall time is the monitor's, with the server's CPU beside it.
    server = spawn(process.execPath, [path.join(here, 'monitor-serve.ts'), filled.dir, ORIGIN]);
    const lines = readLines(server);
    const url = await lines();
    const serverCpu0 = Number(await (server.stdin.write('cpu\n'), lines()));
    const remote = await scan(new TilesSource(inst, {}, url));
    const serverCpu = Number(await (server.stdin.write('cpu\n'), lines())) - serverCpu0;
    const httpS = remote.s;
    console.log(
      `catch-up over HTTP (tiles on loopback from another process): ${total} entries in ${remote.s.toFixed(1)} s wall, ` +
        `${remote.cpu.toFixed(1)} s CPU in the monitor, ${serverCpu.toFixed(1)} s in the server = ${Math.round(total / remote.s)} entries/s wall`,
    );

    const byHash: number[] = [];
    const byIdentity: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(Math.random() * total);
      const h = createHash('sha256').update(`artifact ${n}`).digest('hex');
      t = performance.now();
      const hits = await log.search(`sha256:${h}`);
      byHash.push(performance.now() - t);
      if (hits.length !== 1 || hits[0] !== n)
        throw new Error(`search for entry ${n} found ${hits}`);
      t = performance.now();
      const who = await log.search(`identity:${email(n % IDENTITIES)}`);
      byIdentity.push(performance.now() - t);
      if (who.length < Math.floor(total / IDENTITIES))
        throw new Error('identity search missed entries');
    }
    const p99 = Math.max(pct(byHash, 99), pct(byIdentity, 99));
    console.log(
      `search at ${total}: digest p50 ${pct(byHash, 50).toFixed(2)} ms p99 ${pct(byHash, 99).toFixed(2)} ms | ` +
        `identity (${total / IDENTITIES} hits) p50 ${pct(byIdentity, 50).toFixed(2)} ms p99 ${pct(byIdentity, 99).toFixed(2)} ms`,
    );
    await log.close();
    const sizes = indexBytes(path.join(filled.dir, 'monitored.sqlite'));
    const searchBytes = sizes.get('tlog_search');
    const fileBytes = fs.statSync(path.join(filled.dir, 'monitored.sqlite')).size;
    console.log(
      `index: ${searchBytes !== undefined ? `${(searchBytes / total).toFixed(0)} B/entry (tlog_search, ${(searchBytes / 2 ** 20).toFixed(0)} MiB)` : 'dbstat not available'}; whole log ${(fileBytes / total).toFixed(0)} B/entry`,
    );
    const wRate = await witnessRate(dir);
    console.log(
      `witness: ${Math.round(wRate)} cosigned checkpoints/s (each fsynced before the answer)`,
    );
    rows.push(
      {
        target: 'monitor identity scan >= 50,000 entries/s (local tiles, per CPU second)',
        measured: `${total} entries, ${localS.toFixed(1)} s wall, ${local.cpu.toFixed(1)} s CPU`,
        ratio: `${Math.round(scanRate)}/CPU s`,
        met: scanRate >= 50_000,
      },
      {
        target: 'monitor catches up 1,000,000 entries < 60 s',
        measured: `${total} entries over HTTP, ${httpS.toFixed(1)} s wall, ${remote.cpu.toFixed(1)} s CPU (+ server)`,
        ratio: `${((httpS * 1_000_000) / total).toFixed(1)} s wall per 1M`,
        met: (httpS * 1_000_000) / total < 60,
      },
      {
        target: 'search p99 <= 20 ms at 1,000,000 entries',
        measured: `${total} entries, digest and identity queries`,
        ratio: `${p99.toFixed(2)} ms`,
        met: p99 <= 20 && total >= 1_000_000,
      },
    );
  } finally {
    if (server) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.stdin.end();
      await exited;
    }
    await log.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
