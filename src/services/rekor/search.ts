import { invalid } from '../../core/errors.ts';
import { digestSearchKey, SEARCH_HASH_HEX_LENGTH as HEX_LENGTH } from '../../core/rekor/hash.ts';
import type { LogEngine } from '../../log/types.ts';

/**
 * What the v1 SearchIndex and the v2 index extension share: the `hash` key form and how the
 * keys' hits combine. (core/rekor verifier.ts documents the other key forms.)
 */
export type SearchOperator = 'and' | 'or';

/**
 * `sha256:<hex>` (or sha1/sha384/sha512), lower-cased. Bare hex names its algorithm by its
 * length, as Rekor's PrefixSHA reads it (40 sha1, 64 sha256, 96 sha384, 128 sha512).
 */
export function hashKey(text: string, field: string): string {
  const m = /^(?:(sha1|sha256|sha384|sha512):)?([0-9a-fA-F]+)$/.exec(text);
  const hex = m?.[2] ?? '';
  const alg = m?.[1] ?? Object.keys(HEX_LENGTH).find((a) => HEX_LENGTH[a] === hex.length);
  const key = alg === undefined ? undefined : digestSearchKey(alg, hex);
  if (key === undefined)
    throw invalid(field, 'must be [sha256:|sha384:|sha512:|sha1:]<hex digest of the right length>');
  return key;
}

/** `operator`: "and" or "or", default "or" (Rekor's SearchIndex). */
export function searchOperator(v: unknown): SearchOperator {
  const op = v ?? 'or';
  if (op !== 'and' && op !== 'or') throw invalid('operator', 'must be "and" or "or"');
  return op;
}

/** Indices of one log's entries under all (and) or any (or) of the keys, ascending. */
export async function searchLog(
  engine: LogEngine,
  keys: string[],
  operator: SearchOperator,
): Promise<number[]> {
  const sets = await Promise.all(keys.map((k) => engine.search(k)));
  if (operator === 'or') return [...new Set(sets.flat())].sort((a, b) => a - b);
  return sets.reduce((acc, cur) => {
    const has = new Set(cur);
    return acc.filter((i) => has.has(i));
  });
}
