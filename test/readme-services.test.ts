/**
 * The README's "with standard tools" block, run as written (openssl, curl, jq) against a
 * running stack. Liberties: the stack's own URL for `S=` and the checkout's `bin/signet`, so
 * the files it writes land in a temporary folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from './helpers/stack.ts';

const readme = fs.readFileSync('README.md', 'utf8');
let stack: Awaited<ReturnType<typeof tempStack>>;
before(async () => {
  stack = await tempStack();
});
after(async () => {
  await stack?.close();
});

function block(heading: string): string {
  const start = readme.indexOf(heading);
  assert.ok(start >= 0, `README has no section ${heading}`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
  assert.ok(m, 'the section has no ```sh block');
  return m[1]!;
}

/** Runs bash without blocking the event loop: the stack answering its requests is in this process. */
async function bash(script: string, cwd: string): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', ['-c', `set -eo pipefail\n${script}`], { cwd });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, out };
}

test('README: a timestamp with openssl ts, a certificate from a CSR, the CT log tree head', async () => {
  const script = block('## Timestamps, certificates and the CT log with standard tools')
    .replace(/^S=http:\/\/127\.0\.0\.1:8420$/m, `S=${stack.url}`)
    .replaceAll('./bin/signet', path.resolve('bin/signet'));
  assert.ok(script.includes(`S=${stack.url}`), 'the block sets S to the default address');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-readme-tools-'));
  const r = await bash(script, dir);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^Verification: OK$/m);
  assert.match(
    r.out,
    /^Status: Rejected\.\nStatus description: TimeStampReq\.reqPolicy: policy 1\.2\.3\.4 is not accepted/m,
  );
  assert.match(r.out, /^Failure info: the requested TSA policy is not supported by the TSA$/m);
  assert.match(r.out, /email:dev@signet\.local/);
  assert.match(r.out, /CT Precertificate SCTs/);
  assert.match(r.out, /"tree_size":1,/);
});
