import { SIGNATURE_ALGORITHMS as X509_SIGNATURE_ALGORITHMS } from '../x509/certificate.ts';
/** Object identifiers used by RFC 3161 / RFC 5652 / RFC 5816 and Sigstore's TSA. */
export const OID = {
  signedData: '1.2.840.113549.1.7.2', // RFC 5652 §5.1
  tstInfo: '1.2.840.113549.1.9.16.1.4', // RFC 3161 §2.4.2 id-ct-TSTInfo
  contentType: '1.2.840.113549.1.9.3', // RFC 5652 §11.1
  messageDigest: '1.2.840.113549.1.9.4', // RFC 5652 §11.2
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12', // RFC 2634 §5.4 (ESSCertID, SHA-1)
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47', // RFC 5035 §3 / RFC 5816 (ESSCertIDv2)
  timeStamping: '1.3.6.1.5.5.7.3.8', // RFC 3161 §2.3 extended key usage
  extKeyUsage: '2.5.29.37',
  sha1: '1.3.14.3.2.26',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ed25519: '1.3.101.112',
  /** Sigstore's TSA policy (sigstore/timestamp-authority default policy OID). */
  sigstoreTsaPolicy: '1.3.6.1.4.1.57264.2',
} as const;

export type HashName = 'sha256' | 'sha384' | 'sha512';

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

/** Signature algorithms a token may use: the digest they apply and the key type they need. */
export const SIGNATURE_ALGORITHMS: Readonly<
  Record<string, { hash: HashName | null; key: 'ec' | 'rsa' | 'ed25519' }>
> = {
  ...X509_SIGNATURE_ALGORITHMS,
  // RFC 5652 allows rsaEncryption with the digest algorithm of the SignerInfo.
  [OID.rsaEncryption]: { hash: null, key: 'rsa' },
};
