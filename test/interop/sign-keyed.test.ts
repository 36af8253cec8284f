// Key-signed bundles from `signet sign-blob --key` against a running stack verify in
// sigstore-js with the stack's trusted root (its TSA; its log once the stack has one).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireServices, tempStack } from '../helpers/stack.ts';
import { signet, verifyWithSigstoreJs } from './sign-helpers.ts';

const stack = await tempStack();
after(() => stack.close());
await requireServices(stack.url, ['rekor', 'tsa']);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keyed-'));
const env = { COSIGN_PASSWORD: 'pw' };
fs.writeFileSync(path.join(dir, 'a.txt'), 'signed with a key\n');
const run = (args: string[]) => signet(args, { cwd: dir, env });
const gen = await run(['generate-key-pair']);
assert.equal(gen.status, 0, gen.stderr);
const publicKey = createPublicKey(fs.readFileSync(path.join(dir, 'cosign.pub'), 'utf8'));
const keys = () => ({ publicKey, validFor: () => true });

test('sign-blob --key --server, timestamp only (--tlog-upload=false): sigstore-js verifies it', async () => {
  const r = await run([
    'sign-blob',
    '--key',
    'cosign.key',
    '--server',
    stack.url,
    '--tlog-upload=false',
    '--bundle',
    'a.ts.json',
    'a.txt',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const json = fs.readFileSync(path.join(dir, 'a.ts.json'), 'utf8');
  const b = JSON.parse(json);
  assert.equal(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
  assert.deepEqual(b.verificationMaterial.tlogEntries, []);
  const artifact = fs.readFileSync(path.join(dir, 'a.txt'));
  await verifyWithSigstoreJs(stack.url, json, {
    artifact,
    keys,
    tlogThreshold: 0,
    ctlogThreshold: 0,
  });
  await assert.rejects(
    verifyWithSigstoreJs(stack.url, json, {
      artifact: Buffer.from('something else'),
      keys,
      tlogThreshold: 0,
      ctlogThreshold: 0,
    }),
    /SIGNATURE_ERROR|signature/,
  );
});

for (const v of [1, 2]) {
  test(`sign-blob --key --server with Rekor v${v} and a timestamp: sigstore-js verifies it`, async () => {
    const out = `a.v${v}.json`;
    const r = await run([
      'sign-blob',
      '--key',
      'cosign.key',
      '--server',
      stack.url,
      '--rekor-version',
      String(v),
      '--bundle',
      out,
      'a.txt',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const json = fs.readFileSync(path.join(dir, out), 'utf8');
    const entry = JSON.parse(json).verificationMaterial.tlogEntries[0];
    assert.equal(entry.kindVersion.version, v === 1 ? '0.0.1' : '0.0.2');
    const artifact = fs.readFileSync(path.join(dir, 'a.txt'));
    await verifyWithSigstoreJs(stack.url, json, { artifact, keys, ctlogThreshold: 0 });
  });
}

test('--trusted-root: the new bundle is checked before it is written; a root that does not trust the stack stops it', async () => {
  fs.writeFileSync(
    path.join(dir, 'root.json'),
    await (await fetch(`${stack.url}/trusted_root.json`)).text(),
  );
  fs.writeFileSync(
    path.join(dir, 'empty-root.json'),
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    }),
  );
  const ok = await run([
    'sign-blob',
    '--key',
    'cosign.key',
    '--server',
    stack.url,
    '--trusted-root',
    'root.json',
    '--bundle',
    'checked.json',
    'a.txt',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(fs.existsSync(path.join(dir, 'checked.json')));
  const bad = await run([
    'sign-blob',
    '--key',
    'cosign.key',
    '--server',
    stack.url,
    '--trusted-root',
    'empty-root.json',
    '--bundle',
    'unchecked.json',
    'a.txt',
  ]);
  assert.equal(bad.status, 1);
  assert.match(
    bad.stderr,
    /error: the new bundle does not verify against empty-root.json, so it was not written: /,
  );
  assert.equal(fs.existsSync(path.join(dir, 'unchecked.json')), false);
});

for (const v of [1, 2]) {
  test(`attest-blob --key with Rekor v${v}: sigstore-js verifies the DSSE bundle; the statement names the file`, async () => {
    fs.writeFileSync(
      path.join(dir, 'sbom.json'),
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5' }),
    );
    const out = `att.v${v}.json`;
    const r = await run([
      'attest-blob',
      '--key',
      'cosign.key',
      '--server',
      stack.url,
      '--rekor-version',
      String(v),
      '--type',
      'cyclonedx',
      '--predicate',
      'sbom.json',
      '--bundle',
      out,
      'a.txt',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const json = fs.readFileSync(path.join(dir, out), 'utf8');
    const b = JSON.parse(json);
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
    assert.equal(st.predicateType, 'https://cyclonedx.org/bom');
    assert.equal(st.subject[0].name, 'a.txt');
    assert.deepEqual(st.predicate, { bomFormat: 'CycloneDX', specVersion: '1.5' });
    assert.deepEqual(
      b.verificationMaterial.tlogEntries[0].kindVersion,
      v === 1 ? { kind: 'dsse', version: '0.0.1' } : { kind: 'hashedrekord', version: '0.0.2' },
    );
    await verifyWithSigstoreJs(stack.url, json, { keys, ctlogThreshold: 0 });
    const ours = await run([
      'verify-blob-attestation',
      '--server',
      stack.url,
      '--key',
      'cosign.pub',
      '--type',
      'cyclonedx',
      '--bundle',
      out,
      'a.txt',
    ]);
    assert.equal(ours.status, 0, ours.stderr);
  });
}

test("the log's own error message reaches the user (Rekor v2 refuses a whole Ed25519 envelope over its request limit)", async () => {
  // A pure Ed25519 envelope signature cannot be logged by a digest, so Rekor v2 gets the whole
  // envelope (dsse 0.0.2), and a log's 4 MiB request limit bounds it.
  const { generateKeyPairSync } = await import('node:crypto');
  fs.writeFileSync(
    path.join(dir, 'ed.pem'),
    generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
  );
  fs.writeFileSync(
    path.join(dir, 'huge.json'),
    JSON.stringify({ blob: 'x'.repeat(5 * 1024 * 1024) }),
  );
  const r = await run([
    'attest-blob',
    '--key',
    'ed.pem',
    '--server',
    stack.url,
    '--rekor-version',
    '2',
    '--predicate',
    'huge.json',
    '--bundle',
    'ed.json',
    'a.txt',
  ]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /error: the transparency log \(Rekor v2\) at http:\/\/\S+\/api\/v2\/log\/entries answered HTTP 413: /,
  );
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  assert.equal(fs.existsSync(path.join(dir, 'ed.json')), false);
});

for (const v of [1, 2]) {
  test(`attest-blob with an Ed25519 key and Rekor v${v}: sigstore-js verifies the pure Ed25519 envelope`, async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const k = generateKeyPairSync('ed25519');
    fs.writeFileSync(
      path.join(dir, `ed${v}.pem`),
      k.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    fs.writeFileSync(path.join(dir, 'small.json'), '{"ok":true}');
    const out = `ed.att.v${v}.json`;
    const r = await run([
      'attest-blob',
      '--key',
      `ed${v}.pem`,
      '--server',
      stack.url,
      '--rekor-version',
      String(v),
      '--predicate',
      'small.json',
      '--bundle',
      out,
      'a.txt',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const json = fs.readFileSync(path.join(dir, out), 'utf8');
    await verifyWithSigstoreJs(stack.url, json, {
      keys: () => ({ publicKey: k.publicKey, validFor: () => true }),
      ctlogThreshold: 0,
    });
  });
}

test('a P-384 key: message and DSSE bundles use SHA-384 throughout and Rekor v2 takes them; signet verifies the message bundle', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  fs.writeFileSync(
    path.join(dir, 'p384.pem'),
    k.privateKey.export({ format: 'pem', type: 'pkcs8' }),
  );
  fs.writeFileSync(path.join(dir, 'p384.pub'), k.publicKey.export({ format: 'pem', type: 'spki' }));
  fs.writeFileSync(path.join(dir, 'pred.json'), '{"ok":true}');
  const s = await run([
    'sign-blob',
    '--key',
    'p384.pem',
    '--server',
    stack.url,
    '--rekor-version',
    '2',
    '--bundle',
    'p384.json',
    'a.txt',
  ]);
  assert.equal(s.status, 0, s.stderr);
  assert.equal(
    JSON.parse(fs.readFileSync(path.join(dir, 'p384.json'), 'utf8')).messageSignature.messageDigest
      .algorithm,
    'SHA2_384',
  );
  const a = await run([
    'attest-blob',
    '--key',
    'p384.pem',
    '--server',
    stack.url,
    '--rekor-version',
    '2',
    '--predicate',
    'pred.json',
    '--type',
    'https://example.com/t',
    '--bundle',
    'p384.att.json',
    'a.txt',
  ]);
  assert.equal(a.status, 0, a.stderr);
  const v = await run([
    'verify-blob',
    '--server',
    stack.url,
    '--key',
    'p384.pub',
    '--bundle',
    'p384.json',
    'a.txt',
  ]);
  assert.equal(v.status, 0, v.stderr);
  // DSSE in Rekor v2 is a hashedrekord over the PAE digest; the log takes only the hash of
  // the key's scheme (48 bytes for P-384), so that is what the entry must record.
  const att = JSON.parse(fs.readFileSync(path.join(dir, 'p384.att.json'), 'utf8'));
  const body = JSON.parse(
    Buffer.from(att.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString(),
  );
  assert.equal(body.spec.hashedRekordV002.data.algorithm, 'SHA2_384');
  assert.equal(Buffer.from(body.spec.hashedRekordV002.data.digest, 'base64').length, 48);
  // Signet verifies what it signed: the PAE digest is checked with the entry's SHA-384.
  const va = await run([
    'verify-blob-attestation',
    '--server',
    stack.url,
    '--key',
    'p384.pub',
    '--type',
    'https://example.com/t',
    '--bundle',
    'p384.att.json',
    'a.txt',
  ]);
  assert.equal(va.status, 0, va.stderr);
});

test('attest-blob --statement signs a ready-made statement byte for byte', async () => {
  const { createHash } = await import('node:crypto');
  const text = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"pkg:generic/a.txt","digest":{"sha256":"${createHash(
    'sha256',
  )
    .update(fs.readFileSync(path.join(dir, 'a.txt')))
    .digest(
      'hex',
    )}"}}],"predicateType":"https://example.com/release/v1","predicate":{"version":"1.0.0"}}\n`;
  fs.writeFileSync(path.join(dir, 'statement.json'), text);
  const r = await run([
    'attest-blob',
    '--key',
    'cosign.key',
    '--server',
    stack.url,
    '--statement',
    'statement.json',
    '--bundle',
    'st.json',
    'a.txt',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const json = fs.readFileSync(path.join(dir, 'st.json'), 'utf8');
  assert.equal(Buffer.from(JSON.parse(json).dsseEnvelope.payload, 'base64').toString(), text);
  await verifyWithSigstoreJs(stack.url, json, { keys, ctlogThreshold: 0 });
});
