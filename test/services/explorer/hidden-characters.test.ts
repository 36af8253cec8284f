// Identities and other values from the log that hold characters which do not show as
// themselves (a right-to-left override, a soft hyphen, a zero-width space): the explorer must
// not let such a value render as another one. Entries are written through the real Rekor API
// with certificates made by a CA of one's own, as anyone can.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStack } from '../../helpers/stack.ts';
import { craftCertificate, emailSan, logCrafted, ownCa } from '../../helpers/crafted-entries.ts';

/** Characters a page must never carry raw: they reorder or hide what is around them. */
const HIDDEN = /(?![\n ])[\p{Cc}\p{Default_Ignorable_Code_Point}\p{Z}]/u;

let stack: Awaited<ReturnType<typeof tempStack>>;
const uuids: string[] = [];

/** No hidden character in `text`; else which one, where. */
function assertShown(text: string): void {
  const m = HIDDEN.exec(text);
  if (m)
    assert.fail(
      `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} raw in the page: ${JSON.stringify(text.slice(m.index - 60, m.index + 20))}`,
    );
}

async function page(path: string): Promise<string> {
  const r = await fetch(`${stack.url}${path}`);
  assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
  return r.text();
}

describe('values that do not show as themselves', () => {
  before(async () => {
    stack = await tempStack();
    const ca = ownCa();
    // Renders as "alice@example.com": the override reverses the text after it.
    uuids.push(
      await logCrafted(
        stack.url,
        craftCertificate(ca, {
          username: '\u202emoc.elpmaxe@ecila',
          extensions: { 12: 'https://github.com/\u2066octo-org/app\u2069' },
        }),
        'reversed',
      ),
    );
    // A soft hyphen (Latin-1 0xAD in an IA5String) shows as nothing inside a word.
    const soft = Buffer.concat([
      Buffer.from('alice@exam'),
      Buffer.of(0xad),
      Buffer.from('ple.com'),
    ]);
    uuids.push(
      await logCrafted(
        stack.url,
        craftCertificate(ca, { sans: [emailSan(soft)], commonName: 'alice\u200b@example.com' }),
        'soft hyphen',
      ),
    );
  });
  after(async () => stack?.close());

  test('an entry page shows each hidden character as a visible code', async () => {
    const reversed = await page(`/entry/${uuids[0]}`);
    assertShown(reversed);
    assert.match(reversed, /\[U\+202E\]moc\.elpmaxe@ecila/);
    assert.match(reversed, /https:\/\/github\.com\/\[U\+2066\]octo-org\/app\[U\+2069\]/);
    const soft = await page(`/entry/${uuids[1]}`);
    assertShown(soft);
    assert.match(soft, /alice@exam\[U\+00AD\]ple\.com/);
    assert.match(soft, /CN=alice\[U\+200B\]@example\.com/);
  });

  test('lists and the reflected search term do too', async () => {
    const home = await page('/');
    assertShown(home);
    assert.match(home, /\[U\+202E\]moc\.elpmaxe@ecila/);
    const search = await page(`/?q=${encodeURIComponent('\u202emoc.elpmaxe@ecila')}`);
    assertShown(search);
    assert.match(search, /Searched for <q class="term">\[U\+202E\]moc\.elpmaxe@ecila<\/q>/);
    assert.match(search, /<strong>1<\/strong> entry/);
  });

  test('the JSON API gives the values as they are', async () => {
    const r = await fetch(`${stack.url}/explorer/api/entries/${uuids[0]}`);
    const body = (await r.json()) as { entry: { signer: string } };
    assert.equal(body.entry.signer, '\u202emoc.elpmaxe@ecila');
  });
});
