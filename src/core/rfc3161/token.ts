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
} from '../x509/der.ts';
import { type HashName, hashByOid, OID } from './oids.ts';

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
 * Parses a DER TimeStampResp (RFC 3161 §2.4.2) or a bare TimeStampToken (a CMS ContentInfo);
 * Sigstore bundles carry the response (`signedTimestamp`). No verification here.
 */
export function parseTimestamp(der: Uint8Array): ParsedTimestamp {
  const top = readOne(der, 'timestamp', TAG.SEQUENCE);
  const items = elementChildren(top, 'timestamp');
  let tokenTlv: Element;
  let status: number | undefined;
  if (items[0]?.tag === TAG.SEQUENCE) {
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
    const si = elementChildren(items[0], 'TimeStampResp.status');
    status = Number(elementInteger(si[0], 'TimeStampResp.status.status'));
    if (status !== 0 && status !== 1) {
      const text =
        si[1]?.tag === TAG.SEQUENCE
          ? elementChildren(si[1], 'statusString')
              .map((s) => new TextDecoder().decode(s.value))
              .join('; ')
          : '';
      throw invalid(
        'TimeStampResp.status',
        `the TSA did not grant the timestamp (status ${status}${text ? `: ${text}` : ''})`,
      );
    }
    tokenTlv = expectTag(items[1], TAG.SEQUENCE, 'TimeStampResp.timeStampToken');
    if (items.length > 2) throw invalid('TimeStampResp', 'unexpected trailing field');
  } else {
    tokenTlv = top;
  }
  return { status, ...parseToken(tokenTlv) };
}

function parseToken(t: Element): Omit<ParsedTimestamp, 'status'> {
  const f = 'timeStampToken';
  const ci = elementChildren(t, f);
  const contentType = elementOid(ci[0], `${f}.contentType`);
  if (contentType !== OID.signedData)
    throw invalid(`${f}.contentType`, `must be signedData (${OID.signedData}), got ${contentType}`);
  const explicit = elementChildren(expectTag(ci[1], 0xa0, `${f}.content`), `${f}.content`);
  const sd = elementChildren(
    expectTag(explicit[0], TAG.SEQUENCE, `${f}.signedData`),
    `${f}.signedData`,
  );
  const g = `${f}.signedData`;
  expectTag(sd[0], TAG.INTEGER, `${g}.version`);
  expectTag(sd[1], TAG.SET, `${g}.digestAlgorithms`);
  const eci = elementChildren(
    expectTag(sd[2], TAG.SEQUENCE, `${g}.encapContentInfo`),
    `${g}.encapContentInfo`,
  );
  const eContentType = elementOid(eci[0], `${g}.encapContentInfo.eContentType`);
  if (eContentType !== OID.tstInfo)
    throw invalid(
      `${g}.encapContentInfo.eContentType`,
      `must be id-ct-TSTInfo (${OID.tstInfo}), got ${eContentType}`,
    );
  const eContent = elementChildren(
    expectTag(eci[1], 0xa0, `${g}.encapContentInfo.eContent`),
    `${g}.encapContentInfo.eContent`,
  );
  const tstOctets = expectTag(
    eContent[0],
    TAG.OCTET_STRING,
    `${g}.encapContentInfo.eContent`,
  ).value;
  const tstInfo = parseTstInfo(tstOctets);
  let i = 3;
  const certificates: Uint8Array[] = [];
  if (sd[i]?.tag === 0xa0) {
    for (const c of elementChildren(sd[i]!, `${g}.certificates`))
      if (c.tag === TAG.SEQUENCE) certificates.push(c.raw);
    i++;
  }
  if (sd[i]?.tag === 0xa1) i++; // crls: ignored
  const signerInfos = elementChildren(
    expectTag(sd[i], TAG.SET, `${g}.signerInfos`),
    `${g}.signerInfos`,
  );
  if (i !== sd.length - 1) throw invalid(g, 'unexpected fields after signerInfos');
  // RFC 3161 §2.4.2: the token is signed by the TSA alone.
  if (signerInfos.length !== 1)
    throw invalid(
      `${g}.signerInfos`,
      `a timestamp token has exactly one signer, found ${signerInfos.length}`,
    );
  return {
    contentType,
    eContentType,
    tstInfo,
    signer: parseSignerInfo(signerInfos[0]!),
    certificates,
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

function parseSignerInfo(t: Element): TimestampSignerInfo {
  const f = 'signerInfo';
  const s = elementChildren(t, f);
  expectTag(s[0], TAG.INTEGER, `${f}.version`);
  const sid = s[1];
  const out: Partial<TimestampSignerInfo> & { essCertIds: EssCertId[] } = { essCertIds: [] };
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
  const attrsTlv = expectTag(s[3], 0xa0, `${f}.signedAttrs`);
  // RFC 5652 §5.4: the signature is over the DER SET OF, i.e. with the SET tag in place of [0].
  const signedAttrs = Uint8Array.from(attrsTlv.raw);
  signedAttrs[0] = TAG.SET;
  for (const [n, a] of elementChildren(attrsTlv, `${f}.signedAttrs`).entries()) {
    const af = `${f}.signedAttrs[${n}]`;
    const parts = elementChildren(expectTag(a, TAG.SEQUENCE, af), af);
    const type = elementOid(parts[0], `${af}.attrType`);
    const values = elementChildren(
      expectTag(parts[1], TAG.SET, `${af}.attrValues`),
      `${af}.attrValues`,
    );
    const one = (): Element => {
      if (values.length !== 1) throw invalid(`${af}.attrValues`, 'must hold exactly one value');
      return values[0]!;
    };
    if (type === OID.contentType) {
      if (out.contentType !== undefined) throw invalid(af, 'duplicate contentType attribute');
      out.contentType = elementOid(one(), `${af}.contentType`);
    } else if (type === OID.messageDigest) {
      if (out.messageDigest !== undefined) throw invalid(af, 'duplicate messageDigest attribute');
      out.messageDigest = expectTag(one(), TAG.OCTET_STRING, `${af}.messageDigest`).value;
    } else if (type === OID.signingCertificate || type === OID.signingCertificateV2) {
      out.essCertIds.push(...parseSigningCertificate(one(), type === OID.signingCertificateV2, af));
    }
  }
  out.signatureAlgorithmOid = elementAlgorithmOid(s[4], `${f}.signatureAlgorithm`);
  out.signature = expectTag(s[5], TAG.OCTET_STRING, `${f}.signature`).value;
  out.signedAttrs = signedAttrs;
  return out as TimestampSignerInfo;
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
      const issuer = names
        .filter((n) => n.tag === 0xa4)
        .map((n) => elementChildren(n, `${cf}.issuerSerial.issuer`)[0]!.raw);
      const serial = expectTag(is[1], TAG.INTEGER, `${cf}.issuerSerial.serialNumber`).value;
      id.issuerSerial = { issuer, serial };
    }
    return id;
  });
}
