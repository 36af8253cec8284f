import { createPublicKey, type KeyObject, verify as nodeVerify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  type Name,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { invalid, SignetError } from '../errors.ts';
import { decodePemAll } from '../encoding/pem.ts';
import { children, content, readTlv, slice, TAG } from './der.ts';

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
export function nameToString(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      [...rdn]
        .map((atv) => `${ATTR_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`)
        .join('+'),
    )
    .join(', ');
}

/** Parses one DER certificate. Errors name `field`. */
export function parseCertificate(der: Uint8Array, field = 'certificate'): X509Certificate {
  // Outer structure by hand: Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signature }.
  const outer = readTlv(der, 0, field);
  if (outer.tag !== TAG.SEQUENCE || outer.end !== der.length)
    throw invalid(field, 'is not a DER certificate (trailing data or not a SEQUENCE)');
  const parts = children(der, outer, field);
  if (parts.length !== 3 || parts[0]!.tag !== TAG.SEQUENCE || parts[2]!.tag !== TAG.BIT_STRING)
    throw invalid(field, 'is not a DER certificate (expected tbs, algorithm, signature)');
  const sigBits = content(der, parts[2]!);
  if (sigBits[0] !== 0) throw invalid(field, 'signature BIT STRING has unused bits');

  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch (e) {
    throw invalid(field, `is not a valid X.509 certificate: ${(e as Error).message}`, e);
  }
  const tbs = cert.tbsCertificate;
  const tbsTlv = parts[0]!;
  const tbsFields = children(der, tbsTlv, field);
  // tbs: [0] version?, serial, signature, issuer, validity, subject, spki, ...
  const off = tbsFields[0]!.tag === 0xa0 ? 1 : 0;
  const issuerTlv = tbsFields[off + 2];
  const subjectTlv = tbsFields[off + 4];
  const spkiTlv = tbsFields[off + 5];
  if (!issuerTlv || !subjectTlv || !spkiTlv) throw invalid(field, 'TBSCertificate is incomplete');
  const spki = slice(der, spkiTlv);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw invalid(`${field}.subjectPublicKeyInfo`, `is not a supported public key`, e);
  }
  if (tbs.signature.algorithm !== cert.signatureAlgorithm.algorithm)
    throw invalid(field, 'inner and outer signature algorithms differ (RFC 5280 §4.1.1.2)');

  let serial = new Uint8Array(tbs.serialNumber);
  if (serial.length > 1 && serial[0] === 0) serial = serial.subarray(1);

  const extensions: CertificateExtension[] = Array.from(tbs.extensions ?? [], (e) => ({
    oid: e.extnID,
    critical: e.critical,
    value: new Uint8Array(e.extnValue.buffer),
  }));
  const seen = new Set<string>();
  for (const e of extensions) {
    if (seen.has(e.oid)) throw invalid(`${field}.extensions`, `extension ${e.oid} appears twice`);
    seen.add(e.oid);
  }

  const out: X509Certificate = {
    der,
    tbs: slice(der, tbsTlv),
    signatureAlgorithm: cert.signatureAlgorithm.algorithm,
    signature: sigBits.subarray(1),
    version: tbs.version + 1,
    serialNumber: serial,
    serialHex: Buffer.from(serial).toString('hex'),
    issuerDer: slice(der, issuerTlv),
    subjectDer: slice(der, subjectTlv),
    issuer: nameToString(tbs.issuer),
    subject: nameToString(tbs.subject),
    subjectAttributes: [...tbs.subject].flatMap((rdn) =>
      [...rdn].map((atv) => ({ type: atv.type, value: atv.value.toString() })),
    ),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    spki,
    publicKey,
    extensions,
    subjectAltNames: [],
  };
  for (const e of extensions) readKnownExtension(out, e, `${field}.extensions[${e.oid}]`);
  return out;
}

function readKnownExtension(c: X509Certificate, e: CertificateExtension, field: string): void {
  try {
    switch (e.oid) {
      case OID.subjectAltName:
        c.subjectAltNames = Array.from(
          AsnConvert.parse(e.value, SubjectAlternativeName),
          generalName,
        );
        break;
      case OID.basicConstraints: {
        const bc = AsnConvert.parse(e.value, BasicConstraints);
        c.basicConstraints = { ca: bc.cA, critical: e.critical };
        if (bc.pathLenConstraint !== undefined)
          c.basicConstraints.pathLength = bc.pathLenConstraint;
        break;
      }
      case OID.keyUsage: {
        const ku = AsnConvert.parse(e.value, KeyUsage).toJSON();
        const has = (n: string) => (ku as string[]).includes(n);
        c.keyUsage = {
          critical: e.critical,
          digitalSignature: has('digitalSignature'),
          nonRepudiation: has('nonRepudiation'),
          keyEncipherment: has('keyEncipherment'),
          dataEncipherment: has('dataEncipherment'),
          keyAgreement: has('keyAgreement'),
          keyCertSign: has('keyCertSign'),
          cRLSign: has('crlSign') || has('cRLSign'),
          encipherOnly: has('encipherOnly'),
          decipherOnly: has('decipherOnly'),
        };
        break;
      }
      case OID.extKeyUsage:
        c.extendedKeyUsage = [...AsnConvert.parse(e.value, ExtendedKeyUsage)];
        break;
      case OID.subjectKeyIdentifier:
        c.subjectKeyIdentifier = new Uint8Array(
          AsnConvert.parse(e.value, SubjectKeyIdentifier).buffer,
        );
        break;
      case OID.authorityKeyIdentifier: {
        const aki = AsnConvert.parse(e.value, AuthorityKeyIdentifier);
        if (aki.keyIdentifier) c.authorityKeyIdentifier = new Uint8Array(aki.keyIdentifier.buffer);
        break;
      }
    }
  } catch (err) {
    if (err instanceof SignetError) throw err;
    throw invalid(field, `cannot be decoded: ${(err as Error).message}`, err);
  }
}

function generalName(g: import('@peculiar/asn1-x509').GeneralName): GeneralNameValue {
  if (g.rfc822Name !== undefined) return { type: 'email', value: g.rfc822Name };
  if (g.uniformResourceIdentifier !== undefined)
    return { type: 'uri', value: g.uniformResourceIdentifier };
  if (g.dNSName !== undefined) return { type: 'dns', value: g.dNSName };
  if (g.iPAddress !== undefined) return { type: 'ip', value: g.iPAddress };
  if (g.otherName) {
    // OtherName value is [0] EXPLICIT ANY; Fulcio puts a UTF8String there.
    const v = new Uint8Array(g.otherName.value);
    const t = readTlv(v, 0, 'otherName');
    const value =
      t.tag === TAG.UTF8_STRING
        ? new TextDecoder('utf-8', { fatal: true }).decode(content(v, t))
        : '';
    return { type: 'otherName', typeId: g.otherName.typeId, value };
  }
  return { type: 'other', value: '' };
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

/** The hash a certificate signature algorithm uses (node:crypto name); null for Ed25519. */
const SIG_ALGS: Record<string, { hash: string | null; key: 'ec' | 'rsa' | 'ed25519' }> = {
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
  const alg = SIG_ALGS[cert.signatureAlgorithm];
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
