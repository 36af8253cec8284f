/**
 * Byte strings packed end to end in one buffer, with where each ends: how many short byte
 * strings cross to a worker thread in one transferred buffer instead of one cloned
 * ArrayBuffer each (a clone allocates, and later frees, a backing store per byte string).
 */
export interface PackedBytes {
  data: Uint8Array<ArrayBuffer>;
  ends: Uint32Array<ArrayBuffer>;
}

export function packBytes(list: readonly Uint8Array[]): PackedBytes {
  const ends = new Uint32Array(list.length);
  let total = 0;
  for (let i = 0; i < list.length; i++) ends[i] = total += list[i]!.length;
  const data = new Uint8Array(total);
  for (let i = 0; i < list.length; i++) data.set(list[i]!, i === 0 ? 0 : ends[i - 1]!);
  return { data, ends };
}

/** The i-th byte string of a packed list (a view into it). */
export function unpackedAt(p: PackedBytes, i: number): Uint8Array {
  return p.data.subarray(i === 0 ? 0 : p.ends[i - 1]!, p.ends[i]!);
}

/** The buffers postMessage can move instead of copying (the packed list owns them). */
export function packedTransferables(p: PackedBytes): ArrayBuffer[] {
  return [p.data.buffer, p.ends.buffer];
}
