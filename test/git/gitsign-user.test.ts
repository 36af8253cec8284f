/**
 * What a gitsign user does (gitsign internal/commands, pkg/git/verify.go, internal/cache), with
 * Debian's real git against a whole stack on loopback: what git's own commands accept,
 * `signet verify-commit` and gitsign's command names accept too, and the credential cache signs
 * only while the certificate's time lasts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { tempStack, stackToken } from '../helpers/stack.ts';
import { splitCommit } from '../../src/core/git/object.ts';
import { parseGitSignature } from '../../src/core/git/signature.ts';
import { agentRequest, runAgent, type Credential } from '../../src/client/git/agent.ts';
import { configureGitsignOnly, gitWorld, must, PROGRAM, run } from './helpers.ts';

let stack: Awaited<ReturnType<typeof tempStack>>;
let token: string;
let issuer: string;
const world = gitWorld();

before(async () => {
  stack = await tempStack();
  token = await stackToken(stack.url, 'dev@signet.local');
  issuer = `${stack.url}/oidc`;
});

after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000);
  await stack.close();
});

const who = () => [
  '--certificate-identity',
  'dev@signet.local',
  '--certificate-oidc-issuer',
  issuer,
];

test('a SHA-256 repository: the gpgsig-sha256 git writes verifies in signet verify-commit, --range and gitsign verify, as in git verify-commit', async () => {
  const repo = world.repo('sha256');
  // world.repo() makes a SHA-1 repository: start it over as SHA-256.
  await must(run('rm', ['-rf', '.git'], repo, world.env));
  await must(world.git(repo, ['init', '-q', '-b', 'main', '--object-format=sha256']));
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
  const env = { SIGSTORE_ID_TOKEN: token };
  await must(world.git(repo, ['commit', '-q', '--allow-empty', '-m', 'one'], env));
  await must(world.git(repo, ['commit', '-q', '--allow-empty', '-m', 'two'], env));
  const raw = (await must(world.git(repo, ['cat-file', 'commit', 'HEAD']))).stdout;
  assert.match(raw, /^gpgsig-sha256 -----BEGIN SIGNED MESSAGE-----$/m);
  assert.doesNotMatch(raw, /^gpgsig /m);
  const head = (await must(world.git(repo, ['rev-parse', 'HEAD']))).stdout.trim();
  assert.equal(head.length, 64);

  // git itself verifies it through the program ...
  const g = await world.git(repo, ['verify-commit', 'HEAD']);
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stderr, /signet: Good signature from dev@signet\.local/);
  // ... and so do signet's and gitsign's commands, one commit and a range.
  const one = await world.signet(repo, ['verify-commit', ...who()]);
  assert.equal(one.status, 0, one.stderr);
  assert.match(
    one.stderr,
    new RegExp(`^Verified OK: commit ${head} signed by dev@signet\\.local`, 'm'),
  );
  const range = await world.signet(repo, ['verify-commit', '--range', 'main', ...who()]);
  assert.equal(range.status, 0, range.stderr);
  assert.equal(range.stdout.trim().split('\n').length, 2);
  assert.match(range.stderr, /^Verified OK: 2 commits in main$/m);
  const gs = await run(PROGRAM, ['verify', ...who()], repo, world.env);
  assert.equal(gs.status, 0, gs.stderr);

  // A policy decides SHA-256 commits by their signer too.
  const policy = path.join(world.dir, 'sha256-policy.yaml');
  fs.writeFileSync(
    policy,
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: any-branch}\nspec:\n  commits: [{repository: "**", ref: "**"}]\n  authorities:\n    - keyless: {identities: [{subject: dev@signet.local, issuer: "${issuer}"}]}\n`,
  );
  const byPolicy = await world.signet(repo, [
    'verify-commit',
    '--policy',
    policy,
    '--repository',
    'x/y',
  ]);
  assert.equal(byPolicy.status, 0, byPolicy.stderr + byPolicy.stdout);
  assert.match(byPolicy.stdout, /ALLOWED/);

  // The signature is bound to the SHA-256 form: another commit's signature does not carry over.
  const other = (await must(world.git(repo, ['cat-file', 'commit', 'HEAD~1']))).stdout;
  const forged = raw.replace(
    /^gpgsig-sha256 [\s\S]*?\n(?=\S)/m,
    /^gpgsig-sha256 [\s\S]*?\n(?=\S)/m.exec(other)![0],
  );
  assert.notEqual(forged, raw);
  const id = (
    await must(world.git(repo, ['hash-object', '-t', 'commit', '-w', '--stdin'], {}, forged))
  ).stdout.trim();
  const bad = await world.signet(repo, ['verify-commit', id, ...who()]);
  assert.equal(bad.status, 12, bad.stderr);
  assert.match(bad.stderr, /^error: the signed content does not match/m);
});

test('the credential cache does not sign with a certificate about to expire: the log entry would come after it (gitsign keeps 30 s)', async () => {
  const repo = world.repo('expiring');
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
  // An agent of this test's own, whose clock the test moves on.
  const socket = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'signet-agent-')),
    'private',
    'agent.sock',
  );
  let skew = 0;
  const done = runAgent(socket, { idleMs: 60_000, now: () => Date.now() + skew });
  for (let i = 0; i < 200 && !fs.existsSync(socket); i++)
    await new Promise((r) => setTimeout(r, 20));
  const env = { SIGNET_AGENT_SOCKET: socket };
  const commit = (m: string, more: Record<string, string> = {}) =>
    world.git(repo, ['commit', '-q', '--allow-empty', '-m', m], { ...env, ...more });
  const fingerprint = async () =>
    (await must(world.git(repo, ['log', '-1', '--format=%GF'], env))).stdout.trim();
  try {
    await must(commit('signs in', { SIGSTORE_ID_TOKEN: token }));
    const first = await fingerprint();
    await must(commit('from the cache'));
    assert.equal(await fingerprint(), first);
    // 15 seconds before the certificate ends, by the agent's clock: no more signatures with it.
    const all = (await agentRequest(
      socket,
      {
        op: 'get',
        // the services, and no token: what a signature without SIGSTORE_ID_TOKEN is served
        server: JSON.stringify([stack.url, true, undefined, undefined, undefined, undefined, null]),
      },
      2000,
    )) as { credential: Credential | null };
    assert.ok(all.credential, 'the program handed its credential to the agent');
    skew = all.credential.notAfter - 15_000 - Date.now();
    const r = await commit('too late for this certificate');
    assert.notEqual(r.status, 0);
    assert.match(
      fs.readFileSync(world.log, 'utf8').trim().split('\n').at(-1)!,
      /cannot sign: no identity token found/,
    );
    await must(commit('signs in again', { SIGSTORE_ID_TOKEN: token }));
    assert.notEqual(await fingerprint(), first);
    const v = await world.signet(repo, ['verify-commit', '--range', 'main', ...who()]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    await agentRequest(socket, { op: 'stop' }, 2000);
    await done;
  }
});

test('signet verify-commit outside a repository, and --range without its value, say so', async () => {
  const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-no-git-'));
  const outside = await world.signet(plain, ['verify-commit', 'HEAD', ...who()]);
  assert.equal(outside.status, 1, outside.stderr);
  assert.match(
    outside.stderr,
    /^error: \S+ is not in a git repository: run signet verify-commit in the repository of the commits$/m,
  );
  const repo = world.repo('range-without-value');
  const range = await world.signet(repo, ['verify-commit', '--range', ...who()]);
  assert.equal(range.status, 1, range.stderr);
  assert.match(
    range.stderr,
    /^error: --range: needs a range of commits \(A\.\.B\), not the flag --certificate-identity$/m,
  );
});

test('a credential cache in a folder others can open is said to be off; the commit is signed all the same', async () => {
  const repo = world.repo('open-cache');
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
  const open = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-agent-open-'));
  fs.chmodSync(open, 0o755);
  const env = { SIGNET_AGENT_SOCKET: path.join(open, 'agent.sock'), SIGSTORE_ID_TOKEN: token };
  const offLine = new RegExp(
    `signet: the credential cache is off: ${open.replace(/[.]/g, '\\.')} must be a folder of yours that only you can open \\(mode 0700\\)`,
  );
  await must(world.git(repo, ['commit', '-q', '--allow-empty', '-m', 'signed anyway'], env));
  assert.match(fs.readFileSync(world.log, 'utf8').trim().split('\n').at(-1)!, offLine);
  assert.equal(fs.existsSync(path.join(open, 'agent.sock')), false);
  await must(world.git(repo, ['verify-commit', 'HEAD'], env));

  // Someone else's listener there (another user can make a folder under /tmp first): it is
  // told nothing, neither the commit to sign nor the key made for it, and signs nothing.
  const heard: string[] = [];
  const planted = net.createServer((c) => {
    c.on('data', (d) => {
      heard.push(d.toString());
      c.end('{"ok":true,"signed":null,"credential":null}\n');
    });
  });
  await new Promise<void>((r) => planted.listen(path.join(open, 'agent.sock'), r));
  fs.chmodSync(path.join(open, 'agent.sock'), 0o777);
  try {
    await must(world.git(repo, ['commit', '-q', '--allow-empty', '-m', 'not theirs'], env));
    assert.match(fs.readFileSync(world.log, 'utf8').trim().split('\n').at(-1)!, offLine);
    await must(world.git(repo, ['verify-commit', 'HEAD'], env));
    const predicate = path.join(repo, 'predicate.json');
    fs.writeFileSync(predicate, '{"a":1}');
    const attested = await run(PROGRAM, ['attest', '-f', predicate, '--type', 'custom'], repo, {
      ...world.env,
      ...env,
    });
    assert.equal(attested.status, 0, attested.stderr);
    assert.match(attested.stderr, offLine);
    assert.deepEqual(heard, []);
  } finally {
    planted.close();
  }
});

test('a commit and a tag whose certificates expired long ago verify at the log and timestamp times, in git and signet', async () => {
  // Signed by a stack that is gone (test/fixtures/git-expired/README.md): ten-minute
  // certificates, expired since; the trusted root is that stack's.
  const dir = path.resolve('test/fixtures/git-expired');
  const root = path.join(dir, 'trusted_root.json');
  const repo = world.repo('expired');
  const write = async (type: string, file: string) =>
    (
      await must(
        world.git(
          repo,
          ['hash-object', '-t', type, '-w', '--stdin'],
          {},
          fs.readFileSync(path.join(dir, file)),
        ),
      )
    ).stdout.trim();
  await must(world.git(repo, ['mktree'], {}, ''));
  const logged = await write('commit', 'logged.commit');
  const tag = await write('tag', 'v1.tag');
  const tsOnly = await write('commit', 'timestamp-only.commit');
  await must(world.git(repo, ['update-ref', 'refs/heads/main', tsOnly]));
  await must(world.git(repo, ['update-ref', 'refs/tags/v1', tag]));
  for (const [k, v] of [
    ['gpg.format', 'x509'],
    ['gpg.x509.program', PROGRAM],
    ['signet.trustedRoot', root],
  ])
    await must(world.git(repo, ['config', k!, v!]));
  const raw = fs.readFileSync(path.join(dir, 'logged.commit'));
  const { signature } = splitCommit(new Uint8Array(raw), 'sha1');
  const cert = new X509Certificate(parseGitSignature(signature!).certificate);
  assert.ok(Date.parse(cert.validTo) < Date.now(), 'the certificate has expired');

  const g = await world.git(repo, ['verify-commit', logged]);
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stderr, /signet: Good signature from dev@signet\.local/);
  const t = await world.git(repo, ['verify-tag', 'v1']);
  assert.equal(t.status, 0, t.stderr);
  const stackIssuer = 'http://127.0.0.1:44607/oidc';
  const id = ['--certificate-identity', 'dev@signet.local', '--certificate-oidc-issuer'];
  const offline = ['--trusted-root', root, '--offline'];
  const s = await world.signet(repo, ['verify-commit', logged, ...id, stackIssuer, ...offline]);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /at 2026-12-07T00:3\d:\d\dZ?.*\(transparency log\)/);
  const st = await world.signet(repo, ['verify-tag', 'v1', ...id, stackIssuer, ...offline]);
  assert.equal(st.status, 0, st.stderr);
  const gs = await run(
    PROGRAM,
    ['verify', logged, ...id, stackIssuer, '--trusted-root', root],
    repo,
    world.env,
  );
  assert.equal(gs.status, 0, gs.stderr);
  // Timestamp only: the TSA's time dates it.
  const ts = await world.signet(repo, [
    'verify-commit',
    tsOnly,
    ...id,
    stackIssuer,
    ...offline,
    '--insecure-ignore-tlog',
  ]);
  assert.equal(ts.status, 0, ts.stderr);
  assert.match(ts.stderr, /\(timestamp authority\), NO TRANSPARENCY LOG ENTRY/);

  // The same signature over other content still fails.
  const forged = await must(
    world.git(
      repo,
      ['hash-object', '-t', 'commit', '-w', '--stdin'],
      {},
      raw.toString('latin1').replace('ten minutes later', 'ten minutes later!'),
    ),
  );
  const bad = await world.git(repo, ['verify-commit', forged.stdout.trim()]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /signet: BAD signature: the signed content does not match/);
});

test("gitsign verify and verify-tag print gitsign's summary on stdout, which scripts written for gitsign read", async () => {
  const repo = world.repo('summary');
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
  const env = { SIGSTORE_ID_TOKEN: token };
  await must(world.git(repo, ['commit', '-q', '--allow-empty', '-m', 'summarised'], env));
  await must(world.git(repo, ['tag', '-s', '-m', 'release', 'v1'], env));
  const fpr = (await must(world.git(repo, ['log', '-1', '--format=%GF']))).stdout.trim();
  assert.match(fpr, /^[0-9A-F]{40}$/);
  const summary = (index: string) =>
    new RegExp(
      `^tlog index: ${index}\\ngitsign: Signature made using certificate ID 0x${fpr.toLowerCase()} \\| \\S.*\\ngitsign: Good signature from \\[dev@signet\\.local\\]\\(${issuer.replace(/[.]/g, '\\.')}\\)\\nValidated Git signature: true\\nValidated Rekor entry: true\\nValidated Certificate claims: true\\n$`,
    );
  const c = await run(PROGRAM, ['verify', ...who()], repo, world.env);
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stdout, summary('\\d+'));
  assert.equal(c.stderr, '');
  // gitsign's issuer: Go's pkix.Name string, most significant last, without spaces.
  assert.doesNotMatch(c.stdout.split('\n')[1]!, /, /);
  const t = await run(PROGRAM, ['verify-tag', 'v1', ...who()], repo, world.env);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, summary('\\d+'));
  // A failure is one line on stderr and nothing on stdout, with a non-zero status.
  const other = [
    '--certificate-identity',
    'mallory@signet.local',
    '--certificate-oidc-issuer',
    issuer,
  ];
  const f = await run(PROGRAM, ['verify', ...other], repo, world.env);
  assert.notEqual(f.status, 0);
  assert.equal(f.stdout, '');
  assert.match(f.stderr, /^error: .*mallory@signet\.local/);
  // signet verify-commit itself keeps its own line.
  const s = await world.signet(repo, ['verify-commit', ...who()]);
  assert.equal(s.stdout, '');
  assert.match(s.stderr, /^Verified OK: commit /);
});

test("gitsign's other command names: version and help answer; what Signet lacks says so and what to use", async () => {
  const repo = world.repo('commands');
  const version = await run(PROGRAM, ['version'], repo, world.env);
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^signet-gitsign \(signet \d+\.\d+\.\d+\S*\)\n$/);
  for (const args of [[], ['--help'], ['-h'], ['help']]) {
    const h = await run(PROGRAM, args, repo, world.env);
    assert.equal(h.status, 0, `${args.join(' ')}: ${h.stderr}`);
    assert.match(h.stdout, /^Usage: signet-gitsign /);
    assert.match(h.stdout, /^ {2}verify \[COMMIT\]/m);
    assert.match(h.stdout, /^ {2}verify-tag TAG/m);
    assert.equal(h.stderr, '');
  }
  for (const [cmd, instead] of [['show', /signet verify-commit/]] as const) {
    const r = await run(PROGRAM, [cmd, '-f', 'x.json'], repo, world.env);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`^signet-gitsign: gitsign's \`${cmd}\` is not in Signet`));
    assert.match(r.stderr, instead);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('a repository set up with gitsign settings only: git verify-commit says where trust came from; gitsign initialize sets it', async () => {
  // A world of its own: `initialize` changes which TUF repository it trusts by default.
  const own = gitWorld();
  const repo = own.repo('gitsign-only');
  await configureGitsignOnly(own, repo, stack.url);
  await must(
    own.git(repo, ['commit', '-S', '-q', '--allow-empty', '-m', 'g'], {
      SIGSTORE_ID_TOKEN: token,
      SIGNET_CACHE: 'false',
    }),
  );
  const before = await own.git(repo, ['verify-commit', 'HEAD']);
  assert.notEqual(before.status, 0);
  assert.match(
    before.stderr,
    /^signet: cannot verify: the signature is from a deployment the trusted root does not cover: .*; no signet\.server or signet\.trustedRoot was set, so the trusted root was the default, Sigstore public-good's .*: set signet\.server to the deployment that made it, or signet\.trustedRoot to its trusted root file$/m,
  );
  // gitsign's way to trust a private instance: initialize with its TUF repository.
  const init = await run(
    PROGRAM,
    ['initialize', '--mirror', `${stack.url}/tuf`, '--root', `${stack.url}/tuf/1.root.json`],
    repo,
    own.env,
  );
  assert.equal(init.status, 0, init.stderr);
  const after = await own.git(repo, ['verify-commit', 'HEAD']);
  assert.equal(after.status, 0, after.stderr);
  assert.match(after.stderr, /signet: Good signature from dev@signet\.local/);
  const gs = await run(PROGRAM, ['verify', ...who()], repo, own.env);
  assert.equal(gs.status, 0, gs.stderr);
  assert.match(gs.stdout, /^gitsign: Good signature from \[dev@signet\.local\]/m);
});

test('amend, merge, cherry-pick and revert re-sign as gitsign does; a range with a merge verifies commit by commit', async () => {
  const repo = world.repo('history');
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
  const env = { SIGSTORE_ID_TOKEN: token };
  const git = (args: string[]) => must(world.git(repo, args, env));
  const write = (name: string, text: string) => fs.writeFileSync(path.join(repo, name), text);
  write('a.txt', 'one\n');
  await git(['add', 'a.txt']);
  await git(['commit', '-q', '-m', 'first']);
  const base = (await git(['rev-parse', 'HEAD'])).stdout.trim();
  await git(['commit', '-q', '--amend', '-m', 'first, amended']);
  const amended = (await git(['rev-parse', 'HEAD'])).stdout.trim();
  assert.notEqual(amended, base);
  await git(['checkout', '-q', '-b', 'feature']);
  write('b.txt', 'feature\n');
  await git(['add', 'b.txt']);
  await git(['commit', '-q', '-m', 'feature']);
  await git(['checkout', '-q', 'main']);
  write('a.txt', 'two\n');
  await git(['commit', '-q', '-am', 'main moves on']);
  await git(['merge', '-q', '--no-ff', '-m', 'merge feature', 'feature']);
  const merge = (await git(['cat-file', 'commit', 'HEAD'])).stdout;
  assert.equal(merge.match(/^parent /gm)?.length, 2);
  assert.match(merge, /^gpgsig -----BEGIN SIGNED MESSAGE-----$/m);
  await git(['revert', '--no-edit', 'HEAD~1']);
  await git(['checkout', '-q', '-b', 'pick', amended]);
  await git(['cherry-pick', 'feature']);
  for (const rev of ['main', 'main~1', 'pick']) {
    const g = await world.git(repo, ['verify-commit', rev]);
    assert.equal(g.status, 0, `${rev}: ${g.stderr}`);
  }
  const range = await world.signet(repo, [
    'verify-commit',
    '--range',
    `${amended}..main`,
    ...who(),
  ]);
  assert.equal(range.status, 0, range.stdout + range.stderr);
  // feature, main moves on, the merge and the revert: each its own line.
  assert.equal(range.stdout.trim().split('\n').length, 4);
  assert.match(range.stderr, /^Verified OK: 4 commits in /m);
  // The amended-away commit still verifies on its own (its signature never changed).
  const old = await world.signet(repo, ['verify-commit', base, ...who()]);
  assert.equal(old.status, 0, old.stderr);
});
