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
  const junk = path.join(dir, 'junk.pem');
  fs.writeFileSync(junk, 'hello');
  assert.throws(() => readPrivateKeyFile(junk), /junk\.pem: not a private key/);
  assert.throws(() => readPrivateKeyFile(path.join(dir, 'missing.pem')), /cannot read key file/);
});
