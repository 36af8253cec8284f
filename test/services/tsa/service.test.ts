import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TimeStampResp, TSTInfo } from '@peculiar/asn1-tsp';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { Certificate, ExtendedKeyUsage } from '@peculiar/asn1-x509';
import {
  encodeTimestampRequest,
  type FailInfo,
  parseTimestamp,
  timestampStatus,
  verifyTimestamp,
} from '../../../src/core/rfc3161/index.ts';
import { bool, ctx, integer, octets, oid, seq } from '../../../src/core/encoding/der.ts';
import { decodePemAll } from '../../../src/core/encoding/pem.ts';
import { authoritiesOf, startTsa } from './helpers.ts';

let tsa: Awaited<ReturnType<typeof startTsa>>;
before(async () => {
  tsa = await startTsa();
});
after(async () => tsa.close());

const data = Buffer.from('the signature bytes a Sigstore client timestamps');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

async function postDer(body: Uint8Array, type = 'application/timestamp-query') {
  return fetch(`${tsa.url}/tsa/api/v1/timestamp`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
}
async function postJson(body: unknown) {
  return fetch(`${tsa.url}/tsa/api/v1/timestamp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

test('DER request: the token verifies, echoes the nonce, carries policy, accuracy and the TSA certificate', async () => {
  const nonce = 0x1234567890abcdef1234n;
  const res = await postDer(
    encodeTimestampRequest({ hashAlgorithm: 'sha256', digest: sha256(data), nonce, certReq: true }),
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/timestamp-reply');
  const der = new Uint8Array(await res.arrayBuffer());
  const before = Date.now();
  const v = verifyTimestamp(der, data, await authoritiesOf(tsa.tsa), {
    nonce,
    policy: '1.3.6.1.4.1.57264.2',
  });
  assert.ok(Math.abs(v.genTime.getTime() - before) < 5000);
  const t = parseTimestamp(der);
  assert.equal(t.tstInfo.nonce, nonce);
  assert.deepEqual(t.tstInfo.accuracy, { seconds: 1, millis: 0, micros: 0 });
  assert.equal(t.certificates.length, 1);
  assert.deepEqual(
    Buffer.from(t.certificates[0]!),
    Buffer.from(tsa.tsa.authority.currentChain()[0]!),
  );

  // An independent parser (@peculiar/asn1-tsp / asn1-cms) reads the same values.
  const resp = AsnConvert.parse(der, TimeStampResp);
  assert.equal(resp.status.status, 0);
  const sd = AsnConvert.parse(resp.timeStampToken!.content, SignedData);
  assert.equal(sd.encapContentInfo.eContentType, '1.2.840.113549.1.9.16.1.4');
  const tst = AsnConvert.parse(sd.encapContentInfo.eContent!.single!, TSTInfo);
  assert.equal(tst.policy, '1.3.6.1.4.1.57264.2');
  assert.deepEqual(Buffer.from(tst.messageImprint.hashedMessage.buffer), sha256(data));
  assert.equal(Buffer.from(tst.nonce!).toString('hex'), '1234567890abcdef1234');
  assert.equal(sd.signerInfos.length, 1);
  const attrs = sd.signerInfos[0]!.signedAttrs!.map((a) => a.attrType).sort();
  assert.deepEqual(attrs, [
    '1.2.840.113549.1.9.16.2.47',
    '1.2.840.113549.1.9.3',
    '1.2.840.113549.1.9.4',
  ]);
  // ESSCertIDv2 names the leaf by its SHA-256.
  assert.deepEqual(
    Buffer.from(t.signer.essCertIds[0]!.certHash),
    sha256(tsa.tsa.authority.currentChain()[0]!),
  );
  assert.ok(AsnConvert.parse(AsnConvert.serialize(resp.timeStampToken!), ContentInfo));
});

test('certReq false: no certificates in the token, and it still verifies from the trusted chain', async () => {
  const res = await postDer(
    encodeTimestampRequest({
      hashAlgorithm: 'sha512',
      digest: createHash('sha512').update(data).digest(),
    }),
  );
  assert.equal(res.status, 200);
  const der = new Uint8Array(await res.arrayBuffer());
  assert.equal(parseTimestamp(der).certificates.length, 0);
  assert.equal(parseTimestamp(der).tstInfo.nonce, undefined);
  verifyTimestamp(der, data, await authoritiesOf(tsa.tsa));
  assert.throws(() => verifyTimestamp(der, Buffer.from('other'), [] as never), /imprint/);
});

test('JSON request form (Sigstore TSA): artifactHash, hashAlgorithm, certificates, nonce', async () => {
  const res = await postJson({
    artifactHash: createHash('sha384').update(data).digest('base64'),
    hashAlgorithm: 'sha384',
    certificates: true,
    nonce: 42,
  });
  assert.equal(res.status, 200);
  const der = new Uint8Array(await res.arrayBuffer());
  const v = verifyTimestamp(der, data, await authoritiesOf(tsa.tsa), { nonce: 42n });
  assert.equal(v.timestamp.tstInfo.hashAlgorithm, 'sha384');
  assert.equal(v.timestamp.certificates.length, 1);
});

test('JSON nonce beyond 2^53 (Go marshals a big.Int as a JSON number) is echoed exactly', async () => {
  const nonce = 18446744073709551615n; // a 64-bit nonce; as a double it would be 2^64
  const res = await postJson(
    `{"artifactHash":"${sha256(data).toString('base64')}","hashAlgorithm":"sha256","nonce":${nonce}}`,
  );
  assert.equal(res.status, 200, await res.clone().text());
  const der = new Uint8Array(await res.arrayBuffer());
  verifyTimestamp(der, data, await authoritiesOf(tsa.tsa), { nonce });
  for (const bad of ['1e20', '-18446744073709551615', '18446744073709551615.5']) {
    const r = await postJson(
      `{"artifactHash":"${sha256(data).toString('base64')}","hashAlgorithm":"sha256","nonce":${bad}}`,
    );
    assert.equal(r.status, 400, bad);
    assert.equal(((await r.json()) as { field: string }).field, 'nonce', bad);
  }
});

test('GET certchain: PEM chain, leaf with the critical timeStamping EKU only, root CA last', async () => {
  const res = await fetch(`${tsa.url}/tsa/api/v1/timestamp/certchain`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pem-certificate-chain');
  const blocks = decodePemAll(await res.text(), 'chain');
  assert.equal(blocks.length, 2);
  const [leaf, root] = blocks.map((b) => new X509Certificate(b.der));
  assert.equal(leaf!.ca, false);
  assert.equal(root!.ca, true);
  assert.ok(leaf!.verify(root!.publicKey));
  assert.ok(leaf!.checkIssued(root!));
  const ext = AsnConvert.parse(blocks[0]!.der, Certificate).tbsCertificate.extensions!;
  const eku = ext.filter((e) => e.extnID === '2.5.29.37');
  assert.equal(eku.length, 1);
  assert.equal(eku[0]!.critical, true);
  assert.deepEqual(
    [...AsnConvert.parse(eku[0]!.extnValue, ExtendedKeyUsage)],
    ['1.3.6.1.5.5.7.3.8'],
  );
  assert.deepEqual(leaf!.keyUsage, ['1.3.6.1.5.5.7.3.8']);
});

/** RFC 3161 §2.4.2: a refused TimeStampReq gets a TimeStampResp with status rejection, no token. */
async function expectRejection(res: Response, failInfo: FailInfo, pattern: RegExp) {
  const der = new Uint8Array(await res.arrayBuffer());
  assert.equal(res.status, 200, Buffer.from(der).toString());
  assert.equal(res.headers.get('content-type'), 'application/timestamp-reply');
  const si = timestampStatus(der)!;
  assert.deepEqual(
    { status: si.status, failInfo: si.failInfo },
    { status: 2, failInfo: [failInfo] },
  );
  assert.match(si.statusString!, pattern);
  // An independent reader agrees on the status and the text.
  const asn = AsnConvert.parse(der, TimeStampResp);
  assert.equal(asn.status.status, 2);
  assert.equal(asn.status.statusString?.[0], si.statusString);
  assert.equal(asn.timeStampToken, undefined);
}

async function expectError(res: Response, status: number, pattern: RegExp, code?: string) {
  assert.equal(res.status, status, await res.clone().text());
  const body = (await res.json()) as { message: string; error: string };
  assert.match(body.message, pattern);
  if (code) assert.equal(body.error, code);
}

test('bad requests get a rejection or a 4xx with the reason, and the service keeps serving', async () => {
  const good = encodeTimestampRequest({ hashAlgorithm: 'sha256', digest: sha256(data) });
  // Malformed DER: truncated, garbage, trailing bytes, empty.
  await expectError(
    await postDer(good.subarray(0, good.length - 1)),
    400,
    /TimeStampReq.*truncated/,
  );
  await expectError(await postDer(Buffer.from('hello')), 400, /TimeStampReq/);
  await expectError(await postDer(Buffer.concat([good, Buffer.of(0)])), 400, /trailing bytes/);
  await expectError(await postDer(new Uint8Array(0)), 400, /empty|body/i);
  // SHA-1 is refused as weak; MD5's OID is unknown.
  const sha1 = seq(integer(1), seq(seq(oid('1.3.14.3.2.26')), octets(Buffer.alloc(20, 1))));
  await expectRejection(
    await postDer(sha1),
    'badAlg',
    /^TimeStampReq.messageImprint.hashAlgorithm: SHA-1 is too weak/,
  );
  await expectRejection(
    await postDer(seq(integer(1), seq(seq(oid('1.2.840.113549.2.5')), octets(Buffer.alloc(16))))),
    'badAlg',
    /unsupported hash algorithm 1.2.840.113549.2.5/,
  );
  await expectRejection(
    await postDer(seq(integer(2), good.subarray(5))),
    'badRequest',
    /version: must be 1, got 2/,
  );
  await expectError(
    await postJson({ artifactHash: Buffer.alloc(20).toString('base64'), hashAlgorithm: 'sha1' }),
    400,
    /SHA-1 is too weak/,
    'WEAK_HASH',
  );
  await expectError(
    await postJson({ artifactHash: Buffer.alloc(16).toString('base64'), hashAlgorithm: 'md5' }),
    400,
    /unsupported hash algorithm/,
    'UNSUPPORTED_HASH',
  );
  // A name every object inherits is no hash either (not Object's constructor in the message).
  await expectError(
    await postJson({
      artifactHash: Buffer.alloc(32).toString('base64'),
      hashAlgorithm: 'constructor',
    }),
    400,
    /^hashAlgorithm: unsupported hash algorithm constructor;/,
    'UNSUPPORTED_HASH',
  );
  // Wrong digest length for the algorithm.
  await expectRejection(
    await postDer(encodeTimestampRequest({ hashAlgorithm: 'sha256', digest: Buffer.alloc(31) })),
    'badDataFormat',
    /sha256 digest is 32 bytes, got 31/,
  );
  await expectError(
    await postJson({ artifactHash: Buffer.alloc(33).toString('base64'), hashAlgorithm: 'sha256' }),
    400,
    /artifactHash.*32 bytes, got 33/,
  );
  // Policy not accepted.
  await expectRejection(
    await postDer(
      encodeTimestampRequest({ hashAlgorithm: 'sha256', digest: sha256(data), policy: '1.2.3.4' }),
    ),
    'unacceptedPolicy',
    /^TimeStampReq\.reqPolicy: policy 1.2.3.4 is not accepted; this TSA accepts 1.3.6.1.4.1.57264.2$/,
  );
  // Each form names its own field.
  await expectError(
    await postJson({
      artifactHash: sha256(data).toString('base64'),
      hashAlgorithm: 'sha256',
      tsaPolicyOID: '1.2.3.4',
    }),
    400,
    /^tsaPolicyOID: policy 1.2.3.4 is not accepted/,
  );
  // Request extensions, critical or not (RFC 3161 §2.4.1).
  const withExt = seq(good.subarray(2), ctx(0, seq(seq(oid('1.2.3.4'), octets(Buffer.of(1))))));
  await expectRejection(
    await postDer(withExt),
    'unacceptedExtension',
    /^TimeStampReq.extensions: request extensions are not supported/,
  );
  const critical = seq(
    good.subarray(2),
    ctx(0, seq(seq(oid('1.2.3.4'), bool(true), octets(Buffer.of(1))))),
  );
  await expectRejection(await postDer(critical), 'unacceptedExtension', /not supported/);
  // JSON problems.
  await expectError(
    await postJson('{not json'),
    400,
    /^request body is not valid JSON \(a syntax error at position 1\)$/,
  );
  // The services' one JSON body reader: a key twice is refused, naming it (JSON.parse kept the
  // last, so the decoy hash here would have gone unseen).
  await expectError(
    await postJson(
      `{"artifactHash":"AAAA","artifactHash":"${sha256(data).toString('base64')}","hashAlgorithm":"sha256"}`,
    ),
    400,
    /^request body has the key "artifactHash" twice in one object$/,
  );
  await expectError(
    await postJson({ artifactHash: 'x', hashAlgorithm: 'sha256', extra: 1 }),
    400,
    /extra: unknown field/,
  );
  await expectError(
    await postJson({ artifactHash: '!!!', hashAlgorithm: 'sha256' }),
    400,
    /artifactHash.*base64/,
  );
  await expectError(
    await postJson({
      artifactHash: sha256(data).toString('base64'),
      hashAlgorithm: 'sha256',
      nonce: -1,
    }),
    400,
    /nonce/,
  );
  await expectError(await postJson([1]), 400, /JSON object/);
  // Oversized bodies.
  await expectError(
    await postDer(Buffer.alloc(20_000)),
    413,
    /larger than the limit of 16384 bytes/,
  );
  await expectError(
    await postJson({ artifactHash: 'A'.repeat(2000), hashAlgorithm: 'sha256' }),
    413,
    /limit of 1024 bytes/,
  );
  // Wrong content type.
  await expectError(await postDer(good, 'text/plain'), 415, /Content-Type/);
  await expectError(await postDer(good, 'application/xml'), 415, /Content-Type/);
  // Every refused type says what to send, not only the ones a parser exists for.
  for (const type of ['text/plain', 'application/octet-stream', 'application/timestamp-reply'])
    await expectError(
      await postDer(good, type),
      415,
      /send application\/timestamp-query \(DER\) or application\/json/,
    );
  // A request without a Content-Type says so, not that "" is unsupported.
  await expectError(
    await fetch(`${tsa.url}/tsa/api/v1/timestamp`, { method: 'POST', body: good }),
    415,
    /^no Content-Type: send application\/timestamp-query \(DER\) or application\/json$/,
  );
  // Still serving.
  const res = await postDer(good);
  assert.equal(res.status, 200);
  verifyTimestamp(new Uint8Array(await res.arrayBuffer()), data, await authoritiesOf(tsa.tsa));
});

test('trust() and signingConfig() describe the TSA in protobuf-specs JSON', async () => {
  const t = (await tsa.tsa.trust!()) as { timestampAuthorities: Array<Record<string, unknown>> };
  assert.equal(t.timestampAuthorities.length, 1);
  const a = t.timestampAuthorities[0]! as {
    uri: string;
    validFor: { start: string; end?: string };
    certChain: { certificates: unknown[] };
    subject: unknown;
  };
  assert.equal(a.uri, 'http://127.0.0.1/tsa/api/v1/timestamp');
  assert.equal(a.certChain.certificates.length, 2);
  assert.equal(a.validFor.end, undefined);
  assert.match(a.validFor.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  const s = (await tsa.tsa.signingConfig!()) as { tsaUrls: unknown[] };
  assert.deepEqual(s.tsaUrls, [
    {
      url: 'http://127.0.0.1/tsa/api/v1/timestamp',
      majorApiVersion: 1,
      validFor: { start: a.validFor.start },
      operator: 'signet',
    },
  ]);
});
