import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import path from 'node:path';
import {
  MAX_SEARCH_KEY,
  MAX_STORED_KEY_BYTES,
  searchKeyFromStored,
  storedSearchKey,
} from '../../src/log/search-key.ts';
import { BACKENDS, backend, type Backend } from './helpers.ts';

const leaf = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

/** Every string of `alphabet` up to `n` characters long. */
function strings(alphabet: string[], n: number): string[] {
  let level = [''];
  const out = [''];
  for (let i = 0; i < n; i++) {
    level = level.flatMap((s) => alphabet.map((c) => s + c));
    out.push(...level);
  }
  return out;
}

describe('the stored form of a search key', () => {
  test('distinct keys have distinct stored forms, none holding a NUL', () => {
    const keys = strings(['\0', '\u0001', '\u0002', 'a'], 7);
    const stored = new Map<string, string>();
    for (const k of keys) {
      const s = storedSearchKey(k)!;
      assert.ok(!s.includes('\0'), JSON.stringify(k));
      const before = stored.get(s);
      assert.equal(before, undefined, `${JSON.stringify(before)} and ${JSON.stringify(k)}`);
      stored.set(s, k);
    }
  });

  test('the stored form reads back as the key it was made from', () => {
    for (const k of strings(['\0', '\u0001', '\u0002', 'a'], 6))
      assert.equal(searchKeyFromStored(storedSearchKey(k)!), k, JSON.stringify(k));
  });

  test('a key without a NUL that does not start with U+0001 is stored as it is', () => {
    for (const k of ['identity:a@b.c', 'x\u0001', 'é中😀', 'a\u0002', '\u0002', ''])
      assert.equal(storedSearchKey(k), k);
    assert.equal(storedSearchKey('a\0b'), '\u0001a\u0001\u0002b');
    assert.equal(storedSearchKey('\u0001'), '\u0001\u0001\u0001');
  });

  test('a lone surrogate, or a key too long for an index row, has no stored form', () => {
    for (const k of ['\ud800', 'a\udc00', '\udc00\ud800', `x${'\ud83d'}`])
      assert.equal(storedSearchKey(k), undefined, JSON.stringify(k));
    assert.equal(storedSearchKey('😀'), '😀');
    assert.equal(storedSearchKey('a'.repeat(MAX_SEARCH_KEY)), 'a'.repeat(MAX_SEARCH_KEY));
    assert.equal(storedSearchKey('a'.repeat(MAX_SEARCH_KEY + 1)), undefined);
    assert.ok(storedSearchKey('é'.repeat(MAX_SEARCH_KEY))); // 2048 bytes
    const third = Math.floor(MAX_STORED_KEY_BYTES / 3);
    assert.ok(storedSearchKey('中'.repeat(third))); // 2046 bytes
    assert.equal(storedSearchKey('中'.repeat(third + 1)), undefined); // 2049 bytes
    // Escaped: one byte of mark and two per NUL.
    const nuls = Math.floor((MAX_STORED_KEY_BYTES - 1) / 2);
    assert.ok(storedSearchKey('\0'.repeat(nuls)));
    assert.equal(storedSearchKey('\0'.repeat(nuls + 1)), undefined);
  });
});

for (const kind of BACKENDS) {
  describe(`search keys on ${kind}`, () => {
    let b: Backend;
    before(async () => {
      b = await backend(kind);
    });
    after(async () => {
      await b.cleanup();
    });

    test('any text is indexed and found exactly; what no store holds is not indexed, and not found', async () => {
      const log = await b.open({ name: 'text' });
      const keys = [
        'k:a\0b',
        'k:a',
        'k:a\0c',
        '\u0001k:a\u0001\u0002b', // the stored form of the first, as a key of its own
        '\u0001',
        'k:\ufffd',
        'k:\ud800', // not indexed
        `k:${'中'.repeat(700)}`, // not indexed: 2103 bytes
      ];
      // One batch: the unstorable keys leave every entry of it in the log.
      const results = await Promise.all(
        keys.map((k, i) => log.append({ leaf: leaf(`entry ${i}`), searchKeys: [k, 'all'] })),
      );
      assert.deepEqual(
        results.map((r) => r.index).sort((x, y) => x - y),
        keys.map((_, i) => i),
      );
      for (const [i, k] of keys.entries()) {
        const found = await log.search(k);
        assert.deepEqual(found, i < 6 ? [results[i]!.index] : [], JSON.stringify(k.slice(0, 20)));
      }
      assert.deepEqual(await log.search('k:\udfff'), []);
      assert.equal((await log.search('all')).length, keys.length);
      // A migration changes such keys as it changes any.
      const first = results[0]!.index;
      await log.updateSearchKeys([
        { index: first, remove: ['k:a\0b', 'k:\ud800'], add: ['k:\0', 'k:\udbff'] },
      ]);
      assert.deepEqual(await log.search('k:a\0b'), []);
      assert.deepEqual(await log.search('k:\0'), [first]);
      assert.deepEqual(await log.search('k:\udbff'), []);
      await log.close();
    });

    test('the index is read whole a page at a time, keys as they were given', async () => {
      const log = await b.open({ name: 'pages' });
      const keys = ['b', 'a\0x', 'c', '\u0001y', 'a'];
      await Promise.all(
        keys.map((k, i) => log.append({ leaf: leaf(`page ${i}`), searchKeys: [k, 'z'] })),
      );
      const rows: Array<{ key: string; index: number }> = [];
      let after;
      let pages = 0;
      do {
        const page = await log.searchPage(after, 3);
        assert.ok(page.rows.length <= 3);
        rows.push(...page.rows);
        after = page.next;
        pages++;
      } while (after);
      assert.equal(pages, 4); // 10 rows: 3 + 3 + 3 + 1
      const want = keys.flatMap((k, i) => [`${k} ${i}`, `z ${i}`]);
      assert.deepEqual(rows.map((r) => `${r.key} ${r.index}`).sort(), want.sort());
      assert.equal(new Set(rows.map((r) => `${r.key} ${r.index}`)).size, rows.length);
      await assert.rejects(log.searchPage(undefined, 0), /limit: must be a positive integer/);
      await log.close();
    });
  });
}

test('SQLite: keys with a NUL stored as they were before are found after the upgrade', async () => {
  const b = await backend('sqlite');
  try {
    const log = await b.open({ name: 'old' });
    const r = await log.append({ leaf: leaf('old entry'), searchKeys: ['new'] });
    await log.close();
    // What a data folder written before the stored form holds: the key as it was given.
    const file = path.join(b.dataDir, 'log.sqlite');
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO tlog_search (log, skey, idx) VALUES (?, ?, ?)').run(
      'old',
      'identity:a\0b',
      r.index,
    );
    db.exec('PRAGMA user_version = 0');
    db.close();
    const reopened = await b.open({ name: 'old' });
    assert.deepEqual(await reopened.search('identity:a\0b'), [r.index]);
    assert.deepEqual(await reopened.search('identity:a'), []);
    assert.deepEqual(await reopened.search('new'), [r.index]);
    await reopened.close();
    const after = new DatabaseSync(file, { readOnly: true });
    const rows = after.prepare('SELECT skey FROM tlog_search ORDER BY skey').all() as Array<{
      skey: string;
    }>;
    assert.deepEqual(
      rows.map((x) => x.skey),
      ['\u0001identity:a\u0001\u0002b', 'new'],
    );
    after.close();
  } finally {
    await b.cleanup();
  }
});
