// `signet login` (cosign login = crane auth login) against Debian's docker-registry behind
// htpasswd: the credentials land where Docker, cosign and Signet's registry client read them,
// and every bad input is one line that leaves the Docker config as it was.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pushImage, registryMissing, startRegistry } from '../helpers/registry.ts';
import { oneError, signet } from '../interop/sign-helpers.ts';

const missing = registryMissing();
const reg = missing ? undefined : await startRegistry({ auth: { user: 'ci', password: 's3cret' } });
after(() => reg?.close());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-login-'));
const opts = { skip: missing ?? false };

/** A fresh Docker config folder, optionally with a config.json holding `config`. */
function dockerDir(name: string, config?: unknown): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  if (config !== undefined) fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(config));
  return d;
}

const run = (
  args: string[],
  docker: string,
  more: { stdin?: string; env?: Record<string, string> } = {},
) =>
  signet(args, {
    cwd: dir,
    env: { DOCKER_CONFIG: docker, ...more.env },
    ...(more.stdin !== undefined ? { stdin: more.stdin } : {}),
  });

const readConfig = (d: string) =>
  JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8')) as Record<string, unknown>;

test(
  'login keeps the credentials where the registry client finds them; other settings stay',
  opts,
  async () => {
    const img = pushImage(reg!, 'private/login');
    const docker = dockerDir('auths', {
      experimental: 'enabled',
      auths: { 'other.example': { auth: Buffer.from('x:y').toString('base64') } },
    });
    // Before: the registry asks for credentials and none are found.
    const before = await run(['tree', img.ref], docker);
    assert.equal(before.status, 1);
    assert.match(oneError(before.stderr), /requires authentication .* signet login/);

    const login = await run(['login', reg!.host, '-u', 'ci', '-p', 's3cret'], docker);
    assert.equal(login.status, 0, login.stderr);
    assert.equal(login.stderr, `logged in via ${path.join(docker, 'config.json')}\n`);
    assert.deepEqual(readConfig(docker), {
      experimental: 'enabled',
      auths: {
        'other.example': { auth: Buffer.from('x:y').toString('base64') },
        [reg!.host]: { auth: Buffer.from('ci:s3cret').toString('base64') },
      },
    });
    assert.equal(fs.statSync(path.join(docker, 'config.json')).mode & 0o777, 0o600);
    const after = await run(['tree', img.ref], docker);
    assert.equal(after.status, 0, after.stderr);

    // A wrong password is stored as given (cosign does not ask the registry either); the
    // registry then refuses it, and says how to fix it.
    const wrong = await run(['login', reg!.host, '-u', 'ci', '--password-stdin'], docker, {
      stdin: 'nope\n',
    });
    assert.equal(wrong.status, 0, wrong.stderr);
    const refused = await run(['tree', img.ref], docker);
    assert.equal(refused.status, 1);
    assert.match(oneError(refused.stderr), /refused the credentials .*signet login/);
    // --password-stdin: the line's ending is not part of the password.
    const stdin = await run(['login', reg!.host, '-u', 'ci', '--password-stdin'], docker, {
      stdin: 's3cret\r\n',
    });
    assert.equal(stdin.status, 0, stdin.stderr);
    assert.equal(
      (readConfig(docker).auths as Record<string, { auth: string }>)[reg!.host]!.auth,
      Buffer.from('ci:s3cret').toString('base64'),
    );
    assert.equal((await run(['tree', img.ref], docker)).status, 0);
  },
);

test('login with a credential helper: the helper stores the secret, the config an empty entry', async () => {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const got = path.join(dir, 'helper-got.json');
  fs.writeFileSync(
    path.join(bin, 'docker-credential-signetlogin'),
    `#!/bin/sh\nif [ "$1" = store ]; then cat > '${got}'; else exit 1; fi\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(bin, 'docker-credential-broken'),
    `#!/bin/sh\necho "the keychain is locked"\nexit 1\n`,
    { mode: 0o755 },
  );
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const docker = dockerDir('helper', { credHelpers: { 'reg.example:5000': 'signetlogin' } });
  const r = await run(['login', 'reg.example:5000', '-u', 'ci', '-p', 's3cret'], docker, { env });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(fs.readFileSync(got, 'utf8')), {
    ServerURL: 'reg.example:5000',
    Username: 'ci',
    Secret: 's3cret',
  });
  assert.deepEqual(readConfig(docker), {
    credHelpers: { 'reg.example:5000': 'signetlogin' },
    auths: { 'reg.example:5000': {} },
  });
  // credsStore for every other registry; Docker Hub under Docker's key for it.
  const store = dockerDir('store', { credsStore: 'signetlogin' });
  assert.equal(
    (await run(['login', 'docker.io', '-u', 'me', '-p', 'tok'], store, { env })).status,
    0,
  );
  assert.equal(JSON.parse(fs.readFileSync(got, 'utf8')).ServerURL, 'https://index.docker.io/v1/');
  assert.deepEqual(readConfig(store).auths, { 'https://index.docker.io/v1/': {} });
  // A helper that fails: its message, and the config as it was.
  const broken = dockerDir('broken', { credsStore: 'broken' });
  const b = await run(['login', 'reg.example', '-u', 'ci', '-p', 'x'], broken, { env });
  assert.equal(b.status, 1);
  assert.match(
    oneError(b.stderr),
    /^error: credential helper docker-credential-broken could not store the credentials for reg.example: the keychain is locked$/,
  );
  assert.deepEqual(readConfig(broken), { credsStore: 'broken' });
});

test('login: bad input is one line naming it, and the Docker config is left as it was', async () => {
  const docker = dockerDir('bad', { auths: {} });
  const cases: Array<[string[], RegExp, string?]> = [
    [
      ['login', 'https://ghcr.io', '-u', 'a', '-p', 'b'],
      /^error: server: "https:\/\/ghcr.io" is not a registry: give its host and optional port/,
    ],
    [
      ['login', 'ghcr.io/org', '-u', 'a', '-p', 'b'],
      /^error: server: "ghcr.io\/org" is not a registry/,
    ],
    [
      ['login', 'ghcr.io', '-p', 'b'],
      /^error: --username: is required: the user name for ghcr.io$/,
    ],
    [['login', 'ghcr.io', '-u', 'a'], /^error: --password: is required \(or --password-stdin\)/],
    [['login', 'ghcr.io', '-u', 'a', '--password-stdin'], /^error: --password: is required/, ''],
    [
      ['login', 'ghcr.io', '-u', 'a', '-p', 'b', '--password-stdin'],
      /^error: --password-stdin: give the password with --password or on stdin, not both$/,
      'c',
    ],
    [['login', '-u', 'a', '-p', 'b'], /^error: missing required argument 'server'/],
  ];
  for (const [args, message, stdin] of cases) {
    const r = await run(args, docker, stdin === undefined ? {} : { stdin });
    assert.equal(r.status, 1, args.join(' '));
    assert.match(oneError(r.stderr), message);
  }
  assert.deepEqual(readConfig(docker), { auths: {} });
  // A config that is not JSON is not overwritten.
  const notJson = dockerDir('not-json');
  fs.writeFileSync(path.join(notJson, 'config.json'), '{"auths": ');
  const nj = await run(['login', 'ghcr.io', '-u', 'a', '-p', 'b'], notJson);
  assert.match(oneError(nj.stderr), /^error: DOCKER_CONFIG: .*config.json is not JSON$/);
  assert.equal(fs.readFileSync(path.join(notJson, 'config.json'), 'utf8'), '{"auths": ');
  // A folder that cannot be written.
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, '');
  const nw = await run(['login', 'ghcr.io', '-u', 'a', '-p', 'b'], path.join(file, 'docker'));
  assert.match(
    oneError(nw.stderr),
    /^error: DOCKER_CONFIG: a part of .*a-file\/docker\/config.json is a file, not a folder/,
  );
});
