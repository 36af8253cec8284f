/**
 * Bounded memories for results that are pure functions of bytes (a parsed certificate, a
 * signature that verified). The key is the exact bytes, not a digest of them, so a hit can
 * only come from the same input; the size is bounded so untrusted input cannot grow it.
 */

/** Bytes of each part's end that go into a lookup fingerprint (see BytesMap). */
const TAIL = 16;

interface Entry<V> {
  fingerprint: number;
  parts: Uint8Array[];
  value: V;
}

/**
 * A Map keyed by the exact bytes of a list of parts ((ab, c) and (a, bc) are different keys),
 * that forgets its oldest entry once it holds `max`.
 *
 * Entries are found by a short fingerprint (each part's length and last bytes: for a
 * certificate its signature, for a key its key bits) and then compared byte for byte, so an
 * entry answers only for the same bytes. A string of the whole input as the key would cost V8
 * a hash over every character at each lookup (about 4 µs for a 2 KB certificate); this costs
 * one comparison, and the fingerprint is a number, so a lookup builds no string either. The
 * key bytes are copied in, so a caller that later changes its array cannot change what an
 * entry answers for.
 */
export class BytesMap<V> {
  readonly #max: number;
  readonly #buckets = new Map<number, Array<Entry<V>>>();
  /** Every entry, oldest first. */
  readonly #order = new Set<Entry<V>>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#order.size;
  }

  get(parts: readonly Uint8Array[]): V | undefined {
    return this.#find(parts, fingerprintOf(parts))?.value;
  }

  set(parts: readonly Uint8Array[], value: V): this {
    const fingerprint = fingerprintOf(parts);
    const found = this.#find(parts, fingerprint);
    if (found) {
      found.value = value;
      return this;
    }
    if (this.#order.size >= this.#max) this.#forget(this.#order.values().next().value!);
    const entry: Entry<V> = { fingerprint, parts: parts.map((p) => p.slice()), value };
    this.#order.add(entry);
    const bucket = this.#buckets.get(fingerprint);
    if (bucket) bucket.push(entry);
    else this.#buckets.set(fingerprint, [entry]);
    return this;
  }

  #find(parts: readonly Uint8Array[], fingerprint: number): Entry<V> | undefined {
    const bucket = this.#buckets.get(fingerprint);
    if (bucket)
      for (const e of bucket)
        if (e.parts.length === parts.length && e.parts.every((p, i) => equal(p, parts[i]!)))
          return e;
    return undefined;
  }

  #forget(entry: Entry<V>): void {
    this.#order.delete(entry);
    const bucket = this.#buckets.get(entry.fingerprint)!;
    bucket.splice(bucket.indexOf(entry), 1);
    if (bucket.length === 0) this.#buckets.delete(entry.fingerprint);
  }
}

/** FNV-1a (32-bit) over each part's length and last TAIL bytes. */
function fingerprintOf(parts: readonly Uint8Array[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ p.length, 0x01000193);
    for (let i = Math.max(0, p.length - TAIL); i < p.length; i++)
      h = Math.imul(h ^ p[i]!, 0x01000193);
  }
  return h;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
