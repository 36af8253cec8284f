import {
  parseCertificateOnce,
  readableName,
  type X509Certificate as X509,
} from '../x509/certificate.ts';
import { issuedBy, verifyCertificateChain } from '../x509/chain.ts';
import { quoteInput, SignetError, verificationFailed } from '../errors.ts';
import { compareBytes } from '../encoding/der.ts';
import { digest } from '../crypto/digest.ts';
import { type HashName, hashByOid, OID, SIGNATURE_ALGORITHMS } from './oids.ts';
import { type ParsedTimestamp, parseTimestamp } from './token.ts';
const { createHash, verify: nodeVerify } = process.getBuiltinModule('node:crypto');

/** A timestamp authority from the trusted root (protobuf-specs CertificateAuthority). */
export interface TimestampAuthority {
  /**
   * DER certificates, root last: the TSA's signing certificate (leaf) first, or only its CA
   * chain, when the first is a CA (sigstore-go's ParseTimestampingAuthority: then the token
   * must carry the TSA's certificate).
   */
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
 * trusted: where the trusted root's chain names no TSA certificate, the token's own is taken
 * and must chain to it. Throws a SignetError (kind `verification`) naming the failed check.
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
  const imprint = digest(tst.hashAlgorithm, data);
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
  if (!si.messageDigest || compareBytes(digest(digestAlg, tst.raw), si.messageDigest) !== 0)
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
  // A TSA none of the authorities holds at any time is named as such, not by the window.
  if (inWindow.length === 0)
    throw timestampAuthorityOf(ts, authorities) === undefined
      ? untrustedSigner(ts, authorities)
      : verificationFailed(
          'TIMESTAMP_UNTRUSTED',
          `no timestamp authority in the trusted root is valid at the timestamp's genTime ${genTime.toISOString()}`,
        );
  const matching = inWindow.flatMap(({ a, i }) =>
    signerPaths(ts, a).map((path) => ({ a, i, ...path })),
  );
  if (matching.length === 0)
    throw untrustedSigner(
      ts,
      inWindow.map(({ a }) => a),
    );
  let last: unknown;
  for (const { i, leaf, chain } of matching) {
    try {
      checkAuthority(ts, digestAlg, leaf, chain, genTime);
      return { genTime, authorityIndex: i, timestamp: ts };
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof SignetError ? last : verificationFailed('TIMESTAMP_ERROR', String(last));
}

/** No authority of `authorities` has the token's signer: why, naming the signer. */
function untrustedSigner(
  ts: ParsedTimestamp,
  authorities: readonly TimestampAuthority[],
): SignetError {
  return verificationFailed(
    'TIMESTAMP_UNTRUSTED',
    authorities.some((a) => 'ca' in chainStart(a)) && ts.certificates.length === 0
      ? "the timestamp carries no certificate, and the trusted root's timestamp authorities name none (their chains hold only CA certificates): the TSA must include its certificate in the token"
      : `the timestamp was not signed by a timestamp authority of the trusted root: its signer ${timestampSignerName(ts)} matches none`,
  );
}

/**
 * The index of the first of `authorities` (at any time) that holds the token's signer: the
 * authority's own TSA certificate is the one the signer identifier names, or (for a chain of
 * CA certificates) the certificate the token carries for its signer links, through the CA
 * certificates it carries, to the chain's first by name and signature. Undefined means no
 * authority can verify the token, so it is from a TSA they do not hold; nothing else of the
 * token (signature, imprint, times) is checked.
 */
export function timestampAuthorityOf(
  ts: ParsedTimestamp,
  authorities: readonly TimestampAuthority[],
): number | undefined {
  for (const [i, a] of authorities.entries()) {
    const start = chainStart(a);
    if ('unreadable' in start) continue;
    for (const { leaf, chain } of signerPaths(ts, a)) {
      if ('leaf' in start) return i;
      // The token's certificates come first (the signer's, then CA links): the last of them
      // must be issued by the chain's first. They parsed in signerPaths, so they parse here.
      const carried = chain.length - a.certChain.length;
      const last =
        carried === 1 ? leaf : parseCertificateOnce(chain[carried - 1]!, 'timestamp certificate');
      if (issuedBy(last, start.ca)) return i;
    }
  }
  return undefined;
}

/**
 * The TSA that signed a token, for messages: the quoted subject of the certificate it carries for
 * its signer, else (in parentheses) the issuer and serial or key ID its signer identifier names.
 * Untrusted text, quoted.
 */
export function timestampSignerName(ts: ParsedTimestamp): string {
  for (const der of ts.certificates) {
    try {
      const c = parseCertificateOnce(der, 'timestamp certificate');
      if (signerMatches(ts, c)) return quoteInput(c.subject);
    } catch {
      // a certificate we cannot read names nothing
    }
  }
  const si = ts.signer;
  if (si.issuer && si.serial) {
    let issuer: string;
    try {
      issuer = quoteInput(readableName(si.issuer));
    } catch {
      issuer = 'an unreadable name';
    }
    return `(certificate serial ${shortHex(unsigned(si.serial))} issued by ${issuer})`;
  }
  if (si.subjectKeyId) return `(key ID ${shortHex(si.subjectKeyId)})`;
  return '(unnamed)';
}

/** Hex of untrusted bytes for a message, cut at 32 bytes (serials have at most 20, RFC 5280). */
function shortHex(b: Uint8Array): string {
  const hex = Buffer.from(b.subarray(0, 32)).toString('hex');
  return b.length > 32 ? `${hex}...` : hex;
}

/** INTEGER contents without sign-padding zeros, to compare with a parsed serial number. */
function unsigned(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/**
 * What an authority's chain starts with: the TSA's certificate, a CA (the chain names no TSA
 * certificate: the token's is taken), or nothing readable (it vouches for nothing).
 */
type ChainStart = { leaf: X509 } | { ca: X509 } | { unreadable: true };

function chainStart(a: TimestampAuthority): ChainStart {
  let first: X509;
  try {
    first = parseCertificateOnce(a.certChain[0]!, 'TSA certificate');
  } catch {
    return { unreadable: true };
  }
  return first.basicConstraints?.ca ? { ca: first } : { leaf: first };
}

/** The most CA certificates a token may add between the TSA's certificate and a trusted chain. */
const MAX_TOKEN_INTERMEDIATES = 4;

/**
 * The TSA certificates that may have signed `ts` under authority `a`, each with the chain to
 * check it by (leaf first, the authority's root last). A chain that starts with the TSA's
 * certificate gives that one. A chain of CA certificates only takes the token's own
 * certificate that the signer identifier names, with the CA certificates the token carries
 * between it and the chain's first (as sigstore's timestamp verification pools them): none of
 * these is trusted for itself, each is only a link the path validation checks to the
 * authority's root.
 */
function signerPaths(
  ts: ParsedTimestamp,
  a: TimestampAuthority,
): Array<{ leaf: X509; chain: readonly Uint8Array[] }> {
  const start = chainStart(a);
  if ('leaf' in start)
    return signerMatches(ts, start.leaf) ? [{ leaf: start.leaf, chain: a.certChain }] : [];
  if (!('ca' in start)) return [];
  const top = start.ca;
  const carried = ts.certificates.flatMap((der) => {
    try {
      return [parseCertificateOnce(der, 'timestamp certificate')];
    } catch {
      return []; // a certificate we cannot read links nothing
    }
  });
  // A certificate that does not chain still gives its path: the path validation names why.
  return carried
    .filter((c) => signerMatches(ts, c))
    .map((c) => {
      const links: X509[] = [];
      let cur = c;
      while (
        compareBytes(cur.issuerDer, top.subjectDer) !== 0 &&
        links.length < MAX_TOKEN_INTERMEDIATES
      ) {
        const next = carried.find(
          (p) =>
            p.basicConstraints?.ca &&
            p !== c &&
            !links.includes(p) &&
            compareBytes(p.subjectDer, cur.issuerDer) === 0,
        );
        if (!next) break;
        links.push(next);
        cur = next;
      }
      return { leaf: c, chain: [c.der, ...links.map((l) => l.der), ...a.certChain] };
    });
}

/** RFC 5652 §5.3: the SignerIdentifier names the trusted leaf (issuer+serial or SKI). */
function signerMatches(ts: ParsedTimestamp, leaf: X509): boolean {
  const si = ts.signer;
  if (si.issuer && si.serial)
    return (
      compareBytes(leaf.issuerDer, si.issuer) === 0 &&
      compareBytes(leaf.serialNumber, unsigned(si.serial)) === 0
    );
  if (si.subjectKeyId && leaf.subjectKeyIdentifier)
    return compareBytes(leaf.subjectKeyIdentifier, si.subjectKeyId) === 0;
  return false;
}

function checkAuthority(
  ts: ParsedTimestamp,
  digestAlg: HashName,
  leaf: X509,
  chain: readonly Uint8Array[],
  genTime: Date,
): void {
  const si = ts.signer;
  // ESSCertID(v2): the hash of the trusted leaf certificate must be the one the TSA signed.
  const ok = si.essCertIds.some((id) => {
    const h = id.hashAlgorithmOid === OID.sha1 ? 'sha1' : hashByOid(id.hashAlgorithmOid);
    if (!h) return false;
    if (compareBytes(createHash(h).update(leaf.der).digest(), id.certHash) !== 0) return false;
    if (!id.issuerSerial) return true;
    return (
      id.issuerSerial.issuer.some((n) => compareBytes(n, leaf.issuerDer) === 0) &&
      compareBytes(unsigned(id.issuerSerial.serial), leaf.serialNumber) === 0
    );
  });
  if (!ok)
    throw verificationFailed(
      'TIMESTAMP_SIGNED_ATTRS',
      'the ESS signing-certificate attribute does not name the trusted TSA certificate',
    );
  checkChainAt(chain, genTime);
  // The signature over the signed attributes, by the trusted leaf's key.
  const alg = SIGNATURE_ALGORITHMS[si.signatureAlgorithmOid];
  if (!alg)
    throw verificationFailed(
      'TIMESTAMP_SIGNATURE',
      `unsupported signature algorithm ${si.signatureAlgorithmOid}`,
    );
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
 * The TSA chain from the trusted root, checked at genTime with the project's path validation
 * (core/x509/chain.ts, RFC 5280 §6.1) for the timeStamping EKU: each certificate valid then,
 * each signed by the next, CA constraints, no unknown critical extension. On top, RFC 3161
 * §2.3: the TSA certificate's only extended key usage is timeStamping, marked critical. The
 * last certificate is the trust anchor (a one-certificate chain is the TSA certificate itself).
 */
export function checkChainAt(chain: readonly Uint8Array[], at: Date): void {
  let leaf: X509;
  let rest: Uint8Array[];
  try {
    // The chain is trust material: parsed once per content, and the TSA certificate's issuer
    // signature remembered by chain.ts; validity at `at` is still checked on every call.
    leaf = parseCertificateOnce(chain[0]!, 'TSA certificate');
    rest = chain.slice(1);
    if (rest.length > 0) {
      verifyCertificateChain(
        leaf,
        [{ certChain: rest, validFor: { start: new Date(0) } }],
        at,
        [],
        { extendedKeyUsage: OID.timeStamping },
      );
    } else if (at.getTime() < leaf.notBefore.getTime() || at.getTime() > leaf.notAfter.getTime()) {
      throw verificationFailed(
        'CERTIFICATE_EXPIRED',
        `the TSA certificate was not valid at ${at.toISOString()}`,
      );
    }
  } catch (e) {
    const err = e as Error;
    throw verificationFailed(
      'TIMESTAMP_CHAIN',
      `TSA certificate chain from the trusted root: ${err.message}`,
      e,
    );
  }
  const ekus = leaf.extensions.filter((e) => e.oid === OID.extKeyUsage);
  const usages = leaf.extendedKeyUsage ?? [];
  if (
    ekus.length !== 1 ||
    !ekus[0]!.critical ||
    usages.length !== 1 ||
    usages[0] !== OID.timeStamping
  )
    throw verificationFailed(
      'TIMESTAMP_CHAIN',
      'the TSA certificate must have exactly one extended key usage, timeStamping, marked critical (RFC 3161 §2.3)',
    );
}
