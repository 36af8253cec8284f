/**
 * The admission webhook: decisions per second for a Pod with 5 images, over HTTPS on loopback
 * exactly as the API server asks (AdmissionReview v1 POSTed to /validate, keep-alive, several in
 * flight), against Debian's docker-registry and a local stack.
 *  - cached: the 5 digests were verified before; each review is decided from the cache
 *    (target >= 2,000 decisions/s);
 *  - uncached: the cache is off, so each review (of 5 pinned tags, as /mutate leaves them) finds every signature in
 *    the registry and verifies them (target p99 <= 50 ms per review).
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startStack } from '../src/services/stack.ts';
import { parseTrustedRoot } from '../src/bundle/trusted-root.ts';
import { setupSigning } from '../src/client/sign/setup.ts';
import { signImage } from '../src/client/oci/index.ts';
import {
  AdmissionController,
  loadPolicies,
  registryEvidence,
  startAdmissionServer,
} from '../src/client/policy/index.ts';
import { stackToken } from '../test/helpers/stack.ts';
import { pushImage, registryMissing, startRegistry } from '../test/helpers/registry.ts';
import { selfSigned } from '../test/helpers/tls.ts';
import type { TargetRow } from './table.ts';

function review(images: string[], n: number): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `bench-${n}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      name: 'web',
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'bench' },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'default' },
        spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
      },
    },
  });
}

function post(url: string, body: string, ca: Buffer, agent: https.Agent): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        ca,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve((JSON.parse(text) as { response: { allowed: boolean } }).response.allowed),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A keep-alive HTTPS client posting one review again and again; prints decisions per second. */
const LOAD_CLIENT = `
import https from 'node:https';
import fs from 'node:fs';
const [url, caFile, bodyFile, ms, inflight] = process.argv.slice(1);
const ca = fs.readFileSync(caFile);
const body = fs.readFileSync(bodyFile);
const agent = new https.Agent({ keepAlive: true, maxSockets: Number(inflight) });
const post = () => new Promise((resolve, reject) => {
  const req = https.request(url, { method: 'POST', ca, agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
    let text = '';
    res.on('data', (d) => (text += d));
    res.on('end', () => (JSON.parse(text).response.allowed ? resolve() : reject(new Error('denied'))));
  });
  req.on('error', reject);
  req.end(body);
});
const t0 = performance.now();
let k = 0;
await Promise.all(Array.from({ length: Number(inflight) }, async () => {
  while (performance.now() - t0 < Number(ms)) { await post(); k++; }
}));
console.log((k / (performance.now() - t0)) * 1000);
agent.destroy();
`;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

export async function run(): Promise<TargetRow[]> {
  const why = registryMissing();
  if (why) {
    console.log(`skipped: ${why}`);
    return [];
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bench-admission-'));
  const quiet = { info() {}, warn() {}, error() {} };
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir: path.join(dir, 'stack'),
    log: quiet,
  });
  const reg = await startRegistry();
  const servers: Array<{ close(): Promise<void> }> = [];
  try {
    const root = parseTrustedRoot(await (await fetch(`${stack.url}/trusted_root.json`)).json());
    const ctx = await setupSigning({
      server: stack.url,
      identityToken: await stackToken(stack.url),
      rekorVersion: 1,
    });
    const images: string[] = [];
    const pinned: string[] = [];
    for (let i = 0; i < 5; i++) {
      const img = pushImage(reg, `bench/app${i}`, { tag: 'v1' });
      await signImage(img.ref, ctx);
      // as /mutate pins them: /validate denies a tag an enforcing policy covers
      images.push(`${img.tagRef}@${img.digest}`);
      pinned.push(img.ref);
    }
    fs.writeFileSync(
      path.join(dir, 'policy.yaml'),
      `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: bench}\nspec:\n  images: [{glob: "${reg.host}/bench/**"}]\n  authorities:\n    - keyless: {identities: [{subject: dev@signet.local, issuer: "${stack.url}/oidc"}]}\n`,
    );
    const policies = await loadPolicies([path.join(dir, 'policy.yaml')], {
      defaultTrust: { root, label: 'stack' },
    });
    const files = selfSigned(dir, 'IP:127.0.0.1');
    const cert = fs.readFileSync(files.cert);
    const key = fs.readFileSync(files.key);
    const serve = async (cacheTtlMs: number) => {
      const controller = new AdmissionController({
        policies,
        images: registryEvidence(policies),
        cacheTtlMs,
        timeoutMs: 10_000,
      });
      const s = await startAdmissionServer({ controller, cert, key, port: 0, host: '127.0.0.1' });
      servers.push(s);
      return { url: `${s.url}/validate?timeout=10s`, controller };
    };

    // Cached: images named by digest, as /mutate pins them (policy-controller's deployment);
    // a decided digest needs no registry round trip.
    const cached = await serve(60_000);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
    let n = 0;
    const body = review(pinned, 0);
    if (!(await post(cached.url, body, cert, agent))) throw new Error('the pod is not admitted');
    // In process (the decision itself, no HTTP) and over HTTPS.
    const inProcess = async (ms: number) => {
      const t0 = performance.now();
      let k = 0;
      const parsed = JSON.parse(body) as unknown;
      while (performance.now() - t0 < ms) {
        await cached.controller.review(parsed);
        k++;
      }
      return (k / (performance.now() - t0)) * 1000;
    };
    // The API server is another process: so is the load generator here (the machine has few
    // cores, and a client in the webhook's own event loop would take what the webhook gets).
    fs.writeFileSync(path.join(dir, 'body.json'), review(pinned, 0));
    const overHttps = (ms: number, inflight: number, url?: string) =>
      new Promise<number>((resolve, reject) => {
        const args = [
          url ?? cached.url,
          files.cert,
          path.join(dir, 'body.json'),
          String(ms),
          String(inflight),
        ];
        const child = spawn(process.execPath, ['--input-type=module', '-e', LOAD_CLIENT, ...args], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) =>
          code === 0
            ? resolve(Number(out.trim()))
            : reject(new Error(`load client exited ${code}`)),
        );
      });
    // The floor of this machine, in the same run: the same client against an HTTPS server that
    // answers every review with a fixed "allowed" (TLS, HTTP and the client's own cost).
    const bare = https.createServer({ cert, key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        const t = JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: 'x', allowed: true },
        });
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(t),
        });
        res.end(t);
      });
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
    servers.push({
      close: () =>
        new Promise((r) => {
          bare.closeAllConnections();
          bare.close(() => r());
        }),
    });
    const bareUrl = `https://127.0.0.1:${(bare.address() as { port: number }).port}/validate`;
    await overHttps(500, 8); // warm up
    const rateIn = Math.max(await inProcess(1000), await inProcess(1000));
    const rateHttps = Math.max(await overHttps(2000, 8), await overHttps(2000, 8));
    const rateBare = Math.max(await overHttps(2000, 8, bareUrl), await overHttps(2000, 8, bareUrl));
    console.log(`cached, pod with 5 images (decisions cached per digest):`);
    console.log(
      `  in process: ${rateIn.toFixed(0)} decisions/s; over HTTPS (8 in flight, keep-alive): ${rateHttps.toFixed(0)} decisions/s`,
    );

    // Uncached: cache off; each review resolves, discovers and verifies all 5 images.
    const cold = await serve(0);
    const lat: number[] = [];
    for (let i = 0; i < 10; i++) await post(cold.url, review(images, n++), cert, agent); // warm up
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      if (!(await post(cold.url, review(images, n++), cert, agent))) throw new Error('denied');
      lat.push(performance.now() - t0);
    }
    const p50 = pct(lat, 50);
    const p99 = pct(lat, 99);
    console.log(
      `uncached, pod with 5 images (pinned tags: referrers + legacy lookups and 5 verifications per review): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${lat.length} reviews (${cold.controller.stats.evaluations} image evaluations)`,
    );
    agent.destroy();
    return [
      {
        target: 'admission, pod with 5 images, cached >= 2,000 decisions/s',
        measured: `${rateIn.toFixed(0)}/s deciding; over HTTPS ${rateHttps.toFixed(0)}/s (${((rateHttps / rateBare) * 100).toFixed(0)} % of a fixed answer, ${rateBare.toFixed(0)}/s, on this machine)`,
        ratio: `${(rateIn / 2000).toFixed(1)}x deciding, ${(rateHttps / 2000).toFixed(2)}x over HTTPS`,
        met: rateIn >= 2000 && rateHttps >= 2000,
      },
      {
        target: 'admission, pod with 5 images, uncached p99 <= 50 ms',
        measured: `p99 ${p99.toFixed(1)} ms (p50 ${p50.toFixed(1)} ms)`,
        ratio: `${(p99 / 50).toFixed(2)}x of budget`,
        met: p99 <= 50,
      },
    ];
  } finally {
    for (const s of servers) await s.close();
    await reg.close();
    await stack.close();
  }
}
