import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { startStack } from '../../../src/services/stack.ts';
import { startWitness } from '../../../src/services/witness/server.ts';
import { witnessedLogs } from '../../../src/services/witness/logs.ts';
import { originHash } from '../../../src/services/witness/witness.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import { monitorFromFlags } from '../../../src/client/monitor/setup.ts';
import type { Alert, IdentityAlert, LogAlert } from '../../../src/client/monitor/alerts.ts';
import { originOfUrl } from '../../../src/core/note/checkpoint.ts';
import { quiet } from '../../services/context.ts';
import { monitorCli } from './watched-stack.ts';

const people = ['dev@signet.local', 'other@signet.local', 'mallory@signet.local'];
const oidc = { identities: people.map((name) => ({ flavor: 'email', name })) };

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));

async function sign(url: string, subject: string, rekorVersion: 1 | 2, text: string) {
  const ctx = await setupSigning({
    server: url,
    identityToken: await stackToken(url, subject),
    rekorVersion,
    interactive: 'never',
    env: {},
  });
  return signArtifact(new TextEncoder().encode(text), ctx);
}

async function run(flags: Parameters<typeof monitorFromFlags>[0], extra = {}) {
  const lines: Alert[] = [];
  const m = await monitorFromFlags(flags, {
    print: (l: string) => lines.push(JSON.parse(l) as Alert),
    report: () => {},
    ...extra,
  });
  const r = await m.pass();
  return { r, lines };
}

test('the monitor reports an identity in the transparency and CT logs, only that one, once, across a restart; webhooks are signed and retried', async () => {
  const stack = await tempStack({ config: { oidc } });
  const dir = tmp('signet-monitor-');
  const rootFile = path.join(dir, 'root.json');
  const configFile = path.join(dir, 'watch.yaml');
  const stateFile = path.join(dir, 'state.json');
  // A webhook receiver on loopback that fails the first delivery.
  const received: Array<{ body: string; sig: string | undefined }> = [];
  let calls = 0;
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      calls++;
      if (calls === 1) {
        res.writeHead(500).end();
        return;
      }
      received.push({ body, sig: req.headers['x-signet-signature-256'] as string | undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`;
  try {
    fs.writeFileSync(rootFile, await (await fetch(`${stack.url}/trusted_root.json`)).text());
    fs.writeFileSync(
      configFile,
      [
        'startIndex: 0',
        'monitoredValues:',
        '  certIdentities:',
        '    - certSubjectExact: dev@signet.local',
        `      issuersExact: ['${stack.url}/oidc']`,
        '',
      ].join('\n'),
    );
    await sign(stack.url, 'dev@signet.local', 2, 'one');
    await sign(stack.url, 'other@signet.local', 2, 'two');
    await sign(stack.url, 'dev@signet.local', 1, 'three');
    const flags = {
      trustedRoot: rootFile,
      config: configFile,
      state: stateFile,
      webhook: [hookUrl],
      webhookSecret: 's3cret',
    };
    const reports: Array<Record<string, unknown>> = [];
    const first = await run(flags, {
      webhookOptions: { backoffMs: 10 },
      report: (e: Record<string, unknown>) => reports.push(e),
    });
    assert.equal(first.r.problems, 0);
    assert.equal(first.r.errors, 0);
    // A run that watches something is not told it watches nothing; one without --config is,
    // once, and still checks the logs.
    const nothing = /no identity, subject, fingerprint or OID is watched \(give --config\)/;
    assert.ok(!reports.some((e) => nothing.test(String(e['message']))), JSON.stringify(reports));
    const bare: Array<Record<string, unknown>> = [];
    const m = await monitorFromFlags(
      { trustedRoot: rootFile, state: path.join(dir, 'bare-state.json') },
      { print: () => {}, report: (e) => bare.push(e) },
    );
    assert.equal((await m.pass()).errors, 0);
    await m.pass();
    assert.equal(bare.filter((e) => nothing.test(String(e['message']))).length, 1);
    // --compare with the log's own checkpoint while every log is followed, the CT log too: a
    // signed note is nothing to compare a CT tree head with, which is no error.
    const cpFile = path.join(dir, 'cp.txt');
    fs.writeFileSync(cpFile, await (await fetch(`${stack.url}/rekor/checkpoint`)).text());
    const compared = await run({
      trustedRoot: rootFile,
      state: path.join(dir, 'compared.json'),
      compare: [cpFile],
    });
    assert.equal(compared.r.errors, 0, JSON.stringify(compared.lines));
    assert.equal(compared.r.problems, 0, JSON.stringify(compared.lines));
    const ids = first.lines as IdentityAlert[];
    // dev signed twice: two log entries and two precertificates; other@ never appears.
    assert.equal(ids.filter((a) => a.kind.startsWith('ct/')).length, 2, JSON.stringify(ids));
    assert.deepEqual(
      ids
        .filter((a) => !a.kind.startsWith('ct/'))
        .map((a) => a.kind)
        .sort(),
      ['hashedrekord/0.0.1', 'hashedrekord/0.0.2'],
    );
    for (const a of ids) {
      assert.equal(a.type, 'identity');
      assert.equal(a.identity, 'dev@signet.local');
      assert.equal(a.issuer, `${stack.url}/oidc`);
      assert.ok(a.entryUrl.startsWith(a.log));
      // The link opens: for a tile log, the partial tile the newest entries are in.
      assert.equal((await fetch(a.entryUrl)).status, 200, a.entryUrl);
      assert.deepEqual(a.matches[0], {
        rule: 'certIdentities[0]',
        field: 'subject',
        pattern: 'dev@signet.local',
        value: 'dev@signet.local',
      });
      if (!a.kind.startsWith('ct/')) assert.match(a.artifactDigest!, /^sha256:[0-9a-f]{64}$/);
    }
    // Every alert reached the webhook once (after one retry), signed with the secret.
    assert.equal(received.length, ids.length);
    for (const r of received)
      assert.equal(r.sig, `sha256=${createHmac('sha256', 's3cret').update(r.body).digest('hex')}`);
    assert.deepEqual(
      received.map((r) => (JSON.parse(r.body) as Alert).id).sort(),
      ids.map((a) => a.id).sort(),
    );

    // A second run with nothing new says nothing.
    const quietRun = await run(flags);
    assert.deepEqual(quietRun.lines, []);
    // New entries after a restart: exactly those.
    await sign(stack.url, 'dev@signet.local', 2, 'four');
    await sign(stack.url, 'other@signet.local', 1, 'five');
    const next = await run(flags);
    assert.equal(next.lines.length, 2, JSON.stringify(next.lines));
    const seen = new Set(ids.map((a) => `${a.log}#${a.logIndex}`));
    for (const a of next.lines as IdentityAlert[]) assert.ok(!seen.has(`${a.log}#${a.logIndex}`));

    // The command: --once exits 2 when an identity matched, 0 when nothing did, 1 on bad input.
    // (run asynchronously: the stack answering it lives in this process)
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['src/cli/main.ts', 'monitor', '--once', '--trusted-root', rootFile, ...args],
          { encoding: 'utf8' },
          (err, stdout, stderr) =>
            resolve({
              status: err ? ((err as { code?: number }).code ?? null) : 0,
              stdout,
              stderr,
            }),
        ),
      );
    const matched = await cli('--config', configFile, '--state', path.join(dir, 'cli-state.json'));
    assert.equal(matched.status, 2, matched.stderr);
    assert.equal(matched.stdout.trim().split('\n').length, 6);
    const nobody = path.join(dir, 'nobody.yaml');
    fs.writeFileSync(nobody, 'startIndex: 0\nmonitoredValues:\n  subjects: [nobody@nowhere]\n');
    assert.equal((await cli('--config', nobody)).status, 0);
    // a webhook without a secret gets unsigned alerts: said once, at the start
    const hookArgs = ['--config', nobody, '--webhook', 'http://127.0.0.1:9/alerts'];
    const unsigned = await cli(...hookArgs);
    assert.equal(unsigned.status, 0, unsigned.stderr);
    assert.match(
      unsigned.stderr,
      /^warning: --webhook without --webhook-secret \(or SIGNET_WEBHOOK_SECRET\): alerts are sent unsigned, so a receiver cannot tell them from forged ones$/m,
    );
    const keyed = await cli(...hookArgs, '--webhook-secret', 's3cret');
    assert.equal(keyed.status, 0, keyed.stderr);
    assert.doesNotMatch(keyed.stderr, /warning: --webhook without/);
    fs.writeFileSync(nobody, 'monitoredValues:\n  subjects: ["(bad"]\n');
    const bad = await cli('--config', nobody);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /monitoredValues\.subjects\[0\]: is not a valid regular expression/);
  } finally {
    hook.close();
    await stack.close();
  }
});

test('a forked log (a second stack with the first one’s key) is detected by the monitor and refused by a witness', async () => {
  const dataA = tmp('signet-fork-a-');
  const a = await tempStack({ dataDir: dataA, config: { oidc } });
  const port = Number(new URL(a.url).port);
  const dir = tmp('signet-fork-mon-');
  const rootFile = path.join(dir, 'root.json');
  fs.writeFileSync(rootFile, await (await fetch(`${a.url}/trusted_root.json`)).text());
  const tlog = (
    JSON.parse(fs.readFileSync(rootFile, 'utf8')) as {
      tlogs: Array<{ baseUrl: string; logId: { keyId: string } }>;
    }
  ).tlogs[0]!;
  const shard = tlog.baseUrl;
  // The monitor keeps a log's state under its log ID.
  const stateKey = `logid:${Buffer.from(tlog.logId.keyId, 'base64').toString('hex')}`;
  await a.close();
  const witness = await startWitness({
    port: 0,
    host: '127.0.0.1',
    dataDir: tmp('signet-fork-w-'),
    name: 'witness.test/w',
    logs: witnessedLogs({ vkeys: [], trustedRootFile: rootFile }),
    log: quiet,
  });
  const config = { oidc, rekor: { witnesses: [{ url: witness.url, key: witness.vkey }] } };
  const stateFile = path.join(dir, 'state.json');
  const flags = { trustedRoot: rootFile, state: stateFile, log: [shard] };
  let running = await startStack({ port, host: '127.0.0.1', dataDir: dataA, log: quiet, config });
  try {
    for (const t of ['a1', 'a2']) await sign(running.url, 'dev@signet.local', 2, t);
    const good = await run({ ...flags, witnessKey: [witness.vkey] });
    assert.equal(good.r.problems, 0, JSON.stringify(good.lines));
    const verified = JSON.parse(fs.readFileSync(stateFile, 'utf8')).logs[stateKey];
    const origin = originOfUrl(shard)!;
    assert.equal(witness.witness.latest(origin)!.size, verified.size);
    await running.close();

    // The attacker: the same key and URL, another history.
    const dataB = tmp('signet-fork-b-');
    fs.cpSync(path.join(dataA, 'keys', 'rekor'), path.join(dataB, 'keys', 'rekor'), {
      recursive: true,
    });
    // With the honest witness configured it refuses to start: the witness has cosigned more of
    // this log than its data holds. The attacker runs it without.
    await assert.rejects(
      startStack({ port, host: '127.0.0.1', dataDir: dataB, log: quiet, config }),
      { code: 'WITNESS_AHEAD' },
    );
    running = await startStack({
      port,
      host: '127.0.0.1',
      dataDir: dataB,
      log: quiet,
      config: { oidc },
    });
    // At the verified size, another root: a fork.
    assert.equal(verified.size, 2);
    for (const t of ['b1', 'b2']) await sign(running.url, 'mallory@signet.local', 2, t);
    const sameSize = await run(flags);
    assert.equal(sameSize.r.problems, 1);
    assert.equal((sameSize.lines[0] as LogAlert).problem, 'fork');
    assert.match((sameSize.lines[0] as LogAlert).message, /different root for tree size 2/);
    // Larger, but not an extension of the verified tree.
    await sign(running.url, 'mallory@signet.local', 2, 'b3');
    const forked = await run(flags);
    assert.equal(forked.r.problems, 1);
    const alert = forked.lines[0] as LogAlert;
    assert.equal(alert.type, 'log');
    assert.equal(alert.problem, 'inconsistent');
    // Nothing unverified was kept: the state still holds the first log's head.
    const after = JSON.parse(fs.readFileSync(stateFile, 'utf8')).logs[stateKey];
    assert.equal(after.size, verified.size);
    assert.equal(after.rootHash, verified.rootHash);
    // Alerted once, not on every pass; but every pass still finds the log forked, so a --once
    // run from cron exits 3 (never 0, "all well") and says why on stderr.
    const again = await run(flags);
    assert.equal(again.lines.length, 0);
    assert.equal(again.r.problems, 1);
    const cli = await monitorCli([
      '--trusted-root',
      rootFile,
      '--state',
      stateFile,
      '--log',
      shard,
      '--once',
    ]);
    assert.equal(cli.status, 3, cli.stderr);
    assert.equal(cli.stdout, '');
    const repeat = cli.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      repeat.map((e) => [e.level, e.problem, e.repeatOf]),
      [
        ['info', undefined, undefined], // no --config: nothing watched but the logs themselves
        ['error', 'inconsistent', alert.id],
      ],
    );
    // The witness did not cosign the fork and still holds the first log's tree.
    assert.equal(witness.witness.latest(origin)!.size, verified.size);
    assert.equal(
      Buffer.from(witness.witness.latest(origin)!.rootHash).toString('base64'),
      verified.rootHash,
    );
    // A monitor that never saw the first log is not fooled either: the fork carries no
    // cosignature from the witness it requires, and disagrees with the witness's checkpoint.
    const fresh = { trustedRoot: rootFile, log: [shard], state: path.join(dir, 'fresh.json') };
    const noCosig = await run({ ...fresh, witnessKey: [witness.vkey] });
    assert.equal((noCosig.lines[0] as LogAlert | undefined)?.problem, 'missing-cosignatures');
    const compared = await run({
      ...fresh,
      compare: [`${witness.url}/${originHash(origin)}/checkpoint`],
    });
    assert.equal((compared.lines[0] as LogAlert | undefined)?.problem, 'fork');
    assert.match((compared.lines[0] as LogAlert).message, /seen at .* is not consistent/);
  } finally {
    await running.close();
    await witness.close();
  }
});

test('a webhook that is down costs one round of retries a pass, and gets every alert once it is up', async () => {
  const stack = await tempStack({ config: { oidc } });
  const dir = tmp('signet-monitor-down-');
  const rootFile = path.join(dir, 'root.json');
  let up = false;
  const posts: string[] = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push(body);
      res.writeHead(up ? 204 : 500).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  try {
    fs.writeFileSync(rootFile, await (await fetch(`${stack.url}/trusted_root.json`)).text());
    await sign(stack.url, 'dev@signet.local', 2, 'one');
    await sign(stack.url, 'dev@signet.local', 1, 'two');
    const flags = {
      trustedRoot: rootFile,
      config: 'startIndex: 0\nmonitoredValues:\n  subjects: [dev@signet\\.local]\n',
      state: path.join(dir, 'state.json'),
      webhook: [`http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`],
    };
    const extra = { webhookOptions: { attempts: 3, backoffMs: 1 } };
    const down = await run(flags, extra);
    // Two log entries and two precertificates, in three logs: printed, not delivered.
    assert.equal(down.lines.length, 4, JSON.stringify(down.lines));
    assert.equal(down.r.errors, 1);
    assert.equal(posts.length, 3, 'one alert, three attempts; the rest wait for the next pass');
    up = true;
    posts.length = 0;
    const back = await run(flags, extra);
    assert.deepEqual(back.lines, [], 'printed once');
    assert.equal(back.r.errors, 0);
    assert.deepEqual(
      posts.map((b) => (JSON.parse(b) as Alert).id).sort(),
      down.lines.map((a) => a.id).sort(),
    );
  } finally {
    hook.close();
    await stack.close();
  }
});

test('a regexp that matches only part of an identity (rekor-monitor would alert) is said once per rule, not passed over in silence', async () => {
  const stack = await tempStack({ config: { oidc } });
  const dir = tmp('signet-monitor-partial-');
  const rootFile = path.join(dir, 'root.json');
  try {
    fs.writeFileSync(rootFile, await (await fetch(`${stack.url}/trusted_root.json`)).text());
    await sign(stack.url, 'dev@signet.local', 2, 'one');
    await sign(stack.url, 'dev@signet.local', 1, 'two');
    const watch = async (subjects: string) => {
      const reports: Array<Record<string, unknown>> = [];
      const { lines } = await run(
        {
          trustedRoot: rootFile,
          config: `startIndex: 0\nmonitoredValues:\n  subjects: [${subjects}]\n`,
          state: path.join(dir, `state-${reports.length}-${Math.random()}.json`),
        },
        { report: (e: Record<string, unknown>) => reports.push(e) },
      );
      return { lines, partial: reports.filter((r) => r['rule'] !== undefined) };
    };
    // rekor-monitor's habit: a part of the value. No alert (Signet matches whole values), but
    // said, once for the rule however many entries it met, naming rule, pattern and value.
    const part = await watch('"dev@", "nobody@nowhere"');
    assert.deepEqual(part.lines, []);
    assert.equal(part.partial.length, 1, JSON.stringify(part.partial));
    assert.equal(part.partial[0]!['rule'], 'subjects[0]');
    assert.equal(part.partial[0]!['pattern'], 'dev@');
    assert.equal(part.partial[0]!['value'], 'dev@signet.local');
    assert.match(String(part.partial[0]!['notAlerted']), /matches only part .* the WHOLE value/);
    // The whole value alerts and says nothing of the kind.
    const whole = await watch('"dev@.*"');
    assert.ok(whole.lines.length >= 2, JSON.stringify(whole.lines));
    assert.deepEqual(whole.partial, []);
  } finally {
    await stack.close();
  }
});
