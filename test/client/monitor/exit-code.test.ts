/**
 * `signet monitor --once` exit codes when several things happen in one pass: a log that could
 * not be checked (1) wins over an identity matched in another log (2), whose alert is printed
 * all the same; a misbehaving log (3) wins over both. (README "Watch the log for your identity".)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePort as closedPort } from '../../helpers/ports.ts';
import { monitorCli, watchedStack } from './watched-stack.ts';
import { onceExitCode } from '../../../src/cli/commands/monitor.ts';

const cli = (args: string[]) => monitorCli(['--once', ...args]);

test('an unreachable log wins over an identity match in another log: exit 1, and the match is printed', async () => {
  const { stack, dir, rootFile, shard, ctlog } = await watchedStack('signet-monitor-exit-');
  try {
    const config =
      'startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n';
    const base = ['--trusted-root', rootFile, '--config', config, '--log', shard, '--log', ctlog];

    // Both logs answer: the entry and its precertificate match.
    const both = await cli([...base, '--state', path.join(dir, 'both.json')]);
    assert.equal(both.status, 2, both.stderr);
    assert.equal(both.stdout.trim().split('\n').length, 2, both.stdout);

    // The CT log does not answer: the transparency log's match is printed, and the exit says
    // that a log went unchecked.
    const down = `http://127.0.0.1:${await closedPort()}`;
    const one = await cli([
      ...base,
      '--state',
      path.join(dir, 'one.json'),
      '--read-from',
      `${ctlog}=${down}`,
    ]);
    assert.equal(one.status, 1, one.stderr);
    const alerts = one.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; log: string });
    assert.deepEqual(
      alerts.map((a) => [a.type, a.log]),
      [['identity', shard]],
    );
    assert.match(one.stderr, /"level":"error"/);

    // A state file in a folder that does not exist: one line naming --state, before any log.
    const nowhere = await cli([...base, '--state', path.join(dir, 'no', 'such', 'state.json')]);
    assert.equal(nowhere.status, 1);
    assert.equal(nowhere.stdout, '');
    assert.match(
      nowhere.stderr,
      /^error: --state: cannot be written: .*\/no\/such does not exist; check the path\n$/,
    );
  } finally {
    await stack.close();
  }
});

test('onceExitCode: 3 a misbehaving log, else 1 an unchecked log, else 2 a match, else 0', () => {
  const r = (problems: number, errors: number, matched: number) =>
    onceExitCode({ problems, errors, matched, entries: 0 });
  assert.equal(r(1, 1, 1), 3);
  assert.equal(r(1, 0, 1), 3);
  assert.equal(r(0, 1, 1), 1);
  assert.equal(r(0, 1, 0), 1);
  assert.equal(r(0, 0, 1), 2);
  assert.equal(r(0, 0, 0), 0);
});
