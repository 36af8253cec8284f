/**
 * The cosign flags that need services, against a whole stack on loopback: --tlog-upload=false and
 * --insecure-ignore-tlog, --offline with the stack stopped, SIGNET_SERVER for verify, detached
 * outputs made into a bundle again (bundle create), bundle upgrade, initialize, public-key and
 * import-key-pair.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createSign, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PEAK_RSS_PRELOAD, peakRssKiB } from '../helpers/peak-rss.ts';
import { stackToken, tempStack } from '../helpers/stack.ts';

const bin = path.resolve('bin/signet');
const C = path.resolve('test/fixtures/conformance');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cosign-stack-'));
const cache = path.join(dir, 'tuf');
let stack: Awaited<ReturnType<typeof tempStack>> | undefined;
let url = '';
let issuer = '';

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const e: NodeJS.ProcessEnv = { ...process.env, SIGNET_TUF_CACHE: cache, ...env };
    if (!('SIGNET_SERVER' in env)) delete e.SIGNET_SERVER;
    const child = spawn(bin, args, { cwd: dir, env: e });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  stack = await tempStack();
  url = stack.url;
  issuer = `${url}/oidc`;
  fs.writeFileSync(path.join(dir, 'a.txt'), 'artifact for cosign flags\n');
  fs.writeFileSync(
    path.join(dir, 'root.json'),
    await (await fetch(`${url}/tuf/1.root.json`)).text(),
  );
});
after(async () => {
  await stack?.close();
});

const who = () => [
  '--certificate-identity',
  'dev@signet.local',
  '--certificate-oidc-issuer',
  issuer,
];

test('--tlog-upload=false makes a bundle that verify-blob --insecure-ignore-tlog accepts', async () => {
  const s = await run([
    'sign-blob',
    '--server',
    url,
    '--identity-token',
    await stackToken(url),
    '--tlog-upload=false',
    '--bundle',
    'nolog.json',
    '--output-signature',
    'a.sig',
    '--output-certificate',
    'a.pem',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  assert.doesNotMatch(s.stderr, /tlog entry created/);
  assert.deepEqual(
    JSON.parse(fs.readFileSync(path.join(dir, 'nolog.json'), 'utf8')).verificationMaterial
      .tlogEntries,
    [],
  );
  let v = await run(['verify-blob', '--server', url, '--bundle', 'nolog.json', ...who(), 'a.txt']);
  assert.equal(v.status, 12, v.stderr);
  assert.match(
    v.stderr,
    /0 transparency log entries; 1 verified entry is required \(a signature made without a log on purpose verifies with --insecure-ignore-tlog\)/,
  );
  v = await run([
    'verify-blob',
    '--server',
    url,
    '--bundle',
    'nolog.json',
    '--insecure-ignore-tlog',
    ...who(),
    'a.txt',
  ]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /timestamp authority/);
  // the detached outputs verify too (cosign's --signature/--certificate), and make a bundle again
  const detachedA = [
    'verify-blob',
    '--server',
    url,
    '--signature',
    'a.sig',
    '--certificate',
    'a.pem',
  ];
  v = await run([...detachedA, '--insecure-ignore-tlog', ...who(), 'a.txt']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /Flag --signature has been deprecated/);
  // Without --insecure-ignore-tlog the entry is looked up in the trusted root's logs: this
  // signature was never logged, and the error says what to do.
  v = await run([...detachedA, ...who(), 'a.txt']);
  assert.equal(v.status, 12, v.stderr);
  assert.match(
    v.stderr,
    /no transparency log of the trusted root records this signature \(looked in .*\): give the bundle written when it was signed \(--bundle\), or --insecure-ignore-tlog/,
  );
  // keyed, no services at all
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(path.join(dir, 'k.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const pub = await run(['public-key', '--key', 'k.pem']);
  assert.equal(pub.status, 0, pub.stderr);
  fs.writeFileSync(path.join(dir, 'k.pub'), pub.stdout);
  const k = await run([
    'sign-blob',
    '--key',
    'k.pem',
    '--tlog-upload=false',
    '--bundle',
    'k.json',
    'a.txt',
  ]);
  assert.equal(k.status, 0, k.stderr);
  v = await run([
    'verify-blob',
    '--key',
    'k.pub',
    '--bundle',
    'k.json',
    '--insecure-ignore-tlog',
    '--offline',
    '--trusted-root',
    path.join(C, 'trust-roots/production/trusted_root.json'),
    'a.txt',
  ]);
  assert.equal(v.status, 0, v.stderr);
});

test("verify-blob --rfc3161-timestamp: cosign's detached timestamp gives a detached signature its signed time", async () => {
  const sign = async (file: string) => {
    const s = await run([
      'sign-blob',
      '--server',
      url,
      '--identity-token',
      await stackToken(url),
      '--tlog-upload=false',
      '--bundle',
      `${file}.json`,
      '--output-signature',
      `${file}.sig`,
      '--output-certificate',
      `${file}.pem`,
      '--rfc3161-timestamp',
      `${file}.tsr`,
      file,
    ]);
    assert.equal(s.status, 0, s.stderr);
  };
  fs.writeFileSync(path.join(dir, 't.txt'), 'timestamped\n');
  fs.writeFileSync(path.join(dir, 'u.txt'), 'another, timestamped\n');
  await sign('t.txt');
  await sign('u.txt');
  const detached = (tsr?: string) => [
    'verify-blob',
    '--server',
    url,
    '--signature',
    't.txt.sig',
    '--certificate',
    't.txt.pem',
    ...(tsr ? ['--rfc3161-timestamp', tsr] : []),
    '--insecure-ignore-tlog',
    '--use-signed-timestamps',
    ...who(),
    't.txt',
  ];
  let v = await run(detached('t.txt.tsr'));
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /Verified OK/);
  // Without it there is no signed time, which --use-signed-timestamps requires.
  v = await run(detached());
  assert.equal(v.status, 12, v.stderr);
  assert.match(v.stderr, /RFC 3161 timestamp/);
  // Another signature's timestamp does not stand in for this one's.
  v = await run(detached('u.txt.tsr'));
  assert.equal(v.status, 12, v.stderr);
  assert.match(v.stderr, /timestamp/);
  // Not a timestamp: one line naming the flag.
  fs.writeFileSync(path.join(dir, 'junk.tsr'), 'not DER');
  v = await run(detached('junk.tsr'));
  assert.notEqual(v.status, 0);
  assert.match(v.stderr, /^error: .*--rfc3161-timestamp/m);
  assert.doesNotMatch(v.stderr, /\n\s+at /);
  v = await run(detached('missing.tsr'));
  assert.notEqual(v.status, 0);
  assert.match(v.stderr, /^error: --rfc3161-timestamp: .*missing\.tsr/m);
  // A bundle carries its own timestamps: the flag with --bundle is refused, not ignored.
  v = await run([
    'verify-blob',
    '--server',
    url,
    '--bundle',
    't.txt.json',
    '--rfc3161-timestamp',
    'u.txt.tsr',
    '--insecure-ignore-tlog',
    ...who(),
    't.txt',
  ]);
  assert.equal(v.status, 1, v.stderr);
  assert.match(
    v.stderr,
    /^error: --rfc3161-timestamp: goes with --signature \(a detached signature\): a bundle carries its own RFC 3161 timestamps/m,
  );
});

test('a detached signature that was logged verifies without its bundle: the entry is found in the log, as cosign does', async () => {
  const s = await run([
    'sign-blob',
    '--server',
    url,
    '--identity-token',
    await stackToken(url),
    '--rekor-version',
    '1',
    '--bundle',
    'logged.json',
    '--output-signature',
    'logged.sig',
    '--output-certificate',
    'logged.pem',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  const detached = ['--signature', 'logged.sig', '--certificate', 'logged.pem', ...who()];
  const v = await run(['verify-blob', '--server', url, ...detached, 'a.txt']);
  assert.equal(v.status, 0, v.stderr);
  // With a bundle, a certificate to pin is refused, not ignored (cosign refuses it too).
  for (const flag of ['--certificate', '--certificate-chain']) {
    const pinned = await run([
      'verify-blob',
      '--server',
      url,
      '--bundle',
      'logged.json',
      flag,
      'logged.pem',
      ...who(),
      'a.txt',
    ]);
    assert.equal(pinned.status, 1, pinned.stderr);
    assert.equal(
      pinned.stderr
        .split('\n')
        .filter((l) => !l.startsWith('Flag '))
        .join('\n'), // cosign's deprecation line
      `error: ${flag}: goes with --signature (a detached signature): a bundle carries its own certificate and chain; to require a signer, use the identity flags or --key\n`,
    );
  }
  // the entry is this signature's: another file's is not accepted with it
  fs.writeFileSync(path.join(dir, 'other.txt'), 'another file\n');
  const w = await run(['verify-blob', '--server', url, ...detached, 'other.txt']);
  assert.equal(w.status, 12, w.stderr);
  // With a trusted root file alone, at the log URL it names (a shard's: lookups only there)
  fs.writeFileSync(
    path.join(dir, 'stack-root.json'),
    await (await fetch(`${url}/trusted_root.json`)).text(),
  );
  const byRoot = await run([
    'verify-blob',
    '--trusted-root',
    'stack-root.json',
    ...detached,
    'a.txt',
  ]);
  assert.equal(byRoot.status, 0, byRoot.stderr);
  const shard = (
    JSON.parse(fs.readFileSync(path.join(dir, 'stack-root.json'), 'utf8')) as {
      tlogs: Array<{ baseUrl: string }>;
    }
  ).tlogs[0]!.baseUrl;
  const write = await fetch(`${shard}/api/v1/log/entries`, { method: 'POST', body: '{}' });
  // no admission under a shard URL: its entries path only reads (405, Allow: GET, HEAD)
  assert.equal(write.status, 405);
  assert.equal(write.headers.get('allow'), 'GET, HEAD');
  // --offline cannot look it up, and says so
  const o = await run(['verify-blob', '--server', url, '--offline', ...detached, 'a.txt']);
  assert.equal(o.status, 12, o.stderr);
  assert.match(o.stderr, /looked up online, and --offline forbids that/);
});

test("a detached signature's failures name the signature (or the flag's file), not a bundle it does not have", async () => {
  // logged.sig and logged.pem: the detached outputs signed in the test above
  assert.ok(fs.existsSync(path.join(dir, 'logged.sig')), 'the test above signed');
  const errorOf = async (args: string[]) => {
    const r = await run(['verify-blob', '--server', url, '--signature', 'logged.sig', ...args]);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.doesNotMatch(lines[0]!, /bundle/, lines[0]);
    return { status: r.status, line: lines[0]! };
  };
  const cert = ['--certificate', 'logged.pem'];
  const ts = await errorOf([...cert, ...who(), '--use-signed-timestamps', 'a.txt']);
  assert.equal(ts.status, 12);
  assert.equal(
    ts.line,
    'error: the signature has 0 verified RFC 3161 timestamps; 1 is required (--use-signed-timestamps)',
  );
  fs.writeFileSync(
    path.join(dir, 'stranger.pub'),
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }),
  );
  const key = await errorOf([...cert, '--key', 'stranger.pub', 'a.txt']);
  assert.equal(key.status, 12);
  assert.equal(key.line, "error: the signature's certificate has a key other than the key given");
  // CA certificates come from --certificate-chain's file: its errors name it
  const leafAsChain = await errorOf([
    ...cert,
    '--certificate-chain',
    'logged.pem',
    ...who(),
    'a.txt',
  ]);
  assert.equal(leafAsChain.status, 12);
  assert.match(
    leafAsChain.line,
    /^error: --certificate-chain logged\.pem carries a certificate \(".*"\) that is not part of the trusted CA chain$/,
  );
  const trusted = JSON.parse(fs.readFileSync(path.join(dir, 'stack-root.json'), 'utf8')) as {
    certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
  };
  const rootDer = trusted.certificateAuthorities[0]!.certChain.certificates.at(-1)!.rawBytes;
  fs.writeFileSync(
    path.join(dir, 'ca-root.pem'),
    `-----BEGIN CERTIFICATE-----\n${rootDer.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`,
  );
  const root = await errorOf([...cert, '--certificate-chain', 'ca-root.pem', ...who(), 'a.txt']);
  assert.equal(root.status, 12);
  assert.match(
    root.line,
    /^error: --certificate-chain ca-root\.pem carries a self-signed root certificate \(".*"\); roots come only from the trusted root$/,
  );
});

test('bundle create from a signature and certificate: with --ignore-tlog it verifies only with --insecure-ignore-tlog; without, the entry is found in the log (Rekor v2 or v1 written); bundle upgrade', async () => {
  const s = await run([
    'sign-blob',
    '--server',
    url,
    '--identity-token',
    await stackToken(url),
    '--bundle',
    'logged.json',
    '--output-signature',
    'l.sig',
    '--output-certificate',
    'l.pem',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  const c = await run([
    'bundle',
    'create',
    '--artifact',
    'a.txt',
    '--signature',
    'l.sig',
    '--certificate',
    'l.pem',
    '--ignore-tlog',
    '--out',
    'created.json',
  ]);
  assert.equal(c.status, 0, c.stderr);
  let v = await run([
    'verify-blob',
    '--server',
    url,
    '--bundle',
    'created.json',
    ...who(),
    'a.txt',
  ]);
  assert.equal(v.status, 12, v.stderr);
  v = await run([
    'verify-blob',
    '--server',
    url,
    '--bundle',
    'created.json',
    '--insecure-ignore-tlog',
    ...who(),
    'a.txt',
  ]);
  assert.equal(v.status, 0, v.stderr);
  // Without --ignore-tlog the entry is looked up in the log, as cosign's bundle create does:
  // sign-blob wrote it through Rekor v2 (hashedrekord 0.0.2), found by the v1 search index.
  const found = await run([
    'bundle',
    'create',
    '--artifact',
    'a.txt',
    '--signature',
    'l.sig',
    '--certificate',
    'l.pem',
    '--rekor-url',
    `${url}/rekor`,
    '--out',
    'found.json',
  ]);
  assert.equal(found.status, 0, found.stderr);
  const logged = JSON.parse(fs.readFileSync(path.join(dir, 'logged.json'), 'utf8'));
  const entry = JSON.parse(fs.readFileSync(path.join(dir, 'found.json'), 'utf8'))
    .verificationMaterial.tlogEntries;
  assert.equal(entry.length, 1);
  assert.equal(
    entry[0].canonicalizedBody,
    logged.verificationMaterial.tlogEntries[0].canonicalizedBody,
  );
  v = await run(['verify-blob', '--server', url, '--bundle', 'found.json', ...who(), 'a.txt']);
  assert.equal(v.status, 0, v.stderr);
  // Signed through Rekor v1 (hashedrekord 0.0.1): found by content (entries/retrieve).
  fs.writeFileSync(path.join(dir, 'b.txt'), 'second artifact\n');
  const s1 = await run([
    'sign-blob',
    '--server',
    url,
    '--rekor-url',
    `${url}/rekor`,
    '--identity-token',
    await stackToken(url),
    '--bundle',
    'b.json',
    '--output-signature',
    'b.sig',
    '--output-certificate',
    'b.pem',
    'b.txt',
  ]);
  assert.equal(s1.status, 0, s1.stderr);
  const create = (artifact: string, sig: string, cert: string, out: string) =>
    run([
      'bundle',
      'create',
      '--artifact',
      artifact,
      '--signature',
      sig,
      '--certificate',
      cert,
      '--rekor-url',
      `${url}/rekor`,
      '--out',
      out,
    ]);
  const f1 = await create('b.txt', 'b.sig', 'b.pem', 'found1.json');
  assert.equal(f1.status, 0, f1.stderr);
  const b1 = JSON.parse(fs.readFileSync(path.join(dir, 'found1.json'), 'utf8'));
  assert.equal(b1.verificationMaterial.tlogEntries[0].kindVersion.version, '0.0.1');
  v = await run(['verify-blob', '--server', url, '--bundle', 'found1.json', ...who(), 'b.txt']);
  assert.equal(v.status, 0, v.stderr);
  // Nothing in the log records this signature over this artifact by this signer: exit 11.
  for (const [artifact, sig, cert] of [
    ['b.txt', 'l.sig', 'l.pem'],
    ['a.txt', 'b.sig', 'l.pem'],
  ] as const) {
    const miss = await create(artifact, sig, cert, 'missing.json');
    assert.equal(miss.status, 11, miss.stderr);
    assert.match(
      miss.stderr,
      /^error: the transparency log at \S+ has no entry for this signature \(searched by content and by sha256:[0-9a-f]{64}\); give the log it was written to with --rekor-url, or --ignore-tlog\n$/,
    );
  }
  // v0.1 (public-good) to v0.3: the proofs are there, the log is not asked
  const up = await run([
    'bundle',
    'upgrade',
    path.join(C, 'bundle-verify/happy-path-v0.1/bundle.sigstore.json'),
    '--rekor-url',
    'http://127.0.0.1:9',
    '--out',
    'up.json',
  ]);
  assert.equal(up.status, 0, up.stderr);
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'up.json'), 'utf8'));
  assert.equal(j.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.ok(j.verificationMaterial.certificate);
  assert.equal(up.stderr, 'Upgraded a v0.1 bundle to v0.3\nWrote bundle to file up.json\n');
  const i = await run(['bundle', 'inspect', 'up.json']);
  assert.match(i.stdout, /Signed by: +https:\/\/github\.com\/sigstore-conformance/);
  // a v0.3 bundle is not said to be upgraded
  const same = await run([
    'bundle',
    'upgrade',
    'up.json',
    '--rekor-url',
    'http://127.0.0.1:9',
    '--out',
    'up2.json',
  ]);
  assert.equal(same.status, 0, same.stderr);
  assert.equal(
    same.stderr,
    'The bundle is v0.3 already: written as it is, with any inclusion proof it lacked\nWrote bundle to file up2.json\n',
  );
});

test("initialize takes cosign's --root URL and --root-checksum forms (hex, sha256:, sha512:)", async () => {
  const rootUrl = `${url}/tuf/1.root.json`;
  const bytes = Buffer.from(await (await fetch(rootUrl)).arrayBuffer());
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const sha512 = createHash('sha512').update(bytes).digest('hex');
  const init = (...rest: string[]) =>
    run(['initialize', '--mirror', `${url}/tuf`, ...rest], {
      SIGNET_TUF_CACHE: fs.mkdtempSync(path.join(dir, 'init-')),
    });
  for (const sum of [sha256, `sha256:${sha256}`, `sha512:${sha512}`]) {
    const r = await init('--root', rootUrl, '--root-checksum', sum);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^Root status: the TUF repository .* is the default/);
  }
  const file = await init('--root', 'root.json', '--root-checksum', `sha256:${sha256}`);
  assert.equal(file.status, 0, file.stderr);
  // A root downloaded with nothing to check it against: done, as cosign does, with a warning.
  const bare = await init('--root', rootUrl);
  assert.equal(bare.status, 0, bare.stderr);
  assert.match(bare.stderr, /^warning: --root http:.* is downloaded without --root-checksum/);
  const fails = async (args: string[], re: RegExp) => {
    const r = await init(...args);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), re);
  };
  await fails(
    ['--root', rootUrl, '--root-checksum', `sha512:${'0'.repeat(128)}`],
    /^error: --root-checksum: http:.*1\.root\.json has sha512 [0-9a-f]{128}, not 0{128}$/,
  );
  await fails(
    ['--root', rootUrl, '--root-checksum', `md5:${sha256}`],
    /^error: --root-checksum: "md5:[0-9a-f]+" is not a hex SHA-256 \(or sha256:HEX, sha512:HEX\)/,
  );
  await fails(
    ['--root', `${url}/tuf/7.root.json`, '--root-checksum', sha256],
    /^error: --root: .*7\.root\.json answered HTTP 404/,
  );
  await fails(['--root-checksum', sha256], /^error: --root-checksum: goes with --root$/);
  // Another repository's root: the message names the file given, not a temporary copy.
  const other = path.resolve('data/public-good/root.json');
  const wrongRoot = await init('--root', other);
  assert.equal(wrongRoot.status, 1, wrongRoot.stderr);
  assert.ok(
    wrongRoot.stderr.includes(`does not match the root given in ${other} `),
    wrongRoot.stderr,
  );
  assert.doesNotMatch(wrongRoot.stderr, /\.tmp/);
});

test('SIGNET_SERVER for verify, initialize, and --offline with the stack stopped', async () => {
  const v = await run(['verify-blob', '--bundle', 'logged.json', ...who(), 'a.txt'], {
    SIGNET_SERVER: url,
  });
  assert.equal(v.status, 0, v.stderr);
  const init = await run(['initialize', '--mirror', `${url}/tuf`, '--root', 'root.json']);
  assert.equal(init.status, 0, init.stderr);
  // no trust flags: the initialized repository
  let r = await run(['verify-blob', '--bundle', 'logged.json', ...who(), 'a.txt']);
  assert.equal(r.status, 0, r.stderr);
  const bad = await run([
    'initialize',
    '--mirror',
    `${url}/tuf`,
    '--root',
    path.join(C, 'trust-roots/production/root.json'),
  ]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: TUF update from .* failed/m);
  await stack!.close();
  stack = undefined;
  r = await run([
    'verify-blob',
    '--server',
    url,
    '--offline',
    '--bundle',
    'logged.json',
    ...who(),
    'a.txt',
  ]);
  assert.equal(r.status, 0, r.stderr);
  r = await run(['verify-blob', '--bundle', 'logged.json', '--offline', ...who(), 'a.txt']);
  assert.equal(r.status, 0, r.stderr);
  r = await run(
    ['verify-blob', '--server', url, '--offline', '--bundle', 'logged.json', ...who(), 'a.txt'],
    { SIGNET_TUF_CACHE: path.join(dir, 'empty') },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: offline: no root is pinned for/m);
});

test('bundle create hashes --artifact as it reads it: a 200 MiB artifact in constant memory', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(path.join(dir, 'big.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const size = 200 * 1024 * 1024;
  const signer = createSign('sha256');
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const fd = fs.openSync(path.join(dir, 'big.bin'), 'w');
  for (let n = 0; n < size; n += chunk.length) {
    fs.writeSync(fd, chunk);
    signer.update(chunk);
    hash.update(chunk);
  }
  fs.closeSync(fd);
  fs.writeFileSync(path.join(dir, 'big.sig'), signer.sign(privateKey).toString('base64'));
  fs.writeFileSync(
    path.join(dir, 'small.sig'),
    sign('sha256', Buffer.from('artifact for cosign flags\n'), privateKey).toString('base64'),
  );
  // The preload as a file: NODE_OPTIONS splits a data: URL at its spaces.
  const preload = path.join(dir, 'peak-rss.mjs');
  fs.writeFileSync(
    preload,
    decodeURIComponent(PEAK_RSS_PRELOAD.slice('data:text/javascript,'.length)),
  );
  const create = async (artifact: string, sig: string) => {
    const r = await run(
      [
        'bundle',
        'create',
        '--artifact',
        artifact,
        '--signature',
        sig,
        '--key',
        'big.pub',
        '--ignore-tlog',
        '--out',
        `${artifact}.json`,
      ],
      { NODE_OPTIONS: `--import=${preload}` },
    );
    assert.equal(r.status, 0, r.stderr);
    return peakRssKiB(r.stderr);
  };
  const small = await create('a.txt', 'small.sig');
  const big = await create('big.bin', 'big.sig');
  const b = JSON.parse(fs.readFileSync(path.join(dir, 'big.bin.json'), 'utf8')) as {
    messageSignature: { messageDigest: { digest: string } };
  };
  assert.equal(b.messageSignature.messageDigest.digest, hash.digest('base64'));
  // Read whole, the artifact alone would add 200 MiB.
  assert.ok(big - small < 100 * 1024, `peak ${big} KiB against ${small} KiB for a small artifact`);
  fs.rmSync(path.join(dir, 'big.bin'));
});

test('import-key-pair and public-key', async () => {
  const imp = await run(['import-key-pair', '--key', 'k.pem', '--output-key-prefix', 'imp'], {
    COSIGN_PASSWORD: 'pw',
  });
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(
    fs.readFileSync(path.join(dir, 'imp.key'), 'utf8'),
    /ENCRYPTED SIGSTORE PRIVATE KEY/,
  );
  assert.equal(
    fs.readFileSync(path.join(dir, 'imp.pub'), 'utf8'),
    fs.readFileSync(path.join(dir, 'k.pub'), 'utf8'),
  );
  const pub = await run(['public-key', '--key', 'imp.key'], { COSIGN_PASSWORD: 'pw' });
  assert.equal(pub.stdout, fs.readFileSync(path.join(dir, 'k.pub'), 'utf8'));
  const wrong = await run(['public-key', '--key', 'imp.key'], { COSIGN_PASSWORD: 'nope' });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /wrong passphrase/);
});
