/**
 * Keyless commit and tag signing with Debian's real git: `signet git setup`, `git commit -S`,
 * `git rebase`, `git tag -s`, `git verify-commit`, `git verify-tag`, `git log --show-signature`,
 * and `signet verify-commit` / `verify-tag`, against a whole stack on loopback with tokens from
 * its built-in identity provider.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { tempStack, stackToken } from '../helpers/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { agentRequest } from '../../src/client/git/agent.ts';
import { joinSignature, splitCommit } from '../../src/core/git/object.ts';
import { armorGitSignature, parseGitSignature } from '../../src/core/git/signature.ts';
import { certificateFingerprint } from '../../src/core/git/status.ts';
import { gitWorld, must, PROGRAM, run } from './helpers.ts';

let stack: Awaited<ReturnType<typeof tempStack>>;
let token: string;
const world = gitWorld();
let repo: string;
let issuer: string;

before(async () => {
  stack = await tempStack({
    config: {
      oidc: {
        identities: ['dev@signet.local', 'other@signet.local'].map((name) => ({
          flavor: 'email',
          name,
        })),
      },
    },
  });
  token = await stackToken(stack.url, 'dev@signet.local');
  issuer = `${stack.url}/oidc`;
  repo = world.repo();
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
});

after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000);
  await stack.close();
});

const id = (more: string[] = []) => [
  '--certificate-identity',
  'dev@signet.local',
  '--certificate-oidc-issuer',
  issuer,
  ...more,
];

async function commit(message: string, env: Record<string, string> = {}) {
  fs.appendFileSync(path.join(repo, 'file.txt'), `${message}\n`);
  await must(world.git(repo, ['add', 'file.txt']));
  return world.git(repo, ['commit', '-q', '-m', message], env);
}

test('git setup writes the x509 signing config and says what it set', async () => {
  const get = async (k: string) => (await world.git(repo, ['config', '--get', k])).stdout.trim();
  assert.equal(await get('gpg.format'), 'x509');
  assert.equal(await get('gpg.x509.program'), path.resolve('bin/signet-gitsign'));
  assert.equal(await get('commit.gpgsign'), 'true');
  assert.equal(await get('tag.gpgsign'), 'true');
  assert.equal(await get('signet.server'), stack.url);
  const r = await world.signet(repo, ['git', 'setup', '--server', stack.url]);
  assert.match(r.stdout, /^gpg\.format=x509$/m);
  assert.match(r.stdout, new RegExp(`^signet\\.server=${stack.url}$`, 'm'));
  // An issuer that is not a URL would fail every git verify-commit: refused, nothing set.
  const notUrl = await world.signet(repo, [
    'git',
    'setup',
    '--server',
    stack.url,
    '--identity',
    'dev@signet.local',
    '--issuer',
    'notaurl',
  ]);
  assert.equal(notUrl.status, 1);
  assert.match(notUrl.stderr, /^error: --issuer: /);
  assert.equal(await get('signet.issuer'), '');
  // Outside a repository: what to do instead.
  const outside = await world.signet(world.dir, ['git', 'setup', '--server', stack.url]);
  assert.equal(outside.status, 1);
  assert.match(
    outside.stderr,
    /^error: .* is not in a git repository: run `signet git setup` in one, or add --global for all your repositories\n$/,
  );
});

test('git setup checks the server answers before it writes anything (unless --no-check), and says which server it took when none was given', async () => {
  const r = world.repo('setup-check');
  const written = async () =>
    (await world.git(r, ['config', '--local', '--get-regexp', '^(gpg|signet|commit|tag)\\.']))
      .stdout;
  // A port nothing listens on, and a web server that is not a Signet stack.
  const dead = await new Promise<string>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(`http://127.0.0.1:${p}`));
    });
  });
  const web = http.createServer((_req, res) => res.writeHead(404).end('not here'));
  await new Promise<void>((res) => web.listen(0, '127.0.0.1', res));
  const notStack = `http://127.0.0.1:${(web.address() as net.AddressInfo).port}`;
  try {
    for (const [args, env, line] of [
      [
        ['--server', dead],
        {},
        new RegExp(
          `^error: --server: ${dead} does not answer as a Signet stack, so nothing was set: cannot reach the trust server at ${dead}/signing_config\\.json: .*nothing is listening.*\\n$`,
        ),
      ],
      [
        ['--server', notStack],
        {},
        new RegExp(
          `^error: --server: ${notStack} does not answer as a Signet stack, so nothing was set: .*${notStack}/signing_config\\.json.*404.*\\n$`,
        ),
      ],
      [
        [],
        { SIGNET_SERVER: dead },
        new RegExp(
          `^No --server given: using ${dead} \\(from SIGNET_SERVER\\)\\.\\nerror: SIGNET_SERVER: ${dead} does not answer as a Signet stack, so nothing was set: .*nothing is listening.*\\n$`,
        ),
      ],
    ] as const) {
      const s = await world.signet(r, ['git', 'setup', ...args], env);
      assert.equal(s.status, 1, s.stderr);
      assert.match(s.stderr, line);
      assert.equal(s.stdout, '');
      assert.equal(await written(), '', 'nothing is set');
    }
    // --no-check: set without asking (a stack that runs later), and said so.
    const unchecked = world.repo('setup-no-check');
    const n = await world.signet(unchecked, ['git', 'setup', '--server', dead, '--no-check']);
    assert.equal(n.status, 0, n.stderr);
    assert.match(n.stderr, /now sign through \S+ \(not checked to answer: --no-check\)\.\n$/);
    assert.match(n.stdout, new RegExp(`^signet\\.server=${dead}$`, 'm'));
    const all = (
      await world.git(unchecked, [
        'config',
        '--local',
        '--get-regexp',
        '^(gpg|signet|commit|tag)\\.',
      ])
    ).stdout;
    assert.match(all, /^gpg\.format x509$/m);
    assert.match(all, new RegExp(`^signet\\.server ${dead}$`, 'm'));
  } finally {
    web.close();
  }
  // Named by SIGNET_SERVER: said, checked, set.
  const ok = await world.signet(r, ['git', 'setup'], { SIGNET_SERVER: stack.url });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(
    ok.stderr,
    new RegExp(`^No --server given: using ${stack.url} \\(from SIGNET_SERVER\\)\\.\\n`),
  );
  assert.match(await written(), new RegExp(`^signet\\.server ${stack.url}$`, 'm'));
  // Given by --server: nothing to say about where it came from.
  const given = await world.signet(r, ['git', 'setup', '--server', stack.url]);
  assert.equal(given.status, 0, given.stderr);
  assert.doesNotMatch(given.stderr, /No --server given/);
});

test('git setup writes all of its settings or none: a failed write puts back those before it', async () => {
  const r = world.repo('setup-undo');
  const list = async () => (await world.git(r, ['config', '--local', '--list'])).stdout;
  // Settings of the user's own that setup changes: a value, and a key without "= value"
  // (git's true); signet.cache with two values, which git config will not overwrite with one.
  await must(world.git(r, ['config', '--local', 'gpg.format', 'openpgp']));
  fs.appendFileSync(path.join(r, '.git', 'config'), '[commit]\n\tgpgsign\n');
  await must(world.git(r, ['config', '--local', '--add', 'signet.cache', 'a']));
  await must(world.git(r, ['config', '--local', '--add', 'signet.cache', 'b']));
  const before = await list();
  const s = await world.signet(r, ['git', 'setup', '--server', stack.url]);
  assert.equal(s.status, 1, s.stderr);
  assert.equal(
    s.stderr,
    'error: git config --local: could not set signet.cache (error: cannot overwrite multiple values with a single value); gpg.format, gpg.x509.program, commit.gpgsign, tag.gpgsign, signet.server, signet.tlog were put back as before, so nothing was changed\n',
  );
  assert.equal(s.stdout, '');
  // As before; the key without a value is now written as true, which it meant.
  assert.equal(await list(), before.replace('commit.gpgsign\n', 'commit.gpgsign=true\n'));
});

test("git setup when another git takes the config file's lock after its first write", async () => {
  // The real git, run through a script that (as another git would) creates .git/config.lock
  // after the first setting is written, and with RELEASE removes it after the next write.
  const bin = path.join(world.dir, 'locking-git');
  fs.mkdirSync(bin, { recursive: true });
  const realGit = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
  fs.writeFileSync(
    path.join(bin, 'git'),
    `#!/bin/sh
"${realGit}" "$@"; rc=$?
case "$*" in
  config*--get*) ;;
  config*)
    n=$(($(cat .git/writes 2>/dev/null || echo 0) + 1)); echo $n > .git/writes
    if [ $n = 1 ]; then : > .git/config.lock; fi
    if [ $n = 2 ] && [ -n "$RELEASE" ]; then rm .git/config.lock; fi
    ;;
esac
exit $rc
`,
    { mode: 0o755 },
  );
  const env = { PATH: `${bin}:${world.env.PATH}` };
  const locked =
    'could not set gpg.x509.program (error: could not lock config file .git/config: File exists: another git is writing it, or one that stopped left .git/config.lock behind)';
  // The lock let go: gpg.format is put back (unset, as it was).
  let r = world.repo('setup-lock-released');
  const s = await world.signet(r, ['git', 'setup', '--server', stack.url], {
    ...env,
    RELEASE: '1',
  });
  assert.equal(s.status, 1, s.stderr);
  assert.equal(
    s.stderr,
    `error: git config --local: ${locked}; gpg.format was put back as before, so nothing was changed\n`,
  );
  const written = async (repo: string) =>
    (await world.git(repo, ['config', '--local', '--get-regexp', '^(gpg|signet|commit|tag)\\.']))
      .stdout;
  assert.equal(await written(r), '');
  // The lock kept: nothing can be put back, and the line says what to set by hand.
  r = world.repo('setup-lock-kept');
  await must(world.git(r, ['config', '--local', 'gpg.format', 'openpgp']));
  const k = await world.signet(r, ['git', 'setup', '--server', stack.url], env);
  assert.equal(k.status, 1, k.stderr);
  assert.equal(
    k.stderr,
    `error: git config --local: ${locked}; gpg.format (was "openpgp") could not be put back (error: could not lock config file .git/config: File exists): set by hand\n`,
  );
});

test('git commit signs keyless; git verify-commit, git log --show-signature and signet verify-commit accept it', async () => {
  await must(commit('first', { SIGSTORE_ID_TOKEN: token }));
  const raw = (await world.git(repo, ['cat-file', 'commit', 'HEAD'])).stdout;
  assert.match(raw, /^gpgsig -----BEGIN SIGNED MESSAGE-----$/m);

  const v = await world.git(repo, ['verify-commit', '--raw', 'HEAD']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /\[GNUPG:\] GOODSIG [0-9A-F]{40} dev@signet\.local/);
  assert.match(v.stderr, /\[GNUPG:\] TRUST_FULLY 0 shell/);

  const log = await world.git(repo, ['log', '--show-signature', '-1']);
  assert.match(log.stdout, /signet: Good signature from dev@signet\.local/);
  assert.match(log.stdout, /signet: logged at index \d+/);

  const s = await world.signet(repo, ['verify-commit', ...id()]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(
    s.stderr,
    /^Verified OK: commit [0-9a-f]{40} signed by dev@signet\.local \(issuer http:\/\/127\.0\.0\.1:\d+\/oidc\) at .*timestamp authority.*transparency log.*, log index \d+$/m,
  );
});

test('a rebase of several commits signs through the credential cache, without signing in again', async () => {
  for (let i = 0; i < 4; i++) await must(commit(`feature ${i}`, { SIGSTORE_ID_TOKEN: token }));
  assert.ok(fs.statSync(world.socket).isSocket(), 'the agent listens');
  assert.equal(fs.statSync(world.socket).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(world.socket)).mode & 0o777, 0o700);
  // No token and no sign-in allowed: only the cache can sign these.
  const before = (await world.git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
  const r = await world.git(repo, ['rebase', '-q', '--force-rebase', 'HEAD~4']);
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual((await world.git(repo, ['rev-parse', 'HEAD'])).stdout.trim(), before);
  const v = await world.signet(repo, ['verify-commit', '--range', 'HEAD~4..HEAD', ...id()]);
  assert.equal(v.status, 0, v.stderr);
  const lines = v.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  for (const l of lines) assert.match(l, /^[0-9a-f]{40} OK signed by dev@signet\.local /);
  assert.match(v.stderr, /Verified OK: 4 commits in HEAD~4\.\.HEAD/);

  // Without the cache and without a token, signing fails at once with one line.
  const n = await commit('no cache', { SIGNET_CACHE: 'false' });
  assert.notEqual(n.status, 0);
  assert.match(n.stderr, /gpg failed to sign the data/);
  assert.match(
    fs.readFileSync(world.log, 'utf8').trim().split('\n').at(-1)!,
    /signet: cannot sign: no identity token found/,
  );
  await must(world.git(repo, ['reset', '-q', 'HEAD']));
});

test("a token given serves only credentials made with it: another identity's token signs as that identity", async () => {
  const start = (await world.git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
  await must(commit('as dev', { SIGSTORE_ID_TOKEN: token }));
  const other = await stackToken(stack.url, 'other@signet.local');
  await must(commit('as other', { SIGSTORE_ID_TOKEN: other }));
  const signer = async () => {
    const v = await world.signet(repo, ['verify-commit', ...id()]);
    return v.status === 0
      ? 'dev'
      : /issued to "other@signet\.local"/.test(v.stderr)
        ? 'other'
        : v.stderr;
  };
  assert.equal(await signer(), 'other');
  // Without a token, the last credential made serves; with dev's token, dev's.
  await must(commit('no token'));
  assert.equal(await signer(), 'other');
  await must(commit('dev again', { SIGSTORE_ID_TOKEN: token }));
  assert.equal(await signer(), 'dev');
  // the later tests check ranges signed by dev alone
  await must(world.git(repo, ['reset', '-q', '--hard', start]));
});

test('verify-commit without an identity says which flags give one (git has no --key); a bad SIGNET_SIGN_IN is named', async () => {
  const r = await world.signet(repo, ['verify-commit', '--certificate-oidc-issuer', issuer]);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    'error: --certificate-identity: is required (or --certificate-identity-regexp): say who must have signed\n',
  );
  const bad = await commit('bad sign-in mode', {
    SIGNET_SIGN_IN: 'sometimes',
    SIGNET_CACHE: 'false',
  });
  assert.notEqual(bad.status, 0);
  assert.match(
    fs.readFileSync(world.log, 'utf8').trim().split('\n').at(-1)!,
    /signet: cannot sign: SIGNET_SIGN_IN: "sometimes" is not one of auto, browser, device, never$/,
  );
  await must(world.git(repo, ['reset', '-q', 'HEAD']));
});

test('annotated tags: git tag -s, git verify-tag, signet verify-tag', async () => {
  await must(
    world.git(repo, ['tag', '-s', 'v1.0', '-m', 'release 1.0'], { SIGSTORE_ID_TOKEN: token }),
  );
  const raw = (await world.git(repo, ['cat-file', 'tag', 'v1.0'])).stdout;
  assert.match(raw, /release 1\.0\n-----BEGIN SIGNED MESSAGE-----\n/);
  const v = await world.git(repo, ['verify-tag', 'v1.0']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /signet: Good signature from dev@signet\.local/);
  // the warning points to the command for tags
  assert.match(
    v.stderr,
    /WARNING: git cannot say who must have signed; check with `signet verify-tag /,
  );
  const s = await world.signet(repo, ['verify-tag', 'v1.0', ...id()]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /^Verified OK: tag v1\.0 \([0-9a-f]{40}\) signed by dev@signet\.local/m);
  // A lightweight tag keeps no signature: cosign's "no signature" (10), as an unsigned tag, by
  // any name of it, with a policy too (fail closed, the same line); a missing tag is an error.
  await must(world.git(repo, ['-c', 'tag.gpgSign=false', 'tag', 'light']));
  const policy = path.join(repo, '..', 'light-policy.yaml');
  fs.writeFileSync(
    policy,
    [
      'apiVersion: policy.sigstore.dev/v1beta1',
      'kind: ClusterImagePolicy',
      'metadata: {name: tags}',
      'spec:',
      '  commits: [{repository: "**", ref: "refs/tags/**"}]',
      '  authorities:',
      `    - keyless: {identities: [{subject: dev@signet.local, issuer: "${issuer}"}]}`,
      '',
    ].join('\n'),
  );
  const byPolicy = ['--policy', policy, '--server', stack.url, '--repository', 'github.com/o/r'];
  const gitsign = (cwd: string, args: string[]) => run(PROGRAM, args, cwd, world.env);
  for (const [args, program] of [
    [['verify-tag', 'light', ...id()], world.signet],
    [['verify-tag', 'refs/tags/light', ...id()], world.signet],
    [['verify-tag', 'light', ...byPolicy], world.signet],
    [['policy', 'verify', '--tag', 'light', ...byPolicy], world.signet],
    [['policy', 'verify', '--tag', 'light', '-o', 'json', ...byPolicy], world.signet],
    [['verify-tag', 'light', ...id()], gitsign],
  ] as const) {
    const light = await program(repo, [...args]);
    assert.equal(light.status, 10, `${args.join(' ')}: ${light.stderr}`);
    assert.equal(light.stdout, '');
    const name = args.includes('refs/tags/light') ? 'refs/tags/light' : 'light';
    assert.equal(
      light.stderr,
      `error: tag "${name}" is lightweight (a ref straight to a commit, no tag object), so nothing is signed: make a signed tag with git tag -s\n`,
    );
  }
  await must(world.git(repo, ['tag', '-d', 'light']));
  const none = await world.signet(repo, ['verify-tag', 'nosuch', ...id()]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^error: tag: no such tag "nosuch" in /m);
  // A branch or HEAD is a commit, not a lightweight tag.
  for (const rev of ['HEAD', 'main']) {
    const c = await world.signet(repo, ['verify-tag', rev, ...id()]);
    assert.equal(c.status, 1);
    assert.match(
      c.stderr,
      new RegExp(`^error: tag: "${rev}" names a commit, not a tag: verify-commit verifies it`, 'm'),
    );
  }
  // An empty range is one error, not "Verified OK" and then an error.
  const empty = await world.signet(repo, ['verify-commit', '--range', 'HEAD..HEAD', ...id()]);
  assert.equal(empty.status, 1);
  assert.equal(empty.stderr, 'error: --range: HEAD..HEAD holds no commits to verify\n');
});

test("a tag ref moved to another release's signed tag is refused, by verify-tag and by a policy", async () => {
  await must(
    world.git(repo, ['tag', '-s', 'v0.9', '-m', 'release 0.9 (old)'], { SIGSTORE_ID_TOKEN: token }),
  );
  // Anyone who can push a ref can point v2.0 at the signed v0.9 tag object: no signing needed.
  const old = (await must(world.git(repo, ['rev-parse', 'v0.9']))).stdout.trim();
  await must(world.git(repo, ['update-ref', 'refs/tags/v2.0', old]));
  for (const rev of ['v2.0', 'refs/tags/v2.0']) {
    const s = await world.signet(repo, ['verify-tag', rev, ...id()]);
    assert.equal(s.status, 12, s.stderr);
    assert.equal(
      s.stderr,
      'error: refs/tags/v2.0 points at the tag signed as "v0.9": the signature is for v0.9, not v2.0\n',
    );
  }
  const policy = path.join(repo, '..', 'tags-policy.yaml');
  fs.writeFileSync(
    policy,
    [
      'apiVersion: policy.sigstore.dev/v1beta1',
      'kind: ClusterImagePolicy',
      'metadata: {name: releases}',
      'spec:',
      '  commits: [{repository: "**", ref: "refs/tags/v*"}]',
      '  authorities:',
      `    - keyless: {identities: [{subject: dev@signet.local, issuer: "${stack.url}/oidc"}]}`,
      '',
    ].join('\n'),
  );
  const byPolicy = (rev: string) =>
    world.signet(repo, [
      'verify-tag',
      rev,
      '--policy',
      policy,
      '--server',
      stack.url,
      '--repository',
      'github.com/org/repo',
    ]);
  const p = await byPolicy('v2.0');
  assert.equal(p.status, 12, p.stderr);
  assert.match(p.stderr, /^error: refs\/tags\/v2\.0 points at the tag signed as "v0\.9"/m);
  // the tag under its own name, and by its object ID (named by what was signed), still verify
  for (const rev of ['v0.9', old]) {
    const ok = await world.signet(repo, ['verify-tag', rev, ...id()]);
    assert.equal(ok.status, 0, ok.stderr);
    const okp = await byPolicy(rev);
    assert.equal(okp.status, 0, okp.stderr);
  }
  await must(world.git(repo, ['tag', '-d', 'v2.0', 'v0.9']));
});

test('a replace ref that puts a signed commit in place of an unsigned one: the unsigned commit is verified as it is', async () => {
  const signed = (await must(world.git(repo, ['rev-parse', 'HEAD']))).stdout.trim();
  const evil = (
    await must(
      world.git(repo, [
        '-c',
        'commit.gpgsign=false',
        'commit-tree',
        '-p',
        signed,
        '-m',
        'evil, unsigned',
        `${signed}^{tree}`,
      ]),
    )
  ).stdout.trim();
  // refs/replace/<evil> -> <signed>: git now hands out the signed commit's bytes for evil's ID
  await must(world.git(repo, ['replace', evil, signed]));
  try {
    const one = await world.signet(repo, ['verify-commit', evil, ...id()]);
    assert.equal(one.status, 10, one.stderr);
    assert.match(
      one.stderr,
      new RegExp(`^error: .*${evil}.* is not signed|^error: commit ${evil}`, 'm'),
    );
    const range = await world.signet(repo, [
      'verify-commit',
      '--range',
      `${signed}..${evil}`,
      ...id(),
    ]);
    assert.notEqual(range.status, 0, range.stderr);
    assert.match(range.stdout + range.stderr, new RegExp(`${evil} FAILED`));
  } finally {
    await must(world.git(repo, ['replace', '-d', evil]));
  }
});

test('another identity, an untrusted CA, an unsigned commit: clear failures', async () => {
  let s = await world.signet(repo, [
    'verify-commit',
    '--certificate-identity',
    'mallory@signet.local',
    '--certificate-oidc-issuer',
    issuer,
  ]);
  assert.equal(s.status, 12); // cosign: no matching signature
  assert.match(
    s.stderr,
    /^error: .*issued to "dev@signet\.local", not to "mallory@signet\.local"$/m,
  );
  assert.equal(s.stderr.trim().split('\n').length, 1);
  // A range: one FAILED line per commit, and the command fails.
  const r = await world.signet(repo, [
    'verify-commit',
    '--range',
    'HEAD~2..HEAD',
    '--certificate-identity',
    'mallory@signet.local',
    '--certificate-oidc-issuer',
    issuer,
  ]);
  assert.equal(r.status, 12);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  for (const l of lines)
    assert.match(l, /^[0-9a-f]{40} FAILED the certificate was issued to "dev@signet\.local"/);
  assert.match(r.stderr, /2 of 2 commits in HEAD~2\.\.HEAD failed verification/);

  const production = path.resolve(
    'test/fixtures/conformance/trust-roots/production/trusted_root.json',
  );
  s = await world.signet(repo, [
    'verify-commit',
    ...id(['--trusted-root', production, '--offline']),
  ]);
  assert.equal(s.status, 12);
  assert.match(s.stderr, /^error: .*(not in the trusted root|trusted|chain)/);

  await must(world.git(repo, ['commit', '-q', '--allow-empty', '--no-gpg-sign', '-m', 'unsigned']));
  s = await world.signet(repo, ['verify-commit', ...id()]);
  assert.equal(s.status, 10); // cosign: no signature
  assert.match(s.stderr, /^error: commit [0-9a-f]{40} is not signed$/m);
  // In a range it is the first failure: the range exits with its code too.
  const withUnsigned = await world.signet(repo, [
    'verify-commit',
    '--range',
    'HEAD~2..HEAD',
    ...id(),
  ]);
  assert.equal(withUnsigned.status, 10, withUnsigned.stderr);
  assert.match(
    withUnsigned.stdout,
    /^[0-9a-f]{40} OK .*\n[0-9a-f]{40} FAILED commit [0-9a-f]{40} is not signed\n$/,
  );
  const g = await world.git(repo, ['verify-commit', 'HEAD']);
  assert.notEqual(g.status, 0);
  await must(world.git(repo, ['reset', '-q', '--hard', 'HEAD~1']));
});

test('signet.identity and signet.issuer make git verify-commit insist on who signed', async () => {
  await must(world.git(repo, ['config', 'signet.identity', 'mallory@signet.local']));
  await must(world.git(repo, ['config', 'signet.issuer', issuer]));
  const bad = await world.git(repo, ['verify-commit', 'HEAD']);
  assert.notEqual(bad.status, 0);
  assert.match(
    bad.stderr,
    /signet: cannot verify: .*issued to "dev@signet\.local", not to "mallory@signet\.local"/,
  );
  await must(world.git(repo, ['config', 'signet.identity', 'dev@signet.local']));
  const good = await world.git(repo, ['verify-commit', 'HEAD']);
  assert.equal(good.status, 0, good.stderr);
  assert.doesNotMatch(good.stderr, /WARNING: git cannot say who must have signed/);
  await must(world.git(repo, ['config', '--unset', 'signet.identity']));
  await must(world.git(repo, ['config', '--unset', 'signet.issuer']));
});

test('a commit whose content changed after signing: BADSIG for git, a clear error for signet', async () => {
  const raw = (await world.git(repo, ['cat-file', 'commit', 'HEAD'])).out;
  const forged = Buffer.from(
    raw.toString('latin1').replace(/\n\nfeature 3\n$/, '\n\nfeature 3 (edited)\n'),
    'latin1',
  );
  assert.notDeepEqual(forged, raw);
  const idw = await world.git(
    repo,
    ['hash-object', '-t', 'commit', '-w', '--stdin', '--literally'],
    {},
    forged,
  );
  const forgedId = (await must(idw)).stdout.trim();
  const g = await world.git(repo, ['verify-commit', '--raw', forgedId]);
  assert.notEqual(g.status, 0);
  assert.match(g.stderr, /\[GNUPG:\] BADSIG [0-9A-F]{40}/);
  const human = await world.git(repo, ['verify-commit', forgedId]);
  assert.match(human.stderr, /signet: BAD signature: .*changed after signing/);
  const s = await world.signet(repo, ['verify-commit', forgedId, ...id()]);
  assert.equal(s.status, 12);
  assert.match(
    s.stderr,
    /^error: the signed content does not match: .*\(changed after signing\)$/m,
  );
});

test("git log's %G?, %GS, %GK: the signer of a good commit; B and the identity its certificate claims for a changed commit or signature; E for a signer signet.identity does not name; N unsigned", async () => {
  const show = async (rev: string) =>
    (await must(world.git(repo, ['log', '-1', '--format=%G?%x00%GS%x00%GK', rev]))).stdout
      .replace(/\n$/, '')
      .split('\0');
  const write = async (o: Uint8Array) =>
    (
      await must(
        world.git(
          repo,
          ['hash-object', '-t', 'commit', '-w', '--stdin', '--literally'],
          {},
          Buffer.from(o),
        ),
      )
    ).stdout.trim();
  const raw = (await world.git(repo, ['cat-file', 'commit', 'HEAD'])).out;
  const { payload, signature } = splitCommit(new Uint8Array(raw), 'sha1');
  const sig = parseGitSignature(signature!);
  const fpr = certificateFingerprint(sig.certificate);
  assert.deepEqual(await show('HEAD'), ['G', 'dev@signet.local', fpr]);

  // The content changed after signing.
  const edited = Buffer.concat([payload, Buffer.from('edited after signing\n')]);
  const editedId = await write(joinSignature('commit', edited, signature!, 'sha1'));
  assert.deepEqual(await show(editedId), ['B', 'dev@signet.local', fpr]);

  // The signature value changed (the content is the one signed): it no longer verifies with the
  // certificate's key. The embedded log entry is over the signature too, so this is BAD only
  // because the signature is checked against its certificate before the log (gpgsm's order).
  const der = Buffer.from(sig.der);
  const at = der.indexOf(Buffer.from(sig.signer.signature)) + sig.signer.signature.length - 1;
  der[at]! ^= 1;
  const forged = joinSignature('commit', payload, Buffer.from(armorGitSignature(der)), 'sha1');
  const forgedId = await write(forged);
  assert.deepEqual(await show(forgedId), ['B', 'dev@signet.local', fpr]);
  const v = await world.git(repo, ['verify-commit', forgedId]);
  assert.notEqual(v.status, 0);
  assert.match(
    v.stderr,
    /signet: BAD signature: the signature does not verify over the signed attributes with the certificate's key/,
  );

  // A good signature by someone signet.identity does not name: E (not U, which scripts accept).
  await must(world.git(repo, ['config', 'signet.identity', 'mallory@signet.local']));
  await must(world.git(repo, ['config', 'signet.issuer', issuer]));
  try {
    assert.deepEqual(await show('HEAD'), ['E', '', fpr]);
  } finally {
    await must(world.git(repo, ['config', '--unset', 'signet.identity']));
    await must(world.git(repo, ['config', '--unset', 'signet.issuer']));
  }

  const unsigned = (
    await must(
      world.git(repo, [
        'commit-tree',
        '--no-gpg-sign',
        '-p',
        'HEAD',
        '-m',
        'unsigned',
        'HEAD^{tree}',
      ]),
    )
  ).stdout.trim();
  assert.deepEqual(await show(unsigned), ['N', '', '']);
});

test("a commit whose certificate was altered: the certificate's signature is named, not the log entry", async () => {
  const raw = (await world.git(repo, ['cat-file', 'commit', 'HEAD'])).out;
  const { payload, signature } = splitCommit(new Uint8Array(raw), 'sha1');
  const sig = parseGitSignature(signature!);
  const cert = Buffer.from(sig.certificate);
  const at = Buffer.from(sig.der).indexOf(cert);
  assert.ok(at > 0);
  // One byte of the CA's signature over the certificate (its last byte), then one byte of
  // what it signs (the identity in the SAN: dev@ -> dav@). The signature over the commit
  // still verifies with the certificate's key, and the embedded log entry no longer matches.
  const tbsAt = cert.indexOf(Buffer.from('dev@signet.local'));
  assert.ok(tbsAt > 0);
  for (const [what, offset, to] of [
    ['signature', cert.length - 1, cert[cert.length - 1]! ^ 1],
    ['TBS', tbsAt + 1, 'a'.charCodeAt(0)],
  ] as const) {
    const der = Buffer.from(sig.der);
    der[at + offset] = to;
    const forged = joinSignature('commit', payload, Buffer.from(armorGitSignature(der)), 'sha1');
    const forgedId = (
      await must(
        world.git(
          repo,
          ['hash-object', '-t', 'commit', '-w', '--stdin', '--literally'],
          {},
          Buffer.from(forged),
        ),
      )
    ).stdout.trim();
    const s = await world.signet(repo, ['verify-commit', forgedId, ...id()]);
    assert.equal(s.status, 12, what);
    assert.equal(s.stderr.trim().split('\n').length, 1, s.stderr);
    assert.match(
      s.stderr,
      /^error: the signing certificate's signature does not verify with the key of its issuer "[^"]+" in the trusted root \(the certificate was altered, or another CA of that name issued it: if the CA was rotated after this trusted root was taken, get the trusted root again\)\n$/,
      what,
    );
    // git's own check says the same.
    const g = await world.git(repo, ['verify-commit', forgedId]);
    assert.notEqual(g.status, 0);
    assert.match(
      g.stderr,
      /signet: cannot verify: the signing certificate's signature does not verify/,
      what,
    );
  }
});

test("a commit signed with another deployment: said so, with how to point git's verification at the one that signed it", async () => {
  const away = await tempStack();
  try {
    const r2 = world.repo('away');
    await must(world.signet(r2, ['git', 'setup', '--server', away.url, '--no-cache']));
    fs.writeFileSync(path.join(r2, 'f'), 'x');
    await must(world.git(r2, ['add', 'f']));
    await must(
      world.git(r2, ['commit', '-q', '-m', 'away'], {
        SIGSTORE_ID_TOKEN: await stackToken(away.url),
      }),
    );
    await must(
      world.git(r2, ['tag', '-s', 'v1', '-m', 'away'], {
        SIGSTORE_ID_TOKEN: await stackToken(away.url),
      }),
    );
    const awayId = [
      '--certificate-identity',
      'dev@signet.local',
      '--certificate-oidc-issuer',
      `${away.url}/oidc`,
    ];
    // It verifies against its own deployment (signet.server, as git setup wrote it).
    await must(world.signet(r2, ['verify-commit', ...awayId]));
    const other =
      /^error: the signature is from a deployment the trusted root does not cover: .*; give the deployment that signed it with --server URL, or set it for this repository: git config signet\.server URL\n$/;
    // Against this stack: by --server, and by signet.server set to it.
    for (const [args, cfg] of [
      [['verify-commit', '--server', stack.url], undefined],
      [['verify-tag', 'v1', '--server', stack.url], undefined],
      [['verify-commit'], stack.url],
    ] as const) {
      if (cfg) await must(world.git(r2, ['config', 'signet.server', cfg]));
      const s = await world.signet(r2, [...args, ...awayId]);
      assert.equal(s.status, 12, s.stderr);
      assert.match(s.stderr, other, args.join(' '));
    }
    // git's own check (signet.server is this stack now) says which setting to change.
    const g = await world.git(r2, ['verify-commit', 'HEAD']);
    assert.notEqual(g.status, 0);
    assert.match(
      g.stderr,
      /signet: cannot verify: the signature is from a deployment the trusted root does not cover: .*; set signet\.server to the deployment that signed it \(git config signet\.server URL\)\n/,
    );
    // Without signet.server (set empty here, over the global one) the default trusted root is
    // used: the message names it and the flags to give (once), and the repository's setting.
    await must(world.git(r2, ['config', 'signet.server', '']));
    const mirror = `http://127.0.0.1:${await freePort()}`;
    const byDefault = await world.signet(r2, ['verify-commit', ...awayId], { TUF_MIRROR: mirror });
    assert.equal(byDefault.status, 12, byDefault.stderr);
    assert.match(
      byDefault.stderr,
      new RegExp(
        `^error: the signature is from a deployment the trusted root does not cover: [^\n]*; no --server or --trusted-root was given, so the trusted root was the default, Sigstore public-good's as shipped with Signet, which may be out of date \\(the TUF repository ${mirror} did not answer\\): give --server URL \\(the deployment that made it\\) or --trusted-root FILE; or set the deployment for this repository: git config signet\\.server URL\n$`,
      ),
    );
  } finally {
    await away.close();
  }
});

test('verify-commit and verify-tag take -t/--timeout as the other verify commands do: a server that never answers is cut off with one line', async () => {
  // Takes the connection and never answers.
  const hang = net.createServer(() => {});
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const server = `http://127.0.0.1:${(hang.address() as net.AddressInfo).port}`;
  try {
    for (const args of [
      ['verify-commit', '--timeout', '1s'],
      ['verify-commit', '-t', '1'],
      ['-t', '1s', 'verify-commit'],
      ['verify-tag', 'v1.0', '--timeout=1s'],
    ]) {
      const t0 = Date.now();
      const s = await world.signet(repo, [...args, '--server', server, ...id()]);
      assert.equal(s.status, 1, args.join(' '));
      assert.match(
        s.stderr,
        new RegExp(`^error: .*${server}/tuf/.*: no answer within 1 s\\n$`),
        args.join(' '),
      );
      assert.ok(Date.now() - t0 < 8000, `${args.join(' ')}: took ${Date.now() - t0} ms`);
    }
  } finally {
    hang.close();
  }
  const bad = await world.signet(repo, ['verify-commit', '--timeout', '0', ...id()]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: --timeout: "0" is not a positive duration/);
});

test('git verify-commit and git log --show-signature fetch the trust root within signet.timeout, as the log search does', async () => {
  // Takes the connection and never answers.
  const hang = net.createServer(() => {});
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const server = `http://127.0.0.1:${(hang.address() as net.AddressInfo).port}`;
  try {
    for (const args of [
      ['verify-commit', 'HEAD'],
      ['log', '--show-signature', '-1'],
    ]) {
      const t0 = Date.now();
      const g = await world.git(repo, [
        '-c',
        `signet.server=${server}`,
        '-c',
        'signet.timeout=1',
        ...args,
      ]);
      // git log shows the program's messages in its output, verify-commit on stderr.
      assert.match(
        g.stdout + g.stderr,
        new RegExp(`^signet: cannot verify: .*${server}/tuf/.*: no answer within 1 s$`, 'm'),
        args.join(' '),
      );
      assert.ok(Date.now() - t0 < 8000, `${args.join(' ')}: took ${Date.now() - t0} ms`);
    }
  } finally {
    hang.close();
  }
});

test('a stack that is down while signing: git fails with one line, promptly', async () => {
  const r2 = world.repo('down');
  // A port nothing listens on: bind one, note it, close it.
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  // git setup checks the server answers: the stack goes away after it.
  await must(world.signet(r2, ['git', 'setup', '--server', stack.url, '--no-cache']));
  await must(world.git(r2, ['config', 'signet.server', `http://127.0.0.1:${port}`]));
  fs.writeFileSync(path.join(r2, 'f'), 'x');
  await must(world.git(r2, ['add', 'f']));
  const t0 = Date.now();
  const r = await world.git(r2, ['commit', '-q', '-m', 'x'], { SIGSTORE_ID_TOKEN: token });
  assert.ok(Date.now() - t0 < 60_000);
  assert.notEqual(r.status, 0);
  // git 2.39 prints only its own line; the program's one line goes to the log (and a terminal).
  assert.match(r.stderr, /gpg failed to sign the data/);
  const lines = fs.readFileSync(world.log, 'utf8').trim().split('\n');
  assert.match(
    lines.at(-1)!,
    new RegExp(`signet: cannot sign: .*http://127\\.0\\.0\\.1:${port}/.*nothing is listening`),
  );
});
