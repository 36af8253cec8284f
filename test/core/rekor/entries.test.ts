import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { verifyDigestBatch } from '../../../src/core/crypto/verify.ts';
import { SignetError } from '../../../src/core/errors.ts';
import { canonicalBytes } from '../../../src/core/encoding/canonical-json.ts';
import { pae } from '../../../src/core/dsse/index.ts';
import {
  entryId,
  hashedRekordV001Body,
  parseCreateEntryRequestV2,
  parseEntryRef,
  parseProposedEntryV1,
  setPayload,
  treeIdForKey,
  v1LogEntryJson,
} from '../../../src/core/rekor/index.ts';
import {
  b64,
  certificateFor,
  dsseEnvelope,
  dsseV1,
  dsseV2,
  ecSigner,
  hashedRekordV1,
  hashedRekordV2,
  intotoV2,
  signerOf,
  statement,
} from '../../services/rekor/fixtures.ts';
import { compressed, EXPLICIT_P256 } from '../../helpers/ec-forms.ts';
import { encodePem } from '../../../src/core/encoding/pem.ts';

function fails(f: () => unknown, field: string, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SignetError, String(e));
    assert.equal(e.field, field, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const text = (b: Uint8Array) => Buffer.from(b).toString();

describe('Rekor entry identifiers', () => {
  it('parses UUIDs and entry IDs, and nothing else', () => {
    const uuid = 'ab'.repeat(32);
    assert.deepEqual(parseEntryRef(uuid.toUpperCase(), 'id'), { uuid });
    const id = entryId(1193050959916656506n, uuid);
    assert.equal(id.slice(0, 16), '108e9186e8c5677a', 'the production tree ID prefix');
    assert.deepEqual(parseEntryRef(id, 'id'), { uuid, treeId: 1193050959916656506n });
    for (const bad of ['', 'ab', 'zz'.repeat(32), 'a'.repeat(63), 'a'.repeat(81)])
      fails(() => parseEntryRef(bad, 'id'), 'id', /UUID/);
  });

  it('derives a stable positive int64 tree ID from the key', () => {
    const k = ecSigner();
    const a = treeIdForKey(k.spki);
    assert.equal(a, treeIdForKey(k.spki));
    assert.ok(a > 0n && a < 1n << 63n);
    assert.notEqual(a, treeIdForKey(ecSigner().spki));
  });
});

describe('Rekor v1 kinds', () => {
  it('hashedrekord with a certificate chain keeps every certificate and indexes the identity', () => {
    const s = ecSigner();
    const leaf = certificateFor(s, 'Dev@Example.COM', 'https://token.example');
    const other = certificateFor(ecSigner());
    const p = parseProposedEntryV1(
      hashedRekordV1(s, Buffer.from('x'), { pem: leaf.pem + other.pem }),
    );
    const body = JSON.parse(text(p.body)) as {
      spec: { signature: { publicKey: { content: string } } };
    };
    assert.equal(
      Buffer.from(body.spec.signature.publicKey.content, 'base64').toString(),
      leaf.pem + other.pem,
    );
    // The identity exactly as the certificate has it; the email also case-folded for v1 search.
    assert.ok(p.searchKeys.includes('identity:Dev@Example.COM'));
    assert.ok(p.searchKeys.includes('email:dev@example.com'));
    assert.ok(!p.searchKeys.includes('identity:dev@example.com'));
    assert.ok(p.searchKeys.includes('issuer:https://token.example'));
    assert.ok(p.searchKeys.includes(`key:${createHash('sha256').update(s.spki).digest('hex')}`));
    assert.deepEqual(verifyDigestBatch(p.pending), [true], 'the leaf verifies');
  });

  it('JCS body: sorted keys, no whitespace, exactly the canonical fields', () => {
    const s = ecSigner();
    const req = hashedRekordV1(s, Buffer.from('x'));
    const p = parseProposedEntryV1(req);
    const t = text(p.body);
    assert.ok(
      t.startsWith(
        '{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"',
      ),
    );
    assert.ok(!/\s/.test(t));
  });

  it('the written-out hashedrekord body and SET payload are exactly the general JCS encoding', () => {
    for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
      const s = ecSigner();
      const req = hashedRekordV1(s, Buffer.from(`artifact ${alg}`));
      const hex = createHash(alg).update(Buffer.from('y')).digest('hex');
      req.spec.data.hash = { algorithm: alg, value: hex };
      // the key's PEM given with CRLF line ends: the body carries the canonical PEM instead
      req.spec.signature.publicKey.content = b64(Buffer.from(s.pem.replace(/\n/g, '\r\n')));
      const p = parseProposedEntryV1(req);
      const expected = canonicalBytes({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: alg, value: hex } },
          signature: {
            content: req.spec.signature.content,
            publicKey: { content: b64(Buffer.from(s.pem)) },
          },
        },
      });
      assert.deepEqual(p.body, expected);
      assert.equal(
        text(p.body),
        text(hashedRekordV001Body(alg, hex, req.spec.signature.content, b64(Buffer.from(s.pem)))),
      );
    }
    const body = new TextEncoder().encode('{"k":"v"}');
    const logId = new Uint8Array(32).fill(0xab);
    for (const [integratedTime, logIndex] of [
      [0, 0],
      [1_700_000_000, 123_456_789],
      [Number.MAX_SAFE_INTEGER, 2 ** 40],
    ]) {
      const general = canonicalBytes({
        body: b64(body),
        integratedTime,
        logID: Buffer.from(logId).toString('hex'),
        logIndex,
      });
      assert.deepEqual(setPayload({ body, integratedTime, logId, logIndex }), general);
      assert.deepEqual(
        setPayload({ body, integratedTime, logId, logIndex, bodyBase64: b64(body) }),
        general,
      );
    }
  });

  it('hashedrekord with RSA and with Ed25519 (as Ed25519ph over SHA-512)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const r = parseProposedEntryV1(
      hashedRekordV1(signerOf(rsa.privateKey, rsa.publicKey), Buffer.from('rsa')),
    );
    assert.deepEqual(verifyDigestBatch(r.pending), [true]);

    const ed = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(
      ed.privateKey.export({ format: 'jwk' }).d
        ? Buffer.from(ed.privateKey.export({ format: 'jwk' }).d!, 'base64url')
        : [],
    );
    const msg = Buffer.from('ed25519ph artifact');
    const sig = ed25519ph.sign(msg, raw);
    const s = signerOf(ed.privateKey, ed.publicKey);
    const req = {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: {
          hash: { algorithm: 'sha512', value: createHash('sha512').update(msg).digest('hex') },
        },
        signature: { content: b64(sig), publicKey: { content: b64(s.pem) } },
      },
    };
    assert.deepEqual(verifyDigestBatch(parseProposedEntryV1(req).pending), [true]);
    // A pure Ed25519 signature of the same artifact is not Ed25519ph: the log refuses it.
    req.spec.signature.content = b64(sign(null, msg, ed.privateKey));
    assert.deepEqual(verifyDigestBatch(parseProposedEntryV1(req).pending), [false]);
    req.spec.data.hash = {
      algorithm: 'sha256',
      value: createHash('sha256').update(msg).digest('hex'),
    };
    fails(() => parseProposedEntryV1(req), 'spec.data.hash.algorithm', /sha512 for an Ed25519/);
  });

  it('hashedrekord: missing and malformed fields name their path', () => {
    const s = ecSigner();
    const r = () => hashedRekordV1(s, Buffer.from('x'));
    fails(() => parseProposedEntryV1(null), '', /JSON object/);
    fails(() => parseProposedEntryV1({ ...r(), spec: undefined }), 'spec', /JSON object/);
    const noSig = r() as { spec: Record<string, unknown> };
    delete noSig.spec['signature'];
    fails(() => parseProposedEntryV1(noSig), 'spec.signature', /JSON object/);
    const badAlg = r();
    badAlg.spec.data.hash.algorithm = 'md5';
    fails(() => parseProposedEntryV1(badAlg), 'spec.data.hash.algorithm', /sha256, sha384, sha512/);
    const upper = r();
    upper.spec.data.hash.value = upper.spec.data.hash.value.toUpperCase();
    fails(() => parseProposedEntryV1(upper), 'spec.data.hash.value', /lowercase hex/);
    const unpadded = r();
    unpadded.spec.signature.content = unpadded.spec.signature.content.replace(/=+$/, '');
    if (unpadded.spec.signature.content.length % 4 !== 0)
      fails(() => parseProposedEntryV1(unpadded), 'spec.signature.content', /base64/);
    const privPem = r();
    privPem.spec.signature.publicKey.content = b64(
      s.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    );
    fails(
      () => parseProposedEntryV1(privPem),
      'spec.signature.publicKey.content',
      /PRIVATE KEY.*not supported/,
    );
  });

  it('dsse: every signature needs a verifier; signatures sorted; each keeps the key that verified it', () => {
    const a = ecSigner();
    const b = ecSigner();
    const payload = statement('c'.repeat(64));
    const ea = dsseEnvelope(a, payload, 'application/vnd.in-toto+json');
    const eb = dsseEnvelope(b, payload, 'application/vnd.in-toto+json');
    const env = { ...ea, signatures: [...ea.signatures, ...eb.signatures] };
    const req = {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        proposedContent: { envelope: JSON.stringify(env), verifiers: [b64(b.pem), b64(a.pem)] },
      },
    };
    const p = parseProposedEntryV1(req);
    const body = JSON.parse(text(p.body)) as {
      spec: { signatures: Array<{ signature: string; verifier: string }> };
    };
    const sigs = body.spec.signatures.map((x) => x.signature);
    assert.deepEqual(sigs, [...sigs].sort());
    for (const x of body.spec.signatures) {
      const who = x.signature === ea.signatures[0]!.sig ? a : b;
      assert.equal(Buffer.from(x.verifier, 'base64').toString(), who.pem);
    }
    assert.ok(p.searchKeys.includes(`sha256:${'c'.repeat(64)}`), 'in-toto subject indexed');
    // drop b's key: b's signature (index 1) has no verifier
    req.spec.proposedContent.verifiers = [b64(a.pem)];
    fails(
      () => parseProposedEntryV1(req),
      'spec.proposedContent.envelope.signatures[1].sig',
      /no verifier/,
    );
    const notJson = dsseV1(a, payload);
    notJson.spec.proposedContent.envelope = '{not json';
    fails(
      () => parseProposedEntryV1(notJson),
      'spec.proposedContent.envelope',
      /is not a JSON DSSE envelope: is not valid JSON \(a syntax error at position 1\)$/,
    );
    // A key twice in the envelope: the reason is kept, naming the key.
    const twice = dsseV1(a, payload);
    twice.spec.proposedContent.envelope = twice.spec.proposedContent.envelope.replace(
      '"payloadType":',
      '"payloadType":"text/plain","payloadType":',
    );
    fails(
      () => parseProposedEntryV1(twice),
      'spec.proposedContent.envelope',
      /is not a JSON DSSE envelope: has the key "payloadType" twice in one object$/,
    );
  });

  it('an EC key with a compressed point or explicit parameters is refused (Rekor reads it with Go, which cannot), v1 and v2', () => {
    const s = ecSigner();
    const data = Buffer.from('same key, other forms');
    assert.equal(parseProposedEntryV1(hashedRekordV1(s, data)).kind, 'hashedrekord');
    const pem = encodePem('PUBLIC KEY', compressed(s.publicKey));
    fails(
      () => parseProposedEntryV1(hashedRekordV1(s, data, { pem })),
      'spec.signature.publicKey.content',
      /compressed point or explicit curve parameters/,
    );
    // The explicit form's key is another key: what is refused is its form, before its signature.
    fails(
      () => parseProposedEntryV1(hashedRekordV1(s, data, { pem: EXPLICIT_P256 })),
      'spec.signature.publicKey.content',
      /compressed point or explicit curve parameters/,
    );
    const v2 = hashedRekordV2({ ...s, spki: compressed(s.publicKey) }, data);
    fails(
      () => parseCreateEntryRequestV2(v2),
      'hashedRekordRequestV002.signature.verifier.publicKey.rawBytes',
      /compressed point or explicit curve parameters/,
    );
  });

  it('an RSA verifier with an exponent above 2^31 - 1 is refused before any verify (each would cost as much as a signature)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicExponent: 0x80000001,
    });
    const s = signerOf(privateKey, publicKey);
    const payload = statement('c'.repeat(64));
    fails(
      () => parseProposedEntryV1(dsseV1(s, payload)),
      'spec.proposedContent.verifiers[0]',
      /RSA public exponent 2147483649 is not supported/,
    );
  });

  it('dsse and intoto: at most 16 signatures and 16 verifiers, refused before any is verified', () => {
    const s = ecSigner();
    const payload = statement('c'.repeat(64));
    const env = dsseEnvelope(s, payload, 'application/vnd.in-toto+json');
    const sigs = (n: number) => Array.from({ length: n }, () => env.signatures[0]!);
    const v1 = (nSigs: number, nKeys: number) => ({
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        proposedContent: {
          envelope: JSON.stringify({ ...env, signatures: sigs(nSigs) }),
          verifiers: Array.from({ length: nKeys }, () => b64(s.pem)),
        },
      },
    });
    // 16 of each is taken (the same signature and key repeated all verify)
    assert.equal(parseProposedEntryV1(v1(16, 16)).kind, 'dsse');
    fails(
      () => parseProposedEntryV1(v1(17, 1)),
      'spec.proposedContent.envelope.signatures',
      /at most 16/,
    );
    fails(() => parseProposedEntryV1(v1(1, 17)), 'spec.proposedContent.verifiers', /at most 16/);
    const intoto = intotoV2(s, payload);
    const one = intoto.spec.content.envelope.signatures[0]!;
    intoto.spec.content.envelope.signatures = Array.from({ length: 16 }, () => one);
    assert.equal(parseProposedEntryV1(intoto).kind, 'intoto');
    intoto.spec.content.envelope.signatures.push(one);
    fails(() => parseProposedEntryV1(intoto), 'spec.content.envelope.signatures', /at most 16/);
    const v2 = dsseV2(s, payload);
    const r = v2.dsseRequestV002;
    r.envelope.signatures = Array.from({ length: 16 }, () => r.envelope.signatures[0]!);
    r.verifiers = Array.from({ length: 16 }, () => r.verifiers[0]!);
    assert.equal(parseCreateEntryRequestV2(v2).kind, 'dsse');
    r.envelope.signatures.push(r.envelope.signatures[0]!);
    fails(() => parseCreateEntryRequestV2(v2), 'dsseRequestV002.envelope.signatures', /at most 16/);
    r.envelope.signatures.pop();
    r.verifiers.push(r.verifiers[0]!);
    fails(() => parseCreateEntryRequestV2(v2), 'dsseRequestV002.verifiers', /at most 16/);
  });

  it('intoto: payload hash checked, envelope hash required, signature verified', () => {
    const s = ecSigner();
    const payload = statement('d'.repeat(64));
    const ok = parseProposedEntryV1(intotoV2(s, payload));
    assert.equal(text(ok.attestation!), text(payload));
    const wrongHash = intotoV2(s, payload) as ReturnType<typeof intotoV2> & {
      spec: { content: { payloadHash?: unknown } };
    };
    wrongHash.spec.content.payloadHash = { algorithm: 'sha256', value: 'e'.repeat(64) };
    fails(() => parseProposedEntryV1(wrongHash), 'spec.content.payloadHash', /does not match/);
    const noHash = intotoV2(s, payload) as { spec: { content: Record<string, unknown> } };
    delete noHash.spec.content['hash'];
    fails(() => parseProposedEntryV1(noHash), 'spec.content.hash', /JSON object/);
    const badSig = intotoV2(s, payload);
    badSig.spec.content.envelope.signatures[0]!.publicKey = b64(ecSigner().pem);
    fails(
      () => parseProposedEntryV1(badSig),
      'spec.content.envelope.signatures[0].sig',
      /no public key/,
    );
  });
});

describe('Rekor v2 kinds', () => {
  it('accepts protojson snake_case and rejects unknown fields', () => {
    const s = ecSigner();
    const camel = hashedRekordV2(s, Buffer.from('v2'));
    const h = camel.hashedRekordRequestV002;
    const snake = {
      hashed_rekord_request_v002: {
        digest: h.digest,
        signature: {
          content: h.signature.content,
          verifier: {
            public_key: {
              raw_bytes: (h.signature.verifier as { publicKey: { rawBytes: string } }).publicKey
                .rawBytes,
            },
            key_details: 'PKIX_ECDSA_P256_SHA_256',
          },
        },
      },
    };
    assert.equal(
      text(parseCreateEntryRequestV2(snake).body),
      text(parseCreateEntryRequestV2(camel).body),
    );
    const extra = hashedRekordV2(s, Buffer.from('v2')) as unknown as {
      hashedRekordRequestV002: Record<string, unknown>;
    };
    extra.hashedRekordRequestV002['foo'] = 1;
    fails(
      () => parseCreateEntryRequestV2(extra),
      'hashedRekordRequestV002.foo',
      /not a known field/,
    );
    fails(() => parseCreateEntryRequestV2({}), '', /exactly one/);
  });

  it('P-384 needs a 48-byte digest; the body names SHA2_384', () => {
    const s = ecSigner('P-384');
    const msg = Buffer.from('p384');
    const req = {
      hashedRekordRequestV002: {
        digest: b64(createHash('sha384').update(msg).digest()),
        signature: {
          content: b64(sign('sha384', msg, s.privateKey)),
          verifier: { publicKey: { rawBytes: b64(s.spki) }, keyDetails: 'PKIX_ECDSA_P384_SHA_384' },
        },
      },
    };
    const p = parseCreateEntryRequestV2(req);
    assert.match(text(p.body), /"algorithm":"SHA2_384"/);
    assert.deepEqual(verifyDigestBatch(p.pending), [true]);
    req.hashedRekordRequestV002.digest = b64(createHash('sha256').update(msg).digest());
    fails(() => parseCreateEntryRequestV2(req), 'hashedRekordRequestV002.digest', /48-byte sha384/);
  });

  it('Ed25519: hashedrekord is PKIX_ED25519_PH over a SHA-512 digest, dsse is PKIX_ED25519, never crossed', () => {
    const ed = generateKeyPairSync('ed25519');
    const s = signerOf(ed.privateKey, ed.publicKey);
    const seed = new Uint8Array(
      Buffer.from(ed.privateKey.export({ format: 'jwk' }).d!, 'base64url'),
    );
    const msg = Buffer.from('ed25519 on rekor v2');
    const ph = ed25519ph.sign(msg, seed);
    const request = (keyDetails: string, signature: Uint8Array, digest = 'sha512') => ({
      hashedRekordRequestV002: {
        digest: b64(createHash(digest).update(msg).digest()),
        signature: {
          content: b64(signature),
          verifier: { publicKey: { rawBytes: b64(s.spki) }, keyDetails },
        },
      },
    });
    const p = parseCreateEntryRequestV2(request('PKIX_ED25519_PH', ph));
    assert.match(text(p.body), /"algorithm":"SHA2_512".*"keyDetails":"PKIX_ED25519_PH"/);
    assert.deepEqual(verifyDigestBatch(p.pending), [true]);
    // A pure signature named as Ed25519ph is checked as Ed25519ph, and fails.
    const pure = parseCreateEntryRequestV2(
      request('PKIX_ED25519_PH', sign(null, msg, ed.privateKey)),
    );
    assert.deepEqual(verifyDigestBatch(pure.pending), [false]);
    fails(
      () => parseCreateEntryRequestV2(request('PKIX_ED25519', ph)),
      'hashedRekordRequestV002.signature.verifier.keyDetails',
      /"PKIX_ED25519" is not supported .*signed with Ed25519 as Ed25519ph \(PKIX_ED25519_PH\)/,
    );
    fails(
      () => parseCreateEntryRequestV2(request('PKIX_ED25519_PH', ph, 'sha256')),
      'hashedRekordRequestV002.digest',
      /64-byte sha512/,
    );
    // DSSE signs the PAE itself: pure Ed25519, and a verifier named Ed25519ph is refused.
    const payload = statement('e'.repeat(64));
    const env = {
      payload: b64(payload),
      payloadType: 'application/vnd.in-toto+json',
      signatures: [
        { sig: b64(sign(null, pae('application/vnd.in-toto+json', payload), ed.privateKey)) },
      ],
    };
    const dsse = (keyDetails: string) => ({
      dsseRequestV002: {
        envelope: env,
        verifiers: [{ publicKey: { rawBytes: b64(s.spki) }, keyDetails }],
      },
    });
    assert.match(text(parseCreateEntryRequestV2(dsse('PKIX_ED25519')).body), /"PKIX_ED25519"/);
    fails(
      () => parseCreateEntryRequestV2(dsse('PKIX_ED25519_PH')),
      'dsseRequestV002.verifiers[0].keyDetails',
      /"PKIX_ED25519_PH" is not supported .*over its PAE \(PKIX_ED25519\)/,
    );
  });

  it('dsse 0.0.2: verified against the verifiers; a wrong key is refused', () => {
    const s = ecSigner();
    const payload = statement('f'.repeat(64));
    const p = parseCreateEntryRequestV2(dsseV2(s, payload));
    const body = JSON.parse(text(p.body)) as {
      kind: string;
      spec: { dsseV002: { payloadHash: { algorithm: string; digest: string } } };
    };
    assert.equal(body.kind, 'dsse');
    // The body keeps only the payload digest: the subject is indexed on admission or never.
    assert.ok(p.searchKeys.includes(`sha256:${'f'.repeat(64)}`), 'in-toto subject indexed');
    assert.equal(
      body.spec.dsseV002.payloadHash.digest,
      createHash('sha256').update(payload).digest('base64'),
    );
    const wrong = dsseV2(s, payload);
    wrong.dsseRequestV002.verifiers[0]!.publicKey.rawBytes = b64(ecSigner().spki);
    fails(
      () => parseCreateEntryRequestV2(wrong),
      'dsseRequestV002.envelope.signatures[0].sig',
      /no verifier/,
    );
  });
});

describe('Rekor v1 LogEntry answer', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const parts = {
    entryId: '24296fb24b8ad77a' + 'ab'.repeat(32),
    body: new Uint8Array(Buffer.from('{"apiVersion":"0.0.1"}')),
    integratedTime: 1_733_400_000,
    logId: new Uint8Array(32).fill(7),
    logIndex: 1_000_123,
    shardIndex: 123,
    set: new Uint8Array(71).fill(9),
    proof: {
      rootHash: new Uint8Array(32).fill(1),
      treeSize: 124,
      hashes: [new Uint8Array(32).fill(2), Uint8Array.from({ length: 32 }, (_, i) => i * 8 + 7)],
      // a note's signature lines start with an em dash: the one non-ASCII character
      checkpoint: 'host - 42\n124\nAQEB\n\n\u2014 host AAAA\n',
    },
  };
  // What Rekor's Go models marshal, field by field in their order, by JSON.stringify.
  const expected = (attestation?: Uint8Array) => ({
    [parts.entryId]: {
      ...(attestation
        ? { attestation: { data: Buffer.from(attestation).toString('base64') } }
        : {}),
      body: Buffer.from(parts.body).toString('base64'),
      integratedTime: parts.integratedTime,
      logID: hex(parts.logId),
      logIndex: parts.logIndex,
      verification: {
        inclusionProof: {
          checkpoint: parts.proof.checkpoint,
          hashes: parts.proof.hashes.map(hex),
          logIndex: parts.shardIndex,
          rootHash: hex(parts.proof.rootHash),
          treeSize: parts.proof.treeSize,
        },
        signedEntryTimestamp: Buffer.from(parts.set).toString('base64'),
      },
    },
  });

  it('is byte for byte the JSON of the LogEntry map, the checkpoint in UTF-8', () => {
    assert.deepEqual(v1LogEntryJson(parts), Buffer.from(JSON.stringify(expected())));
    const att = new Uint8Array(Buffer.from('{"_type":"statement"}'));
    assert.deepEqual(
      v1LogEntryJson({ ...parts, attestation: att }),
      Buffer.from(JSON.stringify(expected(att))),
    );
    assert.ok(v1LogEntryJson(parts).includes(Buffer.from('\u2014')));
  });

  it('writes an empty list of proof hashes (a tree of one entry)', () => {
    const proof = { ...parts.proof, treeSize: 1, hashes: [] };
    const json = JSON.parse(v1LogEntryJson({ ...parts, proof }).toString());
    assert.deepEqual(json[parts.entryId].verification.inclusionProof.hashes, []);
  });

  it('writes the checkpoint of each answer (the last one encoded is kept for the next)', () => {
    const next = { ...parts.proof, checkpoint: 'host - 42\n125\nAgIC\n\n\u2014 host BBBB\n' };
    const json = (proof: typeof parts.proof) =>
      JSON.parse(v1LogEntryJson({ ...parts, proof }).toString())[parts.entryId].verification
        .inclusionProof.checkpoint as string;
    assert.equal(json(parts.proof), parts.proof.checkpoint);
    assert.equal(json(next), next.checkpoint);
    assert.equal(json(parts.proof), parts.proof.checkpoint);
  });

  it('refuses an index that is not a safe integer rather than writing it', () => {
    assert.throws(() => v1LogEntryJson({ ...parts, logIndex: 2 ** 53 }), RangeError);
  });
});
