import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startStack } from '../../src/services/stack.ts';
import { stackToken, tempStack } from '../helpers/stack.ts';

const quiet = { info() {}, warn() {}, error() {} };
const repo = path.resolve(import.meta.dirname, '../..');

/**
 * A signer keeps its signing config for 5 minutes after a refresh (SIGNER_CACHE_VALIDITY_MS).
 * `signet rotate rekor` freezes the log the cached config names (a new shard takes the
 * writes): signing in those minutes must take the current config, not fail on the frozen log.
 */
test('sign-blob right after signet rotate rekor (signing config still cached) signs into the new log', async () => {
  const s = await tempStack();
  const port = Number(new URL(s.url).port);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rot-sign-'));
  const env = { ...process.env, SIGNET_TUF_CACHE: path.join(dir, 'tuf'), HOME: dir };
  const file = path.join(dir, 'a.txt');
  fs.writeFileSync(file, 'hello');
  // Not spawnSync: the stack answers from this process.
  const sign = async (url: string) => {
    const token = await stackToken(url);
    return new Promise<{ status: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          'src/cli/main.ts',
          'sign-blob',
          '--server',
          url,
          '--identity-token',
          token,
          '--bundle',
          `${file}.sigstore.json`,
          file,
        ],
        { cwd: repo, encoding: 'utf8', env },
        (e, _out, stderr) => resolve({ status: e ? 1 : 0, stderr }),
      ),
    );
  };
  try {
    const first = await sign(s.url);
    assert.equal(first.status, 0, first.stderr);
  } finally {
    await s.close();
  }
  const r = spawnSync(
    process.execPath,
    ['src/cli/main.ts', 'rotate', '--data', s.dataDir, 'rekor'],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const s2 = await startStack({ port, host: '127.0.0.1', dataDir: s.dataDir, log: quiet });
  try {
    const again = await sign(s2.url);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /rekor\/shards\/2/);
  } finally {
    await s2.close();
  }
});

test('sign-blob right after signet rotate ca (signing config and trusted root still cached) asks the server again and signs with the new CA', async () => {
  const s = await tempStack();
  const port = Number(new URL(s.url).port);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-rot-ca-'));
  const env = { ...process.env, SIGNET_TUF_CACHE: path.join(dir, 'tuf'), HOME: dir };
  const file = path.join(dir, 'a.txt');
  fs.writeFileSync(file, 'hello');
  const cli = (args: string[]) =>
    new Promise<{ status: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['src/cli/main.ts', ...args],
        { cwd: repo, encoding: 'utf8', env },
        (e, _out, stderr) => resolve({ status: e ? 1 : 0, stderr }),
      ),
    );
  const sign = async (url: string) =>
    cli([
      'sign-blob',
      '--server',
      url,
      '--identity-token',
      await stackToken(url),
      '--bundle',
      `${file}.sigstore.json`,
      file,
    ]);
  try {
    const first = await sign(s.url);
    assert.equal(first.status, 0, first.stderr);
  } finally {
    await s.close();
  }
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'rotate', '--data', s.dataDir, 'ca'], {
    cwd: repo,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const s2 = await startStack({ port, host: '127.0.0.1', dataDir: s.dataDir, log: quiet });
  try {
    const again = await sign(s2.url);
    assert.equal(again.status, 0, again.stderr);
    const verified = await cli([
      'verify-blob',
      '--server',
      s2.url,
      '--bundle',
      `${file}.sigstore.json`,
      '--certificate-identity',
      'dev@signet.local',
      '--certificate-oidc-issuer',
      `${s2.url}/oidc`,
      file,
    ]);
    assert.equal(verified.status, 0, verified.stderr);
  } finally {
    await s2.close();
  }
});
