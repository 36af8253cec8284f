/**
 * Debian's docker-registry (distribution 2.8: no referrers API) on a free loopback port with
 * filesystem storage in a temporary folder, optionally behind htpasswd basic auth, and images
 * built here as OCI layouts and pushed with skopeo, the independent client.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { clientCertificate, selfSigned } from './tls.ts';

export interface TestRegistry {
  host: string;
  url: string;
  dir: string;
  /** `user:password` when started with auth. */
  creds?: string;
  /**
   * With TLS: the server's certificate (its own CA, PEM), and with client authentication a
   * client certificate and key it accepts, and the folder skopeo reads them from (--cert-dir).
   */
  tls?: { cert: string; clientCert?: string; clientKey?: string; certDir?: string };
  /** The registry process (benchmarks read its CPU time). */
  pid: number;
  close(): Promise<void>;
}

/**
 * An HTTP server on a free loopback port (a registry stand-in, or a front on the real one), its
 * `host:port`, and a close that ends its keep-alive connections too.
 */
export async function loopbackServer(
  handler: http.RequestListener,
): Promise<{ host: string; close: () => Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(s.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

/** What `forward` got from the registry, and the body the front had received. */
export interface Forwarded {
  status: number;
  /** The registry's headers, a Location pointing back at the front. */
  headers: Record<string, string>;
  body: Buffer;
  requestBody: Buffer;
}

/**
 * Pass request `q`, received by a front at `frontHost`, on to the registry `reg` (its headers
 * but Host and those in `drop`) and read the whole answer; the front writes it back, possibly
 * changed: a registry with a feature docker-registry lacks, or a restriction it has.
 */
export async function forward(
  reg: TestRegistry,
  frontHost: string,
  q: http.IncomingMessage,
  drop: readonly string[] = [],
): Promise<Forwarded> {
  const chunks: Buffer[] = [];
  for await (const c of q) chunks.push(c as Buffer);
  const requestBody = Buffer.concat(chunks);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(q.headers))
    if (typeof v === 'string' && k !== 'host' && !drop.includes(k)) headers[k] = v;
  const r = await fetch(`${reg.url}${q.url}`, {
    method: q.method,
    headers,
    ...(requestBody.length && q.method !== 'GET' && q.method !== 'HEAD'
      ? { body: requestBody }
      : {}),
    redirect: 'manual',
  });
  const out: Record<string, string> = {};
  r.headers.forEach(
    (v, k) => (out[k] = k === 'location' ? v.replace(reg.url, `http://${frontHost}`) : v),
  );
  return { status: r.status, headers: out, body: Buffer.from(await r.arrayBuffer()), requestBody };
}

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Why the registry tests cannot run here, or undefined when they can. */
export function registryMissing(): string | undefined {
  if (!fs.existsSync(REGISTRY_BIN))
    return 'Debian docker-registry is not installed (apt-get install docker-registry)';
  if (spawnSync('skopeo', ['--version']).status !== 0)
    return 'skopeo is not installed (apt-get install skopeo)';
  if (spawnSync('htpasswd', ['-h']).error)
    return 'htpasswd is not installed (apt-get install apache2-utils)';
  return undefined;
}

/**
 * An IPv4 address of this machine that is not loopback (a registry there is "remote" to the
 * client: HTTPS by default), or undefined when the machine has none.
 */
export function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/** Is the registry answering (any HTTP status; TLS not verified: it may be self-signed)? */
function ping(url: string, client?: { cert: string; key: string }): Promise<boolean> {
  const mod = url.startsWith('https:') ? https : http;
  const auth = client
    ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) }
    : {};
  return new Promise((resolve) => {
    const req = mod.get(`${url}/v2/`, { rejectUnauthorized: false, ...auth }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('error', () => resolve(false));
  });
}

export async function startRegistry(
  opts: {
    auth?: { user: string; password: string };
    /** Listen here instead of 127.0.0.1 (e.g. nonLoopbackAddress()). */
    address?: string;
    /**
     * Serve HTTPS with a self-signed certificate made by OpenSSL; `name`: for that DNS name
     * instead of the address; `clientAuth`: ask for a client certificate of a CA made here.
     */
    tls?: boolean | { name?: string; clientAuth?: boolean };
  } = {},
): Promise<TestRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-registry-'));
  const port = await freePort();
  const address = opts.address ?? '127.0.0.1';
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}:${port}`,
  ];
  let tlsFiles: TestRegistry['tls'];
  if (opts.tls) {
    const o = opts.tls === true ? {} : opts.tls;
    const { cert, key } = selfSigned(dir, o.name ? `DNS:${o.name}` : `IP:${address}`);
    lines.push('  tls:', `    certificate: ${cert}`, `    key: ${key}`);
    tlsFiles = { cert };
    if (o.clientAuth) {
      const client = clientCertificate(dir);
      lines.push('    clientcas:', `      - ${client.ca}`);
      // skopeo's --cert-dir: client.cert and client.key (and no CA file: TLS is not verified).
      const certDir = path.join(dir, 'skopeo-certs');
      fs.mkdirSync(certDir);
      fs.copyFileSync(client.cert, path.join(certDir, 'client.cert'));
      fs.copyFileSync(client.key, path.join(certDir, 'client.key'));
      tlsFiles = { cert, clientCert: client.cert, clientKey: client.key, certDir };
    }
  }
  if (opts.auth) {
    const r = spawnSync('htpasswd', ['-Bbn', opts.auth.user, opts.auth.password], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    fs.writeFileSync(path.join(dir, 'htpasswd'), r.stdout);
    lines.push(
      'auth:',
      '  htpasswd:',
      '    realm: signet-test',
      `    path: ${path.join(dir, 'htpasswd')}`,
    );
  }
  fs.writeFileSync(path.join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `${opts.tls ? 'https' : 'http'}://${address}:${port}`;
  for (let i = 0; ; i++) {
    const client =
      tlsFiles?.clientCert && tlsFiles.clientKey
        ? { cert: tlsFiles.clientCert, key: tlsFiles.clientKey }
        : undefined;
    if (await ping(url, client)) break;
    if (i > 100 || child.exitCode !== null) {
      child.kill();
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const reg: TestRegistry = {
    host: `${address}:${port}`,
    url,
    dir,
    pid: child.pid!,
    close: async () => {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill();
        await done;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  if (opts.auth) reg.creds = `${opts.auth.user}:${opts.auth.password}`;
  if (tlsFiles) reg.tls = tlsFiles;
  return reg;
}

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function writeBlob(dir: string, data: Uint8Array | string): { digest: string; size: number } {
  const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const hex = sha(buf);
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'blobs', 'sha256', hex), buf);
  return { digest: `sha256:${hex}`, size: buf.length };
}

/** A layer of `bytes` pseudo-random bytes, written in pieces (never whole in memory). */
function writeBigBlob(dir: string, bytes: number): { digest: string; size: number } {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const tmp = path.join(dir, 'blobs', 'big.tmp');
  const fd = fs.openSync(tmp, 'w');
  const h = createHash('sha256');
  const piece = randomBytes(1024 * 1024);
  for (let left = bytes, i = 0; left > 0; left -= piece.length, i++) {
    piece.writeUInt32BE(i, 0); // every MiB differs
    const part = piece.subarray(0, Math.min(left, piece.length));
    h.update(part);
    fs.writeSync(fd, part);
  }
  fs.closeSync(fd);
  const hex = h.digest('hex');
  fs.renameSync(tmp, path.join(dir, 'blobs', 'sha256', hex));
  return { digest: `sha256:${hex}`, size: bytes };
}

function imageManifest(dir: string, arch: string, content: string, layerBytes?: number) {
  const layer =
    layerBytes !== undefined
      ? writeBigBlob(dir, layerBytes)
      : writeBlob(dir, `layer for ${arch}: ${content}`);
  const config = writeBlob(
    dir,
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      config: {},
    }),
  );
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  });
  return { ...writeBlob(dir, manifest), arch };
}

/**
 * An OCI layout with one image (`platforms` = 1) or a multi-platform index, tagged `tag`.
 * `content` makes the image unique. Returns the layout folder and the top digest.
 */
export function buildLayout(
  tag: string,
  content: string,
  platforms: string[] = ['amd64'],
  layerBytes?: number,
): { dir: string; digest: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-layout-'));
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  let top: { digest: string; size: number; mediaType: string };
  if (platforms.length === 1) {
    const m = imageManifest(dir, platforms[0]!, content, layerBytes);
    top = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: m.digest,
      size: m.size,
    };
  } else {
    const ms = platforms.map((p) => imageManifest(dir, p, content));
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: ms.map((m) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: m.digest,
        size: m.size,
        platform: { architecture: m.arch, os: 'linux' },
      })),
    });
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', ...writeBlob(dir, index) };
  }
  fs.writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return { dir, digest: top.digest };
}

function skopeo(args: string[]): string {
  const r = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Build and push an image; returns `host/repo@digest` and the digest. */
export function pushImage(
  reg: TestRegistry,
  repo: string,
  opts: { tag?: string; content?: string; platforms?: string[]; layerBytes?: number } = {},
): { ref: string; tagRef: string; digest: string } {
  const tag = opts.tag ?? 'v1';
  const { dir, digest } = buildLayout(
    tag,
    opts.content ?? `${repo}:${tag} ${Math.random()}`,
    opts.platforms,
    opts.layerBytes,
  );
  skopeo([
    'copy',
    '--quiet',
    '--all',
    '--preserve-digests',
    '--dest-tls-verify=false',
    ...(reg.tls?.certDir ? ['--dest-cert-dir', reg.tls.certDir] : []),
    ...(reg.creds ? ['--dest-creds', reg.creds] : []),
    `oci:${dir}:${tag}`,
    `docker://${reg.host}/${repo}:${tag}`,
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
  return { ref: `${reg.host}/${repo}@${digest}`, tagRef: `${reg.host}/${repo}:${tag}`, digest };
}

/** `skopeo inspect --raw` of a tag or digest, parsed (what an independent client sees there). */
export function inspectRaw(reg: TestRegistry, repoRef: string): Record<string, unknown> {
  return JSON.parse(
    skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      ...(reg.tls?.certDir ? ['--cert-dir', reg.tls.certDir] : []),
      ...(reg.creds ? ['--creds', reg.creds] : []),
      `docker://${reg.host}/${repoRef}`,
    ]),
  ) as Record<string, unknown>;
}
