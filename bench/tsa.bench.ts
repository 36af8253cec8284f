/**
 * RFC 3161 timestamps issued per second by Signet's TSA over HTTP (target >= 5,000/s on
 * 2 cores): the TSA runs alone in a child process (one core), the load comes from this
 * process over keep-alive connections (the other core). Every response is checked for
 * status 200 and a sample of them is verified. Also the in-process issuing cost without HTTP,
 * and, under the same load in the same run, two bare node:http servers (a fixed answer; the
 * same issuing without fastify) that show the floor this runtime sets under the ratio.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  encodeTimestampRequest,
  parseTimestampRequest,
  verifyTimestamp,
} from '../src/core/rfc3161/index.ts';
import { createApp } from '../src/services/http/app.ts';
import { batchedPerTurn } from '../src/services/http/turn-batch.ts';
import { createTsa } from '../src/services/tsa/service.ts';
import { TsaAuthority } from '../src/services/tsa/authority.ts';
import { CpuMeter } from './support/cpu-meter.ts';
import { spawnServer } from './support/server-process.ts';
import type { TargetRow } from './table.ts';

const TARGET = 5000;
const SECONDS = Number(process.env.TSA_BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.TSA_BENCH_CONNECTIONS ?? 64);
/** Slices of each HTTP run; the servers and the in-process loop take turns. */
const ROUNDS = 3;
const quiet = { info() {}, warn() {}, error() {} };

/**
 * This process's CPU time: all threads, and the main thread alone. The ratio compares main
 * thread with main thread (the in-process loop's is counted so, robust to other threads of the
 * bench process); V8's GC and compiler threads add about a tenth on both sides.
 */
function cpuNow(): { all: NodeJS.CpuUsage; main: NodeJS.CpuUsage } {
  return { all: process.cpuUsage(), main: process.threadCpuUsage() };
}

/** Child mode: serve the TSA alone and print the URL. */
async function serve(dataDir: string): Promise<void> {
  const app = createApp();
  const tsa = await createTsa(
    { dataDir, baseUrl: 'http://127.0.0.1', databaseUrl: undefined, log: quiet, services: {} },
    {},
  );
  await app.register(async (scope) => tsa.register(scope), { prefix: tsa.prefix });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${url}\n`);
  // The parent asks for this process's CPU time, to give CPU per timestamp over HTTP.
  process.on('message', () => process.send?.(cpuNow()));
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  process.once('SIGINT', () => void app.close().then(() => process.exit(0)));
}

/**
 * Child mode: the floor under any server on this runtime. A bare node:http server reads each
 * POST body and answers 200 with a fixed body of the TSA response's size: the CPU it spends per
 * request is what the HTTP stack costs before any routing, parsing or signing. With a data
 * folder it issues the timestamp as the in-process loop and the TSA do (parse + issue, the
 * requests of one event-loop turn together; no
 * framework): what a server without any layer of its own would cost per timestamp.
 */
async function serveBare(size: number, dataDir?: string): Promise<void> {
  const fixed = Buffer.alloc(size, 0x30);
  const authority = dataDir ? TsaAuthority.open(dataDir) : undefined;
  // Issued as the TSA issues them: the requests of one event-loop turn together.
  const issue =
    authority &&
    batchedPerTurn((query: Buffer) =>
      Buffer.from(authority.timestamp(parseTimestampRequest(query))),
    );
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const query = Buffer.concat(chunks);
      if (query.length === 0) res.statusCode = 400;
      void (issue ? issue(query) : Promise.resolve(fixed)).then((body) => {
        res.setHeader('content-type', 'application/timestamp-reply');
        res.setHeader('content-length', body.length);
        res.end(body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}\n`);
  process.on('message', () => process.send?.(cpuNow()));
  process.once('SIGTERM', () => process.exit(0));
}

/** A server in a child process (one core to itself), its URL, and its CPU seconds so far. */
async function startChild(args: string[]): Promise<{
  url: URL;
  cpu: () => Promise<{ all: number; main: number }>;
  stop: () => void;
}> {
  const child = spawnServer(import.meta.filename, args);
  const url = new URL(
    await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (c) => reject(new Error(`bench server exited (${c})`)));
    }),
  );
  const cpu = (): Promise<{ all: number; main: number }> =>
    new Promise((resolve) => {
      child.once('message', (m) => {
        const { all, main } = m as ReturnType<typeof cpuNow>;
        resolve({ all: (all.user + all.system) / 1e6, main: (main.user + main.system) / 1e6 });
      });
      child.send('cpu');
    });
  return { url, cpu, stop: () => void child.kill() };
}

/** Requests a server answered under the hammer's load, and the CPU it used, summed over slices. */
class ServerTally {
  ok = 0;
  failed = 0;
  secs = 0;
  mainCpu = 0;
  allCpu = 0;

  readonly server: { url: URL; cpu: () => Promise<{ all: number; main: number }> };

  constructor(server: ServerTally['server']) {
    this.server = server;
  }

  /** One slice of `ms` of load. */
  async slice(bodies: Buffer[], ms: number): Promise<void> {
    const cpu0 = await this.server.cpu();
    const { ok, failed, secs } = await hammer(this.server.url, bodies, CONNECTIONS, ms);
    const cpu1 = await this.server.cpu();
    this.ok += ok;
    this.failed += failed;
    this.secs += secs;
    this.mainCpu += cpu1.main - cpu0.main;
    this.allCpu += cpu1.all - cpu0.all;
  }

  /** Requests per CPU second of the main thread / of all threads; requests per second. */
  get cpuRate(): number {
    return this.ok / this.mainCpu;
  }
  get allThreadsRate(): number {
    return this.ok / this.allCpu;
  }
  get rate(): number {
    return this.ok / this.secs;
  }
}

function post(agent: http.Agent, url: URL, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: '/tsa/api/v1/timestamp',
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(Buffer.concat(chunks))
            : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A lean load generator (like wrk): one keep-alive TCP connection per worker, pre-serialized
 * requests, responses framed by Content-Length, so this process costs far less CPU per
 * request than the server and the figure is the server's.
 */
function hammer(
  url: URL,
  bodies: Buffer[],
  connections: number,
  ms: number,
): Promise<{ ok: number; failed: number; secs: number }> {
  const reqs = bodies.map((b) =>
    Buffer.concat([
      Buffer.from(
        `POST /tsa/api/v1/timestamp HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/timestamp-query\r\nContent-Length: ${b.length}\r\n\r\n`,
      ),
      b,
    ]),
  );
  let ok = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + ms;
  const one = (w: number) =>
    new Promise<void>((resolve, reject) => {
      const sock = net.connect(Number(url.port), url.hostname);
      let buf: Buffer = Buffer.alloc(0);
      let i = w;
      const send = () => sock.write(reqs[i++ % reqs.length]!);
      sock.on('connect', send);
      sock.on('error', reject);
      sock.on('data', (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          const head = buf.indexOf('\r\n\r\n');
          if (head < 0) return;
          const header = buf.subarray(0, head).toString('latin1');
          const m = /content-length: *(\d+)/i.exec(header);
          const len = m ? Number(m[1]) : 0;
          if (buf.length < head + 4 + len) return;
          if (header.startsWith('HTTP/1.1 200')) ok++;
          else failed++;
          buf = buf.subarray(head + 4 + len);
          if (Date.now() < deadline) send();
          else {
            sock.end();
            resolve();
            return;
          }
        }
      });
    });
  return Promise.all(Array.from({ length: connections }, (_, w) => one(w))).then(() => ({
    ok,
    failed,
    secs: Number(process.hrtime.bigint() - t0) / 1e9,
  }));
}

export async function run(): Promise<TargetRow[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tsa-bench-'));
  // In-process: parse a DER request and issue a signed response (the work per timestamp).
  const authority = TsaAuthority.open(dataDir);
  const bodies = Array.from({ length: 256 }, () =>
    Buffer.from(
      encodeTimestampRequest({
        hashAlgorithm: 'sha256',
        digest: randomBytes(32),
        nonce: BigInt(`0x${randomBytes(8).toString('hex')}`),
        certReq: true,
      }),
    ),
  );
  // Per CPU second of this thread (the machine is shared: wall time would count the
  // neighbours), timed before and between the slices of the HTTP runs (its speed drifts too:
  // see support/cpu-meter.ts).
  const inProcess = new CpuMeter();
  let n = 0;
  const issue = () => authority.timestamp(parseTimestampRequest(bodies[n++ % bodies.length]!));
  new CpuMeter().run(issue, 1000); // warm up

  const tsa = await startChild(['--serve', dataDir]);
  const children = [tsa];
  try {
    const { url } = tsa;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    // Warm up, and check correctness of a few answers.
    const digest = createHash('sha256').update('bench').digest();
    const probe = Buffer.from(encodeTimestampRequest({ hashAlgorithm: 'sha256', digest }));
    const chain = authority.currentChain();
    for (let i = 0; i < 200; i++) await post(agent, url, probe);
    const token = await post(agent, url, probe);
    // verifyTimestamp needs the data; checking the imprint over the raw digest is not possible, so
    // verify a request over known data.
    const data = Buffer.from('bench data');
    const okReq = Buffer.from(
      encodeTimestampRequest({
        hashAlgorithm: 'sha256',
        digest: createHash('sha256').update(data).digest(),
      }),
    );
    verifyTimestamp(await post(agent, url, okReq), data, [
      { certChain: chain, validFor: { start: new Date(0) } },
    ]);
    if (token.length < 100) throw new Error('short token');
    // The size of the answers the load gets (certReq: the chain is in them).
    const replySize = (await post(agent, url, bodies[0]!)).length;
    agent.destroy();

    // The floor under the ratio, under the same load: a bare node:http server answering a fixed
    // body, and one issuing the timestamps as the in-process loop does (no framework, no routing).
    const bare = await startChild(['--bare', String(replySize)]);
    children.push(bare);
    const bareIssuing = await startChild(['--bare', String(replySize), dataDir]);
    children.push(bareIssuing);
    const tsaRun = new ServerTally(tsa);
    const floor = new ServerTally(bare);
    const bareIssue = new ServerTally(bareIssuing);
    const runs = [tsaRun, floor, bareIssue];
    for (const t of runs) await new ServerTally(t.server).slice(bodies, 500); // warm up
    // The three servers and the in-process loop take turns, ROUNDS times.
    inProcess.run(issue, 300);
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of runs) await t.slice(bodies, (SECONDS * 1000) / ROUNDS);
      inProcess.run(issue, 300);
    }
    const inProc = 1e6 / inProcess.perCallUs;
    const { cpuRate, allThreadsRate, rate, failed } = tsaRun;
    console.log(
      `in-process issue (parse + TSTInfo + ECDSA P-256 sign): ${Math.round(inProc)}/s per CPU second (timed between the slices of the HTTP runs)`,
    );
    console.log(
      `HTTP POST /tsa/api/v1/timestamp (DER, certReq, ${CONNECTIONS} keep-alive connections, ${SECONDS}s in ${ROUNDS} slices, TSA alone in one process): ${Math.round(rate)} timestamps/s, ${failed} failed, load average ${os.loadavg()[0]!.toFixed(1)} — target >= ${TARGET}/s on 2 cores: ${rate >= TARGET ? 'met' : 'NOT met'} (${os.availableParallelism()} cores here)`,
    );
    console.log(
      `  the TSA process's main thread used ${((1e6 / cpuRate) | 0).toString()} µs CPU per timestamp = ${Math.round(cpuRate)}/s per CPU second (all threads: ${((1e6 / allThreadsRate) | 0).toString()} µs)`,
    );
    if (failed > 0) throw new Error(`${failed} timestamp requests failed`);
    if (floor.failed + bareIssue.failed > 0) throw new Error('requests to a bare server failed');
    const inProcUs = 1e6 / inProc;
    const tsaUs = 1e6 / cpuRate;
    const bareUs = 1e6 / floor.cpuRate;
    const bareIssueUs = 1e6 / bareIssue.cpuRate;
    const best = inProcUs / (inProcUs + bareUs);
    const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
    console.log(
      `  a bare node:http server answering the same POSTs with ${replySize} fixed bytes used ${bareUs.toFixed(0)} µs CPU per request: ` +
        `the best any server on this runtime could reach is ${inProcUs.toFixed(0)} / (${inProcUs.toFixed(0)} + ${bareUs.toFixed(0)}) µs = ${pct(best)} of in-process`,
    );
    console.log(
      `  a bare node:http server issuing the timestamps as the TSA does, a turn's requests together (no fastify, no routing), used ${bareIssueUs.toFixed(0)} µs per request = ${pct(inProcUs / bareIssueUs)} of in-process: ` +
        `issuing between socket reads and writes costs ${(bareIssueUs - bareUs - inProcUs).toFixed(0)} µs more than in a tight loop; ` +
        `the TSA (fastify, route, checks) adds ${(tsaUs - bareIssueUs).toFixed(0)} µs over that server`,
    );
    return [
      {
        target: 'TSA over HTTP >= 70 % of in-process',
        measured:
          `${Math.round(cpuRate)} vs ${Math.round(inProc)} per CPU second; floor here: bare node:http ${bareUs.toFixed(0)} µs/request (at best ${pct(best)}), ` +
          `bare node:http issuing ${pct(inProcUs / bareIssueUs)}`,
        ratio: pct(cpuRate / inProc),
        met: cpuRate / inProc >= 0.7,
      },
    ];
  } finally {
    for (const c of children) c.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main && process.argv[2] === '--serve') await serve(process.argv[3]!);
if (import.meta.main && process.argv[2] === '--bare')
  await serveBare(Number(process.argv[3]), process.argv[4]);
