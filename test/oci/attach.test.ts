// `signet attach signature|attestation` (cosign attach) against Debian's docker-registry and a
// whole stack: a signature or attestation made with --upload=false goes on the image later and
// verifies there; a bundle or envelope that is not about the image is refused, nothing pushed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { oneError } from '../interop/sign-helpers.ts';
import { inspectRaw, pushImage } from '../helpers/registry.ts';

const { stack, reg, dir, run, who, identity, issuer, keyed, keyless, byKey, opts } =
  await imageTestbed('signet-attach-');

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
    // cosign's --payload names the same file, and an error then names --payload.
    const again = await run(['attach', 'signature', '--payload', 'offline.json', img.ref]);
    assert.equal(again.status, 0, again.stderr);
    const wrongP = await run(['attach', 'signature', '--payload', 'offline.json', other.ref]);
    assert.match(oneError(wrongP.stderr), /^error: --payload offline\.json: no subject of its/);
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
    // an image signature and an attestation of this image, each to be given as the other
    const sig = await run([
      'sign',
      ...keyed,
      '--upload=false',
      '--bundle',
      'bad-sig.json',
      img.ref,
    ]);
    assert.equal(sig.status, 0, sig.stderr);
    fs.writeFileSync(path.join(dir, 'bad-pred.json'), '{"buildType":"https://example.com/b"}');
    const att = await run([
      'attest',
      ...keyed,
      '--type',
      'slsaprovenance1',
      '--predicate',
      'bad-pred.json',
      '--upload=false',
      '--bundle',
      'bad-att.json',
      img.ref,
    ]);
    assert.equal(att.status, 0, att.stderr);
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
        /--bundle text-env.json: is not a Sigstore bundle \(a payload signed elsewhere goes with its --signature\)/,
      ],
      [
        ['attach', 'signature', '--bundle', 'blob.json', '--certificate', 'c.pem', img.ref],
        /--certificate: goes with --signature/,
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
      [
        ['attach', 'attestation', '--attestation', 'bad-sig.json', img.ref],
        /--attestation bad-sig.json: is an image signature \(predicate https:\/\/sigstore\.dev\/cosign\/sign\/v1\), not an attestation: attach it with `attach signature --bundle`$/,
      ],
      [
        ['attach', 'signature', '--bundle', 'bad-att.json', img.ref],
        /--bundle bad-att.json: is an attestation \(predicate https:\/\/slsa\.dev\/provenance\/v1\), not an image signature \(https:\/\/sigstore\.dev\/cosign\/sign\/v1\): attach it with `attach attestation --attestation`$/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneError(r.stderr), message);
    }
    assert.deepEqual(await tagsOf('attach/bad'), ['v1']);
  },
);

/** The simple-signing payload cosign generate prints for `ref` (repository@digest). */
function expectedPayload(ref: string, optional: string = 'null'): string {
  const [repo, digest] = ref.split('@') as [string, string];
  return `{"critical":{"identity":{"docker-reference":"${repo}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":${optional}}`;
}

const sigTag = (repo: string, digest: string) =>
  `${repo}:sha256-${digest.slice('sha256:'.length)}.sig`;

interface LegacyManifest {
  layers: Array<{ mediaType: string; digest: string; annotations: Record<string, string> }>;
}

test(
  'generate, sign with openssl, attach: the detached signature verifies with the key (cosign generate | sign | attach signature)',
  opts,
  async () => {
    const img = pushImage(reg!, 'attach/detached');
    const g = await run(['generate', img.ref]);
    assert.equal(g.status, 0, g.stderr);
    assert.equal(g.stdout, expectedPayload(img.ref));
    const ga = await run(['generate', '-a', 'env=prod', img.ref]);
    assert.equal(ga.stdout, expectedPayload(img.ref, '{"env":"prod"}'));
    fs.writeFileSync(path.join(dir, 'payload.json'), g.stdout);
    // A key and a signature no Signet code made.
    const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: dir });
    sh('openssl ecparam -name prime256v1 -genkey -noout -out ext.pem');
    sh('openssl pkey -in ext.pem -pubout -out ext.pub');
    sh('openssl dgst -sha256 -sign ext.pem payload.json | base64 -w0 > payload.sig');
    const keyed = ['verify', '--key', 'ext.pub', '--insecure-ignore-tlog', '-o', 'json', img.ref];
    assert.equal((await run(keyed)).status, 10); // nothing attached yet
    const a = await run([
      'attach',
      'signature',
      '--payload',
      'payload.json',
      '--signature',
      'payload.sig',
      img.ref,
    ]);
    assert.equal(a.status, 0, a.stderr);
    const tag = sigTag('attach/detached', img.digest);
    assert.equal(a.stderr, `attached payload.sig to ${img.ref}: ${tag.split(':')[1]}\n`);
    const v = await run(keyed);
    assert.equal(v.status, 0, v.stderr);
    assert.equal((JSON.parse(v.stdout) as { valid: number }).valid, 1);
    // Its line says it has no time rather than leaving a gap.
    const asText = await run([...keyed.slice(0, -3), '-o', 'text', img.ref]);
    assert.equal(asText.status, 0, asText.stderr);
    assert.ok(
      asText.stdout.includes(
        `signature by the given public key, no trusted time; no log entry; tag ${tag.split(':')[1]}`,
      ),
      asText.stdout,
    );
    // Without a log entry it is accepted only when asked: the check stays.
    const strict = await run([
      'verify',
      '--key',
      'ext.pub',
      '--trusted-root',
      'root.json',
      img.ref,
    ]);
    assert.notEqual(strict.status, 0, strict.stderr);
    // Another key does not verify it.
    sh('openssl ecparam -name prime256v1 -genkey -noout | openssl pkey -pubout -out other.pub');
    const wrongKey = await run(['verify', '--key', 'other.pub', '--insecure-ignore-tlog', img.ref]);
    assert.notEqual(wrongKey.status, 0, wrongKey.stderr);
    // The layer is cosign's: the payload as a simple-signing blob, the signature annotation.
    const man = inspectRaw(reg!, tag) as unknown as LegacyManifest;
    assert.equal(man.layers.length, 1);
    assert.equal(man.layers[0]!.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
    assert.deepEqual(man.layers[0]!.annotations, {
      'dev.cosignproject.cosign/signature': fs.readFileSync(path.join(dir, 'payload.sig'), 'utf8'),
    });
    const blob = await fetch(`${reg!.url}/v2/attach/detached/blobs/${man.layers[0]!.digest}`);
    assert.equal(await blob.text(), g.stdout);
    // cosign verify --signature --payload: the detached signature checked against an image
    // it is not attached to, without attaching it.
    const twin = pushImage(reg!, 'attach/detached-twin');
    const tg = await run(['generate', twin.ref]);
    fs.writeFileSync(path.join(dir, 'twin.json'), tg.stdout);
    sh('openssl dgst -sha256 -sign ext.pem twin.json | base64 -w0 > twin.sig');
    const byKey = ['verify', '--key', 'ext.pub', '--insecure-ignore-tlog', '-o', 'json'];
    const d = await run([...byKey, '--signature', 'twin.sig', '--payload', 'twin.json', twin.ref]);
    assert.equal(d.status, 0, d.stderr);
    assert.equal((JSON.parse(d.stdout) as { valid: number }).valid, 1);
    // cosign reads --key, --signature and --payload from URLs and env:// too.
    const web = http.createServer((req, res) => {
      const file = path.join(dir, path.basename(req.url ?? ''));
      if (!fs.existsSync(file)) res.writeHead(404).end();
      else res.end(fs.readFileSync(file));
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    try {
      const at = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
      const fromUrls = [
        'verify',
        '--key',
        `${at}/ext.pub`,
        '--insecure-ignore-tlog',
        '--signature',
        `${at}/twin.sig`,
      ];
      const u = await run([...fromUrls, '--payload', `${at}/twin.json`, twin.ref]);
      assert.equal(u.status, 0, u.stderr);
      assert.equal((JSON.parse(u.stdout) as { valid: number }).valid, 1);
      const e = await run([...fromUrls, '--payload', 'env://TWIN_PAYLOAD', twin.ref], {
        TWIN_PAYLOAD: tg.stdout,
      });
      assert.equal(e.status, 0, e.stderr);
      const gone = await run([...fromUrls, '--payload', `${at}/missing.json`, twin.ref]);
      assert.equal(gone.status, 1, gone.stderr);
      assert.match(
        oneError(gone.stderr),
        /^error: --payload: http:\/\/127\.0\.0\.1:\d+\/missing\.json answered HTTP 404$/,
      );
    } finally {
      web.closeAllConnections();
      web.close();
    }
    // without --insecure-ignore-tlog its log entry is looked for; none is found: one line that
    // names the image, as every image failure does
    const unlogged = await run([
      'verify',
      '--key',
      'ext.pub',
      '--trusted-root',
      'root.json',
      '--signature',
      'twin.sig',
      '--payload',
      'twin.json',
      twin.ref,
    ]);
    assert.equal(unlogged.status, 12, unlogged.stderr);
    assert.ok(
      oneError(unlogged.stderr).startsWith(
        `error: ${twin.ref}: no transparency log of the trusted root records this signature`,
      ),
      unlogged.stderr,
    );
    // what it lacks is the signature's, not a bundle's: it has none
    const untimed = await run([
      ...byKey,
      '--use-signed-timestamps',
      '--signature',
      'twin.sig',
      '--payload',
      'twin.json',
      twin.ref,
    ]);
    assert.equal(untimed.status, 12, untimed.stderr);
    const line = oneError(untimed.stderr);
    assert.match(
      line,
      /: no matching signatures: 1 found, 1 tried, 0 valid \(--signature twin\.sig: the signature has 0 verified RFC 3161 timestamps; 1 is required \(--use-signed-timestamps\)\)$/,
    );
    assert.doesNotMatch(line, /bundle/);
    // the payload left out is the generated one; the signature as base64 text works as a file does
    const text = fs.readFileSync(path.join(dir, 'twin.sig'), 'utf8');
    const t = await run([...byKey, '--signature', text, twin.ref]);
    assert.equal(t.status, 0, t.stderr);
    assert.equal(
      (await run(['verify', '--key', 'ext.pub', '--insecure-ignore-tlog', twin.ref])).status,
      10,
    );
    // another image's payload, or this signature on the other image: refused, not valid
    const wrongPayload = await run([
      ...byKey,
      '--signature',
      'twin.sig',
      '--payload',
      'payload.json',
      twin.ref,
    ]);
    assert.equal(wrongPayload.status, 1, wrongPayload.stderr);
    assert.match(
      oneError(wrongPayload.stderr),
      /--payload payload.json: is about sha256:\w+, not the image/,
    );
    const wrongImage = await run([...byKey, '--signature', 'twin.sig', img.ref]);
    assert.equal(wrongImage.status, 12, wrongImage.stderr);
    // The signature from stdin and the payload left out (the generated one): the same layer.
    const sig = fs.readFileSync(path.join(dir, 'payload.sig'), 'utf8');
    const again = await run(['attach', 'signature', '--signature', '-', img.ref], {}, sig);
    assert.equal(again.status, 0, again.stderr);
    assert.equal((inspectRaw(reg!, tag) as unknown as LegacyManifest).layers.length, 1);
  },
);

test(
  'keyless detached: the signature, certificate, Rekor v1 entry and timestamp sign-blob wrote for the payload verify on the image',
  opts,
  async () => {
    const img = pushImage(reg!, 'attach/detached-keyless');
    const g = await run(['generate', img.ref]);
    assert.equal(g.status, 0, g.stderr);
    fs.writeFileSync(path.join(dir, 'kl-payload.json'), g.stdout);
    const s = await run([
      'sign-blob',
      ...(await keyless()),
      '--rekor-version',
      '1',
      '--bundle',
      'kl.bundle.json',
      '--output-signature',
      'kl.sig',
      '--output-certificate',
      'kl.crt',
      '--rfc3161-timestamp',
      'kl.tsr',
      'kl-payload.json',
    ]);
    assert.equal(s.status, 0, s.stderr);
    // Checked before it is attached: verify finds the log entry of the detached signature
    // through the server's signing config, as cosign's verify looks it up in Rekor.
    const online = [
      'verify',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      issuer,
      '--server',
      stack.url,
      '-o',
      'json',
      '--signature',
      'kl.sig',
      '--certificate',
      'kl.crt',
      '--payload',
      'kl-payload.json',
      img.ref,
    ];
    const found = await run(online);
    assert.equal(found.status, 0, found.stderr);
    const fr = JSON.parse(found.stdout) as { valid: number; verified: Array<{ tlog: unknown[] }> };
    assert.equal(fr.valid, 1);
    assert.equal(fr.verified[0]!.tlog.length, 1);
    const noCert = await run(online.filter((a) => a !== '--certificate' && a !== 'kl.crt'));
    assert.equal(noCert.status, 1, noCert.stderr);
    assert.match(
      oneError(noCert.stderr),
      /--signature: needs --certificate \(or --key\) to say who signed/,
    );
    const parts = [
      '--payload',
      'kl-payload.json',
      '--signature',
      'kl.sig',
      '--certificate',
      'kl.crt',
      '--tsr',
      'kl.tsr',
    ];
    const a = await run([
      'attach',
      'signature',
      ...parts,
      '--rekor-response',
      'kl.bundle.json',
      img.ref,
    ]);
    assert.equal(a.status, 0, a.stderr);
    const v = await run(['verify', ...who, '-o', 'json', img.ref]);
    assert.equal(v.status, 0, v.stderr);
    const r = JSON.parse(v.stdout) as { valid: number; verified: Array<{ tlog: unknown[] }> };
    assert.equal(r.valid, 1);
    assert.equal(r.verified[0]!.tlog.length, 1);
    assert.match(
      v.stderr,
      /1 valid \(transparency log inclusion, certificate chain and identity checked for each valid one\)\n$/,
    );
    const tag = sigTag('attach/detached-keyless', img.digest);
    const [layer] = (inspectRaw(reg!, tag) as unknown as LegacyManifest).layers;
    assert.deepEqual(Object.keys(layer!.annotations).sort(), [
      'dev.cosignproject.cosign/signature',
      'dev.sigstore.cosign/bundle',
      'dev.sigstore.cosign/certificate',
      'dev.sigstore.cosign/rfc3161timestamp',
    ]);
    assert.equal(
      layer!.annotations['dev.sigstore.cosign/certificate'],
      fs.readFileSync(path.join(dir, 'kl.crt'), 'utf8'),
    );
    // cosign's own --bundle JSON (before v3) names the same entry: the same layer, not a second.
    const b = JSON.parse(fs.readFileSync(path.join(dir, 'kl.bundle.json'), 'utf8')) as {
      messageSignature: { signature: string };
      verificationMaterial: {
        tlogEntries: Array<{
          logIndex?: string;
          logId: { keyId: string };
          integratedTime: string;
          inclusionPromise: { signedEntryTimestamp: string };
          canonicalizedBody: string;
        }>;
      };
    };
    const e = b.verificationMaterial.tlogEntries[0]!;
    fs.writeFileSync(
      path.join(dir, 'kl.cosign-bundle.json'),
      JSON.stringify({
        base64Signature: b.messageSignature.signature,
        cert: Buffer.from(fs.readFileSync(path.join(dir, 'kl.crt'))).toString('base64'),
        rekorBundle: {
          SignedEntryTimestamp: e.inclusionPromise.signedEntryTimestamp,
          Payload: {
            body: e.canonicalizedBody,
            integratedTime: Number(e.integratedTime),
            logIndex: Number(e.logIndex ?? 0), // protobuf JSON leaves out a zero
            logID: Buffer.from(e.logId.keyId, 'base64').toString('hex'),
          },
        },
      }),
    );
    const again = await run([
      'attach',
      'signature',
      ...parts,
      '--rekor-response',
      'kl.cosign-bundle.json',
      img.ref,
    ]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal((inspectRaw(reg!, tag) as unknown as LegacyManifest).layers.length, 1);
    // A tampered payload (another annotation) under the same signature: attached, not valid.
    const other = await run(['generate', '-a', 'env=prod', img.ref]);
    fs.writeFileSync(path.join(dir, 'kl-other.json'), other.stdout);
    const swapped = await run([
      'attach',
      'signature',
      '--payload',
      'kl-other.json',
      '--signature',
      'kl.sig',
      '--certificate',
      'kl.crt',
      img.ref,
    ]);
    assert.equal(swapped.status, 0, swapped.stderr);
    const v2 = await run(['verify', ...who, '-o', 'json', img.ref]);
    const r2 = JSON.parse(v2.stdout) as { valid: number; rejected: Array<{ reason: string }> };
    assert.equal(r2.valid, 1, v2.stdout);
    assert.equal(r2.rejected.length, 1, v2.stdout);
    assert.match(r2.rejected[0]!.reason, /the signature does not verify over the artifact/);
  },
);

test(
  'attach signature --signature: parts that are wrong or not about the image, one line each, nothing pushed',
  opts,
  async () => {
    const img = pushImage(reg!, 'attach/detached-bad');
    const other = pushImage(reg!, 'attach/detached-other');
    const w = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
    w('other-payload.json', (await run(['generate', other.ref])).stdout);
    w('dsse-payload.json', '{"payloadType":"x","payload":"","signatures":[]}');
    w('ok.sig', Buffer.from('a signature').toString('base64'));
    w('bad.sig', 'not base64 at all!');
    w('empty.sig', '\n');
    w('not.pem', 'hello');
    w('unknown.json', '{"hello": 1}');
    w('garbage.tsr', 'not DER');
    fs.writeFileSync(path.join(dir, 'z.txt'), 'z\n');
    const blob = await run([
      'sign-blob',
      ...(await keyless()),
      '--rekor-version',
      '1',
      '--bundle',
      'z.bundle.json',
      '--output-certificate',
      'z.crt',
      'z.txt',
    ]);
    assert.equal(blob.status, 0, blob.stderr);
    w('two.crt', fs.readFileSync(path.join(dir, 'z.crt'), 'utf8').repeat(2));
    const sig = ['attach', 'signature', '--signature'];
    const cases: Array<[string[], RegExp]> = [
      [
        [...sig, 'ok.sig', '--payload', 'other-payload.json', img.ref],
        new RegExp(
          `--payload other-payload.json: is about ${other.digest}, not the image \\(${img.digest}\\)`,
        ),
      ],
      [
        [...sig, 'ok.sig', '--payload', 'dsse-payload.json', img.ref],
        /--payload dsse-payload.json.critical: is missing/,
      ],
      [
        [...sig, 'ok.sig', '--payload', 'z.bundle.json', img.ref],
        /--payload z.bundle.json: is a bundle, which carries its own signature: give it without --signature/,
      ],
      [
        [...sig, 'ok.sig', '--bundle', 'z.bundle.json', img.ref],
        /--bundle: a bundle carries its own signature/,
      ],
      [[...sig, 'bad.sig', img.ref], /--signature bad.sig: .*base64/],
      [[...sig, 'empty.sig', img.ref], /--signature empty.sig: is empty/],
      [[...sig, 'no-such.sig', img.ref], /--signature: .*no-such.sig does not exist/],
      [
        [...sig, 'ok.sig', '--certificate', 'not.pem', img.ref],
        /--certificate not.pem: contains no PEM block/,
      ],
      [
        [...sig, 'ok.sig', '--certificate', 'two.crt', img.ref],
        /--certificate two.crt: holds 2 certificates; give its CA certificates with --certificate-chain/,
      ],
      [
        [...sig, 'ok.sig', '--certificate-chain', 'z.crt', img.ref],
        /--certificate-chain: goes with --certificate/,
      ],
      [
        [...sig, 'ok.sig', '--rekor-response', 'z.bundle.json', img.ref],
        /--rekor-response z.bundle.json: is the log entry of another signature than --signature/,
      ],
      [
        [...sig, 'ok.sig', '--rekor-response', 'unknown.json', img.ref],
        /--rekor-response unknown.json: is neither a Sigstore bundle nor cosign's --bundle JSON/,
      ],
      [
        [...sig, 'ok.sig', '--tsr', 'garbage.tsr', img.ref],
        /--tsr garbage.tsr: is not an RFC 3161 timestamp/,
      ],
      [['attach', 'signature', '--tsr', 'garbage.tsr', img.ref], /--tsr: goes with --signature/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneError(r.stderr), message);
    }
    assert.deepEqual(await tagsOf('attach/detached-bad'), ['v1']);
  },
);
