import { SIGNATURE_ALGORITHMS as X509_SIGNATURE_ALGORITHMS } from '../x509/certificate.ts';

/** Object identifiers of CMS (RFC 5652) and its attributes, shared by RFC 3161 and git signing. */
export const CMS_OID = {
  data: '1.2.840.113549.1.7.1', // RFC 5652 §4 id-data
  signedData: '1.2.840.113549.1.7.2', // RFC 5652 §5.1
  contentType: '1.2.840.113549.1.9.3', // RFC 5652 §11.1
  messageDigest: '1.2.840.113549.1.9.4', // RFC 5652 §11.2
  signingTime: '1.2.840.113549.1.9.5', // RFC 5652 §11.3
  /** RFC 3161 Appendix A: a timestamp token over a SignerInfo's signature, as unsigned attribute. */
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
} as const;

export type HashName = 'sha256' | 'sha384' | 'sha512';

/** SHA-2 AlgorithmIdentifier OIDs (RFC 5754 §2). */
export const HASH_OIDS: Record<HashName, string> = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

export const HASH_LENGTHS: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

const BY_OID = new Map<string, HashName>(
  Object.entries(HASH_OIDS).map(([k, v]) => [v, k as HashName]),
);

/** SHA-2 hash by OID, or undefined for any other algorithm (SHA-1 included). */
export function hashByOid(oid: string): HashName | undefined {
  return BY_OID.get(oid);
}

/** Signature algorithms a SignerInfo may use: the digest they apply and the key type they need. */
export const SIGNATURE_ALGORITHMS: Readonly<
  Record<string, { hash: HashName | null; key: 'ec' | 'rsa' | 'ed25519' }>
> = {
  ...X509_SIGNATURE_ALGORITHMS,
  // RFC 5652 §5.3 allows rsaEncryption with the digest algorithm of the SignerInfo.
  [CMS_OID.rsaEncryption]: { hash: null, key: 'rsa' },
};
