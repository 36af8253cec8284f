/**
 * The README's path through images and policies, run as a new user runs it, in one shell: the
 * quick start's signed file, "Sign a container image" (a one-file image made with
 * scripts/demo-image.sh, signed, verified, its tree), the first block of "Decide who may sign"
 * (policies over the file) and its admission webhook block (a review sent with curl). The only
 * liberties: the stack, the registry and the webhook listen on free ports, the registry is this
 * test's docker-registry rather than the one the section starts, and HOME is a folder of the
 * test's own (its TUF cache).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from './helpers/stack.ts';
import { startRegistry } from './helpers/registry.ts';
import { freePort } from './helpers/ports.ts';
import { block, readme } from './helpers/readme.ts';

test('README: sign and verify an image, decide with a policy, ask the admission webhook', async () => {
  const stack = await tempStack();
  const reg = await startRegistry();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-readme-images-'));
  // ./bin/signet and scripts/ as in a clone, the files the commands write kept out of the tree.
  for (const name of ['bin', 'src', 'node_modules', 'scripts', 'package.json'])
    fs.symlinkSync(path.resolve(name), path.join(dir, name));
  fs.mkdirSync(path.join(dir, 'home'));
  const webhookPort = await freePort();
  const stackAddress = new URL(stack.url).host;
  const quickStart = block('## Sign and verify a file');
  const images = block('## Sign a container image').filter(
    // The registry the section starts: this test's is running already.
    (l) => !/registry\.yml/.test(l),
  );
  const policies = block('## Decide who may sign');
  const webhookAt = readme.indexOf('To try it without a\ncluster');
  assert.ok(webhookAt >= 0, 'README has the webhook try-it paragraph');
  const webhook = block(
    '## Decide who may sign',
    webhookAt - readme.indexOf('## Decide who may sign'),
  );
  const script = [
    'set -eu',
    ...quickStart,
    ...images,
    ...policies,
    ...webhook,
    'echo',
    'kill "$WEBHOOK"',
    'wait',
  ]
    .join('\n')
    .replaceAll('127.0.0.1:8420', stackAddress)
    .replaceAll('127.0.0.1:5000', reg.host)
    .replaceAll('8443', String(webhookPort));
  const child = spawn('bash', ['-c', script], {
    cwd: dir,
    detached: true,
    env: {
      PATH: `${path.resolve('node_modules/.bin')}:${process.env.PATH ?? ''}`,
      HOME: path.join(dir, 'home'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, `the README's commands failed:\n${err}\n${out}`);
    assert.match(out, /^signature by dev@signet\.local /m);
    assert.match(err, /1 signature found, 1 tried, 1 valid/);
    assert.match(out, /ALLOWED/);
    const answer = /^\{"apiVersion":"admission\.k8s\.io\/v1".*$/m.exec(out)?.[0];
    assert.ok(answer, `no AdmissionReview answer in:\n${out}`);
    assert.deepEqual((JSON.parse(answer) as { response: unknown }).response, {
      uid: '1',
      allowed: true,
    });
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the shell and the webhook have ended
    }
    await reg.close();
    await stack.close();
  }
});
