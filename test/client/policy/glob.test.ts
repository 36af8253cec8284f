// Image globs with policy-controller's semantics: its own test table
// (pkg/apis/glob/glob_test.go, TestGlobMatch), plus path/ref globs and reference parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileImageGlob,
  compilePathGlob,
  globMatches,
  imageGlobMatches,
  parseImageReference,
} from '../../../src/client/policy/glob.ts';
import { SignetError } from '../../../src/core/errors.ts';

function match(glob: string, image: string): boolean | 'error' {
  try {
    return imageGlobMatches(compileImageGlob(glob, 'glob'), parseImageReference(image, 'image'));
  } catch (e) {
    assert.ok(e instanceof SignetError);
    return 'error';
  }
}

const D = 'sha256:5504f2a95018e3d8a52d80d9e1a128c6ea337581808ff9fe96f5628ce2336350';
const TABLE: Array<[string, string, boolean | 'error']> = [
  ['foo', 'index.docker.io/library/foo:latest', true],
  ['foo', 'index.docker.io/library/foo:*', true],
  ['foo', 'index.docker.io/library/*', true],
  ['foo', 'index.docker.io/library/*:latest', true],
  ['foo', 'index.docker.io/*/*', true],
  ['foo', 'index.docker.io/**', true],
  ['foo', 'index.docker.**', true],
  ['foo', 'inde**', true],
  ['foo', '**', true],
  ['foo', 'foo', true],
  ['foo', 'foo*', true],
  ['foo', 'foo**', true],
  ['myuser/myapp', 'index.docker.io/myuser/myapp:latest', true],
  ['myuser/myapp', 'index.docker.io/myuser/myapp:*', true],
  ['myuser/myapp', 'index.docker.io/myuser/*', true],
  ['myuser/myapp', 'index.docker.io/myuser/*:latest', true],
  ['myuser/myapp', 'index.docker.io/*/*', true],
  ['myuser/myapp', 'index.docker.io/**', true],
  ['myuser/myapp', 'index.docker.**', true],
  ['myuser/myapp', 'inde**', true],
  ['myuser/myapp', '**', true],
  ['myuser/myapp', 'myuser/myapp', true],
  ['myuser/myapp', 'myuser/myapp*', true],
  ['myuser/myapp', 'myuser/myapp**', true],
  ['ghcr.io/foo/bar', 'ghcr.io/*/*', true],
  ['ghcr.io/foo/bar', 'ghcr.io/**', true],
  ['ghcr.io/foo', 'ghcr.io/*/*', false],
  ['ghcr.io/foo', 'ghcr.io/**', true],
  ['ghcr.io/foo', 'ghc**', true],
  ['ghcr.io/foo', '**', true],
  ['ghcr.io/foo', '*/**', true],
  ['ghcr.io/foo', 'ghcr.io/foo*', true],
  ['ghcr.io/foo', 'ghcr.io/foo**', true],
  ['prefix-ghcr.io/foo', 'ghcr.io/foo', false],
  ['ghcr.io/foo-suffix', 'ghcr.io/foo', false],
  ['ghcrxio/foo', 'ghcr.io/**', false],
  ['invalid&name', '**', 'error'],
  ['invalid-glob', '.+', 'error'],
  ['invalid-glob', '[a-z]*', 'error'],
  ['foo', '*', true],
  ['myuser/myapp', '*/*', true],
  [`ghcr.io/foo@${D}`, `ghcr.io/foo@${D}`, true],
];

test("policy-controller's glob table", () => {
  for (const [image, glob, want] of TABLE)
    assert.equal(match(glob, image), want, `${glob} vs ${image}`);
});

test('a tag is not a separator: `*` spans it, `:**` is any tag; a digest glob needs the digest', () => {
  assert.equal(match('ghcr.io/org/app:*', 'ghcr.io/org/app:v1.2'), true);
  assert.equal(match('ghcr.io/org/app', 'ghcr.io/org/app:v1.2'), false);
  assert.equal(match('ghcr.io/org/app:**', `ghcr.io/org/app@${D}`), false);
  assert.equal(match('ghcr.io/org/app@**', `ghcr.io/org/app@${D}`), true);
  // the digest a tag resolved to is matched as well
  const g = compileImageGlob(`ghcr.io/org/app@${D}`, 'g');
  const ref = parseImageReference('ghcr.io/org/app:v1', 'i');
  assert.equal(imageGlobMatches(g, ref), false);
  assert.equal(imageGlobMatches(g, ref, [`ghcr.io/org/app@${D}`]), true);
});

test('a registry host in another case or with port 443 is the same registry: the glob still covers it', () => {
  for (const image of [
    `REGISTRY.EXAMPLE/prod/app@${D}`,
    `Registry.example/prod/app:v1`,
    `registry.example:443/prod/app@${D}`,
    `REGISTRY.example:443/prod/app:v1`,
  ])
    assert.equal(match('registry.example/prod/**', image), true, image);
  // another port is another registry; the repository path keeps its case rule
  assert.equal(match('registry.example/prod/**', 'registry.example:5000/prod/app:v1'), false);
  assert.equal(
    parseImageReference('REGISTRY.EXAMPLE:443/a/b:1', 'i').name,
    'registry.example/a/b:1',
  );
  // a port with leading zeros is the port it reads as (Go, the registry client): 0443 is 443
  for (const image of [`registry.example:0443/prod/app@${D}`, 'registry.example:00443/prod/a:1'])
    assert.equal(match('registry.example/prod/**', image), true, image);
  assert.equal(match('127.0.0.1:2600/**', '127.0.0.1:02600/prod/app:v1'), true);
  assert.equal(parseImageReference('127.0.0.1:02600/a/b:1', 'i').name, '127.0.0.1:2600/a/b:1');
  for (const bad of ['127.0.0.1:0/a/b', '127.0.0.1:65536/a/b', '127.0.0.1:70000/a'])
    assert.throws(
      () => parseImageReference(bad, 'image'),
      /^SignetError: image: .*not a port number/,
      bad,
    );
});

test('image references are qualified as go-containerregistry does', () => {
  assert.equal(parseImageReference('busybox', 'i').name, 'index.docker.io/library/busybox:latest');
  assert.equal(parseImageReference('docker.io/a/b:1', 'i').name, 'index.docker.io/a/b:1');
  assert.equal(parseImageReference('localhost/ab', 'i').registry, 'localhost');
  assert.equal(parseImageReference('127.0.0.1:5000/a/b', 'i').name, '127.0.0.1:5000/a/b:latest');
  for (const bad of ['', 'UPPER/case', 'a@sha256:12', 'a:b c', 'ghcr.io//x'])
    assert.throws(() => parseImageReference(bad, 'image'), /^SignetError: image: /);
});

test('path and ref globs: * stays within a segment, ** crosses, the rest is literal', () => {
  const g = compilePathGlob('dist/*.tgz', 'p');
  assert.equal(globMatches(g, 'dist/app.tgz'), true);
  assert.equal(globMatches(g, 'dist/sub/app.tgz'), false);
  assert.equal(globMatches(g, 'dist/appXtgz'), false, '. is literal');
  assert.equal(globMatches(compilePathGlob('refs/tags/v*', 'r'), 'refs/tags/v1.0'), true);
  assert.equal(globMatches(compilePathGlob('refs/tags/v*', 'r'), 'refs/heads/v1'), false);
  assert.equal(globMatches(compilePathGlob('a/(b)+', 'r'), 'a/(b)+'), true);
  assert.throws(() => compilePathGlob('a/***', 'spec.blobs[0].path'), /spec\.blobs\[0\]\.path/);
});
