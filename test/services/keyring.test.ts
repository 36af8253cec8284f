import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeyRing } from '../../src/services/keyring.ts';

test('a key ring is created once with 0600 keys, reused, and rotation closes the old window', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ring-'));
  const a = KeyRing.open(dir, 'ca', { type: 'ec', curve: 'P-256' });
  assert.equal(a.versions.length, 1);
  assert.equal(fs.statSync(path.join(dir, 'keys/ca/1.pem')).mode & 0o777, 0o600);
  const again = KeyRing.open(dir, 'ca', { type: 'ec', curve: 'P-256' });
  assert.deepEqual(
    again.current().key.export({ format: 'jwk' }),
    a.current().key.export({ format: 'jwk' }),
  );
  const at = new Date('2030-01-01T00:00:00Z');
  const rotated = KeyRing.rotate(dir, 'ca', at);
  assert.equal(rotated.versions.length, 2);
  assert.equal(rotated.versions[0]!.validTo?.toISOString(), at.toISOString());
  assert.equal(rotated.current().id, 2);
  assert.equal(rotated.current().validTo, undefined);
  assert.notDeepEqual(
    rotated.current().key.export({ format: 'jwk' }),
    a.current().key.export({ format: 'jwk' }),
  );
  assert.throws(() => KeyRing.rotate(dir, 'nope'), /start the stack once first/);
});

test('reading key files: encrypted without passphrase, wrong passphrase, not a key', async () => {
  const { readPrivateKeyFile } = await import('../../src/services/keys.ts');
  const { generateKeyPairSync } = await import('node:crypto');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keys-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const enc = path.join(dir, 'enc.pem');
  fs.writeFileSync(
    enc,
    privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right' }),
  );
  assert.equal(readPrivateKeyFile(enc, 'right').asymmetricKeyType, 'ec');
  assert.throws(
    () => readPrivateKeyFile(enc),
    /enc\.pem: the key is encrypted: give its passphrase/,
  );
  assert.throws(() => readPrivateKeyFile(enc, 'wrong'), /enc\.pem: wrong passphrase/);
  // This passphrase is wrong but leaves valid CBC padding, so OpenSSL fails decoding the DER
  // rather than decrypting (about one wrong passphrase in 256 does; found by trying).
  const padded = path.join(dir, 'padded.pem');
  fs.writeFileSync(padded, PADDED_BY_WRONG_8);
  assert.throws(() => readPrivateKeyFile(padded, 'wrong-8'), /padded\.pem: wrong passphrase/);
  const junk = path.join(dir, 'junk.pem');
  fs.writeFileSync(junk, 'hello');
  assert.throws(() => readPrivateKeyFile(junk), /junk\.pem: not a private key/);
  assert.throws(() => readPrivateKeyFile(path.join(dir, 'missing.pem')), /cannot read key file/);
});

test('processes opening one ring at once all succeed and agree on the key', async () => {
  const { spawn } = await import('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ring-race-'));
  // Every child loads, then waits for the same instant, so their first opens really race.
  const startAt = Date.now() + 1500;
  const script = `
    import { KeyRing } from ${JSON.stringify(path.resolve('src/services/keyring.ts'))};
    while (Date.now() < ${startAt});
    const ring = KeyRing.open(${JSON.stringify(dir)}, 'ca', { type: 'ec', curve: 'P-256' });
    process.stdout.write(JSON.stringify(ring.current().key.export({ format: 'jwk' })));
  `;
  const outs = await Promise.all(
    Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      return new Promise<string>((resolve, reject) =>
        child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err)))),
      );
    }),
  );
  assert.equal(new Set(outs).size, 1);
  assert.equal(KeyRing.open(dir, 'ca', { type: 'ec', curve: 'P-256' }).versions.length, 1);
});

/** A P-256 key encrypted with the passphrase "right" (PKCS#8, AES-256-CBC). */
const PADDED_BY_WRONG_8 = `-----BEGIN ENCRYPTED PRIVATE KEY-----
MIH0MF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBAUkPNuMa86iFtWO5fz
mh9XAgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQ6IFyp7LyWzyRQx/y
IQW5ogSBkPtgATVnB/wvUBiVwpD3pY8iVcj7D5ZXheaVCfmdKXo0UDyA4suR1odI
aHak1BAA9kY6gAelxRPaohYzZF8UaS5uJqfDUCi46gBiMtyrBb/fW924eZcPSJUd
dl/ssg2khRb7jUKdAo0AtCH+uPgi/882c7kfmpt3xaRUEapRnwPhj9r0z05AlNyY
iyMNd4fwug==
-----END ENCRYPTED PRIVATE KEY-----
`;
