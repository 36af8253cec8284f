/**
 * CMS SignedData (RFC 5652 §5), read and written with the project's DER code. One module for
 * both users: RFC 3161 timestamp tokens (an encapsulated TSTInfo) and git signatures (detached,
 * over a commit or tag). Parsing checks structure only; what a signature must prove is decided
 * by the caller (rfc3161/verify.ts, client/git).
 */
import type { KeyObject } from 'node:crypto';
import { invalid } from '../errors.ts';
import {
  ctx,
  type Element,
  elementAlgorithmOid,
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
  setOf,
  TAG,
  tlv,
} from '../encoding/der.ts';
import { CMS_OID, HASH_OIDS, type HashName } from './oids.ts';
const { createHash, sign } = process.getBuiltinModule('node:crypto');

/** One Attribute (RFC 5652 §5.3): its type and the elements of its SET OF values. */
export interface CmsAttribute {
  type: string;
  values: Element[];
}

export interface SignerInfo {
  version: number;
  /** issuerAndSerialNumber form of the sid: the issuer Name DER and the serial INTEGER contents. */
  issuer?: Uint8Array;
  serial?: Uint8Array;
  /** subjectKeyIdentifier form of the sid. */
  subjectKeyId?: Uint8Array;
  digestAlgorithmOid: string;
  /**
   * The signed attributes as the DER SET OF the signature covers (tag 0x31 in place of the
   * [0] IMPLICIT tag they are carried with, RFC 5652 §5.4); undefined when absent.
   */
  signedAttrs: Uint8Array | undefined;
  signedAttributes: CmsAttribute[];
  signatureAlgorithmOid: string;
  signature: Uint8Array;
  unsignedAttributes: CmsAttribute[];
}

export interface SignedData {
  version: number;
  digestAlgorithmOids: string[];
  eContentType: string;
  /** The encapsulated content; undefined for a detached signature. */
  eContent: Uint8Array | undefined;
  /** Certificates carried in the message: informational only, never trusted. */
  certificates: Uint8Array[];
  signerInfos: SignerInfo[];
}

/** Parses a DER ContentInfo holding a SignedData; errors name the field under `field`. */
export function parseSignedData(der: Uint8Array, field = 'contentInfo'): SignedData {
  return parseContentInfo(readOne(der, field, TAG.SEQUENCE), field);
}

/** The same, for a ContentInfo element already read out of a larger structure. */
export function parseContentInfo(t: Element, f: string): SignedData {
  const ci = elementChildren(expectTag(t, TAG.SEQUENCE, f), f);
  const contentType = elementOid(ci[0], `${f}.contentType`);
  if (contentType !== CMS_OID.signedData)
    throw invalid(
      `${f}.contentType`,
      `must be signedData (${CMS_OID.signedData}), got ${contentType}`,
    );
  const explicit = elementChildren(expectTag(ci[1], 0xa0, `${f}.content`), `${f}.content`);
  if (ci.length !== 2 || explicit.length !== 1)
    throw invalid(f, 'a ContentInfo has exactly a content type and one content');
  const g = `${f}.signedData`;
  const sd = elementChildren(expectTag(explicit[0], TAG.SEQUENCE, g), g);
  const version = Number(elementInteger(sd[0], `${g}.version`));
  const digestAlgorithmOids = elementChildren(
    expectTag(sd[1], TAG.SET, `${g}.digestAlgorithms`),
    `${g}.digestAlgorithms`,
  ).map((a, i) => elementAlgorithmOid(a, `${g}.digestAlgorithms[${i}]`));
  const eci = elementChildren(
    expectTag(sd[2], TAG.SEQUENCE, `${g}.encapContentInfo`),
    `${g}.encapContentInfo`,
  );
  const eContentType = elementOid(eci[0], `${g}.encapContentInfo.eContentType`);
  let eContent: Uint8Array | undefined;
  if (eci[1] !== undefined) {
    const inner = elementChildren(
      expectTag(eci[1], 0xa0, `${g}.encapContentInfo.eContent`),
      `${g}.encapContentInfo.eContent`,
    );
    if (inner.length !== 1)
      throw invalid(`${g}.encapContentInfo.eContent`, 'must hold one OCTET STRING');
    eContent = expectTag(inner[0], TAG.OCTET_STRING, `${g}.encapContentInfo.eContent`).value;
  }
  if (eci.length > 2) throw invalid(`${g}.encapContentInfo`, 'unexpected trailing field');
  let i = 3;
  const certificates: Uint8Array[] = [];
  if (sd[i]?.tag === 0xa0) {
    // CertificateChoices: plain certificates are SEQUENCEs; other choices are not used here.
    for (const c of elementChildren(sd[i]!, `${g}.certificates`))
      if (c.tag === TAG.SEQUENCE) certificates.push(c.raw);
    i++;
  }
  if (sd[i]?.tag === 0xa1) i++; // crls: not used by either profile
  const infos = elementChildren(expectTag(sd[i], TAG.SET, `${g}.signerInfos`), `${g}.signerInfos`);
  if (i !== sd.length - 1) throw invalid(g, 'unexpected fields after signerInfos');
  return {
    version,
    digestAlgorithmOids,
    eContentType,
    eContent,
    certificates,
    signerInfos: infos.map((s, n) => parseSignerInfo(s, `${g}.signerInfos[${n}]`)),
  };
}

function parseSignerInfo(t: Element, f: string): SignerInfo {
  const s = elementChildren(expectTag(t, TAG.SEQUENCE, f), f);
  const version = Number(elementInteger(s[0], `${f}.version`));
  const out: Partial<SignerInfo> = {};
  const sid = s[1];
  if (sid?.tag === TAG.SEQUENCE) {
    const ias = elementChildren(sid, `${f}.sid`);
    out.issuer = expectTag(ias[0], TAG.SEQUENCE, `${f}.sid.issuer`).raw;
    out.serial = expectTag(ias[1], TAG.INTEGER, `${f}.sid.serialNumber`).value;
  } else if (sid?.tag === 0x80) {
    out.subjectKeyId = sid.value;
  } else {
    throw invalid(`${f}.sid`, 'must be issuerAndSerialNumber or subjectKeyIdentifier');
  }
  out.digestAlgorithmOid = elementAlgorithmOid(s[2], `${f}.digestAlgorithm`);
  let i = 3;
  out.signedAttributes = [];
  if (s[i]?.tag === 0xa0) {
    // RFC 5652 §5.4: the signature is over the DER SET OF, i.e. with the SET tag in place of [0].
    const signedAttrs = Uint8Array.from(s[i]!.raw);
    signedAttrs[0] = TAG.SET;
    out.signedAttrs = signedAttrs;
    out.signedAttributes = parseAttributes(s[i]!, `${f}.signedAttrs`);
    i++;
  }
  out.signatureAlgorithmOid = elementAlgorithmOid(s[i++], `${f}.signatureAlgorithm`);
  out.signature = expectTag(s[i++], TAG.OCTET_STRING, `${f}.signature`).value;
  out.unsignedAttributes = [];
  if (s[i]?.tag === 0xa1) out.unsignedAttributes = parseAttributes(s[i++]!, `${f}.unsignedAttrs`);
  if (i !== s.length) throw invalid(f, `unexpected field at position ${i}`);
  return { version, ...out } as SignerInfo;
}

function parseAttributes(t: Element, f: string): CmsAttribute[] {
  return elementChildren(t, f).map((a, n) => {
    const af = `${f}[${n}]`;
    const parts = elementChildren(expectTag(a, TAG.SEQUENCE, af), af);
    if (parts.length !== 2) throw invalid(af, 'an Attribute is a type and a SET of values');
    return {
      type: elementOid(parts[0], `${af}.attrType`),
      values: elementChildren(expectTag(parts[1], TAG.SET, `${af}.attrValues`), `${af}.attrValues`),
    };
  });
}

/**
 * The single value of the attribute `type`, or undefined when absent. RFC 5652 §11: content-type,
 * message-digest and signing-time appear at most once and hold exactly one value.
 */
export function singleAttribute(
  attrs: readonly CmsAttribute[],
  type: string,
  field: string,
): Element | undefined {
  const found = attrs.filter((a) => a.type === type);
  if (found.length === 0) return undefined;
  if (found.length > 1) throw invalid(field, `attribute ${type} appears more than once`);
  if (found[0]!.values.length !== 1)
    throw invalid(field, `attribute ${type} must hold exactly one value`);
  return found[0]!.values[0]!;
}

// ---- writing ----

/** An Attribute: SEQUENCE { attrType OID, attrValues SET OF }. */
export function attribute(type: string, ...values: Uint8Array[]): Uint8Array {
  return seq(oid(type), setOf(...values));
}

/** The issuer Name and serial INTEGER of a certificate, as their exact DER elements. */
export function issuerAndSerial(certDer: Uint8Array): { issuer: Uint8Array; serial: Uint8Array } {
  const cert = elementChildren(readOne(certDer, 'certificate', TAG.SEQUENCE), 'certificate');
  const tbs = elementChildren(
    expectTag(cert[0], TAG.SEQUENCE, 'certificate.tbsCertificate'),
    'certificate.tbsCertificate',
  );
  const i = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const serial = expectTag(tbs[i], TAG.INTEGER, 'certificate.serialNumber').raw;
  const issuer = expectTag(tbs[i + 2], TAG.SEQUENCE, 'certificate.issuer').raw;
  return { issuer, serial };
}

/** How a key signs a SignerInfo: the digest and the AlgorithmIdentifiers that name it. */
export interface CmsSigningAlgorithm {
  digest: HashName;
  /** AlgorithmIdentifier of the digest (parameters absent, RFC 5754 §2). */
  digestAlgDer: Uint8Array;
  signatureAlgDer: Uint8Array;
}

/** The algorithms for a key: ECDSA with the curve's hash, RSA PKCS#1 v1.5, Ed25519 (RFC 8419). */
export function signingAlgorithm(key: KeyObject): CmsSigningAlgorithm {
  const t = key.asymmetricKeyType;
  let digest: HashName;
  let sigAlg: Uint8Array;
  if (t === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    digest = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
    const ecdsa = {
      sha256: CMS_OID.ecdsaWithSha256,
      sha384: CMS_OID.ecdsaWithSha384,
      sha512: CMS_OID.ecdsaWithSha512,
    };
    sigAlg = seq(oid(ecdsa[digest]));
  } else if (t === 'rsa') {
    digest = 'sha256';
    sigAlg = seq(oid(CMS_OID.sha256WithRsa), nullValue());
  } else if (t === 'ed25519') {
    digest = 'sha512'; // RFC 8419 §3: SHA-512 with Ed25519 signed attributes
    sigAlg = seq(oid(CMS_OID.ed25519));
  } else {
    throw invalid('key', `unsupported CMS signing key type ${t}`);
  }
  return { digest, digestAlgDer: seq(oid(HASH_OIDS[digest])), signatureAlgDer: sigAlg };
}

/** The signed attributes as the DER SET OF that is signed (X.690 §11.6 order). */
export function signedAttributesSet(attrs: Uint8Array[]): Uint8Array {
  return setOf(...attrs);
}

/** Signs a signed-attributes SET with `key` (RFC 5652 §5.4). */
export function signAttributes(
  key: KeyObject,
  alg: CmsSigningAlgorithm,
  attrsSet: Uint8Array,
): Uint8Array {
  return new Uint8Array(
    sign(key.asymmetricKeyType === 'ed25519' ? null : alg.digest, attrsSet, key),
  );
}

/**
 * A SignerInfo (RFC 5652 §5.3) identified by issuer and serial (version 1), with its signed
 * attributes (given as the signed SET, written as [0] IMPLICIT) and optional unsigned ones.
 */
export function encodeSignerInfo(p: {
  sid: Uint8Array;
  alg: CmsSigningAlgorithm;
  signedAttrs: Uint8Array;
  signature: Uint8Array;
  unsignedAttrs?: Uint8Array[];
}): Uint8Array {
  const signedAttrs = Uint8Array.from(p.signedAttrs);
  signedAttrs[0] = 0xa0;
  const parts = [
    integer(1),
    p.sid,
    p.alg.digestAlgDer,
    signedAttrs,
    p.alg.signatureAlgDer,
    octets(p.signature),
  ];
  if (p.unsignedAttrs?.length) parts.push(setOfTagged(0xa1, p.unsignedAttrs));
  return seq(...parts);
}

function setOfTagged(tag: number, items: Uint8Array[]): Uint8Array {
  const set = setOf(...items);
  set[0] = tag;
  return set;
}

/**
 * A ContentInfo holding a SignedData. Version 1 when the content is id-data and every signer
 * uses issuerAndSerialNumber, else 3 (RFC 5652 §5.1). A detached signature omits `eContent`.
 */
export function encodeSignedData(p: {
  digestAlgorithms: Uint8Array[];
  eContentType: string;
  eContent?: Uint8Array;
  certificates?: Uint8Array[];
  signerInfos: Uint8Array[];
}): Uint8Array {
  const version = p.eContentType === CMS_OID.data ? 1 : 3;
  const eci =
    p.eContent === undefined
      ? seq(oid(p.eContentType))
      : seq(oid(p.eContentType), ctx(0, octets(p.eContent)));
  const parts = [integer(version), setOf(...dedupe(p.digestAlgorithms)), eci];
  if (p.certificates?.length) parts.push(tlv(0xa0, ...p.certificates));
  parts.push(setOf(...p.signerInfos));
  return seq(oid(CMS_OID.signedData), ctx(0, seq(...parts)));
}

function dedupe(items: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = Buffer.from(i).toString('hex');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The digest of `data` with a CMS hash. */
export function cmsDigest(alg: HashName, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(alg).update(data).digest());
}
