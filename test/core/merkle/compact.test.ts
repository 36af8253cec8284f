import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leafHash } from '../../../src/core/merkle/hash.ts';
import { consistencyProof, rootOf } from '../../../src/core/merkle/tree.ts';
import {
  CompactRange,
  compactRangeAt,
  compactRangeFromProof,
} from '../../../src/core/merkle/compact.ts';

const leaves = Array.from({ length: 70 }, (_, i) => leafHash(new TextEncoder().encode(`l${i}`)));

test('appending leaves to a compact range gives the RFC 6962 root at every size', () => {
  const r = new CompactRange();
  assert.deepEqual(r.root(), rootOf([]));
  for (let n = 1; n <= leaves.length; n++) {
    r.append(leaves[n - 1]!);
    assert.deepEqual(r.root(), rootOf(leaves.slice(0, n)), `size ${n}`);
    assert.equal(r.size, n);
  }
});

test('the compact range read from a consistency proof continues to the new root', () => {
  for (let from = 1; from < 40; from++)
    for (const to of [from + 1, from + 7, 64, 70].filter((t) => t > from)) {
      const proof = consistencyProof(leaves, from, to);
      const r = compactRangeAt(from, to, proof, rootOf(leaves.slice(0, from)));
      assert.deepEqual(r.root(), rootOf(leaves.slice(0, from)), `${from}->${to}`);
      for (let i = from; i < to; i++) r.append(leaves[i]!);
      assert.deepEqual(r.root(), rootOf(leaves.slice(0, to)), `${from}->${to}`);
    }
  // A tampered proof yields a range that does not reach the signed root.
  const proof = consistencyProof(leaves, 6, 20);
  proof[0] = leaves[0]!;
  const r = compactRangeFromProof(6, 20, proof);
  for (let i = 6; i < 20; i++) r.append(leaves[i]!);
  assert.notDeepEqual(r.root(), rootOf(leaves.slice(0, 20)));
  assert.throws(
    () => compactRangeFromProof(8, 20, consistencyProof(leaves, 8, 20)),
    /power-of-two/,
  );
  assert.throws(() => compactRangeFromProof(6, 20, []), /empty/);
  assert.throws(() => new CompactRange(3, [leaves[0]!]), /has 2 hashes/);
});
