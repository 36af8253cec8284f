import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extensionOf } from '../../../src/core/x509/certificate.ts';
import {
  decodeFulcioExtension,
  encodeFulcioExtension,
  FULCIO_EXTENSION_ORDER,
  fulcioExtensions,
  fulcioIssuer,
  fulcioOid,
  namedFulcioExtensions,
} from '../../../src/core/x509/fulcio-extensions.ts';
import { loadFixture } from './fixtures.ts';

test('decodes every Fulcio extension of a real GitHub Actions certificate', () => {
  const c = loadFixture('happy-path-v0.3').leaf;
  const x = namedFulcioExtensions(c);
  assert.equal(x.issuer, 'https://token.actions.githubusercontent.com');
  assert.equal(x.issuerV2, 'https://token.actions.githubusercontent.com');
  assert.equal(x.githubWorkflowTrigger, 'workflow_dispatch');
  assert.equal(x.githubWorkflowRef, 'refs/heads/main');
  assert.equal(
    x.githubWorkflowRepository,
    'sigstore-conformance/extremely-dangerous-public-oidc-beacon',
  );
  assert.equal(x.sourceRepositoryRef, 'refs/heads/main');
  assert.equal(
    x.sourceRepositoryUri,
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon',
  );
  assert.equal(x.runnerEnvironment, 'github-hosted');
  assert.match(x.sourceRepositoryDigest!, /^[0-9a-f]{40}$/);
  assert.equal(x.sourceRepositoryDigest, x.githubWorkflowSha);
  assert.equal(fulcioIssuer(c), 'https://token.actions.githubusercontent.com');
  assert.equal(
    fulcioIssuer(loadFixture('integrated-time-in-future_fail').leaf),
    'https://accounts.google.com',
  );
});

test('encoding reproduces the real extension bytes, raw for .1-.6 and UTF8String for .8-.24', () => {
  const c = loadFixture('happy-path-v0.3').leaf;
  const values = fulcioExtensions(c);
  let n = 0;
  for (const arc of FULCIO_EXTENSION_ORDER) {
    const v = values[arc];
    if (v === undefined) continue;
    const real = extensionOf(c, fulcioOid(arc))!;
    assert.equal(real.critical, false);
    assert.deepEqual(encodeFulcioExtension(arc, v), real.value, `arc ${arc}`);
    n++;
  }
  assert.equal(n, 21);
  assert.deepEqual([...encodeFulcioExtension(1, 'ab')], [0x61, 0x62]);
  assert.deepEqual([...encodeFulcioExtension(8, 'ab')], [0x0c, 0x02, 0x61, 0x62]);
  const long = 'x'.repeat(200);
  assert.deepEqual([...encodeFulcioExtension(24, long).subarray(0, 3)], [0x0c, 0x81, 200]);
  assert.equal(decodeFulcioExtension(24, encodeFulcioExtension(24, long), 'f'), long);
});

test('bad extension values are errors naming the field', () => {
  assert.throws(() => decodeFulcioExtension(8, new TextEncoder().encode('raw'), 'ext8'), /ext8/);
  assert.throws(
    () => decodeFulcioExtension(9, new Uint8Array([0x13, 0x01, 0x61]), 'ext9'),
    /ext9: is not a single DER UTF8String/,
  );
  assert.throws(
    () => decodeFulcioExtension(9, new Uint8Array([0x0c, 0x01, 0x61, 0x00]), 'ext9'),
    /ext9/,
  );
  assert.throws(
    () => decodeFulcioExtension(2, new Uint8Array([0xff]), 'ext2'),
    /ext2: is not valid UTF-8/,
  );
});
