// sigstore-js (the independent oracle) writes to Signet's Rekor v1 and v2 through its own Rekor
// clients on a real loopback server, and @sigstore/verify accepts what Signet's log answers.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { bundleToJSON, bundleFromJSON } from '@sigstore/bundle';
import {
  DSSEBundleBuilder,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signer,
} from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { encodePem } from '../../src/core/encoding/pem.ts';
import { parseCertificate } from '../../src/core/x509/certificate.ts';
import {
  buildCaCertificate,
  buildPlainCertificate,
  leafTbsSpec,
} from '../../src/core/x509/fulcio-profile.ts';
import { startRekor, type RekorServer } from '../services/rekor/harness.ts';

/** A root CA and a Fulcio-profile leaf for `privateKey` (sigstore-js v2 logs certificates only). */
function certificateFor(privateKey: KeyObject) {
  const root = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = (k: KeyObject) =>
    new Uint8Array(
      (k.type === 'public' ? k : createPublicKey(k)).export({ format: 'der', type: 'spki' }),
    );
  const now = Date.now();
  const rootDer = buildCaCertificate({
    organization: 'signet.test',
    commonName: 'rekor interop root',
    publicKeySpki: spki(root.publicKey),
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 3600_000),
    selfKey: root.privateKey,
  });
  const ca = { certificate: parseCertificate(rootDer), key: root.privateKey };
  const leaf = buildPlainCertificate(
    ca,
    leafTbsSpec(ca, {
      spki: spki(privateKey),
      san: { type: 'email', value: 'signer@signet.test' },
      extensions: { 1: 'https://issuer.signet.test', 8: 'https://issuer.signet.test' },
      notBefore: new Date(now - 60_000),
    }),
  );
  return { rootDer, leafPem: encodePem('CERTIFICATE', leaf) };
}

function keySigner(privateKey: KeyObject, hint: string): Signer {
  const pem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string;
  return {
    async sign(data: Buffer) {
      return {
        signature: sign('sha256', data, privateKey),
        key: { $case: 'publicKey', publicKey: pem, hint },
      };
    },
  };
}

describe('sigstore-js against Signet Rekor', () => {
  let server: RekorServer;
  before(async () => {
    server = await startRekor();
  });
  after(async () => {
    await server.close();
  });

  function trustMaterial(publicKey: KeyObject, hint: string, caDer?: Uint8Array) {
    const trust = server.service.trust!() as { tlogs: unknown[] };
    const root = TrustedRoot.fromJSON({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: trust.tlogs,
      certificateAuthorities: caDer
        ? [
            {
              subject: { organization: 'signet.test', commonName: 'rekor interop root' },
              uri: 'https://ca.signet.test',
              certChain: { certificates: [{ rawBytes: Buffer.from(caDer).toString('base64') }] },
              validFor: { start: new Date(Date.now() - 7200_000).toISOString() },
            },
          ]
        : [],
      ctlogs: [],
      timestampAuthorities: [],
    });
    return toTrustMaterial(root, (h: string) => {
      if (h !== hint) throw new Error(`unknown key hint ${h}`);
      return { publicKey, validFor: () => true };
    });
  }

  async function signWith(majorApiVersion: 1 | 2, data: Buffer) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const hint = `key-${majorApiVersion}-${Math.random()}`;
    const builder = new MessageSignatureBundleBuilder({
      signer: keySigner(privateKey, hint),
      witnesses: [new RekorWitness({ rekorBaseURL: server.rekor, majorApiVersion })],
    });
    const bundle = await builder.create({ data });
    return { json: bundleToJSON(bundle), publicKey, hint };
  }

  it('v1: @sigstore/sign logs a hashedrekord; @sigstore/verify accepts SET, proof and checkpoint', async () => {
    const data = Buffer.from('artifact for rekor v1');
    const { json, publicKey, hint } = await signWith(1, data);
    const tle = (json as { verificationMaterial: { tlogEntries: Array<Record<string, unknown>> } })
      .verificationMaterial.tlogEntries[0]!;
    assert.deepEqual(tle['kindVersion'], { kind: 'hashedrekord', version: '0.0.1' });
    assert.ok(tle['inclusionPromise'], 'a SignedEntryTimestamp');
    assert.ok(tle['inclusionProof'], 'an inclusion proof with checkpoint');
    const material = trustMaterial(publicKey, hint);
    // the SET is the time source (timestampThreshold 1), the proof + checkpoint the inclusion
    const verifier = new Verifier(material, {
      tlogThreshold: 1,
      ctlogThreshold: 0,
      timestampThreshold: 1,
    });
    const signer = verifier.verify(toSignedEntity(bundleFromJSON(json), data));
    assert.ok(signer.key);
    // and it fails on another artifact (the oracle is not vacuous)
    assert.throws(() =>
      verifier.verify(toSignedEntity(bundleFromJSON(json), Buffer.from('other artifact'))),
    );
  });

  it('v1: a tampered inclusion proof or SET is rejected by @sigstore/verify', async () => {
    const data = Buffer.from('tamper test');
    const { json, publicKey, hint } = await signWith(1, data);
    const material = trustMaterial(publicKey, hint);
    const verifier = new Verifier(material, {
      tlogThreshold: 1,
      ctlogThreshold: 0,
      timestampThreshold: 1,
    });
    const bad = structuredClone(json) as {
      verificationMaterial: {
        tlogEntries: Array<{ inclusionPromise: { signedEntryTimestamp: string } }>;
      };
    };
    const set = Buffer.from(
      bad.verificationMaterial.tlogEntries[0]!.inclusionPromise.signedEntryTimestamp,
      'base64',
    );
    set[set.length - 3]! ^= 1;
    bad.verificationMaterial.tlogEntries[0]!.inclusionPromise.signedEntryTimestamp =
      set.toString('base64');
    assert.throws(() => verifier.verify(toSignedEntity(bundleFromJSON(bad), data)));
  });

  it('v2: @sigstore/sign logs a hashedrekord 0.0.2 and @sigstore/verify accepts the proof and checkpoint', async () => {
    const data = Buffer.from('artifact for rekor v2');
    // @sigstore/sign's Rekor v2 client sends the signer's material as x509Certificate
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { rootDer, leafPem } = certificateFor(privateKey);
    const builder = new MessageSignatureBundleBuilder({
      signer: {
        async sign(d: Buffer) {
          return {
            signature: sign('sha256', d, privateKey),
            key: { $case: 'x509Certificate', certificate: leafPem },
          };
        },
      },
      // v2 entries carry no time; the v1 entry's SET of the same log supplies the timestamp
      // a certificate needs (sigstore-js checks the chain at each verified timestamp)
      witnesses: [
        new RekorWitness({ rekorBaseURL: server.rekor, majorApiVersion: 2 }),
        new RekorWitness({ rekorBaseURL: server.rekor, majorApiVersion: 1 }),
      ],
    });
    const json = bundleToJSON(await builder.create({ data }));
    const hint = 'unused';
    const entries = (
      json as { verificationMaterial: { tlogEntries: Array<Record<string, unknown>> } }
    ).verificationMaterial.tlogEntries;
    assert.equal(entries.length, 2);
    const tle = entries.find((e) => (e['kindVersion'] as { version: string }).version === '0.0.2')!;
    assert.deepEqual(tle['kindVersion'], { kind: 'hashedrekord', version: '0.0.2' });
    assert.equal(tle['inclusionPromise'], undefined);
    const material = trustMaterial(publicKey, hint, rootDer);
    // both entries must verify: the v2 one by inclusion proof + checkpoint (checkpointKeyId)
    const verifier = new Verifier(material, {
      tlogThreshold: 2,
      ctlogThreshold: 0,
      timestampThreshold: 1,
    });
    const signer = verifier.verify(toSignedEntity(bundleFromJSON(json), data));
    assert.equal(signer.identity?.subjectAlternativeName, 'signer@signet.test');
    // a second upload of the same entry is a duplicate: 409 with x-log-index
    const tlBody = JSON.parse(
      Buffer.from(tle['canonicalizedBody'] as string, 'base64').toString(),
    ) as { spec: { hashedRekordV002: { data: { digest: string }; signature: unknown } } };
    const again = await fetch(`${server.rekor}/api/v2/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        hashedRekordRequestV002: {
          digest: tlBody.spec.hashedRekordV002.data.digest,
          signature: tlBody.spec.hashedRekordV002.signature,
        },
      }),
    });
    assert.equal(again.status, 409);
    assert.equal(again.headers.get('x-log-index'), tle['logIndex']);
  });

  for (const entryType of ['dsse', 'intoto'] as const) {
    it(`v1 ${entryType}: a DSSE bundle logged by @sigstore/sign verifies in @sigstore/verify`, async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const hint = `dsse-${entryType}`;
      const builder = new DSSEBundleBuilder({
        signer: keySigner(privateKey, hint),
        witnesses: [
          new RekorWitness({ rekorBaseURL: server.rekor, majorApiVersion: 1, entryType }),
        ],
      });
      const statement = Buffer.from(
        JSON.stringify({
          _type: 'https://in-toto.io/Statement/v1',
          subject: [{ name: 'a', digest: { sha256: 'ab'.repeat(32) } }],
          predicateType: 'https://example.com/p',
          predicate: {},
        }),
      );
      const json = bundleToJSON(
        await builder.create({ data: statement, type: 'application/vnd.in-toto+json' }),
      );
      const tle = (
        json as { verificationMaterial: { tlogEntries: Array<Record<string, unknown>> } }
      ).verificationMaterial.tlogEntries[0]!;
      assert.equal((tle['kindVersion'] as { kind: string }).kind, entryType);
      const verifier = new Verifier(trustMaterial(publicKey, hint), {
        tlogThreshold: 1,
        ctlogThreshold: 0,
        timestampThreshold: 1,
      });
      // sigstore-js checks the logged body against the envelope (payload hash, signatures)
      verifier.verify(toSignedEntity(bundleFromJSON(json)));
      // the entry is searchable by the statement's subject digest
      const found = await fetch(`${server.rekor}/api/v1/index/retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hash: `sha256:${'ab'.repeat(32)}` }),
      });
      assert.ok(((await found.json()) as string[]).length >= 1);
    });
  }
});
