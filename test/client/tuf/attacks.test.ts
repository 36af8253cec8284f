/**
 * The TUF 1.0 client checks (5.3-5.7), against metadata crafted here and served from a loopback
 * HTTP server: Signet's client, its shortcuts for an unchanged repository and its offline
 * fallback included, must refuse each attack with a TUF error, never use it or fall back.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  Key,
  Metadata,
  MetaFile,
  Root,
  Signature,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
} from '@tufjs/models';
import { Role } from '@tufjs/models/dist/role.js';
import { canonicalize } from '../../../src/core/encoding/canonical-json.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { fetchTrust, trustCachePath } from '../../../src/client/tuf/index.ts';

const DAY = 86400e3;
const specVersion = '1.0.31';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** An ECDSA P-256 TUF key, as Signet's and Sigstore's repositories use. */
function newKey(): { key: Key; priv: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const body = { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pem } };
  const keyID = createHash('sha256').update(canonicalize(body)).digest('hex');
  return {
    key: new Key({ keyID, keyType: body.keytype, scheme: body.scheme, keyVal: body.keyval }),
    priv: privateKey,
  };
}

type K = ReturnType<typeof newKey>;
const bytes = (md: Metadata<Root | Targets | Snapshot | Timestamp>) =>
  Buffer.from(JSON.stringify(md.toJSON()));
function signed<T extends Root | Targets | Snapshot | Timestamp>(s: T, ...keys: K[]): Buffer {
  const md = new Metadata(s);
  for (const k of keys)
    md.sign(
      (data) =>
        new Signature({ keyID: k.key.keyID, sig: sign('sha256', data, k.priv).toString('hex') }),
      true,
    );
  return bytes(md);
}

/** A one-key-per-role repository whose files the test sets, served on loopback. */
class Crafted {
  files = new Map<string, Buffer>();
  keys = { root: newKey(), targets: newKey(), snapshot: newKey(), timestamp: newKey() };
  url = '';
  private server = http.createServer((req, res) => {
    const body = this.files.get((req.url ?? '').replace(/^\/tuf\//, ''));
    if (body) res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    else res.writeHead(404).end('not found');
  });

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/tuf`;
    return this;
  }
  close(): void {
    this.server.close();
  }

  root(version: number, signers: K[] = [this.keys.root], expires = Date.now() + 365 * DAY) {
    const k = this.keys;
    const text = signed(
      new Root({
        specVersion,
        version,
        expires: iso(expires),
        consistentSnapshot: true,
        keys: Object.fromEntries(Object.values(k).map((x) => [x.key.keyID, x.key])),
        roles: Object.fromEntries(
          (['root', 'targets', 'snapshot', 'timestamp'] as const).map((r) => [
            r,
            new Role({ keyIDs: [k[r].key.keyID], threshold: 1 }),
          ]),
        ),
      }),
      ...signers,
    );
    this.files.set(`${version}.root.json`, text);
    return text;
  }

  /**
   * Publishes `content` as trusted_root.json in targets/snapshot/timestamp of these versions;
   * `timestampExpires` and `snapshotBytes` (what the timestamp's hash is of) may be changed.
   */
  publish(
    v: { targets: number; snapshot: number; timestamp: number },
    content: string,
    o: { timestampExpires?: number; snapshotBytes?: (snap: Buffer) => Buffer } = {},
  ): void {
    const target = Buffer.from(content);
    const sha256 = createHash('sha256').update(target).digest('hex');
    this.files.set(`targets/${sha256}.trusted_root.json`, target);
    const info = new TargetFile({
      path: 'trusted_root.json',
      length: target.length,
      hashes: { sha256 },
    });
    const expires = iso(Date.now() + 30 * DAY);
    this.files.set(
      `${v.targets}.targets.json`,
      signed(
        new Targets({
          specVersion,
          version: v.targets,
          expires,
          targets: { 'trusted_root.json': info },
        }),
        this.keys.targets,
      ),
    );
    const snap = signed(
      new Snapshot({
        specVersion,
        version: v.snapshot,
        expires,
        meta: { 'targets.json': new MetaFile({ version: v.targets }) },
      }),
      this.keys.snapshot,
    );
    this.files.set(`${v.snapshot}.snapshot.json`, snap);
    const named = o.snapshotBytes ? o.snapshotBytes(snap) : snap;
    this.files.set(
      'timestamp.json',
      signed(
        new Timestamp({
          specVersion,
          version: v.timestamp,
          expires: iso(o.timestampExpires ?? Date.now() + DAY),
          snapshotMeta: new MetaFile({
            version: v.snapshot,
            length: named.length,
            hashes: { sha256: createHash('sha256').update(named).digest('hex') },
          }),
        }),
        this.keys.timestamp,
      ),
    );
  }
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tuf-attack-'));

/** A client pinned to `root`, with its own cache; each call is one `signet verify` run. */
function client(repo: Crafted, root: Buffer) {
  const rootFile = path.join(tmp(), 'root.json');
  fs.writeFileSync(rootFile, root);
  const cacheDir = tmp();
  const warnings: string[] = [];
  const run = () =>
    fetchTrust({ tufUrl: repo.url, rootFile, cacheDir, warn: (m) => warnings.push(m) });
  return { run, warnings, cachePath: trustCachePath(cacheDir, repo.url, root.toString()) };
}

/**
 * A one-line TUF verification error (not "unreachable", not an offline fallback) matching `re`.
 * Only a signature failure points at the root file; nothing else suggests trusting anew.
 */
const refused = (re: RegExp) => (e: unknown) =>
  e instanceof SignetError &&
  e.code === 'TUF_VERIFICATION' &&
  re.test(e.message) &&
  !e.message.includes('\n') &&
  (/ was signed by /.test(e.message)
    ? / not signed by that root's keys/.test(e.message)
    : / TUF refuses such metadata \(a rollback| has expired: the repository withholds newer roots/.test(
        e.message,
      ) && !/trust it anew|not signed by that root's keys/.test(e.message));

test('rollback: an older timestamp, or one naming an older snapshot, is refused (5.4.3)', async () => {
  const repo = await new Crafted().start();
  try {
    const c = client(repo, repo.root(1));
    repo.publish({ targets: 1, snapshot: 2, timestamp: 2 }, '{"v":2}');
    assert.equal((await c.run()).trustedRootText, '{"v":2}');
    repo.publish({ targets: 1, snapshot: 1, timestamp: 1 }, '{"v":1}');
    await assert.rejects(c.run(), refused(/timestamp version 1 is less than current version 2/));
    repo.publish({ targets: 1, snapshot: 1, timestamp: 3 }, '{"v":1}');
    await assert.rejects(c.run(), refused(/snapshot version 1 is less than current version 2/));
    assert.deepEqual(c.warnings, []);
  } finally {
    repo.close();
  }
});

test('freeze: expired timestamp is refused, also when it is the very one the client cached (5.4.4)', async () => {
  const repo = await new Crafted().start();
  try {
    const c = client(repo, repo.root(1));
    repo.publish({ targets: 1, snapshot: 1, timestamp: 1 }, '{"v":1}', {
      timestampExpires: Date.now() + 2000,
    });
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    // The repository goes on serving the same bytes: once they expire, they are not used.
    await new Promise((r) => setTimeout(r, 2500));
    await assert.rejects(c.run(), refused(/timestamp\.json is expired/));
    // A new version that is already expired.
    repo.publish({ targets: 1, snapshot: 1, timestamp: 2 }, '{"v":1}', {
      timestampExpires: Date.now() - 1000,
    });
    await assert.rejects(c.run(), refused(/timestamp\.json is expired/));
  } finally {
    repo.close();
  }
});

test('mix-and-match: a snapshot or a target that does not match the hash signed for it is refused (5.5.2, 5.7)', async () => {
  const repo = await new Crafted().start();
  try {
    // The timestamp names another snapshot of the same length (one byte differs).
    const flip = (snap: Buffer) => {
      const other = Buffer.from(snap);
      other[other.length - 2] ^= 1;
      return other;
    };
    repo.publish({ targets: 1, snapshot: 1, timestamp: 1 }, '{"v":1}', { snapshotBytes: flip });
    await assert.rejects(client(repo, repo.root(1)).run(), refused(/hash/i));
    repo.publish({ targets: 1, snapshot: 1, timestamp: 1 }, '{"v":1}');
    const [name] = [...repo.files.keys()].filter((f) => f.startsWith('targets/'));
    repo.files.set(name!, Buffer.from('{"v":6}'));
    await assert.rejects(client(repo, repo.root(1)).run(), refused(/hash/i));
  } finally {
    repo.close();
  }
});

test('root rotation needs the old root keys and the new ones (5.3.4), and an expired final root is refused (5.3.10)', async () => {
  const repo = await new Crafted().start();
  try {
    const root1 = repo.root(1);
    repo.publish({ targets: 1, snapshot: 1, timestamp: 1 }, '{"v":1}');
    const old = repo.keys.root;
    repo.keys.root = newKey();
    // Signed only by the new key: the old root does not vouch for it.
    repo.root(2, [repo.keys.root]);
    await assert.rejects(client(repo, root1).run(), refused(/root.*signed by 0\/1 keys/));
    // Signed only by the old key: the new root does not vouch for itself.
    repo.root(2, [old]);
    await assert.rejects(client(repo, root1).run(), refused(/root.*signed by 0\/1 keys/));
    // Both: followed.
    repo.root(2, [old, repo.keys.root]);
    assert.equal((await client(repo, root1).run()).trustedRootText, '{"v":1}');
    // A version that skips one is not the next root.
    repo.files.delete('2.root.json');
    repo.files.set('2.root.json', repo.root(3, [old, repo.keys.root]));
    await assert.rejects(client(repo, root1).run(), refused(/Expected version 2, got 3/));
    // The newest root has expired: nothing it signs is trusted.
    repo.root(2, [old, repo.keys.root], Date.now() - 1000);
    repo.files.delete('3.root.json');
    await assert.rejects(
      client(repo, root1).run(),
      refused(/Final root\.json is expired; the newest root reached from \S+ has expired/),
    );
  } finally {
    repo.close();
  }
});

test('a pinned root anchors every run: a root someone wrote into the cache, with metadata of its own, is set aside; a cache that followed a rotation from the pin is used', async () => {
  const repo = await new Crafted().start();
  try {
    const root1 = repo.root(1);
    repo.publish({ targets: 1, snapshot: 1, timestamp: 1 }, '{"v":1}');
    const c = client(repo, root1);
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    // A rotation, followed from the pin; later runs walk the kept versions back to it.
    const old = repo.keys.root;
    repo.keys.root = newKey();
    repo.root(2, [old, repo.keys.root]);
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.deepEqual(c.warnings, []);

    // The attack (a red-team review's): a self-signed root at version 1000 whose timestamp role
    // also lists the repository's real timestamp key, so the real timestamp verifies under it,
    // has the cached one's version and is dropped, and the cached snapshot, targets and target
    // of the attacker's are read.
    const evil = new Crafted();
    evil.publish({ targets: 1, snapshot: 1, timestamp: 1 }, '{"v":"evil"}');
    const k = evil.keys;
    const evilRoot = signed(
      new Root({
        specVersion,
        version: 1000,
        expires: iso(Date.now() + 365 * DAY),
        consistentSnapshot: true,
        keys: Object.fromEntries(
          [...Object.values(k), repo.keys.timestamp].map((x) => [x.key.keyID, x.key]),
        ),
        roles: {
          root: new Role({ keyIDs: [k.root.key.keyID], threshold: 1 }),
          targets: new Role({ keyIDs: [k.targets.key.keyID], threshold: 1 }),
          snapshot: new Role({ keyIDs: [k.snapshot.key.keyID], threshold: 1 }),
          timestamp: new Role({
            keyIDs: [k.timestamp.key.keyID, repo.keys.timestamp.key.keyID],
            threshold: 1,
          }),
        },
      }),
      k.root,
    );
    const meta = path.join(c.cachePath, 'metadata');
    fs.writeFileSync(path.join(meta, 'root.json'), evilRoot);
    fs.writeFileSync(path.join(meta, 'timestamp.json'), evil.files.get('timestamp.json')!);
    fs.writeFileSync(path.join(meta, 'snapshot.json'), evil.files.get('1.snapshot.json')!);
    fs.writeFileSync(path.join(meta, 'targets.json'), evil.files.get('1.targets.json')!);
    fs.writeFileSync(path.join(c.cachePath, 'targets', 'trusted_root.json'), '{"v":"evil"}');
    fs.rmSync(path.join(c.cachePath, 'verified.json'), { force: true });
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0]!, /does not follow from the given root .* set aside/);
    // Fetched again from the pin: the next run is anchored and says nothing.
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal(c.warnings.length, 1);

    // A second rotation (cache at 3, version 2 kept); then the kept version 2 is replaced by one
    // the pinned root never signed: the chain breaks, the cache is set aside again.
    const second = repo.keys.root;
    repo.keys.root = newKey();
    repo.root(3, [second, repo.keys.root]);
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal(c.warnings.length, 1);
    const other = new Crafted();
    fs.writeFileSync(path.join(c.cachePath, 'roots', '2.root.json'), other.root(2));
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal(c.warnings.length, 2);
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal(c.warnings.length, 2);
  } finally {
    repo.close();
  }
});

test('one refresh follows at most 32 root versions (a repository holding the root key cannot make a run fetch 256), and the next run goes on', async () => {
  const repo = await new Crafted().start();
  try {
    const root1 = repo.root(1);
    repo.publish({ targets: 1, snapshot: 1, timestamp: 1 }, '{"v":1}');
    for (let v = 2; v <= 40; v++) {
      const old = repo.keys.root;
      repo.keys.root = newKey();
      repo.root(v, [old, repo.keys.root]);
    }
    const c = client(repo, root1);
    const cachedVersion = () =>
      (
        JSON.parse(fs.readFileSync(path.join(c.cachePath, 'metadata', 'root.json'), 'utf8')) as {
          signed: { version: number };
        }
      ).signed.version;
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal(cachedVersion(), 33);
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal(cachedVersion(), 40);
    assert.deepEqual(c.warnings, []);

    // Further: a timestamp key the 32nd version on cannot verify (rotated at version 80). The
    // first run stops part-way and fails; the next goes on from the root it reached (the
    // versions it downloaded are kept at once, so the walk from the pin finds them) and works,
    // with no word of a changed cache.
    for (let v = 41; v <= 80; v++) {
      const old = repo.keys.root;
      repo.keys.root = newKey();
      if (v === 80) repo.keys.timestamp = newKey();
      repo.root(v, [old, repo.keys.root]);
    }
    repo.publish({ targets: 1, snapshot: 1, timestamp: 2 }, '{"v":1}');
    await assert.rejects(c.run());
    assert.equal(cachedVersion(), 72);
    assert.equal((await c.run()).trustedRootText, '{"v":1}');
    assert.equal(cachedVersion(), 80);
    assert.deepEqual(c.warnings, []);
  } finally {
    repo.close();
  }
});

test("a first-use root over tuf-js's 512 KB limit for roots is refused, not read up to 16 MiB", async () => {
  const repo = await new Crafted().start();
  try {
    repo.files.set('1.root.json', Buffer.alloc(600_000, 0x20));
    const cacheDir = tmp();
    await assert.rejects(
      fetchTrust({ tufUrl: repo.url, cacheDir, warn: () => {} }),
      (e: unknown) =>
        e instanceof SignetError &&
        /cannot fetch the initial root: .*(too large|larger than)/.test(e.message),
    );
  } finally {
    repo.close();
  }
});
