import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Metadata, MetadataKind } from '@tufjs/models';
import { Updater } from 'tuf-js';
import { tempStack } from '../../helpers/stack.ts';
import { startStack } from '../../../src/services/stack.ts';
import { TufRepository } from '../../../src/services/tuf/repository.ts';

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
    const ts = JSON.parse(await get(`${s.url}/tuf/timestamp.json`));
    const snap = JSON.parse(
      await get(`${s.url}/tuf/${ts.signed.meta['snapshot.json'].version}.snapshot.json`),
    );
    const targets = JSON.parse(
      await get(`${s.url}/tuf/${snap.signed.meta['targets.json'].version}.targets.json`),
    );
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

test('a restart signs targets, snapshot and timestamp anew, numbered from the clock; online roles are re-signed before they expire', async () => {
  const s = await tempStack();
  const ts1 = JSON.parse(await get(`${s.url}/tuf/timestamp.json`));
  await s.close();
  const start = Math.floor(Date.now() / 1000);
  // Same data and same port (the URLs are part of the trusted root).
  const s2 = await startStack({
    port: Number(new URL(s.url).port),
    host: '127.0.0.1',
    dataDir: s.dataDir,
    log: quiet,
  });
  try {
    // The data folder could be a restored backup older than what clients hold: the start
    // publishes versions above anything signed before it (the root stays version 1).
    const versions = async () => {
      const ts = JSON.parse(await get(`${s2.url}/tuf/timestamp.json`));
      const snap = JSON.parse(await get(`${s2.url}/tuf/snapshot.json`));
      const targets = JSON.parse(await get(`${s2.url}/tuf/targets.json`));
      assert.equal(ts.signed.meta['snapshot.json'].version, snap.signed.version);
      assert.equal(snap.signed.meta['targets.json'].version, targets.signed.version);
      return {
        doc: ts,
        ts: ts.signed.version as number,
        snapshot: snap.signed.version,
        targets: targets.signed.version,
      };
    };
    const v2 = await versions();
    assert.ok(ts1.signed.version >= start - 60 && ts1.signed.version <= start, ts1.signed.version);
    for (const role of ['ts', 'snapshot', 'targets'] as const)
      assert.ok(v2[role] >= start && v2[role] > ts1.signed.version, `${role} ${v2[role]}`);
    assert.equal(JSON.parse(await get(`${s2.url}/tuf/root.json`)).signed.version, 1);
    const tuf = s2.services.tuf!;
    assert.deepEqual(tuf.refresh(new Date()), []);
    // 13 hours later the 1-day timestamp has less than half its life left: re-signed.
    const later = new Date(Date.now() + 13 * 3600e3);
    assert.deepEqual(tuf.refresh(later), ['timestamp']);
    const v3 = await versions();
    assert.equal(v3.ts, Math.floor(later.getTime() / 1000));
    assert.deepEqual([v3.snapshot, v3.targets], [v2.snapshot, v2.targets]);
    // 4 days later the 7-day snapshot too (and the timestamp that names it).
    const days = new Date(Date.now() + 4 * 86400e3);
    assert.deepEqual(tuf.refresh(days), ['snapshot', 'timestamp']);
    const v4 = await versions();
    assert.equal(v4.ts, Math.floor(days.getTime() / 1000));
    assert.equal(v4.snapshot, v4.ts);
    assert.equal(v4.targets, v2.targets);
    assert.ok(Date.parse(v4.doc.signed.expires) > Date.now() + 4 * 86400e3);
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

/** Serves the repository `repo()` returns at `<url>/tuf`, as the stack does. */
async function serveRepository(repo: () => TufRepository) {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url!, 'http://x').pathname.replace(/^\/tuf\//, ''));
    const body = repo().read(rel);
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * The versions `repo` serves, checked as a client would: timestamp.json names the snapshot by
 * version, length and hash, the snapshot names targets.json likewise, the unversioned names
 * are the newest, and every target is served under each of its hashes.
 */
function servedVersions(repo: TufRepository) {
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const ts = JSON.parse(repo.read('timestamp.json')!.toString());
  const sm = ts.signed.meta['snapshot.json'];
  const snapBytes = repo.read(`${sm.version}.snapshot.json`)!;
  assert.equal(snapBytes.length, sm.length);
  assert.equal(sha256(snapBytes), sm.hashes.sha256);
  assert.deepEqual(repo.read('snapshot.json'), snapBytes);
  const snap = JSON.parse(snapBytes.toString());
  assert.equal(snap.signed.version, sm.version);
  const tm = snap.signed.meta['targets.json'];
  const targetsBytes = repo.read(`${tm.version}.targets.json`)!;
  assert.equal(targetsBytes.length, tm.length);
  assert.equal(sha256(targetsBytes), tm.hashes.sha256);
  assert.deepEqual(repo.read('targets.json'), targetsBytes);
  const targets = JSON.parse(targetsBytes.toString());
  assert.equal(targets.signed.version, tm.version);
  for (const [name, info] of Object.entries(
    targets.signed.targets as Record<string, { hashes: Record<string, string> }>,
  ))
    for (const [alg, hex] of Object.entries(info.hashes))
      assert.equal(
        createHash(alg)
          .update(repo.read(`targets/${hex}.${name}`)!)
          .digest('hex'),
        hex,
      );
  return {
    timestamp: ts.signed.version as number,
    snapshot: sm.version as number,
    targets: tm.version as number,
    root: repo.root.signed.version,
  };
}

test('targets, snapshot and timestamp versions: small ones move to the clock, +1 within one second or when the clock went back, files consistent for a client', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tuf-versions-'));
  const long = 300 * 365 * 86400e3; // from 1970, more than half of it is left
  const lifetimes = { root: long, targets: long, snapshot: long, timestamp: long };
  const content = (n: number) => ({
    'trusted_root.json': Buffer.from(`{"n":${n}}\n`),
    'signing_config.v0.2.json': Buffer.from('{}\n'),
  });
  // A data folder as Signet left it before: versions counted 1, 2, ... (signed here with the
  // clock at 1970, whose seconds are below them; the long lifetimes keep it valid).
  let repo = TufRepository.open(dir, lifetimes);
  repo.update(content(1), new Date(0));
  repo.update(content(2), new Date(0));
  assert.deepEqual(servedVersions(repo), { timestamp: 2, snapshot: 2, targets: 2, root: 1 });
  const server = await serveRepository(() => repo);
  try {
    const root1 = repo.read('1.root.json')!.toString();
    const client = await clientFetch(server.url, root1);
    assert.equal(client.trustedRoot, '{"n":2}\n');

    // The next start signs targets, snapshot and timestamp anew, numbered by the clock.
    const start = Math.floor(Date.now() / 1000);
    repo = TufRepository.open(dir, lifetimes);
    assert.deepEqual(repo.update(content(2)), ['targets', 'snapshot', 'timestamp']);
    const v1 = servedVersions(repo);
    assert.equal(v1.root, 1);
    for (const role of ['timestamp', 'snapshot', 'targets'] as const)
      assert.ok(v1[role] >= start && v1[role] <= start + 60, `${role} ${v1[role]}`);
    assert.equal((await clientFetch(server.url, root1, client.dir)).trustedRoot, '{"n":2}\n');

    // Two publications in one second: each above the last.
    const now = new Date(Math.max(Date.now(), v1.timestamp * 1000));
    repo.update(content(3), now);
    const v2 = servedVersions(repo);
    repo.update(content(4), now);
    const v3 = servedVersions(repo);
    for (const role of ['timestamp', 'snapshot', 'targets'] as const) {
      assert.ok(v2[role] > v1[role], `${role} ${v2[role]} > ${v1[role]}`);
      assert.equal(v3[role], v2[role] + 1, role);
    }
    // The clock went back a day: still above.
    repo.update(content(5), new Date(Date.now() - 86400e3));
    const v4 = servedVersions(repo);
    for (const role of ['timestamp', 'snapshot', 'targets'] as const)
      assert.equal(v4[role], v3[role] + 1, role);
    // What is on disk is what was served, and the client that held version 2 takes it.
    assert.deepEqual(servedVersions(TufRepository.open(dir, lifetimes)), v4);
    assert.equal((await clientFetch(server.url, root1, client.dir)).trustedRoot, '{"n":5}\n');
    const cached = JSON.parse(
      fs.readFileSync(path.join(client.dir, 'm', 'timestamp.json'), 'utf8'),
    );
    assert.equal(cached.signed.version, v4.timestamp);
  } finally {
    await server.close();
  }
});
