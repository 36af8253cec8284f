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
after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000).catch(() => {});
  await S?.close();
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
