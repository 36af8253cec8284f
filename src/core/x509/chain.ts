import type { ErrorCode } from '../errors.ts';
/**
 * Certificate path validation at a given time (RFC 5280 §6.1, restricted to what Sigstore
 * needs): a leaf, then the chain of a trusted CA (issuing CA first, trust anchor last).
 * Checked: each signature and name link, every certificate's validity at `at` (closed
 * interval), the CA's trust window, CA basic constraints and keyCertSign on every issuer,
 * path length constraints, that the leaf is NOT a CA, the leaf's key usage and extended key
 * usage, EKU nesting on issuers that restrict it (as Go's x509 and Fulcio chains require), and
 * that no certificate carries a critical extension we do not understand.
 */
import { BytesMap } from '../cache.ts';
import { SignetError, verificationFailed } from '../errors.ts';
import {
  OID,
  parseCertificateOnce,
  verifyCertificateSignature,
  type X509Certificate,
} from './certificate.ts';

const ANY_EKU = '2.5.29.37.0';

/** Extensions this validator understands (RFC 5280 §4.2: unknown critical ones must fail). */
const HANDLED = new Set<string>([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
  OID.sctList,
]);

export interface TrustedAuthority {
  /** DER certificates, the issuing CA first, the trust anchor last. */
  certChain: Uint8Array[];
  /** The window the trusted root vouches for this CA (closed interval). */
  validFor: { start: Date; end?: Date | undefined };
}

export interface ChainOptions {
  /** The EKU the leaf must carry (default: codeSigning, as Fulcio leaves do). */
  extendedKeyUsage?: string;
  /** What carried the untrusted certificates, for errors (default "the bundle"). */
  carrier?: string;
}

/**
 * Issuer signatures on leaves that verified, by the exact bytes of (leaf, issuer key): a
 * signature check is a pure function of them, so a verifier that sees the same certificate
 * again (many artifacts signed in one CI job, a TSA certificate per timestamp) checks it once.
 * Only the signature is remembered; names, constraints and validity are checked every time.
 */
const verifiedLinks = new BytesMap<true>(1024);

export interface VerifiedChain {
  /** leaf, issuing CA, ..., trust anchor */
  path: X509Certificate[];
  /** Index of the authority (in the list given) whose chain validated the leaf. */
  authorityIndex: number;
}

/**
 * Trusted CA chains, parsed once and cached by content (the same bytes always parse the same),
 * with the EKUs for which their internal links (signatures, CA constraints) were checked.
 * Only trust material goes here, never a bundle's leaf. Callers that rebuild the DER array
 * per call (e.g. the TSA chain check) still hit the cache.
 */
interface CachedChain {
  certs: X509Certificate[];
  linkedFor: Set<string>;
}
const byArray = new WeakMap<readonly Uint8Array[], CachedChain>();
const byContent = new BytesMap<CachedChain>(256);

function cachedChain(a: TrustedAuthority, i: number): CachedChain {
  let c = byArray.get(a.certChain);
  if (c) return c;
  c = byContent.get(a.certChain);
  if (!c) {
    c = {
      certs: a.certChain.map((d, j) => parseCertificateOnce(d, `trusted CA ${i} certificate ${j}`)),
      linkedFor: new Set(),
    };
    byContent.set(a.certChain, c);
  }
  byArray.set(a.certChain, c);
  return c;
}

function fail(message: string, code: ErrorCode = 'CERTIFICATE_CHAIN', at?: Date): SignetError {
  const e = verificationFailed(code, message);
  // `at` says which of several times failed (the verifier names its source).
  return at ? new SignetError(e.kind, e.code, e.message, { details: { at: at.toISOString() } }) : e;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function describe(c: X509Certificate): string {
  return c.subject || `serial ${c.serialHex}`;
}

function validAt(c: X509Certificate, at: Date): boolean {
  const t = at.getTime();
  return c.notBefore.getTime() <= t && t <= c.notAfter.getTime();
}

/** `role` names the certificate in the error (a function: readable names are decoded only for messages). */
function checkCritical(c: X509Certificate, role: () => string): void {
  for (const e of c.extensions)
    if (e.critical && !HANDLED.has(e.oid))
      throw fail(
        `the ${role()} certificate has a critical extension ${e.oid} that is not understood`,
      );
}

/** Checks on an issuing certificate at `depth` (1 = issued the leaf) that do not depend on time. */
function checkIssuer(c: X509Certificate, depth: number, eku: string): void {
  const name = () => describe(c);
  if (!c.basicConstraints?.ca)
    throw fail(`the issuing certificate "${name()}" is not a CA (basic constraints)`);
  if (c.keyUsage && !c.keyUsage.keyCertSign)
    throw fail(`the issuing certificate "${name()}" may not sign certificates (key usage)`);
  // pathLenConstraint bounds the number of intermediate CAs below this one (RFC 5280 §4.2.1.9).
  const below = depth - 1;
  if (c.basicConstraints.pathLength !== undefined && below > c.basicConstraints.pathLength)
    throw fail(
      `the CA "${name()}" allows ${c.basicConstraints.pathLength} CA certificates below it, the path has ${below}`,
    );
  if (
    c.extendedKeyUsage &&
    !c.extendedKeyUsage.includes(eku) &&
    !c.extendedKeyUsage.includes(ANY_EKU)
  )
    throw fail(
      `the CA "${name()}" is not allowed to issue certificates for ${ekuName(eku)} (extended key usage)`,
    );
  checkCritical(c, () => `CA "${name()}"`);
}

function ekuName(oid: string): string {
  return oid === OID.codeSigning ? 'code signing' : oid === OID.timeStamping ? 'timestamping' : oid;
}

/** Validates the links inside a trusted CA chain once per EKU (signatures, CA constraints). */
function checkCaChain(cached: CachedChain, eku: string): void {
  if (cached.linkedFor.has(eku)) return;
  const chain = cached.certs;
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    checkIssuer(c, i + 1, eku);
    const issuer = chain[i + 1];
    if (issuer) {
      if (!bytesEqual(c.issuerDer, issuer.subjectDer))
        throw fail(`trusted CA chain: "${describe(c)}" is not issued by "${describe(issuer)}"`);
      if (!verifyCertificateSignature(c, issuer.publicKey))
        throw fail(`trusted CA chain: the signature on "${describe(c)}" does not verify`);
    }
  }
  cached.linkedFor.add(eku);
}

function leafSignedBy(leaf: X509Certificate, issuer: X509Certificate): boolean {
  const key = [leaf.der, issuer.spki];
  if (verifiedLinks.get(key)) return true;
  const ok = verifyCertificateSignature(leaf, issuer.publicKey);
  if (ok) verifiedLinks.set(key, true);
  return ok;
}

/**
 * Whether `issuer` issued `cert`: its subject is the certificate's issuer name and its key
 * signed the certificate. The link path validation starts from; nothing else (time, usage,
 * constraints) is checked.
 */
export function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return bytesEqual(cert.issuerDer, issuer.subjectDer) && leafSignedBy(cert, issuer);
}

/**
 * The index of the first of `authorities` whose issuing CA issued `leaf` (issuedBy), at any
 * time: undefined means no path from `leaf` can validate against them, as no authority is even
 * tried. A verifier uses it to tell a certificate of another deployment from one that failed a
 * check.
 */
export function issuingAuthority(
  leaf: X509Certificate,
  authorities: readonly TrustedAuthority[],
): number | undefined {
  for (const [i, a] of authorities.entries()) {
    const issuer = cachedChain(a, i).certs[0];
    if (issuer && issuedBy(leaf, issuer)) return i;
  }
  return undefined;
}

/**
 * Validates `leaf` at time `at` (or at every one of several times: signatures and constraints
 * are checked once, validity windows at each time) against the trusted `authorities`, and
 * returns the path; the same CA path must hold at every time.
 * `untrusted` are certificates the bundle carried after the leaf: they are never trusted;
 * each must be one of the chosen CA's own certificates, and a self-signed root is refused
 * (a bundle must not carry the root: sigstore-conformance bundle-with-root-cert).
 */
export function verifyCertificateChain(
  leaf: X509Certificate,
  authorities: readonly TrustedAuthority[],
  at: Date | readonly Date[],
  untrusted: readonly X509Certificate[] = [],
  opts: ChainOptions = {},
): VerifiedChain {
  const eku = opts.extendedKeyUsage ?? OID.codeSigning;
  const carrier = opts.carrier ?? 'the bundle';
  for (const u of untrusted)
    if (bytesEqual(u.issuerDer, u.subjectDer))
      throw fail(
        `${carrier} carries a self-signed root certificate ("${describe(u)}"); roots come only from the trusted root`,
      );
  // Leaf checks that do not depend on the CA.
  if (leaf.basicConstraints?.ca)
    throw fail(
      `the signing certificate "${describe(leaf)}" is a CA certificate, not an end-entity`,
    );
  if (leaf.keyUsage && !leaf.keyUsage.digitalSignature)
    throw fail('the signing certificate is not allowed to make digital signatures (key usage)');
  if (!leaf.extendedKeyUsage?.includes(eku))
    throw fail(`the signing certificate is not valid for ${ekuName(eku)} (extended key usage)`);
  checkCritical(leaf, () => 'signing');
  const times: readonly Date[] = at instanceof Date ? [at] : at;
  if (times.length === 0) throw fail('no time to validate the certificate at');
  for (const t of times)
    if (!validAt(leaf, t))
      throw fail(
        `the signing certificate was not valid at ${t.toISOString()} (valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`,
        'CERTIFICATE_EXPIRED',
        t,
      );

  let lastError: SignetError | undefined;
  for (const [i, a] of authorities.entries()) {
    const cached = cachedChain(a, i);
    const chain = cached.certs;
    const issuer = chain[0];
    if (!issuer || !issuedBy(leaf, issuer)) continue;
    try {
      checkCaChain(cached, eku);
      for (const at of times) {
        // Written as what must hold, so that an invalid date (NaN) anywhere fails closed.
        const t = at.getTime();
        const end = a.validFor.end?.getTime();
        if (!(a.validFor.start.getTime() <= t && (end === undefined || t <= end)))
          throw fail(
            `the CA "${describe(issuer)}" that issued the certificate is not trusted at ${at.toISOString()} (trusted root validity window)`,
            'CERTIFICATE_CA_NOT_VALID',
            at,
          );
        for (const c of chain)
          if (!validAt(c, at))
            throw fail(
              `the CA certificate "${describe(c)}" was not valid at ${at.toISOString()}`,
              'CERTIFICATE_EXPIRED',
              at,
            );
      }
      for (const u of untrusted)
        if (!chain.some((c) => bytesEqual(c.der, u.der)))
          throw fail(
            `${carrier} carries a certificate ("${describe(u)}") that is not part of the trusted CA chain`,
          );
      return { path: [leaf, ...chain], authorityIndex: i };
    } catch (e) {
      lastError = e as SignetError;
    }
  }
  // Every authority whose CA signed the leaf either returned or left its error here.
  if (lastError) throw lastError;
  throw notIssued(leaf, authorities);
}

/**
 * Throws unless a CA of `authorities` signed `leaf` (issuingAuthority): the one check of the
 * certificate that needs no verified time, so a verifier can make it before the checks that
 * give the time. verifyCertificateChain fails the same way, with the same error.
 */
export function checkIssuedByAny(
  leaf: X509Certificate,
  authorities: readonly TrustedAuthority[],
): void {
  if (issuingAuthority(leaf, authorities) === undefined) throw notIssued(leaf, authorities);
}

/**
 * Whether a CA of `authorities` has the name of `leaf`'s issuer: when none issued it, a CA of
 * that name is another deployment's (or the certificate was altered).
 */
export function issuerNamesake(
  leaf: X509Certificate,
  authorities: readonly TrustedAuthority[],
): boolean {
  return authorities.some((a, i) => {
    const issuer = cachedChain(a, i).certs[0];
    return issuer !== undefined && bytesEqual(leaf.issuerDer, issuer.subjectDer);
  });
}

/**
 * No CA signed `leaf`: its issuer is unknown, or a CA of that name is, but its key did not sign
 * it. The common cause of the second is no forgery: a CA rotated (`signet rotate ca` keeps its
 * name, with a new key) after the trusted root was copied, so the message says what to do.
 */
function notIssued(leaf: X509Certificate, authorities: readonly TrustedAuthority[]): SignetError {
  return fail(
    issuerNamesake(leaf, authorities)
      ? `the signing certificate's signature does not verify with the key of its issuer "${leaf.issuer}" in the trusted root (the certificate was altered, or another CA of that name issued it: if the CA was rotated after this trusted root was taken, get the trusted root again)`
      : `the signing certificate was not issued by a CA of the trusted root (issuer "${leaf.issuer}")`,
    'CERTIFICATE_UNTRUSTED',
  );
}

/** Whether a CA of the trusted root issued a signing certificate, and which, or why not. */
export type CaCheck = { trusted: true; ca: string } | { trusted: false; reason: string };

/**
 * Whether `leaf` is a signing certificate one of `authorities` issued: the chain, key usages
 * and codeSigning EKU checked as a verifier does, at the certificate's own notBefore (what a
 * monitor or an explorer asks of a log entry, which outlives its certificate; rekor-monitor's
 * ValidateCertificateChain does the same).
 */
export function checkIssuedByTrustedCa(
  leaf: X509Certificate,
  authorities: readonly TrustedAuthority[],
): CaCheck {
  try {
    const chain = verifyCertificateChain(leaf, authorities, leaf.notBefore);
    return { trusted: true, ca: chain.path[1]?.subject ?? '' };
  } catch (e) {
    if (e instanceof SignetError) return { trusted: false, reason: e.message };
    throw e;
  }
}
