// Policies over real images: pushed with skopeo to Debian's docker-registry, signed and
// attested through a running stack with Signet's image client (OCI 1.1 referrers via the tag
// schema, and the legacy .sig scheme), decided by tag and by digest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { attestImage, signImage } from '../../../src/client/oci/index.ts';
import { decideImage, loadPolicies, type Policy } from '../../../src/client/policy/index.ts';
import {
  pushImage,
  registryMissing,
  startRegistry,
  type TestRegistry,
} from '../../helpers/registry.ts';
import { policyStack } from './helpers.ts';

const missing = registryMissing();
const opts = { skip: missing ?? false };
let S: Awaited<ReturnType<typeof policyStack>>;
let reg: TestRegistry;
let signedByAlice: { ref: string; tagRef: string; digest: string };
let legacyByBob: { ref: string; tagRef: string; digest: string };
let unsigned: { ref: string; tagRef: string; digest: string };

before(async () => {
  if (missing) return;
  S = await policyStack();
  reg = await startRegistry();
  signedByAlice = pushImage(reg, 'team/api', { tag: 'v1' });
  legacyByBob = pushImage(reg, 'team/worker', { tag: 'v2' });
  unsigned = pushImage(reg, 'team/unsigned', { tag: 'v1' });
  await signImage(signedByAlice.ref, await S.context('alice@example.com'));
  await attestImage(
    signedByAlice.ref,
    {
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { builder: { id: 'https://ci.example.com' } },
    },
    await S.context('alice@example.com'),
  );
  await signImage(legacyByBob.ref, await S.context('bob@example.com'), { mode: 'legacy' });
});
let closed = false;
after(async () => {
  if (closed) return;
  await reg?.close();
  await S?.close();
});

let n = 0;
async function load(spec: string): Promise<Policy[]> {
  const f = S.write(
    `img${n++}.yaml`,
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: img${n}\nspec:\n${spec}\n`,
  );
  return loadPolicies([f], { defaultTrust: { root: S.root, label: 'stack' } });
}

const who = (subject: string) => `{identities: [{subject: ${subject}, issuer: "${S.issuer}"}]}`;

test(
  'an image signed in the registry passes by tag and by digest; unsigned and wrong signers are denied',
  opts,
  async () => {
    const p = await load(
      `  images: [{glob: "${reg.host}/team/**"}]\n  authorities:\n    - name: team\n      keyless: ${who('alice@example.com')}`,
    );
    for (const ref of [signedByAlice.tagRef, signedByAlice.ref]) {
      const d = await decideImage(p, ref);
      assert.equal(d.allowed, true, `${ref}: ${d.errors.join()}`);
      assert.match(d.policies[0]!.authorities[0]!.satisfiedBy[0]!.evidence, /referrer sha256:/);
    }
    const u = await decideImage(p, unsigned.tagRef);
    assert.equal(u.allowed, false);
    assert.match(u.errors[0]!, /no signature was found/);
    const b = await decideImage(p, legacyByBob.tagRef);
    assert.equal(b.allowed, false);
    assert.match(b.policies[0]!.authorities[0]!.reasons.join(), /bob@example\.com/);
  },
);

test('legacy .sig signatures count; signatureFormat restricts the scheme', opts, async () => {
  const any = await load(
    `  images: [{glob: "${reg.host}/team/worker:**"}]\n  authorities:\n    - keyless: ${who('bob@example.com')}`,
  );
  const d = await decideImage(any, legacyByBob.tagRef);
  assert.equal(d.allowed, true, d.errors.join());
  assert.match(d.policies[0]!.authorities[0]!.satisfiedBy[0]!.evidence, /\.sig/);
  const bundleOnly = await load(
    `  images: [{glob: "${reg.host}/team/worker:**"}]\n  authorities:\n    - signatureFormat: bundle\n      keyless: ${who('bob@example.com')}`,
  );
  const only = await decideImage(bundleOnly, legacyByBob.tagRef);
  assert.equal(only.allowed, false);
  // not "none found": the reader is told the legacy one was there and why it did not count
  assert.match(
    only.errors[0]!,
    /no signature was found for the artifact \(1 in the legacy format was left out: signatureFormat is bundle\)/,
  );
  const legacyOnly = await load(
    `  images: [{glob: "${reg.host}/team/api:**"}]\n  authorities:\n    - signatureFormat: legacy\n      keyless: ${who('alice@example.com')}`,
  );
  assert.match(
    (await decideImage(legacyOnly, signedByAlice.tagRef)).errors[0]!,
    /\(1 in the bundle format was left out: signatureFormat is legacy\)/,
  );
  // nothing left out: the plain message
  const anyBundle = await load(
    `  images: [{glob: "${reg.host}/team/**"}]\n  authorities:\n    - signatureFormat: bundle\n      keyless: ${who('bob@example.com')}`,
  );
  assert.match(
    (await decideImage(anyBundle, unsigned.tagRef)).errors[0]!,
    /no signature was found for the artifact$/,
  );
});

test(
  'glob rules decide which policies apply: a tag glob, a digest glob, no match',
  opts,
  async () => {
    const tagOnly = await load(
      `  images: [{glob: "${reg.host}/team/api:v1"}]\n  authorities:\n    - static: {action: fail, message: matched}`,
    );
    assert.equal((await decideImage(tagOnly, signedByAlice.tagRef)).allowed, false);
    const none = await decideImage(tagOnly, signedByAlice.ref);
    assert.equal(none.noMatch, true, 'the digest form is not the tag');
    const pinned = await load(
      `  images: [{glob: "${reg.host}/team/api@${signedByAlice.digest}"}]\n  authorities:\n    - static: {action: fail, message: pinned}`,
    );
    // a tag that resolves to the pinned digest is covered as well
    const d = await decideImage(pinned, signedByAlice.tagRef);
    assert.equal(d.noMatch, false);
    assert.match(d.errors[0]!, /pinned/);
    const other = await decideImage(pinned, unsigned.tagRef, { noMatch: 'allow' });
    assert.equal(other.allowed, true);
    assert.equal(other.noMatch, true);
  },
);

test('image attestations with a CEL condition', opts, async () => {
  const att = (cond: string) =>
    load(
      `  images: [{glob: "${reg.host}/**"}]\n  authorities:\n    - keyless: ${who('alice@example.com')}\n      attestations:\n        - name: slsa\n          predicateType: slsaprovenance1\n          policy: {type: cel, data: '${cond}'}`,
    );
  const ok = await decideImage(
    await att('predicate.builder.id == "https://ci.example.com" && artifact.kind == "image"'),
    signedByAlice.tagRef,
  );
  assert.equal(ok.allowed, true, JSON.stringify(ok.policies[0]!.authorities[0]!.reasons));
  const bad = await decideImage(
    await att('predicate.builder.id == "https://other.example.com"'),
    signedByAlice.tagRef,
  );
  assert.equal(bad.allowed, false);
  assert.match(bad.policies[0]!.authorities[0]!.reasons.join(), /condition .* is false/);
});

test('CLI: policy verify IMAGE and verify --policy', opts, async () => {
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(path.resolve('bin/signet'), args, { cwd: S.dir });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  S.write(
    'cli-images.yaml',
    `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: team}\nspec:\n  images: [{glob: "${reg.host}/team/**"}]\n  authorities:\n    - name: alice\n      keyless: ${who('alice@example.com')}\n`,
  );
  const policy = ['--policy', 'cli-images.yaml', '--trusted-root', 'trusted_root.json'];
  const ok = await run(['policy', 'verify', ...policy, signedByAlice.tagRef]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(
    ok.stdout,
    new RegExp(`${signedByAlice.tagRef.replace(/\./g, '\\.')} \\(image\\): ALLOWED`),
  );
  assert.match(ok.stdout, /authority "alice" \(keyless\): satisfied by alice@example\.com/);
  const v = await run(['verify', ...policy, unsigned.tagRef]);
  assert.equal(v.status, 1);
  const j = JSON.parse(v.stdout);
  assert.equal(j[0].allowed, false);
  assert.match(
    v.stderr,
    /policy "team" fails: no authority is satisfied; alice: no signature was found/,
  );
  // Several images: one decision each, in one report; one denied makes the exit 1.
  const two = await run(['verify', ...policy, signedByAlice.tagRef, unsigned.tagRef]);
  assert.equal(two.status, 1, two.stderr);
  const decisions = JSON.parse(two.stdout) as Array<{ allowed: boolean }>;
  assert.deepEqual(
    decisions.map((d) => d.allowed),
    [true, false],
  );
  assert.match(two.stderr, /team\/unsigned.*no authority is satisfied/);
  const both = await run([
    'verify',
    '--policy',
    'cli-images.yaml',
    '--key',
    'x.pub',
    signedByAlice.tagRef,
  ]);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /give either --policy or --key/);
});

test(
  "source.tagPrefix: signatures under cosign's prefixed .sig tag in another repository",
  opts,
  async () => {
    const { spawnSync } = await import('node:child_process');
    // bob's legacy signature, copied as it is to team/sigs under the tag prod-sha256-<hex>.sig
    const tag = `${legacyByBob.digest.replace(':', '-')}.sig`;
    const cp = spawnSync(
      'skopeo',
      [
        'copy',
        '--quiet',
        '--preserve-digests',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        `docker://${reg.host}/team/worker:${tag}`,
        `docker://${reg.host}/team/sigs:prod-${tag}`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(cp.status, 0, cp.stderr);
    const source = (prefix?: string) =>
      load(`  images: [{glob: "${reg.host}/team/**"}]
  authorities:
    - keyless: ${who('bob@example.com')}
      source: [{oci: "${reg.host}/team/sigs"${prefix === undefined ? '' : `, tagPrefix: "${prefix}"`}}]`);
    const ok = await decideImage(await source('prod-'), legacyByBob.ref);
    assert.equal(ok.allowed, true, JSON.stringify(ok.policies[0]!.authorities[0]!.reasons));
    assert.match(
      ok.policies[0]!.authorities[0]!.satisfiedBy[0]!.evidence,
      new RegExp(`tag prefix prod-\\) tag prod-${legacyByBob.digest.replace(':', '-')}\\.sig`),
    );
    for (const other of ['staging-', undefined]) {
      const d = await decideImage(await source(other), legacyByBob.ref);
      assert.equal(d.allowed, false, `tagPrefix ${other}`);
      assert.match(d.policies[0]!.authorities[0]!.reasons.join(), /no signature was found/);
    }
    await assert.rejects(source('-bad'), /source\[0\]\.tagPrefix: "-bad" cannot start a tag/);
  },
);

test(
  'spec.policy fetchConfigFile: the condition sees the config file of each platform',
  opts,
  async () => {
    const multi = pushImage(reg, 'team/multi', { tag: 'v1', platforms: ['amd64', 'arm64'] });
    await signImage(multi.ref, await S.context('alice@example.com'));
    const policies = (cel: string) =>
      load(
        `  images: [{glob: "${reg.host}/team/**"}]\n  authorities: [{name: alice, keyless: ${who('alice@example.com')}}]\n  policy: {type: cel, fetchConfigFile: true, data: ${JSON.stringify(cel)}}`,
      );
    const both = await policies(
      'config["linux/amd64"].architecture == "amd64" && config["linux/arm64"].os == "linux" && size(config) == 2',
    );
    let gathered: unknown;
    const d = await decideImage(both, multi.tagRef, { gathered: (g) => (gathered = g) });
    assert.equal(d.allowed, true, JSON.stringify(d));
    // Recorded with the case, so policy test decides the same offline.
    const { recordCase, parseRecordedCase, runRecordedCase } =
      await import('../../../src/client/policy/recorded.ts');
    const { parseImageReference } = await import('../../../src/client/policy/glob.ts');
    const recorded = recordCase(
      'multi',
      { kind: 'image', ref: parseImageReference(multi.tagRef, 'image') },
      { kind: 'image', gathered: gathered as never },
      d,
      S.root,
    );
    assert.deepEqual(Object.keys((recorded.image as { configs: object }).configs).sort(), [
      'linux/amd64',
      'linux/arm64',
    ]);
    const replayed = await runRecordedCase(
      both,
      await parseRecordedCase(JSON.parse(JSON.stringify(recorded)), 'case.json'),
    );
    assert.equal(replayed.allowed, true, JSON.stringify(replayed));
    // A single-platform image: its one config, keyed by the platform it names.
    const one = await decideImage(
      await policies('size(config) == 1 && config["linux/amd64"].rootfs.type == "layers"'),
      signedByAlice.ref,
    );
    assert.equal(one.allowed, true, JSON.stringify(one));
    const wrong = await decideImage(await policies('"linux/s390x" in config'), multi.tagRef);
    assert.equal(wrong.allowed, false);
    assert.match(JSON.stringify(wrong.policies[0]!.reasons), /condition .* is false/);
  },
);

/**
 * An index of two images pushed with the distribution API, not skopeo (which would not write
 * one with two entries for a platform): `platforms` gives each entry's platform, and each image
 * a config of its own (User root, app, ...).
 */
async function pushIndex(
  repo: string,
  tag: string,
  platforms: { os: string; architecture: string; variant?: string }[],
): Promise<string> {
  const { createHash } = await import('node:crypto');
  const base = `${reg.url}/v2/${repo}`;
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const blob = async (b: Buffer) => {
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location')!, base);
    loc.searchParams.set('digest', sha(b));
    const r = await fetch(loc, { method: 'PUT', body: b });
    assert.equal(r.status, 201, await r.text());
    return { digest: sha(b), size: b.length };
  };
  const manifest = async (ref: string, b: Buffer, type: string) => {
    const r = await fetch(`${base}/manifests/${ref}`, {
      method: 'PUT',
      body: b,
      headers: { 'content-type': type },
    });
    assert.equal(r.status, 201, await r.text());
    return { digest: sha(b), size: b.length };
  };
  const layer = await blob(Buffer.from(`layer of ${repo}`));
  const entries = [];
  for (const [i, p] of platforms.entries()) {
    const config = await blob(
      Buffer.from(
        JSON.stringify({
          ...p,
          config: { User: i === 0 ? 'root' : `app${i}` },
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
        }),
      ),
    );
    const m = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    const d = await manifest(sha(m), m, 'application/vnd.oci.image.manifest.v1+json');
    entries.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...d, platform: p });
  }
  const idx = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: entries,
    }),
  );
  const i = await manifest(tag, idx, 'application/vnd.oci.image.index.v1+json');
  return `${reg.host}/${repo}@${i.digest}`;
}

test(
  'fetchConfigFile: an index with two images for one platform is denied, naming it; arm64/v8 is arm64',
  opts,
  async () => {
    const policies = await load(
      `  images: [{glob: "${reg.host}/dup/**"}]\n  authorities: [{name: alice, keyless: ${who('alice@example.com')}}]\n  policy: {type: cel, fetchConfigFile: true, data: ${JSON.stringify('config["linux/amd64"].config.User != "root"')}}`,
    );
    // Both linux/amd64: the later (app1) would pass the condition, the first (root) would not,
    // and containerd runs the first.
    const same = await pushIndex('dup/same', 'v1', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'amd64' },
    ]);
    await signImage(same, await S.context('alice@example.com'));
    const d = await decideImage(policies, same);
    assert.equal(d.allowed, false, JSON.stringify(d));
    assert.match(
      JSON.stringify(d),
      /the index has 2 images for linux\/amd64: which of them runs there is ambiguous/,
    );
    // linux/arm64 and linux/arm64/v8 are one platform (containerd's platforms.Normalize).
    const arm = await pushIndex('dup/arm', 'v1', [
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    await signImage(arm, await S.context('alice@example.com'));
    const a = await decideImage(policies, arm);
    assert.equal(a.allowed, false, JSON.stringify(a));
    assert.match(JSON.stringify(a), /the index has 2 images for linux\/arm64: /);
    // One of each, with a variant: keyed as the index names them (as policy-controller keys
    // them), and allowed.
    const fine = await pushIndex('dup/fine', 'v1', [
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'amd64' },
    ]);
    await signImage(fine, await S.context('alice@example.com'));
    const both = await load(
      `  images: [{glob: "${reg.host}/dup/**"}]\n  authorities: [{name: alice, keyless: ${who('alice@example.com')}}]\n  policy: {type: cel, fetchConfigFile: true, data: ${JSON.stringify('size(config) == 2 && config["linux/arm64/v8"].config.User == "root" && config["linux/amd64"].config.User == "app1"')}}`,
    );
    const f = await decideImage(both, fine);
    assert.equal(f.allowed, true, JSON.stringify(f));
  },
);

// Last: it stops the registry and the stack, to show the replay needs only the cases.
test(
  'policy verify --record writes image cases (referrer and legacy signatures); policy test replays them offline',
  opts,
  async () => {
    const { spawnSync } = await import('node:child_process');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const run = (args: string[]) =>
      spawnSync(path.resolve('bin/signet'), args, { cwd: S.dir, encoding: 'utf8' });
    const policy = (people: string[]) =>
      `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: team}\nspec:\n  images: [{glob: "${reg.host}/team/**"}]\n  authorities:\n${people.map((p) => `    - name: ${p}\n      keyless: ${who(`${p}@example.com`)}\n`).join('')}`;
    S.write('rec-both.yaml', policy(['alice', 'bob']));
    S.write('rec-alice.yaml', policy(['alice']));
    const record = (image: string, file: string) =>
      run([
        'policy',
        'verify',
        '--policy',
        'rec-both.yaml',
        '--trusted-root',
        'trusted_root.json',
        '--record',
        file,
        image,
      ]);
    const a = record(signedByAlice.tagRef, 'alice-image.json');
    assert.equal(a.status, 0, a.stderr);
    const b = record(legacyByBob.tagRef, 'bob-image.json');
    assert.equal(b.status, 0, b.stderr);
    const u = record(unsigned.tagRef, 'unsigned-image.json');
    assert.equal(u.status, 1);
    const alice = JSON.parse(fs.readFileSync(path.join(S.dir, 'alice-image.json'), 'utf8'));
    assert.equal(alice.artifact.digest, signedByAlice.digest);
    assert.equal(alice.image.sources[0].attachments[0].scheme, 'referrer');
    const bob = JSON.parse(fs.readFileSync(path.join(S.dir, 'bob-image.json'), 'utf8'));
    const legacy = bob.image.sources[0].attachments[0];
    assert.equal(legacy.scheme, 'legacy');
    // the signed simple-signing payload names the digest
    assert.match(Buffer.from(legacy.payload, 'base64').toString(), new RegExp(bob.artifact.digest));

    await reg.close();
    await S.close();
    closed = true;
    const cases = ['alice-image.json', 'bob-image.json', 'unsigned-image.json'];
    const replay = run(['policy', 'test', '--policy', 'rec-both.yaml', ...cases]);
    assert.equal(replay.status, 0, replay.stderr + replay.stdout);
    assert.equal(replay.stdout.match(/^ok /gm)?.length, 3);
    // Without bob in the policy, bob's image is no longer allowed: the case fails.
    const broken = run(['policy', 'test', '--policy', 'rec-alice.yaml', ...cases]);
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, /^FAIL .*team\/worker:v2: denied \(expected allow\)/m);
    assert.match(broken.stderr, /1 of 3 cases did not get the expected decision/);
    // A recorded legacy payload for another image is refused by the verifier, not trusted.
    bob.artifact.digest = alice.artifact.digest;
    fs.writeFileSync(path.join(S.dir, 'moved.json'), JSON.stringify(bob));
    const moved = run(['policy', 'test', '--policy', 'rec-both.yaml', 'moved.json']);
    assert.equal(moved.status, 1);
    assert.match(moved.stdout, /the signature is for sha256:[0-9a-f]{64}, not this image/);
  },
);
