// `signet trusted-root` against a running stack: prints or saves its trust documents.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from '../helpers/stack.ts';
import { signet } from '../interop/sign-helpers.ts';

const stack = await tempStack();
after(() => stack.close());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tr-'));

test('prints the trusted root the stack serves, and saves it with --out', async () => {
  const served = await (await fetch(`${stack.url}/trusted_root.json`)).json();
  const r = await signet(['trusted-root', '--server', stack.url], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), served);
  const s = await signet(['trusted-root', '--server', stack.url, '--out', 'root.json'], {
    cwd: dir,
  });
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'root.json'), 'utf8')), served);
});

test('--signing-config prints the signing config', async () => {
  const served = await (await fetch(`${stack.url}/signing_config.json`)).json();
  const r = await signet(['trusted-root', '--signing-config', '--server', stack.url], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), served);
});

test('a server that is not a Signet stack: a clear error', async () => {
  const r = await signet(['trusted-root', '--server', `${stack.url}/nothing-here`], { cwd: dir });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^error: the trust server at .*\/nothing-here\/trusted_root.json answered HTTP 404/,
  );
});
