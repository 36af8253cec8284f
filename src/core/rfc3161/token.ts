import { invalid } from '../errors.ts';
import {
  elementAlgorithmOid,
  elementChildren,
  elementGeneralizedTime,
  elementInteger,
  elementOid,
  expectTag,
  readOne,
  TAG,
  type Element,
} from '../encoding/der.ts';
import { parseContentInfo, type SignerInfo, singleAttribute } from '../cms/signed-data.ts';
import { type HashName, hashByOid, OID } from './oids.ts';
import { describePkiStatus, parsePkiStatusInfo, type PkiStatusInfo } from './status.ts';

/** TSTInfo (RFC 3161 §2.4.2), with its exact bytes (the message digest covers them). */
export interface TstInfo {
  raw: Uint8Array;
  policy: string;
  hashAlgorithmOid: string;
  /** undefined when the imprint uses a hash we do not accept (e.g. SHA-1). */
  hashAlgorithm: HashName | undefined;
  digest: Uint8Array;
  serialNumber: bigint;
  genTime: Date;
  accuracy?: { seconds: number; millis: number; micros: number };
  ordering: boolean;
  nonce?: bigint;
}

/** One ESSCertID(v2) from the signing-certificate attribute (RFC 2634 §5.4, RFC 5035 §3). */
export interface EssCertId {
  /** 'sha1' for the v1 attribute. */
  hashAlgorithmOid: string;
  certHash: Uint8Array;
  /** The issuerSerial, if present: the issuer Name DER and the serial INTEGER contents. */
  issuerSerial?: { issuer: Uint8Array[]; serial: Uint8Array };
}

/** The single SignerInfo of a timestamp token (RFC 5652 §5.3). */
export interface TimestampSignerInfo {
  /** issuerAndSerialNumber: the issuer Name DER and the serial INTEGER contents. */
  issuer?: Uint8Array;
  serial?: Uint8Array;
  /** subjectKeyIdentifier form of the sid. */
  subjectKeyId?: Uint8Array;
  digestAlgorithmOid: string;
  signatureAlgorithmOid: string;
  signature: Uint8Array;
  /** The signed attributes as the DER SET OF that the signature covers (tag 0x31). */
  signedAttrs: Uint8Array;
  contentType?: string;
  messageDigest?: Uint8Array;
  essCertIds: EssCertId[];
}

export interface ParsedTimestamp {
  /** PKIStatus: 0 granted, 1 grantedWithMods; undefined when a bare token was given. */
  status: number | undefined;
  contentType: string;
  eContentType: string;
  tstInfo: TstInfo;
  signer: TimestampSignerInfo;
  /** Certificates embedded in the token: informational only, never trusted. */
  certificates: Uint8Array[];
}

/**
 * The PKIStatusInfo of a DER TimeStampResp (RFC 3161 §2.4.2), e.g. to report a rejection;
 * undefined for a bare TimeStampToken.
 */
export function timestampStatus(der: Uint8Array): PkiStatusInfo | undefined {
  const first = elementChildren(readOne(der, 'timestamp', TAG.SEQUENCE), 'timestamp')[0];
  return isStatusInfo(first) ? parsePkiStatusInfo(first, 'TimeStampResp.status') : undefined;
}

/** A TimeStampResp starts with its PKIStatusInfo; a ContentInfo with an OID. */
function isStatusInfo(first: Element | undefined): first is Element {
  return first?.tag === TAG.SEQUENCE;
}

/**
 * Parses a DER TimeStampResp (RFC 3161 §2.4.2) or a bare TimeStampToken (a CMS ContentInfo);
 * Sigstore bundles carry the response (`signedTimestamp`). No verification here.
 */
export function parseTimestamp(der: Uint8Array): ParsedTimestamp {
  const top = readOne(der, 'timestamp', TAG.SEQUENCE);
  const items = elementChildren(top, 'timestamp');
  let tokenTlv: Element;
  let status: number | undefined;
  if (isStatusInfo(items[0])) {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
    const si = parsePkiStatusInfo(items[0], 'TimeStampResp.status');
    status = si.status;
    if (status !== 0 && status !== 1)
      throw invalid(
        'TimeStampResp.status',
        `the TSA did not grant the timestamp: ${describePkiStatus(si)}`,
      );
    tokenTlv = expectTag(items[1], TAG.SEQUENCE, 'TimeStampResp.timeStampToken');
    if (items.length > 2) throw invalid('TimeStampResp', 'unexpected trailing field');
  } else {
    tokenTlv = top;
  }
  return { status, ...parseToken(tokenTlv) };
}

function parseToken(t: Element): Omit<ParsedTimestamp, 'status'> {
  const f = 'timeStampToken';
  const sd = parseContentInfo(t, f);
  const g = `${f}.signedData`;
  if (sd.eContentType !== OID.tstInfo)
    throw invalid(
      `${g}.encapContentInfo.eContentType`,
      `must be id-ct-TSTInfo (${OID.tstInfo}), got ${sd.eContentType}`,
    );
  if (sd.eContent === undefined)
    throw invalid(`${g}.encapContentInfo.eContent`, 'missing: a timestamp token is not detached');
  const tstInfo = parseTstInfo(sd.eContent);
  // RFC 3161 §2.4.2: the token is signed by the TSA alone.
  if (sd.signerInfos.length !== 1)
    throw invalid(
      `${g}.signerInfos`,
      `a timestamp token has exactly one signer, found ${sd.signerInfos.length}`,
    );
  return {
    contentType: OID.signedData,
    eContentType: sd.eContentType,
    tstInfo,
    signer: timestampSignerInfo(sd.signerInfos[0]!, `${g}.signerInfos[0]`),
    certificates: sd.certificates,
  };
}

export function parseTstInfo(der: Uint8Array): TstInfo {
  const f = 'TSTInfo';
  const t = elementChildren(readOne(der, f, TAG.SEQUENCE), f);
  const version = elementInteger(t[0], `${f}.version`);
  if (version !== 1n) throw invalid(`${f}.version`, `must be 1, got ${version}`);
  const policy = elementOid(t[1], `${f}.policy`);
  const mi = elementChildren(
    expectTag(t[2], TAG.SEQUENCE, `${f}.messageImprint`),
    `${f}.messageImprint`,
  );
  const hashAlgorithmOid = elementAlgorithmOid(mi[0], `${f}.messageImprint.hashAlgorithm`);
  const digest = expectTag(mi[1], TAG.OCTET_STRING, `${f}.messageImprint.hashedMessage`).value;
  const serialNumber = elementInteger(t[3], `${f}.serialNumber`);
  const genTime = elementGeneralizedTime(t[4], `${f}.genTime`);
  const out: TstInfo = {
    raw: der,
    policy,
    hashAlgorithmOid,
    hashAlgorithm: hashByOid(hashAlgorithmOid),
    digest,
    serialNumber,
    genTime,
    ordering: false,
  };
  let i = 5;
  if (t[i]?.tag === TAG.SEQUENCE) {
    const acc = { seconds: 0, millis: 0, micros: 0 };
    for (const a of elementChildren(t[i]!, `${f}.accuracy`)) {
      const n = Number(elementInteger({ ...a, tag: TAG.INTEGER }, `${f}.accuracy`));
      if (a.tag === TAG.INTEGER) acc.seconds = n;
      else if (a.tag === 0x80) acc.millis = n;
      else if (a.tag === 0x81) acc.micros = n;
      else throw invalid(`${f}.accuracy`, 'unexpected field');
    }
    out.accuracy = acc;
    i++;
  }
  if (t[i]?.tag === TAG.BOOLEAN) out.ordering = t[i++]!.value[0] !== 0;
  if (t[i]?.tag === TAG.INTEGER) out.nonce = elementInteger(t[i++]!, `${f}.nonce`);
  if (t[i]?.tag === 0xa0) i++; // tsa name: informational
  if (t[i]?.tag === 0xa1) i++; // extensions
  if (i !== t.length) throw invalid(f, `unexpected field at position ${i}`);
  return out;
}

/** The TSA's SignerInfo with the signed attributes RFC 3161 relies on read out. */
function timestampSignerInfo(si: SignerInfo, f: string): TimestampSignerInfo {
  if (si.signedAttrs === undefined)
    throw invalid(`${f}.signedAttrs`, 'missing: a timestamp token has signed attributes');
  const out: TimestampSignerInfo = {
    digestAlgorithmOid: si.digestAlgorithmOid,
    signatureAlgorithmOid: si.signatureAlgorithmOid,
    signature: si.signature,
    signedAttrs: si.signedAttrs,
    essCertIds: [],
  };
  if (si.issuer) out.issuer = si.issuer;
  if (si.serial) out.serial = si.serial;
  if (si.subjectKeyId) out.subjectKeyId = si.subjectKeyId;
  const af = `${f}.signedAttrs`;
  const ct = singleAttribute(si.signedAttributes, OID.contentType, af);
  if (ct) out.contentType = elementOid(ct, `${af}.contentType`);
  const md = singleAttribute(si.signedAttributes, OID.messageDigest, af);
  if (md) out.messageDigest = expectTag(md, TAG.OCTET_STRING, `${af}.messageDigest`).value;
  for (const [n, a] of si.signedAttributes.entries()) {
    if (a.type !== OID.signingCertificate && a.type !== OID.signingCertificateV2) continue;
    if (a.values.length !== 1)
      throw invalid(`${af}[${n}].attrValues`, 'must hold exactly one value');
    out.essCertIds.push(
      ...parseSigningCertificate(a.values[0]!, a.type === OID.signingCertificateV2, `${af}[${n}]`),
    );
  }
  return out;
}

/** SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL } */
function parseSigningCertificate(t: Element, v2: boolean, f: string): EssCertId[] {
  const sc = elementChildren(expectTag(t, TAG.SEQUENCE, f), f);
  const certs = elementChildren(expectTag(sc[0], TAG.SEQUENCE, `${f}.certs`), `${f}.certs`);
  return certs.map((c, n) => {
    const cf = `${f}.certs[${n}]`;
    const e = elementChildren(expectTag(c, TAG.SEQUENCE, cf), cf);
    let i = 0;
    let hashAlgorithmOid: string = OID.sha1;
    if (v2) {
      hashAlgorithmOid = '2.16.840.1.101.3.4.2.1'; // DEFAULT id-sha256 (RFC 5035 §3)
      if (e[0]?.tag === TAG.SEQUENCE) {
        hashAlgorithmOid = elementAlgorithmOid(e[0], `${cf}.hashAlgorithm`);
        i++;
      }
    }
    const certHash = expectTag(e[i++], TAG.OCTET_STRING, `${cf}.certHash`).value;
    const id: EssCertId = { hashAlgorithmOid, certHash };
    if (e[i]) {
      const is = elementChildren(
        expectTag(e[i], TAG.SEQUENCE, `${cf}.issuerSerial`),
        `${cf}.issuerSerial`,
      );
      const names = elementChildren(
        expectTag(is[0], TAG.SEQUENCE, `${cf}.issuerSerial.issuer`),
        `${cf}.issuerSerial.issuer`,
      );
      // GeneralName directoryName [4] EXPLICIT Name: exactly one Name (a SEQUENCE) inside
      const issuer = names
        .filter((n) => n.tag === 0xa4)
        .map((n) => {
          const inner = elementChildren(n, `${cf}.issuerSerial.issuer`);
          if (inner.length !== 1)
            throw invalid(`${cf}.issuerSerial.issuer`, 'a directoryName must hold one Name');
          return expectTag(inner[0], TAG.SEQUENCE, `${cf}.issuerSerial.issuer`).raw;
        });
      const serial = expectTag(is[1], TAG.INTEGER, `${cf}.issuerSerial.serialNumber`).value;
      id.issuerSerial = { issuer, serial };
    }
    return id;
  });
}

/**
 * The TimeStampToken (a CMS ContentInfo) of a TimeStampResp, or the input when it is a bare
 * token already: bundles carry the response, CMS unsigned attributes the token (RFC 3161 App. A).
 */
export function timestampToken(der: Uint8Array): Uint8Array {
  const items = elementChildren(readOne(der, 'timestamp', TAG.SEQUENCE), 'timestamp');
  if (items[0]?.tag !== TAG.SEQUENCE) return der;
  parseTimestamp(der); // a response must be granted and well-formed to give its token away
  return Uint8Array.from(expectTag(items[1], TAG.SEQUENCE, 'TimeStampResp.timeStampToken').raw);
}
