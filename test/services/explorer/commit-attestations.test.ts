// Commit attestations (an in-toto statement whose subject is a git commit, `gitCommit`, as
// `signet-gitsign attest` makes them) are found in the explorer by the commit's ID, as an
// artifact's attestations are by its digest: 40 hex digits (SHA-1 repositories) or 64
// (SHA-256 ones), or `gitCommit:<id>` as an entry page links a statement's subject. The
// commits are a real git's, in repositories of both object formats.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { toHex } from '../../../src/core/encoding/hex.ts';
import { leafHash } from '../../../src/core/merkle/hash.ts';
import { gitStatement, headObject } from '../../../src/client/git/attest.ts';
import { signEnvelope } from '../../../src/client/sign/index.ts';
import { INTOTO_PAYLOAD_TYPE } from '../../../src/core/intoto/index.ts';
import { fromBase64 } from '../../../src/core/encoding/base64.ts';
import { commitRepository } from '../../helpers/git-commits.ts';
import {
  ALICE,
  plainExplorerStack,
  signingAs,
  type ExplorerStack,
} from '../../e2e/explorer-stack.ts';
import { dsseV2, ecSigner, logIntotoAs } from '../rekor/fixtures.ts';

let stack: ExplorerStack;
const uuid: Record<string, string> = {};
const commits: Record<string, string> = {};
const PREDICATE = new TextEncoder().encode('{"reviewed":true}');

interface Found {
  query: { kind: string };
  total: number;
  items: Array<{ uuid: string }>;
}
async function search(q: string): Promise<Found> {
  const r = await fetch(`${stack.url}/explorer/api/search?q=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, q);
  return (await r.json()) as Found;
}
const uuids = (f: Found) => f.items.map((i) => i.uuid).sort();

describe('commit attestations in the explorer', () => {
  before(async () => {
    stack = await plainExplorerStack();
    const sha1 = commitRepository('sha1');
    const sha256 = commitRepository('sha256');
    commits.head = sha1.head;
    commits.parent = sha1.parent;
    commits.head256 = sha256.head;
    assert.equal(await headObject(sha1.dir, 'commit'), sha1.head);
    assert.match(sha256.head, /^[0-9a-f]{64}$/);
    const about = (commit: string) =>
      gitStatement('commit', commit, 'https://example.com/review/v1', PREDICATE, 'predicate');

    // As signet-gitsign attest signs and logs it: keyless, Rekor v1 (a dsse entry).
    const { ctx } = await signingAs(stack, { rekorVersion: 1 });
    const e = (await signEnvelope(about(sha1.head), INTOTO_PAYLOAD_TYPE, ctx)).verificationMaterial
      .tlogEntries[0]!;
    assert.equal(`${e.kind} ${e.kindVersion}`, 'dsse 0.0.1');
    uuid.dsse = toHex(leafHash(e.canonicalizedBody));
    // Through Rekor v2's dsse entry (a client that sends the envelope).
    const r = await fetch(`${stack.url}/rekor/api/v2/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(dsseV2(ecSigner(), about(sha1.head))),
    });
    assert.equal(r.status, 201, await r.clone().text());
    const body = ((await r.json()) as { canonicalizedBody: string }).canonicalizedBody;
    uuid.v2 = toHex(leafHash(fromBase64(body, 'body')));
    // A SHA-256 repository's commit, as an intoto entry (the log keeps its statement).
    uuid.intoto = await logIntotoAs(stack.url, ALICE, about(sha256.head));
    // 40 hex digits are a SHA-1 digest's form too: an attestation about a file by its SHA-1.
    commits.fileSha1 = createHash('sha1').update('a file').digest('hex');
    uuid.file = await logIntotoAs(
      stack.url,
      ALICE,
      new TextEncoder().encode(
        JSON.stringify({
          _type: 'https://in-toto.io/Statement/v1',
          subject: [{ name: 'a.txt', digest: { sha1: commits.fileSha1 } }],
          predicateType: 'https://example.com/review/v1',
          predicate: {},
        }),
      ),
    );
  });
  after(async () => stack?.close());

  test('a commit ID (40 hex digits) finds the attestations about that commit, whichever API logged them', async () => {
    const found = await search(commits.head!);
    assert.equal(found.query.kind, 'commit');
    assert.deepEqual(uuids(found), [uuid.dsse, uuid.v2].sort());
    // As the statement names it, in any case; and no other commit's.
    assert.deepEqual(uuids(await search(`gitCommit:${commits.head!.toUpperCase()}`)), uuids(found));
    assert.equal((await search(commits.parent!)).total, 0);
    // Bare, a SHA-1 digest is searched too; named a commit, only a commit.
    assert.deepEqual(uuids(await search(commits.fileSha1!)), [uuid.file]);
    assert.equal((await search(`gitCommit:${commits.fileSha1}`)).total, 0);
    // The results page says what the term was taken for.
    const page = await (await fetch(`${stack.url}/?q=${commits.head}`)).text();
    assert.match(page, /as a git commit ID or SHA-1 digest:\s*<strong>2<\/strong>/);
    // An empty commit search says what it covers and what to search for a commit's signature.
    const none = await (await fetch(`${stack.url}/?q=${commits.parent}`)).text();
    assert.match(
      none,
      /No entry of this log matches <q class="term">[0-9a-f]{40}<\/q>\. A commit ID finds attestations about that commit, not the commit's own signature[\s\S]*search its SHA-256 fingerprint instead\./,
    );
    // Other empty searches say only that.
    const other = await (await fetch(`${stack.url}/?q=${'ab'.repeat(32)}`)).text();
    assert.match(other, /No entry of this log matches <q class="term">[0-9a-f]{64}<\/q>\.<\/p>/);
  });

  test('a SHA-256 repository’s commit ID (64 hex digits) finds its attestation too', async () => {
    const found = await search(commits.head256!);
    assert.equal(found.query.kind, 'hex');
    assert.deepEqual(uuids(found), [uuid.intoto]);
    assert.deepEqual(uuids(await search(`gitcommit:${commits.head256}`)), [uuid.intoto]);
  });

  test('the entry page’s subject links the search by the commit, which finds the entry', async () => {
    const html = await (await fetch(`${stack.url}/entry/${uuid.intoto}`)).text();
    const link = `/?q=gitCommit%3A${commits.head256}`;
    assert.ok(html.includes(`<a href="${link}">gitCommit:${commits.head256}</a>`), html);
    const results = await (await fetch(`${stack.url}${link}`)).text();
    assert.match(results, /as a git commit ID:\s*<strong>1<\/strong>/);
    assert.ok(results.includes(`data-uuid="${uuid.intoto}"`));
  });

  test('a gitCommit: term that is no commit ID is refused, saying why', async () => {
    for (const q of [
      'gitCommit:abc123',
      `gitCommit:${'a'.repeat(41)}`,
      `gitCommit: ${'a'.repeat(40)}`,
    ]) {
      const r = await fetch(`${stack.url}/explorer/api/search?q=${encodeURIComponent(q)}`);
      assert.equal(r.status, 400, q);
      assert.match(
        ((await r.json()) as { message: string }).message,
        /^q: ".*" is not gitCommit:<a commit ID: 40 hex digits, or 64 in a SHA-256 repository>$/,
      );
    }
  });
});
