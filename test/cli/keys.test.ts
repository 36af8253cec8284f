import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const bin = path.resolve('bin/signet');
const run = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  spawnSync(bin, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, input: '' });
const noTrace = (stderr: string) => assert.doesNotMatch(stderr, /at .*\.ts:\d+/);

test('generate-key-pair writes cosign.key (0600, encrypted) and cosign.pub; sign-blob --key uses them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keys-'));
  const g = run(['generate-key-pair'], dir, { COSIGN_PASSWORD: 'correct horse' });
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stderr, /Private key written to cosign.key/);
  const key = fs.readFileSync(path.join(dir, 'cosign.key'), 'utf8');
  assert.match(key, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
  assert.equal(fs.statSync(path.join(dir, 'cosign.key')).mode & 0o777, 0o600);
  const doc = JSON.parse(Buffer.from(key.split('\n').slice(1, -2).join(''), 'base64').toString());
  assert.deepEqual(doc.kdf.params, { N: 65536, r: 8, p: 1 });

  fs.writeFileSync(path.join(dir, 'a.txt'), 'artifact\n');
  const s = run(
    ['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', '--bundle', 'a.json', 'a.txt'],
    dir,
    {
      COSIGN_PASSWORD: 'correct horse',
    },
  );
  assert.equal(s.status, 0, s.stderr);
  const bundle = JSON.parse(fs.readFileSync(path.join(dir, 'a.json'), 'utf8'));
  const pub = createPublicKey(fs.readFileSync(path.join(dir, 'cosign.pub'), 'utf8'));
  assert.ok(
    verify(
      'sha256',
      Buffer.from('artifact\n'),
      pub,
      Buffer.from(bundle.messageSignature.signature, 'base64'),
    ),
  );

  // refuses to overwrite without --force; --output-key-prefix names the files
  const again = run(['generate-key-pair'], dir, { COSIGN_PASSWORD: 'x' });
  assert.equal(again.status, 1);
  // (it does not blame --output-key-prefix, which was not given)
  assert.equal(
    again.stderr,
    'error: cosign.key already exists: use --force to overwrite it, or --output-key-prefix for another name\n',
  );
  const other = run(['generate-key-pair', '--output-key-prefix', 'release'], dir, {
    COSIGN_PASSWORD: '',
  });
  assert.equal(other.status, 0, other.stderr);
  assert.ok(
    fs.existsSync(path.join(dir, 'release.key')) && fs.existsSync(path.join(dir, 'release.pub')),
  );
});

test('a 16 MB file is hashed as a stream and signed over its digest: the signature is an ordinary one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keys-'));
  assert.equal(run(['generate-key-pair'], dir, { COSIGN_PASSWORD: 'pw' }).status, 0);
  const big = crypto.randomBytes(16 * 1024 * 1024);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  const s = run(
    ['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', '--bundle', 'big.json', 'big.bin'],
    dir,
    {
      COSIGN_PASSWORD: 'pw',
    },
  );
  assert.equal(s.status, 0, s.stderr);
  const bundle = JSON.parse(fs.readFileSync(path.join(dir, 'big.json'), 'utf8'));
  assert.equal(
    Buffer.from(bundle.messageSignature.messageDigest.digest, 'base64').toString('hex'),
    crypto.createHash('sha256').update(big).digest('hex'),
  );
  const pub = createPublicKey(fs.readFileSync(path.join(dir, 'cosign.pub'), 'utf8'));
  assert.ok(verify('sha256', big, pub, Buffer.from(bundle.messageSignature.signature, 'base64')));
});

test('bad keys and passphrases: one clear line, exit 1, no stack trace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keys-'));
  assert.equal(run(['generate-key-pair'], dir, { COSIGN_PASSWORD: 'right' }).status, 0);
  fs.writeFileSync(path.join(dir, 'a.txt'), 'x');
  fs.writeFileSync(path.join(dir, 'notakey.pem'), 'just some text\n');
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [
      ['--key', 'cosign.key'],
      { COSIGN_PASSWORD: 'wrong' },
      /^error: --key: cosign.key: cannot decrypt the private key: wrong passphrase/,
    ],
    [
      ['--key', 'notakey.pem'],
      {},
      /^error: --key: notakey.pem: is not a private key \(no PEM block found\)/,
    ],
    [
      ['--key', 'cosign.pub'],
      {},
      /^error: --key: cosign.pub: is not a private key \(found PEM "PUBLIC KEY"/,
    ],
    [['--key', 'missing.key'], {}, /^error: --key: missing.key does not exist; check the path/],
  ];
  for (const [flags, env, want] of cases) {
    const envNoPw = { ...env };
    const r = spawnSync(bin, ['sign-blob', ...flags, '--tlog-upload=false', 'a.txt'], {
      cwd: dir,
      encoding: 'utf8',
      input: '',
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'COSIGN_PASSWORD')),
        ...envNoPw,
      },
    });
    assert.equal(r.status, 1, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    noTrace(r.stderr);
  }
  const noPassword = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'COSIGN_PASSWORD'),
  );
  // No COSIGN_PASSWORD and nothing piped in (a CI job's empty standard input): say what to set.
  const r = spawnSync(bin, ['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', 'a.txt'], {
    cwd: dir,
    encoding: 'utf8',
    input: '',
    env: noPassword,
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^error: --key: cosign.key: cannot decrypt the private key with an empty passphrase: set COSIGN_PASSWORD/m,
  );
  // Standard input that carries the artifact cannot carry the passphrase too.
  const s = spawnSync(
    bin,
    ['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', '--bundle', 's.json', '-'],
    { cwd: dir, encoding: 'utf8', input: 'right', env: noPassword },
  );
  assert.equal(s.status, 1);
  assert.match(s.stderr, /a passphrase is needed for the private key: set COSIGN_PASSWORD/);
});

test("a passphrase piped to standard input, as cosign takes it: generate-key-pair, public-key, sign-blob; never the library's", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keys-piped-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'COSIGN_PASSWORD'),
  );
  const piped = (args: string[], input: string) =>
    spawnSync(bin, args, { cwd: dir, encoding: 'utf8', input, env });
  // Byte for byte, as cosign reads it: `echo -n "$PW" | cosign generate-key-pair`.
  const g = piped(['generate-key-pair', '--output-key-prefix', 'p'], 'piped secret');
  assert.equal(g.status, 0, g.stderr);
  const pub = piped(['public-key', '--key', 'p.key'], 'piped secret');
  assert.equal(pub.status, 0, pub.stderr);
  assert.equal(pub.stdout, fs.readFileSync(path.join(dir, 'p.pub'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'artifact\n');
  const sign = (input: string) =>
    piped(
      ['sign-blob', '--key', 'p.key', '--tlog-upload=false', '--bundle', 'a.json', 'a.txt'],
      input,
    );
  assert.equal(sign('piped secret').status, 0);
  const wrong = sign('piped secret\n'); // the newline is part of it, as in cosign
  assert.equal(wrong.status, 1);
  assert.match(
    wrong.stderr,
    /^error: --key: p.key: cannot decrypt the private key: wrong passphrase/m,
  );
  // attest-blob too, unless standard input is the predicate.
  fs.writeFileSync(path.join(dir, 'p.json'), '{"ok":true}');
  const attest = (predicate: string, input: string) =>
    piped(
      [
        'attest-blob',
        '--key',
        'p.key',
        '--tlog-upload=false',
        '--predicate',
        predicate,
        '--type',
        'custom',
        '--bundle',
        'att.json',
        'a.txt',
      ],
      input,
    );
  const att = attest('p.json', 'piped secret');
  assert.equal(att.status, 0, att.stderr);
  const fromStdin = attest('-', '{"ok":true}');
  assert.equal(fromStdin.status, 1);
  assert.match(fromStdin.stderr, /a passphrase is needed for the private key: set COSIGN_PASSWORD/);
  // The library never reads its process's standard input for a passphrase.
  const lib = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { sign } from ${JSON.stringify(path.resolve('src/index.ts'))};
try { await sign(new Uint8Array([1]), { key: 'p.key', tlogUpload: false }); console.log('signed'); }
catch (e) { console.log(e.code); }`,
    ],
    { cwd: dir, encoding: 'utf8', input: 'piped secret', env },
  );
  assert.equal(lib.stdout.trim(), 'NO_PASSPHRASE', lib.stderr);
});

test('sign-blob <(...): a pipe is read once and signed by what was read, as verify-blob takes one; a device is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keys-pipe-'));
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(path.join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  fs.writeFileSync(path.join(dir, 'k.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'artifact\n');
  const env = { ...process.env, COSIGN_PASSWORD: '' };
  // The shell's process substitution, as a user types it: the file is /dev/fd/N, a pipe.
  const s = spawnSync(
    'bash',
    [
      '-c',
      `"$0" sign-blob --key k.pem --tlog-upload=false --bundle p.json <(printf 'artifact\\n')`,
      bin,
    ],
    { cwd: dir, encoding: 'utf8', env },
  );
  assert.equal(s.status, 0, s.stderr);
  const bundle = JSON.parse(fs.readFileSync(path.join(dir, 'p.json'), 'utf8'));
  assert.equal(
    bundle.messageSignature.messageDigest.digest,
    crypto.createHash('sha256').update('artifact\n').digest('base64'),
  );
  const v = run(
    ['verify-blob', '--key', 'k.pub', '--insecure-ignore-tlog', '--bundle', 'p.json', 'a.txt'],
    dir,
  );
  assert.equal(v.status, 0, v.stderr);
  // A device may never end (/dev/zero): refused, pointing at standard input.
  const d = run(['sign-blob', '--key', 'k.pem', '--tlog-upload=false', '/dev/null'], dir, {
    COSIGN_PASSWORD: '',
  });
  assert.equal(d.status, 1);
  assert.equal(
    d.stderr,
    'error: file: cannot read /dev/null: not a regular file or pipe; to sign a stream, give - (standard input)\n',
  );
});

test('import-key-pair in a shared folder writes files of its own: a planted .tmp file or link is not written through', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keys-'));
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(
    path.join(dir, 'plain.key'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  );
  // What another user of a group-writable folder could leave there before the import: a file
  // of theirs, writable by all, under the name the key was written to first, and a link.
  const planted = path.join(dir, 'release.key.tmp');
  fs.writeFileSync(planted, 'planted\n', { mode: 0o666 });
  fs.chmodSync(planted, 0o666);
  const victim = path.join(dir, 'victim.txt');
  fs.writeFileSync(victim, 'victim\n');
  fs.symlinkSync(victim, path.join(dir, 'release.pub.tmp'));
  const r = run(['import-key-pair', '--key', 'plain.key', '--output-key-prefix', 'release'], dir, {
    COSIGN_PASSWORD: 'pw',
  });
  assert.equal(r.status, 0, r.stderr);
  const key = fs.statSync(path.join(dir, 'release.key'));
  assert.equal(key.mode & 0o777, 0o600);
  assert.notEqual(key.ino, fs.statSync(planted).ino);
  assert.equal(fs.readFileSync(planted, 'utf8'), 'planted\n');
  assert.equal(fs.readFileSync(victim, 'utf8'), 'victim\n');
  assert.match(
    fs.readFileSync(path.join(dir, 'release.pub'), 'utf8'),
    /^-----BEGIN PUBLIC KEY-----/,
  );
  // and nothing of its own is left behind
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    'plain.key',
    'release.key',
    'release.key.tmp',
    'release.pub',
    'release.pub.tmp',
    'victim.txt',
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
});
