import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { getTrustedRoot, initTUF } from '@sigstore/tuf';
import { tempStack } from '../helpers/stack.ts';
import { keySigner, timestampedBundle, verifyKeyBundle } from './trust-helpers.ts';

test("sigstore-js's TSAWitness timestamps against Signet's TSA and @sigstore/verify accepts it", async () => {
  const s = await tempStack();
  try {
    const { signer, publicKey } = keySigner();
    const data = Buffer.from('artifact timestamped by signet');
    const bundle = (await timestampedBundle(signer, `${s.url}/tsa/api/v1/timestamp`, data)) as {
      verificationMaterial: { timestampVerificationData: { rfc3161Timestamps: unknown[] } };
    };
    assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
    const trustedRoot = await (await fetch(`${s.url}/trusted_root.json`)).json();
    const signerOut = verifyKeyBundle(trustedRoot, bundle, data, publicKey);
    assert.ok(signerOut.key);
    // The oracle really checks the timestamp: other data, or a root without our TSA, fail.
    assert.throws(
      () => verifyKeyBundle(trustedRoot, bundle, Buffer.from('other'), publicKey),
      /SIGNATURE|signature/,
    );
    const noTsa = { ...(trustedRoot as object), timestampAuthorities: [] };
    assert.throws(
      () => verifyKeyBundle(noTsa, bundle, data, publicKey),
      /TIMESTAMP_ERROR|timestamp/i,
    );
  } finally {
    await s.close();
  }
});

test("@sigstore/tuf fetches trusted_root.json and the signing config from Signet's /tuf", async () => {
  const s = await tempStack();
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigstore-tuf-'));
    const rootPath = path.join(dir, 'root.json');
    fs.writeFileSync(rootPath, await (await fetch(`${s.url}/tuf/1.root.json`)).text());
    const opts = {
      mirrorURL: `${s.url}/tuf`,
      rootPath,
      cachePath: path.join(dir, 'cache'),
      retry: false as const,
    };
    const root = await getTrustedRoot(opts);
    const served = (await (await fetch(`${s.url}/trusted_root.json`)).json()) as {
      timestampAuthorities: unknown[];
    };
    assert.equal(root.timestampAuthorities.length, served.timestampAuthorities.length);
    assert.ok(root.timestampAuthorities.length >= 1);
    const tuf = await initTUF(opts);
    const cfg = JSON.parse(await tuf.getTarget('signing_config.v0.2.json'));
    assert.equal(cfg.mediaType, 'application/vnd.dev.sigstore.signingconfig.v0.2+json');
    assert.ok(cfg.tsaUrls.length >= 1);
  } finally {
    await s.close();
  }
});
