import assert from 'node:assert/strict';
import { createPublicKey, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TAG, ctx, oid, tlv } from '../../../src/core/encoding/der.ts';
import { leafHash, verifyInclusion } from '../../../src/core/merkle/index.ts';
import { openCheckpoint } from '../../../src/core/note/checkpoint.ts';
import { noteVerifier } from '../../../src/core/note/keys.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import {
  craftCertificate,
  craftedEntryBody,
  emailSan,
  ownCa,
  type Crafted,
} from '../../helpers/crafted-entries.ts';
import { freshDatabase } from '../../helpers/postgres.ts';
import { dsseV1, ecSigner, hashedRekordV1, statement } from './fixtures.ts';
import { startRekor, type RekorServer } from './harness.ts';

/**
 * Text PostgreSQL cannot store, in what anyone may log: Rekor v1 takes a certificate from a CA
 * of one's own, so its SANs and Fulcio extensions are whatever bytes the submitter likes (a NUL,
 * thousands of multi-byte characters), and an in-toto statement's subjects whatever JSON text
 * (a NUL, a lone surrogate). Such an entry is admitted as Rekor admits it, the entries sequenced
 * with it are admitted and provable, search by its exact identity finds it and by anything
 * else does not, and a search by such text answers, never fails: the same on both backends.
 */

const bytes = (s: string) => new TextEncoder().encode(s);
const uriSan = (v: string): [number, Uint8Array] => [0x86, bytes(v)];
const dnsSan = (v: string): [number, Uint8Array] => [0x82, bytes(v)];
/** Fulcio's username SAN (OtherName 1.3.6.1.4.1.57264.1.7, UTF8String) of exactly `v`. */
const otherNameSan = (v: string): [number, Uint8Array] => [
  0xa0,
  new Uint8Array([...oid('1.3.6.1.4.1.57264.1.7'), ...ctx(0, tlv(TAG.UTF8_STRING, bytes(v)))]),
];
/** `n` random CJK characters: 3 UTF-8 bytes each, and nothing to compress. */
const cjk = (n: number) =>
  String.fromCharCode(...Array.from({ length: n }, () => 0x4e00 + randomInt(0x5000)));

interface Hostile {
  name: string;
  crafted: Crafted;
  /** Searches (v2 index query string) that must find this entry, and ones that must not. */
  finds: string[];
  missing: string[];
}

const LONG = cjk(1000);
const HOSTILE: Hostile[] = [
  {
    name: 'email SAN with a NUL',
    crafted: { sans: [emailSan('mallory@example.com\0victim')] },
    finds: ['identity=mallory%40example.com%00victim'],
    missing: ['identity=mallory%40example.com', 'identity=mallory%40example.com%01victim'],
  },
  {
    name: 'URI SAN with a NUL',
    crafted: { sans: [uriSan('https://example.com/\0')] },
    finds: ['identity=https%3A%2F%2Fexample.com%2F%00'],
    missing: ['identity=https%3A%2F%2Fexample.com%2F'],
  },
  {
    name: 'DNS SAN with a NUL',
    crafted: { sans: [dnsSan('a\0.example')] },
    finds: ['identity=a%00.example'],
    missing: ['identity=a.example'],
  },
  {
    name: 'otherName SAN with a NUL',
    crafted: { sans: [otherNameSan('user\0name')] },
    finds: ['identity=user%00name'],
    missing: ['identity=username'],
  },
  {
    name: 'Fulcio issuer with a NUL',
    crafted: {
      extensions: { 1: 'https://issuer.example/\0', 8: 'https://issuer.example/\0' },
      sans: [emailSan('issuer-nul@example.com')],
    },
    finds: ['issuer=https%3A%2F%2Fissuer.example%2F%00'],
    missing: ['issuer=https%3A%2F%2Fissuer.example%2F'],
  },
  {
    name: 'subject common name with a NUL',
    crafted: { commonName: 'cn\0cn', sans: [emailSan('cn-nul@example.com')] },
    finds: ['identity=cn-nul%40example.com'],
    missing: [],
  },
  {
    // 3000 bytes of UTF-8: more than PostgreSQL takes in an index row. Not indexed, as a SAN
    // over 1015 characters never was: the search answers, finding nothing.
    name: 'otherName SAN of 1000 three-byte characters',
    crafted: { sans: [otherNameSan(LONG)] },
    finds: [],
    missing: [`identity=${encodeURIComponent(LONG)}`],
  },
  {
    // A lone surrogate (JSON can spell one in a query) is no text: it must not find U+FFFD.
    name: 'otherName SAN with U+FFFD',
    crafted: { sans: [otherNameSan('lone-\ufffd')] },
    finds: ['identity=lone-%EF%BF%BD'],
    missing: [],
  },
  {
    // A UTF-8 byte order mark is part of the name, not a signal to drop it.
    name: 'otherName SAN and issuer starting with a byte order mark',
    crafted: {
      sans: [otherNameSan('\ufeffbom-user')],
      extensions: { 1: '\ufeffhttps://bom.example', 8: '\ufeffhttps://bom.example' },
    },
    finds: ['identity=%EF%BB%BFbom-user', 'issuer=%EF%BB%BFhttps%3A%2F%2Fbom.example'],
    missing: ['identity=bom-user', 'issuer=https%3A%2F%2Fbom.example'],
  },
];

interface V1Entry {
  body: string;
  logIndex: number;
  verification: {
    inclusionProof: {
      checkpoint: string;
      hashes: string[];
      logIndex: number;
      rootHash: string;
      treeSize: number;
    };
  };
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`Rekor on ${backend}: text a database may not hold, in entries and searches`, () => {
    let s: RekorServer;
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      let databaseUrl: string | undefined;
      if (backend === 'postgres') ({ url: databaseUrl, drop } = await freshDatabase());
      // A long batch window: every entry of a test is sequenced in one transaction.
      s = await startRekor({ databaseUrl, config: { batchMaxAgeMs: 300 } });
    });
    after(async () => {
      await s?.close();
      await drop?.();
    });

    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${s.rekor}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, text: await r.text() };
    };
    const index = async (query: string) => {
      const r = await fetch(`${s.rekor}/api/v2/index?${query}`);
      const text = await r.text();
      assert.equal(r.status, 200, `${query.slice(0, 80)}: ${text}`);
      return (JSON.parse(text) as { entries: Array<{ logIndex: string }> }).entries.map((e) =>
        Number(e.logIndex),
      );
    };

    /** Checks a v1 answer's inclusion proof and its checkpoint against the log's key. */
    function checkProof(e: V1Entry) {
      const logKey = createPublicKey(
        KeyRing.open(s.dataDir, 'rekor', { type: 'ec', curve: 'P-256' }).current().key,
      );
      const host = new URL(s.url).host;
      const p = e.verification.inclusionProof;
      const body = new Uint8Array(Buffer.from(e.body, 'base64'));
      verifyInclusion(
        leafHash(body),
        p.logIndex,
        p.treeSize,
        p.hashes.map((h) => new Uint8Array(Buffer.from(h, 'hex'))),
        new Uint8Array(Buffer.from(p.rootHash, 'hex')),
      );
      const cp = openCheckpoint(p.checkpoint, [noteVerifier(host, logKey)]);
      assert.equal(cp.size, p.treeSize);
      assert.equal(Buffer.from(cp.rootHash).toString('hex'), p.rootHash);
    }

    it('entries whose certificates carry such text are admitted, with the entries sequenced beside them, and found by exactly that text', async () => {
      const ca = ownCa();
      const good = ecSigner();
      const requests = [
        ...HOSTILE.map((h) => ({
          hostile: h,
          body: craftedEntryBody(craftCertificate(ca, h.crafted), `hostile ${h.name}`),
        })),
        ...Array.from({ length: 8 }, (_, i) => ({
          hostile: undefined,
          body: hashedRekordV1(good, Buffer.from(`good ${i}`)),
        })),
      ];
      const answers = await Promise.all(requests.map((r) => post('/api/v1/log/entries', r.body)));
      const entries = answers.map((a, i) => {
        assert.equal(a.status, 201, `${requests[i]!.hostile?.name ?? 'good entry'}: ${a.text}`);
        return Object.values(JSON.parse(a.text) as Record<string, V1Entry>)[0]!;
      });
      entries.forEach(checkProof);
      // One batch: every entry's proof is against the same tree.
      assert.equal(new Set(entries.map((e) => e.verification.inclusionProof.treeSize)).size, 1);
      for (const [i, r] of requests.entries()) {
        if (!r.hostile) continue;
        for (const q of r.hostile.finds)
          assert.deepEqual(await index(q), [entries[i]!.logIndex], `${r.hostile.name}: ${q}`);
        for (const q of r.hostile.missing)
          assert.deepEqual(await index(q), [], `${r.hostile.name}: ${q.slice(0, 80)}`);
      }
      const v1Subject = async (subject: string) => {
        const a = await post('/api/v1/index/retrieve', { subject });
        assert.equal(a.status, 200, a.text);
        return (JSON.parse(a.text) as string[]).length;
      };
      assert.equal(await v1Subject('lone-\ufffd'), 1);
      assert.equal(await v1Subject('lone-\ud800'), 0, 'a lone surrogate is not U+FFFD');
      assert.equal(await v1Subject('lone-\udfff'), 0, 'a lone surrogate is not U+FFFD');
      // Rekor v1's SearchIndex, by email (case-insensitive) and by subject (exact).
      const nul = entries[0]!.logIndex;
      const v1 = async (q: unknown) => {
        const a = await post('/api/v1/index/retrieve', q);
        assert.equal(a.status, 200, a.text);
        return (JSON.parse(a.text) as string[]).length;
      };
      assert.equal(await v1({ email: 'MALLORY@example.com\0victim' }), 1);
      assert.equal(await v1({ subject: 'mallory@example.com\0victim' }), 1);
      assert.equal(await v1({ email: 'mallory@example.com' }), 0);
      assert.ok(nul >= 0);
    });

    it('attestations whose subjects hold such text are admitted beside good entries', async () => {
      const signer = ecSigner();
      // JSON text may spell a NUL and a lone surrogate; the payload is what was signed.
      const payloads = [
        '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256\\u0000":"ab\\u0000cd"}}],"predicateType":"x","predicate":{}}',
        '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"\\ud800":"\\udc00"}}],"predicateType":"x","predicate":{}}',
        `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"${'\\u0000'.repeat(1000)}"}}],"predicateType":"x","predicate":{}}`,
      ];
      const requests = [
        ...payloads.map((p) => dsseV1(signer, Buffer.from(p))),
        ...Array.from({ length: 4 }, (_, i) => dsseV1(signer, statement(`${i}`.repeat(64)))),
      ];
      const answers = await Promise.all(requests.map((r) => post('/api/v1/log/entries', r)));
      for (const a of answers) assert.equal(a.status, 201, a.text);
      answers.forEach((a) =>
        checkProof(Object.values(JSON.parse(a.text) as Record<string, V1Entry>)[0]!),
      );
    });

    it("a subject's digest is indexed as a digest, never as another kind of search key", async () => {
      const signer = ecSigner();
      const fingerprint = 'f'.repeat(64);
      const digest = 'AB'.repeat(32);
      const payload = JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [
          {
            name: 'a',
            digest: {
              identity: 'victim@example.com',
              email: 'victim@example.com',
              issuer: 'https://accounts.example',
              key: fingerprint,
              sha256: digest,
            },
          },
        ],
        predicateType: 'x',
        predicate: {},
      });
      const a = await post('/api/v1/log/entries', dsseV1(signer, Buffer.from(payload)));
      assert.equal(a.status, 201, a.text);
      const { logIndex } = Object.values(JSON.parse(a.text) as Record<string, V1Entry>)[0]!;
      assert.deepEqual(await index('identity=victim%40example.com'), []);
      assert.deepEqual(await index('issuer=https%3A%2F%2Faccounts.example'), []);
      assert.deepEqual(await index(`publicKey=${fingerprint}`), []);
      const v1 = await post('/api/v1/index/retrieve', { email: 'victim@example.com' });
      assert.deepEqual(JSON.parse(v1.text), []);
      assert.deepEqual(await index(`hash=sha256:${digest.toLowerCase()}`), [logIndex]);
    });

    it('a search by text no entry can be indexed under answers not found', async () => {
      for (const q of ['identity=%00', 'issuer=%00', 'identity=a%00b', 'identity=%01'])
        assert.deepEqual(await index(q), [], q);
      // JSON can spell a lone surrogate (a URL cannot: %ED%A0%80 is not UTF-8).
      for (const q of [{ email: 'a\ud800@b' }, { subject: '\udc00' }, { email: '\0@\0' }]) {
        const a = await post('/api/v1/index/retrieve', q);
        assert.equal(a.status, 200, `${JSON.stringify(q)}: ${a.text}`);
        assert.deepEqual(JSON.parse(a.text), []);
      }
    });
  });
}
