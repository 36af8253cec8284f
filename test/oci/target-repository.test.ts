// cosign's COSIGN_REPOSITORY: signing an image one cannot push to, with the signatures kept in
// another repository. The image is served by a read-only front on loopback (reads pass to
// Debian's docker-registry, writes get 403, as from a mirror of someone else's image); the
// signatures go to a repository of the registry itself.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { forward, loopbackServer, pushImage } from '../helpers/registry.ts';
import { oneError } from '../interop/sign-helpers.ts';

const { reg, dir, run, keyed, byKey, missing, opts } = await imageTestbed('signet-oci-target-');

const writes: string[] = [];
const front = missing
  ? undefined
  : await loopbackServer(async (q, res) => {
      if (q.method !== 'GET' && q.method !== 'HEAD') {
        writes.push(`${q.method} ${q.url}`);
        q.resume();
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"DENIED","message":"read-only mirror"}]}');
        return;
      }
      const r = await forward(reg!, front!.host, q);
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
after(() => front?.close());

test(
  'COSIGN_REPOSITORY: sign, attest, verify and copy an image whose repository takes no writes',
  opts,
  async () => {
    const img = pushImage(reg!, 'upstream/app');
    const ref = `${front!.host}/upstream/app@${img.digest}`;
    const hex = img.digest.slice('sha256:'.length);
    const target = { COSIGN_REPOSITORY: `${reg!.host}/mine/signatures` };
    const tags = async (repo: string) =>
      ((await (await fetch(`${reg!.url}/v2/${repo}/tags/list`)).json()) as { tags?: string[] })
        .tags ?? [];

    // Without the variable the push is refused by the mirror, and nothing was stored.
    const refused = await run(['sign', ...keyed, ref]);
    assert.equal(refused.status, 1, refused.stderr);
    writes.length = 0;

    const s = await run(['sign', ...keyed, ref], target);
    assert.equal(s.status, 0, s.stderr);
    // The message names where the signature went, so it can be found and cleaned.
    const kept = `Pushing signature to: ${reg!.host}/mine/signatures (`;
    assert.ok(s.stderr.includes(kept), s.stderr);
    const l = await run(['sign', ...keyed, '--registry-referrers-mode', 'legacy', ref], target);
    assert.equal(l.status, 0, l.stderr);
    assert.ok(l.stderr.includes(`${kept}tag sha256-${hex}.sig)`), l.stderr);
    fs.writeFileSync(path.join(dir, 'target-pred.json'), '{"scan":"clean"}');
    const a = await run(
      ['attest', ...keyed, '--type', 'vuln', '--predicate', 'target-pred.json', ref],
      target,
    );
    assert.equal(a.status, 0, a.stderr);
    assert.ok(a.stderr.includes(`Pushing attestation to: ${reg!.host}/mine/signatures (`));
    assert.deepEqual(writes, [], 'nothing was written to the image repository');
    assert.deepEqual(await tags('upstream/app'), ['v1']);
    assert.deepEqual((await tags('mine/signatures')).sort(), [
      `sha256-${hex}`,
      `sha256-${hex}.sig`,
    ]);

    const v = await run(['verify', ...byKey, '-o', 'json', ref], target);
    assert.equal(v.status, 0, v.stderr);
    const report = JSON.parse(v.stdout) as {
      valid: number;
      verified: Array<{ signer: { key?: string } }>;
    };
    assert.equal(report.valid, 2);
    // the key as its SHA-256 fingerprint (of the DER public key): it tells keys apart
    const spki = createPublicKey(fs.readFileSync(path.join(dir, 'cosign.pub'))).export({
      type: 'spki',
      format: 'der',
    });
    const fingerprint = `sha256:${createHash('sha256').update(spki).digest('hex')}`;
    assert.deepEqual(
      report.verified.map((x) => x.signer.key),
      [fingerprint, fingerprint],
    );
    const va = await run(['verify-attestation', ...byKey, '--type', 'vuln', ref], target);
    assert.equal(va.status, 0, va.stderr);
    // Without it, the image's own repository has none.
    assert.equal((await run(['verify', ...byKey, ref])).status, 10);
    const tri = await run(['triangulate', ref], target);
    assert.equal(tri.stdout.trim(), `${reg!.host}/mine/signatures:sha256-${hex}.sig`);
    // tree names the tag where it is, not beside the image
    const tr = await run(['tree', ref], target);
    assert.equal(tr.status, 0, tr.stderr);
    assert.ok(
      tr.stdout.includes(`signatures in tag ${reg!.host}/mine/signatures:sha256-${hex}.sig\n`),
      tr.stdout,
    );

    // copy takes the signatures from where they are kept to beside the copy.
    const c = await run(['copy', ref, `${reg!.host}/mine/app:v1`], target);
    assert.equal(c.status, 0, c.stderr);
    const vc = await run(['verify', ...byKey, '-o', 'json', `${reg!.host}/mine/app:v1`]);
    assert.equal(vc.status, 0, vc.stderr);
    assert.equal((JSON.parse(vc.stdout) as { valid: number }).valid, 2);

    const bad = await run(['verify', ...byKey, ref], {
      COSIGN_REPOSITORY: `${reg!.host}/mine/signatures:v1`,
    });
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(
      oneError(bad.stderr),
      /COSIGN_REPOSITORY: ".*:v1" names a tag or digest: give a repository/,
    );
  },
);
