// `-` as the artifact (standard input), as cosign takes it, against a real stack: a large input
// piped from another process is signed, attested and verified as it is read, in bounded memory,
// into the bundle a file of the same bytes gets; a small one is read whole, as before.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireServices, stackToken, tempStack } from '../helpers/stack.ts';
import { PEAK_RSS_PRELOAD, peakRssKiB } from '../helpers/peak-rss.ts';
import { signet, verifyWithSigstoreJs } from '../interop/sign-helpers.ts';
import { WHOLE_FILE_SIGNING_LIMIT } from '../../src/client/sign/setup.ts';
import { WHOLE_FILE_VERIFY_LIMIT } from '../../src/client/verify/setup.ts';

const stack = await tempStack();
after(() => stack.close());
await requireServices(stack.url, ['ca', 'rekor', 'tsa']);
const ISSUER = `${stack.url}/oidc`;
const root = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-stdin-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const identity = [
  '--certificate-identity',
  'dev@signet.local',
  '--certificate-oidc-issuer',
  ISSUER,
  '--server',
  stack.url,
];

/** Three times the whole-read limits: held whole, the input alone would cost 200 MiB. */
const BIG_MIB = 200;
assert.ok(BIG_MIB * 2 ** 20 > 3 * Math.max(WHOLE_FILE_SIGNING_LIMIT, WHOLE_FILE_VERIFY_LIMIT));

// The artifact comes from another process, as `tar c . | signet sign-blob -` would: N MiB, each
// MiB its own bytes, so a chunk dropped, repeated or put out of order changes the digest.
fs.writeFileSync(
  path.join(dir, 'gen.mjs'),
  `import fs from 'node:fs';
const b = Buffer.alloc(1024 * 1024);
for (let i = 0; i < Number(process.argv[2]); i++) {
  b.fill(i % 251);
  b.writeUInt32BE(i, 0);
  for (let off = 0; off < b.length; ) off += fs.writeSync(1, b, off);
}
`,
);
const NODE = path.join(root, 'node_modules/.bin/node');
const gen = (mib: number) => `"$NODE" gen.mjs ${mib}`;

/**
 * `PRODUCER | signet ARGS` through the shell, as a user pipes (a blocking pipe is the command's
 * standard input), with the command's peak resident memory in MiB, from Node itself at exit.
 */
function piped(
  producer: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string; peakMiB: number }> {
  const nodeOptions = fs.readFileSync(path.join(root, 'bin/node-options'), 'utf8').trim();
  const script = `${producer} | "$NODE" ${nodeOptions} --disable-warning=ExperimentalWarning --import "$PEAK" "$MAIN" "$@"`;
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script, 'sh', ...args], {
      cwd: dir,
      env: {
        ...process.env,
        NODE,
        PEAK: PEAK_RSS_PRELOAD,
        MAIN: path.join(root, 'src/cli/main.ts'),
        SIGNET_SERVER: '',
        SIGNET_TUF_CACHE: path.join(dir, 'tuf-cache'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) =>
      resolve({ status, stdout, stderr, peakMiB: peakRssKiB(stderr) / 1024 }),
    );
  });
}

const run = (args: string[]) =>
  signet(args, { cwd: dir, env: { SIGNET_TUF_CACHE: path.join(dir, 'tuf-cache') } });
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const keyless = async () => [
  '--server',
  stack.url,
  '--identity-token',
  await stackToken(stack.url),
];
const b64 = (d: Uint8Array) => Buffer.from(d).toString('base64');

/** The generator's output as a file, and its digests (hashed here, apart from signet); once. */
let big: Promise<{ file: string; sha256: string; sha384: string; sha512: string }> | undefined;
const bigFile = () => (big ??= writeBigFile());
async function writeBigFile() {
  const file = path.join(dir, 'big.bin');
  const r = spawnSync('sh', ['-c', `${gen(BIG_MIB)} > big.bin`], { cwd: dir, env: { NODE } });
  assert.equal(r.status, 0, String(r.stderr));
  assert.equal(fs.statSync(file).size, BIG_MIB * 2 ** 20);
  const hashes = (['sha256', 'sha384', 'sha512'] as const).map((a) => createHash(a));
  for await (const chunk of fs.createReadStream(file)) for (const h of hashes) h.update(chunk);
  const [sha256, sha384, sha512] = hashes.map((h) => h.digest('base64')) as [
    string,
    string,
    string,
  ];
  return { file, sha256, sha384, sha512 };
}

/**
 * Holding the 200 MiB input costs at least 200 MiB over a run with a tiny input (reading it
 * whole cost 350-550 MiB more); read as it comes, a run keeps at most the whole-read limit
 * (64 MiB) before it turns to hashing: 65-75 MiB more here, the rest of the bound is slack.
 */
function assertBounded(peakMiB: number, baseMiB: number, what: string) {
  const extra = peakMiB - baseMiB;
  assert.ok(
    extra < 140,
    `${what} of ${BIG_MIB} MiB on standard input peaked ${extra.toFixed(0)} MiB above a tiny input (${peakMiB.toFixed(0)} MiB)`,
  );
}

test('a small input on standard input gives the bundle a file of its bytes gets, as before, and it verifies by the file (signet, sigstore-js)', async () => {
  const s = await piped(`printf 'hi\\n'`, [
    'sign-blob',
    ...(await keyless()),
    '--bundle',
    'small.json',
    '-',
  ]);
  assert.equal(s.status, 0, s.stderr);
  fs.writeFileSync(path.join(dir, 'hi.txt'), 'hi\n');
  const byPath = await run(['sign-blob', ...(await keyless()), '--bundle', 'hi.json', 'hi.txt']);
  assert.equal(byPath.status, 0, byPath.stderr);
  const piped1 = readJson('small.json');
  const file1 = readJson('hi.json');
  // The same kind of bundle as a file's: a message signature over the sha256 of the bytes.
  assert.deepEqual(Object.keys(piped1), Object.keys(file1));
  assert.deepEqual(piped1.messageSignature.messageDigest, {
    algorithm: 'SHA2_256',
    digest: b64(createHash('sha256').update('hi\n').digest()),
  });
  assert.deepEqual(piped1.messageSignature.messageDigest, file1.messageSignature.messageDigest);
  const v = await run(['verify-blob', ...identity, '--bundle', 'small.json', 'hi.txt']);
  assert.equal(v.status, 0, v.stderr);
  const vin = await piped(`printf 'hi\\n'`, [
    'verify-blob',
    ...identity,
    '--bundle',
    'hi.json',
    '-',
  ]);
  assert.equal(vin.status, 0, vin.stderr);
  const other = await piped(`printf 'ho\\n'`, [
    'verify-blob',
    ...identity,
    '--bundle',
    'small.json',
    '-',
  ]);
  assert.equal(other.status, 12, other.stderr);
  await verifyWithSigstoreJs(stack.url, JSON.stringify(piped1), {
    artifact: Buffer.from('hi\n'),
    identity: 'dev@signet.local',
    issuer: ISSUER,
  });
});

test(`${BIG_MIB} MiB piped from another process: sign-blob - and verify-blob - read it as it comes, in bounded memory, and the bundle is the one its file gets`, async () => {
  const big = await bigFile();
  const base = await piped(`printf 'hi\\n'`, [
    'sign-blob',
    ...(await keyless()),
    '--bundle',
    'base.json',
    '-',
  ]);
  assert.equal(base.status, 0, base.stderr);
  const s = await piped(gen(BIG_MIB), [
    'sign-blob',
    ...(await keyless()),
    '--bundle',
    'big.json',
    '-',
  ]);
  assert.equal(s.status, 0, s.stderr);
  assertBounded(s.peakMiB, base.peakMiB, 'sign-blob -');
  const bundle = readJson('big.json');
  assert.deepEqual(bundle.messageSignature.messageDigest, {
    algorithm: 'SHA2_256',
    digest: big.sha256,
  });
  // The file of the same bytes: signed by its path, the same digest; and the piped bundle
  // verifies against the file, in signet and in sigstore-js.
  const byPath = await run([
    'sign-blob',
    ...(await keyless()),
    '--bundle',
    'big-file.json',
    big.file,
  ]);
  assert.equal(byPath.status, 0, byPath.stderr);
  assert.deepEqual(
    readJson('big-file.json').messageSignature.messageDigest,
    bundle.messageSignature.messageDigest,
  );
  const v = await run(['verify-blob', ...identity, '--bundle', 'big.json', big.file]);
  assert.equal(v.status, 0, v.stderr);
  await verifyWithSigstoreJs(stack.url, JSON.stringify(bundle), {
    artifact: fs.readFileSync(big.file),
    identity: 'dev@signet.local',
    issuer: ISSUER,
  });
  const vbase = await piped(`printf 'hi\\n'`, [
    'verify-blob',
    ...identity,
    '--bundle',
    'base.json',
    '-',
  ]);
  assert.equal(vbase.status, 0, vbase.stderr);
  for (const b of ['big.json', 'big-file.json']) {
    const vin = await piped(gen(BIG_MIB), ['verify-blob', ...identity, '--bundle', b, '-']);
    assert.equal(vin.status, 0, `${b}: ${vin.stderr}`);
    assertBounded(vin.peakMiB, vbase.peakMiB, 'verify-blob -');
  }
  // One MiB more: another digest, refused as a file's would be.
  const longer = await piped(gen(BIG_MIB + 1), [
    'verify-blob',
    ...identity,
    '--bundle',
    'big.json',
    '-',
  ]);
  assert.equal(longer.status, 12, longer.stderr);
  assert.match(
    longer.stderr,
    /^error: the artifact's sha256 digest \S+ is not the digest the bundle says was signed/m,
  );
});

test('keys that sign other digests: Ed25519 (Ed25519ph over SHA-512, no whole message needed) and P-384 (SHA-384) sign and verify a large piped input by its digest', async () => {
  const big = await bigFile();
  const keys = [
    ['ed25519', generateKeyPairSync('ed25519'), 'SHA2_512', big.sha512],
    ['p384', generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'SHA2_384', big.sha384],
  ] as const;
  for (const [name, { privateKey, publicKey }, algorithm, digest] of keys) {
    fs.writeFileSync(
      path.join(dir, `${name}.pem`),
      privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    fs.writeFileSync(
      path.join(dir, `${name}.pub`),
      publicKey.export({ format: 'pem', type: 'spki' }),
    );
    const s = await piped(gen(BIG_MIB), [
      'sign-blob',
      '--server',
      stack.url,
      '--key',
      `${name}.pem`,
      '--bundle',
      `${name}.json`,
      '-',
    ]);
    assert.equal(s.status, 0, `${name}: ${s.stderr}`);
    assert.deepEqual(
      readJson(`${name}.json`).messageSignature.messageDigest,
      { algorithm, digest },
      name,
    );
    const verify = [
      'verify-blob',
      '--server',
      stack.url,
      '--key',
      `${name}.pub`,
      '--bundle',
      `${name}.json`,
    ];
    const v = await run([...verify, big.file]);
    assert.equal(v.status, 0, `${name}: ${v.stderr}`);
    const vin = await piped(gen(BIG_MIB), [...verify, '-']);
    assert.equal(vin.status, 0, `${name}: ${vin.stderr}`);
  }
});

test(`attest-blob - and verify-blob-attestation - take ${BIG_MIB} MiB piped in, in bounded memory: the subject is its sha256`, async () => {
  const big = await bigFile();
  fs.writeFileSync(path.join(dir, 'pred.json'), '{"ok":true}');
  const attest = async (input: string, bundle: string) =>
    piped(input, [
      'attest-blob',
      ...(await keyless()),
      '--predicate',
      'pred.json',
      '--bundle',
      bundle,
      '-',
    ]);
  const base = await attest(`printf 'hi\\n'`, 'att-base.json');
  assert.equal(base.status, 0, base.stderr);
  const a = await attest(gen(BIG_MIB), 'att.json');
  assert.equal(a.status, 0, a.stderr);
  assertBounded(a.peakMiB, base.peakMiB, 'attest-blob -');
  const statement = JSON.parse(
    Buffer.from(readJson('att.json').dsseEnvelope.payload, 'base64').toString(),
  );
  assert.equal(
    statement.subject[0].digest.sha256,
    Buffer.from(big.sha256, 'base64').toString('hex'),
  );
  const verify = ['verify-blob-attestation', ...identity, '--bundle'];
  assert.equal((await run([...verify, 'att.json', big.file])).status, 0);
  const vbase = await piped(`printf 'hi\\n'`, [...verify, 'att-base.json', '-']);
  assert.equal(vbase.status, 0, vbase.stderr);
  const v = await piped(gen(BIG_MIB), [...verify, 'att.json', '-']);
  assert.equal(v.status, 0, v.stderr);
  assertBounded(v.peakMiB, vbase.peakMiB, 'verify-blob-attestation -');
  const other = await piped(gen(BIG_MIB - 1), [...verify, 'att.json', '-']);
  assert.equal(other.status, 12, other.stderr);
});
