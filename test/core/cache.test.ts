import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMap, exactKey } from '../../src/core/cache.ts';

const b = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

test('exactKey is the exact bytes: parts cannot run together, every byte counts', () => {
  assert.notEqual(exactKey([b('ab'), b('c')]), exactKey([b('a'), b('bc')]));
  assert.notEqual(exactKey([b('ab')]), exactKey([b('ab'), b('')]));
  assert.notEqual(exactKey([b('\x00\xff')]), exactKey([b('\x00\xfe')]));
  // a view of a larger buffer keys by its own bytes only
  const big = b('xxabyy');
  assert.equal(exactKey([big.subarray(2, 4)]), exactKey([b('ab')]));
});

test('BoundedMap forgets its oldest entry beyond its size', () => {
  const m = new BoundedMap<string, number>(2);
  m.set('a', 1).set('b', 2).set('a', 3); // updating does not evict
  assert.deepEqual(
    [...m],
    [
      ['a', 3],
      ['b', 2],
    ],
  );
  m.set('c', 4);
  assert.deepEqual([...m.keys()], ['b', 'c']);
  assert.equal(m.size, 2);
});
