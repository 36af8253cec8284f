import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { bundleFromJSON, bundleToJSON as oracleToJSON } from '@sigstore/bundle';
import {
  bundleToJSON,
  parseBundle,
  parseBundleJSON,
  serializeBundle,
  MEDIA_TYPE_V03,
} from '../../src/bundle/index.ts';
import { SignetError } from '../../src/core/errors.ts';

const C = 'test/fixtures/conformance/';
interface Case {
  case: string;
  bundle: string;
  expect: string;
}
const cases = (JSON.parse(fs.readFileSync(C + 'cases.json', 'utf8')) as { cases: Case[] }).cases;
const read = (name: string) =>
  fs.readFileSync(`${C}bundle-verify/${name}/bundle.sigstore.json`, 'utf8');

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SignetError, `expected a SignetError, got ${String(e)}`);
    return e.field;
  }
  assert.fail('expected an error');
}

test('every well-formed conformance bundle parses, and writes back what sigstore-js writes', () => {
  let n = 0;
  const broken = new Set([
    'bundle-empty-certificate-chain_fail',
    'bundle-invalid-base64-signature_fail',
    'bundle-malformed-json_fail',
    'bundle-negative-log-index_fail',
    'bundle-unknown-version_fail',
    'intoto-missing-inclusion-proof_fail',
    'invalid-inclusion-proof_fail',
    'rekor2-no-inclusion-proof_fail',
  ]);
  for (const c of cases) {
    if (broken.has(c.case)) continue;
    const text = fs.readFileSync(C + c.bundle, 'utf8');
    const mine = bundleToJSON(parseBundleJSON(text));
    const theirs = JSON.parse(JSON.stringify(oracleToJSON(bundleFromJSON(JSON.parse(text)))));
    // sigstore-js keeps an explicitly empty timestampVerificationData object; we drop it.
    if (isDeepStrictEqual(theirs.verificationMaterial.timestampVerificationData, {}))
      delete theirs.verificationMaterial.timestampVerificationData;
    assert.deepEqual(JSON.parse(JSON.stringify(mine)), theirs, c.case);
    n++;
  }
  assert.equal(n, cases.length - broken.size);
});

test('malformed bundles are rejected with the path of the offending field', () => {
  assert.equal(
    fieldOf(() => parseBundleJSON(read('bundle-malformed-json_fail'))),
    'bundle',
  );
  assert.equal(
    fieldOf(() => parseBundleJSON(read('bundle-unknown-version_fail'))),
    'mediaType',
  );
  assert.equal(
    fieldOf(() => parseBundleJSON(read('bundle-invalid-base64-signature_fail'))),
    'messageSignature.signature',
  );
  assert.equal(
    fieldOf(() => parseBundleJSON(read('bundle-negative-log-index_fail'))),
    'verificationMaterial.tlogEntries[0].logIndex',
  );
  assert.equal(
    fieldOf(() => parseBundleJSON(read('bundle-empty-certificate-chain_fail'))),
    'verificationMaterial.x509CertificateChain.certificates',
  );
  assert.equal(
    fieldOf(() => parseBundleJSON(read('intoto-missing-inclusion-proof_fail'))),
    'verificationMaterial.tlogEntries[0].inclusionProof',
  );
  assert.equal(
    fieldOf(() => parseBundleJSON(read('invalid-inclusion-proof_fail'))),
    'verificationMaterial.tlogEntries[0].inclusionProof.checkpoint',
  );
});

test('both v0.3 media type spellings are accepted; a chain is not allowed in v0.3', () => {
  const a = parseBundleJSON(read('happy-path-v0.3'));
  const b = parseBundleJSON(read('happy-path-v0.3-new-mediaType'));
  assert.equal(a.version, '0.3');
  assert.equal(b.version, '0.3');
  assert.equal(b.mediaType, MEDIA_TYPE_V03);
  const v01 = JSON.parse(read('happy-path-v0.1'));
  v01.mediaType = MEDIA_TYPE_V03;
  // v0.3 needs an inclusion proof with checkpoint (present here) but forbids the chain
  assert.equal(
    fieldOf(() => parseBundle(v01)),
    'verificationMaterial.x509CertificateChain',
  );
});

test('snake_case field names are read as protojson does; unknown and duplicate fields are rejected', () => {
  const j = JSON.parse(read('happy-path-v0.3'));
  const snake = {
    media_type: j.mediaType,
    verification_material: {
      certificate: { raw_bytes: j.verificationMaterial.certificate.rawBytes },
      tlog_entries: j.verificationMaterial.tlogEntries.map((e: Record<string, unknown>) => ({
        log_index: e.logIndex,
        log_id: { key_id: (e.logId as { keyId: string }).keyId },
        kind_version: e.kindVersion,
        integrated_time: e.integratedTime,
        inclusion_promise: {
          signed_entry_timestamp: (e.inclusionPromise as { signedEntryTimestamp: string })
            .signedEntryTimestamp,
        },
        inclusion_proof: e.inclusionProof,
        canonicalized_body: e.canonicalizedBody,
      })),
    },
    message_signature: {
      message_digest: j.messageSignature.messageDigest,
      signature: j.messageSignature.signature,
    },
  };
  assert.deepEqual(bundleToJSON(parseBundle(snake)), bundleToJSON(parseBundle(j)));
  assert.equal(
    fieldOf(() => parseBundle({ ...j, extra: 1 })),
    'extra',
  );
  assert.equal(
    fieldOf(() => parseBundle({ ...j, media_type: j.mediaType })),
    'media_type',
  );
  const noContent = { ...j };
  delete noContent.messageSignature;
  assert.equal(
    fieldOf(() => parseBundle(noContent)),
    'messageSignature',
  );
  const noSig = structuredClone(j);
  noSig.messageSignature.signature = '';
  assert.equal(
    fieldOf(() => parseBundle(noSig)),
    'messageSignature.signature',
  );
  const badTime = structuredClone(j);
  badTime.verificationMaterial.tlogEntries[0].integratedTime = '12x';
  assert.equal(
    fieldOf(() => parseBundle(badTime)),
    'verificationMaterial.tlogEntries[0].integratedTime',
  );
  const twoSigners = structuredClone(j);
  twoSigners.verificationMaterial.publicKey = { hint: 'x' };
  assert.equal(
    fieldOf(() => parseBundle(twoSigners)),
    'verificationMaterial',
  );
  assert.equal(
    fieldOf(() => parseBundle([])),
    '(top level)',
  );
});

test('serializeBundle then parseBundleJSON gives back the same bundle', () => {
  for (const name of [
    'happy-path-v0.1',
    'happy-path-intoto-in-dsse-v3',
    'rekor2-happy-path',
    'managed-key-happy-path',
  ]) {
    const b = parseBundleJSON(read(name));
    assert.deepEqual(parseBundleJSON(serializeBundle(b)), b, name);
  }
});

test('a DSSE bundle must carry exactly one envelope signature', () => {
  const j = JSON.parse(read('happy-path-intoto-in-dsse-v3'));
  j.dsseEnvelope.signatures.push(j.dsseEnvelope.signatures[0]);
  assert.equal(
    fieldOf(() => parseBundle(j)),
    'dsseEnvelope.signatures',
  );
});

test('JSON without a media type is said not to be a bundle, not refused by its first field', () => {
  for (const other of [{ not: 'a bundle' }, { _type: 'https://in-toto.io/Statement/v1' }, {}])
    assert.throws(
      () => parseBundle(other),
      /^SignetError: mediaType: is missing: this JSON is not a Sigstore bundle$/,
    );
});

test('a legacy cosign bundle is named as such', () => {
  const legacy = {
    base64Signature: 'AAAA',
    cert: 'AAAA',
    rekorBundle: { SignedEntryTimestamp: 'AAAA', Payload: {} },
  };
  assert.throws(() => parseBundle(legacy), /legacy cosign bundle/);
  assert.equal(
    fieldOf(() => parseBundle(legacy)),
    'bundle',
  );
});
