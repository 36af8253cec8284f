// No raw errno or V8 text reaches a user: a file that does not exist (ENOENT), a folder where a
// file belongs (EISDIR), a file where a folder belongs, text that is not JSON, a port in use
// (EADDRINUSE) and a server that is not there (ECONNREFUSED) each give one line that names the
// file, port or URL and says what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const bin = path.resolve('bin/signet');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-file-errors-'));
const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
fs.writeFileSync(path.join(dir, 'k.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
fs.mkdirSync(path.join(dir, 'folder'));
fs.mkdirSync(path.join(dir, 'no-layout'));
fs.mkdirSync(path.join(dir, 'bad-layout'));
fs.writeFileSync(path.join(dir, 'bad-layout', 'oci-layout'), '{"imageLayoutVersion": ');
fs.writeFileSync(path.join(dir, 'not-json.json'), 'not json');

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const e: NodeJS.ProcessEnv = {
      ...process.env,
      SIGNET_TUF_CACHE: path.join(dir, 'tuf'),
      ...env,
    };
    delete e.SIGNET_SERVER;
    const child = spawn(bin, args, { cwd: dir, env: e });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

function oneSentence(stderr: string, want: RegExp) {
  assert.match(stderr, want);
  assert.equal(stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, stderr);
  // an errno code (ENOENT) or V8's words, not letters of the random temp folder's name
  assert.doesNotMatch(
    stderr.replaceAll(dir, 'DIR'),
    /\bE[A-Z]{4,}\b|Unexpected token|at position \d+ \(line/,
  );
}

test('--local-image: missing, a file, a folder without a layout, a layout that is not JSON', async () => {
  const verify = ['verify', '--key', 'k.pub', '--insecure-ignore-tlog', '--local-image'];
  const cases: Array<[string, RegExp]> = [
    ['missing', /^error: --local-image: missing does not exist; check the path\n$/],
    [
      'a.txt',
      /^error: --local-image: a\.txt is a file; give the folder of an OCI image layout \(as cosign save writes it\)\n$/,
    ],
    [
      'no-layout',
      /^error: --local-image: no-layout is not an OCI image layout: it has no oci-layout file\n$/,
    ],
    [
      'bad-layout',
      /^error: --local-image: bad-layout\/oci-layout is not valid JSON \(it ends too early\)\n$/,
    ],
  ];
  for (const [arg, want] of cases) {
    const r = await run([...verify, arg]);
    assert.equal(r.status, 1, r.stderr);
    oneSentence(r.stderr, want);
  }
});

test('key, trusted root, bundle and artifact files: a folder, not JSON, missing', async () => {
  const good = path.resolve(
    'test/fixtures/conformance/bundle-verify/happy-path-v0.1/bundle.sigstore.json',
  );
  const who = ['--certificate-identity', 'x', '--certificate-oidc-issuer', 'y'];
  const cases: Array<[string[], RegExp]> = [
    [
      ['verify-blob', '--key', 'folder', '--bundle', good, 'a.txt'],
      /^error: --key: folder is a folder, not a file; give the file inside it\n$/,
    ],
    [
      ['verify-blob', '--key', 'k.pub', '--trusted-root', 'folder', '--bundle', good, 'a.txt'],
      /^error: --trusted-root: folder is a folder, not a file; give the file inside it\n$/,
    ],
    [
      [
        'verify-blob',
        '--key',
        'k.pub',
        '--trusted-root',
        'not-json.json',
        '--bundle',
        good,
        'a.txt',
      ],
      /^error: --trusted-root: not-json\.json is not valid JSON \(unexpected "o"\)\n$/,
    ],
    [
      ['verify-blob', '--key', 'k.pub', '--bundle', 'folder', 'a.txt'],
      /^error: --bundle: folder is a folder, not a file; give the file inside it\n$/,
    ],
    [
      ['verify-blob', ...who, '--bundle', good, 'folder'],
      /^error: artifact: folder is a folder, not a file; give the file inside it\n$/,
    ],
    [
      ['verify-blob', ...who, '--bundle', good, 'missing.txt'],
      /^error: artifact: missing\.txt does not exist; check the path\n$/,
    ],
  ];
  for (const [args, want] of cases) {
    const r = await run(args);
    assert.notEqual(r.status, 0, r.stderr);
    oneSentence(r.stderr, want);
  }
});

test('an output file in a folder that does not exist: the flag and the folder are named, no errno', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(
    path.join(dir, 'plain.key'),
    privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  );
  const nowhere = path.join(fs.realpathSync(dir), 'no', 'such').replaceAll('/', '\\/');
  const cases: Array<[string[], string, string]> = [
    [['--output-file', 'no/such/o.txt', 'version'], '--output-file', 'o.txt'],
    [
      [
        'trusted-root',
        'create',
        '--rekor',
        'url=https://rekor.example,public-key=k.pub,start-time=2024-01-01T00:00:00Z',
        '--out',
        'no/such/root.json',
      ],
      '--out',
      'root.json',
    ],
    [
      [
        'signing-config',
        'create',
        '--rekor',
        'url=https://rekor.example,api-version=1,start-time=2024-01-01T00:00:00Z,operator=x',
        '--rekor-config',
        'ANY',
        '--out',
        'no/such/config.json',
      ],
      '--out',
      'config.json',
    ],
    [['generate-key-pair', '--output-key-prefix', 'no/such/k'], '--output-key-prefix', 'k.key'],
    [
      ['import-key-pair', '--key', 'plain.key', '--output-key-prefix', 'no/such/k'],
      '--output-key-prefix',
      'k.key',
    ],
    [
      [
        'sign-blob',
        '--key',
        'plain.key',
        '--tlog-upload=false',
        '--output-signature',
        'no/such/a.sig',
        'a.txt',
      ],
      '--output-signature',
      'a.sig',
    ],
    [
      [
        'sign-blob',
        '--key',
        'plain.key',
        '--tlog-upload=false',
        '--bundle',
        'no/such/a.json',
        'a.txt',
      ],
      '--bundle',
      'a.json',
    ],
  ];
  for (const [args, flag, name] of cases) {
    const r = await run(args, { COSIGN_PASSWORD: '' });
    assert.equal(r.status, 1, r.stderr);
    // sign-blob's --output-signature is deprecated: cosign's warning comes first
    oneSentence(
      r.stderr.replace(/^Flag --output-signature has been deprecated.*\n/, ''),
      new RegExp(
        `^error: ${flag}: cannot write no/such/${name.replace('.', '\\.')}: folder ${nowhere} does not exist\n$`,
      ),
    );
  }
});

test('a URL given to a flag that takes only a file path is said to be one', async () => {
  const good = path.resolve(
    'test/fixtures/conformance/bundle-verify/happy-path-v0.1/bundle.sigstore.json',
  );
  const cases: Array<[string[], RegExp]> = [
    [
      ['verify-blob', '--key', 'k.pub', '--bundle', 'https://example.com/a.json', 'a.txt'],
      /^error: --bundle: https:\/\/example\.com\/a\.json is a URL, and --bundle is a file path, never a URL or env:\/\/ \(as in cosign\): save it to a file first\n$/,
    ],
    [
      [
        'verify-blob',
        '--key',
        'k.pub',
        '--trusted-root',
        'http://example.com/r.json',
        '--bundle',
        good,
        'a.txt',
      ],
      /^error: --trusted-root: http:\/\/example\.com\/r\.json is a URL, and --trusted-root is a file path, never a URL/,
    ],
    [
      [
        'sign-blob',
        '--key',
        'k.pub',
        '--tlog-upload=false',
        '--bundle',
        'http://example.com/a.json',
        'a.txt',
      ],
      /^error: --bundle: http:\/\/example\.com\/a\.json is a URL, and this is a file path, never a URL: give the file to write\n$/,
    ],
    [
      ['--output-file', 'https://example.com/o.txt', 'version'],
      /^error: --output-file: https:\/\/example\.com\/o\.txt is a URL, and this is a file path, never a URL: give the file to write\n$/,
    ],
  ];
  for (const [args, want] of cases) {
    const r = await run(args);
    assert.equal(r.status, 1, r.stderr);
    oneSentence(r.stderr, want);
  }
});

test('initialize: --root that is not JSON is named by its flag, and a failed first fetch leaves no cache folders', async () => {
  const cache = path.join(dir, 'init-cache');
  const notJson = await run(
    ['initialize', '--root', 'a.txt', '--mirror', 'http://127.0.0.1:9/tuf'],
    {
      SIGNET_TUF_CACHE: cache,
    },
  );
  assert.equal(notJson.status, 1);
  oneSentence(notJson.stderr, /^error: --root: is not valid JSON \(unexpected "x"\)\n$/);
  assert.equal(fs.existsSync(cache), false, 'the cache folder is not made for nothing');
  // A real root and a mirror where nothing listens (port 9, discard: refused on loopback)
  const root = path.resolve('data/public-good/root.json');
  const down = ['initialize', '--root', root, '--mirror', 'http://127.0.0.1:9/tuf'];
  const r = await run(down, { SIGNET_TUF_CACHE: cache });
  assert.equal(r.status, 1);
  oneSentence(
    r.stderr,
    /^error: cannot reach the TUF repository http:\/\/127\.0\.0\.1:9\/tuf \(nothing is listening at the repository; is the server running there\?\), and nothing verified from it is cached\n$/,
  );
  assert.equal(fs.existsSync(cache), false, 'nothing is left under SIGNET_TUF_CACHE');
  // A cache folder that was there stays, empty or with what it held, and gains nothing.
  fs.mkdirSync(cache);
  assert.equal((await run(down, { SIGNET_TUF_CACHE: cache })).status, 1);
  assert.deepEqual(fs.readdirSync(cache), []);
  fs.mkdirSync(path.join(cache, 'other-repository'));
  assert.equal((await run(down, { SIGNET_TUF_CACHE: cache })).status, 1);
  assert.deepEqual(fs.readdirSync(cache), ['other-repository']);
});

test('a bundle whose text would drive the terminal is quoted, escaped, on one line', async () => {
  // A field name with a carriage return and escape sequences that, printed raw, would erase the
  // error line and print a verdict of its own.
  const evil = '\u001b[2K\rVerified OK\u001b[8m';
  fs.writeFileSync(
    path.join(dir, 'evil.json'),
    `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",${JSON.stringify(evil)}:1,${JSON.stringify(evil)}:2}`,
  );
  const r = await run(['verify-blob', '--key', 'k.pub', '--bundle', 'evil.json', 'a.txt']);
  assert.notEqual(r.status, 0, r.stderr);
  oneSentence(
    r.stderr,
    /^error: --bundle: evil\.json is not a valid Sigstore bundle: has the key "\\u001b\[2K\\u000dVerified OK\\u001b\[8m" twice in one object\n$/,
  );
  // eslint-disable-next-line no-control-regex -- no control character but the final newline
  assert.doesNotMatch(r.stderr.slice(0, -1), /[\u0000-\u001f\u007f-\u009f]/);
});

test('a port in use (EADDRINUSE) and a server that is not there (ECONNREFUSED)', async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const up = await run(['up', '--port', String(port), '--data', path.join(dir, 'data')]);
    assert.equal(up.status, 1, up.stderr);
    oneSentence(
      up.stderr,
      new RegExp(
        `127\\.0\\.0\\.1 \\(port ${port}\\) is already in use by another process; stop it or choose another port`,
      ),
    );
  } finally {
    await new Promise((resolve) => busy.close(resolve));
  }
  // the port is free now: nothing listens there
  const url = `http://127.0.0.1:${port}`;
  const good = path.resolve(
    'test/fixtures/conformance/bundle-verify/happy-path-v0.1/bundle.sigstore.json',
  );
  const v = await run([
    'verify-blob',
    '--server',
    url,
    '--key',
    'k.pub',
    '--bundle',
    good,
    'a.txt',
  ]);
  assert.notEqual(v.status, 0, v.stderr);
  oneSentence(
    v.stderr,
    new RegExp(`nothing is listening at ${url}; is the server running there\\?\\n$`),
  );
});

test('https:// to a server that speaks plain HTTP: one line saying so, no OpenSSL text', async () => {
  const plain = http.createServer((_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(plain.address() as net.AddressInfo).port}`;
  try {
    const r = await run(['trusted-root', '--server', url]);
    assert.equal(r.status, 1, r.stderr);
    oneSentence(
      r.stderr,
      new RegExp(
        `: ${url.replaceAll('.', '\\.')} does not speak TLS \\(perhaps its URL is http://, not https://\\)\\n$`,
      ),
    );
    assert.doesNotMatch(r.stderr, /SSL routines|EPROTO/);
  } finally {
    plain.closeAllConnections();
    await new Promise((resolve) => plain.close(resolve));
  }
});

test('a private key pasted where its file goes is refused without printing it (--key "$(cat key.pem)")', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  fs.writeFileSync(path.join(dir, 'artifact.txt'), 'x');
  const r = await run(['sign-blob', '--key', pem, '--tlog-upload=false', 'artifact.txt']);
  assert.equal(r.status, 1, r.stderr);
  oneSentence(
    r.stderr,
    /^error: --key: PEM text was given where a file's path goes \(it is not printed\): give the path of the file that holds it\n$/,
  );
  const body = pem.split('\n')[1]!;
  assert.ok(!r.stderr.includes('PRIVATE KEY') && !r.stderr.includes(body.slice(0, 20)), r.stderr);
});
