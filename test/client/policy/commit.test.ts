// Policies over real git commits and tags: Debian's git signs through `signet git setup`
// against a running stack (alice and bob sign, one commit is unsigned), and the policy engine
// decides per commit by repository and ref, through the library and the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { agentRequest } from '../../../src/client/git/agent.ts';
import {
  decideCommits,
  loadPolicies,
  repositoryName,
  type Policy,
} from '../../../src/client/policy/index.ts';
import { gitWorld, must } from '../../git/helpers.ts';
import { stackToken } from '../../helpers/stack.ts';
import { policyStack } from './helpers.ts';

let S: Awaited<ReturnType<typeof policyStack>>;
const world = gitWorld();
let repo: string;
const ids: Record<string, string> = {};

async function commit(message: string, subject?: string) {
  fs.appendFileSync(path.join(repo, 'file.txt'), `${message}\n`);
  await must(world.git(repo, ['add', 'file.txt']));
  if (subject === undefined)
    await must(world.git(repo, ['commit', '-q', '--no-gpg-sign', '-m', message]));
  else
    await must(
      world.git(repo, ['commit', '-q', '-m', message], {
        SIGSTORE_ID_TOKEN: await stackToken(S.stack.url, subject),
      }),
    );
  ids[message] = (await world.git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
}

before(async () => {
  S = await policyStack();
  repo = world.repo();
  await must(world.signet(repo, ['git', 'setup', '--server', S.stack.url, '--no-cache']));
  await must(world.git(repo, ['remote', 'add', 'origin', 'git@github.com:acme/app.git']));
  await commit('by alice', 'alice@example.com');
  await commit('by bob', 'bob@example.com');
  await commit('unsigned');
  await must(
    world.git(repo, ['tag', '-s', '-m', 'release', 'v1.0.0'], {
      SIGSTORE_ID_TOKEN: await stackToken(S.stack.url, 'alice@example.com'),
    }),
  );
});
let stackClosed = false;
after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000).catch(() => {});
  if (!stackClosed) await S?.close();
});

async function load(commits: string, who = 'alice@example.com'): Promise<Policy[]> {
  const f = S.write(
    `c${Math.random().toString(36).slice(2)}.yaml`,
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: commits}\nspec:\n  commits: ${commits}\n  authorities:\n    - name: maintainers\n      keyless: {identities: [{subject: ${who}, issuer: "${S.issuer}"}]}\n`,
  );
  return loadPolicies([f], { defaultTrust: { root: S.root, label: 'stack' } });
}

test('repository names from remotes', () => {
  assert.equal(repositoryName('git@github.com:acme/app.git'), 'github.com/acme/app');
  assert.equal(repositoryName('https://github.com/acme/app.git'), 'github.com/acme/app');
  assert.equal(
    repositoryName('ssh://git@gitlab.example.com:2222/a/b'),
    'gitlab.example.com:2222/a/b',
  );
});

test('each commit of a range is decided by its signer; unsigned commits are denied', async () => {
  const p = await load('[{repository: "github.com/acme/*", ref: "refs/heads/main"}]');
  const ds = await decideCommits(p, { repoDir: repo, range: 'HEAD' });
  assert.deepEqual(
    ds.map((d) => d.target.slice(0, 'github.com/acme/app@'.length + 40)),
    [ids['by alice'], ids['by bob'], ids.unsigned].map((i) => `github.com/acme/app@${i}`),
  );
  assert.deepEqual(
    ds.map((d) => d.allowed),
    [true, false, false],
  );
  assert.match(ds[0]!.target, /\(refs\/heads\/main\)$/);
  assert.match(ds[1]!.policies[0]!.authorities[0]!.reasons[0]!, /bob@example\.com/);
  assert.match(ds[2]!.errors[0]!, /no signature was found/);
  // either maintainer
  const both = await load(`[{repository: "github.com/acme/app"}]`, '"bob@example.com"');
  assert.equal(
    (await decideCommits(both, { repoDir: repo, revision: ids['by bob']! })).at(0)!.allowed,
    true,
  );
});

test('repository and ref globs decide which policies apply', async () => {
  const other = await load('[{repository: "github.com/other/*"}]');
  const d = await decideCommits(other, { repoDir: repo, revision: ids['by alice']! });
  assert.equal(d[0]!.noMatch, true);
  const tags = await load('[{repository: "github.com/acme/app", ref: "refs/tags/v*"}]');
  assert.equal((await decideCommits(tags, { repoDir: repo, revision: 'main' }))[0]!.noMatch, true);
  const t = await decideCommits(tags, { repoDir: repo, tag: 'v1.0.0' });
  assert.equal(t[0]!.allowed, true, t[0]!.errors.join());
  assert.equal(t[0]!.noMatch, false);
  // --repository and --ref override what the repository says
  const named = await decideCommits(tags, {
    repoDir: repo,
    revision: 'main',
    ref: 'refs/tags/v2',
    repository: 'https://github.com/acme/app',
  });
  assert.equal(named[0]!.noMatch, false);
});

test('CLI: verify-commit --policy and policy verify --commits', async () => {
  S.write(
    'commits.yaml',
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: main-branch}\nspec:\n  commits: [{repository: "github.com/acme/app", ref: "refs/heads/*"}]\n  authorities:\n    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}\n`,
  );
  const policy = path.join(S.dir, 'commits.yaml');
  const ok = await world.signet(repo, [
    'verify-commit',
    '--policy',
    policy,
    ids['by alice']!,
    '--ref',
    'refs/heads/main',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /ALLOWED/);
  const range = await world.signet(repo, [
    'policy',
    'verify',
    '--policy',
    policy,
    '--trusted-root',
    path.join(S.dir, 'trusted_root.json'),
    '--commits',
    'HEAD',
    '-o',
    'json',
  ]);
  assert.equal(range.status, 1);
  const j = JSON.parse(range.stdout);
  assert.deepEqual(
    j.map((d: { allowed: boolean }) => d.allowed),
    [true, false, false],
  );
  assert.match(range.stderr, /policy "main-branch" fails/);
  const bad = await world.signet(repo, [
    'policy',
    'verify',
    '--policy',
    policy,
    '--trusted-root',
    path.join(S.dir, 'trusted_root.json'),
    '--commits',
    'nope..HEAD',
  ]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: .*"nope\.\.HEAD" is not a commit range/);
});

test('a tag is decided and named as a tag: verify-tag --policy, the decision, its JSON, CEL and a recorded case', async () => {
  const tags = await load('[{repository: "github.com/acme/app", ref: "refs/tags/v*"}]');
  const [d] = await decideCommits(tags, { repoDir: repo, tag: 'v1.0.0' });
  assert.equal(d!.kind, 'tag');
  // Denied: the maintainer is bob, and alice signed the tag.
  const policy = S.write(
    'tags.yaml',
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: releases}\nspec:\n  commits: [{repository: "github.com/acme/app", ref: "refs/tags/*"}]\n  authorities:\n    - keyless: {identities: [{subject: bob@example.com, issuer: "${S.issuer}"}]}\n`,
  );
  const tagId = (await must(world.git(repo, ['rev-parse', 'v1.0.0']))).stdout.trim();
  const r = await world.signet(repo, ['verify-tag', '--policy', policy, 'v1.0.0']);
  assert.equal(r.status, 1);
  assert.match(
    r.stdout,
    new RegExp(
      `^github\\.com/acme/app@${tagId} \\(refs/tags/v1\\.0\\.0\\) \\(tag\\): DENIED$`,
      'm',
    ),
  );
  assert.doesNotMatch(r.stdout + r.stderr, /\(commit\)|commit [0-9a-f]{12}/);
  assert.match(
    r.stdout,
    new RegExp(`alice@example\\.com.*tag ${tagId.slice(0, 12)}|tag ${tagId.slice(0, 12)}.*alice`),
  );
  // CEL conditions see artifact.kind "tag"; a recorded case replays as a tag.
  const cel = S.write(
    'tags-cel.yaml',
    fs
      .readFileSync(policy, 'utf8')
      .replace('bob@', 'alice@')
      .concat('  policy: {type: cel, data: \'artifact.kind == "tag"\'}\n'),
  );
  const recorded = path.join(S.dir, 'tag-case.json');
  const trust = ['--trusted-root', path.join(S.dir, 'trusted_root.json')];
  const j = await world.signet(repo, [
    'policy',
    'verify',
    '--policy',
    cel,
    ...trust,
    '--tag',
    'v1.0.0',
    '-o',
    'json',
    '--record',
    recorded,
  ]);
  assert.equal(j.status, 0, j.stderr + j.stdout);
  assert.equal(JSON.parse(j.stdout)[0].kind, 'tag');
  const replay = await world.signet(S.dir, ['policy', 'test', '--policy', cel, recorded]);
  assert.equal(replay.status, 0, replay.stderr + replay.stdout);
});

// Last: it stops the stack, to show the replay needs nothing but the case and the policy.
test('policy verify --record writes commit cases; policy test replays them offline and fails when the policy changes', async () => {
  const policy = S.write(
    'record-commits.yaml',
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: main-branch}\nspec:\n  commits: [{repository: "github.com/acme/app", ref: "refs/heads/*"}]\n  authorities:\n    - keyless: {identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]}\n`,
  );
  const range = path.join(S.dir, 'range-cases.json');
  const one = path.join(S.dir, 'alice-case.json');
  const trust = ['--trusted-root', path.join(S.dir, 'trusted_root.json')];
  const r = await world.signet(repo, [
    'policy',
    'verify',
    '--policy',
    policy,
    ...trust,
    '--commits',
    'HEAD',
    '--record',
    range,
  ]);
  assert.equal(r.status, 1, 'bob and the unsigned commit are denied');
  const cases = JSON.parse(fs.readFileSync(range, 'utf8'));
  assert.deepEqual(
    cases.map((c: { expect: string; artifact: { sha: string } }) => [c.artifact.sha, c.expect]),
    [
      [ids['by alice'], 'allow'],
      [ids['by bob'], 'deny'],
      [ids.unsigned, 'deny'],
    ],
  );
  // What was verified is in the case: the raw commit as git stores it, and the trusted root.
  const raw = (await world.git(repo, ['cat-file', 'commit', ids['by alice']!])).stdout;
  assert.equal(Buffer.from(cases[0].artifact.object, 'base64').toString('utf8'), raw);
  assert.equal(cases[0].artifact.ref, 'refs/heads/main');
  assert.equal(cases[0].trustedRoot.tlogs.length > 0, true);
  const a = await world.signet(repo, [
    'policy',
    'verify',
    '--policy',
    policy,
    ...trust,
    '--commits',
    ids['by alice']!,
    '--ref',
    'refs/heads/main',
    '--record',
    one,
  ]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(JSON.parse(fs.readFileSync(one, 'utf8')).expect, 'allow');

  // Offline: the stack is gone, no trust flags; cases and policy are all there is.
  await S.close();
  stackClosed = true;
  const replay = await world.signet(S.dir, ['policy', 'test', '--policy', policy, range, one]);
  assert.equal(replay.status, 0, replay.stderr + replay.stdout);
  assert.equal(replay.stdout.match(/^ok /gm)?.length, 4);
  assert.match(
    replay.stdout,
    /ok github\.com\/acme\/app@[0-9a-f]{40} \(refs\/heads\/main\): allowed \(expected allow\)/,
  );

  // The policy changes (bob instead of alice): the recorded decisions no longer hold.
  const changed = S.write(
    'record-commits-bob.yaml',
    fs.readFileSync(policy, 'utf8').replace('alice@', 'bob@'),
  );
  const broken = await world.signet(S.dir, ['policy', 'test', '--policy', changed, range]);
  assert.equal(broken.status, 1);
  assert.equal(broken.stdout.match(/^FAIL /gm)?.length, 2, broken.stdout);
  assert.match(broken.stderr, /2 of 3 cases did not get the expected decision/);

  // A case whose commit was changed is refused when read, naming the field.
  const tampered = JSON.parse(fs.readFileSync(one, 'utf8'));
  tampered.artifact.object = Buffer.from(raw.replace('by alice', 'by mallory')).toString('base64');
  fs.writeFileSync(path.join(S.dir, 'tampered.json'), JSON.stringify(tampered));
  const t = await world.signet(S.dir, ['policy', 'test', '--policy', policy, 'tampered.json']);
  assert.equal(t.status, 1);
  assert.match(
    t.stderr,
    /^error: tampered\.json: artifact\.object.*is not the recorded commit: its object ID is [0-9a-f]{40}, not/m,
  );
});
