// What an attestation's entry page says its digests are of. Rekor v2 logs a keyless (ECDSA)
// DSSE envelope as a hashedrekord over the digest of the envelope's PAE (rekor-tiles dsse.proto:
// "use HashedRekordRequestV002 with the hash of the DSSE PAE instead"): that digest is what the
// signature covers, not the attested file's. Rekor v1 dsse and intoto entries record the
// payload's and the envelope's digests; an intoto entry's payload is kept, so its subjects show.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pae } from '../../../src/core/dsse/index.ts';
import { toHex } from '../../../src/core/encoding/hex.ts';
import { leafHash } from '../../../src/core/merkle/hash.ts';
import { describeEntryBody } from '../../../src/core/rekor/index.ts';
import { signEnvelope } from '../../../src/client/sign/index.ts';
import { attestationOf } from '../../../src/services/explorer/view.ts';
import {
  ALICE,
  plainExplorerStack,
  signingAs,
  type ExplorerStack,
} from '../../e2e/explorer-stack.ts';
import { ecSigner, intotoV2, logIntotoAs } from '../rekor/fixtures.ts';

const TYPE = 'application/vnd.in-toto+json';
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const file = 'the attested file\n';
const statement = new TextEncoder().encode(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'file.txt', digest: { sha256: sha256(file) } }],
    predicateType: 'https://example.com/review/v1',
    predicate: { ok: true },
  }),
);

let stack: ExplorerStack;
const uuid: Record<string, string> = {};

/** The summary of an entry page: each label with its value's text. */
async function summary(u: string): Promise<Array<[string, string]>> {
  const html = await (await fetch(`${stack.url}/entry/${u}`)).text();
  const dl = /<dl class="grid">([\s\S]*?)<\/dl>/.exec(html)![1]!;
  const text = (h: string) =>
    h
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .replaceAll('&#39;', "'")
      .trim();
  return [...dl.matchAll(/<dt>([\s\S]*?)<\/dt>\s*<dd[^>]*>([\s\S]*?)<\/dd>/g)].map((m) => [
    text(m[1]!),
    text(m[2]!),
  ]);
}

describe('attestation entries: what their digests are of', () => {
  before(async () => {
    stack = await plainExplorerStack();
    for (const rekorVersion of [2, 1] as const) {
      const { ctx } = await signingAs(stack, { rekorVersion });
      const e = (await signEnvelope(statement, TYPE, ctx)).verificationMaterial.tlogEntries[0]!;
      uuid[`v${rekorVersion}`] = toHex(leafHash(e.canonicalizedBody));
      assert.equal(
        `${e.kind} ${e.kindVersion}`,
        rekorVersion === 2 ? 'hashedrekord 0.0.2' : 'dsse 0.0.1',
      );
    }
    uuid.intoto = await logIntotoAs(stack.url, ALICE, statement, TYPE);
    uuid.text = await logIntotoAs(
      stack.url,
      ALICE,
      new TextEncoder().encode('not a statement'),
      'text/plain',
    );
  });
  after(async () => stack?.close());

  test('a keyless Rekor v2 attestation: the signed digest is the PAE’s, and the page says it may not be a file’s', async () => {
    const rows = await summary(uuid.v2!);
    const digest = rows.find(([k]) => k === 'Signed digest');
    assert.ok(digest, JSON.stringify(rows));
    assert.equal(
      digest[1].split(' ')[0],
      `sha256:${sha256(pae(TYPE, statement))}`, // not the file's, nor the payload's
    );
    assert.match(
      digest[1],
      /What the signature covers: a signed file's digest or, for an attestation logged by digest \(as Rekor v2 logs DSSE envelopes\), the digest of its DSSE pre-authentication encoding \(payload type and payload\), not of the file it is about\. The entry does not say which\.$/,
    );
    assert.deepEqual(
      rows.map(([k]) => k).filter((k) => /digest|Subject|Artifact/.test(k)),
      ['Signed digest'],
    );
  });

  test('a Rekor v1 dsse attestation: payload and envelope digests; the log keeps no payload to show subjects from', async () => {
    const rows = new Map(await summary(uuid.v1!));
    assert.equal(rows.get('Payload digest'), `sha256:${sha256(statement)}`);
    assert.match(rows.get('Envelope digest')!, /^sha256:[0-9a-f]{64}$/);
    assert.equal(
      rows.get('Subjects'),
      "Not shown: the log keeps the payload's digest, not the payload (as Rekor's dsse type does); an in-toto statement's subjects are indexed, so a search by a subject's digest finds this entry.",
    );
    assert.ok(!rows.has('Signed digest'));
    const found = (await (
      await fetch(`${stack.url}/explorer/api/search?q=sha256:${sha256(file)}`)
    ).json()) as { items: Array<{ uuid: string }> };
    assert.ok(found.items.some((i) => i.uuid === uuid.v1));
  });

  test('a Rekor v1 intoto attestation: its subjects from the statement the log keeps, each a search', async () => {
    const rows = new Map(await summary(uuid.intoto!));
    assert.equal(rows.get('Payload digest'), `sha256:${sha256(statement)}`);
    assert.equal(rows.get('Predicate type'), 'https://example.com/review/v1');
    assert.equal(
      rows.get('Subjects'),
      `file.txt sha256:${sha256(file)} From the in-toto statement the log keeps with this entry, checked against its payload digest.`,
    );
    const html = await (await fetch(`${stack.url}/entry/${uuid.intoto}`)).text();
    assert.ok(html.includes(`<a href="/?q=sha256%3A${sha256(file)}">sha256:${sha256(file)}</a>`));
    // A payload that is no statement: said so, nothing made up.
    assert.equal(
      new Map(await summary(uuid.text!)).get('Subjects'),
      'Not shown: the payload is text/plain, not an in-toto statement.',
    );
  });

  test('a stored payload that does not hash to the logged payload digest is not believed', () => {
    const s = ecSigner();
    const body = intotoV2(s, statement);
    body.spec.content.envelope.signatures[0]!.publicKey = Buffer.from(s.pem).toString('base64');
    const canonical = {
      apiVersion: '0.0.2',
      kind: 'intoto',
      spec: {
        content: {
          envelope: { payloadType: TYPE, signatures: [] },
          hash: body.spec.content.hash,
          payloadHash: { algorithm: 'sha256', value: sha256(statement) },
        },
      },
    };
    const d = describeEntryBody(new TextEncoder().encode(JSON.stringify(canonical)));
    assert.equal(attestationOf(d, statement)?.kind, 'statement');
    const other = new TextEncoder().encode(
      new TextDecoder().decode(statement).replace(sha256(file), '0'.repeat(64)),
    );
    assert.deepEqual(attestationOf(d, other), {
      kind: 'unavailable',
      reason:
        'the attestation stored with this entry does not hash to the payload digest the entry records, so it is not shown',
    });
    assert.deepEqual(attestationOf(d, undefined), {
      kind: 'unavailable',
      reason:
        'the log did not keep this attestation (it keeps those up to 100 KiB), only its digest',
    });
  });
});
