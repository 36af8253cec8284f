import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { digestSigner } from '../../../src/client/sign/prehashed.ts';
import { keySigner } from '../../../src/client/sign/signer.ts';
import { artifactHash, signArtifactDigest } from '../../../src/client/sign/sign.ts';
import { keyDetailsOf, messageScheme } from '../../../src/core/crypto/keys.ts';

const message = new TextEncoder().encode('a file too large to hold in memory, in spirit');

for (const [name, gen, hash] of [
  ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'sha256'],
  ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha384'],
  ['P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' }), 'sha512'],
  ['RSA-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), 'sha256'],
] as const) {
  test(`${name}: a signature made over the digest is an ordinary signature over the message (OpenSSL checks it)`, () => {
    const { privateKey, publicKey } = gen();
    const sign = digestSigner(privateKey, publicKey, messageScheme(keyDetailsOf(publicKey, 'k')));
    const digest = createHash(hash).update(message).digest();
    for (let i = 0; i < 5; i++) {
      const sig = sign(new Uint8Array(digest));
      assert.ok(verify(hash, message, publicKey, sig), `attempt ${i}`);
      assert.ok(!verify(hash, new TextEncoder().encode('other'), publicKey, sig));
    }
  });
}

test('Ed25519: the digest is signed as Ed25519ph, the same signature as over the whole message', async () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = keySigner(privateKey);
  assert.equal(artifactHash(signer), 'sha512');
  const digest = new Uint8Array(createHash('sha512').update(message).digest());
  const b = await signArtifactDigest(digest, {
    signer,
    services: { caUrl: undefined, tlogs: [], tsaUrls: [] },
  });
  assert.equal(b.content.$case, 'messageSignature');
  if (b.content.$case !== 'messageSignature') return;
  assert.deepEqual(b.content.messageSignature.messageDigest, { algorithm: 'SHA2_512', digest });
  // Ed25519ph is deterministic: signing the file whole and by digest agree byte for byte.
  assert.deepEqual(b.content.messageSignature.signature, await signer.signMessage(message));
  await assert.rejects(
    signArtifactDigest(new Uint8Array(32), {
      signer,
      services: { caUrl: undefined, tlogs: [], tsaUrls: [] },
    }),
    /expected a sha512 digest of 64 bytes/,
  );
});

test('signArtifactDigest: the bundle records the digest and a signature over the message', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const signer = keySigner(privateKey);
  assert.equal(artifactHash(signer), 'sha384');
  const digest = new Uint8Array(createHash('sha384').update(message).digest());
  const b = await signArtifactDigest(digest, {
    signer,
    services: { caUrl: undefined, tlogs: [], tsaUrls: [] },
  });
  assert.equal(b.content.$case, 'messageSignature');
  if (b.content.$case !== 'messageSignature') return;
  assert.deepEqual(b.content.messageSignature.messageDigest, { algorithm: 'SHA2_384', digest });
  assert.ok(
    verify('sha384', message, createPublicKey(privateKey), b.content.messageSignature.signature),
  );
  await assert.rejects(
    signArtifactDigest(new Uint8Array(32), {
      signer,
      services: { caUrl: undefined, tlogs: [], tsaUrls: [] },
    }),
    /expected a sha384 digest of 48 bytes/,
  );
});

test('digest signing is loaded only when a digest is signed: a small file signed whole loads none of it', () => {
  // A child process, whose module graph starts empty: which of the digest-signing modules
  // (prehashed.ts and the verifiers it checks each signature with) are loaded, and when.
  const signer = new URL('../../../src/client/sign/signer.ts', import.meta.url).href;
  const script = `
    import { generateKeyPairSync, createHash } from 'node:crypto';
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.add(r.url.replace(/.*\\/src\\//, '')); return r; } });
    const digestModules = () => ['client/sign/prehashed.ts', 'core/crypto/verify.ts', 'core/crypto/ecdsa.ts'].filter((m) => seen.has(m));
    const { keySigner } = await import(${JSON.stringify(signer)});
    const s = keySigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    await s.signMessage(new Uint8Array([1, 2, 3]));
    const whole = digestModules();
    await s.signDigest(createHash('sha256').update('x').digest());
    process.stdout.write(JSON.stringify({ whole, digest: digestModules() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    whole: [],
    digest: ['client/sign/prehashed.ts', 'core/crypto/verify.ts', 'core/crypto/ecdsa.ts'],
  });
});
