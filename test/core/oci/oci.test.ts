import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignetError } from '../../../src/core/errors.ts';
import {
  formatReference,
  parseReference,
  repositoryName,
} from '../../../src/core/oci/reference.ts';
import { digestOf, digestTag, parseDigest } from '../../../src/core/oci/digest.ts';
import { MAX_MANIFEST_BYTES, parseManifest } from '../../../src/core/oci/manifest.ts';
import { buildSimpleSigning, parseSimpleSigning } from '../../../src/core/oci/simple-signing.ts';
import { parseChallenge } from '../../../src/client/oci/auth.ts';

const D = `sha256:${'a'.repeat(64)}`;

test('references normalise as docker pull does', () => {
  const cases: Array<[string, string, string, string | undefined]> = [
    ['ubuntu', 'docker.io', 'library/ubuntu', 'latest'],
    ['index.docker.io/library/ubuntu:22.04', 'docker.io', 'library/ubuntu', '22.04'],
    ['ghcr.io/org/app:v1', 'ghcr.io', 'org/app', 'v1'],
    ['localhost:5000/a/b', 'localhost:5000', 'a/b', 'latest'],
    ['127.0.0.1:5000/app@' + D, '127.0.0.1:5000', 'app', undefined],
    ['user/app', 'docker.io', 'user/app', 'latest'],
  ];
  for (const [text, registry, repository, tag] of cases) {
    const r = parseReference(text);
    assert.deepEqual([r.registry, r.repository, r.tag], [registry, repository, tag], text);
  }
  const both = parseReference(`ghcr.io/org/app:v1@${D}`);
  assert.equal(both.tag, 'v1');
  assert.equal(both.digest?.text, D);
  assert.equal(formatReference(both), `ghcr.io/org/app@${D}`);
  assert.equal(repositoryName(parseReference('ubuntu')), 'index.docker.io/library/ubuntu');
});

test('bad references and digests are refused with the reason', () => {
  for (const [text, why] of [
    ['', /empty/],
    ['UPPER/case', /not a valid repository path component/],
    ['app:bad tag', /white space/],
    ['app@sha256:abc', /sha256 digest has 64 hex digits/],
    ['app@md5:' + 'a'.repeat(32), /not a digest/],
    ['app:' + 'x'.repeat(200), /not a valid tag/],
    [
      'Demo/BusyBox:::',
      /"Demo\/BusyBox:::" is not an image reference: it ends in ':' with no tag after it$/,
    ],
  ] as const)
    assert.throws(
      () => parseReference(text),
      (e: unknown) => e instanceof SignetError && why.test(e.message),
      text,
    );
  assert.equal(digestTag(parseDigest(D)), `sha256-${'a'.repeat(64)}`);
  assert.equal(
    digestOf(new TextEncoder().encode('{}')).text,
    'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  );
});

test('manifests: typed, size-limited, errors name the field', () => {
  const ok = parseManifest(
    new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'x', digest: D, size: 2 },
        layers: [],
        subject: { mediaType: 'y', digest: D, size: 3 },
      }),
    ),
    undefined,
    'img',
  );
  assert.equal(ok.kind, 'manifest');
  assert.equal(ok.subject?.digest.text, D);
  const bad = (v: unknown, re: RegExp) =>
    assert.throws(
      () => parseManifest(new TextEncoder().encode(JSON.stringify(v)), undefined, 'img'),
      (e: unknown) => e instanceof SignetError && re.test(e.message),
    );
  bad({ schemaVersion: 1 }, /img.schemaVersion: must be 2/);
  bad(
    {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }],
    },
    /img.manifests\[0\].digest/,
  );
  bad(
    { schemaVersion: 2, config: { mediaType: 'x', digest: D, size: -1 }, layers: [] },
    /img.config.size: must be a non-negative integer/,
  );
  bad(
    { schemaVersion: 2, mediaType: 'text/plain', layers: [] },
    /media type "text\/plain" is not an image manifest or index/,
  );
  assert.throws(
    () => parseManifest(new Uint8Array(MAX_MANIFEST_BYTES + 1), undefined, 'img'),
    /more than the 4194304 byte limit/,
  );
  assert.throws(
    () => parseManifest(new TextEncoder().encode('<html>'), 'text/html', 'img'),
    /img: the manifest is not valid JSON/,
  );
  // a duplicate key is named as such, not as JSON that does not parse
  assert.throws(
    () =>
      parseManifest(
        new TextEncoder().encode('{"schemaVersion":2,"layers":[],"layers":[]}'),
        undefined,
        'img',
      ),
    /img: the manifest has the key "layers" twice in one object/,
  );
});

test('simple-signing payload: cosign byte layout; both digest key spellings read', () => {
  const d = parseDigest(D);
  assert.equal(
    new TextDecoder().decode(buildSimpleSigning('r.io/app', d, undefined)),
    `{"critical":{"identity":{"docker-reference":"r.io/app"},"image":{"docker-manifest-digest":"${D}"},"type":"cosign container image signature"},"optional":null}`,
  );
  const withA = parseSimpleSigning(buildSimpleSigning('r.io/app', d, { k: 'v' }));
  assert.deepEqual(withA.optional, { k: 'v' });
  const upper = new TextEncoder().encode(
    `{"critical":{"identity":{"docker-reference":"r"},"image":{"Docker-manifest-digest":"${D}"},"type":"cosign container image signature"}}`,
  );
  assert.equal(parseSimpleSigning(upper).manifestDigest.text, D);
  assert.throws(
    () => parseSimpleSigning(new TextEncoder().encode('{"critical":{"type":"other"}}')),
    /critical.type/,
  );
});

test('WWW-Authenticate challenges', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.io/token",service="registry.io",scope="repository:a/b:pull"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.io/token',
        service: 'registry.io',
        scope: 'repository:a/b:pull',
      },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="signet-test"'), {
    scheme: 'basic',
    params: { realm: 'signet-test' },
  });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(null), undefined);
});
