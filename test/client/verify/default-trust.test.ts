import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { shippedDataDir, trustedRootJson } from '../../../src/client/verify/trust.ts';
import { trustCachePath } from '../../../src/client/tuf/index.ts';
import { SignetError } from '../../../src/core/errors.ts';

const fixture = path.resolve(import.meta.dirname, '../../fixtures/tuf/public-good-2026-08-21');

/** A loopback URL where nothing listens: the mirror is unreachable. */
async function closedUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

/** The folders of `dir` named `name`, at any depth. */
const find = (dir: string, name: string) =>
  fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => path.basename(f) === name)
    .map((f) => path.join(dir, f));

test('the shipped trusted root stands in only for a cache that never verified the mirror: an expired verified cache fails closed', async () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-default-trust-'));
  // TUF_MIRROR alone: a mirror of the public-good repository, anchored in the shipped root.
  const env = { TUF_MIRROR: await closedUrl(), SIGNET_TUF_CACHE: cacheDir };
  const shipped = path.join(shippedDataDir(), 'public-good', 'trusted_root.json');

  // Never updated, mirror unreachable: the shipped files, as on a fresh install.
  const fresh = await trustedRootJson({ env, warn: () => {} });
  assert.equal(fresh.from, shipped);

  // A failed first run leaves no cache (nothing in it was verified).
  assert.deepEqual(find(cacheDir, 'metadata'), []);
  // The cache as a successful update on 2026-08-21 left it (public-good metadata, signed under
  // the shipped root), now expired. Blocking the mirror must not swap it for the shipped files.
  const shippedRoot = path.join(shippedDataDir(), 'public-good', 'root.json');
  const metadata = path.join(
    trustCachePath(cacheDir, env.TUF_MIRROR, fs.readFileSync(shippedRoot, 'utf8')),
    'metadata',
  );
  fs.mkdirSync(metadata, { recursive: true });
  fs.copyFileSync(shippedRoot, path.join(metadata, 'root.json'));
  for (const f of ['timestamp.json', 'snapshot.json', 'targets.json'])
    fs.copyFileSync(path.join(fixture, f), path.join(metadata, f));
  for (const offline of [false, true])
    await assert.rejects(
      trustedRootJson({ env, offline, warn: () => {} }),
      (e: unknown) =>
        e instanceof SignetError &&
        e.code === 'TUF_CACHE_UNUSABLE' &&
        /^cannot reach the TUF repository http:\/\/127\.0\.0\.1:\d+ .*the trust verified from it before cannot be used: its timestamp\.json expired at 2026-08-28T19:25:56Z \(cached in /.test(
          e.message,
        ) &&
        !e.message.includes('\n'),
    );
});
