import type { KeyObject } from 'node:crypto';
import type * as Asn1Schema from '@peculiar/asn1-schema';
import type * as Asn1X509 from '@peculiar/asn1-x509';
import { lazyModule } from '../lazy.ts';
import { BytesMap } from '../cache.ts';
import { invalid, SignetError } from '../errors.ts';
import { decodePemAll } from '../encoding/pem.ts';
import {
  children,
  content,
  decodeOid,
  decodeTime,
  readTlv,
  slice,
  TAG,
  type Tlv,
} from '../encoding/der.ts';
const { createPublicKey, verify: nodeVerify } = process.getBuiltinModule('node:crypto');

/** Object identifiers used across the X.509 code (RFC 5280 §4.2, RFC 6962, Fulcio). */
export const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  /** RFC 6962 §3.3: embedded SignedCertificateTimestampList. */
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  /** RFC 6962 §3.1: precertificate poison, critical, value NULL. */
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
  /** Fulcio OtherName SAN type-id for username identities. */
  fulcioUsername: '1.3.6.1.4.1.57264.1.7',
} as const;

export interface CertificateExtension {
  oid: string;
  critical: boolean;
  /** The extnValue OCTET STRING's content, exactly as in the certificate. */
  value: Uint8Array;
}

export type GeneralNameValue =
  | { type: 'email' | 'uri' | 'dns' | 'ip'; value: string }
  | { type: 'otherName'; typeId: string; value: string }
  | { type: 'other'; value: string };

export interface KeyUsageBits {
  digitalSignature: boolean;
  nonRepudiation: boolean;
  keyEncipherment: boolean;
  dataEncipherment: boolean;
  keyAgreement: boolean;
  keyCertSign: boolean;
  cRLSign: boolean;
  encipherOnly: boolean;
  decipherOnly: boolean;
}

/**
 * A parsed X.509 certificate (RFC 5280 §4.1). The signed bytes (`tbs`) and the signature are
 * the exact bytes of the input, so signature checks never depend on a re-encoding.
 */
export interface X509Certificate {
  der: Uint8Array;
  /** The exact TBSCertificate DER the issuer signed. */
  tbs: Uint8Array;
  /** OID of the outer signatureAlgorithm. */
  signatureAlgorithm: string;
  signature: Uint8Array;
  version: number;
  /** Serial number as unsigned big-endian bytes (leading zero removed) and as lowercase hex. */
  serialNumber: Uint8Array;
  serialHex: string;
  /** Issuer / subject Name DER (exact bytes), and a readable RFC 4514-style string. */
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  issuer: string;
  subject: string;
  /** Subject attributes in order (type OID, string value), e.g. for a trusted root's subject. */
  subjectAttributes: Array<{ type: string; value: string }>;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER (exact bytes). */
  spki: Uint8Array;
  publicKey: KeyObject;
  extensions: CertificateExtension[];
  subjectAltNames: GeneralNameValue[];
  basicConstraints?: { ca: boolean; pathLength?: number; critical: boolean };
  keyUsage?: KeyUsageBits & { critical: boolean };
  extendedKeyUsage?: string[];
  subjectKeyIdentifier?: Uint8Array;
  authorityKeyIdentifier?: Uint8Array;
}

const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** RFC 4514-style rendering (most significant RDN last, as OpenSSL's `-nameopt RFC2253`). */
// @peculiar's schemas serve only readable names and IP SANs (the hot paths read DER directly).
const asn1Schema = lazyModule<typeof Asn1Schema>('@peculiar/asn1-schema');
const asn1X509 = lazyModule<typeof Asn1X509>('@peculiar/asn1-x509');

export function nameToString(name: Asn1X509.Name): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      [...rdn]
        .map((atv) => `${ATTR_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`)
        .join('+'),
    )
    .join(', ');
}

/** The RFC 4514-style string of a Name's DER (e.g. the issuer a timestamp's signer names), for messages. */
export function readableName(der: Uint8Array): string {
  const { AsnConvert } = asn1Schema();
  return nameToString(AsnConvert.parse(der, asn1X509().Name));
}

/**
 * Parses one DER certificate. Errors name `field`. The structure is read with the DER reader
 * (the fields every verification needs: names as bytes, validity, key, extensions); the
 * readable issuer/subject strings are decoded on first use only, as they serve messages.
 */
export function parseCertificate(der: Uint8Array, field = 'certificate'): X509Certificate {
  // RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }.
  const outer = readTlv(der, 0, field);
  if (outer.tag !== TAG.SEQUENCE || outer.end !== der.length)
    throw invalid(field, 'is not a DER certificate (trailing data or not a SEQUENCE)');
  const parts = children(der, outer, field);
  if (parts.length !== 3 || parts[0]!.tag !== TAG.SEQUENCE || parts[2]!.tag !== TAG.BIT_STRING)
    throw invalid(field, 'is not a DER certificate (expected tbs, algorithm, signature)');
  const sigBits = content(der, parts[2]!);
  if (sigBits[0] !== 0) throw invalid(field, 'signature BIT STRING has unused bits');
  const signatureAlgorithm = algorithmOid(der, parts[1]!, `${field}.signatureAlgorithm`);

  // TBSCertificate ::= SEQUENCE { [0] version DEFAULT v1, serialNumber, signature, issuer,
  //   validity, subject, subjectPublicKeyInfo, [1] issuerUID, [2] subjectUID, [3] extensions }
  const tbsTlv = parts[0]!;
  const f = children(der, tbsTlv, `${field}.tbsCertificate`);
  let i = 0;
  let version = 0;
  if (f[0]?.tag === 0xa0) {
    const inner = children(der, f[0], `${field}.version`);
    if (inner.length !== 1 || inner[0]!.tag !== TAG.INTEGER)
      throw invalid(`${field}.version`, 'is not an INTEGER');
    const v = content(der, inner[0]);
    if (v.length !== 1 || v[0]! > 2) throw invalid(`${field}.version`, 'is not v1, v2 or v3');
    version = v[0]!;
    i = 1;
  }
  const [serialTlv, sigAlgTlv, issuerTlv, validityTlv, subjectTlv, spkiTlv] = f.slice(i, i + 6);
  if (!serialTlv || !sigAlgTlv || !issuerTlv || !validityTlv || !subjectTlv || !spkiTlv)
    throw invalid(field, 'TBSCertificate is incomplete');
  if (serialTlv.tag !== TAG.INTEGER || content(der, serialTlv).length === 0)
    throw invalid(`${field}.serialNumber`, 'is not an INTEGER');
  if (algorithmOid(der, sigAlgTlv, `${field}.tbsCertificate.signature`) !== signatureAlgorithm)
    throw invalid(field, 'inner and outer signature algorithms differ (RFC 5280 §4.1.1.2)');
  checkName(der, issuerTlv, `${field}.issuer`);
  checkName(der, subjectTlv, `${field}.subject`);
  if (validityTlv.tag !== TAG.SEQUENCE) throw invalid(`${field}.validity`, 'is not a SEQUENCE');
  const validity = children(der, validityTlv, `${field}.validity`);
  if (validity.length !== 2) throw invalid(`${field}.validity`, 'needs notBefore and notAfter');
  const notBefore = decodeTime(der, validity[0]!, `${field}.validity.notBefore`);
  const notAfter = decodeTime(der, validity[1]!, `${field}.validity.notAfter`);
  if (spkiTlv.tag !== TAG.SEQUENCE)
    throw invalid(`${field}.subjectPublicKeyInfo`, 'is not a SEQUENCE');
  const spki = slice(der, spkiTlv);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw invalid(`${field}.subjectPublicKeyInfo`, `is not a supported public key`, e);
  }
  const extensions: CertificateExtension[] = [];
  let next = 1;
  for (const t of f.slice(i + 6)) {
    // [1] and [2] unique identifiers (v2/v3) may precede [3] extensions, in this order.
    const n = t.tag & 0x1f;
    if ((t.tag & 0xc0) !== 0x80 || n < next || n > 3 || (n === 3 && t.tag !== 0xa3))
      throw invalid(
        `${field}.tbsCertificate`,
        `unexpected element with tag 0x${t.tag.toString(16)}`,
      );
    next = n + 1;
    if (n === 3) extensions.push(...readExtensions(der, t, `${field}.extensions`));
  }
  const seen = new Set<string>();
  for (const e of extensions) {
    if (seen.has(e.oid)) throw invalid(`${field}.extensions`, `extension ${e.oid} appears twice`);
    seen.add(e.oid);
  }

  let serial = content(der, serialTlv);
  if (serial.length > 1 && serial[0] === 0) serial = serial.subarray(1);
  const issuerDer = slice(der, issuerTlv);
  const subjectDer = slice(der, subjectTlv);
  let names: { issuer: string; subject: string; attrs: Array<{ type: string; value: string }> };
  const readNames = () =>
    (names ??= (() => {
      const { AsnConvert } = asn1Schema();
      const { Name } = asn1X509();
      const subject = AsnConvert.parse(subjectDer, Name);
      return {
        issuer: readableName(issuerDer),
        subject: nameToString(subject),
        attrs: [...subject].flatMap((rdn) =>
          [...rdn].map((atv) => ({ type: atv.type, value: atv.value.toString() })),
        ),
      };
    })());
  const out: X509Certificate = {
    der,
    tbs: slice(der, tbsTlv),
    signatureAlgorithm,
    signature: sigBits.subarray(1),
    version: version + 1,
    serialNumber: serial,
    serialHex: Buffer.from(serial).toString('hex'),
    issuerDer,
    subjectDer,
    get issuer() {
      return readNames().issuer;
    },
    get subject() {
      return readNames().subject;
    },
    get subjectAttributes() {
      return readNames().attrs;
    },
    notBefore,
    notAfter,
    spki,
    publicKey,
    extensions,
    subjectAltNames: [],
  };
  for (const e of extensions) readKnownExtension(out, e, `${field}.extensions[${e.oid}]`);
  return out;
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }. */
function algorithmOid(der: Uint8Array, t: Tlv, field: string): string {
  if (t.tag !== TAG.SEQUENCE) throw invalid(field, 'is not an AlgorithmIdentifier');
  const p = children(der, t, field);
  if (p.length < 1 || p.length > 2) throw invalid(field, 'is not an AlgorithmIdentifier');
  return decodeOid(der, p[0]!, field);
}

/** Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY } (RFC 5280 §4.1.2.4). */
function checkName(der: Uint8Array, t: Tlv, field: string): void {
  if (t.tag !== TAG.SEQUENCE) throw invalid(field, 'is not a Name (SEQUENCE)');
  for (const rdn of children(der, t, field)) {
    if (rdn.tag !== TAG.SET) throw invalid(field, 'a relative distinguished name is not a SET');
    const atvs = children(der, rdn, field);
    if (atvs.length === 0) throw invalid(field, 'a relative distinguished name is empty');
    for (const atv of atvs) {
      const tv = atv.tag === TAG.SEQUENCE ? children(der, atv, field) : [];
      if (tv.length !== 2) throw invalid(field, 'an attribute is not a (type, value) pair');
      decodeOid(der, tv[0]!, field);
    }
  }
}

/** [3] EXPLICIT Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 §4.1.2.9). */
function readExtensions(der: Uint8Array, t: Tlv, field: string): CertificateExtension[] {
  const inner = children(der, t, field);
  if (inner.length !== 1 || inner[0]!.tag !== TAG.SEQUENCE)
    throw invalid(field, 'is not a SEQUENCE of extensions');
  return children(der, inner[0], field).map((e, k) => {
    const where = `${field}[${k}]`;
    const p = e.tag === TAG.SEQUENCE ? children(der, e, where) : [];
    // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    const crit = p.length === 3 ? p[1]! : undefined;
    const value = p[p.length - 1];
    if (p.length < 2 || p.length > 3 || value!.tag !== TAG.OCTET_STRING)
      throw invalid(where, 'is not an Extension (extnID, critical, extnValue)');
    let critical = false;
    if (crit) {
      const b = content(der, crit);
      if (crit.tag !== TAG.BOOLEAN || b.length !== 1 || (b[0] !== 0 && b[0] !== 0xff))
        throw invalid(where, 'critical is not a DER BOOLEAN');
      critical = b[0] === 0xff;
    }
    return { oid: decodeOid(der, p[0]!, where), critical, value: content(der, value!) };
  });
}

function readKnownExtension(c: X509Certificate, e: CertificateExtension, field: string): void {
  const v = e.value;
  const one = (tag: number, what: string): Tlv => {
    const t = readTlv(v, 0, field);
    if (t.tag !== tag || t.end !== v.length) throw invalid(field, `is not ${what}`);
    return t;
  };
  switch (e.oid) {
    case OID.subjectAltName: {
      // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName (RFC 5280 §4.2.1.6)
      const names = children(v, one(TAG.SEQUENCE, 'a SEQUENCE of GeneralName'), field);
      c.subjectAltNames = names.map((g) => generalName(v, g, field));
      break;
    }
    case OID.basicConstraints: {
      // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
      const p = children(v, one(TAG.SEQUENCE, 'a BasicConstraints SEQUENCE'), field);
      let k = 0;
      let ca = false;
      if (p[k]?.tag === TAG.BOOLEAN) {
        const b = content(v, p[k]!);
        if (b.length !== 1) throw invalid(field, 'cA is not a BOOLEAN');
        ca = b[0] !== 0;
        k++;
      }
      c.basicConstraints = { ca, critical: e.critical };
      if (p[k]?.tag === TAG.INTEGER) {
        const n = content(v, p[k]!);
        if (n.length === 0 || n.length > 4 || (n[0]! & 0x80) !== 0)
          throw invalid(field, 'pathLenConstraint is not a small non-negative INTEGER');
        c.basicConstraints.pathLength = n.reduce((a, b) => a * 256 + b, 0);
        k++;
      }
      if (k !== p.length) throw invalid(field, 'has unexpected elements');
      break;
    }
    case OID.keyUsage: {
      // KeyUsage ::= BIT STRING { digitalSignature (0), ..., decipherOnly (8) }
      const bits = content(v, one(TAG.BIT_STRING, 'a BIT STRING'));
      if (bits.length === 0 || bits[0]! > 7) throw invalid(field, 'is not a valid BIT STRING');
      const has = (n: number) => {
        const byte = bits[1 + (n >> 3)];
        return byte !== undefined && (byte & (0x80 >> (n & 7))) !== 0;
      };
      c.keyUsage = {
        critical: e.critical,
        digitalSignature: has(0),
        nonRepudiation: has(1),
        keyEncipherment: has(2),
        dataEncipherment: has(3),
        keyAgreement: has(4),
        keyCertSign: has(5),
        cRLSign: has(6),
        encipherOnly: has(7),
        decipherOnly: has(8),
      };
      break;
    }
    case OID.extKeyUsage:
      // ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId
      c.extendedKeyUsage = children(v, one(TAG.SEQUENCE, 'a SEQUENCE of OIDs'), field).map((t) =>
        decodeOid(v, t, field),
      );
      break;
    case OID.subjectKeyIdentifier:
      c.subjectKeyIdentifier = content(v, one(TAG.OCTET_STRING, 'an OCTET STRING'));
      break;
    case OID.authorityKeyIdentifier: {
      // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
      const p = children(v, one(TAG.SEQUENCE, 'an AuthorityKeyIdentifier SEQUENCE'), field);
      if (p[0]?.tag === 0x80) c.authorityKeyIdentifier = content(v, p[0]);
      break;
    }
  }
}

/** UTF-8 as it is: invalid bytes refused, a leading U+FEFF kept (a name, not a byte order mark). */
const UTF8_EXACT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * One GeneralName (RFC 5280 §4.2.1.6). The IA5String forms are read directly; an OtherName's
 * value is kept when it is a UTF8String (Fulcio's username form); an iPAddress is rendered the
 * way @peculiar/asn1-x509 renders it; other forms carry no value we match on.
 */
function generalName(buf: Uint8Array, g: Tlv, field: string): GeneralNameValue {
  const ia5 = () => Buffer.from(content(buf, g)).toString('latin1');
  switch (g.tag) {
    case 0x81:
      return { type: 'email', value: ia5() };
    case 0x82:
      return { type: 'dns', value: ia5() };
    case 0x86:
      return { type: 'uri', value: ia5() };
    case 0x87: {
      let ip: string | undefined;
      try {
        ip = asn1Schema().AsnConvert.parse(slice(buf, g), asn1X509().GeneralName).iPAddress;
      } catch (e) {
        throw invalid(field, `iPAddress cannot be decoded: ${(e as Error).message}`, e);
      }
      return { type: 'ip', value: ip ?? '' };
    }
    case 0xa0: {
      // OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
      const p = children(buf, g, field);
      if (p.length !== 2 || p[1]!.tag !== 0xa0) throw invalid(field, 'OtherName is malformed');
      const typeId = decodeOid(buf, p[0]!, field);
      const inner = children(buf, p[1]!, field);
      if (inner.length !== 1) throw invalid(field, 'OtherName value is malformed');
      const value =
        inner[0]!.tag === TAG.UTF8_STRING ? UTF8_EXACT.decode(content(buf, inner[0]!)) : '';
      return { type: 'otherName', typeId, value };
    }
    default:
      return { type: 'other', value: '' };
  }
}

const parsedByContent = new BytesMap<X509Certificate>(1024);

/**
 * Parses a certificate once per content: the same DER always parses the same, so a verifier
 * that sees the same trust root or signing certificate again (a long-running verifier, a CI
 * job verifying many artifacts signed with one certificate, a TSA chain checked per
 * timestamp) skips the parse. Keyed by the exact bytes and bounded; only successful parses
 * are remembered (errors name `field` every time). The result is shared: never modify it.
 */
export function parseCertificateOnce(der: Uint8Array, field = 'certificate'): X509Certificate {
  let c = parsedByContent.get([der]);
  if (!c) {
    c = parseCertificate(der, field);
    parsedByContent.set([der], c);
  }
  return c;
}

/** Every CERTIFICATE block of a PEM text, parsed, in order. */
export function parseCertificatesPem(pem: string, field = 'certificates'): X509Certificate[] {
  return decodePemAll(pem, field).map((b, i) => {
    if (b.label !== 'CERTIFICATE')
      throw invalid(`${field}[${i}]`, `PEM block "${b.label}" is not a CERTIFICATE`);
    return parseCertificate(b.der, `${field}[${i}]`);
  });
}

export function extensionOf(c: X509Certificate, oid: string): CertificateExtension | undefined {
  return c.extensions.find((e) => e.oid === oid);
}

/**
 * Signature algorithms by OID (RFC 5758 §3.2, RFC 4055 §5, RFC 8410 §3): the hash (node:crypto
 * name; null for Ed25519) and the key type. Certificates, CSRs and RFC 3161 tokens share it.
 */
export const SIGNATURE_ALGORITHMS: Readonly<
  Record<string, { hash: 'sha256' | 'sha384' | 'sha512' | null; key: 'ec' | 'rsa' | 'ed25519' }>
> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' },
  '1.3.101.112': { hash: null, key: 'ed25519' },
};

/**
 * Whether `issuerKey` signed `cert` (over the exact TBS bytes). False on a bad signature or a
 * key that does not match the algorithm; an unknown signature algorithm is a SignetError.
 */
export function verifyCertificateSignature(cert: X509Certificate, issuerKey: KeyObject): boolean {
  const alg = SIGNATURE_ALGORITHMS[cert.signatureAlgorithm];
  if (!alg)
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_SIGNATURE_ALGORITHM',
      `certificate signature algorithm ${cert.signatureAlgorithm} is not supported`,
    );
  if (issuerKey.asymmetricKeyType !== alg.key) return false;
  try {
    return nodeVerify(alg.hash, cert.tbs, issuerKey, cert.signature);
  } catch {
    return false;
  }
}
