import { createHash, verify as nodeVerify, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, ExtendedKeyUsage } from '@peculiar/asn1-x509';
import { SignetError, verificationFailed } from '../errors.ts';
import { compareBytes, readOne, TAG } from './der.ts';
import { type HashName, hashByOid, OID, SIGNATURE_ALGORITHMS } from './oids.ts';
import { issuerAndSerial } from './create.ts';
import { type ParsedTimestamp, parseTimestamp } from './token.ts';

/** A timestamp authority from the trusted root (protobuf-specs CertificateAuthority). */
export interface TimestampAuthority {
  /** DER certificates, leaf (the TSA's signing certificate) first, root last. */
  certChain: Uint8Array[];
  /** The window in which the trusted root vouches for this TSA; `end` is inclusive. */
  validFor: { start: Date; end?: Date };
}

export interface VerifyTimestampOptions {
  /** Expected nonce (for a response to a request just sent). */
  nonce?: bigint;
  /** Expected TSA policy OID. */
  policy?: string;
}

export interface VerifiedTimestamp {
  genTime: Date;
  /** Index into the authorities given, of the one that vouched for the token. */
  authorityIndex: number;
  timestamp: ParsedTimestamp;
}

/**
 * Verifies an RFC 3161 timestamp over `data` (for Sigstore: the raw signature bytes) the way
 * the Sigstore client spec (§4.2 / sigstore-js timestamp/tsa.ts) asks: the content types,
 * the TSTInfo imprint, the signed-attributes message digest, the ESS signing-certificate
 * attribute and signer identifier against the trusted TSA certificate, the signature, and
 * the TSA chain from the trusted root at genTime. Certificates inside the token are never
 * trusted. Throws a SignetError (kind `verification`) naming the failed check.
 */
export function verifyTimestamp(
  signedTimestamp: Uint8Array,
  data: Uint8Array,
  authorities: readonly TimestampAuthority[],
  opts: VerifyTimestampOptions = {},
): VerifiedTimestamp {
  let ts: ParsedTimestamp;
  try {
    ts = parseTimestamp(signedTimestamp);
  } catch (e) {
    throw verificationFailed(
      'TIMESTAMP_MALFORMED',
      `RFC 3161 timestamp: ${(e as Error).message}`,
      e,
    );
  }
  const tst = ts.tstInfo;
  // RFC 3161 §2.4.2: the imprint is the hash of the timestamped data.
  if (!tst.hashAlgorithm)
    throw verificationFailed(
      'TIMESTAMP_IMPRINT',
      `unsupported message imprint hash ${tst.hashAlgorithmOid}`,
    );
  const imprint = createHash(tst.hashAlgorithm).update(data).digest();
  if (compareBytes(imprint, tst.digest) !== 0)
    throw verificationFailed(
      'TIMESTAMP_IMPRINT',
      'the timestamp message imprint does not match the signature it should cover',
    );
  if (opts.nonce !== undefined && tst.nonce !== opts.nonce)
    throw verificationFailed(
      'TIMESTAMP_NONCE',
      `timestamp nonce ${tst.nonce ?? '(none)'} is not the nonce sent (${opts.nonce})`,
    );
  if (opts.policy !== undefined && tst.policy !== opts.policy)
    throw verificationFailed(
      'TIMESTAMP_POLICY',
      `timestamp policy ${tst.policy} is not ${opts.policy}`,
    );

  const si = ts.signer;
  // RFC 5652 §5.3: signed attributes must carry contentType = eContentType and messageDigest.
  if (si.contentType !== OID.tstInfo)
    throw verificationFailed(
      'TIMESTAMP_SIGNED_ATTRS',
      `signed contentType attribute is ${si.contentType ?? 'missing'}, expected id-ct-TSTInfo`,
    );
  const digestAlg = hashByOid(si.digestAlgorithmOid);
  if (!digestAlg)
    throw verificationFailed(
      'TIMESTAMP_SIGNED_ATTRS',
      `unsupported signer digest algorithm ${si.digestAlgorithmOid}`,
    );
  if (
    !si.messageDigest ||
    compareBytes(createHash(digestAlg).update(tst.raw).digest(), si.messageDigest) !== 0
  )
    throw verificationFailed(
      'TIMESTAMP_SIGNED_ATTRS',
      'the signed messageDigest attribute does not match the TSTInfo',
    );
  // RFC 3161 §2.4.1 / RFC 5816: the ESS signing-certificate attribute identifies the TSA cert.
  if (si.essCertIds.length === 0)
    throw verificationFailed(
      'TIMESTAMP_SIGNED_ATTRS',
      'the token has no ESS signing-certificate(V2) attribute',
    );

  const genTime = tst.genTime;
  const inWindow = authorities
    .map((a, i) => ({ a, i }))
    .filter(
      ({ a }) =>
        a.certChain.length > 0 &&
        a.validFor.start.getTime() <= genTime.getTime() &&
        (a.validFor.end === undefined || genTime.getTime() <= a.validFor.end.getTime()),
    );
  if (inWindow.length === 0)
    throw verificationFailed(
      'TIMESTAMP_UNTRUSTED',
      `no timestamp authority in the trusted root is valid at the timestamp's genTime ${genTime.toISOString()}`,
    );
  const matching = inWindow.filter(({ a }) => signerMatches(ts, a.certChain[0]!));
  if (matching.length === 0)
    throw verificationFailed(
      'TIMESTAMP_UNTRUSTED',
      'the timestamp was not signed by a timestamp authority of the trusted root (signer identifier matches none)',
    );
  let last: unknown;
  for (const { a, i } of matching) {
    try {
      checkAuthority(ts, digestAlg, a, genTime);
      return { genTime, authorityIndex: i, timestamp: ts };
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof SignetError ? last : verificationFailed('TIMESTAMP_ERROR', String(last));
}

function signerMatches(ts: ParsedTimestamp, leafDer: Uint8Array): boolean {
  const si = ts.signer;
  if (si.issuer && si.serial) {
    const { issuer, serial } = issuerAndSerial(leafDer);
    return (
      compareBytes(issuer, si.issuer) === 0 &&
      compareBytes(readOne(serial, 'serial').value, si.serial) === 0
    );
  }
  if (si.subjectKeyId) {
    const cert = AsnConvert.parse(leafDer, Certificate);
    const ski = cert.tbsCertificate.extensions?.find((e) => e.extnID === '2.5.29.14');
    if (!ski) return false;
    const v = readOne(
      new Uint8Array(ski.extnValue.buffer),
      'subjectKeyIdentifier',
      TAG.OCTET_STRING,
    ).value;
    return compareBytes(v, si.subjectKeyId) === 0;
  }
  return false;
}

function checkAuthority(
  ts: ParsedTimestamp,
  digestAlg: HashName,
  a: TimestampAuthority,
  genTime: Date,
): void {
  const leafDer = a.certChain[0]!;
  const si = ts.signer;
  // ESSCertID(v2): the hash of the trusted leaf certificate must be the one the TSA signed.
  const ok = si.essCertIds.some((id) => {
    const h = id.hashAlgorithmOid === OID.sha1 ? 'sha1' : hashByOid(id.hashAlgorithmOid);
    if (!h) return false;
    if (compareBytes(createHash(h).update(leafDer).digest(), id.certHash) !== 0) return false;
    if (!id.issuerSerial) return true;
    const { issuer, serial } = issuerAndSerial(leafDer);
    return (
      id.issuerSerial.issuer.some((n) => compareBytes(n, issuer) === 0) &&
      compareBytes(readOne(serial, 'serial').value, id.issuerSerial.serial) === 0
    );
  });
  if (!ok)
    throw verificationFailed(
      'TIMESTAMP_SIGNED_ATTRS',
      'the ESS signing-certificate attribute does not name the trusted TSA certificate',
    );
  checkChainAt(a.certChain, genTime);
  // The signature over the signed attributes, by the trusted leaf's key.
  const alg = SIGNATURE_ALGORITHMS[si.signatureAlgorithmOid];
  if (!alg)
    throw verificationFailed(
      'TIMESTAMP_SIGNATURE',
      `unsupported signature algorithm ${si.signatureAlgorithmOid}`,
    );
  const leaf = new X509Certificate(leafDer);
  if (leaf.publicKey.asymmetricKeyType !== alg.key)
    throw verificationFailed(
      'TIMESTAMP_SIGNATURE',
      `signature algorithm ${si.signatureAlgorithmOid} does not fit the TSA's ${leaf.publicKey.asymmetricKeyType} key`,
    );
  let valid: boolean;
  try {
    valid = nodeVerify(
      alg.key === 'ed25519' ? null : (alg.hash ?? digestAlg),
      si.signedAttrs,
      leaf.publicKey,
      si.signature,
    );
  } catch {
    valid = false;
  }
  if (!valid)
    throw verificationFailed(
      'TIMESTAMP_SIGNATURE',
      'the timestamp signature does not verify with the TSA certificate',
    );
}

/**
 * The TSA chain from the trusted root, checked at genTime: each certificate valid then, each
 * signed by the next, the CAs marked as CAs, the leaf an end entity whose only extended key
 * usage is a critical timeStamping (RFC 3161 §2.3). The last certificate is the trust anchor.
 */
export function checkChainAt(chain: readonly Uint8Array[], at: Date): void {
  const certs = chain.map((c, i) => {
    try {
      return new X509Certificate(c);
    } catch (e) {
      throw verificationFailed(
        'TIMESTAMP_CHAIN',
        `TSA certificate ${i} does not parse: ${(e as Error).message}`,
        e,
      );
    }
  });
  for (const [i, c] of certs.entries()) {
    if (at.getTime() < c.validFromDate.getTime() || at.getTime() > c.validToDate.getTime())
      throw verificationFailed(
        'TIMESTAMP_CHAIN',
        `TSA certificate ${i} (${c.subject.replace(/\n/g, ', ')}) is not valid at ${at.toISOString()} (valid ${c.validFromDate.toISOString()} to ${c.validToDate.toISOString()})`,
      );
    // The last certificate is the trust anchor: trusted because the trusted root names it.
    const issuer = certs[i + 1];
    if (issuer && !c.verify(issuer.publicKey))
      throw verificationFailed(
        'TIMESTAMP_CHAIN',
        `TSA certificate ${i} is not signed by certificate ${i + 1}`,
      );
    if (i > 0 && !c.ca)
      throw verificationFailed('TIMESTAMP_CHAIN', `TSA chain certificate ${i} is not a CA`);
  }
  if (certs[0]!.ca && certs.length > 1)
    throw verificationFailed('TIMESTAMP_CHAIN', 'the TSA certificate is a CA certificate');
  const leaf = AsnConvert.parse(chain[0]!, Certificate);
  const ekus = (leaf.tbsCertificate.extensions ?? []).filter((e) => e.extnID === OID.extKeyUsage);
  const eku = ekus.length === 1 ? ekus[0]! : undefined;
  const usages = eku ? AsnConvert.parse(eku.extnValue, ExtendedKeyUsage) : [];
  if (!eku || !eku.critical || usages.length !== 1 || usages[0] !== OID.timeStamping)
    throw verificationFailed(
      'TIMESTAMP_CHAIN',
      'the TSA certificate must have exactly one extended key usage, timeStamping, marked critical (RFC 3161 §2.3)',
    );
}
