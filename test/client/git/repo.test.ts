// Reading objects out of a real repository with git: what is read must be the object its ID
// names, whatever git's settings or object store say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { commitRepository } from '../../helpers/git-commits.ts';
import { readObjects } from '../../../src/client/git/repo.ts';
import { SignetError } from '../../../src/core/errors.ts';

async function readAll(dir: string, ids: string[]) {
  const out = [];
  for await (const o of readObjects(dir, ids)) out.push(o);
  return out;
}

const gitIn = (dir: string, ...args: string[]) => {
  const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
};

for (const format of ['sha1', 'sha256'] as const)
  test(`readObjects (${format}): the objects as stored, and a replace ref is not followed`, async () => {
    const { dir, head, parent } = commitRepository(format);
    const [a, b] = await readAll(dir, [head, parent]);
    assert.equal(a!.type, 'commit');
    assert.match(Buffer.from(a!.raw).toString(), /\n\ntwo\n$/);
    assert.match(Buffer.from(b!.raw).toString(), /\n\none\n$/);
    // refs/replace/<head> -> <parent>: git would give the parent's bytes for head's ID
    gitIn(dir, 'replace', head, parent);
    assert.match(gitIn(dir, 'cat-file', '-p', head), /\n\none$/, 'git itself follows it');
    const [again] = await readAll(dir, [head]);
    assert.match(Buffer.from(again!.raw).toString(), /\n\ntwo\n$/);
  });

test('readObjects: an object whose stored bytes are not what its ID names is refused', async () => {
  const { dir, head, parent } = commitRepository('sha1');
  // A doctored loose object: head's file now holds the parent commit (git does not check
  // the hash when it reads a loose object).
  const raw = Buffer.from(gitIn(dir, 'cat-file', 'commit', parent) + '\n');
  const file = path.join(dir, '.git', 'objects', head.slice(0, 2), head.slice(2));
  fs.rmSync(file); // git writes loose objects read-only
  fs.writeFileSync(file, deflateSync(Buffer.concat([Buffer.from(`commit ${raw.length}\0`), raw])));
  await assert.rejects(readAll(dir, [head]), (e: unknown) => {
    assert.ok(e instanceof SignetError);
    assert.equal(e.code, 'OBJECT_ID_MISMATCH');
    assert.equal(
      e.message,
      `git gave a commit for ${head} whose contents hash to another ID (a replace ref, or a damaged repository): refused`,
    );
    return true;
  });
});
