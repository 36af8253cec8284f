// Every lookup by untrusted text, on a whole stack over SQLite and over PostgreSQL: the text a
// database may not take (a NUL, bytes that are not UTF-8, a lone surrogate a JSON body can
// spell, more bytes than an index row holds) in each search and lookup the stack serves. Each
// answers "not found" (200 with nothing, or 404) or a 400 naming the parameter: never a 5xx,
// and the same on both backends.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tempStack } from '../helpers/stack.ts';
import { freshDatabase } from '../helpers/postgres.ts';

const CJK = '中'.repeat(700); // 2100 bytes of UTF-8
const enc = encodeURIComponent;

/** GET paths: the query's untrusted text spelled every way a URL can. */
const GETS = [
  ...['%00', 'a%00b', '%01', '%FF', '%ED%A0%80', '%EF%BF%BD', enc(CJK), 'x'.repeat(3000)].flatMap(
    (v) => [
      `/rekor/api/v2/index?identity=${v}`,
      `/rekor/api/v2/index?issuer=${v}`,
      `/rekor/api/v2/index?hash=${v}`,
      `/rekor/api/v2/index?publicKey=${v}`,
      `/rekor/api/v2/index?identity=${v}&issuer=${v}&operator=and`,
      `/explorer/api/search?q=${v}`,
      `/explorer/api/search?q=issuer%3A${v}`,
      `/explorer/api/search?q=sha256%3A${v}`,
      `/?q=${v}`,
      `/explorer/api/entries/${v}`,
      `/rekor/api/v1/log/entries/${v}`,
      `/rekor/api/v1/log/entries?logIndex=${v}`,
      `/ctlog/ct/v1/get-proof-by-hash?hash=${v}&tree_size=1`,
    ],
  ),
];

/** POST bodies: JSON can also spell a lone surrogate. */
const POSTS: Array<[string, unknown]> = [
  '\0',
  'a\0@b.c',
  '\ud800',
  'a\udc00@b.c',
  '\ufffd@b.c',
  `a@${CJK}`,
].flatMap((v): Array<[string, unknown]> => [
  ['/rekor/api/v1/index/retrieve', { email: v.includes('@') ? v : `${v}@x.y` }],
  ['/rekor/api/v1/index/retrieve', { subject: v }],
  ['/rekor/api/v1/index/retrieve', { hash: v }],
  ['/rekor/api/v1/index/retrieve', { subject: v, email: 'a@b.c', operator: 'and' }],
  ['/rekor/api/v1/index/retrieve', { publicKey: { format: 'x509', content: v } }],
  ['/rekor/api/v1/log/entries/retrieve', { entryUUIDs: [v] }],
  ['/rekor/api/v1/log/entries/retrieve', { logIndexes: [v] }],
]);

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`lookups by untrusted text on ${backend}`, () => {
    let stack: Awaited<ReturnType<typeof tempStack>>;
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      let databaseUrl: string | undefined;
      if (backend === 'postgres') ({ url: databaseUrl, drop } = await freshDatabase());
      stack = await tempStack({ databaseUrl });
    });
    after(async () => {
      await stack?.close();
      await drop?.();
    });

    /** Not found, or refused naming what: never a server failure. (HTML: the explorer's page.) */
    function check(what: string, status: number, text: string) {
      assert.ok(
        [200, 400, 404, 414].includes(status),
        `${what.slice(0, 100)}: ${status} ${text.slice(0, 300)}`,
      );
      if (status === 200 && !text.startsWith('<')) {
        const j = JSON.parse(text) as unknown;
        const found = Array.isArray(j)
          ? j
          : ((j as { entries?: unknown[]; items?: unknown[] }).entries ??
            (j as { items?: unknown[] }).items ??
            []);
        assert.deepEqual(found, [], `${what}: ${text.slice(0, 300)}`);
      }
      // A JSON refusal names the parameter it refuses (a path segment: the entry named).
      const field =
        status === 400 && text.startsWith('{')
          ? (JSON.parse(text) as { field?: string }).field
          : undefined;
      if (field !== undefined) {
        const name = field.replace(/[[.].*$/, '');
        assert.ok(
          what.includes(name) || (/^entry(UUID)?$/.test(name) && what.includes('/entries/')),
          `${what.slice(0, 100)}: ${text}`,
        );
      }
    }

    it('GET searches and lookups answer not found or 400, never 5xx', async () => {
      for (const p of GETS) {
        const r = await fetch(`${stack.url}${p}`, { headers: { accept: 'application/json' } });
        check(p, r.status, await r.text());
      }
    });

    it('POST searches and lookups answer not found or 400, never 5xx', async () => {
      for (const [p, body] of POSTS) {
        const r = await fetch(`${stack.url}${p}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        check(`${p} ${JSON.stringify(body)}`, r.status, await r.text());
      }
    });
  });
}
