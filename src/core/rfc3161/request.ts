import { invalid } from '../errors.ts';
import {
  bool,
  elementChildren,
  elementInteger,
  elementOid,
  expectTag,
  integer,
  nullValue,
  octets,
  oid,
  readOne,
  seq,
  TAG,
} from '../encoding/der.ts';
import { HASH_LENGTHS, HASH_OIDS, type HashName, hashByOid, OID } from './oids.ts';
import { refusal } from './status.ts';

/** A parsed RFC 3161 TimeStampReq (§2.4.1). */
export interface TimestampRequest {
  hashAlgorithm: HashName;
  /** messageImprint.hashedMessage: the digest of the data to be timestamped. */
  digest: Uint8Array;
  policy?: string;
  nonce?: bigint;
  certReq: boolean;
  /** True when the request carried extensions (a TSA must reject ones it does not know). */
  hasExtensions: boolean;
  /** The request's messageImprint element, byte for byte (§2.4.2: TSTInfo repeats it). */
  imprintDer?: Uint8Array;
}

/** Maps an imprint hash OID to a supported hash, with Sigstore TSA's rules (SHA-1 is refused). */
export function requireHash(algOid: string, field: string): HashName {
  const h = hashByOid(algOid);
  if (h) return h;
  if (algOid === OID.sha1)
    throw refusal(
      'badAlg',
      field,
      'SHA-1 is too weak; use SHA-256, SHA-384 or SHA-512',
      'WEAK_HASH',
      'unsupported',
    );
  throw refusal(
    'badAlg',
    field,
    `unsupported hash algorithm ${algOid}; use SHA-256, SHA-384 or SHA-512`,
    'UNSUPPORTED_HASH',
    'unsupported',
  );
}

/**
 * Parses a DER TimeStampReq; errors name the field that is wrong. A request of the right shape
 * with a value the TSA refuses is a `refusal` with its failInfo bit (RFC 3161 §2.4.2), which a
 * TSA answers with a rejection; the failInfo follows OpenSSL's responder (ts_rsp_sign.c).
 */
export function parseTimestampRequest(der: Uint8Array): TimestampRequest {
  const f = 'TimeStampReq';
  const top = elementChildren(readOne(der, f, TAG.SEQUENCE), f);
  const version = elementInteger(top[0], `${f}.version`);
  if (version !== 1n) throw refusal('badRequest', `${f}.version`, `must be 1, got ${version}`);
  const mi = elementChildren(
    expectTag(top[1], TAG.SEQUENCE, `${f}.messageImprint`),
    `${f}.messageImprint`,
  );
  const alg = elementChildren(
    expectTag(mi[0], TAG.SEQUENCE, `${f}.messageImprint.hashAlgorithm`),
    `${f}.messageImprint.hashAlgorithm`,
  );
  const hashAlgorithm = requireHash(
    elementOid(alg[0], `${f}.messageImprint.hashAlgorithm.algorithm`),
    `${f}.messageImprint.hashAlgorithm`,
  );
  if (alg.length > 2 || (alg[1] && alg[1].tag !== TAG.NULL))
    throw refusal(
      'badAlg',
      `${f}.messageImprint.hashAlgorithm.parameters`,
      'must be absent or NULL',
    );
  const digest = expectTag(mi[1], TAG.OCTET_STRING, `${f}.messageImprint.hashedMessage`).value;
  if (mi.length !== 2) throw invalid(`${f}.messageImprint`, 'must have exactly two fields');
  if (digest.length !== HASH_LENGTHS[hashAlgorithm])
    throw refusal(
      'badDataFormat',
      `${f}.messageImprint.hashedMessage`,
      `a ${hashAlgorithm} digest is ${HASH_LENGTHS[hashAlgorithm]} bytes, got ${digest.length}`,
    );
  const req: TimestampRequest = {
    hashAlgorithm,
    digest: Uint8Array.from(digest),
    certReq: false,
    hasExtensions: false,
    imprintDer: Uint8Array.from(top[1]!.raw),
  };
  let i = 2;
  if (top[i]?.tag === TAG.OID) req.policy = elementOid(top[i++]!, `${f}.reqPolicy`);
  if (top[i]?.tag === TAG.INTEGER) {
    checkNonceEncoding(top[i]!.value, `${f}.nonce`);
    req.nonce = elementInteger(top[i++]!, `${f}.nonce`);
  }
  if (top[i]?.tag === TAG.BOOLEAN) {
    const v = top[i++]!.value;
    if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff))
      throw refusal('badDataFormat', `${f}.certReq`, 'not a DER BOOLEAN');
    req.certReq = v[0] === 0xff;
  }
  if (top[i]?.tag === 0xa0) {
    req.hasExtensions = elementChildren(top[i]!, `${f}.extensions`).length > 0;
    i++;
  }
  if (i !== top.length) throw invalid(f, `unexpected field at position ${i}`);
  if (req.nonce !== undefined) checkNonce(req.nonce, `${f}.nonce`);
  return req;
}

/**
 * Largest nonce accepted: 160 bits. RFC 3161 §2.4.1 asks for "a large random number"; the
 * clients of Sigstore TSAs send at most that (OpenSSL 64 bits, sigstore-go 159 bits), and a TSA
 * has no reason to echo kilobytes of a client's choosing into a signed token.
 */
export const MAX_NONCE_BITS = 160;

/** A nonce value a TSA accepts: non-negative and at most MAX_NONCE_BITS long. */
export function checkNonce(n: bigint, field: string): void {
  if (n < 0n) throw refusal('badRequest', field, 'must not be negative');
  if (n >> BigInt(MAX_NONCE_BITS) !== 0n)
    throw refusal('badRequest', field, `is longer than ${MAX_NONCE_BITS} bits`);
}

/** DER INTEGER contents must be minimal (X.690 8.3.2): no redundant leading 0x00 or 0xFF byte. */
function checkNonceEncoding(v: Uint8Array, field: string): void {
  if (v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80)))
    throw refusal('badDataFormat', field, 'is not a minimally encoded DER INTEGER (X.690 8.3.2)');
  // 160 bits and a sign byte: anything longer is refused before it becomes a number.
  if (v.length > MAX_NONCE_BITS / 8 + 1)
    throw refusal('badRequest', field, `is longer than ${MAX_NONCE_BITS} bits`);
}

/** Encodes a TimeStampReq (the client side of RFC 3161 §2.4.1). */
export function encodeTimestampRequest(r: {
  hashAlgorithm: HashName;
  digest: Uint8Array;
  policy?: string;
  nonce?: bigint;
  certReq?: boolean;
}): Uint8Array {
  const parts = [
    integer(1),
    seq(seq(oid(HASH_OIDS[r.hashAlgorithm]), nullValue()), octets(r.digest)),
  ];
  if (r.policy) parts.push(oid(r.policy));
  if (r.nonce !== undefined) parts.push(integer(r.nonce));
  if (r.certReq) parts.push(bool(true));
  return seq(...parts);
}
