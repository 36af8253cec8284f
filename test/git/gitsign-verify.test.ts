/**
 * Verifying the way a gitsign user does (gitsign internal/commands/verify, verify-tag, root;
 * pkg/git/verify.go), with Debian's real git against a whole stack on loopback: what git's own
 * commands accept, `signet verify-commit` and gitsign's command names accept too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempStack, stackToken } from '../helpers/stack.ts';
import { agentRequest } from '../../src/client/git/agent.ts';
import { gitWorld, must, PROGRAM, run } from './helpers.ts';

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
