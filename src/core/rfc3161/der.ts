/**
 * RFC 3161 code reads and writes DER with the project's one DER module (core/x509/der.ts);
 * this file only keeps the ASN.1 builders at their old import path for existing importers.
 */
export {
  bool,
  compareBytes,
  ctx,
  ctxPrimitive,
  generalizedTime,
  integer,
  nullValue,
  octets,
  oid,
  seq,
  setOf,
  TAG,
  tlv,
} from '../x509/der.ts';
