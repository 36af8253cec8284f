import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TimeStampReq, TimeStampResp, TSTInfo } from '@peculiar/asn1-tsp';
import { SignedData } from '@peculiar/asn1-cms';
import { SignetError } from '../../../src/core/errors.ts';
import { bool, ctx, integer, nullValue, octets, oid, seq } from '../../../src/core/encoding/der.ts';
import {
  createTimestampResponse,
  encodeRejection,
  encodeTimestampRequest,
  type FailInfo,
  failInfoOf,
  parseTimestamp,
  parseTimestampRequest,
  prepareTimestampSigner,
  type TimestampAuthority,
  verifyTimestamp,
} from '../../../src/core/rfc3161/index.ts';
import { issueCertificate, keyIdentifier } from '../../../src/services/tsa/certificates.ts';

const HOUR = 3600e3;
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const data = Buffer.from('signature bytes');

function pki(leafKey: KeyObject, leafOpts: Partial<Parameters<typeof issueCertificate>[0]> = {}) {
  const rootKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const name = { organization: 'test', commonName: 'root' };
  const root = issueCertificate({
    subject: name,
    issuer: name,
    subjectKey: rootKey,
    issuerKey: rootKey,
    notBefore: new Date(now.getTime() - HOUR),
    notAfter: new Date(now.getTime() + HOUR),
    ca: true,
  });
  const leaf = issueCertificate({
    subject: { organization: 'test', commonName: 'tsa' },
    issuer: name,
    subjectKey: leafKey,
    issuerKey: rootKey,
    issuerKeyId: keyIdentifier(rootKey),
    notBefore: new Date(now.getTime() - HOUR),
    notAfter: new Date(now.getTime() + HOUR),
    ca: false,
    ...leafOpts,
  });
  return {
    root,
    leaf,
    rootKey,
    authority: {
      certChain: [leaf, root],
      validFor: { start: new Date(now.getTime() - HOUR) },
    } as TimestampAuthority,
  };
}

function stamp(
  key: KeyObject,
  chain: Uint8Array[],
  opts: { genTime?: Date; nonce?: bigint; certReq?: boolean } = {},
) {
  const req = parseTimestampRequest(
    encodeTimestampRequest({
      hashAlgorithm: 'sha256',
      digest: createHash('sha256').update(data).digest(),
      nonce: opts.nonce,
      certReq: opts.certReq,
    }),
  );
  return createTimestampResponse(prepareTimestampSigner(key, chain), req, {
    genTime: opts.genTime ?? now,
    serialNumber: 0xabcdefn,
    policy: '1.3.6.1.4.1.57264.2',
    accuracySeconds: 1,
  });
}

const keys: Array<[string, () => KeyObject, string]> = [
  [
    'ECDSA P-256',
    () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    '1.2.840.10045.4.3.2',
  ],
  [
    'ECDSA P-384',
    () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
    '1.2.840.10045.4.3.3',
  ],
  [
    'RSA 2048',
    () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    '1.2.840.113549.1.1.11',
  ],
  ['Ed25519', () => generateKeyPairSync('ed25519').privateKey, '1.3.101.112'],
];

for (const [label, make, sigOid] of keys) {
  test(`issues a token with a ${label} TSA key that verifies and that asn1-tsp reads`, () => {
    const key = make();
    const { leaf, root, authority } = pki(key);
    const der = stamp(key, [leaf, root], { nonce: 7n, certReq: true });
    const v = verifyTimestamp(der, data, [authority], { nonce: 7n });
    assert.equal(v.genTime.getTime(), now.getTime());
    assert.equal(v.timestamp.signer.signatureAlgorithmOid, sigOid);
    const resp = AsnConvert.parse(der, TimeStampResp);
    const sd = AsnConvert.parse(resp.timeStampToken!.content, SignedData);
    const tst = AsnConvert.parse(sd.encapContentInfo.eContent!.single!, TSTInfo);
    assert.equal(tst.genTime.getTime(), now.getTime());
    assert.equal(tst.accuracy?.seconds, 1);
    assert.equal(Buffer.from(tst.serialNumber).toString('hex'), '00abcdef'); // DER: positive INTEGER with the top bit set
    assert.equal(sd.signerInfos[0]!.signatureAlgorithm.algorithm, sigOid);
  });
}

test('genTime is DER GeneralizedTime in whole seconds (what sigstore-js parses)', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const { leaf, root } = pki(key);
  const der = Buffer.from(
    stamp(key, [leaf, root], { genTime: new Date('2026-01-02T03:04:05.678Z') }),
  );
  assert.ok(der.includes(Buffer.from('\x18\x0f20260102030405Z', 'latin1')));
  assert.equal(parseTimestamp(der).tstInfo.genTime.toISOString(), '2026-01-02T03:04:05.000Z');
});

test('the TSA certificate must be an end entity with only a critical timeStamping EKU', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  for (const eku of [
    null,
    { critical: false, oids: ['1.3.6.1.5.5.7.3.8'] },
    { critical: true, oids: ['1.3.6.1.5.5.7.3.8', '1.3.6.1.5.5.7.3.3'] },
    { critical: true, oids: ['1.3.6.1.5.5.7.3.3'] },
  ]) {
    const { leaf, root, authority } = pki(key, { extKeyUsage: eku });
    const der = stamp(key, [leaf, root]);
    assert.throws(
      () => verifyTimestamp(der, data, [authority]),
      (e: unknown) =>
        e instanceof SignetError &&
        e.code === 'TIMESTAMP_CHAIN' &&
        /exactly one extended key usage|not valid for timestamping \(extended key usage\)/.test(
          e.message,
        ),
      JSON.stringify(eku),
    );
  }
  // A trusted chain that starts with a CA names no TSA certificate (sigstore-go reads it so):
  // the token's own is taken, and refused for being a CA.
  const { leaf, root, authority } = pki(key, { ca: true });
  assert.throws(
    () => verifyTimestamp(stamp(key, [leaf, root], { certReq: true }), data, [authority]),
    /is a CA certificate/,
  );
});

test('genTime outside the TSA certificate validity or the trusted window fails', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const { leaf, root, authority } = pki(key);
  const late = stamp(key, [leaf, root], { genTime: new Date(now.getTime() + 2 * HOUR) });
  assert.throws(
    () => verifyTimestamp(late, data, [authority]),
    (e: unknown) =>
      e instanceof SignetError && e.code === 'TIMESTAMP_CHAIN' && /not valid at/.test(e.message),
  );
  const early = stamp(key, [leaf, root], { genTime: new Date(now.getTime() - 2 * HOUR) });
  assert.throws(
    () => verifyTimestamp(early, data, [authority]),
    /no timestamp authority .* valid at/,
  );
});

test('ESSCertIDv2 must name the trusted certificate, not just any certificate with the same key and serial', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const serial = Buffer.from('0102030405', 'hex');
  const a = pki(key, { serial });
  // Another certificate for the same key, same issuer name and serial, from another root.
  const b = pki(key, { serial });
  const der = stamp(key, [a.leaf, a.root]);
  verifyTimestamp(der, data, [a.authority]);
  assert.throws(
    () => verifyTimestamp(der, data, [b.authority]),
    (e: unknown) =>
      e instanceof SignetError &&
      e.code === 'TIMESTAMP_SIGNED_ATTRS' &&
      /ESS signing-certificate/.test(e.message),
  );
});

test('a token signed by a key other than the trusted leaf fails the signature check', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const { leaf, root, authority } = pki(key);
  const der = stamp(other, [leaf, root]);
  assert.throws(
    () => verifyTimestamp(der, data, [authority]),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_SIGNATURE',
  );
});

test('a rejection response is reported with its status and text', () => {
  const rejection = seq(seq(integer(2), seq(Buffer.from([0x0c, 3, 0x62, 0x61, 0x64]))));
  assert.throws(() => parseTimestamp(rejection), /did not grant the timestamp: rejection: bad$/);
  // With the failInfo bit, as Signet's TSA and OpenSSL's responder write it.
  assert.throws(
    () => parseTimestamp(encodeRejection('unacceptedPolicy', 'no such policy')),
    /TimeStampResp.status: the TSA did not grant the timestamp: rejection \(unacceptedPolicy\): no such policy$/,
  );
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  assert.throws(
    () => verifyTimestamp(rejection, data, [pki(key).authority]),
    (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_MALFORMED',
  );
});

test('TimeStampReq round trip with an independent parser, and each malformed field named', () => {
  const digest = createHash('sha384').update(data).digest();
  const der = encodeTimestampRequest({
    hashAlgorithm: 'sha384',
    digest,
    policy: '1.2.3',
    nonce: 99n,
    certReq: true,
  });
  const asn = AsnConvert.parse(der, TimeStampReq);
  assert.equal(asn.reqPolicy, '1.2.3');
  assert.equal(asn.certReq, true);
  assert.deepEqual(Buffer.from(asn.messageImprint.hashedMessage.buffer), digest);
  const r = parseTimestampRequest(der);
  assert.deepEqual(
    { h: r.hashAlgorithm, p: r.policy, n: r.nonce, c: r.certReq, e: r.hasExtensions },
    { h: 'sha384', p: '1.2.3', n: 99n, c: true, e: false },
  );

  const imprint = seq(seq(oid('2.16.840.1.101.3.4.2.1'), nullValue()), octets(Buffer.alloc(32)));
  // With the failInfo bit a TSA answers each refusal with (RFC 3161 §2.4.2, as OpenSSL's
  // responder chooses them); none where the bytes are not a TimeStampReq at all.
  const bad: Array<[Uint8Array, RegExp, FailInfo | undefined]> = [
    [seq(integer(2), imprint), /TimeStampReq.version: must be 1, got 2/, 'badRequest'],
    [
      seq(
        integer(1),
        seq(seq(oid('2.16.840.1.101.3.4.2.1'), integer(0)), octets(Buffer.alloc(32))),
      ),
      /hashAlgorithm.parameters: must be absent or NULL/,
      'badAlg',
    ],
    [
      seq(integer(1), seq(seq(oid('1.2.840.113549.2.5')), octets(Buffer.alloc(16)))),
      /unsupported hash algorithm 1.2.840.113549.2.5/,
      'badAlg',
    ],
    [
      seq(integer(1), seq(seq(oid('2.16.840.1.101.3.4.2.1')), octets(Buffer.alloc(31)))),
      /hashedMessage: a sha256 digest is 32 bytes, got 31/,
      'badDataFormat',
    ],
    [
      seq(integer(1), imprint, Buffer.from([0x01, 0x01, 0x01])),
      /certReq: not a DER BOOLEAN/,
      'badDataFormat',
    ],
    [seq(integer(1), imprint, bool(true), integer(5)), /unexpected field at position 3/, undefined],
    [
      seq(integer(1), imprint, Buffer.from([0x02, 0x01, 0xff])),
      /nonce: must not be negative/,
      'badRequest',
    ],
    [
      seq(integer(1), imprint, Buffer.from([0x02, 0x02, 0x00, 0x01])),
      /nonce: is not a minimally encoded/,
      'badDataFormat',
    ],
    [seq(integer(1), imprint, integer(1n << 160n)), /nonce: is longer than 160 bits/, 'badRequest'],
    [seq(integer(1)), /messageImprint: missing/, undefined],
    [Buffer.from([0x30, 0x80, 0, 0]), /indefinite length/, undefined],
    [seq(integer(1), imprint, ctx(0)), /^/, undefined],
  ];
  for (const [input, msg, failInfo] of bad.slice(0, -1))
    assert.throws(
      () => parseTimestampRequest(input),
      (e: unknown) => e instanceof SignetError && msg.test(e.message) && failInfoOf(e) === failInfo,
      String(msg),
    );
  // An empty extensions field is allowed and means no extensions.
  assert.equal(parseTimestampRequest(bad.at(-1)![0]).hasExtensions, false);
});

test('the TSA chain is remembered between calls, its checks are not: validity at genTime and a bad link fail after a good call', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const { leaf, root, authority } = pki(key);
  verifyTimestamp(stamp(key, [leaf, root]), data, [authority]); // fills the caches
  const late = stamp(key, [leaf, root], { genTime: new Date(now.getTime() + 2 * HOUR) });
  assert.throws(
    () => verifyTimestamp(late, data, [{ ...authority, certChain: [...authority.certChain] }]),
    (e: unknown) =>
      e instanceof SignetError && e.code === 'TIMESTAMP_CHAIN' && /not valid at/.test(e.message),
  );
  // the same TSA certificate under a root that did not sign it: refused, call after call
  const other = pki(key);
  const mixed: TimestampAuthority = { ...authority, certChain: [leaf, other.root] };
  for (let i = 0; i < 2; i++)
    assert.throws(
      () => verifyTimestamp(stamp(key, [leaf, root]), data, [mixed]),
      (e: unknown) => e instanceof SignetError && e.code === 'TIMESTAMP_CHAIN',
    );
});
