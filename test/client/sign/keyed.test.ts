import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { keySigner, publicKeyHint } from '../../../src/client/sign/signer.ts';
import { signArtifact, signEnvelope } from '../../../src/client/sign/sign.ts';
import { signFile } from '../../../src/client/sign/setup.ts';
import { serializeBundle } from '../../../src/bundle/bundle.ts';
import { spkiDer } from '../../../src/core/crypto/keys.ts';

const emptyRoot = TrustedRoot.fromJSON({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
});
const noServices = { caUrl: undefined, tlogs: [], tsaUrls: [] };

// Offline keyed bundles (no log, no timestamp), checked by sigstore-js with all thresholds 0.
function oracle(key: ReturnType<typeof createPublicKey>, hint: string) {
  const material = toTrustMaterial(emptyRoot, (h: string) => {
    assert.equal(h, hint);
    return { publicKey: key, validFor: () => true };
  });
  return new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
}

for (const [name, gen] of [
  ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
  ['RSA-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
] as const) {
  test(`a ${name} key-signed message bundle verifies in sigstore-js; a changed artifact does not`, async () => {
    const { privateKey, publicKey } = gen();
    const signer = keySigner(privateKey);
    const hint = publicKeyHint(spkiDer(publicKey));
    assert.deepEqual(signer.material, {
      $case: 'publicKey',
      hint,
      publicKeyDer: spkiDer(publicKey),
    });
    const artifact = new TextEncoder().encode('hello signet\n');
    const json = serializeBundle(await signArtifact(artifact, { signer, services: noServices }));
    const want = name === 'P-384' ? 'SHA2_384' : 'SHA2_256';
    assert.equal(JSON.parse(json).messageSignature.messageDigest.algorithm, want);
    const v = oracle(publicKey, hint);
    v.verify(toSignedEntity(bundleFromJSON(JSON.parse(json)), Buffer.from(artifact)));
    assert.throws(
      () =>
        v.verify(toSignedEntity(bundleFromJSON(JSON.parse(json)), Buffer.from('hello signet!\n'))),
      /SIGNATURE_ERROR|signature/i,
    );
  });
}

test('a key-signed DSSE bundle verifies in sigstore-js', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = keySigner(privateKey);
  const payload = new TextEncoder().encode('{"_type":"https://in-toto.io/Statement/v1"}');
  const json = serializeBundle(
    await signEnvelope(payload, 'application/vnd.in-toto+json', { signer, services: noServices }),
  );
  const parsed = JSON.parse(json);
  assert.equal(parsed.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
  assert.equal(
    Buffer.from(parsed.dsseEnvelope.payload, 'base64').toString(),
    new TextDecoder().decode(payload),
  );
  oracle(publicKey, signer.material.$case === 'publicKey' ? signer.material.hint : '').verify(
    toSignedEntity(bundleFromJSON(parsed)),
  );
});

test('keyless signing refuses a config with only Rekor v2 and no TSA (no time source)', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = {
    ...keySigner(privateKey),
    material: { $case: 'certificate' as const, certificateDer: new Uint8Array() },
  };
  await assert.rejects(
    signArtifact(new Uint8Array([1]), {
      signer,
      services: {
        caUrl: 'http://ca',
        tlogs: [{ url: 'http://log', majorApiVersion: 2 }],
        tsaUrls: [],
      },
    }),
    /keyless signing needs a timestamp authority or a Rekor v1 log/,
  );
});

test('a file is signed whole up to the limit, as a streamed digest above it; both bundles verify', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = keySigner(privateKey);
  const hint = publicKeyHint(spkiDer(publicKey));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'signet-sign-file-')), 'a.txt');
  fs.writeFileSync(file, 'hello signet\n');
  const ctx = { signer, services: noServices };
  const whole = await signFile(file, ctx);
  assert.equal(whole.artifact.kind, 'bytes');
  const streamed = await signFile(file, ctx, 'file', 0);
  assert.equal(streamed.artifact.kind, 'digest');
  for (const { bundle } of [whole, streamed])
    oracle(publicKey, hint).verify(
      toSignedEntity(
        bundleFromJSON(JSON.parse(serializeBundle(bundle))),
        Buffer.from('hello signet\n'),
      ),
    );
});
