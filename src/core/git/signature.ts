/**
 * The signature gitsign puts in a commit's `gpgsig` header or after a tag's message: a PEM
 * `SIGNED MESSAGE` block holding a detached CMS SignedData (RFC 5652) over the object's payload
 * (gitsign internal/signature/sign.go, docs/bundle-cms.md):
 *  - signed attributes contentType = id-data, signingTime, messageDigest = SHA-256(payload);
 *    the signature is over DER(SignedAttrs) with the SET tag (RFC 5652 §5.4);
 *  - the certificates hold the Fulcio leaf; the SignerInfo names it by issuer and serial;
 *  - unsigned attributes: an RFC 3161 TimeStampToken over the signature value (RFC 3161
 *    Appendix A, OID 1.2.840.113549.1.9.16.2.14), and the Rekor TransparencyLogEntry in protobuf
 *    binary with its canonicalized body cleared (OID 1.3.6.1.4.1.57264.3.1, "offline mode").
 * Pure: no I/O. What the pieces prove is checked by the verifier (client/git/verify.ts).
 */
import { invalid } from '../errors.ts';
import { decodePemAll, encodePem } from '../encoding/pem.ts';
import {
  decodeTime,
  type Element,
  elementOid,
  expectTag,
  octets,
  oid,
  TAG,
  tlv,
} from '../encoding/der.ts';
import { CMS_OID, hashByOid, type HashName, SIGNATURE_ALGORITHMS } from '../cms/oids.ts';
import {
  attribute,
  cmsDigest,
  type CmsSigningAlgorithm,
  encodeSignedData,
  encodeSignerInfo,
  issuerAndSerial,
  parseSignedData,
  type SignerInfo,
  signedAttributesSet,
  singleAttribute,
} from '../cms/signed-data.ts';

/** gitsign's unsigned attribute carrying the Rekor TransparencyLogEntry (internal/rekor/oid). */
export const OID_REKOR_TLOG_ENTRY = '1.3.6.1.4.1.57264.3.1';
/** The PEM label git recognises as an x509 signature (gpg-interface.c). */
export const SIGNED_MESSAGE = 'SIGNED MESSAGE';

/** A time as DER Time: UTCTime for 1950-2049 (RFC 5652 §11.3), else GeneralizedTime. */
function signingTimeDer(d: Date): Uint8Array {
  const iso = d.toISOString();
  const year = d.getUTCFullYear();
  const digits = iso.replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
  if (year >= 1950 && year < 2050)
    return tlv(TAG.UTC_TIME, new TextEncoder().encode(digits.slice(2)));
  return tlv(TAG.GENERALIZED_TIME, new TextEncoder().encode(digits));
}

/**
 * The signed attributes for a payload, as the DER SET OF that is signed (and hashed into the
 * Rekor entry): content type id-data, signing time, SHA-256 message digest.
 */
export function gitSignedAttributes(payload: Uint8Array, signingTime: Date): Uint8Array {
  return signedAttributesSet([
    attribute(CMS_OID.contentType, oid(CMS_OID.data)),
    attribute(CMS_OID.signingTime, signingTimeDer(signingTime)),
    attribute(CMS_OID.messageDigest, octets(cmsDigest('sha256', payload))),
  ]);
}

/** Builds the detached SignedData around a signature over `signedAttrs`, DER. */
export function assembleGitSignature(p: {
  certificate: Uint8Array;
  alg: CmsSigningAlgorithm;
  signedAttrs: Uint8Array;
  signature: Uint8Array;
  /** RFC 3161 TimeStampToken (a ContentInfo) over the signature value. */
  timestampToken?: Uint8Array;
  /** Binary TransparencyLogEntry (canonicalized body cleared). */
  tlogEntry?: Uint8Array;
}): Uint8Array {
  const { issuer, serial } = issuerAndSerial(p.certificate);
  const unsigned: Uint8Array[] = [];
  if (p.timestampToken) unsigned.push(attribute(CMS_OID.timeStampToken, p.timestampToken));
  if (p.tlogEntry) unsigned.push(attribute(OID_REKOR_TLOG_ENTRY, octets(p.tlogEntry)));
  const si = encodeSignerInfo({
    sid: tlv(TAG.SEQUENCE, issuer, serial),
    alg: p.alg,
    signedAttrs: p.signedAttrs,
    signature: p.signature,
    unsignedAttrs: unsigned,
  });
  return encodeSignedData({
    digestAlgorithms: [p.alg.digestAlgDer],
    eContentType: CMS_OID.data,
    certificates: [p.certificate],
    signerInfos: [si],
  });
}

/** PEM armor as git stores it (64-column base64, trailing newline). */
export function armorGitSignature(der: Uint8Array): string {
  return encodePem(SIGNED_MESSAGE, der);
}

/** A gitsign-style signature, parsed: the one signer and what it carries. */
export interface GitSignature {
  der: Uint8Array;
  /** The certificate the SignerInfo names (the Fulcio leaf), DER. */
  certificate: Uint8Array;
  /** Other certificates carried (untrusted; chain building uses the trusted root). */
  otherCertificates: Uint8Array[];
  signer: SignerInfo;
  /** The signed attributes as signed: DER SET OF. */
  signedAttrs: Uint8Array;
  digest: HashName;
  messageDigest: Uint8Array;
  signingTime: Date | undefined;
  /** RFC 3161 TimeStampTokens from the unsigned attributes. */
  timestampTokens: Uint8Array[];
  /** The embedded binary TransparencyLogEntry, if any. */
  tlogEntry: Uint8Array | undefined;
}

/**
 * Reads an armored (`-----BEGIN SIGNED MESSAGE-----`) or DER signature. Errors say what is
 * wrong in a line (truncated, not CMS, not detached, several signers, no certificate).
 */
export function parseGitSignature(input: Uint8Array): GitSignature {
  const f = 'signature';
  let der: Uint8Array;
  const head = new TextDecoder().decode(input.subarray(0, 64)).trimStart();
  if (head.startsWith('-----BEGIN')) {
    let blocks;
    try {
      blocks = decodePemAll(new TextDecoder().decode(input), f);
    } catch (e) {
      throw invalid(f, `is not a readable PEM block: ${(e as Error).message}`, e);
    }
    if (blocks.length !== 1 || blocks[0]!.label !== SIGNED_MESSAGE)
      throw invalid(
        f,
        `expected one "${SIGNED_MESSAGE}" PEM block (an x509/CMS signature), found ${blocks.map((b) => `"${b.label}"`).join(', ') || 'none'}`,
      );
    der = blocks[0]!.der;
  } else {
    der = input;
  }
  let sd;
  try {
    sd = parseSignedData(der, 'cms');
  } catch (e) {
    throw invalid(f, `is not a CMS SignedData: ${(e as Error).message}`, e);
  }
  if (sd.eContentType !== CMS_OID.data)
    throw invalid(f, `signs content of type ${sd.eContentType}, not data (id-data)`);
  if (sd.eContent !== undefined)
    throw invalid(f, 'is not detached: a git signature must not embed the content');
  if (sd.signerInfos.length !== 1)
    throw invalid(f, `has ${sd.signerInfos.length} signers; a git signature has exactly one`);
  const si = sd.signerInfos[0]!;
  if (si.signedAttrs === undefined)
    throw invalid(f, 'has no signed attributes (content type, message digest) to bind the content');
  const digest = hashByOid(si.digestAlgorithmOid);
  if (!digest) throw invalid(f, `uses unsupported digest algorithm ${si.digestAlgorithmOid}`);
  const sigAlg = SIGNATURE_ALGORITHMS[si.signatureAlgorithmOid];
  if (!sigAlg) throw invalid(f, `uses unsupported signature algorithm ${si.signatureAlgorithmOid}`);
  if (sigAlg.hash !== null && sigAlg.hash !== digest)
    throw invalid(
      f,
      `signature algorithm ${si.signatureAlgorithmOid} hashes with ${sigAlg.hash} but the digest algorithm is ${digest}`,
    );
  const af = `${f}.signedAttrs`;
  const ct = singleAttribute(si.signedAttributes, CMS_OID.contentType, af);
  if (!ct) throw invalid(af, 'has no content-type attribute (RFC 5652 §5.3 requires it)');
  const ctValue = elementOid(ct, `${af}.contentType`);
  if (ctValue !== CMS_OID.data)
    throw invalid(af, `content-type attribute is ${ctValue}, not id-data`);
  const md = singleAttribute(si.signedAttributes, CMS_OID.messageDigest, af);
  if (!md) throw invalid(af, 'has no message-digest attribute (RFC 5652 §5.3 requires it)');
  const messageDigest = expectTag(md, TAG.OCTET_STRING, `${af}.messageDigest`).value;
  const st = singleAttribute(si.signedAttributes, CMS_OID.signingTime, af);
  const signingTime = st ? timeOf(st, `${af}.signingTime`) : undefined;
  const certs = sd.certificates;
  const leafIndex = certs.findIndex((c) => namesSigner(c, si));
  if (leafIndex < 0)
    throw invalid(f, 'does not carry the certificate its signer names (issuer and serial)');
  const tokens: Uint8Array[] = [];
  let tlogEntry: Uint8Array | undefined;
  for (const a of si.unsignedAttributes) {
    if (a.type === CMS_OID.timeStampToken) tokens.push(...a.values.map((v) => v.raw));
    else if (a.type === OID_REKOR_TLOG_ENTRY) {
      if (tlogEntry !== undefined || a.values.length !== 1)
        throw invalid(f, 'carries more than one embedded transparency log entry');
      tlogEntry = expectTag(a.values[0], TAG.OCTET_STRING, `${f}.unsignedAttrs.tlogEntry`).value;
    }
  }
  return {
    der,
    certificate: certs[leafIndex]!,
    otherCertificates: certs.filter((_, i) => i !== leafIndex),
    signer: si,
    signedAttrs: si.signedAttrs,
    digest,
    messageDigest,
    signingTime,
    timestampTokens: tokens,
    tlogEntry,
  };
}

function timeOf(t: Element, field: string): Date {
  return decodeTime(t.value, { tag: t.tag, start: 0, contentStart: 0, end: t.value.length }, field);
}

/** Whether `certDer` is the certificate a SignerInfo's sid names. */
function namesSigner(certDer: Uint8Array, si: SignerInfo): boolean {
  if (!si.issuer || !si.serial) return false;
  try {
    const { issuer, serial } = issuerAndSerial(certDer);
    return (
      Buffer.compare(issuer, si.issuer) === 0 && Buffer.compare(serial.subarray(2), si.serial) === 0
    );
  } catch {
    return false;
  }
}
