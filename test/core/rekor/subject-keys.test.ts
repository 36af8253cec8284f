import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intotoSubjectKeys } from '../../../src/core/rekor/subject-keys.ts';

const TYPE = 'application/vnd.in-toto+json';
const keysOf = (digest: Record<string, unknown>) =>
  intotoSubjectKeys(
    TYPE,
    new TextEncoder().encode(
      JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest }] }),
    ),
  );

test("a subject's digest is a search key only as a digest a hash search takes", () => {
  const hex = (n: number) => 'aB'.repeat(n / 2);
  assert.deepEqual(keysOf({ sha1: hex(40), SHA256: hex(64), sha384: hex(96), sha512: hex(128) }), [
    `sha1:${'ab'.repeat(20)}`,
    `sha256:${'ab'.repeat(32)}`,
    `sha384:${'ab'.repeat(48)}`,
    `sha512:${'ab'.repeat(64)}`,
  ]);
  // Anyone's JSON: never another kind of key (an identity, a key fingerprint, the index mark),
  // never text a store cannot hold, never a digest of the wrong length.
  assert.deepEqual(
    keysOf({
      identity: 'victim@example.com',
      key: hex(64),
      cert: hex(64),
      signet: 'search-index:2',
      gitTree: hex(40),
      'sha256\u0000': hex(64),
      sha512: `${hex(126)}\u0000`,
      sha384: hex(94),
      '\ud800': '\udc00',
      toString: hex(64),
    }),
    [],
  );
});

test("a subject's git commit ID is a search key: gitcommit:<hex>, 40 hex digits or 64 (SHA-256 repositories)", () => {
  const sha1 = 'aB'.repeat(20);
  const sha256 = 'Cd'.repeat(32);
  assert.deepEqual(keysOf({ gitCommit: sha1 }), [`gitcommit:${'ab'.repeat(20)}`]);
  assert.deepEqual(keysOf({ gitCommit: sha256 }), [`gitcommit:${'cd'.repeat(32)}`]);
  // Beside the file digests of the same subject; the name in any case, as hash names are.
  assert.deepEqual(keysOf({ sha256, GITCOMMIT: sha1 }), [
    `sha256:${'cd'.repeat(32)}`,
    `gitcommit:${'ab'.repeat(20)}`,
  ]);
  // Not a commit ID: an abbreviated one, another length, not hex, a NUL, not a string.
  for (const v of ['abc1234', 'ab'.repeat(24), `${'g'.repeat(40)}`, `${sha1}\u0000`, ` ${sha1}`])
    assert.deepEqual(keysOf({ gitCommit: v }), [], v);
  assert.deepEqual(keysOf({ gitCommit: [sha1] }), []);
  assert.deepEqual(keysOf({ 'gitCommit\u0000': sha1 }), []);
});
