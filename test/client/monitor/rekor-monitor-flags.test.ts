/**
 * rekor-monitor's command line (as its reusable GitHub workflow runs it: `--once=$ONCE
 * --user-agent UA --config "$CONFIG" --url URL`) means the same to `signet monitor`: the YAML
 * given inline, `--config-file`, `--once=true|false`, Go durations for `--interval`, `--url`
 * for the log to follow, and the user agent on every request to the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { monitorCli, watchedStack } from './watched-stack.ts';
import { monitorConfigFromFlags } from '../../../src/client/monitor/setup.ts';
import { parseInterval } from '../../../src/cli/commands/monitor.ts';
import type { IdentityAlert } from '../../../src/client/monitor/alerts.ts';

const cli = (args: string[]) => monitorCli(args);

test("rekor-monitor's flags against a stack: inline --config, --config-file, --once=, --url, --user-agent, --interval", async () => {
  const { stack, dir, rootFile, shard } = await watchedStack('signet-rm-flags-');
  // A loopback proxy in front of the stack that records each request's User-Agent.
  const target = new URL(stack.url);
  const agents: string[] = [];
  const proxy = http.createServer((req, res) => {
    agents.push(String(req.headers['user-agent']));
    const up = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const proxied = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  try {
    const yaml =
      'startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubject: dev@signet\\.local\n';
    const base = ['--trusted-root', rootFile, '--read-from', `${stack.url}=${proxied}`];

    // As the workflow runs it: the YAML inline, the log by --url, a user agent.
    const inline = await cli([
      ...base,
      '--once=true',
      '--user-agent',
      'org/repo/run-42',
      '--config',
      yaml,
      '--url',
      shard,
    ]);
    assert.equal(inline.status, 2, inline.stderr);
    const alerts = inline.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as IdentityAlert);
    assert.deepEqual(
      alerts.map((a) => [a.log, a.identity]),
      [[shard, 'dev@signet.local']],
      'only the log --url names',
    );
    assert.ok(agents.length > 0);
    for (const a of agents) assert.equal(a, 'signet-monitor org/repo/run-42');

    // --config-file reads a file; --config a file too; both at once is refused.
    const file = path.join(dir, 'watch.yaml');
    fs.writeFileSync(file, yaml);
    for (const flag of ['--config-file', '--config'])
      assert.equal((await cli([...base, '--once', flag, file, '--url', shard])).status, 2, flag);
    const both = await cli([...base, '--once', '--config', file, '--config-file', file]);
    assert.equal(both.status, 1);
    assert.match(both.stderr, /^error: --config: give --config or --config-file, not both\n$/);
    // The workflow without a config passes it empty: consistency only.
    const empty = await cli([...base, '--once', '--config', '', '--url', shard]);
    assert.equal(empty.status, 0, empty.stderr);
    assert.equal(empty.stdout, '');
    // A bad inline config names the field, in one line.
    const bad = await cli([...base, '--once', '--config', 'monitoredValues:\n  subject: [x]\n']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^error: monitoredValues\.subject: is not a known field[^\n]*\n$/);

    // --once=false keeps polling, every --interval (a Go duration), until SIGTERM.
    const child = spawn(
      process.execPath,
      ['src/cli/main.ts', 'monitor', ...base, '--once=false', '--interval', '1s', '--url', shard],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no second pass:\n${stderr}`)), 20_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if ((stderr.match(/"verified"/g) ?? []).length >= 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);

    // A signal ends the wait at once, however long the interval (systemctl stop, ^C).
    const patient = spawn(
      process.execPath,
      ['src/cli/main.ts', 'monitor', ...base, '--once=false', '--interval', '1h', '--url', shard],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let patientErr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no first pass:\n${patientErr}`)), 20_000);
      patient.stderr.on('data', (d: Buffer) => {
        patientErr += d.toString();
        if (patientErr.includes('"verified"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const stopped = await new Promise<number | null | 'still running'>((resolve) => {
      const timer = setTimeout(() => {
        patient.kill('SIGKILL');
        resolve('still running');
      }, 10_000);
      patient.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
      patient.kill('SIGTERM');
    });
    assert.equal(stopped, 0);
  } finally {
    proxy.closeAllConnections();
    proxy.close();
    await stack.close();
  }
});

test('--interval: seconds or a Go duration, 1s to 24 days', () => {
  assert.equal(parseInterval('300'), 300_000);
  assert.equal(parseInterval('1h'), 3_600_000);
  assert.equal(parseInterval('1h30m'), 5_400_000);
  assert.equal(parseInterval('1.5h'), 5_400_000);
  assert.equal(parseInterval('90s'), 90_000);
  assert.equal(parseInterval('1s500ms'), 1500);
  for (const bad of ['0', '500ms', '5d', '1h ', '-5m', 'h', '1e3'])
    assert.throws(() => parseInterval(bad), /--interval: .* is not/, bad);
  // A longer wait than a timer takes would fire at once: every pass back to back.
  assert.throws(() => parseInterval('9999999'), /is not between 1s and 24 days/);
  assert.throws(() => parseInterval('600h'), /is not between 1s and 24 days/);
});

test('--config: a file or the YAML itself', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rm-config-'));
  assert.equal(monitorConfigFromFlags({}).subjects.length, 0);
  assert.equal(monitorConfigFromFlags({ config: '  ' }).subjects.length, 0);
  assert.equal(
    monitorConfigFromFlags({ config: '{monitoredValues: {subjects: [a]}}' }).subjects.length,
    1,
  );
  assert.equal(monitorConfigFromFlags({ config: 'startIndex: 5' }).startIndex, 5);
  // A file whose name has ": " is still a file.
  const odd = path.join(dir, 'a: b.yaml');
  fs.writeFileSync(odd, 'startIndex: 6\n');
  assert.equal(monitorConfigFromFlags({ config: odd }).startIndex, 6);
  assert.throws(
    () => monitorConfigFromFlags({ config: path.join(dir, 'missing.yaml') }),
    /--config: .*missing\.yaml/,
  );
  assert.throws(
    () => monitorConfigFromFlags({ configFile: path.join(dir, 'missing.yaml') }),
    /--config-file: .*missing\.yaml/,
  );
  assert.throws(() => monitorConfigFromFlags({ config: 'a: [' }), /--config: is not YAML or JSON/);
});
