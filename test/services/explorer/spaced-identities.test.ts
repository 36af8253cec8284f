// Identities with spaces in them: an email SAN in its display form, a URI, a username (Fulcio's
// otherName). The explorer finds each by the SAN exactly as the certificate carries it, and
// nothing by a part of it. Entries are written through the real Rekor API with certificates
// from a CA of one's own, as anyone can.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStack } from '../../helpers/stack.ts';
import { craftCertificate, emailSan, logCrafted, ownCa } from '../../helpers/crafted-entries.ts';
import { MAX_TERM_LENGTH, parseSearchTerm } from '../../../src/services/explorer/query.ts';

const DISPLAY = 'Jane Doe <jane@example.com>';
const URI = 'https://ci.example/build pipeline/run 7';
const USERNAME = 'Jane Doe';
/** An email SAN longer than the search terms were once allowed to be (512). */
const LONG = `${'long name '.repeat(60)}<long@example.com>`;

let stack: Awaited<ReturnType<typeof tempStack>>;
const uuid: Record<string, string> = {};

async function search(q: string): Promise<{ status: number; kind?: string; uuids: string[] }> {
  const r = await fetch(`${stack.url}/explorer/api/search?q=${encodeURIComponent(q)}`);
  const body = (await r.json()) as { query?: { kind: string }; items?: Array<{ uuid: string }> };
  return {
    status: r.status,
    ...(body.query ? { kind: body.query.kind } : {}),
    uuids: (body.items ?? []).map((i) => i.uuid),
  };
}

describe('identities holding spaces', () => {
  before(async () => {
    stack = await tempStack();
    const ca = ownCa();
    uuid.display = await logCrafted(
      stack.url,
      craftCertificate(ca, { sans: [emailSan(DISPLAY)] }),
      'display form',
    );
    uuid.uri = await logCrafted(
      stack.url,
      craftCertificate(ca, { sans: [[0x86, new TextEncoder().encode(URI)]] }),
      'uri',
    );
    uuid.username = await logCrafted(stack.url, craftCertificate(ca, { username: USERNAME }), 'u');
    uuid.plain = await logCrafted(
      stack.url,
      craftCertificate(ca, { sans: [emailSan('jane@example.com')] }),
      'plain',
    );
    uuid.long = await logCrafted(stack.url, craftCertificate(ca, { sans: [emailSan(LONG)] }), 'l');
    uuid.padded = await logCrafted(stack.url, craftCertificate(ca, { username: ' Jane ' }), 'p');
  });
  after(async () => stack?.close());

  test('each is found by the whole SAN, exactly, through the JSON API', async () => {
    assert.deepEqual(await search(DISPLAY), {
      status: 200,
      kind: 'identity',
      uuids: [uuid.display],
    });
    // An email SAN in any case, as Rekor's email search.
    assert.deepEqual((await search(DISPLAY.toUpperCase())).uuids, [uuid.display]);
    assert.deepEqual((await search(URI)).uuids, [uuid.uri]);
    assert.deepEqual((await search(USERNAME)).uuids, [uuid.username]);
    assert.deepEqual((await search(LONG)).uuids, [uuid.long]);
    // Spaces pasted around a term are dropped...
    assert.deepEqual((await search(`  ${URI} `)).uuids, [uuid.uri]);
    // ...unless the SAN has them: its entry page links it as it is.
    assert.deepEqual((await search(' Jane ')).uuids, [uuid.padded]);
  });

  test('nothing is found by a part of a SAN, or by more than it', async () => {
    for (const q of [
      'Jane',
      'Doe',
      'Jane Doe <jane@example.com',
      'Jane Doe  <jane@example.com>',
      'https://ci.example/build pipeline',
      `${URI}/more`,
      'Jane Doe jane@example.com',
    ])
      assert.deepEqual(await search(q), { status: 200, kind: 'identity', uuids: [] }, q);
    // The bare address is another SAN, not this one.
    assert.deepEqual((await search('jane@example.com')).uuids, [uuid.plain]);
  });

  test('the search page lists it and keeps the term; the entry page links the SAN whole', async () => {
    const r = await fetch(`${stack.url}/?q=${encodeURIComponent(DISPLAY).replaceAll('%20', '+')}`);
    assert.equal(r.status, 200);
    const page = await r.text();
    assert.match(page, /<strong>1<\/strong> entry/);
    assert.ok(page.includes(`data-uuid="${uuid.display}"`));
    assert.ok(page.includes('value="Jane Doe &#60;jane@example.com&#62;"'));
    // The entry page links the identity to exactly this search.
    const entry = await (await fetch(`${stack.url}/entry/${uuid.display}`)).text();
    assert.ok(entry.includes(`href="/?q=${encodeURIComponent(DISPLAY)}"`), entry);
    const padded = await (await fetch(`${stack.url}/entry/${uuid.padded}`)).text();
    assert.ok(padded.includes(`href="/?q=${encodeURIComponent(' Jane ')}"`));
  });

  test('a key signer as lists name it (`public key sha256:…`) is a fingerprint search', () => {
    assert.deepEqual(parseSearchTerm(`public key sha256:${'AB'.repeat(32)}`), {
      kind: 'digest',
      key: `sha256:${'ab'.repeat(32)}`,
    });
  });

  test('control characters are refused, naming the one found; length is the index’s', async () => {
    const r = await fetch(`${stack.url}/?q=${encodeURIComponent('Jane\tDoe')}`);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /q: holds the control character U\+0009/);
    assert.equal(MAX_TERM_LENGTH, 1015);
    const long = await search('x'.repeat(MAX_TERM_LENGTH + 1));
    assert.equal(long.status, 400);
    // Fewer characters, more bytes than an index row takes (3 bytes each).
    const wide = await fetch(
      `${stack.url}/explorer/api/search?q=${encodeURIComponent('中'.repeat(700))}`,
    );
    assert.equal(wide.status, 400);
    assert.match(
      await wide.text(),
      /q: is 2100 bytes long in UTF-8; a search term is at most 2039/,
    );
  });
});
