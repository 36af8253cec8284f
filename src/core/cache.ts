/**
 * Bounded memories for results that are pure functions of bytes (a parsed certificate, a
 * signature that verified). The key is the exact bytes, not a digest of them, so a hit can
 * only come from the same input; the size is bounded so untrusted input cannot grow it.
 */

/**
 * The exact bytes of `parts` as a Map key. Each part is length-prefixed, so (ab, c) and
 * (a, bc) are different keys.
 */
export function exactKey(parts: readonly Uint8Array[]): string {
  let key = '';
  for (const p of parts)
    key += `${p.length}:${Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')}`;
  return key;
}

/** A Map that forgets its oldest entry once it holds `max` (insertion order). */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly #max: number;

  constructor(max: number) {
    super();
    this.#max = max;
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.#max) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
