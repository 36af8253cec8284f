// `signet sign` / `verify` against Debian's docker-registry (distribution 2.8, no referrers
// API: the referrers tag schema is exercised) and a whole stack: keyless and keyed, Rekor v1
// and v2, single image and multi-platform index, both storage schemes, checked with skopeo.
import { test } from 'node:test';
import { imageTestbed } from '../helpers/image-testbed.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { stackToken } from '../helpers/stack.ts';
import { inspectRaw, pushImage } from '../helpers/registry.ts';
import { oneError, verifyWithSigstoreJs } from '../interop/sign-helpers.ts';

const { stack, reg, dir, run, identity, issuer, who, keyed, opts } =
  await imageTestbed('signet-oci-');

async function signKeyless(ref: string, extra: string[] = []) {
  const token = await stackToken(stack.url, identity);
  return run(['sign', '--server', stack.url, '--identity-token', token, ...extra, ref]);
}

function report(stdout: string) {
  return JSON.parse(stdout) as {
    found: number;
    tried: number;
    valid: number;
    verified: Array<{
      scheme: string;
      signer: { identity?: string[] };
      tlog: Array<{ logIndex: number }>;
      annotations: Record<string, unknown>;
    }>;
    rejected: Array<{ location: string; reason: string }>;
  };
}

test(
  'keyless sign (Rekor v1): a v0.3 bundle referrer in the tag schema, verify prints who/when/index',
  opts,
  async () => {
    const img = pushImage(reg!, 'app/keyless');
    const s = await signKeyless(img.ref, ['--rekor-version', '1', '--bundle', 'k1.json']);
    assert.equal(s.status, 0, s.stderr);
    const hex = img.digest.slice('sha256:'.length);
    // the fallback index, as skopeo sees it: artifactType and annotations lifted into the entry
    const idx = inspectRaw(reg!, `app/keyless:sha256-${hex}`) as {
      mediaType: string;
      manifests: Array<Record<string, unknown>>;
    };
    assert.equal(idx.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(idx.manifests.length, 1);
    const entry = idx.manifests[0]!;
    assert.equal(entry.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const ann = entry.annotations as Record<string, string>;
    assert.equal(ann['dev.sigstore.bundle.predicateType'], 'https://sigstore.dev/cosign/sign/v1');
    assert.equal(ann['dev.sigstore.bundle.content'], 'dsse-envelope');
    assert.match(ann['org.opencontainers.image.created']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const man = inspectRaw(reg!, `app/keyless@${entry.digest as string}`) as Record<string, any>;
    assert.equal(man.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(man.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.equal(man.subject.digest, img.digest);
    assert.equal(man.subject.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(man.layers.length, 1);
    assert.equal(man.layers[0].mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    // the bundle in the registry is the one written with --bundle, and sigstore-js verifies it
    const blob = await (
      await fetch(`${reg!.url}/v2/app/keyless/blobs/${man.layers[0].digest}`)
    ).text();
    assert.deepEqual(
      JSON.parse(blob),
      JSON.parse(fs.readFileSync(path.join(dir, 'k1.json'), 'utf8')),
    );
    const b = JSON.parse(blob);
    assert.equal(b.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const statement = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
    assert.equal(statement.predicateType, 'https://sigstore.dev/cosign/sign/v1');
    assert.deepEqual(statement.subject[0].digest, { sha256: hex });
    const signer = await verifyWithSigstoreJs(stack.url, blob, { identity, issuer });
    assert.equal(signer.identity?.subjectAlternativeName, identity);

    const v = await run(['verify', ...who, img.ref]);
    assert.equal(v.status, 0, v.stderr);
    const r = report(v.stdout);
    assert.deepEqual([r.found, r.tried, r.valid], [1, 1, 1]);
    assert.deepEqual(r.verified[0]!.signer.identity, [identity]);
    assert.equal(
      r.verified[0]!.tlog[0]!.logIndex,
      Number(b.verificationMaterial.tlogEntries[0].logIndex ?? 0),
    );
    assert.match(v.stderr, /1 signature found, 1 tried, 1 valid/);
    const t = await run(['verify', ...who, '-o', 'text', img.tagRef]);
    assert.equal(t.status, 0, t.stderr);
    assert.match(
      t.stdout,
      new RegExp(
        `signature by ${identity} \\(issuer ${issuer.replace(/[.]/g, '\\.')}\\) at \\d{4}-.*log index \\d+`,
      ),
    );
  },
);

test(
  'verify: a wrong identity exits 12, an unsigned image exits 10, both in one line naming the image',
  opts,
  async () => {
    const img = pushImage(reg!, 'app/codes');
    const none = await run(['verify', ...who, img.ref]);
    assert.equal(none.status, 10, none.stderr);
    assert.match(none.stderr, /^error: .*app\/codes.*no signatures found/m);
    assert.equal(
      none.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('error')).length,
      1,
    );
    const s = await signKeyless(img.ref, ['--rekor-version', '1']);
    assert.equal(s.status, 0, s.stderr);
    const wrong = await run([
      'verify',
      '--certificate-identity',
      'mallory@signet.local',
      '--certificate-oidc-issuer',
      issuer,
      '--trusted-root',
      'root.json',
      img.ref,
    ]);
    assert.equal(wrong.status, 12, wrong.stderr);
    assert.match(wrong.stderr, /no matching signatures: 1 found, 1 tried, 0 valid/);
    assert.match(wrong.stderr, /mallory/);
  },
);

test(
  'keyless sign with Rekor v2 (timestamp authority time) and -a: annotations in the statement subject, required by verify -a',
  opts,
  async () => {
    const img = pushImage(reg!, 'app/v2');
    const s = await signKeyless(img.ref, [
      '--rekor-version',
      '2',
      '--bundle',
      'v2.json',
      '-a',
      'team=core',
    ]);
    assert.equal(s.status, 0, s.stderr);
    const b = JSON.parse(fs.readFileSync(path.join(dir, 'v2.json'), 'utf8'));
    assert.equal(b.verificationMaterial.tlogEntries[0].kindVersion.version, '0.0.2');
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
    assert.deepEqual(st.subject, [
      { digest: { sha256: img.digest.slice(7) }, annotations: { team: 'core' } },
    ]);
    const v = await run(['verify', ...who, '-a', 'team=core', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(report(v.stdout).valid, 1);
    assert.deepEqual(report(v.stdout).verified[0]!.annotations, { team: 'core' });
    const w = await run(['verify', ...who, '-a', 'team=web', img.ref]);
    assert.equal(w.status, 12, w.stderr);
  },
);

test(
  'keyed legacy signing by tag: the warning, the .sig tag as cosign lays it out, -a required annotations',
  opts,
  async () => {
    const img = pushImage(reg!, 'app/legacy');
    const s = await run([
      'sign',
      ...keyed,
      '--registry-referrers-mode',
      'legacy',
      '-a',
      'env=prod',
      '-a',
      'team=core',
      img.tagRef,
    ]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stderr, /WARNING: Image reference .* uses a tag, not a digest/);
    const hex = img.digest.slice('sha256:'.length);
    const sig = inspectRaw(reg!, `app/legacy:sha256-${hex}.sig`) as Record<string, any>;
    assert.equal(sig.layers.length, 1);
    const layer = sig.layers[0];
    assert.equal(layer.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
    assert.match(layer.annotations['dev.cosignproject.cosign/signature'], /^[A-Za-z0-9+/]+=*$/);
    const rb = JSON.parse(layer.annotations['dev.sigstore.cosign/bundle']);
    assert.deepEqual(Object.keys(rb.Payload).sort(), [
      'body',
      'integratedTime',
      'logID',
      'logIndex',
    ]);
    assert.ok(rb.SignedEntryTimestamp);
    const payload = JSON.parse(
      await (await fetch(`${reg!.url}/v2/app/legacy/blobs/${layer.digest}`)).text(),
    );
    assert.deepEqual(payload, {
      critical: {
        identity: { 'docker-reference': `${reg!.host}/app/legacy` },
        image: { 'docker-manifest-digest': img.digest },
        type: 'cosign container image signature',
      },
      optional: { env: 'prod', team: 'core' },
    });
    const ok = await run([
      'verify',
      '--key',
      'cosign.pub',
      '--trusted-root',
      'root.json',
      '-a',
      'env=prod',
      img.ref,
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(report(ok.stdout).verified[0]!.scheme, 'legacy');
    const bad = await run([
      'verify',
      '--key',
      'cosign.pub',
      '--trusted-root',
      'root.json',
      '-a',
      'env=dev',
      img.ref,
    ]);
    assert.equal(bad.status, 12, bad.stderr);
    assert.match(bad.stderr, /annotation env is "prod", not "dev"/);
  },
);

test('sign -r signs a multi-platform index and each platform image', opts, async () => {
  const img = pushImage(reg!, 'app/multi', { platforms: ['amd64', 'arm64'] });
  const s = await run(['sign', ...keyed, '-r', img.ref]);
  assert.equal(s.status, 0, s.stderr);
  const index = inspectRaw(reg!, `app/multi@${img.digest}`) as {
    manifests: Array<{ digest: string }>;
  };
  assert.equal(index.manifests.length, 2);
  for (const d of [img.digest, ...index.manifests.map((m) => m.digest)]) {
    const v = await run([
      'verify',
      '--key',
      'cosign.pub',
      '--trusted-root',
      'root.json',
      `${reg!.host}/app/multi@${d}`,
    ]);
    assert.equal(v.status, 0, `${d}: ${v.stderr}`);
  }
  // without -r only the index is signed
  const img2 = pushImage(reg!, 'app/multi2', { platforms: ['amd64', 'arm64'] });
  assert.equal(
    (await run(['sign', '--key', 'cosign.key', '--server', stack.url, img2.ref])).status,
    0,
  );
  const child = (
    inspectRaw(reg!, `app/multi2@${img2.digest}`) as { manifests: Array<{ digest: string }> }
  ).manifests[0]!.digest;
  const v = await run([
    'verify',
    '--key',
    'cosign.pub',
    '--trusted-root',
    'root.json',
    `${reg!.host}/app/multi2@${child}`,
  ]);
  assert.equal(v.status, 10, v.stderr);
});

test(
  '--tlog-upload=false: the image verifies only with --insecure-ignore-tlog, and only with its key',
  opts,
  async () => {
    const img = pushImage(reg!, 'app/notlog');
    const s = await run(['sign', ...keyed, '--tlog-upload=false', img.ref]);
    assert.equal(s.status, 0, s.stderr);
    const byKey = ['--key', 'cosign.pub', '--trusted-root', 'root.json', '-o', 'json'];
    const strict = await run(['verify', ...byKey, img.ref]);
    assert.equal(strict.status, 12, strict.stderr);
    assert.match(
      strict.stderr,
      /\(referrer sha256:[0-9a-f]{64}: the bundle has 0 transparency log entries; 1 verified entry is required/,
    );
    // A layer of cosign's legacy .sig tag is no bundle to its user: it is called a signature.
    const legacyImg = pushImage(reg!, 'app/notlog-legacy');
    const ls = await run([
      'sign',
      ...keyed,
      '--tlog-upload=false',
      '--registry-referrers-mode',
      'legacy',
      legacyImg.ref,
    ]);
    assert.equal(ls.status, 0, ls.stderr);
    const legacy = await run(['verify', ...byKey, legacyImg.ref]);
    assert.equal(legacy.status, 12, legacy.stderr);
    assert.match(
      legacy.stderr,
      /: no matching signatures: 1 found, 1 tried, 0 valid \(tag sha256-[0-9a-f]{64}\.sig layer 1: the signature has 0 transparency log entries; 1 verified entry is required \(a signature made without a log on purpose verifies with --insecure-ignore-tlog\)\)\n$/,
    );
    const legacyOk = await run(['verify', ...byKey, '--insecure-ignore-tlog', legacyImg.ref]);
    assert.equal(legacyOk.status, 0, legacyOk.stderr);
    for (const flag of ['--insecure-ignore-tlog', '--private-infrastructure']) {
      const v = await run(['verify', ...byKey, flag, img.ref]);
      assert.equal(v.status, 0, `${flag}: ${v.stderr}`);
      assert.equal(report(v.stdout).valid, 1);
      assert.deepEqual(report(v.stdout).verified[0]!.tlog, []);
      // The summary says what was checked, and no more.
      assert.match(v.stderr, /1 valid \(the signer's key checked for each valid one\)\n$/);
    }
    // The flag drops the log, not the signature check.
    const other = await run(['generate-key-pair', '--output-key-prefix', 'notlog-other']);
    assert.equal(other.status, 0, other.stderr);
    const wrong = await run([
      'verify',
      '--key',
      'notlog-other.pub',
      '--insecure-ignore-tlog',
      img.ref,
    ]);
    assert.equal(wrong.status, 12, wrong.stderr);
    // A flag that cannot mean anything here is refused, as for blobs, not ignored.
    const sk = await run(['verify', ...byKey, '--sk', img.ref]);
    assert.equal(sk.status, 1, sk.stderr);
    assert.match(sk.stderr, /^error: --sk: hardware security keys are not supported/m);
    const bundleFlag = await run(['verify', ...byKey, '--bundle', 'x', img.ref]);
    assert.equal(bundleFlag.status, 1, bundleFlag.stderr);
    assert.match(bundleFlag.stderr, /^error: --bundle: is for a file's signature \(verify-blob\)/m);
    const tsr = await run(['verify', ...byKey, '--rfc3161-timestamp', 'x', img.ref]);
    assert.equal(tsr.status, 1, tsr.stderr);
    assert.match(
      tsr.stderr,
      /^error: --rfc3161-timestamp: is for a file's signature \(verify-blob\)/m,
    );
    for (const flag of ['--payload', '--certificate', '--certificate-chain']) {
      const r = await run(['verify', ...byKey, flag, 'x', img.ref]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^error: ${flag}: goes with --signature`, 'm'));
    }
    const att = await run(['verify-attestation', ...byKey, '--signature', 'x', img.ref]);
    assert.equal(att.status, 1, att.stderr);
    assert.match(att.stderr, /^error: --signature: is for a file's signature \(verify-blob\)/m);
  },
);

test('--upload=false --bundle signs without writing to the registry', opts, async () => {
  const img = pushImage(reg!, 'app/noupload');
  const s = await run([
    'sign',
    '--key',
    'cosign.key',
    '--server',
    stack.url,
    '--upload=false',
    '--bundle',
    'nu.json',
    img.ref,
  ]);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(JSON.parse(fs.readFileSync(path.join(dir, 'nu.json'), 'utf8')).dsseEnvelope);
  const tags = (await (await fetch(`${reg!.url}/v2/app/noupload/tags/list`)).json()) as {
    tags: string[];
  };
  assert.deepEqual(tags.tags, ['v1']);
  const noBundle = await run([
    'sign',
    '--key',
    'cosign.key',
    '--server',
    stack.url,
    '--upload=false',
    img.ref,
  ]);
  assert.equal(noBundle.status, 1);
  assert.match(noBundle.stderr, /--upload: false needs --bundle/);
});

test(
  'legacy mode with a Rekor v2 signing config is refused, nothing pushed, no bundle written; Rekor v1 signs',
  opts,
  async () => {
    const img = pushImage(reg!, 'app/legacyv2');
    const s = await run([
      'sign',
      '--key',
      'cosign.key',
      '--server',
      stack.url,
      '--rekor-version',
      '2',
      '--registry-referrers-mode',
      'legacy',
      '--bundle',
      'lv2.json',
      img.ref,
    ]);
    assert.equal(s.status, 1, s.stderr);
    assert.equal(s.stderr.trim().split('\n').length, 1, s.stderr);
    assert.match(s.stderr, /--registry-referrers-mode/);
    assert.match(
      s.stderr,
      /Rekor v1 bundle annotation \(signed entry timestamp and integrated time\)/,
    );
    assert.match(s.stderr, /cosign refuses its old format with a signing config/);
    assert.match(
      s.stderr,
      /the log chosen from the signing config is a Rekor v2 one: use --rekor-version 1 \(a Rekor v1 log of the signing config\), or --registry-referrers-mode oci-1-1/,
    );
    // keyless, it is refused before the token is read or a certificate issued: a token the
    // CA would refuse is never looked at
    const keyless = await run([
      'sign',
      '--server',
      stack.url,
      '--rekor-version',
      '2',
      '--registry-referrers-mode',
      'legacy',
      '--identity-token',
      'not-a-token',
      img.ref,
    ]);
    assert.equal(keyless.status, 1, keyless.stderr);
    assert.match(oneError(keyless.stderr), /^error: --registry-referrers-mode: the legacy/);
    const tags = (await (await fetch(`${reg!.url}/v2/app/legacyv2/tags/list`)).json()) as {
      tags: string[];
    };
    assert.deepEqual(tags.tags, ['v1']);
    assert.equal(fs.existsSync(path.join(dir, 'lv2.json')), false);
    // the same with Rekor v1 is what legacy mode is for
    const v1 = await run(['sign', ...keyed, '--registry-referrers-mode', 'legacy', img.ref]);
    assert.equal(v1.status, 0, v1.stderr);
  },
);

test('two legacy signers at once: neither signature is lost', opts, async () => {
  const img = pushImage(reg!, 'app/race');
  const token = () => stackToken(stack.url, identity);
  const [a, b, c] = await Promise.all([
    run(['sign', ...keyed, '--registry-referrers-mode', 'legacy', img.ref]),
    token().then((t) =>
      run([
        'sign',
        '--server',
        stack.url,
        '--identity-token',
        t,
        '--rekor-version',
        '1',
        '--registry-referrers-mode',
        'legacy',
        img.ref,
      ]),
    ),
    token().then((t) =>
      run(['sign', '--server', stack.url, '--identity-token', t, '--rekor-version', '1', img.ref]),
    ),
  ]);
  for (const r of [a, b, c]) assert.equal(r.status, 0, r.stderr);
  const hex = img.digest.slice('sha256:'.length);
  const sig = inspectRaw(reg!, `app/race:sha256-${hex}.sig`) as { layers: unknown[] };
  assert.equal(sig.layers.length, 2);
  const v = await run(['verify', ...who, img.ref]);
  assert.equal(v.status, 0, v.stderr);
  const r = report(v.stdout);
  // the keyed legacy signature does not match the identity; the keyless ones (both schemes) do
  assert.deepEqual([r.found, r.tried, r.valid], [3, 3, 2]);
});

test(
  'several images, as cosign takes them: sign signs each with one certificate, verify reports each and exits with the first failure',
  opts,
  async () => {
    const a = pushImage(reg!, 'release/api');
    const b = pushImage(reg!, 'release/web');
    const unsigned = pushImage(reg!, 'release/unsigned');
    // b named by tag and by digest: signed once
    const s = await signKeyless(a.ref, [b.tagRef, b.ref]);
    assert.equal(s.status, 0, s.stderr);
    assert.equal((s.stderr.match(/^signing certificate issued by /gm) ?? []).length, 1, s.stderr);
    assert.equal((s.stderr.match(/^Pushing signature to: /gm) ?? []).length, 2, s.stderr);
    assert.match(s.stderr, /^WARNING: Image reference .*release\/web:.* uses a tag/m);

    const v = await run(['verify', ...who, '-o', 'text', a.ref, b.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal((v.stderr.match(/^Verification for .* --$/gm) ?? []).length, 2, v.stderr);
    const certs = new Set(
      await Promise.all(
        [a, b].map(async (img) => {
          const r = await run(['verify', ...who, img.ref]);
          assert.equal(r.status, 0, r.stderr);
          return report(r.stdout).verified[0]!.signer.identity!.join();
        }),
      ),
    );
    assert.deepEqual([...certs], [identity]);

    // The unsigned one fails on its own line; the others are still reported; exit 10 (first failure).
    const mixed = await run(['verify', ...who, a.ref, unsigned.ref, b.ref]);
    assert.equal(mixed.status, 10, mixed.stderr);
    assert.match(
      mixed.stderr,
      new RegExp(
        `^error: ${unsigned.ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*no signatures found`,
        'm',
      ),
    );
    assert.equal(
      (mixed.stderr.match(/^Verification for .*release\/(api|web)@sha256:\w+ --$/gm) ?? []).length,
      2,
      mixed.stderr,
    );
    assert.match(mixed.stderr, /^error: 1 of 3 images did not verify$/m);
    // An image that is not there: its line names it once.
    const nope = `${reg!.host}/release/nope:x`;
    const missing = await run(['verify', ...who, nope, a.ref]);
    assert.equal(missing.status, 11, missing.stderr);
    assert.match(missing.stderr, /^error: \S+\/release\/nope:x: no such image: /m);
    // A wrong identity after it: exit stays the first failure's (10), not 12.
    const wrong = await run([
      'verify',
      ...who,
      unsigned.ref,
      a.ref,
      '--certificate-identity',
      'x@y',
    ]);
    assert.equal(wrong.status, 10, wrong.stderr);
    assert.equal(
      (wrong.stderr.match(/^error: .*release\/(unsigned|api)/gm) ?? []).length,
      2,
      wrong.stderr,
    );

    // Flags about one image are refused with several.
    const bundle = await signKeyless(a.ref, [b.ref, '--bundle', 'x.json']);
    assert.equal(bundle.status, 1);
    assert.match(
      bundle.stderr,
      /^error: --bundle: writes one file; with 2 images the signatures go to the registry$/m,
    );
    const local = await run(['verify', ...who, '--local-image', dir, a.ref, b.ref]);
    assert.equal(local.status, 1);
    assert.match(local.stderr, /^error: --local-image: verifies one image layout at a time$/m);
  },
);

test(
  "sign and attest write cosign's detached outputs of the image's signature; with several images they are refused",
  opts,
  async () => {
    const img = pushImage(reg!, 'app/outputs');
    const s = await signKeyless(img.ref, [
      '--registry-referrers-mode',
      'legacy',
      '--rekor-version',
      '1',
      '--output-signature',
      'img.sig',
      '--output-certificate',
      'img.crt',
    ]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stderr, /^Wrote signature to file img.sig$/m);
    // They are what the .sig layer carries: the signature over the payload, the certificate.
    const hex = img.digest.slice('sha256:'.length);
    const layer = (
      inspectRaw(reg!, `app/outputs:sha256-${hex}.sig`) as {
        layers: Array<{ annotations: Record<string, string> }>;
      }
    ).layers[0]!;
    assert.equal(
      fs.readFileSync(path.join(dir, 'img.sig'), 'utf8'),
      layer.annotations['dev.cosignproject.cosign/signature'],
    );
    assert.equal(
      fs.readFileSync(path.join(dir, 'img.crt'), 'utf8'),
      layer.annotations['dev.sigstore.cosign/certificate'],
    );
    fs.writeFileSync(path.join(dir, 'out-pred.json'), '{}');
    const att = await run([
      'attest',
      ...keyed,
      '--predicate',
      'out-pred.json',
      '--output-signature',
      'att.sig',
      img.ref,
    ]);
    assert.equal(att.status, 0, att.stderr);
    const env = JSON.parse(
      Buffer.from(fs.readFileSync(path.join(dir, 'att.sig'), 'utf8'), 'base64').toString(),
    ) as { payloadType: string };
    assert.equal(env.payloadType, 'application/vnd.in-toto+json');
    const two = pushImage(reg!, 'app/outputs2');
    for (const flag of ['--output-signature', '--output-certificate', '--rfc3161-timestamp']) {
      const r = await run(['sign', ...keyed, flag, 'x', img.ref, two.ref]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(
        oneError(r.stderr),
        new RegExp(`^error: ${flag}: writes one file; with 2 images the signatures go`),
      );
    }
  },
);

test(
  "cosign sign's legacy flags: --sign-container-identity, --payload, --output-payload, --record-creation-timestamp; --attachment refused",
  opts,
  async () => {
    const img = pushImage(reg!, 'app/mirror');
    const hex = img.digest.slice('sha256:'.length);
    const legacy = [...keyed, '--registry-referrers-mode', 'legacy'];
    const sigLayers = () =>
      inspectRaw(reg!, `app/mirror:sha256-${hex}.sig`) as {
        config: { digest: string };
        layers: Array<{ digest: string }>;
      };
    const blob = async (digest: string) =>
      (await fetch(`${reg!.url}/v2/app/mirror/blobs/${digest}`)).text();
    // Two names a mirror serves the image under: a signature for each.
    const s = await run([
      'sign',
      ...legacy,
      '--sign-container-identity',
      'mirror.example/app,mirror.example/app2',
      '--record-creation-timestamp',
      img.ref,
    ]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stderr, /^Flag --sign-container-identity has been deprecated/m);
    const man = sigLayers();
    const refs = await Promise.all(
      man.layers.map(
        async (l) =>
          (JSON.parse(await blob(l.digest)) as { critical: { identity: Record<string, string> } })
            .critical.identity['docker-reference'],
      ),
    );
    assert.deepEqual(refs, ['mirror.example/app', 'mirror.example/app2']);
    const created = (JSON.parse(await blob(man.config.digest)) as { created: string }).created;
    assert.notEqual(created, '0001-01-01T00:00:00Z');
    const v = await run(['verify', '--key', 'cosign.pub', '--trusted-root', 'root.json', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(report(v.stdout).valid, 2);

    // --payload: the payload `generate -a` printed, signed as given, and written back out.
    const g = await run(['generate', '-a', 'team=web', img.ref]);
    fs.writeFileSync(path.join(dir, 'mirror-payload.json'), g.stdout);
    const p = await run([
      'sign',
      ...legacy,
      '--payload',
      'mirror-payload.json',
      '--output-payload',
      'signed-payload.json',
      img.ref,
    ]);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'signed-payload.json'), 'utf8'), g.stdout);
    assert.equal(await blob(sigLayers().layers[2]!.digest), g.stdout);
    const va = await run([
      'verify',
      '--key',
      'cosign.pub',
      '--trusted-root',
      'root.json',
      '-a',
      'team=web',
      img.ref,
    ]);
    assert.equal(report(va.stdout).valid, 1, va.stderr);

    // Refused, nothing signed: a payload about another image, a payload in the oci-1-1 scheme,
    // a payload with identities, several identities with one output file, --attachment.
    const other = pushImage(reg!, 'app/mirror-other');
    fs.writeFileSync(
      path.join(dir, 'other-payload.json'),
      (await run(['generate', other.ref])).stdout,
    );
    const cases: Array<[string[], RegExp]> = [
      [
        [...legacy, '--payload', 'other-payload.json', img.ref],
        new RegExp(`--payload: is about ${other.digest}, not the image \\(${img.digest}\\)`),
      ],
      [
        [...keyed, '--payload', 'mirror-payload.json', img.ref],
        /--payload: sets the simple-signing payload of the legacy .sig scheme/,
      ],
      [
        [
          ...legacy,
          '--payload',
          'mirror-payload.json',
          '--sign-container-identity',
          'm/x',
          img.ref,
        ],
        /--sign-container-identity: goes with a generated payload, not --payload/,
      ],
      [
        [...legacy, '--sign-container-identity', 'a/b,c/d', '--output-signature', 's', img.ref],
        /--output-signature: writes one file; with 2 container identities/,
      ],
      [
        [...legacy, '--attachment', 'sbom', img.ref],
        /--attachment: signing an attached SBOM is not supported/,
      ],
    ];
    const before = sigLayers().layers.length;
    for (const [args, message] of cases) {
      const r = await run(['sign', ...args]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneError(r.stderr), message);
    }
    assert.equal(sigLayers().layers.length, before);
  },
);

test(
  "--check-claims=false: another image's signature is accepted only when asked; --attachment refused",
  opts,
  async () => {
    const a = pushImage(reg!, 'app/claims-a');
    const b = pushImage(reg!, 'app/claims-b');
    const hexA = a.digest.slice('sha256:'.length);
    const hexB = b.digest.slice('sha256:'.length);
    const s = await run(['sign', ...keyed, '--registry-referrers-mode', 'legacy', a.ref]);
    assert.equal(s.status, 0, s.stderr);
    fs.writeFileSync(path.join(dir, 'claims.json'), '{}');
    const t = await run([
      'attest',
      ...keyed,
      '--registry-referrers-mode',
      'legacy',
      '--predicate',
      'claims.json',
      a.ref,
    ]);
    assert.equal(t.status, 0, t.stderr);
    // A's signature and attestation put where B's would be (as a registry user could).
    for (const suffix of ['sig', 'att']) {
      const m = await fetch(`${reg!.url}/v2/app/claims-a/manifests/sha256-${hexA}.${suffix}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      const body = Buffer.from(await m.arrayBuffer());
      const man = JSON.parse(body.toString()) as {
        config: { digest: string };
        layers: Array<{ digest: string }>;
      };
      for (const { digest } of [man.config, ...man.layers]) {
        const data = Buffer.from(
          await (await fetch(`${reg!.url}/v2/app/claims-a/blobs/${digest}`)).arrayBuffer(),
        );
        const up = await fetch(`${reg!.url}/v2/app/claims-b/blobs/uploads/`, { method: 'POST' });
        const loc = new URL(up.headers.get('location')!, reg!.url);
        loc.searchParams.set('digest', digest);
        assert.equal((await fetch(loc, { method: 'PUT', body: data })).status, 201);
      }
      const put = await fetch(`${reg!.url}/v2/app/claims-b/manifests/sha256-${hexB}.${suffix}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
        body,
      });
      assert.equal(put.status, 201);
    }
    const byKey = ['--key', 'cosign.pub', '--trusted-root', 'root.json'];
    const verifyB = ['verify', ...byKey, b.ref];
    const strict = await run(verifyB);
    assert.equal(strict.status, 12, strict.stderr);
    assert.match(strict.stderr, new RegExp(`the signature is for ${a.digest}, not this image`));
    const loose = await run([...verifyB, '--check-claims=false']);
    assert.equal(loose.status, 0, loose.stderr);
    const attB = [
      'verify-attestation',
      '--key',
      'cosign.pub',
      '--trusted-root',
      'root.json',
      b.ref,
    ];
    const strictAtt = await run(attB);
    assert.equal(strictAtt.status, 12, strictAtt.stderr);
    assert.match(strictAtt.stderr, /the attestation is not about this artifact/);
    assert.equal((await run([...attB, '--check-claims=false'])).status, 0);
    const sbom = await run([...verifyB, '--attachment', 'sbom']);
    assert.equal(sbom.status, 1);
    assert.match(
      oneError(sbom.stderr),
      /--attachment: verifying an attached SBOM is not supported/,
    );
  },
);

test(
  '--attachment-tag-prefix: legacy tags written, found, named and removed with the prefix',
  opts,
  async () => {
    const img = pushImage(reg!, 'app/prefixed');
    const hex = img.digest.slice('sha256:'.length);
    const prefix = ['--attachment-tag-prefix', 'signet-'];
    const legacy = [...keyed, '--registry-referrers-mode', 'legacy', ...prefix];
    assert.equal((await run(['sign', ...legacy, img.ref])).status, 0);
    fs.writeFileSync(path.join(dir, 'prefixed.json'), '{}');
    const a = await run(['attest', ...legacy, '--predicate', 'prefixed.json', img.ref]);
    assert.equal(a.status, 0, a.stderr);
    const tags = (
      (await (await fetch(`${reg!.url}/v2/app/prefixed/tags/list`)).json()) as {
        tags: string[];
      }
    ).tags.sort();
    assert.deepEqual(tags, [`signet-sha256-${hex}.att`, `signet-sha256-${hex}.sig`, 'v1']);
    const byKey = ['--key', 'cosign.pub', '--trusted-root', 'root.json'];
    assert.equal((await run(['verify', ...byKey, img.ref])).status, 10);
    const v = await run(['verify', ...byKey, ...prefix, img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal((await run(['verify-attestation', ...byKey, ...prefix, img.ref])).status, 0);
    const tri = await run(['triangulate', ...prefix, img.ref]);
    assert.equal(tri.stdout.trim(), `${reg!.host}/app/prefixed:signet-sha256-${hex}.sig`);
    const c = await run(['clean', '-f', ...prefix, img.ref]);
    assert.equal(c.status, 0, c.stderr);
    assert.equal((await run(['verify', ...byKey, ...prefix, img.ref])).status, 10);
    const bad = await run(['verify', ...byKey, '--attachment-tag-prefix', '-x', img.ref]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--attachment-tag-prefix: "-x" cannot begin a tag/);
  },
);
