/**
 * bin/signet and bin/signet-gitsign keep Node's compile cache (compiled modules, run as they are
 * read) only in a folder of the user's own: one another user could write would run their code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BINS = [
  [path.resolve('bin/signet'), 'version'],
  [path.resolve('bin/signet-gitsign'), 'version'],
] as const;

function run(bin: string, arg: string, env: Record<string, string>) {
  // Only what is given: no HOME, no XDG_CACHE_HOME, no NODE_COMPILE_CACHE unless named.
  const r = spawnSync(bin, [arg], { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });
  assert.equal(r.status, 0, r.stderr);
}

/** Every file under `dir` with its modification time (empty when there is no such folder). */
function listing(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => path.join(e.parentPath, e.name))
    .map((f) => `${f} ${fs.statSync(f).mtimeMs}`)
    .sort();
}

test('the compile cache is kept under XDG_CACHE_HOME, or HOME/.cache, when that folder is the user’s', () => {
  for (const [bin, arg] of BINS) {
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-xdg-'));
    run(bin, arg, { XDG_CACHE_HOME: xdg });
    assert.ok(listing(path.join(xdg, 'signet', 'node-compile-cache')).length > 0, bin);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-home-'));
    run(bin, arg, { HOME: home });
    assert.ok(listing(path.join(home, '.cache', 'signet', 'node-compile-cache')).length > 0, bin);
  }
});

test('without HOME or XDG_CACHE_HOME nothing is cached in a shared folder', () => {
  // It was /tmp/.cache, where any user could have put compiled code first.
  const shared = '/tmp/.cache/signet/node-compile-cache';
  for (const [bin, arg] of BINS) {
    const before = listing(shared);
    run(bin, arg, {});
    assert.deepEqual(listing(shared), before, bin);
  }
});

test(
  'a cache folder another user owns is not used',
  { skip: process.getuid?.() !== 0 && 'needs root to give the folder to another user' },
  () => {
    for (const [bin, arg] of BINS) {
      const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-xdg-'));
      fs.mkdirSync(path.join(xdg, 'signet'), { mode: 0o777 });
      fs.chownSync(path.join(xdg, 'signet'), 65534, 65534);
      run(bin, arg, { XDG_CACHE_HOME: xdg });
      assert.deepEqual(fs.readdirSync(path.join(xdg, 'signet')), [], bin);
    }
  },
);
