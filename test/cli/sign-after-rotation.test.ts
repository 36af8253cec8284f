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
 * A signer keeps its signing config (and the trusted root beside it) for 5 minutes after a
 * refresh (SIGNER_CACHE_VALIDITY_MS). A stack signs once (filling that cache), stops, has `key`
 * rotated, and starts again on the same port; `run` is a signet command in the signer's
 * environment, `sign` signs a.txt again (asynchronous: the stack answers from this process).
 */
async function rotatedInBetween(key: string) {
  const s = await tempStack();
  const port = Number(new URL(s.url).port);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `signet-rot-${key}-`));
  const env = { ...process.env, SIGNET_TUF_CACHE: path.join(dir, 'tuf'), HOME: dir };
  const file = path.join(dir, 'a.txt');
  fs.writeFileSync(file, 'hello');
  const run = (args: string[]) =>
    new Promise<{ status: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['src/cli/main.ts', ...args],
        { cwd: repo, encoding: 'utf8', env },
        (e, _out, stderr) =>
          resolve({ status: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stderr }),
      ),
    );
  const sign = async (url: string) =>
    run([
      'sign-blob',
      '--server',
      url,
      '--identity-token',
      await stackToken(url),
      '--bundle',
      `${file}.sigstore.json`,
      file,
    ]);
  // The trusted root as a verifier copied it before the rotation.
  const oldRoot = path.join(dir, 'old_root.json');
  try {
    const first = await sign(s.url);
    assert.equal(first.status, 0, first.stderr);
    const copied = await run(['trusted-root', '--server', s.url, '--out', oldRoot]);
    assert.equal(copied.status, 0, copied.stderr);
  } finally {
    await s.close();
  }
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'rotate', '--data', s.dataDir, key], {
    cwd: repo,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const stack = await startStack({ port, host: '127.0.0.1', dataDir: s.dataDir, log: quiet });
  return { stack, file, run, sign, oldRoot };
}

/**
 * `signet rotate rekor` freezes the log the cached config names (a new shard takes the
 * writes): signing in those minutes must take the current config, not fail on the frozen log.
 */
test('sign-blob right after signet rotate rekor (signing config still cached) signs into the new log', async () => {
  const { stack, sign } = await rotatedInBetween('rekor');
  try {
    const again = await sign(stack.url);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /rekor\/shards\/2/);
  } finally {
    await stack.close();
  }
});

test('sign-blob right after signet rotate ca (signing config and trusted root still cached) asks the server again and signs with the new CA; a trusted root copied before the rotation is said to be stale', async () => {
  const { stack, file, run, sign, oldRoot } = await rotatedInBetween('ca');
  try {
    const again = await sign(stack.url);
    assert.equal(again.status, 0, again.stderr);
    const verify = (trust: string[]) =>
      run([
        'verify-blob',
        ...trust,
        '--bundle',
        `${file}.sigstore.json`,
        '--certificate-identity',
        'dev@signet.local',
        '--certificate-oidc-issuer',
        `${stack.url}/oidc`,
        file,
      ]);
    const verified = await verify(['--server', stack.url]);
    assert.equal(verified.status, 0, verified.stderr);
    // The trusted root copied before the rotation has the CA's name with its old key: the
    // refusal says that a rotation since is a cause, and what to do, not only tampering.
    const stale = await verify(['--trusted-root', oldRoot]);
    assert.equal(stale.status, 12, stale.stderr);
    assert.equal(
      stale.stderr,
      'error: the signing certificate\'s signature does not verify with the key of its issuer "CN=signet-intermediate, O=signet" in the trusted root (the certificate was altered, or another CA of that name issued it: if the CA was rotated after this trusted root was taken, get the trusted root again)\n',
    );
  } finally {
    await stack.close();
  }
});
