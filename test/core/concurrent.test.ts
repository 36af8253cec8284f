import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimited } from '../../src/core/concurrent.ts';

test('mapLimited: results in the order of the items whatever order the calls finish in', async () => {
  const items = [40, 5, 30, 1, 20, 10];
  const finished: number[] = [];
  const out = await mapLimited(items, 3, async (ms, i) => {
    await sleep(ms);
    finished.push(i);
    return ms * 2;
  });
  assert.deepEqual(out, [80, 10, 60, 2, 40, 20]);
  assert.notDeepEqual(finished, [0, 1, 2, 3, 4, 5], 'the calls did finish out of order');
});

test('mapLimited: never more than `limit` calls in flight, and every item called once', async () => {
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  await mapLimited(
    Array.from({ length: 20 }, (_, i) => i),
    4,
    async (i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      seen.push(i);
      await sleep(i % 3);
      inFlight--;
    },
  );
  assert.equal(most, 4);
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test('mapLimited: the first rejection rejects the whole; no items means no calls', async () => {
  await assert.rejects(
    mapLimited([1, 2, 3], 2, async (x) => {
      if (x === 2) throw new Error('two failed');
      return x;
    }),
    /two failed/,
  );
  let calls = 0;
  assert.deepEqual(
    await mapLimited([], 4, async () => {
      calls++;
    }),
    [],
  );
  assert.equal(calls, 0);
});
