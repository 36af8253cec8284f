// `signet save` and `signet load` (cosign's) against Debian's docker-registry: an image and
// everything attached to it (referrers and legacy .sig/.att) go to an OCI layout that
// `verify --local-image` reads and skopeo takes as a layout, and back into another repository,
// where they verify again. A failed save leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { oneError } from '../interop/sign-helpers.ts';
import { pushImage } from '../helpers/registry.ts';

const { reg, dir, run, keyed, byKey, opts } = await imageTestbed('signet-save-');
const verifyKey = ['verify', ...byKey, '-o', 'json'];

const schemes = (stdout: string) =>
  (JSON.parse(stdout) as { verified: Array<{ scheme: string }> }).verified
    .map((v) => v.scheme)
    .sort();

test(
  'save an image with its referrer and .sig/.att; verify the layout; load it elsewhere',
  opts,
  async () => {
    const img = pushImage(reg!, 'save/app', { platforms: ['amd64', 'arm64'] });
    assert.equal((await run(['sign', ...keyed, img.ref])).status, 0);
    assert.equal(
      (await run(['sign', ...keyed, '--registry-referrers-mode', 'legacy', img.ref])).status,
      0,
    );
    fs.writeFileSync(path.join(dir, 'p.json'), '{}');
    const att = await run([
      'attest',
      ...keyed,
      '--registry-referrers-mode',
      'legacy',
      '--type',
      'custom',
      '--predicate',
      'p.json',
      img.ref,
    ]);
    assert.equal(att.status, 0, att.stderr);

    const layout = path.join(dir, 'saved');
    const s = await run(['save', img.ref, '--dir', layout]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stderr, /saved .* to .*saved with 2 signature image\(s\) and 1 referrer\(s\)/);
    const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
    };
    const hex = img.digest.slice('sha256:'.length);
    assert.deepEqual(
      index.manifests.map((m) => [
        m.annotations?.kind,
        m.annotations?.['org.opencontainers.image.ref.name'],
      ]),
      [
        ['dev.cosignproject.cosign/imageIndex', undefined],
        ['dev.cosignproject.cosign/sigs', `sha256-${hex}.sig`],
        ['dev.cosignproject.cosign/atts', `sha256-${hex}.att`],
        [undefined, undefined],
      ],
    );
    // An independent reader takes it as an OCI layout (the .sig image, by the tag it is named).
    const sk = spawnSync('skopeo', ['inspect', '--raw', `oci:${layout}:sha256-${hex}.sig`], {
      encoding: 'utf8',
    });
    assert.equal(sk.status, 0, sk.stderr);
    assert.equal((JSON.parse(sk.stdout) as { layers: unknown[] }).layers.length, 1);
    // Both platforms' manifests and their blobs are in it.
    const blob = (d: string) => path.join(layout, 'blobs', 'sha256', d.slice('sha256:'.length));
    const top = JSON.parse(fs.readFileSync(blob(img.digest), 'utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    assert.equal(top.manifests.length, 2);
    for (const c of top.manifests) {
      const child = JSON.parse(fs.readFileSync(blob(c.digest), 'utf8')) as {
        config: { digest: string };
        layers: Array<{ digest: string }>;
      };
      for (const d of [child.config, ...child.layers])
        assert.ok(fs.existsSync(blob(d.digest)), d.digest);
    }
    const local = await run([...verifyKey, '--local-image', layout]);
    assert.equal(local.status, 0, local.stderr);
    assert.deepEqual(schemes(local.stdout), ['legacy', 'referrer']);
    // cosign's form: the boolean flag, the folder as the argument.
    const asArgument = await run([...verifyKey, layout, '--local-image']);
    assert.equal(asArgument.status, 0, asArgument.stderr);
    // The folder and an image as well: the image would never be looked at, so it is refused.
    const both = await run([...verifyKey, '--local-image', layout, `${reg!.host}/other/x:y`]);
    assert.equal(both.status, 1);
    assert.match(
      oneError(both.stderr),
      /--local-image: names the layout folder ".*", so the image argument ".*other\/x:y" would not be verified/,
    );

    // Back into another repository, with a tag: the image, its .sig and .att and the referrer.
    const target = `${reg!.host}/loaded/app:v9`;
    const l = await run(['load', '--dir', layout, target]);
    assert.equal(l.status, 0, l.stderr);
    assert.match(l.stderr, /loaded .* with 2 signature image\(s\) and 1 referrer\(s\)/);
    const v = await run([...verifyKey, target]);
    assert.equal(v.status, 0, v.stderr);
    assert.deepEqual(schemes(v.stdout), ['legacy', 'referrer']);
    const va = await run(['verify-attestation', ...byKey, '--type', 'custom', target]);
    assert.equal(va.status, 0, va.stderr);
    // Without a tag, as cosign load: tagged latest, and the message says where it went.
    const bare = `${reg!.host}/loaded/bare`;
    const lb = await run(['load', '--dir', layout, bare]);
    assert.equal(lb.status, 0, lb.stderr);
    assert.match(lb.stderr, new RegExp(`loaded .* to ${bare}:latest@sha256:[0-9a-f]{64} with `));
    assert.equal((await run([...verifyKey, `${bare}:latest`])).status, 0);
  },
);

test('save and load: bad input is one line, and a failed save leaves nothing', opts, async () => {
  const img = pushImage(reg!, 'save/bad');
  const full = path.join(dir, 'full');
  fs.mkdirSync(full);
  fs.writeFileSync(path.join(full, 'keep.txt'), 'mine');
  const notEmpty = await run(['save', img.ref, '--dir', full]);
  assert.equal(notEmpty.status, 1);
  assert.match(
    oneError(notEmpty.stderr),
    /--dir: .*full is not empty: give a new or empty folder$/,
  );
  assert.deepEqual(fs.readdirSync(full), ['keep.txt']);
  const noDir = await run(['save', img.ref]);
  assert.match(oneError(noDir.stderr), /--dir: is required/);
  const gone = path.join(dir, 'never');
  const missing = await run(['save', `${reg!.host}/save/none:v1`, '--dir', gone]);
  assert.equal(missing.status, 11, missing.stderr); // cosign's "not found"
  assert.equal(fs.existsSync(gone), false);
  const notLayout = await run(['load', '--dir', full, `${reg!.host}/loaded/x:v1`]);
  assert.match(
    oneError(notLayout.stderr),
    /^error: --dir: .* is not an OCI image layout: it has no oci-layout file/,
  );
  const noFolder = await run(['load', '--dir', gone, `${reg!.host}/loaded/x:v1`]);
  assert.match(oneError(noFolder.stderr), /^error: --dir: .*never does not exist/);
  const layout = path.join(dir, 'one');
  assert.equal((await run(['save', img.ref, '--dir', layout])).status, 0);
  const wrong = await run([
    'load',
    '--dir',
    layout,
    `${reg!.host}/loaded/x@sha256:${'0'.repeat(64)}`,
  ]);
  assert.match(oneError(wrong.stderr), /names digest sha256:0{64}, but the image in .* is sha256:/);
});

test(
  'load refuses a layout whose signature image would go to a tag that is not its image’s .sig tag, and pushes nothing',
  opts,
  async () => {
    const img = pushImage(reg!, 'save/tags');
    const other = pushImage(reg!, 'save/tags-other');
    assert.equal(
      (await run(['sign', ...keyed, '--registry-referrers-mode', 'legacy', img.ref])).status,
      0,
    );
    const layout = path.join(dir, 'retagged');
    assert.equal((await run(['save', img.ref, '--dir', layout])).status, 0);
    const indexFile = path.join(layout, 'index.json');
    const index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as {
      manifests: Array<{ annotations?: Record<string, string> }>;
    };
    const sig = index.manifests.find(
      (m) => m.annotations?.kind === 'dev.cosignproject.cosign/sigs',
    )!;
    const hex = (d: string) => d.slice('sha256:'.length);
    const exists = async (repo: string, ref: string) =>
      (
        await fetch(`http://${reg!.host}/v2/${repo}/manifests/${ref}`, {
          method: 'HEAD',
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        })
      ).status === 200;
    for (const [name, kindNote] of [
      ['prod', 'a plain tag'],
      [`sha256-${hex(other.digest)}.sig`, "another image's .sig tag"],
      [`sha256-${hex(img.digest)}.att`, 'the .att tag for a sigs entry'],
    ] as const) {
      sig.annotations!['org.opencontainers.image.ref.name'] = name;
      fs.writeFileSync(indexFile, JSON.stringify(index));
      const l = await run(['load', '--dir', layout, `${reg!.host}/loaded/tags:v1`]);
      assert.equal(l.status, 1, `${kindNote}: ${l.stderr}`);
      assert.match(
        oneError(l.stderr),
        new RegExp(
          `is marked dev\\.cosignproject\\.cosign/sigs with the tag "${name.replace(/\./g, '\\.')}", which is not the \\.sig tag of the image \\(${img.digest}\\) or of one of its manifests: nothing was loaded`,
        ),
      );
      assert.equal(
        await exists('loaded/tags', 'v1'),
        false,
        `${kindNote}: the image was not pushed`,
      );
      assert.equal(await exists('loaded/tags', name), false, `${kindNote}: nor the tag`);
    }
    // Its own .sig tag, and none at all (cosign's layouts): loaded, and it verifies there.
    for (const name of [`sha256-${hex(img.digest)}.sig`, undefined]) {
      if (name === undefined) delete sig.annotations!['org.opencontainers.image.ref.name'];
      else sig.annotations!['org.opencontainers.image.ref.name'] = name;
      fs.writeFileSync(indexFile, JSON.stringify(index));
      const l = await run(['load', '--dir', layout, `${reg!.host}/loaded/tags:v2`]);
      assert.equal(l.status, 0, l.stderr);
      assert.equal((await run([...verifyKey, `${reg!.host}/loaded/tags:v2`])).status, 0);
    }
  },
);
