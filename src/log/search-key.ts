/**
 * What a search key is stored as: one form for both stores, so SQLite and PostgreSQL index the
 * same keys and answer the same searches. Keys are made of untrusted text (certificate SANs and
 * Fulcio extensions from a CA anyone can run, search queries), and not every string is text a
 * store can hold exactly:
 *   - PostgreSQL's `text` cannot hold U+0000 (the write fails, and with it its whole batch);
 *   - a lone surrogate is no Unicode text: both stores write UTF-8 and make it U+FFFD, so two
 *     different keys would become one;
 *   - PostgreSQL refuses a B-tree index row over 2704 bytes (the search table's key).
 * A key holding U+0000, or starting with the escape U+0001, is stored escaped: U+0001, then the
 * key with each U+0001 written U+0001 U+0001 and each U+0000 written U+0001 U+0002. Every other
 * key is stored as it is, so keys stored before this form existed keep their form (PostgreSQL
 * never held a U+0000; SQLite's are rewritten once, sqlite-schema.ts). Distinct keys have
 * distinct stored forms: only escaped ones start with U+0001, and the escape reads back
 * exactly (left to right, U+0001 and the character after it are one). A key that is not
 * well-formed, longer than MAX_SEARCH_KEY characters, or whose stored form is longer than
 * MAX_STORED_KEY_BYTES in UTF-8 has no stored form: it is not indexed (the entry is still
 * logged), and a search by it finds nothing.
 */

/** Longest search key, in characters (UTF-16 code units). */
export const MAX_SEARCH_KEY = 1024;
/** Longest stored form in UTF-8 bytes: with the log's name and index, well within a B-tree row. */
export const MAX_STORED_KEY_BYTES = 2048;

const ESCAPE = '\u0001';
const ESCAPED = /[\u0000\u0001]/g; // eslint-disable-line no-control-regex
const UNESCAPE = /\u0001([\u0001\u0002])/g; // eslint-disable-line no-control-regex

/** The form `key` is stored and looked up in, or undefined when it cannot be stored. */
export function storedSearchKey(key: string): string | undefined {
  if (key.length > MAX_SEARCH_KEY || !key.isWellFormed()) return undefined;
  const stored =
    key.includes('\u0000') || key.startsWith(ESCAPE)
      ? ESCAPE + key.replace(ESCAPED, (c) => (c === ESCAPE ? '\u0001\u0001' : '\u0001\u0002'))
      : key;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only long keys need counting.
  if (stored.length * 3 > MAX_STORED_KEY_BYTES && Buffer.byteLength(stored) > MAX_STORED_KEY_BYTES)
    return undefined;
  return stored;
}

/** The key a stored form was made from (storedSearchKey's inverse). */
export function searchKeyFromStored(stored: string): string {
  if (!stored.startsWith(ESCAPE)) return stored;
  return stored.slice(1).replace(UNESCAPE, (_, c: string) => (c === ESCAPE ? ESCAPE : '\u0000'));
}
