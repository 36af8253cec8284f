import { CMS_OID } from '../cms/oids.ts';

export {
  HASH_LENGTHS,
  HASH_OIDS,
  hashByOid,
  SIGNATURE_ALGORITHMS,
  type HashName,
} from '../cms/oids.ts';

/** Object identifiers used by RFC 3161 / RFC 5652 / RFC 5816 and Sigstore's TSA. */
export const OID = {
  signedData: CMS_OID.signedData,
  tstInfo: '1.2.840.113549.1.9.16.1.4', // RFC 3161 §2.4.2 id-ct-TSTInfo
  contentType: CMS_OID.contentType,
  messageDigest: CMS_OID.messageDigest,
  signingTime: CMS_OID.signingTime,
  signingCertificate: '1.2.840.113549.1.9.16.2.12', // RFC 2634 §5.4 (ESSCertID, SHA-1)
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47', // RFC 5035 §3 / RFC 5816 (ESSCertIDv2)
  timeStamping: '1.3.6.1.5.5.7.3.8', // RFC 3161 §2.3 extended key usage
  extKeyUsage: '2.5.29.37',
  sha1: '1.3.14.3.2.26',
  ecdsaWithSha256: CMS_OID.ecdsaWithSha256,
  ecdsaWithSha384: CMS_OID.ecdsaWithSha384,
  ecdsaWithSha512: CMS_OID.ecdsaWithSha512,
  rsaEncryption: CMS_OID.rsaEncryption,
  sha256WithRsa: CMS_OID.sha256WithRsa,
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ed25519: CMS_OID.ed25519,
  /** Sigstore's TSA policy (sigstore/timestamp-authority default policy OID). */
  sigstoreTsaPolicy: '1.3.6.1.4.1.57264.2',
} as const;
