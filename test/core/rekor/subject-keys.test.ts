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
      gitCommit: hex(40),
      'sha256\u0000': hex(64),
      sha512: `${hex(126)}\u0000`,
      sha384: hex(94),
      '\ud800': '\udc00',
      toString: hex(64),
    }),
    [],
  );
});
