/**
 * `endIndex` as rekor-monitor takes it (mon:internal/cmd/common.go MonitorLoop): the last
 * index searched, inclusive. One the log has not reached is not cut to the tree size: rekor-monitor's
 * search fails on it and the run ends, so the monitor stops with one line naming the index, the log
 * and its tree size, with --once and polling alike. A run given an endIndex ends once the range is
 * read, polling or not (rekor-monitor returns after that run), with --once's exit code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { monitorCli, watchedStack } from './watched-stack.ts';

// a polling run that does not end is killed here, which fails the test
const cli = (args: string[]) => monitorCli(args, 30_000);

test('an endIndex beyond the tree: one line naming it and the tree size, exit 1, in one pass or polling; a polling run ends at its endIndex', async () => {
  const { stack, dir, rootFile, shard } = await watchedStack('signet-end-index-');
  try {
    const size = Number((await (await fetch(`${shard}/checkpoint`)).text()).split('\n')[1]);
    assert.ok(size >= 1, `tree size ${size}`);
    const watch = (end: number) =>
      `startIndex: 0\nendIndex: ${end}\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n`;
    const state = path.join(dir, 'state.json');
    const base = ['--trusted-root', rootFile, '--url', shard, '--state', state];

    // The tree size is one past the last entry: already beyond.
    for (const end of [size, size + 5])
      for (const once of ['--once', '--once=false']) {
        const r = await cli([...base, once, '--interval', '1', '--config', watch(end)]);
        assert.equal(r.status, 1, `${end} ${once}: ${r.stderr}`);
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('error'));
        assert.deepEqual(
          errors,
          [
            `error: endIndex: ${end} is beyond the end of ${shard}, whose tree size is ${size} (endIndex may be at most ${size - 1}, the index of its last entry)`,
          ],
          `${end} ${once}`,
        );
        assert.equal(r.stdout, '', `${end} ${once}`);
      }

    // The refused runs stored no start: the last entry itself is read, and a polling run stops
    // there with --once's code (2: the identity matched).
    const polling = await cli([
      ...base,
      '--once=false',
      '--interval',
      '1',
      '--config',
      watch(size - 1),
    ]);
    assert.equal(polling.status, 2, polling.stderr);
    assert.equal(polling.stdout.trim().split('\n').length, 1, polling.stdout);

    // Without a startIndex the first run starts at the log's head, past any endIndex the log has
    // reached: nothing is read, which is said (rekor-monitor too says it only saved the head).
    const noStart = await cli([
      '--trusted-root',
      rootFile,
      '--url',
      shard,
      '--state',
      path.join(dir, 'no-start.json'),
      '--once',
      '--config',
      `endIndex: ${size - 1}\nmonitoredValues:\n  subjects: [dev@signet\\.local]\n`,
    ]);
    assert.equal(noStart.status, 0, noStart.stderr);
    assert.equal(noStart.stdout, '');
    const warnings = noStart.stderr
      .split('\n')
      .filter((l) => l.includes('"warn"'))
      .map((l) => JSON.parse(l) as { message: string });
    assert.equal(warnings.length, 1, noStart.stderr);
    assert.equal(
      warnings[0]!.message,
      `endIndex ${size - 1} is before the log's size ${size}, where reading starts without a startIndex: nothing is read (give startIndex)`,
    );
  } finally {
    await stack.close();
  }
});
