import assert from 'node:assert/strict';
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { canonicalBytes } from '../../../src/core/encoding/canonical-json.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../../../src/core/merkle/index.ts';
import { openCheckpoint } from '../../../src/core/note/checkpoint.ts';
import { noteVerifier } from '../../../src/core/note/keys.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import {
  b64,
  certificateFor,
  dsseV1,
  dsseV2,
  ecSigner,
  hashedRekordV1,
  hashedRekordV2,
  intotoV2,
  statement,
} from './fixtures.ts';
import { startRekor, type RekorServer } from './harness.ts';
import { assertErrorShape, isGrpcGatewayPath } from '../../helpers/error-shape.ts';

const hex = (b: Uint8Array | Buffer) => Buffer.from(b).toString('hex');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Status, headers, text and (when it parses) JSON of an answer. */
async function answer(r: Response) {
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json: json as Record<string, unknown> };
}

async function post(url: string, body: unknown, raw = false) {
  return answer(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw ? (body as string) : JSON.stringify(body),
    }),
  );
}

async function get(url: string) {
  return answer(await fetch(url));
}

interface V1Entry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  attestation?: { data: string };
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: {
      checkpoint: string;
      hashes: string[];
      logIndex: number;
      rootHash: string;
      treeSize: number;
    };
  };
}

function only(json: unknown): [string, V1Entry] {
  const entries = Object.entries(json as Record<string, V1Entry>);
  assert.equal(entries.length, 1);
  return entries[0]!;
}

/** A decimal uint64 as protojson writes it: a JSON string, no sign, no leading zeros. */
const UINT64 = /^(0|[1-9][0-9]*)$/;
/** Standard base64 with padding, as protojson writes `bytes`. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Pins the JSON types of a Rekor v2 TransparencyLogEntry (protojson, servers.md §3.1): int64
 * fields are strings (sigstore-go and sigstore-js parse them as such and refuse numbers),
 * bytes are base64 strings, hashes are 32 bytes.
 */
function pinV2EntryTypes(json: unknown): void {
  const t = json as Record<string, unknown>;
  const o = (v: unknown) => v as Record<string, unknown>;
  const str = (v: unknown, re: RegExp, what: string) => {
    assert.equal(typeof v, 'string', `${what} is a JSON string`);
    assert.match(v as string, re, what);
  };
  const hash = (v: unknown, what: string) => {
    str(v, BASE64, what);
    assert.equal(Buffer.from(v as string, 'base64').length, 32, `${what} is 32 bytes`);
  };
  str(t.logIndex, UINT64, 'logIndex');
  str(t.integratedTime, UINT64, 'integratedTime');
  hash(o(t.logId).keyId, 'logId.keyId');
  str(o(t.kindVersion).kind, /^(hashedrekord|dsse)$/, 'kindVersion.kind');
  str(o(t.kindVersion).version, /^0\.0\.2$/, 'kindVersion.version');
  const p = o(t.inclusionProof);
  str(p.logIndex, UINT64, 'inclusionProof.logIndex');
  assert.equal(p.logIndex, t.logIndex, 'inclusionProof.logIndex is the entry index');
  str(p.treeSize, UINT64, 'inclusionProof.treeSize');
  assert.ok(BigInt(p.treeSize as string) > BigInt(p.logIndex as string), 'index < treeSize');
  hash(p.rootHash, 'inclusionProof.rootHash');
  assert.ok(Array.isArray(p.hashes), 'inclusionProof.hashes is an array');
  (p.hashes as unknown[]).forEach((h, i) => hash(h, `inclusionProof.hashes[${i}]`));
  assert.equal(typeof (p.checkpoint as { envelope: unknown }).envelope, 'string');
  str(t.canonicalizedBody, BASE64, 'canonicalizedBody');
}

describe('Signet Rekor service over HTTP', () => {
  let s: RekorServer;
  let logKey: KeyObject;
  let host: string;
  before(async () => {
    s = await startRekor({ config: { maxRequestBytes: 16 * 1024 } });
    logKey = createPublicKey(
      KeyRing.open(s.dataDir, 'rekor', { type: 'ec', curve: 'P-256' }).current().key,
    );
    host = new URL(s.url).host;
  });
  after(async () => {
    await s.close();
  });

  /** Checks everything a Rekor v1 client checks on a LogEntry, against Signet's log key. */
  function checkV1Entry(id: string, e: V1Entry, expectedBody?: Uint8Array) {
    const body = unb64(e.body);
    if (expectedBody)
      assert.equal(Buffer.from(body).toString(), Buffer.from(expectedBody).toString());
    const spki = logKey.export({ format: 'der', type: 'spki' });
    assert.equal(e.logID, createHash('sha256').update(spki).digest('hex'));
    assert.equal(id.slice(16), hex(leafHash(body)), 'entry ID = tree ID + UUID');
    assert.equal(id.length, 80);
    // SET over JCS {body, integratedTime, logID, logIndex}
    const payload = canonicalBytes({
      body: e.body,
      integratedTime: e.integratedTime,
      logID: e.logID,
      logIndex: e.logIndex,
    });
    assert.ok(verify('sha256', payload, logKey, unb64(e.verification.signedEntryTimestamp)), 'SET');
    const p = e.verification.inclusionProof;
    verifyInclusion(
      leafHash(body),
      p.logIndex,
      p.treeSize,
      p.hashes.map((h) => new Uint8Array(Buffer.from(h, 'hex'))),
      new Uint8Array(Buffer.from(p.rootHash, 'hex')),
    );
    // v1 checkpoint: "<host> - <treeID>", signed by the log key under the host name
    const treeId = BigInt(`0x${id.slice(0, 16)}`).toString();
    const cp = openCheckpoint(p.checkpoint, [noteVerifier(host, logKey)], {
      origin: `${host} - ${treeId}`,
    });
    assert.equal(cp.size, p.treeSize);
    assert.equal(hex(cp.rootHash), p.rootHash);
  }

  async function treeSize(): Promise<number> {
    return ((await get(`${s.rekor}/api/v1/log`)).json as { treeSize: number }).treeSize;
  }

  it('v1 hashedrekord: 201 with ETag, Location, SET, proof and checkpoint; readable by UUID, entry ID and index', async () => {
    const signer = ecSigner();
    const req = hashedRekordV1(signer, Buffer.from('artifact one'));
    const r = await post(`${s.rekor}/api/v1/log/entries`, req);
    assert.equal(r.status, 201, r.text);
    assert.ok(r.text.endsWith('}\n'), "Rekor's JSON producer ends with a newline");
    const [id, e] = only(r.json);
    assert.equal(r.headers.get('etag'), id);
    assert.equal(r.headers.get('location'), `/rekor/api/v1/log/entries/${id}`);
    checkV1Entry(id, e);
    // the body is the canonical form: a PEM re-encoded exactly as Go's pem.Encode
    const body = JSON.parse(Buffer.from(e.body, 'base64').toString()) as {
      spec: { signature: { publicKey: { content: string } } };
    };
    assert.equal(
      Buffer.from(body.spec.signature.publicKey.content, 'base64').toString(),
      signer.pem,
    );

    for (const ref of [id, id.slice(16), id.toUpperCase()]) {
      const g = await get(`${s.rekor}/api/v1/log/entries/${ref}`);
      assert.equal(g.status, 200);
      const [gid, ge] = only(g.json);
      assert.equal(gid, id);
      assert.equal(ge.body, e.body);
      checkV1Entry(gid, ge);
    }
    const byIndex = await get(`${s.rekor}/api/v1/log/entries?logIndex=${e.logIndex}`);
    assert.equal(byIndex.status, 200);
    assert.equal(only(byIndex.json)[0], id);
    const retrieved = await post(`${s.rekor}/api/v1/log/entries/retrieve`, {
      entryUUIDs: [id.slice(16)],
      logIndexes: [e.logIndex],
      entries: [req],
    });
    assert.equal(retrieved.status, 200);
    const list = retrieved.json as unknown as Array<Record<string, V1Entry>>;
    assert.equal(list.length, 3);
    for (const m of list) assert.deepEqual(Object.keys(m), [id]);

    // duplicate: 409, Location of the existing entry, nothing stored
    const size = await treeSize();
    const dup = await post(`${s.rekor}/api/v1/log/entries`, req);
    assert.equal(dup.status, 409);
    assert.equal(dup.headers.get('location'), `/rekor/api/v1/log/entries/${id}`);
    // Rekor's Error {code, message}, its message word for word (rekor pkg/api/error.go)
    assert.equal((dup.json as { code: number }).code, 409);
    assert.equal(
      (dup.json as { message: string }).message,
      `an equivalent entry already exists in the transparency log with UUID ${id}`,
    );
    assert.equal(await treeSize(), size);
  });

  it('v1 dsse and intoto entries are admitted with their canonical bodies; intoto keeps the attestation', async () => {
    const signer = ecSigner();
    const payload = statement('a'.repeat(64));
    const d = await post(`${s.rekor}/api/v1/log/entries`, dsseV1(signer, payload));
    assert.equal(d.status, 201, d.text);
    const [did, de] = only(d.json);
    checkV1Entry(did, de);
    const dbody = JSON.parse(Buffer.from(de.body, 'base64').toString()) as {
      kind: string;
      spec: { payloadHash: { value: string }; signatures: Array<{ verifier: string }> };
    };
    assert.equal(dbody.kind, 'dsse');
    assert.equal(dbody.spec.payloadHash.value, createHash('sha256').update(payload).digest('hex'));
    assert.equal(Buffer.from(dbody.spec.signatures[0]!.verifier, 'base64').toString(), signer.pem);

    const i = await post(`${s.rekor}/api/v1/log/entries`, intotoV2(signer, payload));
    assert.equal(i.status, 201, i.text);
    const [iid, ie] = only(i.json);
    checkV1Entry(iid, ie);
    assert.equal(ie.attestation, undefined, 'the create answer has no attestation');
    const g = await get(`${s.rekor}/api/v1/log/entries/${iid}`);
    const [, ge] = only(g.json);
    assert.equal(
      Buffer.from(ge.attestation!.data, 'base64').toString(),
      Buffer.from(payload).toString(),
    );
    const ibody = JSON.parse(Buffer.from(ie.body, 'base64').toString()) as {
      spec: { content: { envelope: Record<string, unknown> } };
    };
    assert.equal(ibody.spec.content.envelope['payload'], undefined, 'payload not in the body');
  });

  it("v1 retrieve: cosign's attestation lookup (dsse 0.0.1 and intoto 0.0.1 in one query) finds the dsse entry", async () => {
    const signer = ecSigner();
    const dsse = dsseV1(signer, statement('c'.repeat(64)));
    const created = await post(`${s.rekor}/api/v1/log/entries`, dsse);
    assert.equal(created.status, 201, created.text);
    const [id] = only(created.json);
    // cosign FindTlogEntry: the envelope as a dsse 0.0.1 and as an intoto 0.0.1 proposal (rekor
    // pkg/types/intoto/v0.0.1 CreateFromArtifactProperties). Signet admits no intoto 0.0.1, so
    // that one matches nothing; the query must not fail because of it.
    const envelope = dsse.spec.proposedContent.envelope;
    const intotoV1 = {
      apiVersion: '0.0.1',
      kind: 'intoto',
      spec: {
        content: {
          envelope,
          hash: { algorithm: 'sha256', value: createHash('sha256').update(envelope).digest('hex') },
        },
        publicKey: b64(signer.pem),
      },
    };
    const r = await post(`${s.rekor}/api/v1/log/entries/retrieve`, { entries: [dsse, intotoV1] });
    assert.equal(r.status, 200, r.text);
    const list = r.json as unknown as Array<Record<string, V1Entry>>;
    assert.deepEqual(
      list.map((m) => Object.keys(m)),
      [[id]],
    );
    // A kind Rekor does not define is still an error that names it.
    const bad = await post(`${s.rekor}/api/v1/log/entries/retrieve`, {
      entries: [dsse, { ...intotoV1, kind: 'nonsense' }],
    });
    assert.equal(bad.status, 400, bad.text);
    assert.equal((bad.json as { field: string }).field, 'entries[1].kind');
  });

  it('v2 hashedrekord and dsse: 201 TransparencyLogEntry; duplicate 409 with x-log-index', async () => {
    const signer = ecSigner();
    const req = hashedRekordV2(signer, Buffer.from('v2 artifact'));
    const r = await post(`${s.rekor}/api/v2/log/entries`, req);
    assert.equal(r.status, 201, r.text);
    const tle = r.json as {
      logIndex: string;
      logId: { keyId: string };
      kindVersion: { kind: string; version: string };
      integratedTime: string;
      inclusionPromise: null;
      inclusionProof: {
        logIndex: string;
        rootHash: string;
        treeSize: string;
        hashes: string[];
        checkpoint: { envelope: string };
      };
      canonicalizedBody: string;
    };
    assert.deepEqual(Object.keys(tle), [
      'logIndex',
      'logId',
      'kindVersion',
      'integratedTime',
      'inclusionPromise',
      'inclusionProof',
      'canonicalizedBody',
    ]);
    pinV2EntryTypes(tle);
    assert.equal(tle.integratedTime, '0');
    assert.equal(tle.inclusionPromise, null);
    assert.deepEqual(tle.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    const spki = logKey.export({ format: 'der', type: 'spki' });
    assert.equal(tle.logId.keyId, createHash('sha256').update(spki).digest('base64'));
    const body = unb64(tle.canonicalizedBody);
    verifyInclusion(
      leafHash(body),
      Number(tle.inclusionProof.logIndex),
      Number(tle.inclusionProof.treeSize),
      tle.inclusionProof.hashes.map(unb64),
      unb64(tle.inclusionProof.rootHash),
    );
    const origin = `${host}/rekor/shards/1`;
    const cp = openCheckpoint(
      tle.inclusionProof.checkpoint.envelope,
      [noteVerifier(origin, logKey)],
      { origin },
    );
    assert.equal(cp.size, Number(tle.inclusionProof.treeSize));
    const dup = await post(`${s.rekor}/api/v2/log/entries`, req);
    assert.equal(dup.status, 409);
    assert.equal(dup.headers.get('x-log-index'), tle.logIndex);
    // the same request through the shard's own URL is the same entry
    const viaShard = await post(`${s.rekor}/shards/1/api/v2/log/entries`, req);
    assert.equal(viaShard.status, 409);

    const d = await post(
      `${s.rekor}/api/v2/log/entries`,
      dsseV2(signer, statement('b'.repeat(64))),
    );
    assert.equal(d.status, 201, d.text);
    pinV2EntryTypes(d.json);
    assert.deepEqual((d.json as { kindVersion: unknown }).kindVersion, {
      kind: 'dsse',
      version: '0.0.2',
    });
  });

  it('search: by digest, key fingerprint, email identity and issuer, on v1 and v2', async () => {
    const signer = ecSigner();
    const cert = certificateFor(signer, 'Search.Me@Signet.Test', 'https://issuer.search.test');
    const artifact = Buffer.from(`search ${Math.random()}`);
    const r1 = await post(
      `${s.rekor}/api/v1/log/entries`,
      hashedRekordV1(signer, artifact, { pem: cert.pem }),
    );
    assert.equal(r1.status, 201, r1.text);
    const [id1] = only(r1.json);
    const r2 = await post(
      `${s.rekor}/api/v2/log/entries`,
      hashedRekordV2(signer, artifact, { certDer: cert.der }),
    );
    assert.equal(r2.status, 201, r2.text);
    const digest = createHash('sha256').update(artifact).digest('hex');

    const byHash = await post(`${s.rekor}/api/v1/index/retrieve`, { hash: `sha256:${digest}` });
    assert.equal(byHash.status, 200);
    const ids = byHash.json as unknown as string[];
    assert.equal(ids.length, 2, 'the v1 and the v2 entry of the same artifact');
    assert.ok(ids.includes(id1));
    const byEmail = await post(`${s.rekor}/api/v1/index/retrieve`, {
      email: 'search.me@signet.test',
    });
    assert.deepEqual((byEmail.json as unknown as string[]).length, 2);
    const byKey = await post(`${s.rekor}/api/v1/index/retrieve`, {
      publicKey: { format: 'x509', content: b64(signer.pem) },
    });
    assert.equal(
      (byKey.json as unknown as string[]).length,
      2,
      'a key finds entries made with its certificate',
    );
    // rekor-cli search --subject: an email SAN whatever its case, as Rekor's index has it
    const bySubject = await post(`${s.rekor}/api/v1/index/retrieve`, {
      subject: 'search.me@signet.test',
    });
    assert.equal(bySubject.status, 200, bySubject.text);
    assert.equal((bySubject.json as unknown as string[]).length, 2);
    const and = await post(`${s.rekor}/api/v1/index/retrieve`, {
      hash: digest,
      email: 'nobody@signet.test',
      operator: 'and',
    });
    assert.deepEqual(and.json, []);

    // v2 identity search is exact: the SAN as the certificate carries it, nothing else.
    const exact = await get(
      `${s.rekor}/api/v2/index?identity=${encodeURIComponent('Search.Me@Signet.Test')}`,
    );
    assert.equal((exact.json as { entries: unknown[] }).entries.length, 2);
    const folded = await get(
      `${s.rekor}/api/v2/index?identity=${encodeURIComponent('search.me@signet.test')}`,
    );
    assert.equal((folded.json as { entries: unknown[] }).entries.length, 0);
    const v2 = await get(
      `${s.rekor}/api/v2/index?issuer=${encodeURIComponent('https://issuer.search.test')}`,
    );
    assert.equal(v2.status, 200);
    assert.equal((v2.json as { entries: unknown[] }).entries.length, 2);
    const v2key = await get(
      `${s.rekor}/api/v2/index?publicKey=${createHash('sha256').update(signer.spki).digest('hex')}&hash=${digest}&operator=and`,
    );
    assert.equal((v2key.json as { entries: unknown[] }).entries.length, 2);
    // indices are int64: JSON strings, as in the TransparencyLogEntry
    for (const e of (v2key.json as { entries: Array<{ logIndex: unknown }> }).entries)
      assert.match(e.logIndex as string, UINT64);
  });

  it('v1 search: a URI subject as the certificate carries it; bare hex names its algorithm by its length', async () => {
    const signer = ecSigner('P-384');
    const san = 'https://github.com/Signet-Dev/Demo/.github/workflows/release.yml@refs/heads/main';
    const cert = certificateFor(signer, san);
    const artifact = Buffer.from(`subject ${Math.random()}`);
    const digest = createHash('sha384').update(artifact).digest('hex');
    const r = await post(`${s.rekor}/api/v1/log/entries`, {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha384', value: digest } },
        signature: {
          content: b64(sign('sha384', artifact, signer.privateKey)),
          publicKey: { content: b64(cert.pem) },
        },
      },
    });
    assert.equal(r.status, 201, r.text);
    const [id] = only(r.json);
    const search = async (q: Record<string, unknown>) => {
      const a = await post(`${s.rekor}/api/v1/index/retrieve`, q);
      assert.equal(a.status, 200, a.text);
      return a.json as unknown as string[];
    };
    assert.deepEqual(await search({ subject: san }), [id]);
    // Rekor's PrefixSHA: 96 hex digits are a sha384 digest, as `sha384:<hex>` is
    assert.deepEqual(await search({ hash: digest }), [id]);
    assert.deepEqual(await search({ hash: `sha384:${digest}` }), [id]);
    const bad = await post(`${s.rekor}/api/v1/index/retrieve`, { subject: '' });
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { field: string }).field, 'subject');
  });

  it('log info, consistency proofs and the public key', async () => {
    const a = (await get(`${s.rekor}/api/v1/log`)).json as {
      treeSize: number;
      rootHash: string;
      signedTreeHead: string;
      treeID: string;
      inactiveShards?: unknown[];
    };
    assert.ok(a.treeSize >= 1);
    assert.equal(a.inactiveShards, undefined, 'omitted when there are none, as Rekor does');
    const raw = (await get(`${s.rekor}/api/v1/log`)).text;
    assert.match(
      raw,
      /^\{"rootHash":"[0-9a-f]{64}","signedTreeHead":".*","treeID":"\d+","treeSize":\d+\}\n$/s,
    );
    const cp = openCheckpoint(a.signedTreeHead, [noteVerifier(host, logKey)], {
      origin: `${host} - ${a.treeID}`,
    });
    assert.equal(hex(cp.rootHash), a.rootHash);
    await post(`${s.rekor}/api/v1/log/entries`, hashedRekordV1(ecSigner(), Buffer.from('grow')));
    const b = (await get(`${s.rekor}/api/v1/log`)).json as { treeSize: number; rootHash: string };
    const proof = await get(
      `${s.rekor}/api/v1/log/proof?firstSize=${a.treeSize}&lastSize=${b.treeSize}`,
    );
    assert.equal(proof.status, 200);
    const pj = proof.json as { rootHash: string; hashes: string[] };
    assert.deepEqual(Object.keys(pj), ['hashes', 'rootHash']);
    assert.equal(pj.rootHash, b.rootHash);
    verifyConsistency(
      a.treeSize,
      b.treeSize,
      pj.hashes.map((h) => new Uint8Array(Buffer.from(h, 'hex'))),
      new Uint8Array(Buffer.from(a.rootHash, 'hex')),
      new Uint8Array(Buffer.from(b.rootHash, 'hex')),
    );
    // lastSize below the current size: the root of that older tree (engine.rootAt)
    const older = await get(`${s.rekor}/api/v1/log/proof?firstSize=1&lastSize=${a.treeSize}`);
    assert.equal(older.status, 200);
    assert.equal((older.json as { rootHash: string }).rootHash, a.rootHash);
    const pk = await get(`${s.rekor}/api/v1/log/publicKey`);
    assert.equal(pk.headers.get('content-type'), 'application/x-pem-file');
    assert.equal(pk.text, logKey.export({ format: 'pem', type: 'spki' }));
  });

  describe('bad input: 4xx naming the field and reason, nothing stored, server keeps serving', () => {
    const signer = ecSigner();
    const good = () => hashedRekordV1(signer, Buffer.from(`good ${Math.random()}`));
    const cases: Array<{
      name: string;
      path: string;
      body: unknown;
      raw?: boolean;
      status: number;
      field?: string;
      match: RegExp;
    }> = [];
    const mutate = (f: (b: ReturnType<typeof good>) => void) => {
      const b = good();
      f(b);
      return b;
    };
    cases.push(
      {
        name: 'malformed JSON',
        path: '/api/v1/log/entries',
        body: '{"kind": "hashedrekord",',
        raw: true,
        status: 400,
        match: /not valid JSON/,
      },
      {
        name: 'unknown kind',
        path: '/api/v1/log/entries',
        body: mutate((b) => (b.kind = 'rpm')),
        status: 400,
        field: 'kind',
        match: /not supported/,
      },
      {
        name: 'a kind named like an Object.prototype member',
        path: '/api/v1/log/entries',
        body: mutate((b) => (b.kind = 'constructor')),
        status: 400,
        field: 'kind',
        match: /not supported/,
      },
      {
        name: 'unknown version',
        path: '/api/v1/log/entries',
        body: mutate((b) => (b.apiVersion = '0.0.9')),
        status: 400,
        field: 'apiVersion',
        match: /not supported/,
      },
      {
        name: 'unknown field',
        path: '/api/v1/log/entries',
        body: mutate((b) => Object.assign(b.spec, { extra: 1 })),
        status: 400,
        field: 'spec.extra',
        match: /not a known field/,
      },
      {
        name: 'bad base64 signature',
        path: '/api/v1/log/entries',
        body: mutate((b) => (b.spec.signature.content = 'not*base64')),
        status: 400,
        field: 'spec.signature.content',
        match: /base64/,
      },
      {
        name: 'bad PEM',
        path: '/api/v1/log/entries',
        body: mutate(
          (b) =>
            (b.spec.signature.publicKey.content = b64(
              '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
            )),
        ),
        status: 400,
        field: 'spec.signature.publicKey.content',
        match: /public key/,
      },
      {
        name: 'not PEM at all',
        path: '/api/v1/log/entries',
        body: mutate((b) => (b.spec.signature.publicKey.content = b64('hello'))),
        status: 400,
        field: 'spec.signature.publicKey.content',
        match: /PEM/,
      },
      {
        name: 'signature that does not match',
        path: '/api/v1/log/entries',
        body: mutate((b) => (b.spec.data.hash.value = 'ab'.repeat(32))),
        status: 400,
        field: 'spec.signature.content',
        match: /does not verify/,
      },
      {
        name: 'digest of the wrong length',
        path: '/api/v1/log/entries',
        body: mutate((b) => (b.spec.data.hash.value = 'abcd')),
        status: 400,
        field: 'spec.data.hash.value',
        match: /64 lowercase hex/,
      },
      {
        name: 'unsupported key type (secp256k1)',
        path: '/api/v1/log/entries',
        body: mutate((b) => {
          const k = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
          b.spec.signature.publicKey.content = b64(
            k.export({ format: 'pem', type: 'spki' }) as string,
          );
        }),
        status: 400,
        field: 'spec.signature.publicKey.content',
        match: /not supported/,
      },
      {
        name: 'v2: both kinds',
        path: '/api/v2/log/entries',
        body: { ...hashedRekordV2(signer, Buffer.from('x')), dsseRequestV002: {} },
        status: 400,
        match: /exactly one/,
      },
      {
        name: 'v2: digest length',
        path: '/api/v2/log/entries',
        body: (() => {
          const b = hashedRekordV2(signer, Buffer.from('x'));
          b.hashedRekordRequestV002.digest = b64(Buffer.alloc(20));
          return b;
        })(),
        status: 400,
        field: 'hashedRekordRequestV002.digest',
        match: /32-byte sha256/,
      },
      {
        name: 'v2: key details not allowed',
        path: '/api/v2/log/entries',
        body: hashedRekordV2(signer, Buffer.from('x'), { keyDetails: 'PKIX_ED25519' }),
        status: 400,
        field: 'hashedRekordRequestV002.signature.verifier.keyDetails',
        match: /not supported/,
      },
      {
        name: 'v2: key details of another key type',
        path: '/api/v2/log/entries',
        body: hashedRekordV2(signer, Buffer.from('x'), { keyDetails: 'PKIX_ECDSA_P384_SHA_384' }),
        status: 400,
        field: 'hashedRekordRequestV002.signature.verifier.keyDetails',
        match: /the key is PKIX_ECDSA_P256/,
      },
      {
        name: 'v2: bad DER certificate',
        path: '/api/v2/log/entries',
        body: hashedRekordV2(signer, Buffer.from('x'), {
          certDer: new Uint8Array([0x30, 0x03, 1, 2, 3]),
        }),
        status: 400,
        field: 'hashedRekordRequestV002.signature.verifier.x509Certificate.rawBytes',
        match: /./,
      },
      {
        name: 'v2: wrong signature',
        path: '/api/v2/log/entries',
        body: hashedRekordV2(signer, Buffer.from('x'), {
          signature: new Uint8Array(Buffer.from('3006020101020101', 'hex')),
        }),
        status: 400,
        field: 'hashedRekordRequestV002.signature.content',
        match: /does not verify/,
      },
      {
        name: 'body over the size limit',
        path: '/api/v1/log/entries',
        body: mutate((b) => Object.assign(b.spec, { pad: 'x'.repeat(20_000) })),
        status: 413,
        match: /16384 bytes/,
      },
      {
        name: 'retrieve: too many',
        path: '/api/v1/log/entries/retrieve',
        body: { logIndexes: Array.from({ length: 11 }, (_, i) => i) },
        status: 422,
        match: /at most 10/,
      },
      {
        name: 'index/retrieve: unsupported key format',
        path: '/api/v1/index/retrieve',
        body: { publicKey: { format: 'pgp', content: 'AAAA' } },
        status: 400,
        field: 'publicKey.format',
        match: /not supported/,
      },
      {
        name: 'index/retrieve: bad hash',
        path: '/api/v1/index/retrieve',
        body: { hash: 'sha256:xyz' },
        status: 400,
        field: 'hash',
        match: /hex/,
      },
    );
    for (const c of cases) {
      it(c.name, async () => {
        const before = await treeSize();
        const r = await post(`${s.rekor}${c.path}`, c.body, c.raw);
        assert.equal(r.status, c.status, r.text);
        const err = r.json as { code: number; message: string; field?: string };
        assertErrorShape(c.name, `/rekor${c.path}`, c.status, r.json);
        assert.match(err.message, c.match);
        // rekor-tiles' shape has no field: the message starts with it
        if (c.field !== undefined)
          if (isGrpcGatewayPath(`/rekor${c.path}`))
            assert.ok(err.message.startsWith(`${c.field}: `));
          else assert.equal(err.field, c.field);
        assert.equal(await treeSize(), before, 'nothing stored');
        const ok = await post(`${s.rekor}/api/v1/log/entries`, good());
        assert.equal(ok.status, 201, 'and the server keeps serving');
      });
    }

    it('an index beyond the tree: 404 for entries, 400 for proofs', async () => {
      const size = await treeSize();
      const r = await get(`${s.rekor}/api/v1/log/entries?logIndex=${size + 5}`);
      assert.equal(r.status, 404);
      assert.equal((r.json as { field: string }).field, 'logIndex');
      const bad = await get(`${s.rekor}/api/v1/log/entries?logIndex=-1`);
      assert.equal(bad.status, 400);
      const p = await get(`${s.rekor}/api/v1/log/proof?firstSize=1&lastSize=${size + 1}`);
      assert.equal(p.status, 400);
      assert.match((p.json as { message: string }).message, /beyond the tree/);
      const u = await get(`${s.rekor}/api/v1/log/entries/${'0'.repeat(64)}`);
      assert.equal(u.status, 404);
      const malformed = await get(`${s.rekor}/api/v1/log/entries/xyz`);
      assert.equal(malformed.status, 400);
      assert.equal((malformed.json as { field: string }).field, 'entryUUID');
    });
  });
});

describe('key rotation: a new shard, old entries stay verifiable', () => {
  it('rotating the rekor key starts shard 2; shard 1 entries keep their global index and proofs', async () => {
    const first = await startRekor();
    const dataDir = first.dataDir;
    const signer = ecSigner();
    const r1 = await post(
      `${first.rekor}/api/v1/log/entries`,
      hashedRekordV1(signer, Buffer.from('before rotation')),
    );
    assert.equal(r1.status, 201);
    const [id1, e1] = only(r1.json);
    await first.close();
    KeyRing.rotate(dataDir, 'rekor');
    const second = await startRekor({ dataDir });
    try {
      const trust = second.service.trust!() as {
        tlogs: Array<{ logId: { keyId: string }; publicKey: { validFor: { end?: string } } }>;
      };
      assert.equal(trust.tlogs.length, 2);
      assert.ok(trust.tlogs[0]!.publicKey.validFor.end, 'the old key has an end');
      assert.notEqual(trust.tlogs[0]!.logId.keyId, trust.tlogs[1]!.logId.keyId);
      const r2 = await post(
        `${second.rekor}/api/v1/log/entries`,
        hashedRekordV1(signer, Buffer.from('after rotation')),
      );
      assert.equal(r2.status, 201, r2.text);
      const [id2, e2] = only(r2.json);
      assert.equal(e2.logIndex, e1.logIndex + 1, 'global index continues across shards');
      assert.equal(e2.verification.inclusionProof.logIndex, 0, 'shard-local index restarts');
      assert.notEqual(id2.slice(0, 16), id1.slice(0, 16), 'a new tree ID');
      assert.notEqual(e2.logID, e1.logID);
      const old = await get(`${second.rekor}/api/v1/log/entries/${id1}`);
      assert.equal(old.status, 200);
      const [, oe] = only(old.json);
      assert.equal(oe.logID, e1.logID);
      assert.equal(oe.logIndex, e1.logIndex);
      const oldKey = createPublicKey(
        KeyRing.open(dataDir, 'rekor', { type: 'ec', curve: 'P-256' }).versions[0]!.key,
      );
      const payload = canonicalBytes({
        body: oe.body,
        integratedTime: oe.integratedTime,
        logID: oe.logID,
        logIndex: oe.logIndex,
      });
      assert.ok(verify('sha256', payload, oldKey, unb64(oe.verification.signedEntryTimestamp)));
      const info = (await get(`${second.rekor}/api/v1/log`)).json as {
        inactiveShards: Array<{ treeSize: number; treeID: string }>;
      };
      assert.equal(info.inactiveShards.length, 1);
      assert.equal(info.inactiveShards[0]!.treeSize, 1);
      const byIndex = await get(`${second.rekor}/api/v1/log/entries?logIndex=${e1.logIndex}`);
      assert.equal(only(byIndex.json)[0], id1);
      // writes to the frozen shard's own v2 URL are refused with 405
      const frozen = await post(
        `${second.rekor}/shards/1/api/v2/log/entries`,
        hashedRekordV2(signer, Buffer.from('late')),
      );
      assert.equal(frozen.status, 405);
      // RFC 9110: a 405 says what is allowed; nothing is served at a frozen shard's write path.
      assert.equal(frozen.headers.get('allow'), '');
      const pk = await get(
        `${second.rekor}/api/v1/log/publicKey?treeID=${info.inactiveShards[0]!.treeID}`,
      );
      assert.equal(pk.text, oldKey.export({ format: 'pem', type: 'spki' }));
    } finally {
      await second.close();
    }
  });
});

describe('tile reads', () => {
  it('checkpoint and tiles of the current shard at the root, under /api/v2 and under /shards/<id>', async () => {
    const s = await startRekor();
    try {
      const signer = ecSigner();
      for (let i = 0; i < 3; i++) {
        const r = await post(
          `${s.rekor}/api/v2/log/entries`,
          hashedRekordV2(signer, Buffer.from(`tile ${i}`)),
        );
        assert.equal(r.status, 201);
      }
      const host = new URL(s.url).host;
      for (const base of ['', '/api/v2', '/shards/1']) {
        const cp = await get(`${s.rekor}${base}/checkpoint`);
        assert.equal(cp.status, 200);
        assert.ok(cp.text.startsWith(`${host}/rekor/shards/1\n3\n`), cp.text);
        const tile = await fetch(`${s.rekor}${base}/tile/0/000.p/3`);
        assert.equal(tile.status, 200);
        assert.equal((await tile.arrayBuffer()).byteLength, 3 * 32);
        const bundle = await fetch(`${s.rekor}${base}/tile/entries/000.p/3`);
        assert.equal(bundle.status, 200);
      }
    } finally {
      await s.close();
    }
  });
});
