/**
 * `--compare FILE|URL`: a tree head of the log seen elsewhere (a witness, a file) must agree
 * with the one the log shows, which is what catches a split view. A source that holds no tree
 * head of any log followed (not a checkpoint, another log's, the wrong file) compared nothing:
 * that is an error naming it (exit 1), never a silent pass. A URL that answers 404 (a witness
 * that has not seen the log yet) is a warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort as closedPort } from '../../helpers/ports.ts';
import { monitorCli, watchedStack } from './watched-stack.ts';

const cli = (args: string[]) => monitorCli(['--once', ...args]);

const events = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.level !== 'info');

test('--compare: a source with no tree head of a followed log is an error naming it; a 404 a warning; the log’s own checkpoint agrees', async () => {
  const a = await watchedStack('signet-compare-a-');
  const b = await watchedStack('signet-compare-b-');
  try {
    const own = path.join(a.dir, 'own.txt');
    fs.writeFileSync(own, await (await fetch(`${a.shard}/checkpoint`)).text());
    const otherLog = path.join(a.dir, 'other-log.txt');
    fs.writeFileSync(otherLog, await (await fetch(`${b.shard}/checkpoint`)).text());
    const garbage = path.join(a.dir, 'garbage.txt');
    fs.writeFileSync(garbage, 'not a checkpoint\n');
    let n = 0;
    const run = (compare: string) =>
      cli([
        '--trusted-root',
        a.rootFile,
        '--state',
        path.join(a.dir, `state-${n++}.json`),
        '--compare',
        compare,
      ]);

    // Both logs followed: the CT log has no signed note to compare, the transparency log agrees.
    const agrees = await run(own);
    assert.equal(agrees.status, 0, agrees.stderr);
    assert.deepEqual(events(agrees.stderr), []);

    for (const [source, reason] of [
      [garbage, /is not a tree head of a log followed/],
      [otherLog, /is not a tree head of a log followed/],
    ] as const) {
      const r = await run(source);
      assert.equal(r.status, 1, `${source}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      const e = events(r.stderr);
      assert.equal(e.length, 1, r.stderr);
      assert.equal(e[0]!.level, 'error');
      assert.equal(e[0]!.compare, source);
      assert.match(String(e[0]!.error), reason);
    }

    // The log whose checkpoint it is cannot be read: that log's error is the news; the source
    // was not compared with it, so it is not called another log's.
    const down = await closedPort();
    const unread = await cli([
      '--trusted-root',
      a.rootFile,
      '--state',
      path.join(a.dir, 'unread.json'),
      '--compare',
      own,
      '--read-from',
      `${a.shard}=http://127.0.0.1:${down}`,
    ]);
    assert.equal(unread.status, 1, unread.stderr);
    assert.deepEqual(
      events(unread.stderr).map((e) => [e.level, e.log ?? e.compare]),
      [['error', a.shard]],
    );

    const missing = `${a.stack.url}/no-such-checkpoint`;
    const notYet = await run(missing);
    assert.equal(notYet.status, 0, notYet.stderr);
    const w = events(notYet.stderr);
    assert.deepEqual(
      w.map((e) => [e.level, e.compare]),
      [['warn', missing]],
    );
    assert.match(String(w[0]!.message), /404/);
  } finally {
    await a.stack.close();
    await b.stack.close();
  }
});
