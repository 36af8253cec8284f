// The native referrers API path. No registry that installs here has it (distribution 2.8
// answers 404), and there is no network to record a real one, so this test puts a front on
// Debian's docker-registry that speaks the OCI distribution-spec v1.1 referrers API as the
// spec's examples show it (GET /v2/<name>/referrers/<digest> -> an image index, with
// OCI-Filters-Applied when filtered; OCI-Subject on a PUT of a manifest with a subject) and
// forwards everything else. These answers are written from the spec, not recorded from a
// real registry: a search of public repositories (oras-go, regclient, go-containerregistry,
// distribution, zot, cosign's e2e tests) found no recorded referrers API answer of a real
// registry to serve instead; their tests answer from in-process servers or from the spec too.
import { test, after } from 'node:test';
import { imageTestbed } from '../helpers/image-testbed.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { forward, loopbackServer, pushImage } from '../helpers/registry.ts';
import { checkImage, parseReference } from '../../src/client/oci/index.ts';
import { parseTrustedRootJSON } from '../../src/bundle/trusted-root.ts';
import { MAX_REFERRERS } from '../../src/client/oci/discover.ts';

const { reg, dir, rootJson, run, keyed, opts } = await imageTestbed('signet-refapi-');

/** subject digest -> referrer descriptors, as a referrers-capable registry keeps them. */
const referrers = new Map<string, Array<Record<string, unknown>>>();
const seen: string[] = [];
/** True: the front answers the referrers API with 404, as a registry without it does. */
let apiDown = false;
const front = await loopbackServer(async (q, res) => {
  seen.push(`${q.method} ${q.url}`);
  const m = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})(\?.*)?$/.exec(q.url ?? '');
  if (q.method === 'GET' && m && apiDown) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}');
    return;
  }
  if (q.method === 'GET' && m) {
    const filter = new URLSearchParams(m[3] ?? '').get('artifactType');
    const all = referrers.get(m[2]!) ?? [];
    const list = filter ? all.filter((d) => d.artifactType === filter) : all;
    res.writeHead(200, {
      'content-type': 'application/vnd.oci.image.index.v1+json',
      ...(filter ? { 'OCI-Filters-Applied': 'artifactType' } : {}),
    });
    res.end(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: list,
      }),
    );
    return;
  }
  const r = await forward(reg!, host, q);
  const body = r.requestBody;
  if (q.method === 'PUT' && r.status === 201 && /\/manifests\//.test(q.url ?? '') && !apiDown) {
    const man = JSON.parse(body.toString()) as Record<string, any>;
    if (man.subject) {
      const list = referrers.get(man.subject.digest) ?? [];
      list.push({
        mediaType: man.mediaType,
        digest: r.headers['docker-content-digest'],
        size: body.length,
        artifactType: man.artifactType,
        annotations: man.annotations,
      });
      referrers.set(man.subject.digest, list);
      r.headers['oci-subject'] = man.subject.digest;
    }
  }
  res.writeHead(r.status, r.headers);
  res.end(r.body);
});
const host = front.host;
after(() => front.close());

test(
  'with a referrers API: the referrer is found through it and no tag schema index is written',
  opts,
  async () => {
    const img = pushImage(reg!, 'api/app');
    const ref = `${host}/api/app@${img.digest}`;
    const s = await run(['sign', ...keyed, ref]);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(referrers.get(img.digest)?.length, 1);
    const tags = (await (await fetch(`${reg!.url}/v2/api/app/tags/list`)).json()) as {
      tags: string[];
    };
    assert.deepEqual(tags.tags, ['v1'], 'OCI-Subject came back: no sha256-<hex> index');
    seen.length = 0;
    const v = await run(['verify', '--key', 'cosign.pub', '--trusted-root', 'root.json', ref]);
    assert.equal(v.status, 0, v.stderr);
    assert.ok(seen.some((l) => l.startsWith(`GET /v2/api/app/referrers/${img.digest}`)));
    assert.equal(JSON.parse(v.stdout).valid, 1);
  },
);

test(
  'thousands of referrers: a bounded number is examined, the rest reported as skipped',
  opts,
  async () => {
    const img = pushImage(reg!, 'api/many');
    const fake = Array.from({ length: 3000 }, (_, i) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${i.toString(16).padStart(64, '0')}`,
      size: 500,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    }));
    referrers.set(img.digest, fake);
    const { createPublicKey } = await import('node:crypto');
    const started = Date.now();
    const r = await checkImage(parseReference(`${host}/api/many@${img.digest}`), {
      trustedRoot: parseTrustedRootJSON(rootJson, 'root.json'),
      policy: { kind: 'key', key: createPublicKey(fs.readFileSync(path.join(dir, 'cosign.pub'))) },
    });
    assert.equal(r.skipped, 3000 - MAX_REFERRERS);
    assert.equal(r.found, MAX_REFERRERS);
    assert.equal(r.verified.length, 0);
    assert.match(r.rejected[0]!.reason, /has no such manifest/);
    assert.ok(Date.now() - started < 30_000);
  },
);

/** Verifies `ref` in this process with the test's key; returns the valid signatures' count. */
async function verifiedHere(ref: string): Promise<number> {
  const { createPublicKey } = await import('node:crypto');
  const r = await checkImage(parseReference(ref), {
    trustedRoot: parseTrustedRootJSON(rootJson, 'root.json'),
    policy: { kind: 'key', key: createPublicKey(fs.readFileSync(path.join(dir, 'cosign.pub'))) },
  });
  return r.verified.length;
}

test(
  'a registry that answered the referrers API is not asked for the tag schema again',
  opts,
  async () => {
    const img = pushImage(reg!, 'api/again');
    const ref = `${host}/api/again@${img.digest}`;
    const s = await run(['sign', ...keyed, ref]);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(await verifiedHere(ref), 1);
    seen.length = 0;
    assert.equal(await verifiedHere(ref), 1);
    const hex = img.digest.slice('sha256:'.length);
    assert.ok(seen.includes(`GET /v2/api/again/referrers/${img.digest}`), seen.join('\n'));
    assert.deepEqual(
      seen.filter((l) => l.includes(`/manifests/sha256-${hex}`) && !l.endsWith('.sig')),
      [],
      'the tag schema index was read although the API answers',
    );
  },
);

test(
  'a registry that stops answering the referrers API: its tag schema is read after the 404',
  opts,
  async () => {
    // This process has seen the front answer the API (the test above).
    apiDown = true;
    try {
      const img = pushImage(reg!, 'api/down');
      const ref = `${host}/api/down@${img.digest}`;
      // A new process: it finds no API and writes the tag schema index.
      const s = await run(['sign', ...keyed, ref]);
      assert.equal(s.status, 0, s.stderr);
      seen.length = 0;
      assert.equal(await verifiedHere(ref), 1, seen.join('\n'));
      const hex = img.digest.slice('sha256:'.length);
      assert.deepEqual(seen.filter((l) => l.startsWith('GET') && !l.endsWith('.sig')).slice(0, 2), [
        `GET /v2/api/down/referrers/${img.digest}`,
        `GET /v2/api/down/manifests/sha256-${hex}`,
      ]);
    } finally {
      apiDown = false;
    }
  },
);
