// Keyless bundles that `signet sign-blob` / `attest-blob` make against a running stack
// (Rekor v1 and v2, with and without a TSA) verify in sigstore-js with the stack's trusted
// root and the signer's identity; and bundles sigstore-js makes against the same stack
// verify with `signet verify-blob`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SigningConfig } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { bundleToJSON } from '@sigstore/bundle';
import { requireServices, tempStack } from '../helpers/stack.ts';
import { signet, stackToken, verifyWithSigstoreJs } from './sign-helpers.ts';

const stack = await tempStack();
after(() => stack.close());
await requireServices(stack.url, ['oidc', 'ca', 'rekor', 'tsa', 'tuf']);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-keyless-'));
const identity = 'dev@signet.local';
const issuer = `${stack.url}/oidc`;
fs.writeFileSync(path.join(dir, 'a.txt'), 'signed keyless\n');
fs.writeFileSync(
  path.join(dir, 'provenance.json'),
  JSON.stringify({ buildDefinition: { buildType: 'https://example.com/build' }, runDetails: {} }),
);
const artifact = fs.readFileSync(path.join(dir, 'a.txt'));

// the stack's signing config without its TSA: Rekor v1 must then be the time source
const cfg = (await (await fetch(`${stack.url}/signing_config.json`)).json()) as Record<
  string,
  unknown
>;
fs.writeFileSync(path.join(dir, 'no-tsa.json'), JSON.stringify({ ...cfg, tsaUrls: [] }));

const cases = [
  {
    name: 'Rekor v1 + TSA',
    flags: ['--server', stack.url, '--rekor-version', '1'],
    v: '0.0.1',
    ts: 1,
  },
  {
    name: 'Rekor v2 + TSA',
    flags: ['--server', stack.url, '--rekor-version', '2'],
    v: '0.0.2',
    ts: 1,
  },
  {
    name: 'Rekor v1, no TSA',
    flags: ['--signing-config', 'no-tsa.json', '--rekor-version', '1'],
    v: '0.0.1',
    ts: 0,
  },
];

for (const c of cases) {
  test(`sign-blob keyless, ${c.name}: sigstore-js verifies it with the identity`, async () => {
    const out = `a.${c.name.replace(/\W+/g, '-')}.json`;
    const token = await stackToken(stack.url, identity);
    const r = await signet(
      ['sign-blob', ...c.flags, '--identity-token', token, '--bundle', out, 'a.txt'],
      { cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const json = fs.readFileSync(path.join(dir, out), 'utf8');
    const b = JSON.parse(json);
    assert.equal(b.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(b.verificationMaterial.certificate.rawBytes);
    assert.equal(b.verificationMaterial.tlogEntries[0].kindVersion.version, c.v);
    assert.equal(
      b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0,
      c.ts,
    );
    const signer = await verifyWithSigstoreJs(stack.url, json, { artifact, identity, issuer });
    assert.equal(signer.identity?.subjectAlternativeName, identity);
    await assert.rejects(
      verifyWithSigstoreJs(stack.url, json, {
        artifact,
        identity: 'mallory@signet.local',
        issuer,
      }),
      /UNTRUSTED_SIGNER|identity|subject/i,
    );
    await assert.rejects(
      verifyWithSigstoreJs(stack.url, json, {
        artifact: Buffer.from('tampered'),
        identity,
        issuer,
      }),
    );
  });
}

for (const v of [1, 2]) {
  test(`attest-blob keyless, Rekor v${v}: an in-toto statement about the file that sigstore-js verifies`, async () => {
    const out = `att.v${v}.json`;
    const token = await stackToken(stack.url, identity);
    const r = await signet(
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
        'provenance.json',
        '--bundle',
        out,
        'a.txt',
      ],
      { cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const json = fs.readFileSync(path.join(dir, out), 'utf8');
    const b = JSON.parse(json);
    assert.equal(b.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
    const statement = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(statement.subject, [
      {
        name: 'a.txt',
        digest: {
          sha256: (await import('node:crypto')).createHash('sha256').update(artifact).digest('hex'),
        },
      },
    ]);
    assert.deepEqual(statement.predicate.buildDefinition, {
      buildType: 'https://example.com/build',
    });
    const e = b.verificationMaterial.tlogEntries[0];
    assert.deepEqual(
      e.kindVersion,
      v === 1 ? { kind: 'dsse', version: '0.0.1' } : { kind: 'hashedrekord', version: '0.0.2' },
    );
    await verifyWithSigstoreJs(stack.url, json, { identity, issuer });
  });
}

test('a bundle sigstore-js signs against the stack verifies with `signet verify-blob`', async () => {
  const token = await stackToken(stack.url, identity);
  const cfg = SigningConfig.fromJSON(
    await (await fetch(`${stack.url}/signing_config.json`)).json(),
  );
  const builder = bundleBuilderFromSigningConfig({
    signingConfig: cfg,
    identityProvider: { getToken: async () => token },
    bundleType: 'messageSignature',
  });
  const bundle = await builder.create({ data: artifact });
  fs.writeFileSync(path.join(dir, 'js.json'), JSON.stringify(bundleToJSON(bundle)));
  const ok = await signet(
    [
      'verify-blob',
      '--server',
      stack.url,
      '--bundle',
      'js.json',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      issuer,
      'a.txt',
    ],
    { cwd: dir },
  );
  assert.equal(ok.status, 0, ok.stderr);
  const bad = await signet(
    [
      'verify-blob',
      '--server',
      stack.url,
      '--bundle',
      'js.json',
      '--certificate-identity',
      'mallory@signet.local',
      '--certificate-oidc-issuer',
      issuer,
      'a.txt',
    ],
    { cwd: dir },
  );
  assert.equal(bad.status, 12); // cosign: no matching signature
});

test("a token the CA refuses: the CA's answer reaches the user, nothing is logged or written", async () => {
  const token = await stackToken(stack.url, identity);
  const [h, p, sig] = token.split('.') as [string, string, string];
  const forged = `${h}.${p}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
  const r = await signet(
    [
      'sign-blob',
      '--server',
      stack.url,
      '--identity-token',
      forged,
      '--bundle',
      'forged.json',
      'a.txt',
    ],
    { cwd: dir },
  );
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /error: the CA \(Fulcio\) at http:\/\/\S+\/api\/v2\/signingCert answered HTTP 4\d\d: /,
  );
  assert.doesNotMatch(r.stderr, /tlog entry created|at .*\.ts:\d+/);
  assert.equal(fs.existsSync(path.join(dir, 'forged.json')), false);
});
