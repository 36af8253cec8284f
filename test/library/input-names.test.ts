/**
 * The library's errors name the library's inputs: the code it shares with the CLI names an input
 * by its CLI flag (`--trusted-root`, `--key`, `--insecure-ignore-tlog`) unless its caller names it
 * otherwise, and the library names its options (`options.trustedRoot`, `keyPolicy(pem)`,
 * `tlogThreshold: 0`). A library user never reads about a flag they cannot pass. Offline: no
 * call here reaches a server (the inputs are refused first, or a fixture is verified).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  identityPolicy,
  loadTrustedRoot,
  parseTrustedRootJSON,
  SignetError,
  sign,
  verify,
} from '../../src/index.ts';

const C = path.resolve('test/fixtures/conformance');
const bundleJson = () =>
  JSON.parse(
    fs.readFileSync(path.join(C, 'bundle-verify/happy-path-v0.3/bundle.sigstore.json'), 'utf8'),
  ) as { verificationMaterial: { tlogEntries: unknown[] } };
const keyed = fs.readFileSync(
  path.join(C, 'bundle-verify/managed-key-happy-path/bundle.sigstore.json'),
  'utf8',
);
const artifact = fs.readFileSync(path.join(C, 'bundle-verify/a.txt'));
const trustedRoot = parseTrustedRootJSON(
  fs.readFileSync(path.join(C, 'trust-roots/production/trusted_root.json'), 'utf8'),
);
const signingConfig = path.join(C, 'trust-roots/production/signing_config.v0.2.json');
const policy = identityPolicy({
  identity:
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
});
const down = 'http://127.0.0.1:9'; // never asked: each input is refused before any request

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SignetError, `not a SignetError: ${String(e)}`);
    return e.message;
  }
  assert.fail('succeeded, but must have been refused');
}

test("library errors name the library's options, never a CLI flag", async () => {
  const noTlog = bundleJson();
  noTlog.verificationMaterial.tlogEntries = [];
  const cases: Array<[string, Promise<unknown>, RegExp]> = [
    [
      'a trusted root file that is not there',
      loadTrustedRoot({ trustedRoot: '/nonexistent/trusted_root.json' }),
      /^options\.trustedRoot: \/nonexistent\/trusted_root\.json does not exist/,
    ],
    [
      'a file and a server',
      loadTrustedRoot({ trustedRoot: '/x.json', server: down }),
      /^options\.trustedRoot: give either options\.trustedRoot or options\.server, not both$/,
    ],
    [
      'a server that is no URL',
      loadTrustedRoot({ server: 'ftp://x' }),
      /^options\.server: "ftp:\/\/x" is not an http\(s\) URL$/,
    ],
    [
      'a TUF root that is not there (trust)',
      loadTrustedRoot({ server: down, tufRoot: '/nonexistent/root.json' }),
      /^options\.tufRoot: \/nonexistent\/root\.json does not exist/,
    ],
    [
      'a key file that is not there',
      sign(artifact, { key: '/nonexistent/cosign.key', tlogUpload: false }),
      /^options\.key: \/nonexistent\/cosign\.key does not exist/,
    ],
    [
      'a signing config that is not there',
      sign(artifact, { signingConfig: '/nonexistent/sc.json', identityToken: 'x' }),
      /^options\.signingConfig: \/nonexistent\/sc\.json does not exist/,
    ],
    [
      'a signing config and a server',
      sign(artifact, { signingConfig, server: down, identityToken: 'x' }),
      /^options\.signingConfig: give either options\.signingConfig or options\.server, not both$/,
    ],
    [
      'a TUF root that is not there (sign)',
      sign(artifact, { server: down, tufRoot: '/nonexistent/root.json', identityToken: 'x' }),
      /^options\.tufRoot: \/nonexistent\/root\.json does not exist/,
    ],
    [
      'an empty identity token',
      sign(artifact, { signingConfig, identityToken: '' }),
      /^options\.identityToken is empty$/,
    ],
    [
      'a keyed bundle and an identity policy',
      verify(keyed, artifact, { trustedRoot, policy }),
      /cannot prove an identity; verify it with keyPolicy\(pem\)$/,
    ],
    [
      'a bundle without log entries',
      verify(noTlog, artifact, { trustedRoot, policy }),
      /\(a signature made without a log on purpose verifies with tlogThreshold: 0\)$/,
    ],
    [
      'too few signed timestamps',
      verify(bundleJson(), artifact, { trustedRoot, policy, signedTimestampThreshold: 1 }),
      /is required \(signedTimestampThreshold\)$/,
    ],
  ];
  for (const [name, call, expected] of cases) {
    const m = await message(call);
    assert.match(m, expected, name);
    assert.doesNotMatch(m, /(^|[\s(])--[a-z]/, `${name}: names a CLI flag`);
  }
});

test("a caller's own names win over the library's", async () => {
  const m = await message(
    verify(keyed, artifact, { trustedRoot, policy, names: { key: 'a key policy' } }),
  );
  assert.match(m, /verify it with a key policy$/);
});
