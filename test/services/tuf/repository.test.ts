import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata, MetadataKind } from '@tufjs/models';
import { Updater } from 'tuf-js';
import { tempStack } from '../../helpers/stack.ts';
import { startStack } from '../../../src/services/stack.ts';

const quiet = { info() {}, warn() {}, error() {} };
import { KeyRing } from '../../../src/services/keyring.ts';

/** A tuf-js client (the TUF reference client for JS) pinned to `root`, fetching from `url`. */
async function clientFetch(
  url: string,
  root: string,
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tuf-client-')),
) {
  fs.mkdirSync(path.join(dir, 'm'), { recursive: true });
  fs.mkdirSync(path.join(dir, 't'), { recursive: true });
  if (!fs.existsSync(path.join(dir, 'm', 'root.json')))
    fs.writeFileSync(path.join(dir, 'm', 'root.json'), root);
  const u = new Updater({
    metadataDir: path.join(dir, 'm'),
    metadataBaseUrl: `${url}/tuf`,
    targetDir: path.join(dir, 't'),
    targetBaseUrl: `${url}/tuf/targets`,
  });
  await u.refresh();
  const info = await u.getTargetInfo('trusted_root.json');
  assert.ok(info, 'trusted_root.json is a target');
  const file = await u.downloadTarget(info);
  const cfg = await u.getTargetInfo('signing_config.v0.2.json');
  assert.ok(cfg, 'signing_config.v0.2.json is a target');
  return {
    trustedRoot: fs.readFileSync(file, 'utf8'),
    signingConfig: fs.readFileSync(await u.downloadTarget(cfg), 'utf8'),
    dir,
  };
}

const get = async (url: string) => {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return r.text();
};

test('tuf-js fetches the same trusted_root.json and signing config the stack serves plainly', async () => {
  const s = await tempStack();
  try {
    const root1 = await get(`${s.url}/tuf/1.root.json`);
    const got = await clientFetch(s.url, root1);
    assert.equal(got.trustedRoot, await get(`${s.url}/trusted_root.json`));
    assert.equal(got.signingConfig, await get(`${s.url}/signing_config.json`));
    const tr = JSON.parse(got.trustedRoot);
    assert.equal(tr.mediaType, 'application/vnd.dev.sigstore.trustedroot+json;version=0.1');
    assert.ok(tr.timestampAuthorities.length >= 1);
    const sc = JSON.parse(got.signingConfig);
    assert.equal(sc.mediaType, 'application/vnd.dev.sigstore.signingconfig.v0.2+json');
    assert.deepEqual(sc.tsaConfig, { selector: 'ANY' });
    assert.ok(sc.tsaUrls.some((u: { url: string }) => u.url === `${s.url}/tsa/api/v1/timestamp`));
    // Consistent snapshots: root says so and the hash-prefixed target exists.
    const root = JSON.parse(root1);
    assert.equal(root.signed.consistent_snapshot, true);
    const targets = JSON.parse(await get(`${s.url}/tuf/1.targets.json`));
    const h = targets.signed.targets['trusted_root.json'].hashes.sha256;
    assert.equal(await get(`${s.url}/tuf/targets/${h}.trusted_root.json`), got.trustedRoot);
    // Unknown files are 404 JSON errors.
    const r = await fetch(`${s.url}/tuf/99.root.json`);
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { message: string }).message, /no TUF file 99.root.json/);
    // A client pinned to some other repository's root refuses this one.
    const other = await tempStack();
    try {
      const foreign = await get(`${other.url}/tuf/1.root.json`);
      await assert.rejects(clientFetch(s.url, foreign), /signed by 0\/1 keys/);
    } finally {
      await other.close();
    }
  } finally {
    await s.close();
  }
});

test('a target is served under every hash its metadata lists, as go-tuf (sigstore-go, cosign) may pick any', async () => {
  const s = await tempStack();
  try {
    const ts = JSON.parse(await get(`${s.url}/tuf/timestamp.json`));
    const snap = JSON.parse(
      await get(`${s.url}/tuf/${ts.signed.meta['snapshot.json'].version}.snapshot.json`),
    );
    const targets = JSON.parse(
      await get(`${s.url}/tuf/${snap.signed.meta['targets.json'].version}.targets.json`),
    );
    const listed = Object.entries(
      targets.signed.targets as Record<string, { length: number; hashes: Record<string, string> }>,
    );
    assert.deepEqual(listed.map(([n]) => n).sort(), [
      'signing_config.v0.2.json',
      'trusted_root.json',
    ]);
    for (const [name, info] of listed) {
      assert.deepEqual(Object.keys(info.hashes).sort(), ['sha256', 'sha512']);
      for (const [alg, hex] of Object.entries(info.hashes)) {
        const r = await fetch(`${s.url}/tuf/targets/${hex}.${name}`);
        assert.equal(r.status, 200, `${alg}-named copy of ${name}`);
        const body = Buffer.from(await r.arrayBuffer());
        assert.equal(body.length, info.length);
        assert.equal(createHash(alg).update(body).digest('hex'), hex);
      }
    }
  } finally {
    await s.close();
  }
});

test('a restart publishes nothing new; online roles are re-signed before they expire', async () => {
  const s = await tempStack();
  const ts1 = await get(`${s.url}/tuf/timestamp.json`);
  await s.close();
  // Same data and same port (the URLs are part of the trusted root).
  const s2 = await startStack({
    port: Number(new URL(s.url).port),
    host: '127.0.0.1',
    dataDir: s.dataDir,
    log: quiet,
  });
  try {
    assert.equal(await get(`${s2.url}/tuf/timestamp.json`), ts1);
    const tuf = s2.services.tuf!;
    assert.deepEqual(tuf.refresh(new Date()), []);
    // 13 hours later the 1-day timestamp has less than half its life left: re-signed.
    assert.deepEqual(tuf.refresh(new Date(Date.now() + 13 * 3600e3)), ['timestamp']);
    // 4 days later the 7-day snapshot too (and the timestamp that names it).
    assert.deepEqual(tuf.refresh(new Date(Date.now() + 4 * 86400e3)), ['snapshot', 'timestamp']);
    const ts = JSON.parse(await get(`${s2.url}/tuf/timestamp.json`));
    assert.equal(ts.signed.version, 3);
    assert.equal(ts.signed.meta['snapshot.json'].version, 2);
    assert.ok(Date.parse(ts.signed.expires) > Date.now() + 4 * 86400e3);
    // A client still verifies the re-signed metadata.
    await clientFetch(s2.url, await get(`${s2.url}/tuf/1.root.json`));
  } finally {
    await s2.close();
  }
});

test('root key rotation: 2.root.json is signed by the old and the new root key; pinned clients follow', async () => {
  const s = await tempStack();
  const root1 = await get(`${s.url}/tuf/1.root.json`);
  const client = await clientFetch(s.url, root1);
  await s.close();
  KeyRing.rotate(s.dataDir, 'tuf-root');
  KeyRing.rotate(s.dataDir, 'tuf-timestamp');
  const s2 = await tempStack({ dataDir: s.dataDir });
  try {
    const r1 = Metadata.fromJSON(MetadataKind.Root, JSON.parse(root1));
    const r2 = Metadata.fromJSON(
      MetadataKind.Root,
      JSON.parse(await get(`${s2.url}/tuf/2.root.json`)),
    );
    assert.equal(r2.signed.version, 2);
    assert.equal(Object.keys(r2.signatures).length, 2);
    assert.notDeepEqual(r2.signed.roles['root']!.keyIDs, r1.signed.roles['root']!.keyIDs);
    assert.notDeepEqual(r2.signed.roles['timestamp']!.keyIDs, r1.signed.roles['timestamp']!.keyIDs);
    r1.verifyDelegate('root', r2); // the old root vouches for the new one
    r2.verifyDelegate('root', r2); // and the new one is self-signed by its new key
    const ts = Metadata.fromJSON(
      MetadataKind.Timestamp,
      JSON.parse(await get(`${s2.url}/tuf/timestamp.json`)),
    );
    r2.verifyDelegate('timestamp', ts);
    assert.throws(() => r1.verifyDelegate('timestamp', ts));
    // The client that trusted version 1 updates along the chain (same cache folder).
    const again = await clientFetch(s2.url, root1, client.dir);
    assert.equal(again.trustedRoot, await get(`${s2.url}/trusted_root.json`));
    assert.equal(
      JSON.parse(fs.readFileSync(path.join(client.dir, 'm', 'root.json'), 'utf8')).signed.version,
      2,
    );
    // A fresh client pinned to 1.root.json also gets there.
    await clientFetch(s2.url, root1);
  } finally {
    await s2.close();
  }
});
