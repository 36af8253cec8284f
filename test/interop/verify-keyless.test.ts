// Keyless bundles made against a running Signet stack verify with Signet's own verifier and
// `signet verify-blob` / `verify-blob-attestation --server` (trust through the stack's TUF):
// Signet's CA chain and SCTs, Rekor v1 SETs and v1/v2 checkpoints, TSA tokens; the bundles
// come both from `signet sign-blob`/`attest-blob` and from sigstore-js (Rekor v2 via the
// stack's signing config). Wrong identities, issuers, artifacts and types are refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SigningConfig } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { bundleToJSON } from '@sigstore/bundle';
import { requireServices, tempStack } from '../helpers/stack.ts';
import { signet, stackToken } from './sign-helpers.ts';
import { parseBundleJSON, parseTrustedRoot } from '../../src/bundle/index.ts';
import { exact, verifyBundle } from '../../src/client/verify/index.ts';

const stack = await tempStack();
after(() => stack.close());
await requireServices(stack.url, ['oidc', 'ca', 'ctlog', 'rekor', 'tsa', 'tuf']);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-verify-keyless-'));
const env = { SIGNET_TUF_CACHE: path.join(dir, 'tuf') };
const identity = 'dev@signet.local';
const issuer = `${stack.url}/oidc`;
fs.writeFileSync(path.join(dir, 'a.txt'), 'keyless, verified by signet\n');
fs.writeFileSync(path.join(dir, 'b.txt'), 'something else\n');
fs.writeFileSync(path.join(dir, 'predicate.json'), JSON.stringify({ buildDefinition: {} }));
const artifact = new Uint8Array(fs.readFileSync(path.join(dir, 'a.txt')));

const who = ['--certificate-identity', identity, '--certificate-oidc-issuer', issuer];

for (const v of [1, 2]) {
  test(`signet sign-blob keyless (Rekor v${v} + TSA) verifies with signet verify-blob --server`, async () => {
    const token = await stackToken(stack.url, identity);
    const out = `a.v${v}.json`;
    const s = await signet(
      [
        'sign-blob',
        '--server',
        stack.url,
        '--rekor-version',
        String(v),
        '--identity-token',
        token,
        '--bundle',
        out,
        'a.txt',
      ],
      { cwd: dir, env },
    );
    assert.equal(s.status, 0, s.stderr);
    const ok = await signet(
      ['verify-blob', '--server', stack.url, '--bundle', out, ...who, 'a.txt'],
      { cwd: dir, env },
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, new RegExp(`Verified OK: signed by ${identity}`));
    // in-process: the chain reaches the stack's CA, both times are verified for v1
    const root = parseTrustedRoot(await (await fetch(`${stack.url}/trusted_root.json`)).json());
    const r = verifyBundle(
      parseBundleJSON(fs.readFileSync(path.join(dir, out), 'utf8')),
      { kind: 'bytes', data: artifact },
      root,
      {
        kind: 'identity',
        identity: { subjectAlternativeName: exact(identity), issuer: exact(issuer) },
      },
    );
    assert.equal(r.signer.kind === 'certificate' && r.signer.chain.length >= 2, true);
    assert.deepEqual(
      r.times.map((t) => t.source).sort(),
      v === 1 ? ['timestamp-authority', 'transparency-log'] : ['timestamp-authority'],
    );
    for (const [args, re] of [
      [
        [
          '--certificate-identity',
          'mallory@signet.local',
          '--certificate-oidc-issuer',
          issuer,
          'a.txt',
        ],
        /not to "mallory@signet\.local"/,
      ],
      [
        [
          '--certificate-identity',
          identity,
          '--certificate-oidc-issuer',
          'https://accounts.google.com',
          'a.txt',
        ],
        /OIDC issuer/,
      ],
      [[...who, 'b.txt'], /digest/],
    ] as const) {
      const bad = await signet(['verify-blob', '--server', stack.url, '--bundle', out, ...args], {
        cwd: dir,
        env,
      });
      assert.equal(bad.status, 12, bad.stderr); // cosign: no matching signature
      assert.match(bad.stderr, re);
    }
  });

  test(`signet attest-blob keyless (Rekor v${v}) verifies with signet verify-blob-attestation`, async () => {
    const token = await stackToken(stack.url, identity);
    const out = `att.v${v}.json`;
    const s = await signet(
      [
        'attest-blob',
        '--server',
        stack.url,
        '--rekor-version',
        String(v),
        '--identity-token',
        token,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        '--bundle',
        out,
        'a.txt',
      ],
      { cwd: dir, env },
    );
    assert.equal(s.status, 0, s.stderr);
    const ok = await signet(
      [
        'verify-blob-attestation',
        '--server',
        stack.url,
        '--bundle',
        out,
        '--type',
        'slsaprovenance1',
        ...who,
        'a.txt',
      ],
      { cwd: dir, env },
    );
    assert.equal(ok.status, 0, ok.stderr);
    const wrongType = await signet(
      [
        'verify-blob-attestation',
        '--server',
        stack.url,
        '--bundle',
        out,
        '--type',
        'spdxjson',
        ...who,
        'a.txt',
      ],
      { cwd: dir, env },
    );
    assert.equal(wrongType.status, 12);
    assert.match(wrongType.stderr, /predicate type/);
    const wrongFile = await signet(
      ['verify-blob-attestation', '--server', stack.url, '--bundle', out, ...who, 'b.txt'],
      { cwd: dir, env },
    );
    assert.equal(wrongFile.status, 12);
    assert.match(wrongFile.stderr, /not about this artifact/);
  });
}

for (const bundleType of ['messageSignature', 'dsseEnvelope'] as const) {
  test(`sigstore-js keyless ${bundleType} through the stack's signing config (Rekor v2) verifies in Signet`, async () => {
    const token = await stackToken(stack.url, identity);
    const cfg = SigningConfig.fromJSON(
      await (await fetch(`${stack.url}/signing_config.json`)).json(),
    );
    const builder = bundleBuilderFromSigningConfig({
      signingConfig: cfg,
      identityProvider: { getToken: async () => token },
      bundleType,
    });
    const statement = JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        {
          name: 'a.txt',
          digest: {
            sha256: (await import('node:crypto'))
              .createHash('sha256')
              .update(artifact)
              .digest('hex'),
          },
        },
      ],
      predicateType: 'https://example.com/p',
      predicate: {},
    });
    const b = await builder.create(
      bundleType === 'messageSignature'
        ? { data: Buffer.from(artifact) }
        : { data: Buffer.from(statement), type: 'application/vnd.in-toto+json' },
    );
    fs.writeFileSync(path.join(dir, `js.${bundleType}.json`), JSON.stringify(bundleToJSON(b)));
    const root = parseTrustedRoot(await (await fetch(`${stack.url}/trusted_root.json`)).json());
    const r = verifyBundle(
      parseBundleJSON(fs.readFileSync(path.join(dir, `js.${bundleType}.json`), 'utf8')),
      { kind: 'bytes', data: artifact },
      root,
      {
        kind: 'identity',
        identity: { subjectAlternativeName: exact(identity), issuer: exact(issuer) },
      },
    );
    assert.equal(r.tlogEntries[0]!.entry.kindVersion, '0.0.2');
    assert.equal(r.times[0]!.source, 'timestamp-authority');
  });
}
