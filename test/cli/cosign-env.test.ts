/**
 * cosign's trust overrides read from the environment by the verify commands: each one replaces
 * a part of the trusted root, so a wrong file makes a good public-good bundle fail and the right
 * one makes it pass (a variable that were ignored would pass both ways). Offline, with the
 * conformance bundles and their trusted roots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const bin = path.resolve('bin/signet');
const C = path.resolve('test/fixtures/conformance');
const artifact = path.join(C, 'bundle-verify/a.txt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cosign-env-'));
const SAN =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const id = ['--certificate-identity', SAN, '--certificate-oidc-issuer', ISS];

interface Root {
  certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
  tlogs: Array<{ logId: { keyId: string }; publicKey: { rawBytes: string } }>;
  ctlogs: Array<{ logId: { keyId: string }; publicKey: { rawBytes: string } }>;
  timestampAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
}
const pem = (label: string, b64: string) =>
  `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
const write = (name: string, text: string) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};
const readRoot = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as Root;
const chainPem = (cas: Root['certificateAuthorities']) =>
  cas.flatMap((c) => c.certChain.certificates.map((x) => pem('CERTIFICATE', x.rawBytes))).join('');
const otherKey = write(
  'other.pub',
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString(),
);
// A CA certificate that signed nothing here: the rekor2 root's TSA chain.
const rekor2Dir = path.join(C, 'bundle-verify/rekor2-happy-path');
const rekor2Root = readRoot(path.join(rekor2Dir, 'trusted_root.json'));
const otherCa = write('other-ca.pem', chainPem(rekor2Root.timestampAuthorities));
assert.ok(new X509Certificate(fs.readFileSync(otherCa)).subject);

function verify(bundle: string, root: string, env: Record<string, string>) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.SIGNET_SERVER;
  return spawnSync(
    bin,
    ['verify-blob', artifact, '--bundle', bundle, '--trusted-root', root, ...id],
    {
      encoding: 'utf8',
      env: e,
    },
  );
}

function passesOnlyWithTheRightFile(
  name: string,
  bundle: string,
  root: string,
  right: string,
  wrong: string,
  why: RegExp,
) {
  const ok = verify(bundle, root, { [name]: right });
  assert.equal(ok.status, 0, `${name}=right: ${ok.stderr}`);
  const bad = verify(bundle, root, { [name]: wrong });
  assert.equal(bad.status, 12, `${name}=wrong: ${bad.stderr}`);
  assert.match(bad.stderr, why, name);
}

test('SIGSTORE_ROOT_FILE, SIGSTORE_REKOR_PUBLIC_KEY, SIGSTORE_CT_LOG_PUBLIC_KEY_FILE replace their part of the root', () => {
  const rootFile = path.join(C, 'trust-roots/production/trusted_root.json');
  const root = readRoot(rootFile);
  const bundle = path.join(C, 'bundle-verify/happy-path-v0.3/bundle.sigstore.json');
  const b = JSON.parse(fs.readFileSync(bundle, 'utf8'));
  const logKey = root.tlogs.find(
    (t) => t.logId.keyId === b.verificationMaterial.tlogEntries[0].logId.keyId,
  )!;
  // The root has two CAs (one variable holds one chain): the one that issued this certificate.
  const caOk = root.certificateAuthorities
    .map((c, i) => write(`fulcio${i}.pem`, chainPem([c])))
    .filter((f) => verify(bundle, rootFile, { SIGSTORE_ROOT_FILE: f }).status === 0);
  assert.equal(caOk.length, 1, 'exactly one CA of the root issued the certificate');
  passesOnlyWithTheRightFile(
    'SIGSTORE_ROOT_FILE',
    bundle,
    rootFile,
    caOk[0]!,
    otherCa,
    /not issued by a CA of the trusted root/,
  );
  passesOnlyWithTheRightFile(
    'SIGSTORE_REKOR_PUBLIC_KEY',
    bundle,
    rootFile,
    write('rekor.pub', pem('PUBLIC KEY', logKey.publicKey.rawBytes)),
    otherKey,
    /comes from a transparency log that is not in the trusted root/,
  );
  // The root has two CT log keys (one variable holds one key): the one that signed the SCT.
  const ctOk = root.ctlogs
    .map((c, i) => write(`ct${i}.pub`, pem('PUBLIC KEY', c.publicKey.rawBytes)))
    .filter((f) => verify(bundle, rootFile, { SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: f }).status === 0);
  assert.equal(ctOk.length, 1, 'exactly one CT log key of the root verifies the SCT');
  passesOnlyWithTheRightFile(
    'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE',
    bundle,
    rootFile,
    ctOk[0]!,
    otherKey,
    /signed certificate timestamp does not verify against a CT log of the trusted root/,
  );
});

test('SIGSTORE_REKOR_PUBLIC_KEY for a log the root does not list: the key trusts it, and its checkpoint is still checked with the key', () => {
  const root = readRoot(path.join(C, 'trust-roots/production/trusted_root.json'));
  const bundle = path.join(C, 'bundle-verify/happy-path-v0.3/bundle.sigstore.json');
  const b = JSON.parse(fs.readFileSync(bundle, 'utf8'));
  const entry = b.verificationMaterial.tlogEntries[0];
  const log = root.tlogs.find((t) => t.logId.keyId === entry.logId.keyId)!;
  const noLog = write('no-log.json', JSON.stringify({ ...root, tlogs: [] }));
  const key = write('rekor-only.pub', pem('PUBLIC KEY', log.publicKey.rawBytes));
  assert.match(verify(bundle, noLog, {}).stderr, /not in the trusted root/);
  const ok = verify(bundle, noLog, { SIGSTORE_REKOR_PUBLIC_KEY: key });
  assert.equal(ok.status, 0, ok.stderr);
  // A tree under another name: the log's signature over the checkpoint no longer holds.
  const checkpoint: string = entry.inclusionProof.checkpoint.envelope;
  assert.match(checkpoint, /^rekor\.sigstore\.dev - \d+\n/);
  entry.inclusionProof.checkpoint.envelope = checkpoint.replace(
    /^rekor\.sigstore\.dev/,
    'other.example',
  );
  const renamed = write('renamed-checkpoint.json', JSON.stringify(b));
  const bad = verify(renamed, noLog, { SIGSTORE_REKOR_PUBLIC_KEY: key });
  assert.equal(bad.status, 12, bad.stderr);
  assert.match(
    bad.stderr,
    /the checkpoint of entry \d+ is not signed by the log env:SIGSTORE_REKOR_PUBLIC_KEY/,
  );
});

test('SIGSTORE_TSA_CERTIFICATE_FILE replaces the timestamp authorities', () => {
  const rootFile = path.join(rekor2Dir, 'trusted_root.json');
  const bundle = path.join(rekor2Dir, 'bundle.sigstore.json');
  const prod = readRoot(path.join(C, 'trust-roots/production/trusted_root.json'));
  passesOnlyWithTheRightFile(
    'SIGSTORE_TSA_CERTIFICATE_FILE',
    bundle,
    rootFile,
    otherCa, // the rekor2 root's own TSA chain
    write('prod-tsa.pem', chainPem(prod.timestampAuthorities)),
    /timestamp/i,
  );
});

test('SIGSTORE_ROOT_FILE holds roots and intermediates in any order, as cosign reads it', () => {
  const rootFile = path.join(C, 'trust-roots/production/trusted_root.json');
  const root = readRoot(rootFile);
  const bundle = path.join(C, 'bundle-verify/happy-path-v0.3/bundle.sigstore.json');
  const certs = root.certificateAuthorities.flatMap((c) =>
    c.certChain.certificates.map((x) => pem('CERTIFICATE', x.rawBytes)),
  );
  assert.ok(certs.length >= 3, 'public-good: two roots and an intermediate');
  // Roots first, another deployment's CA among them: the path to the right root is found.
  const pool = write('pool.pem', [...certs].reverse().join('') + fs.readFileSync(otherCa, 'utf8'));
  const ok = verify(bundle, rootFile, { SIGSTORE_ROOT_FILE: pool });
  assert.equal(ok.status, 0, ok.stderr);
  // Intermediates with no root of theirs in the file: nothing to trust, said by name.
  const selfSigned = (p: string) => {
    const x = new X509Certificate(p);
    return x.subject === x.issuer;
  };
  const noRoot = write('no-root.pem', certs.filter((c) => !selfSigned(c)).join(''));
  const bad = verify(bundle, rootFile, { SIGSTORE_ROOT_FILE: noRoot });
  assert.notEqual(bad.status, 0);
  assert.match(
    bad.stderr,
    /SIGSTORE_ROOT_FILE: holds no root certificate \(self-signed\) for its certificates to chain to/,
  );
});
