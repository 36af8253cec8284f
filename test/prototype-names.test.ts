/**
 * Names from input that are members of Object.prototype (`constructor`, `toString`,
 * `__proto__`, `hasOwnProperty`) are not entries of the tables they are looked up in: a bundle
 * media type, a trusted root key type, a predicate type, an admitted resource, a policy's
 * resource. Each was once found there (Object.prototype's member), and went on as if known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseBundleJSON, parseTrustedRoot } from '../src/bundle/index.ts';
import { predicateTypeOf } from '../src/client/sign/predicate.ts';
import { parseAdmissionReview } from '../src/client/policy/admission-review.ts';
import { loadPolicies } from '../src/client/policy/index.ts';
import { SignetError } from '../src/core/errors.ts';
import { parseProposedEntryV1 } from '../src/core/rekor/v1.ts';
import { generateKeyPairSync } from 'node:crypto';

const NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
const C = 'test/fixtures/conformance/';

function refusedAt(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    return e.field;
  }
  assert.fail('expected a refusal');
}

test('a bundle media type or a trusted root key type named like an Object member is unknown', () => {
  const bundle = JSON.parse(
    fs.readFileSync(`${C}bundle-verify/happy-path-v0.3/bundle.sigstore.json`, 'utf8'),
  );
  const root = JSON.parse(fs.readFileSync(`${C}trust-roots/production/trusted_root.json`, 'utf8'));
  for (const name of NAMES) {
    assert.equal(
      refusedAt(() => parseBundleJSON(JSON.stringify({ ...bundle, mediaType: name }))),
      'mediaType',
    );
    const r = structuredClone(root);
    r.tlogs[0].publicKey.keyDetails = name;
    assert.equal(
      refusedAt(() => parseTrustedRoot(r)),
      'tlogs[0].publicKey.keyDetails',
    );
  }
});

test('a predicate type, an admitted resource or a policy resource named like an Object member is unknown', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-proto-'));
  for (const name of NAMES) {
    assert.equal(
      refusedAt(() => predicateTypeOf(name)),
      '--type',
    );
    const review = parseAdmissionReview({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        operation: 'CREATE',
        resource: { group: '', version: 'v1', resource: name },
        object: { spec: {} },
      },
    });
    assert.equal(review.ignored, true, `${name}: no pod spec to decide`);
    const f = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(
      f,
      `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: "a/**"}]\n  authorities: [{static: {action: pass}}]\n  match: [{resource: "${name}", version: v1}]\n`,
    );
    await assert.rejects(loadPolicies([f]), /spec\.match\[0\]\.resource/);
  }
});

test('a Rekor entry whose hash algorithm is named like an Object member is refused by that field', () => {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    format: 'pem',
    type: 'spki',
  });
  for (const name of NAMES)
    assert.equal(
      refusedAt(() =>
        parseProposedEntryV1({
          apiVersion: '0.0.1',
          kind: 'hashedrekord',
          spec: {
            data: { hash: { algorithm: name, value: 'ab'.repeat(32) } },
            signature: {
              content: 'MEUCIQ==',
              publicKey: { content: Buffer.from(pem).toString('base64') },
            },
          },
        }),
      ),
      'spec.data.hash.algorithm',
    );
});
