/**
 * cosign's file-or-URL inputs (pkg/blob/load.go LoadFileOrURL): --key (signing and verifying),
 * --certificate, --certificate-chain, --signature, --rfc3161-timestamp, verify-blob's artifact
 * and initialize --root given as an http(s) URL or env://VAR, through the real `bin/signet`
 * against a whole stack, with the URLs served by a loopback HTTP(S) server in this process and
 * the variables set on the child processes. The bad cases are one line naming the flag, and
 * never print a variable's value.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { stackToken, tempStack } from '../helpers/stack.ts';
import { endlessServer } from '../helpers/endless-server.ts';
import { selfSigned } from '../helpers/tls.ts';

const bin = path.resolve('bin/signet');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-file-or-url-'));
let stack: Awaited<ReturnType<typeof tempStack>> | undefined;
let url = '';
/** The work folder's files over plain HTTP (`${web}/a.txt`), and over HTTPS (`${tls}/a.txt`). */
let web = '';
let tls = '';
let tlsCert = '';
let endless: Awaited<ReturnType<typeof endlessServer>> | undefined;
const servers: Array<http.Server | https.Server> = [];

/** Files of the work folder by name; `/hang` never answers (a server that took the request). */
function serveFiles(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/hang') return;
  const file = path.join(dir, path.basename(req.url ?? ''));
  if (!fs.existsSync(file)) {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<html><body><h1>Not Found</h1></body></html>\n');
    return;
  }
  res.writeHead(200);
  res.end(fs.readFileSync(file));
}

async function listen(server: http.Server | https.Server, scheme: string): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const started = Date.now();
  return new Promise<{ status: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve) => {
      const e: NodeJS.ProcessEnv = { ...process.env, SIGNET_TUF_CACHE: path.join(dir, 'tuf') };
      delete e.SIGNET_SERVER;
      delete e.COSIGN_PASSWORD;
      for (const [k, v] of Object.entries(env))
        if (v === undefined) delete e[k];
        else e[k] = v;
      const child = spawn(bin, args, { cwd: dir, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - started }));
    },
  );
}

/** One `error:` line (after cosign's deprecation warnings), the exit code, no stack trace. */
function fails(r: Awaited<ReturnType<typeof run>>, code: number, re: RegExp): void {
  assert.equal(r.status, code, r.stderr);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('Flag --') && !l.startsWith('warning: trust on first use'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, re);
}

const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
/** A private key's PEM body (its base64 lines): what must never be printed. */
const secretLines = (pem: string) =>
  pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));

before(async () => {
  stack = await tempStack();
  url = stack.url;
  fs.writeFileSync(path.join(dir, 'a.txt'), 'an artifact read over HTTP\n');
  fs.writeFileSync(path.join(dir, 'tampered.txt'), 'an artifact read over HTTP, changed\n');
  const g = await run(['generate-key-pair'], { COSIGN_PASSWORD: 'pw' });
  assert.equal(g.status, 0, g.stderr);
  web = await listen(http.createServer(serveFiles), 'http');
  const cert = selfSigned(dir, 'IP:127.0.0.1', 'web');
  tlsCert = cert.cert;
  tls = await listen(
    https.createServer(
      { cert: fs.readFileSync(cert.cert), key: fs.readFileSync(cert.key) },
      serveFiles,
    ),
    'https',
  );
  endless = await endlessServer('application/x-pem-file');
});
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  endless?.close();
  await stack?.close();
});

test('sign-blob --key env://VAR signs with an encrypted cosign key; verify-blob and public-key take --key as env://, http:// and https://', async () => {
  const keyPem = read('cosign.key');
  const s = await run(
    ['sign-blob', '--key', 'env://SIGNET_TEST_KEY', '--server', url, '--bundle', 'b.json', 'a.txt'],
    { SIGNET_TEST_KEY: keyPem, COSIGN_PASSWORD: 'pw' },
  );
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /Wrote bundle to file b\.json/);
  for (const line of secretLines(keyPem)) assert.ok(!s.stderr.includes(line), s.stderr);
  const verify = (key: string, env: Record<string, string> = {}) =>
    run(['verify-blob', '--key', key, '--server', url, '--bundle', 'b.json', 'a.txt'], env);
  for (const [key, env] of [
    ['cosign.pub', {}],
    ['env://SIGNET_TEST_PUB', { SIGNET_TEST_PUB: read('cosign.pub') }],
    [`${web}/cosign.pub`, {}],
    [`${tls}/cosign.pub`, { NODE_EXTRA_CA_CERTS: tlsCert }],
  ] as const) {
    const v = await verify(key, env);
    assert.equal(v.status, 0, `${key}: ${v.stderr}`);
    assert.match(v.stderr, /Verified OK: signed by the given public key/);
  }
  // The HTTPS server's certificate is checked: not trusted without its CA.
  fails(
    await verify(`${tls}/cosign.pub`),
    1,
    /^error: --key: cannot reach the server at https:\/\/127\.0\.0\.1:\d+\/cosign\.pub: .*certificate/,
  );
  // Another key at the URL: read, and it does not verify.
  const other = await run(['generate-key-pair', '--output-key-prefix', 'other'], {
    COSIGN_PASSWORD: 'pw',
  });
  assert.equal(other.status, 0, other.stderr);
  assert.equal((await verify(`${web}/other.pub`)).status, 12);
  // A private key from a URL signs too, and public-key reads one from a URL or a variable.
  const u = await run(
    [
      'sign-blob',
      '--key',
      `${web}/cosign.key`,
      '--tlog-upload=false',
      '--bundle',
      'u.json',
      '--output-signature',
      'u.sig',
      'a.txt',
    ],
    { COSIGN_PASSWORD: 'pw' },
  );
  assert.equal(u.status, 0, u.stderr);
  // bundle create takes the public key from a URL, as cosign's does.
  const bc = await run([
    'bundle',
    'create',
    '--artifact',
    'a.txt',
    '--signature',
    'u.sig',
    '--key',
    `${web}/cosign.pub`,
    '--ignore-tlog',
    '--out',
    'bc.json',
  ]);
  assert.equal(bc.status, 0, bc.stderr);
  const bcv = await run(
    [
      'verify-blob',
      '--key',
      'env://SIGNET_TEST_PUB',
      '--insecure-ignore-tlog',
      '--bundle',
      'bc.json',
      'a.txt',
    ],
    { SIGNET_TEST_PUB: read('cosign.pub') },
  );
  assert.equal(bcv.status, 0, bcv.stderr);
  const uv = await run([
    'verify-blob',
    '--key',
    `${web}/cosign.pub`,
    '--insecure-ignore-tlog',
    '--bundle',
    'u.json',
    'a.txt',
  ]);
  assert.equal(uv.status, 0, uv.stderr);
  for (const [key, env] of [
    [`${web}/cosign.key`, {}],
    ['env://SIGNET_TEST_KEY', { SIGNET_TEST_KEY: keyPem }],
  ] as const) {
    const p = await run(['public-key', '--key', key], { COSIGN_PASSWORD: 'pw', ...env });
    assert.equal(p.status, 0, `${key}: ${p.stderr}`);
    assert.equal(p.stdout, read('cosign.pub'));
  }
});

test('verify-blob reads the artifact, --signature, --certificate, --certificate-chain and --rfc3161-timestamp from URLs', async () => {
  const s = await run([
    'sign-blob',
    '--server',
    url,
    '--identity-token',
    await stackToken(url),
    '--bundle',
    'k.json',
    '--output-signature',
    'k.sig',
    '--output-certificate',
    'k.pem',
    '--rfc3161-timestamp',
    'k.tsr',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  // The intermediate CA of the stack: what --certificate-chain holds.
  const root = (await (await fetch(`${url}/trusted_root.json`)).json()) as {
    certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
  };
  const der = root.certificateAuthorities[0]!.certChain.certificates[0]!.rawBytes;
  fs.writeFileSync(
    path.join(dir, 'chain.pem'),
    `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`,
  );
  const who = [
    '--certificate-identity',
    'dev@signet.local',
    '--certificate-oidc-issuer',
    `${url}/oidc`,
  ];
  const verify = (args: string[], env: Record<string, string> = {}) =>
    run(['verify-blob', '--server', url, ...who, ...args], env);
  let v = await verify(['--bundle', 'k.json', `${web}/a.txt`]);
  assert.equal(v.status, 0, v.stderr);
  v = await verify(['--bundle', 'k.json', 'env://SIGNET_ARTIFACT'], {
    SIGNET_ARTIFACT: read('a.txt'),
  });
  assert.equal(v.status, 0, v.stderr);
  // The bytes at the URL are what is verified.
  fails(await verify(['--bundle', 'k.json', `${web}/tampered.txt`]), 12, /^error: /);
  // Detached, every input a URL: the log entry is found as for files.
  const detached = [
    '--signature',
    `${web}/k.sig`,
    '--certificate',
    `${web}/k.pem`,
    '--certificate-chain',
    `${web}/chain.pem`,
  ];
  v = await verify([...detached, `${web}/a.txt`]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /Verified OK: signed by dev@signet\.local .*\(transparency log\)/);
  // Without the log, the timestamp read from its URL is the signed time.
  v = await verify(
    [
      ...detached,
      '--rfc3161-timestamp',
      `${tls}/k.tsr`,
      '--insecure-ignore-tlog',
      '--use-signed-timestamps',
      `${web}/a.txt`,
    ],
    { NODE_EXTRA_CA_CERTS: tlsCert },
  );
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /\(timestamp authority\)/);
  // The signature from a variable, as its base64 text.
  v = await verify(['--signature', 'env://SIGNET_SIG', '--certificate', `${web}/k.pem`, 'a.txt'], {
    SIGNET_SIG: read('k.sig'),
  });
  assert.equal(v.status, 0, v.stderr);
  // What is at the URL must be what the flag takes.
  fails(
    await verify(['--signature', `${web}/k.sig`, '--certificate', `${web}/a.txt`, 'a.txt']),
    1,
    /^error: --certificate: /,
  );
  fails(
    await verify([...detached, '--rfc3161-timestamp', `${web}/a.txt`, 'a.txt']),
    1,
    /^error: --rfc3161-timestamp: http:\/\/127\.0\.0\.1:\d+\/a\.txt is not an RFC 3161 timestamp: /,
  );
  // A URL artifact has no bundle beside it, and no path for a policy to match.
  fails(
    await verify([`${web}/a.txt`]),
    1,
    /^error: --bundle: is required when the artifact is a URL or env:\/\/ value: no bundle is beside it$/,
  );
  fails(
    await verify(['a.txt', `${web}/a.txt`]),
    1,
    /^error: artifact: http:\/\/127\.0\.0\.1:\d+\/a\.txt: several artifacts are files, each with its bundle beside it/,
  );
  fails(
    await run(['verify-blob', '--policy', 'p.yaml', '--bundle', 'k.json', `${web}/a.txt`]),
    1,
    /^error: --policy: decides about a file by its path: give the artifact as a file, not a URL/,
  );
  // verify-blob-attestation opens its artifact and envelope as files, as cosign's does.
  fails(
    await run([
      'verify-blob-attestation',
      '--key',
      'cosign.pub',
      '--bundle',
      'k.json',
      `${web}/a.txt`,
    ]),
    1,
    /^error: artifact: http:\/\/127\.0\.0\.1:\d+\/a\.txt: the artifact is read from a file here, not from a URL or env:\/\/ \(as in cosign\); save it to a file first$/,
  );
  fails(
    await run(
      [
        'verify-blob-attestation',
        '--key',
        'cosign.pub',
        '--signature',
        'env://SIGNET_ENVELOPE',
        'a.txt',
      ],
      { SIGNET_ENVELOPE: '{}' },
    ),
    1,
    /^error: --signature: env:\/\/SIGNET_ENVELOPE: the attestation's envelope is read from a file here/,
  );
  // An artifact URL that is not there is a missing artifact (cosign's exit 11), as a file.
  fails(
    await verify(['--bundle', 'k.json', `${web}/missing.txt`]),
    11,
    /^error: artifact: http:\/\/127\.0\.0\.1:\d+\/missing\.txt answered HTTP 404$/,
  );
});

test('a reference that cannot be read is one line naming the flag, and never prints a variable', async () => {
  const keyPem = read('cosign.key');
  const signBlob = (key: string, env: Record<string, string> = {}, more: string[] = []) =>
    run(
      ['sign-blob', '--key', key, '--tlog-upload=false', '--bundle', 'x.json', ...more, 'a.txt'],
      { COSIGN_PASSWORD: 'pw', ...env },
    );
  const verifyBlob = (key: string, env: Record<string, string> = {}) =>
    run(
      ['verify-blob', '--key', key, '--insecure-ignore-tlog', '--bundle', 'u.json', 'a.txt'],
      env,
    );
  // A variable that is not set: named, for signing and verifying.
  fails(
    await signBlob('env://SIGNET_UNSET_KEY'),
    1,
    /^error: --key: env:\/\/SIGNET_UNSET_KEY names the environment variable SIGNET_UNSET_KEY, which is not set$/,
  );
  fails(
    await verifyBlob('env://SIGNET_UNSET_KEY'),
    1,
    /^error: --key: env:\/\/SIGNET_UNSET_KEY names the environment variable SIGNET_UNSET_KEY, which is not set$/,
  );
  // A URL that is not there: the URL and the status, not the server's page.
  fails(
    await verifyBlob(`${web}/missing.pub`),
    1,
    /^error: --key: http:\/\/127\.0\.0\.1:\d+\/missing\.pub answered HTTP 404$/,
  );
  fails(
    await signBlob(`${web}/missing.key`),
    1,
    /^error: --key: http:\/\/127\.0\.0\.1:\d+\/missing\.key answered HTTP 404$/,
  );
  // A password in the URL is not printed.
  const withPassword = await verifyBlob(
    `http://user:hunter2@${web.slice('http://'.length)}/missing.pub`,
  );
  fails(
    withPassword,
    1,
    /^error: --key: http:\/\/\*\*\*@127\.0\.0\.1:\d+\/missing\.pub answered HTTP 404$/,
  );
  assert.doesNotMatch(withPassword.stderr, /hunter2/);
  // A server that never answers: cut off at --timeout.
  const hang = await signBlob(`${web}/hang`, {}, ['--timeout', '1s']);
  fails(
    hang,
    1,
    /^error: --key: cannot reach the server at http:\/\/127\.0\.0\.1:\d+\/hang: no answer within 1 s$/,
  );
  assert.ok(hang.ms < 15_000, `took ${hang.ms} ms`);
  const imageHang = await run([
    'verify',
    '--key',
    `${web}/hang`,
    '--timeout',
    '1s',
    `127.0.0.1:1/app@sha256:${'0'.repeat(64)}`,
  ]);
  fails(
    imageHang,
    1,
    /^error: --key: cannot reach the server at http:\/\/127\.0\.0\.1:\d+\/hang: no answer within 1 s$/,
  );
  // verify-blob's URLs are read under its --timeout too: the key, and a detached signature.
  for (const args of [
    ['--key', `${web}/hang`, '--insecure-ignore-tlog', '--bundle', 'u.json'],
    ['--key', 'cosign.pub', '--insecure-ignore-tlog', '--signature', `${web}/hang`],
  ]) {
    const r = await run(['verify-blob', ...args, '--timeout', '1s', 'a.txt']);
    fails(
      r,
      1,
      /^error: --(key|signature): cannot reach the server at http:\/\/127\.0\.0\.1:\d+\/hang: no answer within 1 s$/,
    );
  }
  // An answer without end is cut off at the limit, not read whole.
  fails(
    await verifyBlob(`${endless!.url}/key.pub`),
    1,
    /^error: --key: cannot reach the server at http:\/\/127\.0\.0\.1:\d+\/key\.pub: response is too large \(more than the 16777216 byte limit\)$/,
  );
  assert.ok(endless!.streamed() < 64 * 1024 * 1024, `${endless!.streamed()} bytes streamed`);
  // Not a key: said as for a file, and a variable's value is not printed.
  fails(
    await verifyBlob(`${web}/a.txt`),
    1,
    /^error: --key: http:\/\/127\.0\.0\.1:\d+\/a\.txt is not a public key: contains no PEM block$/,
  );
  fails(
    await verifyBlob('env://SIGNET_NOT_A_KEY', { SIGNET_NOT_A_KEY: 'sekrit-value' }),
    1,
    /^error: --key: env:\/\/SIGNET_NOT_A_KEY is not a public key: contains no PEM block$/,
  );
  const notPrivate = await signBlob('env://SIGNET_NOT_A_KEY', { SIGNET_NOT_A_KEY: 'sekrit-value' });
  fails(
    notPrivate,
    1,
    /^error: --key: env:\/\/SIGNET_NOT_A_KEY: is not a private key \(no PEM block found\)$/,
  );
  assert.doesNotMatch(notPrivate.stderr, /sekrit/);
  fails(
    await signBlob('env://SIGNET_NOT_A_KEY', { SIGNET_NOT_A_KEY: read('cosign.pub') }),
    1,
    /^error: --key: env:\/\/SIGNET_NOT_A_KEY: is not a private key \(found PEM "PUBLIC KEY"/,
  );
  const wrongPassword = await signBlob('env://SIGNET_TEST_KEY', {
    SIGNET_TEST_KEY: keyPem,
    COSIGN_PASSWORD: 'not-pw',
  });
  fails(
    wrongPassword,
    1,
    /^error: --key: env:\/\/SIGNET_TEST_KEY: cannot decrypt the private key: wrong passphrase/,
  );
  for (const line of secretLines(keyPem)) assert.ok(!wrongPassword.stderr.includes(line));
  assert.doesNotMatch(wrongPassword.stderr, /not-pw/);
  fails(await verifyBlob('env://'), 1, /^error: --key: env:\/\/ names no environment variable/);
  // cosign's KMS and other key services stay refused by name.
  for (const key of ['awskms://localhost/alias/x', 'k8s://ns/secret']) {
    for (const r of [
      await signBlob(key),
      await verifyBlob(key),
      await run(['public-key', '--key', key]),
    ])
      fails(
        r,
        1,
        new RegExp(
          `^error: --key: ${key.replace(/[/.]/g, '\\$&')} is a key reference \\(${key.split(':')[0]}://\\), cosign's way to a KMS, Vault, Kubernetes, PKCS#11 or GitLab key; Signet takes a key file, an http\\(s\\) URL or env://VAR`,
        ),
      );
  }
});

test('initialize --root takes env://VAR as cosign does, as well as a file and a URL', async () => {
  const rootJson = await (await fetch(`${url}/tuf/1.root.json`)).text();
  const init = (root: string, env: Record<string, string> = {}) =>
    run(['initialize', '--mirror', `${url}/tuf`, '--root', root], {
      SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(dir, 'init-')),
      ...env,
    });
  const r = await init('env://SIGNET_ROOT', { SIGNET_ROOT: rootJson });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^Root status: the TUF repository .* is the default/);
  // Not downloaded: no warning about a download without a checksum.
  assert.doesNotMatch(r.stderr, /warning/);
  fails(
    await init('env://SIGNET_UNSET_ROOT'),
    1,
    /^error: --root: env:\/\/SIGNET_UNSET_ROOT names the environment variable SIGNET_UNSET_ROOT, which is not set$/,
  );
});
