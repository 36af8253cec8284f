// `signet backup` of a running stack, later `signet restore` and `signet up`: a client whose TUF
// cache followed the stack after the backup (newer timestamp, snapshot and targets versions
// than the backup holds) still updates from the restored stack. A TUF client refuses a lower
// version than it holds as a rollback, and keeps its own (soon expired) copy over an equal one
// (TUF 1.0 §5.4-5.6), so the restored stack must publish versions above anything seen before.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fetchTrust } from '../../../src/client/tuf/index.ts';
import { startStack } from '../../../src/services/stack.ts';
import { tempStack } from '../../helpers/stack.ts';

const bin = path.resolve('bin/signet');
const run = (args: string[]) => spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `signet-tuf-${name}-`));
const quiet = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until the clock is past the second `version` names (versions count Unix seconds). */
const laterSecondThan = async (version: number) => {
  while (Math.floor(Date.now() / 1000) <= version) await sleep(50);
};
const text = async (url: string) => (await fetch(url)).text();

/** The versions of the metadata a client holds in its TUF cache. */
function cachedVersions(cachePath: string): Record<'timestamp' | 'snapshot' | 'targets', number> {
  const v = (role: string) =>
    (
      JSON.parse(fs.readFileSync(path.join(cachePath, 'metadata', `${role}.json`), 'utf8')) as {
        signed: { version: number };
      }
    ).signed.version;
  return { timestamp: v('timestamp'), snapshot: v('snapshot'), targets: v('targets') };
}

/** A client with its own cache, pinned to the stack's 1.root.json (as `--tuf-root` pins it). */
async function client(url: string) {
  const rootFile = path.join(tmp('root'), 'root.json');
  fs.writeFileSync(rootFile, await text(`${url}/tuf/1.root.json`));
  const cacheDir = tmp('cache');
  return async (server: string) => {
    const t = await fetchTrust({
      serverUrl: server,
      rootFile,
      cacheDir,
      timeoutMs: 10_000,
      warn: (m) => assert.fail(`unexpected warning: ${m}`),
    });
    return { ...t, versions: cachedVersions(t.cachePath) };
  };
}

/** `signet restore` of `backup` into a new folder; its path. */
function restore(backup: string): string {
  const dir = path.join(tmp('restored'), 'data');
  const r = run(['restore', backup, '--data', dir]);
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

function backup(dataDir: string): string {
  const out = path.join(tmp('backup'), 'b');
  const b = run(['backup', '--data', dataDir, out]);
  assert.equal(b.status, 0, b.stderr);
  return out;
}

const greater = (a: Record<string, number>, b: Record<string, number>, what: string) => {
  for (const role of Object.keys(b))
    assert.ok(a[role]! > b[role]!, `${what}: ${role} ${a[role]} > ${b[role]}`);
};

test('a client whose timestamp moved on after the backup updates from the restored stack', async () => {
  // A 3-second timestamp, re-signed once less than 1.5 s of it remains (on the next request).
  const config = { tuf: { lifetimes: { timestamp: 3 / 86400 } } };
  const s = await tempStack({ config });
  const port = Number(new URL(s.url).port);
  const fetchAs = await client(s.url);
  let out: string;
  const seen: Array<Record<string, number>> = [];
  try {
    out = backup(s.dataDir);
    for (let i = 0; i < 4; i++) {
      if (i > 0) await sleep(1700);
      seen.push((await fetchAs(s.url)).versions);
    }
  } finally {
    await s.close();
  }
  for (let i = 1; i < seen.length; i++)
    assert.ok(seen[i]!.timestamp! > seen[i - 1]!.timestamp!, JSON.stringify(seen));
  const restored = restore(out);
  // Versions count seconds: a restore takes longer than the rest of the second of the last
  // publication, except in a test.
  await laterSecondThan(seen.at(-1)!.timestamp!);
  // Same port: the URLs in the trusted root are the stack's.
  const r = await startStack({ port, host: '127.0.0.1', dataDir: restored, log: quiet, config });
  try {
    const got = await fetchAs(r.url);
    assert.equal(got.trustedRootText, await text(`${r.url}/trusted_root.json`));
    greater(
      { timestamp: got.versions.timestamp },
      { timestamp: seen.at(-1)!.timestamp! },
      'restored',
    );
    // And on: the restored stack's next re-signing is taken too.
    await sleep(1700);
    const next = await fetchAs(r.url);
    greater({ timestamp: next.versions.timestamp }, { timestamp: got.versions.timestamp }, 'next');
  } finally {
    await r.close();
  }
});

test('a client that fetched what a restart published after the backup (a rotated key) updates from the restored stack, whose metadata has not expired', async () => {
  const s = await tempStack(); // default lifetimes: nothing expires during the test
  const port = Number(new URL(s.url).port);
  const fetchAs = await client(s.url);
  const before = await fetchAs(s.url);
  const out = backup(s.dataDir);
  await s.close();
  // After the backup: the TSA key is rotated and the stack started again, which publishes a new
  // trusted root (new targets, snapshot, timestamp); the client takes it.
  const rot = run(['rotate', '--data', s.dataDir, 'tsa']);
  assert.equal(rot.status, 0, rot.stderr);
  const s2 = await startStack({ port, host: '127.0.0.1', dataDir: s.dataDir, log: quiet });
  let after: Awaited<ReturnType<typeof fetchAs>>;
  try {
    after = await fetchAs(s2.url);
    assert.notEqual(after.trustedRootText, before.trustedRootText, 'the rotation was published');
    greater(after.versions, before.versions, 'after the rotation');
  } finally {
    await s2.close();
  }
  // The backup, restored, holds the trusted root from before the rotation, with its unexpired
  // metadata, of the versions the client had before.
  const restored = restore(out);
  await laterSecondThan(after.versions.timestamp);
  const r = await startStack({ port, host: '127.0.0.1', dataDir: restored, log: quiet });
  try {
    const got = await fetchAs(r.url);
    assert.equal(got.trustedRootText, await text(`${r.url}/trusted_root.json`));
    assert.equal(got.trustedRootText, before.trustedRootText);
    greater(got.versions, after.versions, 'restored');
  } finally {
    await r.close();
  }
});
