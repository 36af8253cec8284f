// `signet dockerfile verify` and `signet manifest verify` (cosign's commands) against Debian's
// docker-registry: the images a Dockerfile or a Kubernetes manifest names, verified as `verify`
// verifies several images, with its flags and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { imageTestbed } from '../helpers/image-testbed.ts';
import { pushImage } from '../helpers/registry.ts';

const { reg, dir, run, keyed, byKey, opts } = await imageTestbed('signet-mentions-');

test(
  'dockerfile verify: every FROM image in turn; --base-image-only the last one',
  opts,
  async () => {
    const signed = pushImage(reg!, 'mention/base');
    const unsigned = pushImage(reg!, 'mention/builder');
    const s = await run(['sign', ...keyed, signed.ref]);
    assert.equal(s.status, 0, s.stderr);
    const at = signed.ref.indexOf('@');
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      [
        `FROM ${unsigned.ref} AS build`,
        'RUN make',
        `ARG BASE=${signed.ref.slice(0, at)}`,
        `FROM \${BASE}${signed.ref.slice(at)}`,
        'COPY --from=build /out /out',
      ].join('\n'),
    );
    const all = await run(['dockerfile', 'verify', ...byKey, 'Dockerfile']);
    assert.equal(all.status, 10, all.stderr); // the builder has no signature
    assert.match(
      all.stderr,
      new RegExp(`^Extracted image\\(s\\): ${unsigned.ref}, ${signed.ref}\\n`),
    );
    assert.match(all.stderr, new RegExp(`error: ${unsigned.ref}: .*no signatures`));
    const base = await run(['dockerfile', 'verify', ...byKey, '--base-image-only', 'Dockerfile']);
    assert.equal(base.status, 0, base.stderr);
    assert.match(base.stderr, new RegExp(`^Extracted image\\(s\\): ${signed.ref}\\n`));
    fs.writeFileSync(path.join(dir, 'Empty.dockerfile'), 'FROM scratch\n');
    const none = await run(['dockerfile', 'verify', ...byKey, 'Empty.dockerfile']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /^error: Empty.dockerfile: names no images\n$/);
  },
);

test(
  'manifest verify: the images of the workloads; not YAML, or no images, is one line',
  opts,
  async () => {
    const signed = pushImage(reg!, 'mention/app');
    assert.equal((await run(['sign', ...keyed, signed.ref])).status, 0);
    fs.writeFileSync(
      path.join(dir, 'deploy.yaml'),
      `apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ${signed.ref}\n`,
    );
    const ok = await run(['manifest', 'verify', ...byKey, 'deploy.yaml']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, new RegExp(`^Extracted image\\(s\\): ${signed.ref}\\n`));
    fs.writeFileSync(path.join(dir, 'cm.yaml'), 'kind: ConfigMap\ndata: {a: b}\n');
    const none = await run(['manifest', 'verify', ...byKey, 'cm.yaml']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /^error: cm.yaml: names no images\n$/);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'spec: [unclosed\n');
    const bad = await run(['manifest', 'verify', ...byKey, 'bad.yaml']);
    assert.match(bad.stderr, /^error: bad.yaml: is not YAML or JSON: /);
    const ext = await run(['manifest', 'verify', ...byKey, 'deploy.txt']);
    assert.match(ext.stderr, /^error: manifest: deploy.txt is not a .yaml, .yml or .json file\n$/);
    const missing = await run(['manifest', 'verify', ...byKey, 'missing.yaml']);
    assert.match(missing.stderr, /^error: manifest: missing.yaml does not exist/);
  },
);
