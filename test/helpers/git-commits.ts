import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A real repository of `format` (SHA-1 or SHA-256 object IDs) with two empty commits, made
 * with the machine's git in a folder of its own (no user or system config): HEAD's ID and its
 * parent's, for tests that need commit IDs git really gives.
 */
export function commitRepository(format: 'sha1' | 'sha256' = 'sha1'): {
  head: string;
  parent: string;
  dir: string;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `signet-commits-${format}-`));
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Dev',
    GIT_AUTHOR_EMAIL: 'dev@signet.local',
    GIT_COMMITTER_NAME: 'Dev',
    GIT_COMMITTER_EMAIL: 'dev@signet.local',
  };
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  git('init', '-q', `--object-format=${format}`, '.');
  git('commit', '-q', '--allow-empty', '-m', 'one');
  git('commit', '-q', '--allow-empty', '-m', 'two');
  return { head: git('rev-parse', 'HEAD'), parent: git('rev-parse', 'HEAD^'), dir };
}
