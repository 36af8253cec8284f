/**
 * A rotation freezes the log shard a monitor follows (its `validFor` gets an end). Entries made
 * after the monitor's last pass and before the rotation are in that shard: a monitor that
 * followed it reads it to its end, with the new trusted root as with the old one; a monitor
 * that never followed it does not start on it (the public-good root lists logs long shut down).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stackToken, tempStack } from '../../helpers/stack.ts';
import { startStack } from '../../../src/services/stack.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import { monitorFromFlags } from '../../../src/client/monitor/setup.ts';
import type { Alert, IdentityAlert } from '../../../src/client/monitor/alerts.ts';

const quiet = { info() {}, warn() {}, error() {} };

async function sign(url: string, text: string): Promise<string> {
  const ctx = await setupSigning({
    server: url,
    identityToken: await stackToken(url),
    rekorVersion: 2,
    interactive: 'never',
    env: {},
  });
  const bundle = await signArtifact(new TextEncoder().encode(text), ctx);
  return `${bundle.verificationMaterial.tlogEntries[0]!.logIndex}`;
}

/**
 * A monitor of `rootFile` with `config` and its state in `state`; each call of what it returns
 * is a pass, giving the Rekor alerts found ("shards/N index"), sorted.
 */
async function rekorWatcher(rootFile: string, config: string, state: string) {
  const lines: Alert[] = [];
  const m = await monitorFromFlags(
    { trustedRoot: rootFile, config, state },
    { print: (l: string) => lines.push(JSON.parse(l) as Alert), report: () => {} },
  );
  return async () => {
    lines.length = 0;
    const r = await m.pass();
    assert.equal(r.errors, 0);
    return lines
      .filter((a): a is IdentityAlert => a.type === 'identity' && a.log.includes('/rekor/'))
      .map((a) => `${a.log.replace(/.*\/rekor\//, '')} ${a.logIndex}`)
      .sort();
  };
}

test('after a rotation, the monitor reads the frozen shard it followed to its end', async () => {
  const first = await tempStack();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-monitor-rotation-'));
  const rootFile = path.join(dir, 'root.json');
  const state = path.join(dir, 'state.json');
  const config =
    'startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n';
  // A new monitor each pass, as a cron job runs one.
  const pass = async (flags: { state: string }) =>
    (await rekorWatcher(rootFile, config, flags.state))();
  const port = Number(new URL(first.url).port);
  fs.writeFileSync(rootFile, await (await fetch(`${first.url}/trusted_root.json`)).text());
  await sign(first.url, 'one');
  assert.deepEqual(await pass({ state }), ['shards/1 0']);
  // Logged after that pass, before the rotation.
  assert.equal(await sign(first.url, 'two'), '1');
  await first.close();
  KeyRing.rotate(first.dataDir, 'rekor');
  const stack = await startStack({ port, host: '127.0.0.1', dataDir: first.dataDir, log: quiet });
  try {
    assert.equal(await sign(stack.url, 'three'), '0');
    fs.writeFileSync(rootFile, await (await fetch(`${stack.url}/trusted_root.json`)).text());
    const shards = (
      JSON.parse(fs.readFileSync(rootFile, 'utf8')) as {
        tlogs: Array<{ baseUrl: string; publicKey: { validFor: { end?: string } } }>;
      }
    ).tlogs.map((l) => [
      l.baseUrl.replace(/.*\/rekor\//, ''),
      l.publicKey.validFor.end !== undefined,
    ]);
    assert.deepEqual(shards, [
      ['shards/1', true],
      ['shards/2', false],
    ]);
    // The shard it followed is read to its end; the new one from its start.
    assert.deepEqual(await pass({ state }), ['shards/1 1', 'shards/2 0']);
    // Nothing is read twice, and the frozen shard is still checked on each pass.
    assert.deepEqual(await pass({ state }), []);
    // A monitor that never followed the frozen shard starts on the active one alone.
    assert.deepEqual(await pass({ state: path.join(dir, 'fresh.json') }), ['shards/2 0']);
  } finally {
    await stack.close();
  }
});

test('without startIndex, a shard opened by a rotation is read from its first entry: by a polling monitor, and from a kept state', async () => {
  const first = await tempStack();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-monitor-opened-'));
  const rootFile = path.join(dir, 'root.json');
  const config = 'monitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n';
  const monitor = (state: string) => rekorWatcher(rootFile, config, state);
  const port = Number(new URL(first.url).port);
  fs.writeFileSync(rootFile, await (await fetch(`${first.url}/trusted_root.json`)).text());
  await sign(first.url, 'before any pass');
  const polling = await monitor(path.join(dir, 'polling.json'));
  const kept = path.join(dir, 'kept.json');
  // Without startIndex both start at the head: what was logged before is not theirs to read.
  assert.deepEqual(await polling(), []);
  assert.deepEqual(await (await monitor(kept))(), []);
  assert.equal(await sign(first.url, 'after the first pass'), '1');
  await first.close();
  KeyRing.rotate(first.dataDir, 'rekor');
  const stack = await startStack({ port, host: '127.0.0.1', dataDir: first.dataDir, log: quiet });
  try {
    assert.equal(await sign(stack.url, 'in the new shard'), '0');
    fs.writeFileSync(rootFile, await (await fetch(`${stack.url}/trusted_root.json`)).text());
    // The running monitor reads the root again and starts the new shard at its first entry.
    assert.deepEqual(await polling(), ['shards/1 1', 'shards/2 0']);
    assert.deepEqual(await polling(), []);
    // So does a new run on the state the first pass kept.
    assert.deepEqual(await (await monitor(kept))(), ['shards/1 1', 'shards/2 0']);
    // A new state starts at the head of the active shard, as before.
    assert.deepEqual(await (await monitor(path.join(dir, 'fresh.json')))(), []);
  } finally {
    await stack.close();
  }
});

test('a polling monitor whose trusted root cannot be read again says so and goes on with the logs it had', async () => {
  const stack = await tempStack();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-monitor-reread-'));
  const rootFile = path.join(dir, 'root.json');
  const rootText = await (await fetch(`${stack.url}/trusted_root.json`)).text();
  fs.writeFileSync(rootFile, rootText);
  const errors: string[] = [];
  const lines: string[] = [];
  try {
    const m = await monitorFromFlags(
      {
        trustedRoot: rootFile,
        config: 'monitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n',
        state: path.join(dir, 'state.json'),
      },
      {
        print: (l: string) => lines.push(l),
        report: (e) => {
          if (e.level === 'error') errors.push(String(e.error));
        },
      },
    );
    assert.equal((await m.pass()).errors, 0);
    fs.writeFileSync(rootFile, '{ not json');
    await sign(stack.url, 'logged while the root is unreadable');
    const r = await m.pass();
    assert.equal(r.errors, 1);
    assert.match(
      errors.join('\n'),
      /^the trusted root could not be read again, so a log it added would not be followed: .*root\.json/,
    );
    // The logs it had are still read: the entry is found, in Rekor and in the CT log.
    assert.equal(r.matched, 2);
    fs.writeFileSync(rootFile, rootText);
    assert.equal((await m.pass()).errors, 0);
  } finally {
    await stack.close();
  }
});
