// `signet policy verify` / `policy test` and `verify-blob[-attestation] --policy` as a user runs
// them, over bundles signed through a running stack.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { serializeBundle } from '../../src/bundle/bundle.ts';
import { policyStack } from '../client/policy/helpers.ts';

const bin = path.resolve('bin/signet');
let S: Awaited<ReturnType<typeof policyStack>>;
const data = new TextEncoder().encode('tool 2.0\n');
let aliceBundle: string, provBundle: string, policyFile: string;

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { cwd: S.dir });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  S = await policyStack();
  S.write('tool.tgz', Buffer.from(data).toString());
  aliceBundle = S.write(
    'tool.tgz.sigstore.json',
    serializeBundle(await S.sign(data, 'alice@example.com')),
  );
  provBundle = S.write(
    'tool.tgz.intoto.json',
    serializeBundle(
      await S.attest(data, 'alice@example.com', 'https://slsa.dev/provenance/v1', {
        builder: 'ci',
      }),
    ),
  );
  policyFile = S.write(
    'release.yaml',
    `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: release}
spec:
  blobs: [{name: "*.tgz"}]
  authorities:
    - name: release-team
      keyless:
        identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: provenance}
spec:
  mode: warn
  blobs: [{name: "*.tgz"}]
  authorities:
    - name: builder
      keyless:
        identities: [{subject: alice@example.com, issuer: "${S.issuer}"}]
      attestations:
        - name: slsa
          predicateType: slsaprovenance1
          policy: {type: cel, data: 'predicate.builder == "ci"'}
`,
  );
});
after(() => S?.close());

/** `policy verify` of tool.tgz with alice's bundle, against the policies and the stack's root. */
const verifyAlice = (...extra: string[]) =>
  run([
    'policy',
    'verify',
    '--policy',
    policyFile,
    '--bundle',
    aliceBundle,
    '--trusted-root',
    'trusted_root.json',
    ...extra,
    'tool.tgz',
  ]);

test('policy verify: text says which policy and authority decided, warn mode reports', async () => {
  const r = await verifyAlice();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /tool\.tgz \(blob\): ALLOWED with warnings/);
  assert.match(r.stdout, /policy "release" .*: passed/);
  assert.match(r.stdout, /authority "release-team" \(keyless\): satisfied by alice@example\.com/);
  assert.match(r.stdout, /policy "provenance" .*FAILED \(warn mode: not enforced\)/);
  // the text report says each warning once (not again on stderr); JSON leaves it to stderr
  assert.equal(r.stdout.match(/warning: policy "provenance" would fail \(warn mode\)/g)?.length, 1);
  assert.doesNotMatch(r.stderr, /warning:/);
  const json = await verifyAlice('-o', 'json');
  assert.equal(json.status, 0, json.stderr);
  assert.match(
    JSON.parse(json.stdout)[0].warnings[0],
    /policy "provenance" would fail \(warn mode\)/,
  );
  assert.equal(
    json.stderr.match(/warning: policy "provenance" would fail \(warn mode\)/g)?.length,
    1,
  );
  // both bundles: everything passes
  const all = await run([
    'policy',
    'verify',
    '--policy',
    policyFile,
    '--bundle',
    aliceBundle,
    '--bundle',
    provBundle,
    '--trusted-root',
    'trusted_root.json',
    '-o',
    'json',
    'tool.tgz',
  ]);
  assert.equal(all.status, 0, all.stderr);
  const j = JSON.parse(all.stdout);
  assert.equal(j[0].allowed, true);
  assert.deepEqual(
    j[0].policies.map((p: { passed: boolean }) => p.passed),
    [true, true],
  );
  assert.equal(j[0].policies[1].authorities[0].satisfiedBy[0].attestation, 'slsa');
});

test('policy verify: a denial exits 1 and names each failing authority', async () => {
  const strict = S.write(
    'strict.yaml',
    `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: strict}
spec:
  blobs: [{path: "**"}]
  authorities:
    - name: bob-only
      keyless: {identities: [{subject: bob@example.com, issuer: "${S.issuer}"}]}
`,
  );
  const r = await run([
    'policy',
    'verify',
    '--policy',
    strict,
    '--bundle',
    aliceBundle,
    '--trusted-root',
    'trusted_root.json',
    '-o',
    'json',
    'tool.tgz',
  ]);
  assert.equal(r.status, 1);
  const j = JSON.parse(r.stdout);
  assert.equal(j[0].allowed, false);
  assert.match(j[0].policies[0].authorities[0].reasons[0], /alice@example\.com/);
  assert.match(
    r.stderr,
    /^error: tool\.tgz: policy "strict" fails: no authority is satisfied; bob-only: /m,
  );
  // no policy for this file: denied by default, allowed with --no-match-policy allow
  const other = S.write('notes.txt', 'x');
  const nm = await run([
    'policy',
    'verify',
    '--policy',
    policyFile,
    '--bundle',
    aliceBundle,
    '--trusted-root',
    'trusted_root.json',
    other,
  ]);
  assert.equal(nm.status, 1);
  assert.match(nm.stderr, /no policy covers/);
  const allowed = await run([
    'policy',
    'verify',
    '--policy',
    policyFile,
    '--bundle',
    aliceBundle,
    '--trusted-root',
    'trusted_root.json',
    '--no-match-policy',
    'allow',
    other,
  ]);
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.match(allowed.stdout, /ALLOWED/);
  const badNm = await run([
    'policy',
    'verify',
    '--policy',
    policyFile,
    '--bundle',
    aliceBundle,
    '--no-match-policy',
    'maybe',
    other,
  ]);
  assert.match(badNm.stderr, /--no-match-policy: "maybe" is not allow, warn or deny/);
  // bad policy: one line naming file and field
  const bad = S.write(
    'bad.yaml',
    'apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: b}\nspec:\n  images: [{glob: "a b"}]\n  authorities: [{static: {action: pass}}]\n',
  );
  const b = await run(['policy', 'verify', '--policy', bad, '--bundle', aliceBundle, 'tool.tgz']);
  assert.equal(b.status, 1);
  assert.match(
    b.stderr,
    /^error: .*bad\.yaml: spec\.images\[0\]\.glob: "a b" is not a valid image glob/,
  );
  assert.equal(b.stderr.trim().split('\n').length, 1);
});

test('policy verify --record, then policy test replays the case offline', async () => {
  const rec = path.join(S.dir, 'case.json');
  const r = await verifyAlice('--record', rec);
  assert.equal(r.status, 0, r.stderr);
  const t = await run([
    'policy',
    'test',
    '--policy',
    policyFile,
    '--trusted-root',
    'trusted_root.json',
    rec,
  ]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^ok tool\.tgz: allowed \(expected allow\)/m);
  // a tightened policy no longer gives the recorded decision: policy test fails
  const tight = S.write(
    'tight.yaml',
    `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: tight}
spec:
  blobs: [{name: "*.tgz"}]
  authorities: [{keyless: {identities: [{subject: carol@example.com, issuer: "${S.issuer}"}]}}]
`,
  );
  const f = await run([
    'policy',
    'test',
    '--policy',
    tight,
    '--trusted-root',
    'trusted_root.json',
    rec,
  ]);
  assert.equal(f.status, 1);
  assert.match(f.stdout, /^FAIL tool\.tgz: denied \(expected allow\)/m);
  assert.match(f.stderr, /error: 1 of 1 case did not get the expected decision/);
});

test('verify-blob --policy and verify-blob-attestation --policy', async () => {
  const ok = await run([
    'verify-blob',
    '--policy',
    policyFile,
    '--bundle',
    aliceBundle,
    '--trusted-root',
    'trusted_root.json',
    'tool.tgz',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /Verified OK: policy "release" by release-team \(alice@example\.com/);
  assert.match(ok.stderr, /warning: policy "provenance" would fail/);
  const both = await run([
    'verify-blob',
    '--policy',
    policyFile,
    '--certificate-identity',
    'x',
    '--bundle',
    aliceBundle,
    'tool.tgz',
  ]);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /give either --policy or --key/);
  const att = await run([
    'verify-blob-attestation',
    '--policy',
    policyFile,
    '--bundle',
    provBundle,
    '--trusted-root',
    'trusted_root.json',
    'tool.tgz',
  ]);
  // the attestation alone does not satisfy "release" (it asks for a signature): denied
  assert.equal(att.status, 1);
  assert.match(att.stderr, /policy "release" fails.*no signature was found/);
  const notAtt = await run([
    'verify-blob-attestation',
    '--policy',
    policyFile,
    '--bundle',
    aliceBundle,
    '--trusted-root',
    'trusted_root.json',
    'tool.tgz',
  ]);
  assert.equal(notAtt.status, 12); // cosign: no matching signature (a plain signature, no attestation)
  assert.match(notAtt.stderr, /not an attestation/);
});
