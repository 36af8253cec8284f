// `trusted-root create --add-trusted-root`: one trusted root for several deployments (a
// private stack beside another one, as public-good beside a private one: cosign#1224). Two
// real stacks, each signing a file; the merged root verifies both, each stack's own root
// only its own bundle.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackToken, tempStack } from '../helpers/stack.ts';
import { signet } from '../interop/sign-helpers.ts';

const [a, b] = [await tempStack(), await tempStack()];
after(() => Promise.all([a.close(), b.close()]));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-add-root-'));
const run = (args: string[]) => signet(args, { cwd: dir, env: { SIGNET_TUF_CACHE: dir } });

test('a trusted root made of two stacks verifies what each signed; each alone only its own', async () => {
  fs.writeFileSync(path.join(dir, 'f.txt'), 'release\n');
  for (const [name, s] of [
    ['a', a],
    ['b', b],
  ] as const) {
    const signed = await run([
      'sign-blob',
      '--server',
      s.url,
      '--identity-token',
      await stackToken(s.url),
      '--bundle',
      `${name}.sigstore.json`,
      'f.txt',
    ]);
    assert.equal(signed.status, 0, signed.stderr);
    // each stack's root as the README saves it: through its TUF repository
    const saved = await run(['trusted-root', '--server', s.url, '--out', `${name}.root.json`]);
    assert.equal(saved.status, 0, saved.stderr);
  }
  const made = await run([
    'trusted-root',
    'create',
    '--add-trusted-root',
    'a.root.json',
    '--add-trusted-root',
    'b.root.json',
    '--add-trusted-root',
    'a.root.json', // the same services again: each kept once
    '--out',
    'both.json',
  ]);
  assert.equal(made.status, 0, made.stderr);
  const parts = (f: string) => {
    const j = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown[]>;
    return ['tlogs', 'certificateAuthorities', 'ctlogs', 'timestampAuthorities'].map(
      (k) => j[k]?.length ?? 0,
    );
  };
  const [pa, pb, both] = [parts('a.root.json'), parts('b.root.json'), parts('both.json')];
  assert.deepEqual(
    both,
    pa.map((n, i) => n + pb[i]!),
  );

  const verify = (bundle: string, root: string, s: { url: string }) =>
    run([
      'verify-blob',
      '--trusted-root',
      root,
      '--bundle',
      bundle,
      '--certificate-identity',
      'dev@signet.local',
      '--certificate-oidc-issuer',
      `${s.url}/oidc`,
      'f.txt',
    ]);
  for (const [bundle, s] of [
    ['a.sigstore.json', a],
    ['b.sigstore.json', b],
  ] as const) {
    const ok = await verify(bundle, 'both.json', s);
    assert.equal(ok.status, 0, `${bundle}: ${ok.stderr}`);
  }
  const cross = await verify('a.sigstore.json', 'b.root.json', a);
  assert.notEqual(cross.status, 0, 'a bundle of stack a does not verify with only b trusted');
  assert.equal((await verify('a.sigstore.json', 'a.root.json', a)).status, 0);
});

test('--add-trusted-root refuses what is not a trusted root, and one log described twice, in one line', async () => {
  const fails = async (args: string[], message: RegExp) => {
    const r = await run(['trusted-root', 'create', ...args, '--out', 'never.json']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(fs.existsSync(path.join(dir, 'never.json')), false);
  };
  await fails(
    ['--add-trusted-root', 'missing.json'],
    /^error: --add-trusted-root: .*missing\.json/,
  );
  fs.writeFileSync(path.join(dir, 'text.json'), 'not json');
  await fails(
    ['--add-trusted-root', 'text.json'],
    /^error: --add-trusted-root: text\.json is not valid JSON/,
  );
  fs.writeFileSync(path.join(dir, 'other.json'), '{"mediaType": "something else"}');
  await fails(
    ['--add-trusted-root', 'other.json'],
    /^error: --add-trusted-root: other\.json is not a trusted root: /,
  );
  // stack a's log again, described otherwise: which description is right cannot be told
  const root = JSON.parse(fs.readFileSync(path.join(dir, 'a.root.json'), 'utf8')) as {
    tlogs: Array<{ baseUrl: string; publicKey: { validFor: { start: string } } }>;
  };
  const edited = (name: string, change: (l: (typeof root.tlogs)[0]) => void) => {
    const copy = structuredClone(root);
    change(copy.tlogs[0]!);
    fs.writeFileSync(path.join(dir, name), JSON.stringify(copy));
  };
  edited('a-start.json', (l) => (l.publicKey.validFor.start = '2001-01-01T00:00:00Z'));
  edited('a-url.json', (l) => (l.baseUrl = 'http://elsewhere.example/rekor'));
  await fails(
    ['--add-trusted-root', 'a.root.json', '--add-trusted-root', 'a-start.json'],
    /^error: --add-trusted-root: a-start\.json describes the log [0-9a-f]{64} otherwise than a\.root\.json: other times its key is valid$/m,
  );
  await fails(
    ['--add-trusted-root', 'a.root.json', '--add-trusted-root', 'a-url.json'],
    /^error: --add-trusted-root: a-url\.json describes the log [0-9a-f]{64} otherwise than a\.root\.json: another URL \(http:\/\/elsewhere\.example\/rekor, not http:.*\)$/m,
  );
});
