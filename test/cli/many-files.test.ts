// Many files in one run against a real stack: `sign-blob A B C` (one identity token and one
// certificate, a bundle beside each file) and `verify-blob A B C` (one trust root, a line per
// artifact, the first failure's exit code). sigstore-js is the independent check of each bundle.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from '../helpers/stack.ts';
import { oneError, signet, stackToken, verifyWithSigstoreJs } from '../interop/sign-helpers.ts';
import { generateKeyPairSync } from 'node:crypto';
import { spawn } from 'node:child_process';
import { setupSigning, signFiles } from '../../src/client/sign/setup.ts';

const stack = await tempStack();
after(() => stack.close());
const ISSUER = `${stack.url}/oidc`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-many-'));
fs.mkdirSync(path.join(dir, 'sub'));
const FILES = ['a.txt', 'sub/b.txt', 'c.txt'];
const write = (file: string, text = `contents of ${file}\n`) =>
  fs.writeFileSync(path.join(dir, file), text);
const beside = (file: string) => path.join(dir, `${file}.sigstore.json`);
const identity = [
  '--certificate-identity',
  'dev@signet.local',
  '--certificate-oidc-issuer',
  ISSUER,
];

/** The stack's Rekor v1 tree size: what a refused run must leave as it was. */
async function logSize(): Promise<number> {
  const r = await fetch(`${stack.url}/rekor/api/v1/log`);
  return ((await r.json()) as { treeSize: number }).treeSize;
}

async function signAll(files: string[], extra: string[] = []) {
  const token = await stackToken(stack.url);
  return signet(
    ['sign-blob', '--server', stack.url, '--identity-token', token, ...extra, ...files],
    {
      cwd: dir,
    },
  );
}

const verifyAll = (files: string[], extra: string[] = []) =>
  signet(['verify-blob', '--server', stack.url, ...identity, ...extra, ...files], { cwd: dir });

test('sign-blob with several files: one certificate signs them all, each bundle lands beside its file and verifies in sigstore-js', async () => {
  for (const f of FILES) write(f);
  const before = await logSize();
  const r = await signAll(FILES);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '', 'several bundles are files, not stdout');
  assert.equal((r.stderr.match(/^signing certificate issued by /gm) ?? []).length, 1, r.stderr);
  const bundles = FILES.map((f) => JSON.parse(fs.readFileSync(beside(f), 'utf8')));
  for (const f of FILES)
    assert.match(r.stderr, new RegExp(`^Wrote bundle to file ${f}\\.sigstore\\.json$`, 'm'));
  const certs = new Set(bundles.map((b) => b.verificationMaterial.certificate.rawBytes));
  assert.equal(certs.size, 1, 'one certificate for every file');
  const sigs = new Set(bundles.map((b) => b.messageSignature.signature));
  assert.equal(sigs.size, FILES.length, 'a signature of its own for each file');
  const indexes = new Set(bundles.map((b) => b.verificationMaterial.tlogEntries[0].logIndex));
  assert.equal(indexes.size, FILES.length, 'a log entry of its own for each file');
  assert.equal(await logSize(), before + FILES.length);
  for (const [i, f] of FILES.entries())
    await verifyWithSigstoreJs(stack.url, JSON.stringify(bundles[i]), {
      artifact: fs.readFileSync(path.join(dir, f)),
      identity: 'dev@signet.local',
      issuer: ISSUER,
    });
});

test('verify-blob with several artifacts: one line per artifact, in order, exit 0 when all verify', async () => {
  const r = await verifyAll(FILES);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning:'));
  assert.deepEqual(
    lines.map((l) => /^Verified OK: (\S+): signed by dev@signet\.local /.exec(l)?.[1]),
    FILES,
    r.stderr,
  );
  // One artifact without --bundle: its bundle is the one beside it.
  const one = await verifyAll(['sub/b.txt']);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stderr, /^Verified OK: signed by dev@signet\.local /m);
});

test('verify-blob with several artifacts: each failure named on its line, the others still verified, the first failure sets the exit code', async () => {
  const dir2 = path.join(dir, 'failing');
  fs.mkdirSync(dir2);
  for (const f of ['a.txt', 'b.txt', 'c.txt']) {
    fs.copyFileSync(path.join(dir, f === 'b.txt' ? 'sub/b.txt' : f), path.join(dir2, f));
    fs.copyFileSync(beside(f === 'b.txt' ? 'sub/b.txt' : f), path.join(dir2, `${f}.sigstore.json`));
  }
  fs.writeFileSync(path.join(dir2, 'b.txt'), 'not what was signed\n');
  fs.rmSync(path.join(dir2, 'c.txt.sigstore.json'));
  const files = ['failing/a.txt', 'failing/b.txt', 'failing/c.txt'];
  let r = await verifyAll(files);
  assert.equal(r.status, 12, r.stderr); // b: a signature exists but does not match
  assert.match(r.stderr, /^Verified OK: failing\/a\.txt: signed by dev@signet\.local /m);
  assert.match(
    r.stderr,
    /^error: failing\/b\.txt: the artifact's sha256 digest \w+ is not the digest the bundle says was signed/m,
  );
  assert.match(
    r.stderr,
    /^error: failing\/c\.txt: bundle: failing\/c\.txt\.sigstore\.json does not exist/m,
  );
  assert.match(r.stderr, /^error: 2 of 3 artifacts did not verify$/m);
  // A folder, and a bundle that is not one: each named on its own line.
  fs.mkdirSync(path.join(dir2, 'folder'));
  fs.writeFileSync(path.join(dir2, 'folder.sigstore.json'), '{}');
  fs.copyFileSync(path.join(dir2, 'a.txt'), path.join(dir2, 'garbled.txt'));
  fs.writeFileSync(path.join(dir2, 'garbled.txt.sigstore.json'), '{"mediaType": ');
  r = await verifyAll(['failing/folder', 'failing/garbled.txt', 'failing/a.txt']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: failing\/folder: artifact: failing\/folder is a folder, not a file; give the file inside it$/m,
  );
  assert.match(
    r.stderr,
    /^error: failing\/garbled\.txt: bundle: failing\/garbled\.txt\.sigstore\.json is not a valid Sigstore bundle: is not valid JSON \(it ends too early\)$/m,
  );
  assert.match(r.stderr, /^Verified OK: failing\/a\.txt: /m);
  r = await verifyAll(['failing/c.txt', 'failing/b.txt']);
  assert.equal(r.status, 10, r.stderr); // c first: no signature at all
  r = await verifyAll(files.slice(0, 1), []);
  assert.equal(r.status, 0, r.stderr);
  // Someone else's identity: every artifact fails, exit 12.
  r = await signet(
    [
      'verify-blob',
      '--server',
      stack.url,
      '--certificate-identity',
      'other@signet.local',
      '--certificate-oidc-issuer',
      ISSUER,
      'a.txt',
      'c.txt',
    ],
    { cwd: dir },
  );
  assert.equal(r.status, 12, r.stderr);
  assert.equal((r.stderr.match(/^error: (a|c)\.txt: /gm) ?? []).length, 2, r.stderr);
});

test('sign-blob with several files refuses bad input before anything is signed or logged', async () => {
  const before = await logSize();
  fs.rmSync(beside('a.txt'), { force: true });
  const cases: Array<[string[], string[], RegExp]> = [
    [['a.txt', './a.txt'], [], /^error: file: \.\/a\.txt is given twice$/],
    [['a.txt', 'missing.txt'], [], /^error: file: missing\.txt does not exist; check the path$/],
    [['a.txt', 'sub'], [], /^error: file: cannot read sub: not a regular file$/],
    // a second `sign-blob dir/*` names the bundles of the first: signing one would sign a
    // bundle and then overwrite it with the bundle of its own file
    [
      ['a.txt', 'c.txt', 'a.txt.sigstore.json'],
      [],
      /^error: file: a\.txt\.sigstore\.json is the bundle of a\.txt, which is given too: give the artifacts only/,
    ],
    [
      ['./sub/b.txt.sigstore.json', 'sub/b.txt'],
      [],
      /^error: file: \.\/sub\/b\.txt\.sigstore\.json is the bundle of sub\/b\.txt, which is given too/,
    ],
    [
      ['a.txt', 'c.txt'],
      ['--bundle', 'x.json'],
      /^error: --bundle: names one file's output; with 2 files each bundle is written beside its file as FILE\.sigstore\.json$/,
    ],
    [
      ['a.txt', 'c.txt'],
      ['--output-certificate', 'x.pem'],
      /^error: --output-certificate: names one file's output/,
    ],
    [
      ['a.txt', 'c.txt'],
      ['--rfc3161-timestamp', 'x.tsr'],
      /^error: --rfc3161-timestamp: names one file's output/,
    ],
  ];
  for (const [files, extra, re] of cases) {
    const r = await signAll(files, extra);
    assert.equal(r.status, 1, `${files.join(' ')} ${extra.join(' ')}: ${r.stderr}`);
    assert.match(oneError(r.stderr), re);
  }
  assert.equal(await logSize(), before, 'nothing was logged');
  assert.equal(fs.existsSync(beside('a.txt')), false, 'no bundle was written');
});

test('sign-blob --trusted-root of another deployment: refused once the certificate is issued, before anything is signed or logged', async () => {
  const other = await tempStack();
  const rootFile = path.join(dir, 'other-root.json');
  try {
    fs.writeFileSync(rootFile, await (await fetch(`${other.url}/trusted_root.json`)).text());
  } finally {
    await other.close();
  }
  for (const f of ['a.txt', 'c.txt']) fs.rmSync(beside(f), { force: true });
  const before = await logSize();
  for (const files of [['a.txt', 'c.txt'], ['a.txt']]) {
    const r = await signAll(files, ['--trusted-root', rootFile]);
    assert.equal(r.status, 1, r.stderr); // as a new bundle that fails its check
    assert.match(
      oneError(r.stderr),
      /^error: the signing certificate is not issued by a certificate authority of .*other-root\.json, so nothing was signed or logged/,
    );
  }
  assert.equal(await logSize(), before, 'nothing was logged');
  for (const f of ['a.txt', 'c.txt']) assert.equal(fs.existsSync(beside(f)), false);
});

test('sign-blob with several files whose bundles fail their check: each file named, none written, exit 1', async () => {
  // The stack's own trusted root without its transparency logs: the certificate is of its CA,
  // and every new bundle then fails its check (its log entry is of a log the root lacks).
  const root = (await (await fetch(`${stack.url}/trusted_root.json`)).json()) as Record<
    string,
    unknown
  >;
  const rootFile = path.join(dir, 'no-logs-root.json');
  fs.writeFileSync(rootFile, JSON.stringify({ ...root, tlogs: [] }));
  for (const f of ['a.txt', 'c.txt']) fs.rmSync(beside(f), { force: true });
  const r = await signAll(['a.txt', 'c.txt'], ['--trusted-root', rootFile]);
  assert.equal(r.status, 1, r.stderr);
  for (const f of ['a.txt', 'c.txt'])
    assert.match(
      r.stderr,
      new RegExp(
        `^error: ${f.replace('.', '\\.')}: the new bundle does not verify against .*no-logs-root\\.json, so it was not written`,
        'm',
      ),
    );
  assert.match(r.stderr, /^error: 2 of 2 files were not signed$/m);
  for (const f of ['a.txt', 'c.txt']) assert.equal(fs.existsSync(beside(f)), false);
});

test('verify-blob with several artifacts refuses flags about one artifact', async () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['--bundle', 'a.txt.sigstore.json'],
      /^error: --bundle: is about one artifact; with 2 artifacts each bundle is read from beside its file/,
    ],
    [['--signature', 'sig'], /^error: --signature: is about one artifact/],
    // cosign's detached inputs would go unread: each bundle carries its own
    [['--certificate', 'c.pem'], /^error: --certificate: is about one artifact/],
    [['--certificate-chain', 'chain.pem'], /^error: --certificate-chain: is about one artifact/],
    [['--rfc3161-timestamp', 't.tsr'], /^error: --rfc3161-timestamp: is about one artifact/],
  ];
  for (const [extra, re] of cases) {
    const r = await verifyAll(['a.txt', 'c.txt'], extra);
    assert.equal(r.status, 1, r.stderr);
    assert.match(oneError(r.stderr), re);
  }
  const r = await verifyAll(['a.txt', './a.txt']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr.trim(), /^error: artifact: \.\/a\.txt is given twice$/);
  // `verify-blob dir/*` takes the bundles in as artifacts: named, before anything is verified
  const b = await verifyAll(['a.txt', 'a.txt.sigstore.json', 'c.txt']);
  assert.equal(b.status, 1, b.stderr);
  assert.match(
    b.stderr.trim(),
    /^error: artifact: a\.txt\.sigstore\.json is the bundle of a\.txt, which is given too: give the artifacts only \(a pattern such as dir\/\* takes their bundles in as well\)$/,
  );
});

test('signFiles: one file that fails does not stop the others; a certificate too close to expiry signs nothing', async () => {
  for (const f of FILES) fs.rmSync(beside(f), { force: true });
  const tufRoot = path.join(dir, 'tuf-root.json');
  fs.writeFileSync(tufRoot, await (await fetch(`${stack.url}/tuf/1.root.json`)).text());
  const options = {
    tufRoot,
    server: stack.url,
    tufCacheDir: fs.mkdtempSync(path.join(os.tmpdir(), 'signet-many-tuf-')),
    identityToken: await stackToken(stack.url),
    useDefaultSigningConfig: false,
    tlogUpload: true,
  };
  const ctx = await setupSigning(options);
  const files = FILES.map((f) => path.join(dir, f));
  const finished: string[] = [];
  const results = await signFiles(files, ctx, async (file) => {
    if (file.endsWith('b.txt')) throw new Error('this one fails');
    finished.push(file);
  });
  assert.deepEqual(
    results.map((r) => r.file),
    files,
  );
  assert.equal((results[1]!.error as Error).message, 'this one fails');
  assert.ok(results[0]!.bundle && results[2]!.bundle);
  assert.deepEqual(finished.sort(), [files[0], files[2]].sort());

  // A request timeout longer than the certificate's ten minutes: no file may start.
  const late = await signFiles(files, { ...ctx, http: { timeoutMs: 11 * 60_000 } }, async () => {
    throw new Error('must not be reached');
  });
  for (const r of late)
    assert.match(
      (r.error as Error).message,
      /^the signing certificate expires at .*, too soon to sign .*; sign it in another run$/,
    );
});

test('the library signMany: one certificate, a bundle per artifact in order, each verifying against its own bytes only', async () => {
  const { signMany, verify, loadTrustedRoot, identityPolicy } = await import('../../src/index.ts');
  const tufRoot = path.join(dir, 'tuf-root-lib.json');
  fs.writeFileSync(tufRoot, await (await fetch(`${stack.url}/tuf/1.root.json`)).text());
  const data = ['one', 'two', 'three'].map((t) => new TextEncoder().encode(`${t}\n`));
  const before = await logSize();
  const bundles = await signMany(data, {
    server: stack.url,
    tufRoot,
    identityToken: await stackToken(stack.url),
  });
  assert.equal(bundles.length, 3);
  assert.equal(await logSize(), before + 3);
  const certs = new Set(
    bundles.map((b) =>
      b.verificationMaterial.signer.$case === 'certificate'
        ? Buffer.from(b.verificationMaterial.signer.certificate).toString('hex')
        : 'none',
    ),
  );
  assert.equal(certs.size, 1);
  assert.ok(!certs.has('none'));
  const trustedRoot = await loadTrustedRoot({ server: stack.url, tufRoot });
  const policy = identityPolicy({ identity: 'dev@signet.local', issuer: ISSUER });
  for (const [i, b] of bundles.entries()) {
    const r = await verify(b, data[i]!, { trustedRoot, policy });
    assert.deepEqual(r.signer.kind === 'certificate' && r.signer.identity, ['dev@signet.local']);
    await assert.rejects(verify(b, data[(i + 1) % 3]!, { trustedRoot, policy }), {
      code: 'MESSAGE_DIGEST_MISMATCH',
    });
  }
});

test('sign-blob --key with several files: each bundle carries the key hint and verifies with --key', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(path.join(dir, 'k.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  fs.writeFileSync(path.join(dir, 'k.pub'), publicKey.export({ format: 'pem', type: 'spki' }));
  const files = ['k1.txt', 'k2.txt'];
  for (const f of files) write(f);
  const r = await signet(['sign-blob', '--server', stack.url, '--key', 'k.pem', ...files], {
    cwd: dir,
  });
  assert.equal(r.status, 0, r.stderr);
  for (const f of files) {
    const b = JSON.parse(fs.readFileSync(beside(f), 'utf8'));
    assert.ok(b.verificationMaterial.publicKey.hint, 'a key hint, not a certificate');
  }
  const v = await signet(['verify-blob', '--server', stack.url, '--key', 'k.pub', ...files], {
    cwd: dir,
  });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(
    (v.stderr.match(/^Verified OK: k\d\.txt: signed by the given public key/gm) ?? []).length,
    2,
    v.stderr,
  );
});

test('verify-blob --policy with several artifacts: each decided with the bundle beside it, named by its path', async () => {
  for (const f of ['a.txt', 'c.txt']) fs.rmSync(beside(f), { force: true });
  const s = await signAll(['a.txt', 'c.txt']);
  assert.equal(s.status, 0, s.stderr);
  const policy = (name: string, who: string) =>
    [
      'apiVersion: policy.sigstore.dev/v1beta1',
      'kind: ClusterImagePolicy',
      `metadata: {name: ${name}}`,
      'spec:',
      '  blobs: [{name: "*.txt"}]',
      '  authorities:',
      `    - keyless: {identities: [{subject: "${who}", issuer: "${ISSUER}"}]}`,
      '',
    ].join('\n');
  fs.writeFileSync(path.join(dir, 'dev.yaml'), policy('by-dev', 'dev@signet.local'));
  fs.writeFileSync(path.join(dir, 'other.yaml'), policy('by-other', 'other@signet.local'));
  const trust = ['--trusted-root', path.join(dir, 'root.json')];
  fs.writeFileSync(
    path.join(dir, 'root.json'),
    await (await fetch(`${stack.url}/trusted_root.json`)).text(),
  );
  const ok = await signet(['verify-blob', '--policy', 'dev.yaml', ...trust, 'a.txt', 'c.txt'], {
    cwd: dir,
  });
  assert.equal(ok.status, 0, ok.stderr);
  for (const f of ['a', 'c'])
    assert.match(ok.stderr, new RegExp(`^Verified OK: ${f}\\.txt: policy "by-dev" by `, 'm'));
  fs.rmSync(beside('c.txt'));
  const denied = await signet(
    ['verify-blob', '--policy', 'other.yaml', ...trust, 'a.txt', 'c.txt'],
    { cwd: dir },
  );
  assert.equal(denied.status, 1, denied.stderr);
  assert.match(denied.stderr, /^error: a\.txt: policy "by-other" fails/m); // the name once
  assert.match(denied.stderr, /^error: c\.txt: bundle: c\.txt\.sigstore\.json does not exist/m);
  assert.match(denied.stderr, /^error: 2 of 2 artifacts did not verify$/m);
  for (const [extra, re] of [
    [['--artifact-name', 'x'], /^error: --artifact-name: is about one artifact/],
    [['--certificate-identity', 'x'], /^error: --policy: give either --policy or --key/],
    // the policies say what a signature needs, and decide about bundles: never left unread
    [['--witness-key', 'w.pub'], /^error: --witness-key: does not go with --policy/],
    [
      ['--certificate-github-workflow-repository', 'o/r'],
      /^error: --certificate-github-workflow-repository: does not go with --policy/,
    ],
    [['--certificate', 'c.pem'], /^error: --certificate: is not read with --policy/],
    [['--rfc3161-timestamp', 't.tsr'], /^error: --rfc3161-timestamp: is not read with --policy/],
  ] as const) {
    const r = await signet(
      ['verify-blob', '--policy', 'dev.yaml', ...trust, ...extra, 'a.txt', 'c.txt'],
      { cwd: dir },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(oneError(r.stderr), re);
  }
  // one artifact with its bundle named: the detached certificate is refused there too
  const one = await signet(
    [
      'verify-blob',
      '--policy',
      'dev.yaml',
      ...trust,
      '--certificate',
      'c.pem',
      '--bundle',
      'a.txt.sigstore.json',
      'a.txt',
    ],
    { cwd: dir },
  );
  assert.equal(one.status, 1, one.stderr);
  assert.match(oneError(one.stderr), /^error: --certificate: is not read with --policy/);
});

test('a closed stderr (sign-blob ... 2>&1 | head -1) does not stop signing half-way: the bundle is written, exit 0', async () => {
  fs.rmSync(beside('a.txt'), { force: true });
  const before = await logSize();
  const token = await stackToken(stack.url);
  const child = spawn(
    path.resolve('bin/signet'),
    [
      'sign-blob',
      '--server',
      stack.url,
      '--identity-token',
      token,
      '--bundle',
      'closed.json',
      'a.txt',
    ],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SIGNET_TUF_CACHE: path.join(dir, 'tuf-cache') },
    },
  );
  child.stderr.destroy(); // the reader is gone before the first line
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.equal(await logSize(), before + 1);
  const bundle = fs.readFileSync(path.join(dir, 'closed.json'), 'utf8');
  await verifyWithSigstoreJs(stack.url, bundle, {
    artifact: fs.readFileSync(path.join(dir, 'a.txt')),
    identity: 'dev@signet.local',
    issuer: ISSUER,
  });
});
