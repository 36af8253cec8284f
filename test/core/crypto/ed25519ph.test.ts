import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
} from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ed25519ph as nobleEd25519ph } from '@noble/curves/ed25519.js';
import { signEd25519phDigest, verifyEd25519phDigest } from '../../../src/core/crypto/ed25519ph.ts';
import { verifyDigest, verifyMessage } from '../../../src/core/crypto/verify.ts';
import { keySigner } from '../../../src/client/sign/signer.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const sha512 = (b: Uint8Array) => new Uint8Array(createHash('sha512').update(b).digest());

// RFC 8032 §7.3, "Test 1" of Ed25519ph (message "abc").
const RFC = {
  secret: hex('833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42'),
  public: hex('ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf'),
  message: hex('616263'),
  signature: hex(
    '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41' +
      '31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406',
  ),
};

/** An Ed25519 KeyObject pair from a raw 32-byte seed (PKCS#8 DER: fixed prefix || seed). */
function keysFromSeed(seed: Uint8Array) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

test('RFC 8032 §7.3: signing the SHA-512 digest of "abc" gives the recorded Ed25519ph signature', () => {
  assert.deepEqual(signEd25519phDigest(sha512(RFC.message), RFC.secret), RFC.signature);
  assert.equal(verifyEd25519phDigest(RFC.signature, sha512(RFC.message), RFC.public), true);
});

test('RFC 8032 §7.3 through the verifier and the key signer: Ed25519ph, and never pure Ed25519', async () => {
  const { privateKey, publicKey } = keysFromSeed(RFC.secret);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  assert.deepEqual(new Uint8Array(raw), RFC.public);
  assert.equal(verifyMessage(publicKey, 'PKIX_ED25519_PH', RFC.message, RFC.signature), true);
  assert.equal(
    verifyDigest(publicKey, 'PKIX_ED25519_PH', sha512(RFC.message), RFC.signature),
    true,
  );
  // The same bytes are not a pure Ed25519 signature of "abc" (dom2 separates the schemes).
  assert.equal(verifyMessage(publicKey, 'PKIX_ED25519', RFC.message, RFC.signature), false);
  // A key signer signs messages (and their digests) as Ed25519ph: deterministic, so the
  // recorded signature exactly.
  const signer = keySigner(privateKey);
  assert.equal(signer.keyDetails, 'PKIX_ED25519');
  assert.equal(signer.messageDetails, 'PKIX_ED25519_PH');
  assert.deepEqual(await signer.signMessage(RFC.message), RFC.signature);
  assert.deepEqual(await signer.signDigest(sha512(RFC.message)), RFC.signature);
  // ...and DSSE (sign) as pure Ed25519, which OpenSSL makes too.
  assert.deepEqual(signer.sign(RFC.message), new Uint8Array(sign(null, RFC.message, privateKey)));
});

test('a pure Ed25519 signature does not verify as Ed25519ph, over the message or its digest', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const message = randomBytes(100);
  const pure = new Uint8Array(sign(null, message, privateKey));
  assert.equal(verifyMessage(publicKey, 'PKIX_ED25519', message, pure), true);
  assert.equal(verifyMessage(publicKey, 'PKIX_ED25519_PH', message, pure), false);
  assert.equal(verifyDigest(publicKey, 'PKIX_ED25519_PH', sha512(message), pure), false);
  // Pure Ed25519 of the digest bytes is not Ed25519ph either.
  const overDigest = new Uint8Array(sign(null, sha512(message), privateKey));
  assert.equal(verifyDigest(publicKey, 'PKIX_ED25519_PH', sha512(message), overDigest), false);
  // And pure Ed25519 cannot be checked from a digest at all.
  assert.equal(verifyDigest(publicKey, 'PKIX_ED25519', sha512(message), pure), false);
});

test("noble's own ed25519ph (it hashes the message itself) verifies signatures made over the digest", async () => {
  for (let i = 0; i < 5; i++) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = keySigner(privateKey);
    const message = randomBytes(1 + i * 97);
    const sig = await signer.signDigest(sha512(message));
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    assert.equal(nobleEd25519ph.verify(sig, message, raw, { zip215: false }), true);
    assert.equal(nobleEd25519ph.verify(sig, randomBytes(8), raw), false);
  }
});

test('Ed25519ph takes a SHA-512 digest only, and an Ed25519 key only', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = keySigner(privateKey);
  const d = sha512(new TextEncoder().encode('x'));
  const sig = await signer.signDigest(d);
  const sha256 = new Uint8Array(createHash('sha256').update('x').digest());
  assert.equal(verifyDigest(publicKey, 'PKIX_ED25519_PH', sha256, sig), false);
  assert.equal(verifyDigest(publicKey, 'PKIX_ED25519_PH', d.subarray(0, 48), sig), false);
  await assert.rejects(signer.signDigest(sha256), /Ed25519ph signs a 64-byte SHA-512 digest/);
  // An EC key named as Ed25519 (node:crypto reads a null algorithm as SHA-256 for EC keys).
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecSig = new Uint8Array(sign(null, Buffer.from('x'), ec.privateKey));
  assert.equal(verifyMessage(ec.publicKey, 'PKIX_ED25519', Buffer.from('x'), ecSig), false);
  assert.equal(verifyDigest(ec.publicKey, 'PKIX_ED25519_PH', d, sig), false);
});

test('OpenSSL (pkeyutl -rawin) accepts the pure Ed25519 envelope signature and refuses the Ed25519ph one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ed25519-'));
  const gen = spawnSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', 'k.pem'], {
    cwd: dir,
  });
  assert.equal(gen.status, 0, String(gen.stderr));
  const signer = keySigner(createPrivateKey(fs.readFileSync(path.join(dir, 'k.pem'))));
  const data = new TextEncoder().encode('DSSEv1 28 application/vnd.in-toto+json 2 {}');
  fs.writeFileSync(path.join(dir, 'data'), data);
  const check = (sig: Uint8Array) => {
    fs.writeFileSync(path.join(dir, 'sig'), sig);
    const r = spawnSync(
      'openssl',
      ['pkeyutl', '-verify', '-inkey', 'k.pem', '-rawin', '-in', 'data', '-sigfile', 'sig'],
      { cwd: dir, encoding: 'utf8' },
    );
    return r.status === 0 && /Signature Verified Successfully/.test(r.stdout);
  };
  assert.equal(check(signer.sign(data)), true);
  assert.equal(check(await signer.signMessage(data)), false);
  // OpenSSL's own pure signature is one our verifier accepts as PKIX_ED25519 and not as PH.
  const s = spawnSync(
    'openssl',
    ['pkeyutl', '-sign', '-inkey', 'k.pem', '-rawin', '-in', 'data', '-out', 'osig'],
    { cwd: dir },
  );
  assert.equal(s.status, 0, String(s.stderr));
  const osig = new Uint8Array(fs.readFileSync(path.join(dir, 'osig')));
  const pub = createPublicKey(fs.readFileSync(path.join(dir, 'k.pem')));
  assert.equal(verifyMessage(pub, 'PKIX_ED25519', data, osig), true);
  assert.equal(verifyMessage(pub, 'PKIX_ED25519_PH', data, osig), false);
});
