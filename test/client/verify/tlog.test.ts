import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  verifyEntryBody,
  verifyInclusionProof,
  verifySet,
} from '../../../src/client/verify/index.ts';
import type { EntryExpectation } from '../../../src/client/verify/tlog.ts';
import type { TransparencyLogEntry, TransparencyLogInstance } from '../../../src/bundle/index.ts';
import { pae } from '../../../src/core/dsse/index.ts';
import { code } from './helpers.ts';

const te = new TextEncoder();
const payload = te.encode('{"_type":"https://in-toto.io/Statement/v1"}');
const signed = pae('application/vnd.in-toto+json', payload);
const cert = Uint8Array.of(1, 2, 3, 4);
const sig = Uint8Array.of(9, 9, 9);
const exp: EntryExpectation = {
  signature: sig,
  signer: { kind: 'certificate', der: cert },
  content: {
    kind: 'dsse',
    payload,
    payloadType: 'application/vnd.in-toto+json',
    pae: signed,
    keyHash: 'sha384',
  },
};
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function entry(alg: string, digest: Uint8Array, signature = sig): TransparencyLogEntry {
  const body = {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: alg, digest: b64(digest) },
        signature: {
          content: b64(signature),
          verifier: {
            x509Certificate: { rawBytes: b64(cert) },
            keyDetails: 'PKIX_ECDSA_P384_SHA_384',
          },
        },
      },
    },
  };
  return {
    logIndex: 0,
    logId: new Uint8Array(32),
    kind: 'hashedrekord',
    kindVersion: '0.0.2',
    integratedTime: 0,
    signedEntryTimestamp: undefined,
    inclusionProof: undefined,
    canonicalizedBody: te.encode(JSON.stringify(body)),
  };
}

test('a Rekor v2 hashedrekord for DSSE records the PAE digest under the algorithm it names', () => {
  const h = (alg: string) => new Uint8Array(createHash(alg).update(signed).digest());
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_256', h('sha256')), exp)),
    'ok',
  );
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_384', h('sha384')), exp)),
    'ok',
  );
  // a digest under the wrong name, another payload's digest, an unknown algorithm
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_384', h('sha256')), exp)),
    'TLOG_BODY_MISMATCH',
  );
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_256', new Uint8Array(32)), exp)),
    'TLOG_BODY_MISMATCH',
  );
  assert.equal(
    code(() => verifyEntryBody(entry('MD5', h('sha256')), exp)),
    'TLOG_BODY_MISMATCH',
  );
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_256', h('sha256'), Uint8Array.of(1)), exp)),
    'TLOG_BODY_MISMATCH',
  );
  // the body's kind/version must be what the bundle says
  const e = entry('SHA2_256', h('sha256'));
  assert.equal(
    code(() => verifyEntryBody({ ...e, kindVersion: '0.0.1' }, exp)),
    'TLOG_BODY_MISMATCH',
  );
  assert.equal(
    code(() => verifyEntryBody({ ...e, kind: 'dsse' }, exp)),
    'TLOG_BODY_MISMATCH',
  );
  assert.throws(
    () => verifyEntryBody({ ...e, kind: 'intoto' }, exp),
    /body is of kind hashedrekord 0\.0\.2 but the bundle says intoto 0\.0\.2/,
  );
});

test("a Rekor v2 hashedrekord for DSSE names sha256 or the signing key's hash, nothing else", () => {
  const h = (alg: string) => new Uint8Array(createHash(alg).update(signed).digest());
  const p256: EntryExpectation = {
    ...exp,
    content: { ...exp.content, keyHash: 'sha256' } as EntryExpectation['content'],
  };
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_256', h('sha256')), p256)),
    'ok',
  );
  // a P-256 key is never logged with SHA-384/512 (rekor-tiles: digest length follows keyDetails)
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_384', h('sha384')), p256)),
    'TLOG_BODY_MISMATCH',
  );
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_512', h('sha512')), p256)),
    'TLOG_BODY_MISMATCH',
  );
  // a P-384 key: its own SHA-384, or SHA-256 as sigstore-js reads it; not SHA-512
  assert.equal(
    code(() => verifyEntryBody(entry('SHA2_512', h('sha512')), exp)),
    'TLOG_BODY_MISMATCH',
  );
  assert.throws(
    () => verifyEntryBody(entry('SHA2_512', h('sha512')), exp),
    /records a sha512 digest of the DSSE envelope; a signing key of this type is logged with sha256 or sha384/,
  );
});

test('an algorithm name that is an Object prototype member is an unknown algorithm', () => {
  for (const name of ['constructor', 'toString', '__proto__'])
    assert.throws(
      () => verifyEntryBody(entry(name, new Uint8Array(32)), exp),
      /records a digest with an unknown algorithm/,
    );
});

test('an entry without a SET or an inclusion proof is refused, not a TypeError', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const log: TransparencyLogInstance = {
    baseUrl: 'http://rekor.test',
    hashAlgorithm: 'SHA2_256',
    keyDetailsName: 'PKIX_ECDSA_P256_SHA_256',
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    publicKey,
    rawBytes: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
    validFor: { start: new Date(0), end: undefined },
    logId: new Uint8Array(32),
    checkpointKeyId: undefined,
    operator: undefined,
  };
  const e = entry('SHA2_256', new Uint8Array(32));
  assert.equal(
    code(() => verifySet(e, log)),
    'TLOG_SET',
  );
  assert.equal(
    code(() => verifyInclusionProof(e, log)),
    'TLOG_INCLUSION_PROOF',
  );
});

test('a v1 entry names its signer as base64 of PEM: any PEM layout of the same DER, nothing else', () => {
  const der = Uint8Array.from({ length: 200 }, (_, i) => i);
  const digest = createHash('sha256').update('artifact').digest();
  const expectation: EntryExpectation = {
    signature: sig,
    signer: { kind: 'certificate', der },
    content: { kind: 'message', algorithm: 'sha256', digest },
  };
  const pem = (d: Uint8Array, width: number, eol: string) => {
    const lines = b64(d).match(new RegExp(`.{1,${width}}`, 'g'))!;
    return `-----BEGIN CERTIFICATE-----${eol}${lines.join(eol)}${eol}-----END CERTIFICATE-----${eol}`;
  };
  const v1 = (pemText: string): TransparencyLogEntry => ({
    logIndex: 0,
    logId: new Uint8Array(32),
    kind: 'hashedrekord',
    kindVersion: '0.0.1',
    integratedTime: 0,
    signedEntryTimestamp: undefined,
    inclusionProof: undefined,
    canonicalizedBody: te.encode(
      JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
          signature: {
            content: b64(sig),
            publicKey: { content: Buffer.from(pemText).toString('base64') },
          },
        },
      }),
    ),
  });
  const other = der.map((x) => x ^ 1);
  assert.equal(
    code(() => verifyEntryBody(v1(pem(der, 64, '\n')), expectation)),
    'ok',
  );
  // Twice: the second time the signer's own PEM text is known.
  assert.equal(
    code(() => verifyEntryBody(v1(pem(der, 64, '\n')), expectation)),
    'ok',
  );
  assert.equal(
    code(() => verifyEntryBody(v1(pem(der, 76, '\r\n')), expectation)),
    'ok',
  );
  for (const text of [pem(other, 64, '\n'), pem(other, 76, '\r\n'), 'not PEM'])
    assert.equal(
      code(() => verifyEntryBody(v1(text), expectation)),
      'TLOG_BODY_MISMATCH',
    );
});
