/**
 * The explorer's bundle check (cli/explorer-check.ts) on a bundle signed with a public key:
 * the page has no key to check it with, so the answer says which command does. Offline: the
 * conformance suite's key-signed public-good bundle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { explorerBundleCheck } from '../../src/cli/explorer-check.ts';

const C = path.resolve('test/fixtures/conformance');

test('a key-signed bundle: the answer names the command that checks it with the key', async () => {
  const answer = await explorerBundleCheck({
    bundle: fs.readFileSync(
      path.join(C, 'bundle-verify/managed-key-happy-path/bundle.sigstore.json'),
      'utf8',
    ),
    bundleName: 'bundle.sigstore.json',
    artifact: {
      kind: 'bytes',
      name: 'a.txt',
      data: new Uint8Array(fs.readFileSync(path.join(C, 'bundle-verify/a.txt'))),
    },
    trustedRoot: new Uint8Array(
      fs.readFileSync(path.join(C, 'trust-roots/production/trusted_root.json')),
    ),
  });
  assert.equal(answer.ok, false);
  assert.match(
    answer.verdict,
    /^error: .*signed with a public key, not a certificate, so it cannot prove an identity; verify it with `signet verify-blob --key PUBLIC_KEY`$/,
  );
});
