// Ed25519 keys on images, as with blobs: the cosign v3 signature (a DSSE statement in a bundle)
// and attestations are pure Ed25519 over the PAE; a legacy `.sig` signature is a message
// signature, Ed25519ph over the payload's SHA-512, logged as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { pushImage } from '../helpers/registry.ts';

const { stack, reg, dir, run, missing } = await imageTestbed('signet-oci-ed25519-');
// Runs, or fails: this machine has Debian's docker-registry.
assert.equal(missing, undefined, String(missing));
for (const args of [
  ['genpkey', '-algorithm', 'ed25519', '-out', 'ed.pem'],
  ['pkey', '-in', 'ed.pem', '-pubout', '-out', 'ed.pub'],
  ['genpkey', '-algorithm', 'ed25519', '-out', 'other.pem'],
  ['pkey', '-in', 'other.pem', '-pubout', '-out', 'other.pub'],
  ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'p384.pem'],
  ['pkey', '-in', 'p384.pem', '-pubout', '-out', 'p384.pub'],
]) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}
const verify = ['verify', '--key', 'ed.pub', '--trusted-root', 'root.json', '-o', 'json'];

for (const v of ['1', '2']) {
  test(`sign and verify an image with an Ed25519 key, Rekor v${v} (cosign v3 bundle)`, async () => {
    const img = pushImage(reg!, `ed/app${v}`);
    const s = await run([
      'sign',
      '--key',
      'ed.pem',
      '--server',
      stack.url,
      '--rekor-version',
      v,
      img.ref,
    ]);
    assert.equal(s.status, 0, s.stderr);
    const ok = await run([...verify, img.ref]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { valid: number }).valid, 1);
    const wrong = await run([
      'verify',
      '--key',
      'other.pub',
      '--trusted-root',
      'root.json',
      img.ref,
    ]);
    assert.equal(wrong.status, 12, wrong.stderr);
  });
}

test('a legacy .sig signature with an Ed25519 key is Ed25519ph over SHA-512 and verifies', async () => {
  const img = pushImage(reg!, 'ed/legacy');
  const s = await run([
    'sign',
    '--key',
    'ed.pem',
    '--server',
    stack.url,
    '--rekor-version',
    '1',
    '--registry-referrers-mode',
    'legacy',
    img.ref,
  ]);
  assert.equal(s.status, 0, s.stderr);
  const ok = await run([...verify, img.ref]);
  assert.equal(ok.status, 0, ok.stderr);
  const wrong = await run(['verify', '--key', 'other.pub', '--trusted-root', 'root.json', img.ref]);
  assert.equal(wrong.status, 12, wrong.stderr);
});

test('a legacy .sig signature without a log entry verifies with the hash its key signs (Ed25519ph SHA-512, P-384 SHA-384)', async () => {
  for (const key of ['ed', 'p384']) {
    const img = pushImage(reg!, `keys/legacy-nolog-${key}`);
    const s = await run([
      'sign',
      '--key',
      `${key}.pem`,
      '--tlog-upload=false',
      '--registry-referrers-mode',
      'legacy',
      img.ref,
    ]);
    assert.equal(s.status, 0, `${key}: ${s.stderr}`);
    const byKey = ['verify', '--key', `${key}.pub`, '--trusted-root', 'root.json'];
    const ok = await run([...byKey, '--insecure-ignore-tlog', '-o', 'json', img.ref]);
    assert.equal(ok.status, 0, `${key}: ${ok.stderr}`);
    assert.equal((JSON.parse(ok.stdout) as { valid: number }).valid, 1);
    const wrong = await run([
      'verify',
      '--key',
      key === 'ed' ? 'other.pub' : 'ed.pub',
      '--trusted-root',
      'root.json',
      '--insecure-ignore-tlog',
      img.ref,
    ]);
    assert.equal(wrong.status, 12, `${key}: ${wrong.stderr}`);
  }
});
