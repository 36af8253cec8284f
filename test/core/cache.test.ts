import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BytesMap } from '../../src/core/cache.ts';

const b = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

test('BytesMap is keyed by the exact bytes: parts cannot run together, every byte counts', () => {
  const m = new BytesMap<number>(10);
  m.set([b('ab'), b('c')], 1);
  assert.equal(m.get([b('ab'), b('c')]), 1);
  assert.equal(m.get([b('a'), b('bc')]), undefined);
  assert.equal(m.get([b('ab'), b('c'), b('')]), undefined);
  m.set([b('\x00\xff')], 2);
  assert.equal(m.get([b('\x00\xfe')]), undefined);
  // a view of a larger buffer keys by its own bytes only
  const big = b('xx\x00\xffyy');
  assert.equal(m.get([big.subarray(2, 4)]), 2);
});

test('BytesMap: inputs that share a fingerprint (same lengths and tails) still need every byte equal', () => {
  const tail = 'T'.repeat(40);
  const m = new BytesMap<string>(10);
  m.set([b(`one${tail}`)], 'one');
  m.set([b(`two${tail}`)], 'two');
  assert.equal(m.get([b(`one${tail}`)]), 'one');
  assert.equal(m.get([b(`two${tail}`)]), 'two');
  assert.equal(m.get([b(`six${tail}`)]), undefined);
});

test('BytesMap keeps its own copy of a key: changing the array afterwards does not move the entry', () => {
  const m = new BytesMap<number>(10);
  const k = b('abc');
  m.set([k], 1);
  k[0] = 0x78; // now "xbc"
  assert.equal(m.get([k]), undefined);
  assert.equal(m.get([b('abc')]), 1);
});

test('BytesMap forgets its oldest entry beyond its size', () => {
  const m = new BytesMap<number>(2);
  m.set([b('a')], 1)
    .set([b('b')], 2)
    .set([b('a')], 3); // updating does not evict
  assert.equal(m.size, 2);
  assert.equal(m.get([b('a')]), 3);
  m.set([b('c')], 4);
  assert.equal(m.size, 2);
  assert.equal(m.get([b('a')]), undefined);
  assert.equal(m.get([b('b')]), 2);
  assert.equal(m.get([b('c')]), 4);
  // forgetting one entry of a shared fingerprint keeps the others
  const tail = 'T'.repeat(40);
  const s = new BytesMap<number>(2);
  s.set([b(`1${tail}`)], 1)
    .set([b(`2${tail}`)], 2)
    .set([b(`3${tail}`)], 3);
  assert.deepEqual(
    [1, 2, 3].map((i) => s.get([b(`${i}${tail}`)])),
    [undefined, 2, 3],
  );
});
