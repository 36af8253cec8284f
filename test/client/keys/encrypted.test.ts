import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decryptEnvelope,
  encryptEnvelope,
  SCRYPT_LEGACY,
} from '../../../src/client/keys/encrypted.ts';
import { SignetError } from '../../../src/core/errors.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

// Known-answer vectors from go-securesystemslib encrypted/encrypted_test.go (the package cosign
// encrypts its keys with): passphrase "supersecret".
const GO_DECRYPT_VECTOR =
  '{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g="},"cipher":{"name":"nacl/secretbox","nonce":"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik"},"ciphertext":"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ=="}';
// TestKDFSettingVectors: these wrap json.Marshal([]byte("reallyimportant")), a JSON base64 string.
const GO_STANDARD_VECTOR =
  '{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"FhzPOt9/bJG4PTq6lQ6ecG6GzaOuOy/ynG5+yRiFlNs="},"cipher":{"name":"nacl/secretbox","nonce":"aw1ng1jHaDz/tQ7V2gR9O2+IGQ8xJEuE"},"ciphertext":"HycvuLZL4sYH0BrYTh4E/H20VtAW6u5zL5Pr+IBjYLYnCPzDkq8="}';
const GO_UNSUPPORTED_PARAMS =
  '{"kdf":{"name":"scrypt","params":{"N":99,"r":99,"p":99},"salt":"cZFcQJdwPhPyhU1R4qkl0qVOIjZd4V/7LYYAavq166k="},"cipher":{"name":"nacl/secretbox","nonce":"7vhRS7j0hEPBWV05skAdgLj81AkGeE7U"},"ciphertext":"6WYU/YSXVbYzl/NzaeAzmjLyfFhOOjLc0d8/GFV0aBFdJvyCcXc="}';

test('decrypts go-securesystemslib known-answer vectors (legacy and standard scrypt)', async () => {
  assert.equal(
    dec(await decryptEnvelope(enc(GO_DECRYPT_VECTOR), enc('supersecret'), 'k')),
    'reallyimportant',
  );
  const inner = dec(await decryptEnvelope(enc(GO_STANDARD_VECTOR), enc('supersecret'), 'k'));
  assert.equal(Buffer.from(JSON.parse(inner) as string, 'base64').toString(), 'reallyimportant');
});

test('a wrong passphrase is a clear WRONG_PASSPHRASE error', async () => {
  await assert.rejects(
    decryptEnvelope(enc(GO_DECRYPT_VECTOR), enc('supersecreT'), 'cosign.key'),
    (e: unknown) =>
      e instanceof SignetError &&
      e.code === 'WRONG_PASSPHRASE' &&
      /cosign\.key: .*wrong passphrase/.test(e.message),
  );
});

test('round trip; envelope fields as go-securesystemslib writes them', async () => {
  const env = await encryptEnvelope(enc('hello world'), enc(''), SCRYPT_LEGACY);
  const doc = JSON.parse(dec(env));
  assert.deepEqual(Object.keys(doc), ['kdf', 'cipher', 'ciphertext']);
  assert.deepEqual(doc.kdf.params, { N: 32768, r: 8, p: 1 });
  assert.equal(doc.kdf.name, 'scrypt');
  assert.equal(doc.cipher.name, 'nacl/secretbox');
  assert.equal(Buffer.from(doc.kdf.salt, 'base64').length, 32);
  assert.equal(Buffer.from(doc.cipher.nonce, 'base64').length, 24);
  assert.equal(Buffer.from(doc.ciphertext, 'base64').length, 11 + 16);
  assert.equal(dec(await decryptEnvelope(env, enc(''), 'k')), 'hello world');
});

test('tampered ciphertext, bad scrypt parameters, other ciphers and non-JSON are refused', async () => {
  const doc = JSON.parse(GO_DECRYPT_VECTOR);
  const ct = Buffer.from(doc.ciphertext, 'base64');
  ct[20]! ^= 1;
  doc.ciphertext = ct.toString('base64');
  await assert.rejects(
    decryptEnvelope(enc(JSON.stringify(doc)), enc('supersecret'), 'k'),
    /wrong passphrase/,
  );
  await assert.rejects(
    decryptEnvelope(enc(GO_UNSUPPORTED_PARAMS), enc('supersecret'), 'k'),
    /k\.kdf\.params: unsupported scrypt parameters N=99/,
  );
  const other = JSON.parse(GO_DECRYPT_VECTOR);
  other.cipher.name = 'aes-gcm';
  await assert.rejects(
    decryptEnvelope(enc(JSON.stringify(other)), enc('x'), 'k'),
    /k\.cipher\.name: cipher "aes-gcm"/,
  );
  const shortNonce = JSON.parse(GO_DECRYPT_VECTOR);
  shortNonce.cipher.nonce = 'AAAA';
  await assert.rejects(
    decryptEnvelope(enc(JSON.stringify(shortNonce)), enc('x'), 'k'),
    /k\.cipher\.nonce: must be 24 bytes/,
  );
  await assert.rejects(
    decryptEnvelope(enc('not json'), enc('x'), 'k'),
    /k: the encrypted key is not JSON/,
  );
  await assert.rejects(
    decryptEnvelope(enc('{"kdf":1}'), enc('x'), 'k'),
    /k\.kdf: must be an object/,
  );
});
