import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { startStack } from '../../../src/services/stack.ts';
import { tempStack } from '../../helpers/stack.ts';

const quiet = { info() {}, warn() {}, error() {} };
const signet = (...args: string[]) =>
  spawnSync(process.execPath, ['src/cli/main.ts', ...args], {
    cwd: path.resolve(import.meta.dirname, '../../..'),
    encoding: 'utf8',
  });

interface Authority {
  validFor: { start: string; end?: string };
  certChain: { certificates: { rawBytes: string }[] };
}

const rootOf = (a: Authority) => a.certChain.certificates.at(-1)!.rawBytes;

test('rotating a root (ca-root, tsa-ca) takes effect: a new issuing version under the new root, the old chain closed', async () => {
  const s = await tempStack();
  const port = Number(new URL(s.url).port);
  await s.close();
  await new Promise((r) => setTimeout(r, 1100));
  for (const [key, issuing] of [
    ['ca-root', 'ca'],
    ['tsa-ca', 'tsa'],
  ] as const) {
    const r = signet('rotate', '--data', s.dataDir, key);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`rotated ${key}: version 2`));
    assert.match(r.stdout, new RegExp(`rotated ${issuing}: version 2`), 'and its issuing key');
  }
  const s2 = await startStack({ port, host: '127.0.0.1', dataDir: s.dataDir, log: quiet });
  try {
    const root = (await (await fetch(`${s2.url}/trusted_root.json`)).json()) as Record<
      string,
      Authority[]
    >;
    for (const list of ['certificateAuthorities', 'timestampAuthorities']) {
      const [old, now] = root[list]!;
      assert.ok(old && now, `${list}: the old and the new chain`);
      assert.notEqual(rootOf(now), rootOf(old), `${list}: the current chain ends in the new root`);
      assert.ok(old.validFor.end, `${list}: the old chain is closed`);
      assert.equal(now.validFor.end, undefined);
    }
  } finally {
    await s2.close();
  }
});
