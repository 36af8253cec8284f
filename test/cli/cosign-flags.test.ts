/**
 * cosign flag groups against a whole stack on loopback, each checked so that the test fails
 * when the flag is ignored: the service URLs of sign-blob (--fulcio-url, --rekor-url,
 * --timestamp-server-url, with no signing config), an ambient CI token and
 * --oidc-disable-ambient-providers, attest-blob --output-attestation, verify-blob --digest with
 * --digestAlg, and verify-blob-attestation --check-claims=false.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stackToken, tempStack } from '../helpers/stack.ts';

const bin = path.resolve('bin/signet');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cosign-flags-'));
let stack: Awaited<ReturnType<typeof tempStack>> | undefined;
let url = '';

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const e: NodeJS.ProcessEnv = {
      ...process.env,
      SIGNET_TUF_CACHE: path.join(dir, 'tuf'),
      ...env,
    };
    for (const k of ['SIGNET_SERVER', 'SIGSTORE_ID_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL'])
      if (!(k in env)) delete e[k];
    const child = spawn(bin, args, { cwd: dir, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const who = () => [
  '--certificate-identity',
  'dev@signet.local',
  '--certificate-oidc-issuer',
  `${url}/oidc`,
];
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));

before(async () => {
  stack = await tempStack();
  url = stack.url;
  fs.writeFileSync(path.join(dir, 'a.txt'), 'cosign flag groups\n');
  fs.writeFileSync(path.join(dir, 'other.txt'), 'another file\n');
  fs.writeFileSync(path.join(dir, 'pred.json'), '{"built": "here"}');
});
after(async () => {
  await stack?.close();
});

test('sign-blob --fulcio-url --rekor-url --timestamp-server-url: the services named, no signing config', async () => {
  const services = [
    '--use-signing-config=false',
    '--fulcio-url',
    `${url}/fulcio`,
    '--rekor-url',
    `${url}/rekor`,
    '--timestamp-server-url',
    `${url}/tsa/api/v1/timestamp`,
  ];
  const token = await stackToken(url);
  const s = await run([
    'sign-blob',
    ...services,
    '--identity-token',
    token,
    '--bundle',
    'u.json',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, new RegExp(`signing certificate issued by ${url}/fulcio\\n`));
  assert.match(s.stderr, new RegExp(`timestamp received from ${url}/tsa/api/v1/timestamp\\n`));
  assert.match(s.stderr, new RegExp(`tlog entry created with index: \\d+ \\(${url}/rekor\\)\\n`));
  const b = readJson('u.json');
  assert.equal(b.verificationMaterial.tlogEntries[0].kindVersion.version, '0.0.1');
  assert.equal(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
  const v = await run(['verify-blob', '--server', url, '--bundle', 'u.json', ...who(), 'a.txt']);
  assert.equal(v.status, 0, v.stderr);
  // each URL is the one used: a dead one for any of them fails, naming it
  for (const [i, flag] of [
    [1, '--fulcio-url'],
    [3, '--rekor-url'],
    [5, '--timestamp-server-url'],
  ] as const) {
    const dead = [...services];
    dead[i + 1] = 'http://127.0.0.1:1/x';
    const r = await run([
      'sign-blob',
      ...dead,
      '--identity-token',
      token,
      '--bundle',
      'd.json',
      'a.txt',
    ]);
    assert.equal(r.status, 1, `${flag}: ${r.stderr}`);
    assert.match(r.stderr, /http:\/\/127\.0\.0\.1:1\/x/, flag);
  }
});

test('an ambient GitHub Actions token is used, and not with --oidc-disable-ambient-providers', async () => {
  const token = await stackToken(url);
  let asked = 0;
  const gh = http.createServer((req, res) => {
    asked++;
    assert.equal(req.headers.authorization, 'bearer request-token');
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ value: token }));
  });
  await new Promise<void>((r) => gh.listen(0, '127.0.0.1', r));
  const env = {
    GITHUB_ACTIONS: 'true',
    ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(gh.address() as AddressInfo).port}/token?x=1`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
  };
  try {
    const s = await run(['sign-blob', '--server', url, '--bundle', 'amb.json', 'a.txt'], env);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(asked, 1);
    const off = await run(
      [
        'sign-blob',
        '--server',
        url,
        '--oidc-disable-ambient-providers',
        '--bundle',
        'off.json',
        'a.txt',
      ],
      env,
    );
    assert.equal(off.status, 1, off.stderr);
    assert.equal(asked, 1, 'the ambient provider was not asked');
    assert.equal(fs.existsSync(path.join(dir, 'off.json')), false);
  } finally {
    await new Promise((r) => gh.close(r));
  }
});

test('attest-blob --output-attestation; verify-blob --digestAlg; verify-blob-attestation --check-claims=false', async () => {
  const token = await stackToken(url);
  const a = await run([
    'attest-blob',
    '--server',
    url,
    '--identity-token',
    token,
    '--predicate',
    'pred.json',
    '--type',
    'https://example.com/p',
    '--bundle',
    'att.json',
    '--output-attestation',
    'env.json',
    'a.txt',
  ]);
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(readJson('env.json'), readJson('att.json').dsseEnvelope);
  // --check-claims=false: the envelope alone; no artifact needed, a different one not checked
  const verifyAtt = (args: string[], type = ['--type', 'https://example.com/p']) =>
    run([
      'verify-blob-attestation',
      '--server',
      url,
      '--bundle',
      'att.json',
      ...who(),
      ...type,
      ...args,
    ]);
  // cosign's default --type is custom, which this attestation is not
  let v = await verifyAtt(['a.txt'], []);
  assert.equal(v.status, 12, v.stderr);
  assert.match(
    v.stderr,
    /predicate type is "https:\/\/example.com\/p", expected "https:\/\/cosign.sigstore.dev\/attestation\/v1"/,
  );
  v = await verifyAtt(['a.txt']);
  assert.equal(v.status, 0, v.stderr);
  v = await verifyAtt(['other.txt']);
  assert.equal(v.status, 12, v.stderr);
  v = await verifyAtt(['--check-claims=false', 'other.txt']);
  assert.equal(v.status, 0, v.stderr);
  v = await verifyAtt(['--check-claims=false']);
  assert.equal(v.status, 0, v.stderr);
  v = await verifyAtt([]);
  assert.equal(v.status, 1, v.stderr);
  assert.match(v.stderr, /artifact: is required/);

  // --digest as bare hex with --digestAlg
  const s = await run([
    'sign-blob',
    '--server',
    url,
    '--identity-token',
    token,
    '--bundle',
    'b.json',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  const hex = createHash('sha256')
    .update(fs.readFileSync(path.join(dir, 'a.txt')))
    .digest('hex');
  const verifyDigest = (args: string[]) =>
    run(['verify-blob', '--server', url, '--bundle', 'b.json', ...who(), ...args]);
  v = await verifyDigest(['--digest', hex, '--digestAlg', 'sha256']);
  assert.equal(v.status, 0, v.stderr);
  v = await verifyDigest(['--digest', `sha256:${hex}`]);
  assert.equal(v.status, 0, v.stderr);
  v = await verifyDigest(['--digest', hex, '--digestAlg', 'sha384']);
  assert.equal(v.status, 1, v.stderr);
  assert.match(v.stderr, /--digest/);
  v = await verifyDigest(['--digest', 'ab'.repeat(48), '--digestAlg', 'sha384']);
  assert.equal(v.status, 12, v.stderr);
  v = await verifyDigest(['--digest', hex, '--digestAlg', 'md5']);
  assert.equal(v.status, 1, v.stderr);
  assert.match(v.stderr, /--digestAlg: "md5" is not sha256, sha384 or sha512/);
});

test('SIGSTORE_ID_TOKEN signs; SIGNET_SERVER serves verify-blob-attestation; TUF_MIRROR with TUF_ROOT_JSON, cached in TUF_ROOT', async () => {
  const token = await stackToken(url);
  const s = await run(
    [
      'attest-blob',
      '--server',
      url,
      '--predicate',
      'pred.json',
      '--bundle',
      'env-att.json',
      'a.txt',
    ],
    { SIGSTORE_ID_TOKEN: token },
  );
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /SIGSTORE_ID_TOKEN/);
  // no --server: SIGNET_SERVER names the stack whose trust verifies the attestation
  let v = await run(['verify-blob-attestation', '--bundle', 'env-att.json', ...who(), 'a.txt'], {
    SIGNET_SERVER: url,
  });
  assert.equal(v.status, 0, v.stderr);
  v = await run(['verify-blob-attestation', '--bundle', 'env-att.json', ...who(), 'a.txt'], {
    SIGNET_SERVER: 'http://127.0.0.1:1',
  });
  assert.notEqual(v.status, 0, v.stderr);
  assert.match(v.stderr, /http:\/\/127\.0\.0\.1:1/);
  // the default TUF repository from cosign's variables; its cache in TUF_ROOT
  fs.writeFileSync(
    path.join(dir, 'root.json'),
    await (await fetch(`${url}/tuf/1.root.json`)).text(),
  );
  const tufRoot = path.join(dir, 'tuf-root');
  const e: NodeJS.ProcessEnv = { ...process.env };
  delete e.SIGNET_TUF_CACHE;
  v = await new Promise((resolve) => {
    const child = spawn(
      bin,
      ['verify-blob-attestation', '--bundle', 'env-att.json', ...who(), 'a.txt'],
      {
        cwd: dir,
        env: {
          ...e,
          SIGNET_SERVER: '',
          TUF_MIRROR: `${url}/tuf`,
          TUF_ROOT_JSON: path.join(dir, 'root.json'),
          TUF_ROOT: tufRoot,
        },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout: '', stderr }));
  });
  assert.equal(v.status, 0, v.stderr);
  const cached = fs.readdirSync(tufRoot, { recursive: true }).map(String);
  assert.ok(
    cached.some((f) => f.endsWith('trusted_root.json')),
    `TUF_ROOT holds the cache: ${cached.join(', ')}`,
  );
});

test('bundle upgrade fetches the missing inclusion proof from --rekor-url: a v0.1 bundle with only a SET, and cosign’s old --bundle JSON', async () => {
  const token = await stackToken(url);
  const s = await run([
    'sign-blob',
    '--server',
    url,
    '--rekor-url',
    `${url}/rekor`,
    '--identity-token',
    token,
    '--bundle',
    'v1.json',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  const b = readJson('v1.json');
  const entry = b.verificationMaterial.tlogEntries[0];
  assert.ok(entry.inclusionPromise && entry.inclusionProof);
  // v0.1: the SET only (as bundles made before inclusion proofs were required)
  const old = structuredClone(b);
  old.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
  delete old.verificationMaterial.tlogEntries[0].inclusionProof;
  old.verificationMaterial.x509CertificateChain = {
    certificates: [old.verificationMaterial.certificate],
  };
  delete old.verificationMaterial.certificate;
  fs.writeFileSync(path.join(dir, 'v01.json'), JSON.stringify(old));
  // cosign's legacy --bundle JSON (cosign < 2.0 sign-blob --bundle)
  const certDer = b.verificationMaterial.certificate.rawBytes as string;
  const certPem = `-----BEGIN CERTIFICATE-----\n${certDer.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  const legacy = {
    base64Signature: b.messageSignature.signature,
    cert: Buffer.from(certPem).toString('base64'),
    rekorBundle: {
      SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
      Payload: {
        body: entry.canonicalizedBody,
        integratedTime: Number(entry.integratedTime),
        logIndex: Number(entry.logIndex),
        logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
      },
    },
  };
  fs.writeFileSync(path.join(dir, 'legacy.json'), JSON.stringify(legacy));
  for (const input of ['v01.json', 'legacy.json']) {
    const dead = await run(['bundle', 'upgrade', input, '--rekor-url', 'http://127.0.0.1:1']);
    assert.equal(dead.status, 1, `${input}: ${dead.stderr}`);
    assert.match(dead.stderr, /http:\/\/127\.0\.0\.1:1\/api\/v1\/log\/entries\?logIndex=/);
    const out = `up-${input}`;
    const up = await run(['bundle', 'upgrade', input, '--rekor-url', `${url}/rekor`, '--out', out]);
    assert.equal(up.status, 0, `${input}: ${up.stderr}`);
    const u = readJson(out);
    assert.equal(u.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const e = u.verificationMaterial.tlogEntries[0];
    assert.equal(e.logIndex, entry.logIndex);
    assert.equal(e.canonicalizedBody, entry.canonicalizedBody);
    assert.ok(e.inclusionProof?.checkpoint?.envelope, `${input}: the proof was fetched`);
    const v = await run(['verify-blob', '--server', url, '--bundle', out, ...who(), 'a.txt']);
    assert.equal(v.status, 0, `${input}: ${v.stderr}`);
  }
});
