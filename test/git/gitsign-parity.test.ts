/**
 * What a gitsign user brings along (gitsign's README, internal/config/config.go): gitsign's git
 * config keys and environment variables, its verify flags and its program flags, with Debian's
 * real git against a whole stack on loopback. Each must do what it does in gitsign, or be
 * refused with a reason, never be silently dropped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempStack, stackToken } from '../helpers/stack.ts';
import { agentRequest } from '../../src/client/git/agent.ts';
import { gitWorld, must } from './helpers.ts';

let stack: Awaited<ReturnType<typeof tempStack>>;
let token: string;
const world = gitWorld();
let repo: string;

before(async () => {
  stack = await tempStack();
  token = await stackToken(stack.url, 'dev@signet.local');
  repo = world.repo();
  await must(world.signet(repo, ['git', 'setup', '--server', stack.url]));
});

after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000);
  await stack.close();
});

const ALICE = { GIT_COMMITTER_EMAIL: 'alice@example.com' };
const commit = (message: string, env: Record<string, string> = {}) =>
  world.git(repo, ['commit', '-q', '--allow-empty', '-m', message], env);
const lastLogLine = (file = world.log) => fs.readFileSync(file, 'utf8').trim().split('\n').at(-1)!;
const treeSize = async () =>
  ((await (await fetch(`${stack.url}/rekor/api/v1/log`)).json()) as { treeSize: number }).treeSize;

test('gitsign.matchCommitter: a certificate for someone else than the committer signs nothing', async () => {
  await must(world.git(repo, ['config', 'gitsign.matchCommitter', 'true']));
  const size = await treeSize();
  // A sign-in as dev@signet.local while git records alice@example.com as the committer.
  const r = await commit('as alice', { ...ALICE, SIGSTORE_ID_TOKEN: token });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /gpg failed to sign the data/);
  assert.match(
    lastLogLine(),
    /^\S+ signet: cannot sign: matchCommitter: the certificate is for dev@signet\.local, not the committer Dev <alice@example\.com>; /,
  );
  assert.equal(await treeSize(), size, 'a refused signature leaves no log entry');
  // Nor a cached credential: without a token, nothing can sign for dev either.
  assert.notEqual((await commit('as dev, no token')).status, 0);
  assert.match(lastLogLine(), /cannot sign: no identity token found/);

  // The committer it names signs (and the credential cache keeps the certificate) ...
  await must(commit('as dev', { SIGSTORE_ID_TOKEN: token }));
  assert.equal(await treeSize(), size + 1);
  // ... and the cache refuses it for another committer, again before anything is logged.
  const c = await commit('as alice, cached', ALICE);
  assert.notEqual(c.status, 0);
  assert.match(lastLogLine(), /cannot sign: matchCommitter: .* not the committer Dev <alice@/);
  assert.equal(await treeSize(), size + 1);

  // Signet's own name wins over gitsign's; a value that is not a boolean is refused by name.
  await must(world.git(repo, ['config', 'signet.matchCommitter', 'false']));
  await must(commit('as alice, allowed', ALICE));
  await must(world.git(repo, ['config', 'signet.matchCommitter', 'maybe']));
  assert.notEqual((await commit('bad setting')).status, 0);
  assert.match(lastLogLine(), /signet\.matchCommitter: "maybe" is not true or false$/);
  await must(world.git(repo, ['config', '--unset', 'signet.matchCommitter']));
  await must(world.git(repo, ['config', '--unset', 'gitsign.matchCommitter']));
});

test("gitsign's log settings (GITSIGN_LOG, gitsign.logPath) receive the failure line", async () => {
  const bad = { SIGNET_GIT_LOG: '', SIGNET_CACHE: 'false' }; // no token, no cache: fails
  const envLog = path.join(world.dir, 'gitsign-env.log');
  assert.notEqual((await commit('x', { ...bad, GITSIGN_LOG: envLog })).status, 0);
  assert.match(lastLogLine(envLog), /signet: cannot sign: no identity token found/);
  const cfgLog = path.join(world.dir, 'gitsign-config.log');
  await must(world.git(repo, ['config', 'gitsign.logPath', cfgLog]));
  assert.notEqual((await commit('x', bad)).status, 0);
  assert.match(lastLogLine(cfgLog), /signet: cannot sign: no identity token found/);
  await must(world.git(repo, ['config', '--unset', 'gitsign.logPath']));
});
