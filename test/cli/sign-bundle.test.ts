// `signet sign-bundle` speaks the sigstore-conformance signing protocol: keyless with a given
// token and signing config; the bundle it writes verifies with `signet verify-bundle`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireServices, tempStack } from '../helpers/stack.ts';
import { signet, stackToken } from '../interop/sign-helpers.ts';

const stack = await tempStack();
after(() => stack.close());
await requireServices(stack.url, ['oidc', 'ca', 'rekor']);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-conf-'));
fs.writeFileSync(path.join(dir, 'a.txt'), 'conformance artifact\n');

test('sign-bundle --identity-token --bundle --signing-config FILE, then verify-bundle', async () => {
  fs.writeFileSync(
    path.join(dir, 'signing_config.json'),
    await (await fetch(`${stack.url}/signing_config.json`)).text(),
  );
  fs.writeFileSync(
    path.join(dir, 'trusted_root.json'),
    await (await fetch(`${stack.url}/trusted_root.json`)).text(),
  );
  const token = await stackToken(stack.url, 'dev@signet.local');
  const s = await signet(
    [
      'sign-bundle',
      '--identity-token',
      token,
      '--bundle',
      'out.json',
      '--trusted-root',
      'trusted_root.json',
      '--signing-config',
      'signing_config.json',
      'a.txt',
    ],
    { cwd: dir },
  );
  assert.equal(s.status, 0, s.stderr);
  const v = await signet(
    [
      'verify-bundle',
      '--bundle',
      'out.json',
      '--certificate-identity',
      'dev@signet.local',
      '--certificate-oidc-issuer',
      `${stack.url}/oidc`,
      '--trusted-root',
      'trusted_root.json',
      'a.txt',
    ],
    { cwd: dir },
  );
  assert.equal(v.status, 0, v.stderr);
});
