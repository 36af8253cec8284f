/**
 * Data tiles of a static-ct-api log (c2sp.org/static-ct-api), read strictly: every malformed
 * entry is a one-line error naming the entry, never a partial read. The bytes are written by
 * hand from the spec's TileLeaf structure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDataTile, leafIndexOf } from '../../../src/core/ct/static-ct.ts';
import { SignetError } from '../../../src/core/errors.ts';

const u = (value: number, bytes: number) =>
  Uint8Array.from({ length: bytes }, (_, i) => Math.floor(value / 256 ** (bytes - 1 - i)) % 256);
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const vec = (b: Uint8Array, lenBytes: number) => cat(u(b.length, lenBytes), b);
const index = (i: number) => vec(cat(u(0, 1), vec(u(i, 5), 2)), 2);

const x509 = (i: number, fingerprints = new Uint8Array(32)) =>
  cat(
    u(1_700_000_000_000, 8),
    u(0, 2),
    vec(Uint8Array.of(0x30, 0), 3),
    index(i),
    vec(fingerprints, 2),
  );
const precert = (i: number) =>
  cat(
    u(1_700_000_000_000, 8),
    u(1, 2),
    new Uint8Array(32).fill(7),
    vec(Uint8Array.of(0x30, 1, 2), 3),
    index(i),
    vec(Uint8Array.of(0x30, 0), 3),
    vec(new Uint8Array(64), 2),
  );

test('data tile entries become their MerkleTreeLeaf, with leaf index, precertificate and chain', () => {
  const [a, b] = decodeDataTile(cat(x509(0), precert(1)), 'tile');
  // MerkleTreeLeaf: version 0, timestamped_entry 0, then the TimestampedEntry as stored.
  assert.deepEqual(a!.leaf, cat(Uint8Array.of(0, 0), x509(0).subarray(0, x509(0).length - 34)));
  assert.equal(a!.leafIndex, 0);
  assert.equal(a!.precertificate, undefined);
  assert.equal(a!.chain.length, 1);
  assert.equal(b!.leafIndex, 1);
  assert.deepEqual(b!.precertificate, Uint8Array.of(0x30, 0));
  assert.equal(b!.chain.length, 2);
  assert.deepEqual(b!.leaf.subarray(0, 2), Uint8Array.of(0, 0));
  assert.equal(b!.leaf.length, 2 + 8 + 2 + 32 + 3 + 3 + 2 + 8);
});

test('malformed data tiles are refused with the entry named', () => {
  const fails = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(
      () => decodeDataTile(bytes, 'tile'),
      (e: unknown) => e instanceof SignetError && re.test(e.message) && !e.message.includes('\n'),
    );
  fails(cat(x509(0), Uint8Array.of(1)), /truncated/);
  fails(x509(0).subarray(0, 20), /truncated/);
  fails(cat(u(1, 8), u(2, 2)), /tile\[0\].*entry type 2/);
  fails(cat(x509(0), x509(1, new Uint8Array(31))), /tile\[1\].*fingerprint that is not 32 bytes/);
  assert.throws(() => leafIndexOf(cat(u(0, 1), vec(u(1, 4), 2)), 'ext'), /not 5 bytes/);
  assert.throws(
    () => leafIndexOf(cat(u(0, 1), vec(u(1, 5), 2), u(0, 1), vec(u(2, 5), 2)), 'ext'),
    /two leaf_index/,
  );
  assert.equal(leafIndexOf(new Uint8Array(0), 'ext'), undefined);
  assert.equal(
    leafIndexOf(cat(u(9, 1), vec(u(1, 3), 2), u(0, 1), vec(u(2 ** 39, 5), 2)), 'ext'),
    2 ** 39,
  );
});
