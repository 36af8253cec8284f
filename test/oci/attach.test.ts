// `signet attach signature|attestation` (cosign attach) against Debian's docker-registry and a
// whole stack: a signature or attestation made with --upload=false goes on the image later and
// verifies there; a bundle or envelope that is not about the image is refused, nothing pushed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { oneError } from '../interop/sign-helpers.ts';
import { inspectRaw, pushImage } from '../helpers/registry.ts';

const { reg, dir, run, who, keyed, keyless, byKey, opts } = await imageTestbed('signet-attach-');

const tagsOf = async (repo: string) =>
  ((await (await fetch(`${reg!.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] }).tags;

test(
  'a keyless signature made without the registry is attached later and verifies',
  opts,
  async () => {
    const img = pushImage(reg!, 'attach/sig');
    const s = await run([
      'sign',
      ...(await keyless()),
      '--upload=false',
      '--bundle',
      'offline.json',
      img.ref,
    ]);
    assert.equal(s.status, 0, s.stderr);
    assert.equal((await run(['verify', ...who, img.ref])).status, 10); // no signature yet
    // Not about this image: refused, nothing pushed to the other image.
    const other = pushImage(reg!, 'attach/other');
    const wrong = await run(['attach', 'signature', '--bundle', 'offline.json', other.ref]);
    assert.equal(wrong.status, 1);
    assert.match(
      oneError(wrong.stderr),
      new RegExp(
        `--bundle offline.json: no subject of its statement has the digest of the image \\(${other.digest}\\): it is not about this image`,
      ),
    );
    assert.deepEqual(await tagsOf('attach/other'), ['v1']);
    // Attached where it belongs: a referrer, as `sign` writes it.
    const a = await run(['attach', 'signature', '--bundle', 'offline.json', img.ref]);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /^attached offline.json to .*: sha256:[0-9a-f]{64}\n$/);
    const v = await run(['verify', ...who, '-o', 'json', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal((JSON.parse(v.stdout) as { valid: number }).valid, 1);
    // cosign's --payload names the same file.
    const again = await run(['attach', 'signature', '--payload', 'offline.json', img.ref]);
    assert.equal(again.status, 0, again.stderr);
  },
);

test(
  'attestations: a bundle as a referrer, bare DSSE envelopes on the .att tag',
  opts,
  async () => {
    const img = pushImage(reg!, 'attach/att');
    fs.writeFileSync(path.join(dir, 'pred.json'), '{"buildType":"https://example.com/build"}');
    const att = await run([
      'attest',
      ...keyed,
      '--type',
      'slsaprovenance1',
      '--predicate',
      'pred.json',
      '--upload=false',
      '--bundle',
      'att.json',
      img.ref,
    ]);
    assert.equal(att.status, 0, att.stderr);
    // The envelope alone, twice, as JSON Lines.
    const bundle = JSON.parse(fs.readFileSync(path.join(dir, 'att.json'), 'utf8')) as {
      dsseEnvelope: unknown;
    };
    const line = JSON.stringify(bundle.dsseEnvelope);
    fs.writeFileSync(path.join(dir, 'envs.jsonl'), `${line}\n${line}\n`);
    const a = await run([
      'attach',
      'attestation',
      '--attestation',
      'att.json',
      '--attestation',
      'envs.jsonl',
      img.ref,
    ]);
    assert.equal(a.status, 0, a.stderr);
    const hex = img.digest.slice('sha256:'.length);
    assert.ok((await tagsOf('attach/att')).includes(`sha256-${hex}.att`));
    // The bundle verifies with its log entry.
    const v = await run([
      'verify-attestation',
      ...byKey,
      '--type',
      'slsaprovenance1',
      '-o',
      'json',
      img.ref,
    ]);
    assert.equal(v.status, 0, v.stderr);
    const r = JSON.parse(v.stdout) as { valid: number; rejected: Array<{ reason: string }> };
    // The two identical envelopes are one .att layer, which has no log entry: rejected here.
    assert.equal(r.valid, 1, v.stdout);
    assert.equal(r.rejected.length, 1, v.stdout);
    // What is on the .att tag is what cosign attach writes: the envelope as a DSSE layer.
    const man = inspectRaw(reg!, `attach/att:sha256-${hex}.att`) as {
      layers: Array<{ mediaType: string; digest: string }>;
    };
    assert.equal(man.layers.length, 1);
    assert.equal(man.layers[0]!.mediaType, 'application/vnd.dsse.envelope.v1+json');
    const layer = await (
      await fetch(`${reg!.url}/v2/attach/att/blobs/${man.layers[0]!.digest}`)
    ).json();
    assert.deepEqual(layer, bundle.dsseEnvelope);
  },
);

test(
  'attach: input that is not a signature or attestation about the image, one line each',
  opts,
  async () => {
    const img = pushImage(reg!, 'attach/bad');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a file\n');
    const blob = await run(['sign-blob', ...keyed, '--bundle', 'blob.json', 'a.txt']);
    assert.equal(blob.status, 0, blob.stderr);
    fs.writeFileSync(path.join(dir, 'not-json.json'), '{"payload": ');
    fs.writeFileSync(
      path.join(dir, 'text-env.json'),
      JSON.stringify({
        payloadType: 'text/plain',
        payload: Buffer.from('hi').toString('base64'),
        signatures: [{ sig: Buffer.from('x').toString('base64') }],
      }),
    );
    const cases: Array<[string[], RegExp]> = [
      [
        ['attach', 'signature', '--bundle', 'blob.json', img.ref],
        /--bundle blob.json: the bundle has no DSSE envelope/,
      ],
      [
        ['attach', 'signature', '--bundle', 'text-env.json', img.ref],
        /--bundle text-env.json: is not a Sigstore bundle; the legacy detached form/,
      ],
      [
        ['attach', 'signature', '--signature', 'sig.b64', img.ref],
        /--signature: the legacy detached form .* is not supported/,
      ],
      [['attach', 'signature', img.ref], /--bundle: is required/],
      [
        ['attach', 'signature', '--bundle', 'no-such.json', img.ref],
        /--bundle: .*no-such.json does not exist/,
      ],
      [
        ['attach', 'attestation', '--attestation', 'not-json.json', img.ref],
        /--attestation not-json.json: is not valid JSON/,
      ],
      [
        ['attach', 'attestation', '--attestation', 'text-env.json', img.ref],
        /--attestation text-env.json: the envelope's payloadType is text\/plain, not application\/vnd.in-toto\+json/,
      ],
      [['attach', 'attestation', img.ref], /--attestation: is required/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneError(r.stderr), message);
    }
    assert.deepEqual(await tagsOf('attach/bad'), ['v1']);
  },
);
