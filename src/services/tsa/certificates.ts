import { createHash, createPublicKey, type KeyObject, randomBytes, sign } from 'node:crypto';
import {
  bool,
  ctx,
  ctxPrimitive,
  integer,
  octets,
  oid,
  seq,
  setOf,
  tlv,
} from '../../core/rfc3161/der.ts';
import { OID } from '../../core/rfc3161/oids.ts';

/**
 * The TSA's own small PKI: a self-signed root and one signing certificate per TSA key version,
 * following the profile Sigstore's TSA requires of its chain (tsa:pkg/x509/x509.go
 * VerifyCertChain; RFC 3161 §2.3): the leaf is an end entity with digitalSignature key usage
 * and exactly one extended key usage, timeStamping, marked critical.
 */
export interface CertificateSpec {
  subject: { organization: string; commonName: string };
  issuer: { organization: string; commonName: string };
  subjectKey: KeyObject; // public or private: only the public part is used
  issuerKey: KeyObject; // private
  /** SubjectKeyIdentifier of the issuer (for AuthorityKeyIdentifier); self when absent. */
  issuerKeyId?: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  /** Serial number bytes (positive); random 128 bits when absent. */
  serial?: Uint8Array;
  /** Extended key usage of a leaf; default: timeStamping only, critical (RFC 3161 §2.3). */
  extKeyUsage?: { critical: boolean; oids: string[] } | null;
}

const OID_X509 = {
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
};

function name(n: { organization: string; commonName: string }): Uint8Array {
  const utf8 = (s: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(s));
  return seq(
    setOf(seq(oid(OID_X509.organization), utf8(n.organization))),
    setOf(seq(oid(OID_X509.commonName), utf8(n.commonName))),
  );
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
function time(d: Date): Uint8Array {
  const iso = d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, new TextEncoder().encode(iso.slice(2)))
    : tlv(0x18, new TextEncoder().encode(iso));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** SubjectKeyIdentifier method 1 of RFC 5280 §4.2.1.2: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  // The BIT STRING is the last element of the SPKI; skip its tag, length and unused-bits byte.
  const bitsAt = lastElementContent(spki);
  return createHash('sha1')
    .update(spki.subarray(bitsAt + 1))
    .digest();
}

function lastElementContent(spki: Buffer): number {
  // SEQUENCE { AlgorithmIdentifier, BIT STRING }: walk the two children.
  const hdr = (at: number): [number, number] => {
    const first = spki[at + 1]!;
    if (first < 0x80) return [2, first];
    const n = first & 0x7f;
    let len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + spki[at + 2 + i]!;
    return [2 + n, len];
  };
  const [h0] = hdr(0);
  const [h1, l1] = hdr(h0);
  const bits = h0 + h1 + l1;
  const [h2] = hdr(bits);
  return bits + h2;
}

function signatureAlgorithm(key: KeyObject): { der: Uint8Array; hash: string | null } {
  if (key.asymmetricKeyType === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    if (c === 'secp384r1') return { der: seq(oid(OID.ecdsaWithSha384)), hash: 'sha384' };
    if (c === 'secp521r1') return { der: seq(oid(OID.ecdsaWithSha512)), hash: 'sha512' };
    return { der: seq(oid(OID.ecdsaWithSha256)), hash: 'sha256' };
  }
  if (key.asymmetricKeyType === 'ed25519') return { der: seq(oid(OID.ed25519)), hash: null };
  return { der: seq(oid(OID.sha256WithRsa), Uint8Array.of(5, 0)), hash: 'sha256' };
}

/** Issues a DER certificate for `spec`. */
export function issueCertificate(spec: CertificateSpec): Uint8Array {
  const serial = spec.serial ?? randomBytes(16);
  if (!spec.serial) serial[0]! &= 0x7f;
  const ski = keyIdentifier(spec.subjectKey);
  const aki = spec.issuerKeyId ?? ski;
  const exts = [
    extension(
      OID_X509.keyUsage,
      true,
      spec.ca ? Uint8Array.of(3, 2, 1, 0x06) : Uint8Array.of(3, 2, 7, 0x80),
    ),
    extension(OID_X509.basicConstraints, true, spec.ca ? seq(bool(true), integer(0)) : seq()),
    extension(OID_X509.subjectKeyId, false, octets(ski)),
    extension(OID_X509.authorityKeyId, false, seq(ctxPrimitive(0, aki))),
  ];
  const eku =
    spec.extKeyUsage === undefined
      ? { critical: true, oids: [OID.timeStamping] }
      : spec.extKeyUsage;
  if (!spec.ca && eku)
    exts.push(extension(OID.extKeyUsage, eku.critical, seq(...eku.oids.map((o) => oid(o)))));
  const alg = signatureAlgorithm(spec.issuerKey);
  const spki = createPublicKey(spec.subjectKey).export({ type: 'spki', format: 'der' });
  const tbs = seq(
    ctx(0, integer(2)),
    tlv(0x02, serial),
    alg.der,
    name(spec.issuer),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spki,
    ctx(3, seq(...exts)),
  );
  const sig = sign(alg.hash, tbs, spec.issuerKey);
  return seq(tbs, alg.der, tlv(0x03, Uint8Array.of(0), sig));
}
