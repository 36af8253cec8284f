import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fetchTrust } from '../../../src/client/tuf/index.ts';
import { startStack } from '../../../src/services/stack.ts';
import { tempStack } from '../../helpers/stack.ts';
import { keySigner, timestampedBundle, verifyKeyBundle } from '../../interop/trust-helpers.ts';

const quiet = { info() {}, warn() {}, error() {} };
const NODE = process.execPath;
const signet = (...args: string[]) =>
  spawnSync(NODE, ['src/cli/main.ts', ...args], {
    cwd: path.resolve(import.meta.dirname, '../../..'),
    encoding: 'utf8',
  });
const json = async (url: string) => (await fetch(url)).json() as Promise<Record<string, unknown>>;

interface Tsa {
  validFor: { start: string; end?: string };
  certChain: { certificates: { rawBytes: string }[] };
}

test('signet rotate tsa + tuf-root: after a restart old and new keys are in the trusted root, old bundles verify, TUF clients follow', async () => {
  const s = await tempStack();
  const port = Number(new URL(s.url).port);
  const { signer, publicKey } = keySigner();
  const oldData = Buffer.from('signed before the rotation');
  const oldBundle = await timestampedBundle(signer, `${s.url}/tsa/api/v1/timestamp`, oldData);
  const root1Text = await (await fetch(`${s.url}/tuf/1.root.json`)).text();
  const rootFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pin-')), 'root.json');
  fs.writeFileSync(rootFile, root1Text);
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tuf-cache-'));
  const before = await fetchTrust({ serverUrl: s.url, rootFile, cacheDir });
  await s.close();

  // Windows are whole seconds (genTime has no fraction): rotate on a later second.
  await new Promise((r) => setTimeout(r, 1100));
  const list = signet('rotate', '--data', s.dataDir);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^tsa: 1 \(/m);
  const r1 = signet('rotate', '--data', s.dataDir, 'tsa');
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(r1.stdout, /rotated tsa: version 2 is current/);
  const r2 = signet('rotate', '--data', s.dataDir, 'tuf-root');
  assert.equal(r2.status, 0, r2.stderr);
  const bad = signet('rotate', '--data', s.dataDir, 'nope');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no key "nope" in .*; the keys there are: .*tsa/);
  const none = signet('rotate', '--data', path.join(s.dataDir, 'missing'), 'tsa');
  assert.equal(none.status, 1);
  assert.match(none.stderr, /start the stack once first/);

  const s2 = await startStack({ port, host: '127.0.0.1', dataDir: s.dataDir, log: quiet });
  try {
    const root = await json(`${s2.url}/trusted_root.json`);
    const tsas = root.timestampAuthorities as Tsa[];
    assert.equal(tsas.length, 2);
    assert.ok(tsas[0]!.validFor.end, 'the rotated-out key has an end');
    assert.equal(tsas[1]!.validFor.end, undefined);
    assert.notEqual(
      tsas[0]!.certChain.certificates[0]!.rawBytes,
      tsas[1]!.certChain.certificates[0]!.rawBytes,
    );
    // The bundle made before the rotation still verifies in sigstore-js with the new root...
    verifyKeyBundle(root, oldBundle, oldData, publicKey);
    // ...but not with a root that only has the new key.
    assert.throws(
      () =>
        verifyKeyBundle(
          { ...root, timestampAuthorities: [tsas[1]] },
          oldBundle,
          oldData,
          publicKey,
        ),
      /timestamp/i,
    );
    // A new bundle is timestamped by the new key.
    const newData = Buffer.from('signed after the rotation');
    const newBundle = await timestampedBundle(signer, `${s2.url}/tsa/api/v1/timestamp`, newData);
    verifyKeyBundle(root, newBundle, newData, publicKey);
    assert.throws(
      () =>
        verifyKeyBundle(
          { ...root, timestampAuthorities: [tsas[0]] },
          newBundle,
          newData,
          publicKey,
        ),
      /timestamp/i,
    );

    // TUF: 2.root.json exists (root key rotated) and the client pinned to 1.root.json follows.
    const root2 = await json(`${s2.url}/tuf/2.root.json`);
    assert.equal((root2.signatures as unknown[]).length, 2);
    const after = await fetchTrust({ serverUrl: s2.url, rootFile, cacheDir });
    assert.notEqual(after.trustedRootText, before.trustedRootText);
    assert.deepEqual(JSON.parse(after.trustedRootText), root);
  } finally {
    await s2.close();
  }
});

test('rotate without a data folder or with a bad key name fails with one clear line', () => {
  const r = signet('rotate', '--data', '/nonexistent/signet', 'ca');
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(
    r.stderr,
    /^error: \/nonexistent\/signet is not a data folder of a stack \(no keys\/ in it\): start the stack once first/,
  );
  // Listing the keys of no data folder is an error too, not an empty success.
  const list = signet('rotate', '--data', '/nonexistent/signet');
  assert.equal(list.status, 1);
  assert.match(list.stderr, /is not a data folder of a stack/);
});

test('every service emits every key version: after rotating all rings the trusted root has one entry per version with closed windows', async () => {
  const s = await tempStack();
  const port = Number(new URL(s.url).port);
  await s.close();
  const lists: Record<
    string,
    (root: Record<string, unknown>) => Array<{ validFor: { start: string; end?: string } }>
  > = {
    ca: (r) => r.certificateAuthorities as never,
    ctlog: (r) =>
      (r.ctlogs as Array<{ publicKey: { validFor: { start: string; end?: string } } }>).map(
        (l) => l.publicKey,
      ),
    rekor: (r) =>
      (r.tlogs as Array<{ publicKey: { validFor: { start: string; end?: string } } }>).map(
        (l) => l.publicKey,
      ),
    tsa: (r) => r.timestampAuthorities as never,
  };
  const present = Object.keys(lists).filter((k) =>
    fs.existsSync(path.join(s.dataDir, 'keys', k, 'ring.json')),
  );
  assert.ok(present.includes('tsa'));
  await new Promise((r) => setTimeout(r, 1100));
  for (const k of present) assert.equal(signet('rotate', '--data', s.dataDir, k).status, 0);
  await new Promise((r) => setTimeout(r, 1100));
  for (const k of present) assert.equal(signet('rotate', '--data', s.dataDir, k).status, 0);
  const s2 = await startStack({ port, host: '127.0.0.1', dataDir: s.dataDir, log: quiet });
  try {
    const root = await json(`${s2.url}/trusted_root.json`);
    for (const k of present) {
      const entries = lists[k]!(root);
      assert.equal(entries.length, 3, `${k}: one trusted-root entry per key version`);
      assert.equal(
        entries.filter((e) => e.validFor.end === undefined).length,
        1,
        `${k}: only the current key is open-ended`,
      );
      for (let i = 0; i + 1 < entries.length; i++) {
        assert.ok(entries[i]!.validFor.end, `${k}[${i}] closed`);
        // The next window starts no later than the previous one ends: no gap in time.
        assert.ok(
          Date.parse(entries[i + 1]!.validFor.start) <= Date.parse(entries[i]!.validFor.end!),
          `${k}[${i + 1}] starts by the end of ${k}[${i}]`,
        );
      }
    }
  } finally {
    await s2.close();
  }
});
