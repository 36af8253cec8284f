/**
 * `fn` over `items` with at most `limit` calls in flight, the results in the order of `items`.
 * For network round trips that may overlap but must not all start at once (a registry's
 * referrers, a release's files going to the log). Like Promise.all, the first rejection rejects
 * the whole; a caller that wants every outcome catches inside `fn`.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
