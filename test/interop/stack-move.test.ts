// A stack moved to another address keeps every bundle it made verifiable: sign against a
// stack, restart its data folder on another port behind another public URL, and the old
// bundles (Rekor v1 and v2) verify with the NEW trusted root, in Signet and in sigstore-js.
// The logs keep the origin they were created with; the signing config follows the new URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../../src/services/stack.ts';
import { freePort } from '../helpers/ports.ts';
import { tempStack } from '../helpers/stack.ts';
import { signet, stackToken, verifyWithSigstoreJs } from './sign-helpers.ts';

const quiet = { info() {}, warn() {}, error() {} };

test('bundles made before a move to another port and public URL verify with the new trusted root (Signet and sigstore-js)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-move-'));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'signed before the move\n');
  const artifact = fs.readFileSync(path.join(dir, 'a.txt'));
  const identity = 'dev@signet.local';

  const a = await tempStack();
  const issuer = `${a.url}/oidc`;
  const oldRoot = (await (await fetch(`${a.url}/trusted_root.json`)).json()) as {
    tlogs: Array<{ baseUrl: string }>;
  };
  try {
    for (const v of ['1', '2']) {
      const token = await stackToken(a.url, identity);
      const r = await signet(
        [
          'sign-blob',
          '--server',
          a.url,
          '--rekor-version',
          v,
          '--identity-token',
          token,
          '--bundle',
          `old.v${v}.json`,
          'a.txt',
        ],
        { cwd: dir },
      );
      assert.equal(r.status, 0, r.stderr);
    }
  } finally {
    await a.close();
  }

  // Same data folder, another port, reached under another name (localhost, not 127.0.0.1).
  const port = await freePort();
  const publicUrl = `http://localhost:${port}`;
  const b = await startStack({
    port,
    host: '127.0.0.1',
    dataDir: a.dataDir,
    publicUrl,
    log: quiet,
  });
  try {
    assert.equal(b.url, publicUrl);
    const root = (await (await fetch(`${b.url}/trusted_root.json`)).json()) as {
      tlogs: Array<{ baseUrl: string }>;
      certificateAuthorities: Array<{ uri: string }>;
    };
    assert.ok(root.certificateAuthorities.every((c) => c.uri.startsWith(publicUrl)));
    const cfg = (await (await fetch(`${b.url}/signing_config.json`)).json()) as {
      rekorTlogUrls: Array<{ url: string }>;
    };
    assert.ok(cfg.rekorTlogUrls.every((u) => u.url.startsWith(`${publicUrl}/rekor`)));

    for (const v of ['1', '2']) {
      const bundle = fs.readFileSync(path.join(dir, `old.v${v}.json`), 'utf8');
      // sigstore-js, with the trusted root the moved stack serves.
      const signer = await verifyWithSigstoreJs(b.url, bundle, { artifact, identity, issuer });
      assert.equal(signer.identity?.subjectAlternativeName, identity);
      // Signet, through the moved stack's TUF repository.
      const r = await signet(
        [
          'verify-blob',
          '--server',
          b.url,
          '--bundle',
          `old.v${v}.json`,
          '--certificate-identity',
          identity,
          '--certificate-oidc-issuer',
          issuer,
          'a.txt',
        ],
        { cwd: dir },
      );
      assert.equal(r.status, 0, `v${v}: ${r.stderr}`);
    }

    // The log is named as it was created; the services are where they are now.
    assert.deepEqual(
      root.tlogs.map((t) => t.baseUrl),
      oldRoot.tlogs.map((t) => t.baseUrl),
    );

    // New bundles made at the new address verify too (same log, same origin).
    const token = await stackToken(b.url, identity);
    const r = await signet(
      [
        'sign-blob',
        '--server',
        b.url,
        '--rekor-version',
        '2',
        '--identity-token',
        token,
        '--bundle',
        'new.json',
        'a.txt',
      ],
      { cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const bundle = fs.readFileSync(path.join(dir, 'new.json'), 'utf8');
    await verifyWithSigstoreJs(b.url, bundle, { artifact, identity, issuer: `${b.url}/oidc` });
  } finally {
    await b.close();
  }
});
