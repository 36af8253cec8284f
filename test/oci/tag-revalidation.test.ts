// Tags looked up again (the legacy `.sig` tag, the referrers tag schema, an image's tag) are
// asked for with If-None-Match, against Debian's docker-registry behind a front on loopback that
// forwards every request and records what was asked and answered.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { loopbackServer, pushImage } from '../helpers/registry.ts';
import { checkImage, parseReference } from '../../src/client/oci/index.ts';
import { parseTrustedRootJSON } from '../../src/bundle/trusted-root.ts';

const { reg, dir, rootJson, run, keyed, opts } = await imageTestbed('signet-revalidate-');

const seen: Array<{ line: string; ifNoneMatch: string | undefined; status: number }> = [];
const front = await loopbackServer((q, res) => {
  const upstream = new URL(reg?.url ?? 'http://127.0.0.1:1');
  const up = http.request(
    `${upstream.origin}${q.url}`,
    { method: q.method, headers: { ...q.headers, host: upstream.host } },
    (r) => {
      const inm = q.headers['if-none-match'];
      seen.push({ line: `${q.method} ${q.url}`, ifNoneMatch: inm, status: r.statusCode! });
      // Upload locations name the registry itself: they must come back through the front.
      const headers = { ...r.headers };
      if (headers.location) headers.location = headers.location.replace(upstream.host, host);
      res.writeHead(r.statusCode!, headers);
      r.pipe(res);
    },
  );
  up.on('error', () => res.destroy());
  q.pipe(up);
});
const host = front.host;
after(() => front.close());

test(
  'a tag asked for again gets 304 while it names the same manifest, and the new manifest once it moved',
  opts,
  async () => {
    const img = pushImage(reg!, 'revalidate/app');
    const ref = `${host}/revalidate/app@${img.digest}`;
    const sign = () => run(['sign', ...keyed, '--registry-referrers-mode', 'legacy', ref]);
    const s = await sign();
    assert.equal(s.status, 0, s.stderr);
    const check = () =>
      checkImage(parseReference(ref), {
        trustedRoot: parseTrustedRootJSON(rootJson, 'root.json'),
        policy: {
          kind: 'key',
          key: createPublicKey(fs.readFileSync(path.join(dir, 'cosign.pub'))),
        },
      });
    const sigTag = `GET /v2/revalidate/app/manifests/${img.digest.replace(':', '-')}.sig`;
    const asked = () => {
      const hits = seen.filter((x) => x.line === sigTag);
      assert.equal(hits.length, 1, JSON.stringify(seen));
      return hits[0]!;
    };

    seen.length = 0;
    assert.equal((await check()).verified.length, 1);
    assert.deepEqual(asked(), { line: sigTag, ifNoneMatch: undefined, status: 200 });

    seen.length = 0;
    const again = await check();
    assert.equal(again.verified.length, 1, JSON.stringify(again.rejected));
    const revalidated = asked();
    assert.equal(revalidated.status, 304);
    assert.match(revalidated.ifNoneMatch ?? '', /^"sha256:[0-9a-f]{64}"$/);

    // A second signer rewrites the tag: the same question now gets the new manifest.
    const s2 = await sign();
    assert.equal(s2.status, 0, s2.stderr);
    seen.length = 0;
    const moved = await check();
    assert.equal(moved.verified.length, 2, JSON.stringify(moved.rejected));
    const after2 = asked();
    assert.equal(after2.status, 200);
    assert.equal(after2.ifNoneMatch, revalidated.ifNoneMatch);
  },
);
