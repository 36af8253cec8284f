// The README's "Decide who may sign" section, run as written against a stack (on a free port
// instead of 8420): the quick start's signed hello.txt, the maintainers file, the policy, and the
// two commands that apply it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tempStack, stackToken } from '../helpers/stack.ts';

const readme = fs.readFileSync('README.md', 'utf8');
const stack = await tempStack();
after(() => stack.close());

/** The ```sh block after `heading`, as one script. */
function script(heading: string): string {
  const start = readme.indexOf(heading);
  assert.ok(start >= 0, `README has no section ${heading}`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
  assert.ok(m);
  return m[1]!;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(cmd, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('README: Decide who may sign', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-readme-policy-'));
  const env = { ...process.env, SIGNET_TUF_CACHE: path.join(dir, 'tuf') };
  const bin = path.resolve('bin/signet');
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello, signet\n');
  const token = await stackToken(stack.url);
  const s = await run(
    bin,
    [
      'sign-blob',
      '--server',
      stack.url,
      '--identity-token',
      token,
      '--bundle',
      'hello.txt.sigstore.json',
      'hello.txt',
    ],
    dir,
    env,
  );
  assert.equal(s.status, 0, s.stderr);
  const text = script('## Decide who may sign')
    .replaceAll('http://127.0.0.1:8420', stack.url)
    .replaceAll('./bin/signet', bin);
  const r = await run('bash', ['-e', '-c', text], dir, env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /hello\.txt \(blob\): ALLOWED with warnings/);
  assert.match(r.stdout, /policy "release-files" .*: passed/);
  assert.match(r.stdout, /authority "maintainers" \(keyless\): satisfied by dev@signet\.local/);
  assert.match(r.stdout, /policy "provenance" .*FAILED \(warn mode: not enforced\)/);
  assert.match(r.stderr, /Verified OK: policy "release-files" by maintainers \(dev@signet\.local/);
  // the recorded case replays offline and gets the decision it had
  assert.match(r.stdout, /^ok hello\.txt: allowed \(expected allow\)$/m);
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'hello-case.json'), 'utf8'));
  assert.deepEqual(Object.keys(c).sort(), ['artifact', 'bundles', 'expect', 'name', 'trustedRoot']);
});
