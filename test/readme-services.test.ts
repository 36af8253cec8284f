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
import { startStack } from '../src/services/stack.ts';
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
  // With the current chain, and with every root from the trusted root.
  assert.equal(r.out.match(/^Verification: OK$/gm)?.length, 2, r.out);
  assert.match(
    r.out,
    /^Status: Rejected\.\nStatus description: TimeStampReq\.reqPolicy: policy 1\.2\.3\.4 is not accepted/m,
  );
  assert.match(r.out, /^Failure info: the requested TSA policy is not supported by the TSA$/m);
  assert.match(r.out, /email:dev@signet\.local/);
  assert.match(r.out, /CT Precertificate SCTs/);
  assert.match(r.out, /"tree_size":1,/);
});

test("README: after signet rotate tsa-ca, an earlier timestamp verifies with the block's roots from the trusted root (the certchain is the new one only)", async () => {
  const lines = block('## Timestamps, certificates and the CT log with standard tools').split('\n');
  const roots = lines.filter((l) => l.includes('tsa-roots.pem'));
  assert.equal(roots.length, 2, 'the block builds tsa-roots.pem and verifies with it');
  const first = lines.slice(0, lines.findIndex((l) => l.startsWith('openssl ts -verify')) + 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-readme-tsa-rotate-'));
  const s1 = await tempStack();
  const port = Number(new URL(s1.url).port);
  const run = (script: string[]) =>
    bash([`S=${s1.url}`, ...script.filter((l) => !l.startsWith('S='))].join('\n'), dir);
  try {
    const before = await run(first);
    assert.equal(before.code, 0, before.out);
  } finally {
    await s1.close();
  }
  // Windows are whole seconds: rotate on a later second than the timestamp's.
  await new Promise((r) => setTimeout(r, 1100));
  const rot = await bash(`${path.resolve('bin/signet')} rotate --data ${s1.dataDir} tsa-ca`, dir);
  assert.equal(rot.code, 0, rot.out);
  const quiet = { info() {}, warn() {}, error() {} };
  const s2 = await startStack({ port, host: '127.0.0.1', dataDir: s1.dataDir, log: quiet });
  try {
    const stale = await run([
      'curl -s $S/tsa/api/v1/timestamp/certchain > tsa-chain.pem',
      'openssl ts -verify -data notes.txt -in notes.tsr -CAfile tsa-chain.pem',
    ]);
    assert.notEqual(stale.code, 0, stale.out);
    assert.match(stale.out, /unable to get local issuer certificate/);
    const after = await run(roots);
    assert.equal(after.code, 0, after.out);
    assert.match(after.out, /^Verification: OK$/m);
  } finally {
    await s2.close();
  }
});
