/**
 * A bundle's trust anchors against a trusted root: the CA that issued its certificate, the logs
 * of its entries, the timestamp authorities of its timestamps. A bundle none of whose anchors the
 * trusted root holds was made with another deployment (public-good Sigstore checked against a
 * private stack's root, or one stack's bundle against another's), and the first check that fails
 * on it (often a timestamp authority) does not say so: this names the deployment's anchors.
 * Each anchor found foreign is one the verifier cannot accept with this trusted root, so the
 * diagnosis only ever explains a failure; it never decides one.
 */
import { quoteInput, SignetError } from '../../core/errors.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { parseCertificateOnce, type X509Certificate } from '../../core/x509/certificate.ts';
import { issuingAuthority } from '../../core/x509/chain.ts';
import { parseNote } from '../../core/note/note.ts';
import { parseCheckpoint } from '../../core/note/checkpoint.ts';
import { parseTimestamp, type ParsedTimestamp } from '../../core/rfc3161/token.ts';
import { timestampAuthorityOf, timestampSignerName } from '../../core/rfc3161/verify.ts';
import type { Bundle, TransparencyLogEntry } from '../../bundle/bundle.ts';
import type { CertificateAuthority, TrustedRoot } from '../../bundle/trusted-root.ts';
import { findLog, logName } from './tlog.ts';
import { defaultTrustClause } from './default-trust.ts';

type AnchorKind = 'ca' | 'log' | 'tsa';

/** One anchor of the bundle: whether the trusted root holds it, and its name for a message. */
interface Anchor {
  kind: AnchorKind;
  known: boolean;
  /** e.g. `certificate was issued by "CN=..."`, `transparency log "..." (log ID ...)`. */
  name: string;
}

/**
 * The anchors of a bundle that can be read; one that cannot (a timestamp that does not parse)
 * says nothing about where the bundle comes from and is left out. `leaf` is the signing
 * certificate, if the bundle has one.
 */
function anchorsOf(
  bundle: Bundle,
  leaf: X509Certificate | undefined,
  trustedRoot: TrustedRoot,
): Anchor[] {
  const anchors: Anchor[] = [];
  if (leaf)
    anchors.push({
      kind: 'ca',
      known: issuingAuthority(leaf, trustedRoot.certificateAuthorities) !== undefined,
      name: `certificate was issued by ${quoteInput(leaf.issuer)}`,
    });
  for (const entry of bundle.verificationMaterial.tlogEntries)
    anchors.push({
      kind: 'log',
      known: findLog(entry, trustedRoot.tlogs) !== undefined,
      name: `transparency log ${logOrigin(entry)}(log ID ${toHex(entry.logId)})`,
    });
  for (const token of bundle.verificationMaterial.rfc3161Timestamps) {
    const ts = readable(token);
    if (ts)
      anchors.push({
        kind: 'tsa',
        known: timestampAuthorityOf(ts, trustedRoot.timestampAuthorities) !== undefined,
        name: `timestamp authority ${timestampSignerName(ts)}`,
      });
  }
  return anchors;
}

function readable(token: Uint8Array): ParsedTimestamp | undefined {
  try {
    return parseTimestamp(token);
  } catch {
    return undefined;
  }
}

/** The origin its checkpoint names, quoted with a trailing space (untrusted: for a message only). */
function logOrigin(entry: TransparencyLogEntry): string {
  const text = entry.inclusionProof?.checkpoint;
  if (text === undefined) return '';
  try {
    return `${quoteInput(parseCheckpoint(parseNote(text, 'checkpoint').text, 'checkpoint').origin)} `;
  } catch {
    return '';
  }
}

/** The names of the trusted root's authorities: their first certificate's subject. */
function authorityNames(authorities: readonly CertificateAuthority[]): string[] {
  return authorities.map((a, i) => {
    try {
      return quoteInput(parseCertificateOnce(a.certChain[0]!, `authority ${i}`).subject);
    } catch {
      return quoteInput(a.subject.commonName || a.uri);
    }
  });
}

/** What the trusted root holds of one kind, each named once. */
function held(kind: AnchorKind, trustedRoot: TrustedRoot): string[] {
  const names =
    kind === 'ca'
      ? authorityNames(trustedRoot.certificateAuthorities)
      : kind === 'tsa'
        ? authorityNames(trustedRoot.timestampAuthorities)
        : trustedRoot.tlogs.map(logName);
  return [...new Set(names)];
}

const listed = (names: string[]) => `(${names.length === 0 ? 'none' : names.join(', ')})`;

/** The first foreign anchor, with what the trusted root holds in its place. */
function firstClause(
  a: Anchor,
  leaf: X509Certificate | undefined,
  trustedRoot: TrustedRoot,
): string {
  const names = held(a.kind, trustedRoot);
  if (a.kind === 'ca') {
    // Two deployments may name their CAs alike (public-good and staging; two Signet stacks).
    const namesake = leaf !== undefined && names.includes(quoteInput(leaf.issuer));
    return `its ${a.name}, which no certificate authority in the trusted root ${listed(names)} matches${namesake ? ': the one of that name did not sign it' : ''}`;
  }
  const what = a.kind === 'log' ? 'transparency logs' : 'timestamp authorities';
  return `its ${a.name} is not one of the trusted root's ${what} ${listed(names)}`;
}

/**
 * Explains a verification failure of a bundle none of whose trust anchors the trusted root
 * holds: one line naming its CA, logs and TSAs (`failure` becomes its cause), as `subject`
 * ("the bundle", or cosign's detached "the signature"), and, when the trusted root is the
 * default one (no file or server was named), which that was and what to give instead
 * (`details.defaultTrust`, so that a caller with its own advice does not repeat it).
 * Undefined when the trusted root holds one of them (the failed check's own message names the
 * anchor or what else is wrong), or the failure is not a verdict on the bundle (its exit code
 * stays).
 */
export function otherDeployment(
  failure: unknown,
  subject: string,
  bundle: Bundle,
  leaf: X509Certificate | undefined,
  trustedRoot: TrustedRoot,
): SignetError | undefined {
  if (!(failure instanceof SignetError) || failure.kind !== 'verification') return undefined;
  let anchors: Anchor[];
  try {
    anchors = anchorsOf(bundle, leaf, trustedRoot);
  } catch {
    return undefined; // the failure stands on its own
  }
  if (anchors.length === 0 || anchors.some((a) => a.known)) return undefined;
  // One clause per distinct anchor: two entries of one log, two tokens of one TSA, say it once.
  const [first, ...rest] = [...new Map(anchors.map((a) => [a.name, a])).values()];
  const others = rest.map((a) => a.name);
  const tail =
    others.length === 0
      ? ''
      : `; its ${others.slice(0, -1).join(', ')}${others.length > 1 ? ' and ' : ''}${others.at(-1)} ${others.length === 1 ? 'is' : 'are'} not in it either`;
  const byDefault = defaultTrustClause(trustedRoot);
  return new SignetError(
    'verification',
    'OTHER_DEPLOYMENT',
    `${subject} is from a deployment the trusted root does not cover: ${firstClause(first!, leaf, trustedRoot)}${tail}${byDefault ? `; ${byDefault}` : ''}`,
    { cause: failure, ...(byDefault ? { details: { defaultTrust: true } } : {}) },
  );
}
