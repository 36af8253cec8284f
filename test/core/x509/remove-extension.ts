import {
  children,
  encodeOid,
  readTlv,
  slice,
  tlv,
  bytesEqual,
} from '../../../src/core/encoding/der.ts';

/** Test-side independent removal of one extension from TBS DER (for the poison). */
export function removeExtensionForTest(tbs: Uint8Array, oid: string): Uint8Array {
  const want = encodeOid(oid);
  const top = readTlv(tbs, 0, 'tbs');
  const parts = children(tbs, top, 'tbs').map((f) => {
    if (f.tag !== 0xa3) return slice(tbs, f);
    const seq = children(tbs, f, 'tbs')[0]!;
    const kept = children(tbs, seq, 'tbs').filter(
      (e) => !bytesEqual(slice(tbs, children(tbs, e, 'tbs')[0]!), want),
    );
    return tlv(0xa3, tlv(0x30, ...kept.map((e) => slice(tbs, e))));
  });
  return tlv(0x30, ...parts);
}
