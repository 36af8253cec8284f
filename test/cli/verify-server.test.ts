import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tempStack } from '../helpers/stack.ts';

const bin = path.resolve('bin/signet');
const C = path.resolve('test/fixtures/conformance');
const happy = path.join(C, 'bundle-verify/happy-path-v0.3/bundle.sigstore.json');
const artifact = path.join(C, 'bundle-verify/a.txt');
const SAN =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';

let stack: Awaited<ReturnType<typeof tempStack>>;
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tuf-cache-'));
before(async () => {
  stack = await tempStack();
});
after(async () => {
  await stack.close();
});

function run(args: string[], cacheDir = cache): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env: { ...process.env, SIGNET_TUF_CACHE: cacheDir } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

const flags = ['--certificate-identity', SAN, '--certificate-oidc-issuer', ISS];
/** verify-blob of the public-good happy-path bundle with its identity; add the trust flags. */
const verifyHappy = ['verify-blob', artifact, '--bundle', happy, ...flags];

test('--server takes the trusted root from the stack through TUF: a public-good bundle is not trusted by it', async () => {
  const r = await run([...verifyHappy, '--server', stack.url]);
  assert.equal(r.status, 12, r.stderr); // cosign's "no matching signature"

  // trust on first use is announced; the verdict says the bundle is another deployment's
  assert.match(r.stderr, /warning: .*/);
  assert.match(
    r.stderr,
    /error: the bundle is from a deployment the trusted root does not cover: its certificate was issued by "CN=sigstore-intermediate, O=sigstore\.dev"/,
  );
  // the verified metadata is cached
  assert.ok(fs.readdirSync(cache).length > 0);
});

test("--tuf-root pins the root: a root that is not the stack's is refused", async () => {
  const wrongRoot = path.join(C, 'trust-roots/production/root.json');
  const r = await run(
    [...verifyHappy, '--server', stack.url, '--tuf-root', wrongRoot],
    fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tuf-pinned-')),
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: TUF update from .* failed/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('--tuf-root is honoured even where a first-use pin for the server is cached', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tuf-both-'));
  const args = [...verifyHappy, '--server', stack.url];
  const first = await run(args, dir);
  assert.match(first.stderr, /trust on first use/);
  const wrongRoot = path.join(C, 'trust-roots/production/root.json');
  const r = await run([...args, '--tuf-root', wrongRoot], dir);
  assert.equal(r.status, 1);
  // That root (public-good's, since expired) is the one checked, and named.
  assert.match(
    r.stderr,
    /the newest root reached from \S*production\/root\.json has expired: .*, or \S*production\/root\.json is not this server's root$/m,
  );
  assert.doesNotMatch(r.stderr, /trust on first use/);
});

test('--server must be a URL, and not combined with --trusted-root', async () => {
  let r = await run([...verifyHappy, '--server', 'not a url']);
  assert.match(r.stderr, /--server: "not a url" is not a URL/);
  r = await run([...verifyHappy, '--server', stack.url, '--trusted-root', 'x.json']);
  assert.match(r.stderr, /give either --trusted-root or --server/);
});
