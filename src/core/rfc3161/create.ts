import { createHash, type KeyObject, sign } from 'node:crypto';
import { invalid } from '../errors.ts';
import {
  elementChildren,
  ctx,
  expectTag,
  generalizedTime,
  integer,
  nullValue,
  octets,
  oid,
  readOne,
  seq,
  setOf,
  TAG,
  tlv,
} from '../x509/der.ts';
import { HASH_OIDS, type HashName, OID } from './oids.ts';
import type { TimestampRequest } from './request.ts';

/**
 * Everything about a TSA signer that does not change between timestamps, encoded once so
 * issuing a token costs one hash of the TSTInfo, one of the attributes and one signature.
 */
export interface TimestampSigner {
  key: KeyObject;
  /** DER certificates, leaf (the TSA certificate) first. */
  certChain: Uint8Array[];
  digest: HashName;
  /** AlgorithmIdentifier of the digest (parameters absent, RFC 5754 §2). */
  digestAlgDer: Uint8Array;
  signatureAlgDer: Uint8Array;
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
  let digest: HashName;
  let sigAlg: Uint8Array;
  const t = key.asymmetricKeyType;
  if (t === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    digest = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
    const ecdsa = {
      sha256: OID.ecdsaWithSha256,
      sha384: OID.ecdsaWithSha384,
      sha512: OID.ecdsaWithSha512,
    };
    sigAlg = seq(oid(ecdsa[digest]));
  } else if (t === 'rsa') {
    digest = 'sha256';
    sigAlg = seq(oid(OID.sha256WithRsa), nullValue());
  } else if (t === 'ed25519') {
    digest = 'sha512'; // RFC 8419 §3: SHA-512 with Ed25519 signed attributes
    sigAlg = seq(oid(OID.ed25519));
  } else {
    throw invalid('key', `unsupported TSA key type ${t}`);
  }
  const certHash = createHash('sha256').update(leaf).digest();
  // ESSCertIDv2 with the default hash (SHA-256) omitted, as DER requires for DEFAULT values.
  const essCertIdV2 = seq(octets(certHash), seq(seq(ctx(4, issuer)), serial));
  return {
    key,
    certChain,
    digest,
    digestAlgDer: seq(oid(HASH_OIDS[digest])),
    signatureAlgDer: sigAlg,
    sidDer: seq(issuer, serial),
    essAttrDer: seq(oid(OID.signingCertificateV2), setOf(seq(seq(essCertIdV2)))),
  };
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
  const tstDigest = createHash(signer.digest).update(tstInfo).digest();
  const attrs = setOf(
    seq(oid(OID.contentType), setOf(oid(OID.tstInfo))),
    seq(oid(OID.messageDigest), setOf(octets(tstDigest))),
    signer.essAttrDer,
  );
  // RFC 5652 §5.4: the signature covers the DER SET OF; the token carries it as [0] IMPLICIT.
  const signature = sign(
    signer.key.asymmetricKeyType === 'ed25519' ? null : signer.digest,
    attrs,
    signer.key,
  );
  const signedAttrs = Uint8Array.from(attrs);
  signedAttrs[0] = 0xa0;
  const signerInfo = seq(
    integer(1),
    signer.sidDer,
    signer.digestAlgDer,
    signedAttrs,
    signer.signatureAlgDer,
    octets(signature),
  );
  const parts = [
    integer(3), // version 3: eContentType is not id-data (RFC 5652 §5.1)
    setOf(signer.digestAlgDer),
    seq(oid(OID.tstInfo), ctx(0, octets(tstInfo))),
  ];
  if (req.certReq) {
    const certs = o.includeChain ? signer.certChain : signer.certChain.slice(0, 1);
    parts.push(tlv(0xa0, ...certs));
  }
  parts.push(setOf(signerInfo));
  const token = seq(oid(OID.signedData), ctx(0, seq(...parts)));
  const status = seq(integer(0)); // PKIStatus granted
  return seq(status, token);
}
