import type { KeyObject } from 'node:crypto';
import { invalid } from '../errors.ts';
import { ctx, generalizedTime, integer, nullValue, octets, oid, seq } from '../encoding/der.ts';
import {
  attribute,
  type CmsSigningAlgorithm,
  encodeSignedData,
  encodeSignerInfo,
  issuerAndSerial,
  signAttributes,
  signedAttributesSet,
  signingAlgorithm,
} from '../cms/signed-data.ts';
import { HASH_OIDS, OID } from './oids.ts';
import type { TimestampRequest } from './request.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

export { issuerAndSerial } from '../cms/signed-data.ts';

/**
 * Everything about a TSA signer that does not change between timestamps, encoded once so
 * issuing a token costs one hash of the TSTInfo, one of the attributes and one signature.
 */
export interface TimestampSigner {
  key: KeyObject;
  /** DER certificates, leaf (the TSA certificate) first. */
  certChain: Uint8Array[];
  alg: CmsSigningAlgorithm;
  /** SignerIdentifier: issuerAndSerialNumber of the leaf (RFC 5652 §5.3). */
  sidDer: Uint8Array;
  /** The signingCertificateV2 attribute naming the leaf (RFC 5816 §2.2.1). */
  essAttrDer: Uint8Array;
}

/** Prepares a signer from a private key and its certificate chain (leaf first). */
export function prepareTimestampSigner(key: KeyObject, certChain: Uint8Array[]): TimestampSigner {
  if (certChain.length === 0) throw invalid('certChain', 'the TSA needs its certificate');
  const leaf = certChain[0]!;
  const { issuer, serial } = issuerAndSerial(leaf);
  let alg: CmsSigningAlgorithm;
  try {
    alg = signingAlgorithm(key);
  } catch {
    throw invalid('key', `unsupported TSA key type ${key.asymmetricKeyType}`);
  }
  const certHash = createHash('sha256').update(leaf).digest();
  // ESSCertIDv2 with the default hash (SHA-256) omitted, as DER requires for DEFAULT values.
  const essCertIdV2 = seq(octets(certHash), seq(seq(ctx(4, issuer)), serial));
  return {
    key,
    certChain,
    alg,
    sidDer: seq(issuer, serial),
    essAttrDer: attribute(OID.signingCertificateV2, seq(seq(essCertIdV2))),
  };
}

export interface TimestampOptions {
  genTime: Date;
  /** Unique per token (RFC 3161 §2.4.2: up to 160 bits). */
  serialNumber: bigint;
  policy: string;
  /** Accuracy in whole seconds; Sigstore's TSA uses 1. */
  accuracySeconds?: number;
  /** Put the whole chain in the token rather than only the TSA certificate (when certReq). */
  includeChain?: boolean;
}

/** The TSTInfo (RFC 3161 §2.4.2) for a request. */
export function encodeTstInfo(req: TimestampRequest, o: TimestampOptions): Uint8Array {
  const imprint =
    req.imprintDer ?? seq(seq(oid(HASH_OIDS[req.hashAlgorithm]), nullValue()), octets(req.digest));
  const parts = [
    integer(1),
    oid(o.policy),
    imprint,
    integer(o.serialNumber),
    generalizedTime(o.genTime),
  ];
  if (o.accuracySeconds !== undefined) parts.push(seq(integer(o.accuracySeconds)));
  // ordering is DEFAULT FALSE: omitted in DER.
  if (req.nonce !== undefined) parts.push(integer(req.nonce));
  return seq(...parts);
}

/**
 * Issues a granted TimeStampResp (RFC 3161 §2.4.2) for `req`: a CMS SignedData (RFC 5652 §5)
 * over the TSTInfo with signed attributes contentType, messageDigest and signingCertificateV2.
 */
export function createTimestampResponse(
  signer: TimestampSigner,
  req: TimestampRequest,
  o: TimestampOptions,
): Uint8Array {
  const tstInfo = encodeTstInfo(req, o);
  const tstDigest = createHash(signer.alg.digest).update(tstInfo).digest();
  const attrs = signedAttributesSet([
    attribute(OID.contentType, oid(OID.tstInfo)),
    attribute(OID.messageDigest, octets(tstDigest)),
    signer.essAttrDer,
  ]);
  const signerInfo = encodeSignerInfo({
    sid: signer.sidDer,
    alg: signer.alg,
    signedAttrs: attrs,
    signature: signAttributes(signer.key, signer.alg, attrs),
  });
  const certs = req.certReq
    ? o.includeChain
      ? signer.certChain
      : signer.certChain.slice(0, 1)
    : [];
  // Version 3: eContentType is not id-data (RFC 5652 §5.1).
  const token = encodeSignedData({
    digestAlgorithms: [signer.alg.digestAlgDer],
    eContentType: OID.tstInfo,
    eContent: tstInfo,
    certificates: certs,
    signerInfos: [signerInfo],
  });
  const status = seq(integer(0)); // PKIStatus granted
  return seq(status, token);
}
