import type { KeyObject } from 'node:crypto';
import { invalid, SignetError } from '../errors.ts';
import { children, content, encodeOid, namedBits, readTlv, TAG, tlv } from '../encoding/der.ts';
import { OID } from './certificate.ts';
const { createHash, randomBytes, sign: nodeSign } = process.getBuiltinModule('node:crypto');

/**
 * Building and signing X.509 certificates (RFC 5280 §4.1) with a hand-written DER encoder, so
 * the bytes are exactly what we choose: extension order, string types and criticality follow
 * Go's crypto/x509 as Fulcio uses it (see services/ca for the profiles).
 */
export interface ExtensionSpec {
  oid: string;
  critical: boolean;
  /** The extnValue content (the DER of the extension's own value). */
  value: Uint8Array;
}

export interface TbsSpec {
  /** Positive serial number, big-endian unsigned bytes. */
  serial: Uint8Array;
  /** AlgorithmIdentifier DER of the issuer's signature (see `signatureAlgorithmFor`). */
  signatureAlgorithm: Uint8Array;
  /** Issuer and subject Name DER. */
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER of the certified key. */
  spki: Uint8Array;
  extensions: ExtensionSpec[];
}

const EMPTY = new Uint8Array(0);

export function derInteger(unsigned: Uint8Array): Uint8Array {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  return v[0]! & 0x80 ? tlv(TAG.INTEGER, Uint8Array.of(0), v) : tlv(TAG.INTEGER, v);
}

function smallInteger(n: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return derInteger(Uint8Array.from(bytes.length ? bytes : [0]));
}

const ascii = new TextEncoder();

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. Seconds precision. */
export function derTime(d: Date): Uint8Array {
  const year = d.getUTCFullYear();
  if (!(year >= 1950 && year <= 9999)) throw new RangeError(`time ${d.toISOString()} out of range`);
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  if (year < 2050) return tlv(0x17, ascii.encode(`${two(year % 100)}${rest}`));
  return tlv(0x18, ascii.encode(`${year}${rest}`));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A Name of (type OID, value) attributes, one per RDN, PrintableString where possible (as Go). */
export function encodeName(attrs: Array<[string, string]>): Uint8Array {
  return tlv(
    TAG.SEQUENCE,
    ...attrs.map(([oid, value]) =>
      tlv(
        TAG.SET,
        tlv(
          TAG.SEQUENCE,
          encodeOid(oid),
          tlv(PRINTABLE.test(value) ? 0x13 : TAG.UTF8_STRING, ascii.encode(value)),
        ),
      ),
    ),
  );
}

export const NAME_OID = { organization: '2.5.4.10', commonName: '2.5.4.3' } as const;

/** Per signing key, once: the getter behind it asks OpenSSL and builds a new object each time. */
const algorithms = new WeakMap<KeyObject, { der: Uint8Array; hash: string | null }>();

/** AlgorithmIdentifier DER for signatures made by `key` (and the node:crypto hash it uses). */
export function signatureAlgorithmFor(key: KeyObject): { der: Uint8Array; hash: string | null } {
  let alg = algorithms.get(key);
  if (alg === undefined) {
    alg = algorithmOf(key);
    algorithms.set(key, alg);
  }
  return alg;
}

function algorithmOf(key: KeyObject): { der: Uint8Array; hash: string | null } {
  const t = key.asymmetricKeyType;
  if (t === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const [oid, hash] =
      curve === 'secp384r1'
        ? ['1.2.840.10045.4.3.3', 'sha384']
        : curve === 'secp521r1'
          ? ['1.2.840.10045.4.3.4', 'sha512']
          : ['1.2.840.10045.4.3.2', 'sha256'];
    return { der: tlv(TAG.SEQUENCE, encodeOid(oid)), hash };
  }
  if (t === 'rsa')
    return {
      der: tlv(TAG.SEQUENCE, encodeOid('1.2.840.113549.1.1.11'), tlv(TAG.NULL)),
      hash: 'sha256',
    };
  if (t === 'ed25519') return { der: tlv(TAG.SEQUENCE, encodeOid('1.3.101.112')), hash: null };
  throw new SignetError('unsupported', 'UNSUPPORTED_KEY', `cannot sign certificates with ${t}`);
}

export function encodeExtension(e: ExtensionSpec): Uint8Array {
  return tlv(
    TAG.SEQUENCE,
    encodeOid(e.oid),
    e.critical ? tlv(TAG.BOOLEAN, Uint8Array.of(0xff)) : EMPTY,
    tlv(TAG.OCTET_STRING, e.value),
  );
}

export function encodeTbs(spec: TbsSpec): Uint8Array {
  return tlv(
    TAG.SEQUENCE,
    tlv(0xa0, smallInteger(2)), // v3
    derInteger(spec.serial),
    spec.signatureAlgorithm,
    spec.issuer,
    tlv(TAG.SEQUENCE, derTime(spec.notBefore), derTime(spec.notAfter)),
    spec.subject,
    spec.spki,
    spec.extensions.length
      ? tlv(0xa3, tlv(TAG.SEQUENCE, ...spec.extensions.map(encodeExtension)))
      : EMPTY,
  );
}

/** Signs TBS bytes with `key`, giving the certificate DER. */
export function signTbs(tbs: Uint8Array, key: KeyObject): Uint8Array {
  const alg = signatureAlgorithmFor(key);
  const sig = nodeSign(alg.hash, tbs, key);
  return tlv(TAG.SEQUENCE, tbs, alg.der, tlv(TAG.BIT_STRING, Uint8Array.of(0), sig));
}

/**
 * The same, with the signature computed on libuv's thread pool: a P-384 or RSA signature takes
 * about half a millisecond, which would otherwise block the event loop of a busy CA (bench/ca).
 * P-256 and Ed25519 sign in tens of microseconds, less than a thread hop costs: done inline.
 */
export async function signTbsAsync(tbs: Uint8Array, key: KeyObject): Promise<Uint8Array> {
  const cheap =
    key.asymmetricKeyType === 'ed25519' ||
    (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1');
  if (cheap) return signTbs(tbs, key);
  const alg = signatureAlgorithmFor(key);
  const sig = await new Promise<Buffer>((resolve, reject) =>
    nodeSign(alg.hash, tbs, key, (err, out) => (err ? reject(err) : resolve(out))),
  );
  return tlv(TAG.SEQUENCE, tbs, alg.der, tlv(TAG.BIT_STRING, Uint8Array.of(0), sig));
}

/** A random positive serial of at most 159 bits in 20 bytes (as Go's generator yields). */
export function randomSerial(): Uint8Array {
  const b = new Uint8Array(randomBytes(20));
  b[0]! &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b;
}

// ---- extension values (RFC 5280 §4.2.1) ----

export type KeyUsageName = 'digitalSignature' | 'keyCertSign' | 'cRLSign';
const KU_BIT: Record<KeyUsageName, number> = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 };

/** KeyUsage: a named-bit-list BIT STRING (RFC 5280 §4.2.1.3), in DER's minimal form. */
export function keyUsageValue(usages: KeyUsageName[]): Uint8Array {
  return namedBits(usages.map((u) => KU_BIT[u]));
}

export function extKeyUsageValue(oids: string[]): Uint8Array {
  return tlv(TAG.SEQUENCE, ...oids.map(encodeOid));
}

export function basicConstraintsValue(ca: boolean, pathLength?: number): Uint8Array {
  return tlv(
    TAG.SEQUENCE,
    ca ? tlv(TAG.BOOLEAN, Uint8Array.of(0xff)) : EMPTY,
    pathLength !== undefined ? smallInteger(pathLength) : EMPTY,
  );
}

/** RFC 5280 §4.2.1.2 method 1 (what Go does): SHA-1 of the subjectPublicKey BIT STRING bytes. */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  const top = readTlv(spki, 0, 'spki');
  const bits = children(spki, top, 'spki')[1]!;
  return new Uint8Array(createHash('sha1').update(content(spki, bits).subarray(1)).digest());
}

export function subjectKeyIdentifierValue(ski: Uint8Array): Uint8Array {
  return tlv(TAG.OCTET_STRING, ski);
}

export function authorityKeyIdentifierValue(ski: Uint8Array): Uint8Array {
  return tlv(TAG.SEQUENCE, tlv(0x80, ski));
}

export type SanValue =
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  | { type: 'username'; value: string };

/** SubjectAltName with one GeneralName; usernames are Fulcio's OtherName 57264.1.7 UTF8String. */
export function subjectAltNameValue(san: SanValue): Uint8Array {
  const bytes = ascii.encode(san.value);
  // rfc822Name and URI are IA5String (RFC 5280 §4.2.1.6): ASCII only, and never empty.
  if (san.value.length === 0 || (san.type !== 'username' && !/^[\x21-\x7e]+$/.test(san.value)))
    throw invalid('san', `${san.type} "${san.value}" is empty or not printable ASCII`);
  switch (san.type) {
    case 'email':
      return tlv(TAG.SEQUENCE, tlv(0x81, bytes));
    case 'uri':
      return tlv(TAG.SEQUENCE, tlv(0x86, bytes));
    case 'username':
      return tlv(
        TAG.SEQUENCE,
        tlv(0xa0, encodeOid(OID.fulcioUsername), tlv(0xa0, tlv(TAG.UTF8_STRING, bytes))),
      );
  }
}

/** RFC 6962 §3.1 poison: critical, value ASN.1 NULL. */
export const POISON_EXTENSION: ExtensionSpec = {
  oid: OID.ctPoison,
  critical: true,
  value: Uint8Array.of(TAG.NULL, 0),
};
