import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, sign, verify, generateKeyPairSync } from 'node:crypto';
import {
  generateCosignKeyPair,
  readPrivateKey,
  isEncryptedKey,
  encryptPrivateKey,
} from '../../../src/client/keys/cosign-key.ts';
import { SCRYPT_LEGACY } from '../../../src/client/keys/encrypted.ts';
import { SignetError } from '../../../src/core/errors.ts';

const pass = (s: string) => async () => new TextEncoder().encode(s);
const noPass = async (): Promise<Uint8Array> => {
  throw new Error('passphrase must not be asked for a plain key');
};

// Keys from cosign pkg/cosign/keys_test.go, passphrase "hello".
const COSIGN_SIGSTORE_LABELED = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiI3T3VGd2VsbWZZNXVId2NoaURSc210anNwZ2ZlZjFG
Mk5lOGFDTjVLYVpZPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJQNHk4OGhCb3ZTa09MbXN0bFVBaGJwdDJ0K2xTNUxQSCJ9LCJj
aXBoZXJ0ZXh0IjoiMnB1QzdyZldJOWh3bnJlQ2s4aUZDRlVwQlRrSzRJNlIvbFBF
cnBDekpXUGpJWXl4eGVIL1A2VW52cFJHdVhla1NNb3JMdGhLamdoQ1JlNy82NDVH
QWtoVm1LRC92eEF0S2EvbE1abENSQ3FlekJGUFd1dzNpeFRtZ2xhb2J1ZFVSbUVs
bmNGOGlZbzBTMVl6Y1ZOMVFwY2J2c0dNcUlYRzVlbmdteGp5dCtBcXlyZTF0Q0Y0
V01tU1BlaEljNlBqd2h1Q2xHaVpJUWRvTGc9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----`;
const COSIGN_EC_SEC1_INSIDE = `-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6
OCwicCI6MX0sInNhbHQiOiJHK3F5WTYrNzhNS0JzMXNGTGs1ajYwcS9kS3Z1czBW
VkhlSHZybC9POTF3PSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJRc2JGdG13WDRDK2ttV3ZCcVRaMEFGOUFYdk1jRmg1SCJ9LCJj
aXBoZXJ0ZXh0IjoiREM5T28zeldiYVQzSXYwdFVnWEdycjUxYW1samwwNlQ5MTNP
VkxPbWpuMWhnK2o2WXRUbWg3SGhZSlY1N2J5eGE0Q281bE9YYmRqbTJ3aklubEd1
Um5aZCt5OExnekpSNzFSeEhKVzgrWmRlcFJmYWJMTjdHbDgrSFZEcERVQ3NxQnRh
VngyblpGbFEwWUl1anZwbFphblNGaUVvdERLVGkxZ3VhUXIwUHNzYU01NXZxbTRY
WS9rPSJ9
-----END ENCRYPTED COSIGN PRIVATE KEY-----`;
const COSIGN_VALID_EC_P256 = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIIGhcmCI5F7BPMH4r3pWCpQdAsveErdU5DjvVQerErJuoAoGCCqGSM49
AwEHoUQDQgAE+9E3Qe+h25ofmz3Uo2T004Dfy49iX06MMbxf9rsGmLkOPrS0KYDl
1QMfFuSbrtf8wTWNT9HNxrW/Foz39mDhHw==
-----END EC PRIVATE KEY-----`;
const COSIGN_VALID_EC_PKCS8 = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmKnLL81dCEYc6Spq
rFukFeTnU5JjtXfeNHAXJj3hYTahRANCAATjp4/Z4tUbZwUdId07GQeUdwLll4Br
YLP25Fk+mBY2G0lyKqjqLG5hxhimbEJH6j+lzg5tcYpQgzXtOJ66Zi0N
-----END PRIVATE KEY-----`;
const COSIGN_P224 = `-----BEGIN EC PRIVATE KEY-----
MGgCAQEEHNpr8qVw+OcDrk/2aSqCGkWFKIjJSH0smeuloomgBwYFK4EEACGhPAM6
AARL+L9osuD8BYNr/aCkJiDHfDhxosXNOkcml4XPsnN88EjUqI2J7lMqmea5guwr
eu5jUfVoZzti6A==
-----END EC PRIVATE KEY-----`;

test('reads cosign-written encrypted keys (known answer: passphrase "hello")', async () => {
  const k = await readPrivateKey(COSIGN_SIGSTORE_LABELED, pass('hello'), 'cosign.key');
  assert.equal(k.type, 'private');
  assert.equal(k.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const ec = await readPrivateKey(COSIGN_EC_SEC1_INSIDE, pass('hello'), 'cosign.key');
  assert.equal(ec.asymmetricKeyType, 'ec');
  await assert.rejects(
    readPrivateKey(COSIGN_SIGSTORE_LABELED, pass('hellO'), 'cosign.key'),
    (e: unknown) => e instanceof SignetError && e.code === 'WRONG_PASSPHRASE',
  );
});

test('reads plain SEC1 and PKCS#8 keys without asking for a passphrase', async () => {
  const a = await readPrivateKey(COSIGN_VALID_EC_P256, noPass, 'k.pem');
  assert.equal(a.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const b = await readPrivateKey(COSIGN_VALID_EC_PKCS8, noPass, 'k.pem');
  assert.equal(b.asymmetricKeyType, 'ec');
});

test('generate -> read round trip: the key signs and cosign.pub verifies', async () => {
  const pair = await generateCosignKeyPair(new TextEncoder().encode('pw'), SCRYPT_LEGACY);
  assert.match(pair.privatePem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
  assert.match(pair.publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.ok(isEncryptedKey(pair.privatePem));
  const k = await readPrivateKey(pair.privatePem, pass('pw'), 'cosign.key');
  const sig = sign('sha256', Buffer.from('msg'), k);
  assert.ok(verify('sha256', Buffer.from('msg'), createPublicKey(pair.publicPem), sig));
  // An Ed25519 key goes through the same envelope.
  const ed = generateKeyPairSync('ed25519').privateKey;
  const edPem = await encryptPrivateKey(ed, new TextEncoder().encode(''), SCRYPT_LEGACY);
  assert.equal((await readPrivateKey(edPem, pass(''), 'k')).asymmetricKeyType, 'ed25519');
});

test('files that are not keys give clear errors', async () => {
  await assert.rejects(
    readPrivateKey('hello world', noPass, 'k.pem'),
    /k\.pem: is not a private key \(no PEM block/,
  );
  await assert.rejects(
    readPrivateKey('-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n', noPass, 'k.pem'),
    /k\.pem: is not a private key \(found PEM "PUBLIC KEY"/,
  );
  await assert.rejects(
    readPrivateKey(
      '-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n',
      noPass,
      'k.pem',
    ),
    /k\.pem: is not a valid private key/,
  );
  await assert.rejects(
    readPrivateKey(COSIGN_P224, noPass, 'k.pem'),
    /EC curve .* is not supported/,
  );
  await assert.rejects(
    readPrivateKey(
      '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n',
      pass('x'),
      'k.pem',
    ),
    /k\.pem: the encrypted key is not JSON/,
  );
});
