/**
 * A `startIndex` past the end of a followed log is a mistake in the config: the monitor stops
 * with one line naming the index, the log and its tree size (as rekor-monitor refuses a start
 * after the end), instead of waiting, polling after polling, for the log to grow that far. The
 * log's size itself, the index of its next entry, is a valid start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { monitorCli, watchedStack } from './watched-stack.ts';

// without the fix, the polling run never ends: killed here, it fails the test
const cli = (args: string[]) => monitorCli(args, 30_000);

test('a startIndex beyond the tree: one line naming it and the tree size, exit 1, in one pass or polling; the tree size itself is accepted', async () => {
  const { stack, dir, rootFile, shard } = await watchedStack('signet-start-index-');
  try {
    const size = Number((await (await fetch(`${shard}/checkpoint`)).text()).split('\n')[1]);
    assert.ok(size >= 1, `tree size ${size}`);
    const watch = (start: number) =>
      `startIndex: ${start}\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n`;
    const state = path.join(dir, 'state.json');
    const base = ['--trusted-root', rootFile, '--url', shard, '--state', state];
    const expected = `error: startIndex: ${size + 5} is beyond the end of ${shard}, whose tree size is ${size} (startIndex may be at most ${size}, the index of its next entry)`;

    for (const once of ['--once', '--once=false']) {
      const r = await cli([...base, once, '--interval', '1', '--config', watch(size + 5)]);
      assert.equal(r.status, 1, `${once}: ${r.stderr}`);
      // the head verified (a progress line), then the one error line
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error'));
      assert.deepEqual(errors, [expected], once);
      assert.equal(r.stdout, '', once);
    }
    // The refused runs stored no start: the same state with a start inside the log reads from
    // there and finds the entry.
    const fixed = await cli([...base, '--once', '--config', watch(0)]);
    assert.equal(fixed.status, 2, fixed.stderr);
    assert.equal(fixed.stdout.trim().split('\n').length, 1, fixed.stdout);
    // The size itself: the next entry, nothing to read yet.
    const atEnd = await cli([
      '--trusted-root',
      rootFile,
      '--url',
      shard,
      '--state',
      path.join(dir, 'at-end.json'),
      '--once',
      '--config',
      watch(size),
    ]);
    assert.equal(atEnd.status, 0, atEnd.stderr);
    assert.equal(atEnd.stdout, '');
  } finally {
    await stack.close();
  }
});
