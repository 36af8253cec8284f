// --platform on sign, attest, verify and verify-attestation (asked of cosign in cosign#3552; its
// copy and download have it): of a multi-platform index, the image for that platform is what is
// signed, attested and verified, not the index. Against Debian's docker-registry.
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { inspectRaw, pushImage } from '../helpers/registry.ts';

const { reg, dir, run, keyed, byKey, opts } = await imageTestbed('signet-platform-');

/** The index's manifest digest for `arch`, as skopeo (an independent client) reads the index. */
function digestOf(repoRef: string, arch: string): string {
  const index = inspectRaw(reg!, repoRef) as {
    manifests: Array<{ digest: string; platform: { architecture: string } }>;
  };
  return index.manifests.find((m) => m.platform.architecture === arch)!.digest;
}

test(
  '--platform: the image of one platform of an index is signed, attested and verified, not the index',
  opts,
  async () => {
    const img = pushImage(reg!, 'multi/app', { platforms: ['amd64', 'arm64'] });
    const arm = digestOf(`multi/app@${img.digest}`, 'arm64');
    const amd = digestOf(`multi/app@${img.digest}`, 'amd64');

    // signed by tag: the warning names the arm64 image the tag's index points at now
    const s = await run(['sign', ...keyed, '--platform', 'linux/arm64', img.tagRef]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(
      s.stderr,
      new RegExp(`uses a tag, not a digest.*signing ${reg!.host}/multi/app@${arm}`),
    );
    assert.match(s.stderr, new RegExp(`Pushing signature to: .* for ${arm}\\n`));

    // the arm64 image has the signature, by --platform or by its own digest; the index and
    // the amd64 image have none (cosign's exit code 10)
    const v = await run(['verify', ...byKey, '--platform', 'linux/arm64', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.match(
      v.stderr,
      new RegExp(`Verification for ${reg!.host}/multi/app@${arm} --\\n1 signature found`),
    );
    const report = JSON.parse(v.stdout) as { digest: string; valid: number };
    assert.deepEqual([report.digest, report.valid], [arm, 1]);
    assert.equal((await run(['verify', ...byKey, `${reg!.host}/multi/app@${arm}`])).status, 0);
    const index = await run(['verify', ...byKey, img.ref]);
    assert.equal(index.status, 10, index.stderr);
    const other = await run(['verify', ...byKey, '--platform', 'linux/amd64', img.ref]);
    assert.equal(other.status, 10, other.stderr);
    assert.match(
      other.stderr,
      new RegExp(
        `no signatures found for its linux/amd64 image \\(looked at the OCI referrers of ${amd}`,
      ),
    );

    // a policy decides about the platform's image too (verify --policy --platform)
    const pub = fs.readFileSync(path.join(dir, 'cosign.pub'), 'utf8').trimEnd();
    fs.writeFileSync(
      path.join(dir, 'keyed.yaml'),
      `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: keyed}
spec:
  images: [{glob: "**"}]
  authorities:
    - key:
        data: |
${pub.replace(/^/gm, '          ')}
`,
    );
    const byPolicy = (platform: string) =>
      run([
        'verify',
        '--trusted-root',
        'root.json',
        '--policy',
        'keyed.yaml',
        '--platform',
        platform,
        img.ref,
      ]);
    const allowed = await byPolicy('linux/arm64');
    assert.equal(allowed.status, 0, allowed.stderr);
    const [decision] = JSON.parse(allowed.stdout) as Array<{ artifact: string; allowed: boolean }>;
    assert.deepEqual([decision!.allowed, decision!.artifact.endsWith(`@${arm}`)], [true, true]);
    const denied = await byPolicy('linux/amd64');
    assert.equal(denied.status, 1, denied.stderr);
    assert.match(denied.stderr, new RegExp(`@${amd}`));

    // and in an image layout saved with everything attached (cosign save, verify --local-image)
    const saved = await run(['save', '--dir', 'layout', img.ref]);
    assert.equal(saved.status, 0, saved.stderr);
    const local = await run([
      'verify',
      ...byKey,
      '--local-image',
      'layout',
      '--platform',
      'linux/arm64',
    ]);
    assert.equal(local.status, 0, local.stderr);
    assert.equal((JSON.parse(local.stdout) as { digest: string }).digest, arm);

    // an attestation about the amd64 image, verified through the index by --platform
    fs.writeFileSync(path.join(dir, 'vuln.json'), '{"scanner":{"result":[]}}');
    const att = await run([
      'attest',
      ...keyed,
      '--platform',
      'linux/amd64',
      '--type',
      'vuln',
      '--predicate',
      'vuln.json',
      img.ref,
    ]);
    assert.equal(att.status, 0, att.stderr);
    assert.match(att.stderr, new RegExp(`Pushing attestation to: .* for ${amd}\\n`));
    const va = await run([
      'verify-attestation',
      ...byKey,
      '--type',
      'vuln',
      '--platform',
      'linux/amd64',
      img.ref,
    ]);
    assert.equal(va.status, 0, va.stderr);
    const attested = JSON.parse(va.stdout) as {
      digest: string;
      verified: Array<{ statement: { subject: Array<{ digest: { sha256: string } }> } }>;
    };
    assert.equal(attested.digest, amd);
    const st = attested.verified[0]!.statement;
    assert.equal(`sha256:${st.subject[0]!.digest.sha256}`, amd);
    const noAtt = await run([
      'verify-attestation',
      ...byKey,
      '--type',
      'vuln',
      '--platform',
      'linux/arm64',
      img.ref,
    ]);
    assert.equal(noAtt.status, 10, noAtt.stderr);
  },
);

test(
  '--platform: what cannot be meant is refused in one line, before anything is signed',
  opts,
  async () => {
    const img = pushImage(reg!, 'multi/refused', { platforms: ['amd64', 'arm64'] });
    const single = pushImage(reg!, 'multi/single');
    const fails = async (args: string[], message: RegExp) => {
      const r = await run(args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      // one line (after cosign's deprecation notice of a flag it deprecated)
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error: ')).length, 1, r.stderr);
      assert.doesNotMatch(r.stderr.replace(/^Flag --\S+ has been deprecated.*\n/m, ''), /\n./);
    };
    await fails(
      ['sign', ...keyed, '--platform', 'linux/arm64', '-r', img.ref],
      /^error: --platform: signs the image of one platform; -r signs the index and every image in it/,
    );
    await fails(
      ['sign', ...keyed, '--platform', 'linux', img.ref],
      /^error: --platform: "linux" is not os\/architecture\[\/variant\]/,
    );
    await fails(
      ['attest', ...keyed, '--platform', 'linux/s390x', '--predicate', '/dev/null', img.ref],
      /^error: \S+\/multi\/refused@sha256:[0-9a-f]{64}: --platform: the index has no image for linux\/s390x \(it has linux\/amd64, linux\/arm64\)$/m,
    );
    await fails(
      ['verify', ...byKey, '--platform', 'linux/amd64', single.ref],
      /^error: \S+\/multi\/single@sha256:[0-9a-f]{64}: --platform: it is one image, not a multi-platform index: leave --platform out$/m,
    );
    await fails(
      ['verify', ...byKey, '--signature', 'AAAA', '--platform', 'linux/amd64', img.ref],
      /^error: --signature: is verified against the image named: name the platform's image by its digest/m,
    );
    // of several images, each failure is named once
    const two = await run(['verify', ...byKey, '--platform', 'linux/amd64', single.ref, img.ref]);
    assert.equal(two.status, 1, two.stderr);
    assert.equal(two.stderr.split(single.ref).length, 2, two.stderr);
    // none of those signed anything: the index and both of its images are still unsigned
    for (const platform of [[], ['--platform', 'linux/amd64'], ['--platform', 'linux/arm64']])
      assert.equal((await run(['verify', ...byKey, ...platform, img.ref])).status, 10);
  },
);
