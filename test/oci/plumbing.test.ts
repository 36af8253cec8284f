// tree, download, copy (signatures travel), clean, triangulate and --local-image against
// Debian's docker-registry; a legacy .sig laid out exactly as cosign's code lays it out
// (built here byte by byte, not by Signet) verifies in Signet; a referrer that is not a
// bundle is skipped with a warning.
import { test } from 'node:test';
import { imageTestbed } from '../helpers/image-testbed.ts';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspectRaw, pushImage } from '../helpers/registry.ts';
import { peakRssKiB, signetWithPeak } from '../helpers/peak-rss.ts';

const { stack, reg, dir, run, keyed, keyless, opts } = await imageTestbed('signet-plumb-');
const verifyKey = ['verify', '--key', 'cosign.pub', '--trusted-root', 'root.json'];
const signKey = ['sign', ...keyed];
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** Raw distribution API pushes, independent of Signet's registry client. */
async function putBlob(repo: string, data: Buffer): Promise<string> {
  const digest = `sha256:${sha256(data)}`;
  const start = await fetch(`${reg!.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const loc = new URL(start.headers.get('location')!, reg!.url);
  loc.searchParams.set('digest', digest);
  const r = await fetch(loc, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(r.status, 201, await r.text());
  return digest;
}
async function putManifest(
  repo: string,
  ref: string,
  body: string,
  mediaType: string,
): Promise<void> {
  const r = await fetch(`${reg!.url}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': mediaType },
  });
  assert.equal(r.status, 201, await r.text());
}

test(
  'a legacy .sig laid out as cosign lays it out (keyed, Rekor SET bundle annotation) verifies in Signet',
  opts,
  async () => {
    const img = pushImage(reg!, 'cosign/legacy');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pubPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    fs.writeFileSync(path.join(dir, 'cosign-made.pub'), pubPem);
    // sigstore/sigstore payload.Cosign MarshalJSON, Go field order, no annotations -> "optional":null
    const payload = Buffer.from(
      `{"critical":{"identity":{"docker-reference":"${reg!.host}/cosign/legacy"},"image":{"docker-manifest-digest":"${img.digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
    const sig = nodeSign('sha256', payload, privateKey);
    // cosign's tlog upload: hashedrekord 0.0.1 with the payload's sha256 and the PEM public key
    const res = await fetch(`${stack.url}/rekor/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: sha256(payload) } },
          signature: {
            content: sig.toString('base64'),
            publicKey: { content: Buffer.from(pubPem).toString('base64') },
          },
        },
      }),
    });
    assert.equal(res.status, 201);
    const entry = Object.values((await res.json()) as Record<string, Record<string, any>>)[0]!;
    // pkg/cosign/bundle RekorBundle{SignedEntryTimestamp, Payload{body, integratedTime, logIndex, logID}}
    const rekorBundle = JSON.stringify({
      SignedEntryTimestamp: entry.verification.signedEntryTimestamp,
      Payload: {
        body: entry.body,
        integratedTime: entry.integratedTime,
        logIndex: entry.logIndex,
        logID: entry.logID,
      },
    });
    const layerDigest = await putBlob('cosign/legacy', payload);
    const config = Buffer.from(
      JSON.stringify({
        architecture: '',
        created: '0001-01-01T00:00:00Z',
        history: [{ created: '0001-01-01T00:00:00Z' }],
        os: '',
        rootfs: { type: 'layers', diff_ids: [layerDigest] },
        config: {},
      }),
    );
    const configDigest = await putBlob('cosign/legacy', config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        size: config.length,
        digest: configDigest,
      },
      layers: [
        {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          size: payload.length,
          digest: layerDigest,
          annotations: {
            'dev.cosignproject.cosign/signature': sig.toString('base64'),
            'dev.sigstore.cosign/bundle': rekorBundle,
          },
        },
      ],
    });
    await putManifest(
      'cosign/legacy',
      `sha256-${img.digest.slice(7)}.sig`,
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    const v = await run([
      'verify',
      '--key',
      'cosign-made.pub',
      '--trusted-root',
      'root.json',
      img.ref,
    ]);
    assert.equal(v.status, 0, v.stderr);
    const r = JSON.parse(v.stdout);
    assert.equal(r.valid, 1);
    assert.equal(r.verified[0].scheme, 'legacy');
    assert.equal(r.verified[0].tlog[0].logIndex, entry.logIndex);
    // the same layer with a signature by another key does not verify
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    fs.writeFileSync(path.join(dir, 'other.pub'), other);
    const w = await run(['verify', '--key', 'other.pub', '--trusted-root', 'root.json', img.ref]);
    assert.equal(w.status, 12, w.stderr);
  },
);

test(
  'a referrer whose bundle is not a bundle is skipped with a warning; the good one still verifies',
  opts,
  async () => {
    const img = pushImage(reg!, 'junk/app');
    const junk = Buffer.from('{"not":"a bundle"}');
    const layer = await putBlob('junk/app', junk);
    const empty = await putBlob('junk/app', Buffer.from('{}'));
    const man = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
      layers: [
        {
          mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          digest: layer,
          size: junk.length,
        },
      ],
      subject: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: img.digest,
        size: 1,
      },
    });
    const manDigest = `sha256:${sha256(man)}`;
    await putManifest('junk/app', manDigest, man, 'application/vnd.oci.image.manifest.v1+json');
    // the way cosign's own fallback writes the index: no artifactType in the entry
    await putManifest(
      'junk/app',
      `sha256-${img.digest.slice(7)}`,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: manDigest,
            size: man.length,
          },
        ],
      }),
      'application/vnd.oci.image.index.v1+json',
    );
    assert.equal((await run([...signKey, img.ref])).status, 0);
    const v = await run([...verifyKey, img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.match(
      v.stderr,
      new RegExp(
        `warning: skipped referrer ${manDigest}: its bundle is not a valid Sigstore bundle`,
      ),
    );
    const r = JSON.parse(v.stdout);
    assert.deepEqual([r.found, r.tried, r.valid], [2, 1, 1]);
    // both entries are in the index now: Signet kept cosign's entry when it added its own
    const idx = inspectRaw(reg!, `junk/app:sha256-${img.digest.slice(7)}`) as {
      manifests: unknown[];
    };
    assert.equal(idx.manifests.length, 2);
  },
);

test(
  'tree tells apart the layers of one .sig tag, which share their digest: by signature, certificate, log entry, timestamp',
  opts,
  async () => {
    const img = pushImage(reg!, 'tools/two');
    const legacy = ['--registry-referrers-mode', 'legacy'];
    assert.equal((await run([...signKey, ...legacy, img.ref])).status, 0);
    assert.equal((await run([...signKey, ...legacy, '--tlog-upload=false', img.ref])).status, 0);
    const ks = await run([
      'sign',
      ...(await keyless()),
      '--rekor-version',
      '1',
      ...legacy,
      img.ref,
    ]);
    assert.equal(ks.status, 0, ks.stderr);
    const t = await run(['tree', img.ref]);
    assert.equal(t.status, 0, t.stderr);
    const layers = t.stdout.split('\n').filter((l) => l.startsWith('    layer '));
    assert.equal(layers.length, 3, t.stdout);
    // One simple-signing payload, so one digest; each layer's own signature and what it carries.
    const line =
      /^ {4}layer (sha256:[0-9a-f]{64}) \(signature ([A-Za-z0-9+/=]{16})\.\.\., (certificate, )?(log entry \d+|no log entry), timestamp\)$/;
    const [a, b, c] = layers.map((l) => line.exec(l));
    assert.ok(a && b && c, t.stdout);
    assert.equal(new Set([a[1], b[1], c[1]]).size, 1);
    assert.equal(new Set([a[2], b[2], c[2]]).size, 3);
    assert.deepEqual(
      [a, b, c].map((m) => [m[3] !== undefined, m[4]!.replace(/\d+$/, 'N')]),
      [
        [false, 'log entry N'],
        [false, 'no log entry'],
        [true, 'log entry N'],
      ],
    );
    // Each is its layer's signature annotation, as stored (cosign's download format shows it).
    const sigs = (await run(['download', 'signature', img.ref])).stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { Base64Signature: string }).Base64Signature.slice(0, 16));
    assert.deepEqual(sigs, [a[2], b[2], c[2]]);
  },
);

test('tree, download, triangulate, copy (signatures travel) and clean', opts, async () => {
  const img = pushImage(reg!, 'tools/src', { platforms: ['amd64', 'arm64'] });
  assert.equal((await run([...signKey, img.ref])).status, 0);
  assert.equal((await run([...signKey, '--registry-referrers-mode', 'legacy', img.ref])).status, 0);
  fs.writeFileSync(path.join(dir, 'p.json'), '{"a":1}');
  assert.equal(
    (await run(['attest', ...keyed, '--predicate', 'p.json', '--type', 'vuln', img.ref])).status,
    0,
  );
  const hex = img.digest.slice(7);

  const t = await run(['tree', img.ref]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(
    t.stdout,
    /referrer sha256:[0-9a-f]{64} \(application\/vnd.dev.sigstore.bundle.v0.3\+json\) predicate https:\/\/sigstore.dev\/cosign\/sign\/v1 \[referrers tag schema\]/,
  );
  assert.match(t.stdout, /predicate https:\/\/cosign.sigstore.dev\/attestation\/vuln\/v1/);
  assert.match(
    t.stdout,
    new RegExp(`signatures in tag .*tools/src:sha256-${hex}.sig\\n    layer sha256:`),
  );

  const tri = await run(['triangulate', img.tagRef]);
  assert.equal(tri.stdout.trim(), `${reg!.host}/tools/src:sha256-${hex}.sig`);
  const tri2 = await run(['triangulate', '--type', 'referrers', img.ref]);
  assert.equal(tri2.stdout.trim(), `${reg!.host}/tools/src:sha256-${hex}`);

  const ds = await run(['download', 'signature', img.ref]);
  const lines = ds.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.ok(lines.some((l) => l.mediaType === 'application/vnd.dev.sigstore.bundle.v0.3+json'));
  const legacy = lines.find((l) => l.Base64Signature);
  assert.equal(
    JSON.parse(Buffer.from(legacy.Payload, 'base64').toString()).critical.image[
      'docker-manifest-digest'
    ],
    img.digest,
  );
  const da = await run(['download', 'attestation', img.ref]);
  assert.equal(da.stdout.trim().split('\n').length, 1);

  const c = await run(['copy', img.ref, `${reg!.host}/tools/dst:copied`]);
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stderr, /^copied \S+ to \S+\/tools\/dst:copied with 1 signature tag/m);
  const dst = `${reg!.host}/tools/dst@${img.digest}`;
  const v = await run([...verifyKey, dst]);
  assert.equal(v.status, 0, v.stderr);
  assert.deepEqual(JSON.parse(v.stdout).valid, 2);
  const verifyVuln = [
    'verify-attestation',
    '--key',
    'cosign.pub',
    '--trusted-root',
    'root.json',
    '--type',
    'vuln',
    dst,
  ];
  const va = await run(verifyVuln);
  assert.equal(va.status, 0, va.stderr);
  assert.equal(
    (inspectRaw(reg!, 'tools/dst:copied') as { mediaType: string }).mediaType,
    'application/vnd.oci.image.index.v1+json',
  );

  // As cosign clean: asked first, and anything but y (or no answer) leaves everything there.
  for (const answer of [undefined, '', 'n\n', 'yes\n']) {
    const no = await run(['clean', '--type', 'signature', dst], {}, answer);
    assert.equal(no.status, 1, no.stderr);
    assert.match(
      no.stderr,
      /^WARNING: this will remove all signatures from \S+\nAre you sure you would like to continue\? \[y\/N\] error: not done: it would remove all signatures from \S+, and it was not confirmed \(answer y, or give --force\)\n$/,
    );
    assert.equal((await run([...verifyKey, dst])).status, 0, `answered ${answer}`);
  }
  const cl = await run(['clean', '--type', 'signature', dst], {}, 'y\n');
  assert.equal(cl.status, 0, cl.stderr);
  assert.equal((await run([...verifyKey, dst])).status, 10);
  // as cosign: downloading the signatures of an image without any is an error, naming it
  const none = await run(['download', 'signature', dst]);
  assert.equal(none.status, 1, none.stderr);
  assert.equal(none.stdout, '');
  assert.equal(none.stderr, `error: ${dst}: no signatures associated\n`);
  // attestations stay until they are cleaned too
  assert.equal((await run(verifyVuln)).status, 0);
  // without --type, cosign's default (custom) is asked for, and a vuln attestation is not one
  const custom = await run(verifyVuln.filter((a) => a !== '--type' && a !== 'vuln'));
  assert.equal(custom.status, 12, custom.stderr);
  assert.equal((await run(['clean', '--force', dst])).status, 0);
  assert.equal((await run(verifyVuln)).status, 10);
  // the source keeps everything
  assert.equal((await run([...verifyKey, img.ref])).status, 0);
});

test(
  '--local-image verifies an OCI layout holding the image, its referrers and its .sig',
  opts,
  async () => {
    const img = pushImage(reg!, 'local/app');
    assert.equal((await run([...signKey, img.ref])).status, 0);
    assert.equal(
      (await run([...signKey, '--registry-referrers-mode', 'legacy', img.ref])).status,
      0,
    );
    const hex = img.digest.slice(7);
    const layout = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-local-'));
    const idx = inspectRaw(reg!, `local/app:sha256-${hex}`) as {
      manifests: Array<{ digest: string }>;
    };
    const copies: Array<[string, string]> = [
      [`local/app@${img.digest}`, 'v1'],
      [`local/app@${idx.manifests[0]!.digest}`, 'sig-referrer'],
      [`local/app:sha256-${hex}.sig`, `sha256-${hex}.sig`],
    ];
    for (const [src, tag] of copies) {
      const r = spawnSync(
        'skopeo',
        [
          'copy',
          '--quiet',
          '--preserve-digests',
          '--src-tls-verify=false',
          `docker://${reg!.host}/${src}`,
          `oci:${layout}:${tag}`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
    }
    const v = await run([...verifyKey, '--local-image', layout]);
    assert.equal(v.status, 0, v.stderr);
    const r = JSON.parse(v.stdout);
    assert.equal(r.valid, 2);
    assert.deepEqual(r.verified.map((x: { scheme: string }) => x.scheme).sort(), [
      'legacy',
      'referrer',
    ]);
    const notLayout = await run([...verifyKey, '--local-image', dir]);
    assert.equal(notLayout.status, 1);
    assert.match(
      notLayout.stderr,
      /--local-image: .* is not an OCI image layout: it has no oci-layout file\n$/,
    );
    // a layout of the image alone (skopeo copies no signatures): its failure names the folder
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-local-bare-'));
    const cp = spawnSync(
      'skopeo',
      [
        'copy',
        '--quiet',
        '--preserve-digests',
        '--src-tls-verify=false',
        `docker://${reg!.host}/local/app@${img.digest}`,
        `oci:${bare}:v1`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(cp.status, 0, cp.stderr);
    const unsigned = await run([...verifyKey, '--local-image', bare]);
    assert.equal(unsigned.status, 10, unsigned.stderr);
    assert.ok(
      unsigned.stderr.startsWith(`error: local image ${bare}: no signatures found`),
      unsigned.stderr,
    );
  },
);

/** `signet ARGS` with the process's peak resident memory (KiB), from Node itself at exit. */
function runWithPeak(args: string[]): { status: number | null; stderr: string; peakKiB: number } {
  const r = spawnSync(...signetWithPeak(args), {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_CONFIG: dir },
    timeout: 120_000,
  });
  return { status: r.status, stderr: r.stderr, peakKiB: peakRssKiB(r.stderr) };
}

test(
  'copy streams layers: a 96 MiB layer copies whole with peak memory far below its size',
  opts,
  async () => {
    const size = 96 * 1024 * 1024;
    const small = pushImage(reg!, 'big/small');
    const big = pushImage(reg!, 'big/src', { layerBytes: size });
    const base = runWithPeak(['copy', small.ref, `${reg!.host}/big/small-dst:copied`]);
    assert.equal(base.status, 0, base.stderr);
    const c = runWithPeak(['copy', big.ref, `${reg!.host}/big/dst:copied`]);
    assert.equal(c.status, 0, c.stderr);
    // Holding the layer costs at least its 96 MiB (318 MiB more when copy buffered it); streamed,
    // what remains is the garbage collector's slack for chunks already passed on (40-50 MiB
    // quiet, more when the collector runs late on a loaded machine), so the bound is the layer.
    const extraMiB = (c.peakKiB - base.peakKiB) / 1024;
    assert.ok(
      extraMiB < 90,
      `the copy of a 96 MiB layer peaked ${extraMiB.toFixed(0)} MiB above a small copy`,
    );
    // what arrived is the image, byte for byte: same manifest digest, and the layer by its digest
    const man = inspectRaw(reg!, 'big/dst:copied') as {
      layers: Array<{ digest: string; size: number }>;
    };
    assert.equal(man.layers[0]!.size, size);
    const head = await fetch(`${reg!.url}/v2/big/dst/manifests/copied`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(head.headers.get('docker-content-digest'), big.digest);
    const res = await fetch(`${reg!.url}/v2/big/dst/blobs/${man.layers[0]!.digest}`);
    const h = createHash('sha256');
    for await (const chunk of res.body!) h.update(chunk);
    assert.equal(`sha256:${h.digest('hex')}`, man.layers[0]!.digest);
  },
);

test(
  "cosign copy's -f, --only and --platform, and download's --platform and --predicate-type",
  opts,
  async () => {
    const img = pushImage(reg!, 'tools/multi', { platforms: ['amd64', 'arm64'] });
    assert.equal((await run([...signKey, '-r', img.ref])).status, 0);
    fs.writeFileSync(path.join(dir, 'v.json'), '{"v":1}');
    const att = await run(['attest', ...keyed, '--predicate', 'v.json', '--type', 'vuln', img.ref]);
    assert.equal(att.status, 0, att.stderr);
    const index = inspectRaw(reg!, `tools/multi@${img.digest}`) as {
      manifests: Array<{ digest: string; platform: { architecture: string } }>;
    };
    const arm = index.manifests.find((m) => m.platform.architecture === 'arm64')!.digest;
    const tags = async (repo: string) =>
      ((await (await fetch(`${reg!.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] }).tags;
    const lines = (stdout: string) => stdout.split('\n').filter((l) => l !== '');

    // download --platform: the arm64 image's own signature, about its digest
    const dl = await run(['download', 'signature', '--platform', 'linux/arm64', img.ref]);
    assert.equal(dl.status, 0, dl.stderr);
    const [only] = lines(dl.stdout).map(
      (l) => JSON.parse(l) as { dsseEnvelope: { payload: string } },
    );
    const subject = JSON.parse(Buffer.from(only!.dsseEnvelope.payload, 'base64').toString()) as {
      subject: Array<{ digest: { sha256: string } }>;
    };
    assert.equal(`sha256:${subject.subject[0]!.digest.sha256}`, arm);
    assert.equal(lines(dl.stdout).length, 1);
    const vuln = await run(['download', 'attestation', '--predicate-type', 'vuln', img.ref]);
    assert.equal(lines(vuln.stdout).length, 1, vuln.stderr);
    const slsa = await run([
      'download',
      'attestation',
      '--predicate-type',
      'slsaprovenance',
      img.ref,
    ]);
    // as cosign: asking for a predicate type no attestation has is an error, naming both
    assert.equal(slsa.status, 1, slsa.stderr);
    assert.deepEqual(lines(slsa.stdout), []);
    assert.match(
      slsa.stderr,
      /^error: .*tools\/multi.*: no attestations with predicate type 'https:\/\/slsa\.dev\/provenance\/v0\.2' found\n$/,
    );
    const noPlatform = await run(['download', 'signature', '--platform', 'linux/s390x', img.ref]);
    assert.equal(noPlatform.status, 1);
    assert.match(
      noPlatform.stderr,
      /--platform: .* has no image for linux\/s390x \(it has linux\/amd64, linux\/arm64\)/,
    );

    // copy --platform: the arm64 image alone, with its signature
    const cp = await run([
      'copy',
      '--platform',
      'linux/arm64',
      img.ref,
      `${reg!.host}/tools/arm:v1`,
    ]);
    assert.equal(cp.status, 0, cp.stderr);
    assert.equal(
      (inspectRaw(reg!, 'tools/arm:v1') as { mediaType: string }).mediaType,
      'application/vnd.oci.image.manifest.v1+json',
    );
    const va = await run([...verifyKey, `${reg!.host}/tools/arm:v1`]);
    assert.equal(va.status, 0, va.stderr);

    // copy --only sig: signatures (by digest), no attestations, no destination tag
    const so = await run(['copy', '--only', 'sig', img.ref, `${reg!.host}/tools/sigs:v1`]);
    assert.equal(so.status, 0, so.stderr);
    assert.equal((await tags('tools/sigs')).includes('v1'), false);
    assert.equal((await run([...verifyKey, `${reg!.host}/tools/sigs@${img.digest}`])).status, 0);
    const noAtt = await run([
      'verify-attestation',
      '--key',
      'cosign.pub',
      '--trusted-root',
      'root.json',
      `${reg!.host}/tools/sigs@${img.digest}`,
    ]);
    assert.equal(noAtt.status, 10, noAtt.stderr);

    // A destination tag that holds another image: refused without -f, nothing copied; with -f, replaced
    const other = pushImage(reg!, 'tools/taken', { tag: 'v1' });
    const refused = await run(['copy', img.ref, `${reg!.host}/tools/taken:v1`]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `tools/taken:v1 already holds ${other.digest}, not ${img.digest}: nothing was copied; give -f to replace it`,
      ),
    );
    assert.deepEqual(await tags('tools/taken'), ['v1']);
    const forced = await run(['copy', '-f', img.ref, `${reg!.host}/tools/taken:v1`]);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal((await run([...verifyKey, `${reg!.host}/tools/taken:v1`])).status, 0);
    // the same copy again holds the same things: no -f needed
    const again = await run(['copy', img.ref, `${reg!.host}/tools/taken:v1`]);
    assert.equal(again.status, 0, again.stderr);

    const bad = await run(['copy', '--only', 'sig,img', img.ref, `${reg!.host}/tools/x:v1`]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--only: "img" is not sig, att or sbom/);
  },
);
