/**
 * cosign's TLS client flags for a timestamp authority: the stack's TSA behind an HTTPS front on
 * loopback (node:https, certificates made by OpenSSL) that asks for a client certificate.
 * --timestamp-client-cacert trusts the front's private CA, --timestamp-client-cert/-key are
 * the certificate it asks for, --timestamp-server-name the name its certificate carries.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stackToken, tempStack } from '../helpers/stack.ts';
import { clientCertificate, selfSigned } from '../helpers/tls.ts';
import { oneError, signet } from '../interop/sign-helpers.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tsa-tls-'));
const server = selfSigned(dir, 'DNS:tsa.test');
const client = clientCertificate(dir);
let stack: Awaited<ReturnType<typeof tempStack>>;
let front: https.Server;
let tsaUrl = '';
let asked = 0;

before(async () => {
  stack = await tempStack();
  front = https.createServer(
    {
      cert: fs.readFileSync(server.cert),
      key: fs.readFileSync(server.key),
      ca: fs.readFileSync(client.ca),
      requestCert: true,
      rejectUnauthorized: true,
    },
    async (q, res) => {
      asked++;
      const chunks: Buffer[] = [];
      for await (const c of q) chunks.push(c as Buffer);
      const r = await fetch(`${stack.url}/tsa/api/v1/timestamp`, {
        method: 'POST',
        headers: { 'content-type': q.headers['content-type'] ?? '' },
        body: Buffer.concat(chunks),
      });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? '' });
      res.end(Buffer.from(await r.arrayBuffer()));
    },
  );
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  tsaUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}/api/v1/timestamp`;
  fs.writeFileSync(path.join(dir, 'a.txt'), 'timestamped over mutual TLS\n');
});
after(async () => {
  front.closeAllConnections();
  front.close();
  await stack.close();
});

const run = (args: string[]) => signet(args, { cwd: dir });
const tls = () => [
  '--timestamp-client-cacert',
  server.cert,
  '--timestamp-client-cert',
  client.cert,
  '--timestamp-client-key',
  client.key,
  '--timestamp-server-name',
  'tsa.test',
];
const signWith = async (extra: string[], bundle: string) =>
  run([
    'sign-blob',
    '--server',
    stack.url,
    '--identity-token',
    await stackToken(stack.url),
    '--timestamp-server-url',
    tsaUrl,
    ...extra,
    '--bundle',
    bundle,
    'a.txt',
  ]);

test('a TSA behind mutual TLS with a private CA: the timestamp is in the bundle and verifies', async () => {
  const s = await signWith(tls(), 'ts.json');
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, new RegExp(`timestamp received from ${tsaUrl.replace(/[.]/g, '\\.')}`));
  assert.equal(asked, 1);
  const b = JSON.parse(fs.readFileSync(path.join(dir, 'ts.json'), 'utf8')) as {
    verificationMaterial: { timestampVerificationData: { rfc3161Timestamps: unknown[] } };
  };
  assert.equal(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
  const v = await run([
    'verify-blob',
    '--server',
    stack.url,
    '--bundle',
    'ts.json',
    '--certificate-identity',
    'dev@signet.local',
    '--certificate-oidc-issuer',
    `${stack.url}/oidc`,
    '--use-signed-timestamps',
    'a.txt',
  ]);
  assert.equal(v.status, 0, v.stderr);
});

test('each TLS flag is needed, and the failure names the TSA', async () => {
  const flags = tls();
  const without = (flag: string) => {
    const i = flags.indexOf(flag);
    return [...flags.slice(0, i), ...flags.slice(i + 2)];
  };
  for (const [args, why] of [
    [without('--timestamp-client-cacert'), 'no private CA'],
    [without('--timestamp-server-name'), 'certificate for another name'],
    [
      without('--timestamp-client-cert').filter(
        (a) => a !== '--timestamp-client-key' && a !== client.key,
      ),
      'no client certificate',
    ],
  ] as const) {
    const before = asked;
    const r = await signWith([...args], 'no.json');
    assert.equal(r.status, 1, `${why}: ${r.stderr}`);
    assert.match(oneError(r.stderr), new RegExp(tsaUrl.replace(/[.]/g, '\\.')), why);
    assert.equal(asked, before, why);
  }
  const bad: Array<[string[], RegExp]> = [
    [
      ['--timestamp-client-cert', client.cert],
      /--timestamp-client-cert: goes with --timestamp-client-cert and --timestamp-client-key together/,
    ],
    [
      ['--timestamp-client-cacert', client.key],
      /--timestamp-client-cacert .*: holds no CA certificate/,
    ],
    [
      ['--timestamp-client-cert', client.cert, '--timestamp-client-key', server.key],
      /--timestamp-client-key: is not the key of --timestamp-client-cert/,
    ],
  ];
  for (const [args, message] of bad) {
    const r = await signWith(args, 'no.json');
    assert.equal(r.status, 1, r.stderr);
    assert.match(oneError(r.stderr), message);
  }
});
