import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const bin = path.resolve('bin/signet');

test('signet up --port 0 prints its URL, answers /healthz and stops cleanly on SIGTERM', async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-'));
  const child = spawn(bin, ['up', '--port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /signet is up at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  const r = await fetch(`${url}/healthz`);
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { status: string }).status, 'ok');
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  assert.match(out, /signet stopped/);
});

test('a bad flag gives one clear line and exit code 1, no stack trace', () => {
  const r = spawnSync(bin, ['up', '--port', 'eighty'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--port: "eighty" is not a port number/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-bad-'));
  const db = spawnSync(bin, ['up', '--port', '0', '--data', data, '--database', 'mysql://x/y'], {
    encoding: 'utf8',
  });
  assert.equal(db.status, 1);
  assert.match(db.stderr, /^error: --database: must be a postgres:\/\/ URL/);
  const log = spawnSync(bin, ['up', '--port', '0', '--data', data], {
    encoding: 'utf8',
    env: { ...process.env, SIGNET_ACCESS_LOG: 'bogus' },
  });
  assert.equal(log.status, 1);
  assert.equal(
    log.stderr,
    'error: SIGNET_ACCESS_LOG: "bogus" is not on or off (1/0, true/false, on/off, yes/no)\n',
  );
});

test('a command whose reader stops reading ends quietly (signet --help | head -c 10)', async () => {
  const child = spawn(bin, ['--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // closed before the command writes: every write fails with EPIPE
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(err, '');
  assert.equal(code, 0);
});

test('signet up keeps serving when its stdout is closed (signet up | head -1)', async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-up-'));
  const child = spawn(bin, ['up', '--port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => {
      const m = /signet is up at (http:\/\/\S+)/.exec(d.toString());
      if (m) resolve(m[1]!);
      else reject(new Error(`unexpected first output: ${d.toString()}`));
    });
  });
  child.stdout.destroy(); // what `head -1` does after its line
  await new Promise((r) => setTimeout(r, 300));
  const r = await fetch(`${url}/healthz`);
  assert.equal(r.status, 200);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
});
