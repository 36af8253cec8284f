// The command `signet up`'s banner tells a new user to run: signet as they started it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { banner, signetCommand } from '../../src/cli/commands/up.ts';

const clone = path.resolve('/home/me/signet');
const cloneMain = path.join(clone, 'src', 'cli', 'main.ts');
const installedMain = path.resolve('/home/me/app/node_modules/signet/dist/cli/main.js');

test('in a clone: ./bin/signet from its folder (the README), its path from elsewhere', () => {
  assert.equal(signetCommand(cloneMain, clone, {}), './bin/signet');
  // npm started it (a script of the clone's package.json): still the clone's bin/signet.
  assert.equal(signetCommand(cloneMain, clone, { npm_command: 'run-script' }), './bin/signet');
  assert.equal(signetCommand(cloneMain, path.dirname(clone), {}), './signet/bin/signet');
  assert.equal(signetCommand(cloneMain, path.join(clone, 'test'), {}), `${clone}/bin/signet`);
  assert.equal(signetCommand(cloneMain, '/tmp', {}), `${clone}/bin/signet`);
  // A path the shell would split or expand is quoted.
  const spaced = path.resolve("/home/me/my signet's");
  assert.equal(
    signetCommand(path.join(spaced, 'src', 'cli', 'main.ts'), '/tmp', {}),
    `'/home/me/my signet'\\''s/bin/signet'`,
  );
});

test('installed from npm: npx signet when npm started it, else signet; never ./bin/signet', () => {
  const app = path.resolve('/home/me/app');
  assert.equal(signetCommand(installedMain, app, { npm_command: 'exec' }), 'npx signet');
  assert.equal(signetCommand(installedMain, app, { npm_command: 'run-script' }), 'npx signet');
  assert.equal(signetCommand(installedMain, app, {}), 'signet');
  assert.equal(signetCommand(undefined, app, {}), 'signet');
});

test("the banner's sign, token and verify examples use that command", () => {
  const url = 'http://127.0.0.1:8420';
  const services = ['oidc', 'ctlog', 'ca', 'rekor', 'tsa', 'tuf'];
  for (const signIn of ['test-grant', 'sign-in', 'issuers'] as const) {
    const text = banner(url, services, signIn, { command: 'npx signet' });
    assert.doesNotMatch(text, /\.\/bin\/signet/, text);
    const lines = text.split('\n').filter((l) => /^ {2}\S.* --server \S+ --/.test(l));
    assert.ok(lines.length >= 2, text);
    for (const l of lines) assert.match(l, /^ {2}npx signet (sign-blob|verify-blob) /, l);
  }
  assert.match(
    banner(url, services, 'test-grant', { command: 'npx signet' }),
    /^ {2}npx signet sign-blob --server \S+ --identity-token "\$\(npx signet token --server /m,
  );
  // The clone's, by default.
  assert.match(banner(url, services, 'test-grant'), /^ {2}\.\/bin\/signet sign-blob /m);
});
