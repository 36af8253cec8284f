/**
 * The README's "Sign your commits" section, run as written: its shell blocks in a new
 * repository with Debian's git, against a stack on a free port instead of 8420 (the only
 * liberty taken, as in test/readme.test.ts), in an isolated git world.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempStack } from '../helpers/stack.ts';
import { agentRequest } from '../../src/client/git/agent.ts';
import { gitWorld, run } from './helpers.ts';

let stack: Awaited<ReturnType<typeof tempStack>>;
const world = gitWorld();

before(async () => {
  stack = await tempStack();
});

after(async () => {
  await agentRequest(world.socket, { op: 'stop' }, 2000);
  await stack.close();
});

/** The shell blocks of the README section under `heading`, in order, comments kept. */
function blocksOf(heading: string): string[] {
  const readme = fs.readFileSync('README.md', 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has no section "${heading}"`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test('README "Sign your commits": every command as written succeeds and says what the README says', async () => {
  const blocks = blocksOf('Sign your commits');
  assert.equal(blocks.length, 2);
  const repo = path.join(world.dir, 'your-repository');
  fs.mkdirSync(repo);
  const script = blocks
    .join('\n')
    .replaceAll('http://127.0.0.1:8420', stack.url)
    .replace('cd /path/to/your/repository', `cd ${repo} && git init -q -b main`);
  assert.doesNotMatch(script, /8420|\/path\/to/);
  const r = await run(
    'bash',
    ['-e', '-o', 'pipefail', '-c', script],
    path.resolve('.'),
    // The README's user has a terminal; here the sign-in comes from the token it exports.
    { ...world.env, SIGNET_SIGN_IN: 'never' },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = r.stdout + r.stderr;
  for (const expected of [
    /^gpg\.x509\.program=\S+\/bin\/signet-gitsign$/m,
    /^signet\.server=/m,
    /^signet: Good signature from dev@signet\.local /m, // git verify-commit, as the README says
    /^Verified OK: commit [0-9a-f]{40} signed by dev@signet\.local/m,
    /^[0-9a-f]{40} OK signed by dev@signet\.local/m,
    /^Verified OK: 1 commit in HEAD~1\.\.HEAD$/m,
    /^Verified OK: tag v1\.0 /m,
  ])
    assert.match(out, expected);
});
