import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { readArtifact, WHOLE_FILE_VERIFY_LIMIT } from '../../src/client/verify/setup.ts';

const bin = path.resolve('bin/signet');
const C = path.resolve('test/fixtures/conformance');
const happy = path.join(C, 'bundle-verify/happy-path-v0.3/bundle.sigstore.json');
const dsse = path.join(C, 'bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json');
const root = path.join(C, 'trust-roots/production/trusted_root.json');
const artifact = path.join(C, 'bundle-verify/a.txt');
const SAN =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-verify-'));

function run(args: string[]) {
  return spawnSync(bin, args, { encoding: 'utf8' });
}

/** Exit 1, one `error:` line that matches `re`, no stack trace. */
/** `code`: 1, or cosign's 10 (no signature), 11 (not found), 12 (no matching signature), 13 (no certificate). */
function failsClearly(args: string[], re: RegExp, code = 1) {
  const r = run(args);
  assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
}

function withBundle(name: string, edit: (j: Record<string, any>) => void): string {
  const j = JSON.parse(fs.readFileSync(happy, 'utf8'));
  edit(j);
  const f = path.join(tmp, name);
  fs.writeFileSync(f, JSON.stringify(j));
  return f;
}

const idFlags = [
  '--certificate-identity',
  SAN,
  '--certificate-oidc-issuer',
  ISS,
  '--trusted-root',
  root,
];

test('verify-blob accepts a good bundle with cosign flags (regexp and GitHub flags too)', () => {
  let r = run(['verify-blob', artifact, '--bundle', happy, ...idFlags]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /Verified OK: signed by https:\/\/github\.com\/sigstore-conformance.* at 2024-.*transparency log/,
  );
  r = run([
    'verify-blob',
    '--digest',
    'sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf',
    '--bundle',
    happy,
    '--certificate-identity-regexp',
    'https://github\\.com/sigstore-conformance/.*',
    '--certificate-oidc-issuer',
    ISS,
    '--certificate-github-workflow-repository',
    'sigstore-conformance/extremely-dangerous-public-oidc-beacon',
    '--certificate-github-workflow-trigger',
    'workflow_dispatch',
    '--trusted-root',
    root,
  ]);
  assert.equal(r.status, 0, r.stderr);
  // Go's text anchors, as cosign users write them; \Z is not Go's
  const re2 = (re: string) => [
    'verify-blob',
    artifact,
    '--bundle',
    happy,
    '--certificate-identity-regexp',
    re,
    '--certificate-oidc-issuer',
    ISS,
    '--trusted-root',
    root,
  ];
  r = run(re2('\\Ahttps://github\\.com/sigstore-conformance/.*\\z'));
  assert.equal(r.status, 0, r.stderr);
  failsClearly(
    re2('\\Ahttps://github\\.com/sigstore-conformance/.*\\Z'),
    /^error: --certificate-identity-regexp: is not a valid regular expression: \\Z is not RE2 \(Go\) syntax; \\z is the end of the text$/,
  );
  failsClearly(re2('\\Agithub\\.com/sigstore-conformance/.*\\z'), /not to a value matching/, 12);
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      ...idFlags,
      '--certificate-github-workflow-ref',
      'refs/heads/evil',
    ],
    /GitHub workflow ref is "refs\/heads\/main", expected "refs\/heads\/evil"/,
    12,
  );
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      '--certificate-identity',
      'someone@example.com',
      '--certificate-oidc-issuer',
      ISS,
      '--trusted-root',
      root,
    ],
    /not to "someone@example.com"/,
    12,
  );
});

test('verify-blob-attestation checks the subject and --type', () => {
  let r = run([
    'verify-blob-attestation',
    artifact,
    '--bundle',
    dsse,
    ...idFlags,
    '--type',
    'slsaprovenance1',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /attestation of type https:\/\/slsa\.dev\/provenance\/v1/);
  failsClearly(
    ['verify-blob-attestation', artifact, '--bundle', dsse, ...idFlags, '--type', 'spdxjson'],
    /predicate type is "https:\/\/slsa\.dev\/provenance\/v1", expected "https:\/\/spdx\.dev\/Document"/,
    12,
  );
  failsClearly(
    ['verify-blob-attestation', root, '--bundle', dsse, ...idFlags],
    /not about this artifact/,
    12,
  );
  failsClearly(
    ['verify-blob-attestation', artifact, '--bundle', happy, ...idFlags],
    /plain signature, not an attestation/,
    12,
  );
  failsClearly(
    ['verify-blob-attestation', artifact, '--bundle', dsse, ...idFlags, '--type', 'no such'],
    /--type/,
  );
  r = run(['verify-blob', artifact, '--bundle', dsse, ...idFlags]);
  assert.equal(r.status, 0, r.stderr);
});

test('bad inputs give one clear line and exit 1 (10 when the bundle does not exist)', () => {
  const notJson = path.join(tmp, 'not.json');
  fs.writeFileSync(notJson, '{"mediaType": ');
  failsClearly(
    ['verify-blob', artifact, '--bundle', notJson, ...idFlags],
    /--bundle: .*not a valid Sigstore bundle: is not valid JSON/,
  );
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      withBundle('mt.json', (j) => (j.mediaType = 'application/json')),
      ...idFlags,
    ],
    /mediaType: "application\/json" is not a supported bundle media type/,
  );
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      withBundle(
        'b64.json',
        (j) => (j.messageSignature.signature = j.messageSignature.signature.slice(0, -3)),
      ),
      ...idFlags,
    ],
    /messageSignature\.signature: is not valid base64/,
  );
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      withBundle('cert.json', (j) => (j.verificationMaterial.certificate.rawBytes = 'MIIBAAAA')),
      ...idFlags,
    ],
    /verificationMaterial\.certificate/,
  );
  const notKey = path.join(tmp, 'key.pub');
  fs.writeFileSync(notKey, 'hello, not a key\n');
  failsClearly(
    ['verify-blob', artifact, '--bundle', happy, '--key', notKey, '--trusted-root', root],
    /--key: .*key\.pub is not a public key/,
  );
  failsClearly(
    ['verify-blob', artifact, '--bundle', path.join(tmp, 'missing.json'), ...idFlags],
    /--bundle: .*missing\.json does not exist; check the path/,
    10,
  );
  // one file without --bundle: its bundle is looked for beside it, and the error says so
  const lone = path.join(tmp, 'lone.txt');
  fs.writeFileSync(lone, 'signed, bundle printed\n');
  failsClearly(
    ['verify-blob', lone, ...idFlags],
    /^error: bundle: .*lone\.txt\.sigstore\.json does not exist: without --bundle the bundle is read from beside the file \(where sign-blob writes it for several files\); give --bundle FILE$/,
    10,
  );
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      '--certificate-oidc-issuer',
      ISS,
      '--trusted-root',
      root,
    ],
    /--certificate-identity: is required/,
  );
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      '--certificate-identity',
      SAN,
      '--trusted-root',
      root,
    ],
    /--certificate-oidc-issuer: is required/,
  );
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      '--certificate-identity-regexp',
      '(',
      '--certificate-oidc-issuer',
      ISS,
      '--trusted-root',
      root,
    ],
    /--certificate-identity-regexp: is not a valid regular expression/,
  );
  failsClearly(
    ['verify-blob', '--artifact-name', 'release', '--bundle', happy, ...idFlags, artifact],
    /^error: --artifact-name: goes with --policy/,
  );
  failsClearly(
    ['verify-blob', '--digest', 'sha256:abcd', '--bundle', happy, ...idFlags],
    /--digest: a sha256 digest is 32 bytes/,
  );
  const huge = path.join(tmp, 'huge.json');
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, 17 * 1024 * 1024);
  failsClearly(
    ['verify-blob', artifact, '--bundle', huge, ...idFlags],
    /--bundle: .*huge\.json is 17825792 bytes; this file is at most 16 MiB/,
  );
  // A device has no size to check first; it is read only up to the limit (/dev/zero never ends).
  failsClearly(
    ['verify-blob', artifact, '--bundle', '/dev/zero', ...idFlags],
    /--bundle: \/dev\/zero holds more than 16 MiB; this file is at most 16 MiB/,
  );
  const badRoot = path.join(tmp, 'root.json');
  fs.writeFileSync(
    badRoot,
    '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{}]}',
  );
  failsClearly(
    [
      'verify-blob',
      artifact,
      '--bundle',
      happy,
      '--certificate-identity',
      SAN,
      '--certificate-oidc-issuer',
      ISS,
      '--trusted-root',
      badRoot,
    ],
    /--trusted-root: .*not a valid trusted root: tlogs\[0\]\.publicKey: is required/,
  );
});

test('inspect shows who, issuer, when (claimed or verified), the log and the subjects', () => {
  let r = run(['inspect', happy]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Signed by: +https:\/\/github\.com\/sigstore-conformance/);
  assert.match(r.stdout, /OIDC issuer: +https:\/\/token\.actions\.githubusercontent\.com/);
  assert.match(r.stdout, /Log entry 1: +hashedrekord 0\.0\.1 at index \d+/);
  assert.match(r.stdout, /integrated: +2024-\S+ \(claimed, not verified\)/);
  assert.match(
    r.stdout,
    /Certificate: +issued by CN=sigstore-intermediate, O=sigstore\.dev, valid \S+ to \S+\n/,
  );
  r = run(['inspect', happy, '--trusted-root', root]);
  assert.match(
    r.stdout,
    /Certificate: +issued by CN=sigstore-intermediate, O=sigstore\.dev, valid \S+ to \S+ \(issued by a CA of the trusted root\)\n/,
  );
  assert.match(r.stdout, /in https:\/\/rekor\.sigstore\.dev/);
  assert.match(r.stdout, /integrated: +2024-\S+ \(verified\)/);
  r = run(['inspect', dsse]);
  assert.match(r.stdout, /Predicate: +https:\/\/slsa\.dev\/provenance\/v1/);
  assert.match(r.stdout, /Subject: +a\.txt sha256:a0cfc712/);
  r = run(['inspect', path.join(C, 'bundle-verify/rekor2-happy-path/bundle.sigstore.json')]);
  assert.match(r.stdout, /Timestamp 1: +2025-06-12T12:02:20Z \(claimed, not verified\)/);
  assert.match(r.stdout, /checkpoint: +log2025-alpha1\.rekor\.sigstage\.dev, tree size \d+/);
  // What a bundle says is shown, never obeyed: a payload type that would clear the line and
  // print a verdict of its own comes out escaped.
  const hostile = JSON.parse(fs.readFileSync(dsse, 'utf8'));
  hostile.dsseEnvelope.payloadType = 'application/vnd.in-toto+json\u001b[2K\rVerified OK';
  const hostileFile = path.join(tmp, 'hostile-payload-type.json');
  fs.writeFileSync(hostileFile, JSON.stringify(hostile));
  r = run(['inspect', hostileFile]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /payload type application\/vnd\.in-toto\+json\\u001b\[2K\\u000dVerified OK\n/,
  );
  // eslint-disable-next-line no-control-regex -- no control character but the final newline
  assert.doesNotMatch(r.stdout.replaceAll('\n', ''), /[\u0000-\u001f\u007f-\u009f]/);
  failsClearly(
    ['inspect', path.join(C, 'bundle-verify/bundle-malformed-json_fail/bundle.sigstore.json')],
    /not valid JSON/,
  );
  failsClearly(
    ['inspect', happy, '--trusted-root', path.join(tmp, 'missing-root.json')],
    /--trusted-root: .*missing-root\.json does not exist; check the path/,
  );
});

test('a file over 64 MiB is verified as it is read, with the hash its signature was made over (P-256, P-384, Ed25519)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-big-'));
  try {
    const big = path.join(dir, 'big.iso');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, WHOLE_FILE_VERIFY_LIMIT + 4096); // sparse: no disk used
    // Not read whole: the verifier gets the file's digests, computed as it asks for them.
    const artifact = await readArtifact(big, undefined);
    assert.equal(artifact.kind, 'file');
    const keys: Array<[string, crypto.KeyPairKeyObjectResult]> = [
      ['p256', crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })],
      ['p384', crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' })],
      ['ed25519', crypto.generateKeyPairSync('ed25519')],
    ];
    for (const [name, { privateKey, publicKey }] of keys) {
      const key = path.join(dir, `${name}.pem`);
      const pub = path.join(dir, `${name}.pub`);
      fs.writeFileSync(key, privateKey.export({ format: 'pem', type: 'pkcs8' }));
      fs.writeFileSync(pub, publicKey.export({ format: 'pem', type: 'spki' }));
      const bundle = path.join(dir, `${name}.json`);
      fs.truncateSync(big, WHOLE_FILE_VERIFY_LIMIT + 4096);
      const s = run(['sign-blob', '--key', key, '--tlog-upload=false', '--bundle', bundle, big]);
      assert.equal(s.status, 0, s.stderr);
      const verify = () =>
        run(['verify-blob', '--key', pub, '--insecure-ignore-tlog', '--bundle', bundle, big]);
      const v = verify();
      assert.equal(v.status, 0, `${name}: ${v.stderr}`);
      assert.match(v.stderr, /^Verified OK: signed by the given public key/);
      // One byte more: another digest, refused.
      fs.truncateSync(big, WHOLE_FILE_VERIFY_LIMIT + 4097);
      const w = verify();
      assert.equal(w.status, 12, `${name}: ${w.stderr}`);
      assert.match(w.stderr, /^error: .*digest/m);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('- reads the artifact from standard input, as cosign takes it (sign-blob and verify-blob)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-stdin-'));
  try {
    const env = { ...process.env, COSIGN_PASSWORD: '' };
    const k = path.join(dir, 'k');
    const gen = spawnSync(bin, ['generate-key-pair', '--output-key-prefix', k], { env });
    assert.equal(gen.status, 0);
    const b = path.join(dir, 'b.json');
    const s = spawnSync(
      bin,
      ['sign-blob', '--key', `${k}.key`, '--tlog-upload=false', '--bundle', b, '-'],
      { encoding: 'utf8', env, input: 'piped in\n' },
    );
    assert.equal(s.status, 0, s.stderr);
    // Again, into the bundle that is now there: - is still standard input, not a file
    const again = spawnSync(
      bin,
      ['sign-blob', '--key', `${k}.key`, '--tlog-upload=false', '--bundle', b, '-'],
      { encoding: 'utf8', env, input: 'piped in\n' },
    );
    assert.equal(again.status, 0, again.stderr);
    const verify = (input: string, args = ['--bundle', b]) =>
      spawnSync(bin, ['verify-blob', '--key', `${k}.pub`, '--insecure-ignore-tlog', ...args, '-'], {
        encoding: 'utf8',
        input,
      });
    const v = verify('piped in\n');
    assert.equal(v.status, 0, v.stderr);
    assert.equal(verify('piped in, changed\n').status, 12);
    // Another key than the one that signed: the error says that may be why.
    const k2 = path.join(dir, 'k2');
    assert.equal(
      spawnSync(bin, ['generate-key-pair', '--output-key-prefix', k2], { env }).status,
      0,
    );
    const other = spawnSync(
      bin,
      ['verify-blob', '--key', `${k2}.pub`, '--insecure-ignore-tlog', '--bundle', b, '-'],
      { encoding: 'utf8', input: 'piped in\n' },
    );
    assert.equal(other.status, 12);
    assert.match(other.stderr, /or a key other than the one that signed\)\n$/);
    const noBundle = verify('piped in\n', []);
    assert.equal(noBundle.status, 1);
    assert.equal(
      noBundle.stderr,
      'error: --bundle: is required when the artifact is read from standard input (-)\n',
    );
    const several = spawnSync(bin, ['sign-blob', '--key', `${k}.key`, '-', b], {
      encoding: 'utf8',
      env,
      input: 'x',
    });
    assert.equal(several.status, 1);
    assert.match(several.stderr, /^error: file: - \(standard input\) is one artifact/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
