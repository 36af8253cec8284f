/**
 * `signet monitor --read-from`: a stack moved to another port keeps its logs' origins (the
 * trusted root's URLs), so the monitor reads them where they are served now, with the keys and
 * names of the trusted root, and its state continues across the move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { startStack } from '../../../src/services/stack.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import {
  monitorFromFlags,
  readLocations,
  readMonitorConfig,
} from '../../../src/client/monitor/setup.ts';
import { Monitor } from '../../../src/client/monitor/monitor.ts';
import { RekorV1Source } from '../../../src/client/monitor/sources.ts';
import { parseTrustedRoot } from '../../../src/bundle/trusted-root.ts';
import type { Alert, IdentityAlert } from '../../../src/client/monitor/alerts.ts';

const people = ['dev@signet.local', 'other@signet.local'];
const oidc = { identities: people.map((name) => ({ flavor: 'email', name })) };
const quietLog = { info() {}, warn() {}, error() {} };

async function sign(url: string, subject: string, rekorVersion: 1 | 2, text: string) {
  const ctx = await setupSigning({
    server: url,
    identityToken: await stackToken(url, subject),
    rekorVersion,
    interactive: 'never',
    env: {},
  });
  await signArtifact(new TextEncoder().encode(text), ctx);
}

async function run(flags: Parameters<typeof monitorFromFlags>[0]) {
  const lines: Alert[] = [];
  const errors: string[] = [];
  const m = await monitorFromFlags(flags, {
    print: (l: string) => lines.push(JSON.parse(l) as Alert),
    report: (e) => {
      if (e.level === 'error') errors.push(String(e.error));
    },
  });
  return { r: await m.pass(), lines, errors };
}

test('a stack moved to another port is followed with --read-from, its state continuing', async () => {
  const first = await tempStack({ config: { oidc } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-read-from-'));
  const rootFile = path.join(dir, 'root.json');
  const configFile = path.join(dir, 'watch.yaml');
  const flags = { trustedRoot: rootFile, config: configFile, state: path.join(dir, 'state.json') };
  const oldUrl = first.url;
  let moved: Awaited<ReturnType<typeof startStack>> | undefined;
  try {
    fs.writeFileSync(rootFile, await (await fetch(`${oldUrl}/trusted_root.json`)).text());
    fs.writeFileSync(
      configFile,
      `startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n`,
    );
    await sign(oldUrl, 'dev@signet.local', 2, 'before the move');
    const before = await run(flags);
    assert.equal(before.r.errors, 0, before.errors.join('\n'));
    assert.equal(before.r.problems, 0);
    // The log entry and the precertificate.
    assert.equal(before.lines.length, 2, JSON.stringify(before.lines));
    await first.close();

    // The same data folder on another port: the trusted root still names the old address.
    moved = await startStack({
      port: 0,
      host: '127.0.0.1',
      dataDir: first.dataDir,
      log: quietLog,
      config: { oidc },
    });
    assert.notEqual(moved.url, oldUrl);
    await sign(moved.url, 'dev@signet.local', 2, 'after the move');
    await sign(moved.url, 'dev@signet.local', 1, 'after the move, v1');
    await sign(moved.url, 'other@signet.local', 2, 'someone else');

    // Without --read-from the logs cannot be reached where the root says.
    const lost = await run(flags);
    assert.ok(lost.r.errors > 0);
    assert.deepEqual(lost.lines, []);

    await assert.rejects(
      run({ ...flags, readFrom: ['http://127.0.0.2:1=http://127.0.0.1:2'] }),
      /--read-from: "http:\/\/127.0.0.2:1=http:\/\/127.0.0.1:2": no log followed is at/,
    );
    const after = await run({ ...flags, readFrom: [`${oldUrl}=${moved.url}`] });
    assert.equal(after.r.errors, 0, after.errors.join('\n'));
    assert.equal(after.r.problems, 0);
    const ids = after.lines as IdentityAlert[];
    // Only what was signed after the move: two log entries and two precertificates.
    assert.equal(ids.length, 4, JSON.stringify(ids));
    assert.deepEqual(ids.map((a) => a.kind).sort(), [
      'ct/precert',
      'ct/precert',
      'hashedrekord/0.0.1',
      'hashedrekord/0.0.2',
    ]);
    for (const a of ids) {
      assert.equal(a.identity, 'dev@signet.local');
      assert.ok(a.log.startsWith(oldUrl), 'the log keeps its name from the trusted root');
      assert.ok(a.entryUrl.startsWith(moved.url), 'the link is where the entry is served');
    }

    // The moved stack's own trusted root names its CT log at the new address (the Rekor logs
    // keep their origins): the state follows the log by its key, not its URL, so nothing is
    // read again and nothing is alerted twice.
    await sign(moved.url, 'dev@signet.local', 2, 'after the new root');
    const newRoot = path.join(dir, 'new-root.json');
    fs.writeFileSync(newRoot, await (await fetch(`${moved.url}/trusted_root.json`)).text());
    const ct = parseTrustedRoot(JSON.parse(fs.readFileSync(newRoot, 'utf8'))).ctlogs[0]!;
    assert.ok(ct.baseUrl.startsWith(moved.url), ct.baseUrl);
    const again = await run({
      ...flags,
      trustedRoot: newRoot,
      readFrom: [`${oldUrl}=${moved.url}`],
    });
    assert.equal(again.r.errors, 0, again.errors.join('\n'));
    assert.equal(again.r.problems, 0, JSON.stringify(again.lines));
    assert.deepEqual((again.lines as IdentityAlert[]).map((a) => a.kind).sort(), [
      'ct/precert',
      'hashedrekord/0.0.2',
    ]);

    // The same log through its Rekor v1 API, moved too: checkpoints named after the old host
    // (the trusted root's), read at the new address.
    const shard = parseTrustedRoot(JSON.parse(fs.readFileSync(rootFile, 'utf8'))).tlogs[0]!;
    const v1Log = { ...shard, baseUrl: `${oldUrl}/rekor` };
    const v1Alerts: IdentityAlert[] = [];
    const v1 = new Monitor({
      sources: [new RekorV1Source(v1Log, {}, `${moved.url}/rekor`)],
      config: readMonitorConfig(configFile),
      print: (l) => v1Alerts.push(JSON.parse(l) as IdentityAlert),
      report: () => {},
    });
    const v1r = await v1.pass();
    assert.equal(v1r.errors, 0);
    assert.equal(v1r.problems, 0);
    assert.deepEqual(v1Alerts.map((a) => a.kind).sort(), [
      'hashedrekord/0.0.1',
      'hashedrekord/0.0.2',
      'hashedrekord/0.0.2',
      'hashedrekord/0.0.2',
    ]);
    for (const a of v1Alerts) {
      assert.equal(a.log, `${oldUrl}/rekor`);
      assert.ok(a.entryUrl.startsWith(`${moved.url}/rekor/api/v1/log/entries?logIndex=`));
    }
  } finally {
    await moved?.close();
    await first.close().catch(() => undefined);
  }
});

test('--read-from values are checked', () => {
  assert.throws(() => readLocations(['not a url']), /--read-from: "not a url" is not/);
  assert.throws(() => readLocations(['http://a=ftp://b']), /--read-from/);
  assert.throws(
    () => readLocations(['http://a', 'http://b=http://c']),
    /--read-from: a bare URL is for a single log/,
  );
  const where = readLocations(['http://old:1=http://new:2/']);
  assert.equal(where('http://old:1/rekor', 3), 'http://new:2/rekor');
  assert.equal(where('http://old:1', 3), 'http://new:2');
  assert.equal(
    where('http://old:10/rekor', 3),
    'http://old:10/rekor',
    'a prefix of the host is not the host',
  );
  assert.throws(() => readLocations(['http://new:2'])('http://old:1/rekor', 2), /exactly one log/);
  assert.equal(readLocations(['http://new:2'])('http://old:1/rekor', 1), 'http://new:2');
});

test('a state file keyed by log URL (as before) is read, and continues under the log IDs', async () => {
  const stack = await tempStack({ config: { oidc } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-old-state-'));
  try {
    const rootFile = path.join(dir, 'root.json');
    fs.writeFileSync(rootFile, await (await fetch(`${stack.url}/trusted_root.json`)).text());
    const root = parseTrustedRoot(JSON.parse(fs.readFileSync(rootFile, 'utf8')));
    const stateFile = path.join(dir, 'state.json');
    const flags = {
      trustedRoot: rootFile,
      state: stateFile,
      config:
        'startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubjectExact: dev@signet.local\n',
    };
    await sign(stack.url, 'dev@signet.local', 2, 'one');
    assert.equal((await run(flags)).lines.length, 2);
    // Rewrite the state as earlier versions wrote it: each log under its base URL.
    const s = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { logs: Record<string, unknown> };
    const byUrl: Record<string, unknown> = {};
    for (const l of [...root.tlogs, ...root.ctlogs]) {
      const key = `logid:${Buffer.from(l.logId).toString('hex')}`;
      if (s.logs[key]) byUrl[l.baseUrl.replace(/\/+$/, '')] = s.logs[key];
    }
    assert.equal(Object.keys(byUrl).length, Object.keys(s.logs).length);
    fs.writeFileSync(stateFile, JSON.stringify({ ...s, logs: byUrl }));
    await sign(stack.url, 'dev@signet.local', 2, 'two');
    const next = await run(flags);
    assert.equal(next.r.problems, 0, JSON.stringify(next.lines));
    // Only the new signature's entry and precertificate: nothing read again.
    assert.equal(next.lines.length, 2, JSON.stringify(next.lines));
    const keys = Object.keys(
      (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { logs: object }).logs,
    );
    assert.ok(
      keys.every((k) => k.startsWith('logid:')),
      keys.join(', '),
    );
  } finally {
    await stack.close();
  }
});
