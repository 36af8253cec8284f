import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchedPerTurn } from '../../../src/services/http/turn-batch.ts';

test('batchedPerTurn: the items of one turn run together after it, in order, each with its own result', async () => {
  const calls: string[] = [];
  const run = batchedPerTurn((s: string) => {
    calls.push(s);
    return s.toUpperCase();
  });
  const results = [run('a'), run('b'), run('c')];
  await Promise.resolve(); // microtasks of this turn: still nothing run
  assert.deepEqual(calls, []);
  assert.deepEqual(await Promise.all(results), ['A', 'B', 'C']);
  assert.deepEqual(calls, ['a', 'b', 'c']);
  // A later turn makes a batch of its own.
  assert.equal(await run('d'), 'D');
  assert.deepEqual(calls, ['a', 'b', 'c', 'd']);
});

test('batchedPerTurn: a failing item rejects only its own caller', async () => {
  const run = batchedPerTurn((n: number) => {
    if (n === 2) throw new Error('item 2 is bad');
    return n * 10;
  });
  const [one, two, three] = await Promise.allSettled([run(1), run(2), run(3)]);
  assert.deepEqual(one, { status: 'fulfilled', value: 10 });
  assert.equal(two?.status, 'rejected');
  assert.match(String((two as PromiseRejectedResult).reason), /item 2 is bad/);
  assert.deepEqual(three, { status: 'fulfilled', value: 30 });
});
