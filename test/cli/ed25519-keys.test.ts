// Ed25519 keys (openssl genpkey -algorithm ed25519) through a real stack on loopback, both
// Rekor versions: message signatures are Ed25519ph over SHA-512 (hashedrekord), DSSE envelopes
// pure Ed25519 over the PAE (sigstore-go's convention), and neither verifies as the other.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { requireServices, tempStack } from '../helpers/stack.ts';
import { oneError, signet } from '../interop/sign-helpers.ts';
import { setupSigning, signFile } from '../../src/client/sign/setup.ts';
import { serializeBundle } from '../../src/bundle/bundle.ts';
import { pae } from '../../src/core/dsse/index.ts';

const stack = await tempStack();
after(() => stack.close());
await requireServices(stack.url, ['rekor', 'tsa']);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ed25519-'));
const openssl = (args: string[]) => {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};
openssl(['genpkey', '-algorithm', 'ed25519', '-out', 'ed.pem']);
openssl(['pkey', '-in', 'ed.pem', '-pubout', '-out', 'ed.pub']);
openssl(['genpkey', '-algorithm', 'ed25519', '-out', 'other.pem']);
openssl(['pkey', '-in', 'other.pem', '-pubout', '-out', 'other.pub']);
const file = Buffer.from('signed with an Ed25519 key\n');
fs.writeFileSync(path.join(dir, 'a.txt'), file);
fs.writeFileSync(path.join(dir, 'tampered.txt'), 'signed with an Ed25519 key!\n');
fs.writeFileSync(path.join(dir, 'pred.json'), '{"ok":true}');
const publicKey = createPublicKey(fs.readFileSync(path.join(dir, 'ed.pub')));
const rawPublic = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
const run = (args: string[]) => signet(args, { cwd: dir });
const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const bodyOf = (bundle: {
  verificationMaterial: { tlogEntries: { canonicalizedBody: string }[] };
}) =>
  JSON.parse(
    Buffer.from(bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody, 'base64').toString(),
  );

async function verifyBlob(bundle: string, artifact: string, key = 'ed.pub', extra: string[] = []) {
  return run([
    'verify-blob',
    '--server',
    stack.url,
    '--key',
    key,
    '--bundle',
    bundle,
    ...extra,
    artifact,
  ]);
}

for (const v of [1, 2] as const) {
  test(`Rekor v${v}: sign-blob → verify-blob; the bundle and the log entry say Ed25519ph over SHA-512`, async () => {
    const out = `a.v${v}.json`;
    const s = await run([
      'sign-blob',
      '--key',
      'ed.pem',
      '--server',
      stack.url,
      '--rekor-version',
      String(v),
      '--bundle',
      out,
      'a.txt',
    ]);
    assert.equal(s.status, 0, s.stderr);
    const b = read(out);
    const ms = b.messageSignature;
    assert.equal(ms.messageDigest.algorithm, 'SHA2_512');
    assert.equal(
      Buffer.from(ms.messageDigest.digest, 'base64').toString('hex'),
      createHash('sha512').update(file).digest('hex'),
    );
    // Independent of Signet's code: noble's ed25519ph hashes the file itself.
    const sig = Buffer.from(ms.signature, 'base64');
    assert.equal(ed25519ph.verify(sig, file, rawPublic, { zip215: false }), true);
    assert.equal(verify(null, file, publicKey, sig), false, 'not a pure Ed25519 signature');
    const body = bodyOf(b);
    if (v === 1) {
      assert.equal(body.kind, 'hashedrekord');
      assert.equal(body.spec.data.hash.algorithm, 'sha512');
    } else {
      assert.equal(body.spec.hashedRekordV002.data.algorithm, 'SHA2_512');
      assert.equal(body.spec.hashedRekordV002.signature.verifier.keyDetails, 'PKIX_ED25519_PH');
    }
    const ok = await verifyBlob(out, 'a.txt');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr + ok.stdout, /Verified OK/);
    const wrongKey = await verifyBlob(out, 'a.txt', 'other.pub');
    assert.equal(wrongKey.status, 12);
    assert.match(oneError(wrongKey.stderr), /signature does not verify/);
    const tampered = await verifyBlob(out, 'tampered.txt');
    assert.equal(tampered.status, 12);
    assert.match(oneError(tampered.stderr), /is not the digest the bundle says was signed/);
  });

  test(`Rekor v${v}: attest-blob → verify-blob-attestation; the envelope is pure Ed25519 over the PAE`, async () => {
    const out = `att.v${v}.json`;
    const a = await run([
      'attest-blob',
      '--key',
      'ed.pem',
      '--server',
      stack.url,
      '--rekor-version',
      String(v),
      '--predicate',
      'pred.json',
      '--type',
      'custom',
      '--bundle',
      out,
      'a.txt',
    ]);
    assert.equal(a.status, 0, a.stderr);
    const b = read(out);
    const env = b.dsseEnvelope;
    const signed = pae(env.payloadType, Buffer.from(env.payload, 'base64'));
    const sig = Buffer.from(env.signatures[0].sig, 'base64');
    assert.equal(verify(null, signed, publicKey, sig), true);
    assert.equal(ed25519ph.verify(sig, signed, rawPublic), false, 'not an Ed25519ph signature');
    assert.deepEqual(b.verificationMaterial.tlogEntries[0].kindVersion, {
      kind: 'dsse',
      version: v === 1 ? '0.0.1' : '0.0.2',
    });
    if (v === 2)
      assert.equal(bodyOf(b).spec.dsseV002.signatures[0].verifier.keyDetails, 'PKIX_ED25519');
    const flags = [
      'verify-blob-attestation',
      '--server',
      stack.url,
      '--type',
      'custom',
      '--bundle',
      out,
    ];
    const ok = await run([...flags, '--key', 'ed.pub', 'a.txt']);
    assert.equal(ok.status, 0, ok.stderr);
    const wrongKey = await run([...flags, '--key', 'other.pub', 'a.txt']);
    assert.equal(wrongKey.status, 12);
    assert.match(oneError(wrongKey.stderr), /DSSE envelope signature does not verify/);
    const tampered = await run([...flags, '--key', 'ed.pub', 'tampered.txt']);
    assert.equal(tampered.status, 12);
    assert.match(oneError(tampered.stderr), /not about this artifact/);
  });

  test(`Rekor v${v}: a file over the whole-file limit is signed from its streamed SHA-512 digest`, async () => {
    const big = randomBytes(3 * 1024 * 1024 + 7);
    fs.writeFileSync(path.join(dir, `big.v${v}.bin`), big);
    const ctx = await setupSigning({
      key: path.join(dir, 'ed.pem'),
      server: stack.url,
      rekorVersion: v,
    });
    // A limit of 1 MiB: the 3 MiB file takes the streaming path a > 64 MiB file takes.
    const { bundle, artifact } = await signFile(
      path.join(dir, `big.v${v}.bin`),
      ctx,
      'file',
      1024 * 1024,
    );
    assert.equal(artifact.kind, 'digest');
    fs.writeFileSync(path.join(dir, `big.v${v}.json`), serializeBundle(bundle));
    // Ed25519ph is deterministic: the same signature as over the whole file.
    const ms = read(`big.v${v}.json`).messageSignature;
    const whole = ed25519ph.sign(
      big,
      new Uint8Array(
        Buffer.from(
          createPrivateKey(fs.readFileSync(path.join(dir, 'ed.pem'))).export({ format: 'jwk' }).d!,
          'base64url',
        ),
      ),
    );
    assert.deepEqual(new Uint8Array(Buffer.from(ms.signature, 'base64')), whole);
    const ok = await verifyBlob(`big.v${v}.json`, `big.v${v}.bin`);
    assert.equal(ok.status, 0, ok.stderr);
  });
}

test('an Ed25519 bundle whose messageDigest says SHA2_256 is refused, naming the digest', async () => {
  const b = read('a.v1.json');
  b.messageSignature.messageDigest = {
    algorithm: 'SHA2_256',
    digest: createHash('sha256').update(file).digest('base64'),
  };
  fs.writeFileSync(path.join(dir, 'sha256.json'), JSON.stringify(b));
  const r = await verifyBlob('sha256.json', 'a.txt');
  assert.equal(r.status, 12);
  assert.match(
    oneError(r.stderr),
    /^error: .*the bundle's messageDigest is SHA2_256, but an Ed25519 key signs messages as Ed25519ph over SHA2_512$/,
  );
});

test('a pure Ed25519 signature of the file, where Ed25519ph is expected, does not verify', async () => {
  const privateKey = createPrivateKey(fs.readFileSync(path.join(dir, 'ed.pem')));
  for (const v of [1, 2]) {
    const b = read(`a.v${v}.json`);
    b.messageSignature.signature = sign(null, file, privateKey).toString('base64');
    fs.writeFileSync(path.join(dir, `pure.v${v}.json`), JSON.stringify(b));
    const r = await verifyBlob(`pure.v${v}.json`, 'a.txt');
    assert.equal(r.status, 12);
    assert.match(oneError(r.stderr), /signature does not verify over the artifact/);
  }
});

test('detached --signature files: Ed25519ph verifies with --key (its log entry found online); a pure one does not', async () => {
  const s = await run([
    'sign-blob',
    '--key',
    'ed.pem',
    '--server',
    stack.url,
    '--rekor-version',
    '1',
    '--output-signature',
    'a.sig',
    '--bundle',
    'a.sig.json',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  const flags = ['verify-blob', '--server', stack.url, '--key', 'ed.pub'];
  const ok = await run([...flags, '--signature', 'a.sig', 'a.txt']);
  assert.equal(ok.status, 0, ok.stderr);
  const wrongKey = await run([
    'verify-blob',
    '--server',
    stack.url,
    '--key',
    'other.pub',
    '--signature',
    'a.sig',
    '--insecure-ignore-tlog',
    'a.txt',
  ]);
  assert.equal(wrongKey.status, 12);
  // OpenSSL's pure Ed25519 of the same file (what an older cosign wrote without a log).
  openssl(['pkeyutl', '-sign', '-inkey', 'ed.pem', '-rawin', '-in', 'a.txt', '-out', 'pure.bin']);
  fs.writeFileSync(
    path.join(dir, 'pure.sig'),
    fs.readFileSync(path.join(dir, 'pure.bin')).toString('base64'),
  );
  const pure = await run([...flags, '--signature', 'pure.sig', '--insecure-ignore-tlog', 'a.txt']);
  assert.equal(pure.status, 12);
  assert.match(oneError(pure.stderr), /signature does not verify over the artifact/);
});
