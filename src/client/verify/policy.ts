/**
 * Identity policy: who must have signed. Values are compared exactly unless a regular
 * expression is asked for, and a regular expression must match the WHOLE value (it is
 * anchored for you): `alice@example\.com` does not accept `malice@example.com.evil`.
 */
import { invalid, verificationFailed } from '../../core/errors.ts';
import {
  FULCIO_OID_PREFIX,
  fulcioExtensions,
  fulcioIssuer,
} from '../../core/x509/fulcio-extensions.ts';
import { OID, type X509Certificate } from '../../core/x509/certificate.ts';

export type Matcher = { exact: string } | { regexp: RegExp };

export interface GithubWorkflowPolicy {
  trigger?: string;
  sha?: string;
  name?: string;
  repository?: string;
  ref?: string;
}

export interface IdentityPolicy {
  /** The certificate's subject alternative name (email, URI or username). */
  subjectAlternativeName: Matcher;
  /** The OIDC issuer that vouched for the identity (Fulcio extension .1.8, else .1.1). */
  issuer: Matcher;
  /** cosign's --certificate-github-workflow-* flags, exact values. */
  githubWorkflow?: GithubWorkflowPolicy;
  /** Any Fulcio extension by OID (e.g. `1.3.6.1.4.1.57264.1.12`), exact decoded value. */
  extensions?: Record<string, string>;
}

/** The RegExps anchoredRegExp made: taken as they are when given again (the library's inputs). */
const ANCHORED = new WeakSet<RegExp>();

/** Whether `re` came from anchoredRegExp, so anchoring it again would only wrap it twice. */
export function isAnchoredRegExp(re: RegExp): boolean {
  return ANCHORED.has(re);
}

/**
 * Compile a user's regular expression so that it must match the whole value. The expression
 * must be well-formed on its own first: `a)|(.*` would otherwise close the anchoring group and
 * read as `^(?:a)|(.*)$`, which matches anything.
 *
 * Go's (RE2's) leading flag group, common in cosign and rekor-monitor configs, becomes the
 * JavaScript flag: `(?i)` ignores case, `(?s)` lets `.` match a newline. `(?m)` is refused, since
 * its `^` and `$` would match at any line and no longer anchor the whole value, and so is `(?U)`,
 * which JavaScript has no flag for. Its text anchors `\A` and `\z` are taken (re2TextAnchors).
 */
export function anchoredRegExp(source: string, flag: string): RegExp {
  let body = source;
  let flags = 'u';
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (lead) {
    for (const f of lead[1]!) {
      if (f !== 'i' && f !== 's')
        throw invalid(
          flag,
          `"${lead[0]}": of Go's inline flags only i (ignore case) and s (. matches a newline) can be given, at the start`,
        );
      if (!flags.includes(f)) flags += f;
    }
    body = source.slice(lead[0].length);
  }
  body = re2TextAnchors(body, flag);
  try {
    new RegExp(body, flags);
    const re = new RegExp(`^(?:${body})$`, flags);
    ANCHORED.add(re);
    return re;
  } catch (e) {
    throw invalid(flag, `is not a valid regular expression: ${(e as Error).message}`, e);
  }
}

/**
 * RE2's text anchors, as cosign users anchor by hand (`\Ahttps://github\.com/org/.*\z`):
 * `\A` (start of text) and `\z` (end of text) are JavaScript's `^` and `$` without the m flag,
 * which is never set (RE2 syntax: "Empty strings"). `\Z` is not RE2's (Perl's and Python's
 * "end, or before a final newline"): refused, not guessed. Escapes inside a class are left to
 * the JavaScript parser, which refuses these there as RE2 does.
 */
function re2TextAnchors(source: string, flag: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      const next = source[++i]!;
      if (!inClass && next === 'A') out += '^';
      else if (!inClass && next === 'z') out += '$';
      else if (!inClass && next === 'Z')
        throw invalid(
          flag,
          'is not a valid regular expression: \\Z is not RE2 (Go) syntax; \\z is the end of the text',
        );
      else out += c + next;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    out += c;
  }
  return out;
}

export function exact(value: string): Matcher {
  return { exact: value };
}

function matches(m: Matcher, value: string): boolean {
  return 'exact' in m ? m.exact === value : m.regexp.test(value);
}

function describe(m: Matcher): string {
  return 'exact' in m ? `"${m.exact}"` : `a value matching ${m.regexp.source}`;
}

/**
 * An anchoredRegExp without its anchors: what cosign's and rekor-monitor's Go regexps match (any
 * part of the value), to tell a user whose expression fails only because Signet matches whole
 * values. Undefined for an expression that is not one anchoredRegExp made.
 */
export function looseRegExp(anchored: RegExp): RegExp | undefined {
  const m = /^\^\(\?:([\s\S]*)\)\$$/.exec(anchored.source);
  if (!m) return undefined;
  try {
    return new RegExp(m[1]!, anchored.flags);
  } catch {
    return undefined;
  }
}

/**
 * When a regexp fails only because it is anchored (cosign's Go regexps match any part of the
 * value), say so: the fix is to write the rest of the value, not to loosen the check.
 */
function partialHint(m: Matcher, values: string[]): string {
  if ('exact' in m) return '';
  const loose = looseRegExp(m.regexp);
  return loose && values.some((v) => loose.test(v))
    ? ` (the expression matches only part of it: signet matches the WHOLE value, where cosign accepts a partial match; write the rest, e.g. .* where the value may continue)`
    : '';
}

/** The identities a Fulcio certificate's SAN carries (email, URI, or Fulcio username). */
export function certificateIdentities(cert: X509Certificate): string[] {
  const out: string[] = [];
  for (const n of cert.subjectAltNames)
    if (n.type === 'email' || n.type === 'uri') out.push(n.value);
    else if (n.type === 'otherName' && n.typeId === OID.fulcioUsername) out.push(n.value);
  return out;
}

/** The fields of a GithubWorkflowPolicy, for checking a caller's object. */
export const GITHUB_WORKFLOW_FIELDS: readonly (keyof GithubWorkflowPolicy)[] = [
  'trigger',
  'sha',
  'name',
  'repository',
  'ref',
];

const GITHUB_ARCS: Record<
  keyof GithubWorkflowPolicy,
  { legacy: number; v2?: number; label: string }
> = {
  trigger: { legacy: 2, v2: 20, label: 'GitHub workflow trigger' },
  sha: { legacy: 3, v2: 13, label: 'GitHub workflow commit SHA' },
  name: { legacy: 4, label: 'GitHub workflow name' },
  repository: { legacy: 5, label: 'GitHub workflow repository' },
  ref: { legacy: 6, v2: 14, label: 'GitHub workflow ref' },
};

/** Checks the signing certificate against the policy; throws naming the first mismatch. */
export function checkIdentity(cert: X509Certificate, policy: IdentityPolicy): void {
  const ids = certificateIdentities(cert);
  if (!ids.some((id) => matches(policy.subjectAlternativeName, id)))
    throw verificationFailed(
      'IDENTITY_MISMATCH',
      `the certificate was issued to ${ids.length ? ids.map((i) => `"${i}"`).join(', ') : 'no identity'}, not to ${describe(policy.subjectAlternativeName)}${partialHint(policy.subjectAlternativeName, ids)}`,
    );
  const issuer = fulcioIssuer(cert);
  if (issuer === undefined)
    throw verificationFailed(
      'ISSUER_MISMATCH',
      'the certificate names no OIDC issuer (no Fulcio issuer extension)',
    );
  if (!matches(policy.issuer, issuer))
    throw verificationFailed(
      'ISSUER_MISMATCH',
      `the identity was vouched for by the OIDC issuer "${issuer}", not by ${describe(policy.issuer)}${partialHint(policy.issuer, [issuer])}`,
    );
  const ext = fulcioExtensions(cert);
  for (const [k, want] of Object.entries(policy.githubWorkflow ?? {})) {
    if (want === undefined) continue;
    const arcs = GITHUB_ARCS[k as keyof GithubWorkflowPolicy];
    const got = ext[arcs.legacy] ?? (arcs.v2 !== undefined ? ext[arcs.v2] : undefined);
    if (got !== want)
      throw verificationFailed(
        'EXTENSION_MISMATCH',
        `the certificate's ${arcs.label} is ${got === undefined ? 'not set' : `"${got}"`}, expected "${want}"`,
      );
  }
  for (const [oid, want] of Object.entries(policy.extensions ?? {})) {
    // Exactly one arc below the Fulcio prefix, written canonically: "…1.12.0" or "…1.012" is
    // another OID, not arc 12 (Number() would read both as 12).
    const arc = oid.startsWith(FULCIO_OID_PREFIX) ? oid.slice(FULCIO_OID_PREFIX.length) : '';
    const got = /^(?:0|[1-9]\d*)$/.test(arc) ? ext[Number(arc)] : undefined;
    if (got !== want)
      throw verificationFailed(
        'EXTENSION_MISMATCH',
        `the certificate's extension ${oid} is ${got === undefined ? 'not set' : `"${got}"`}, expected "${want}"`,
      );
  }
}

/**
 * Checks the certificate against a list of identities, any one of which suffices (a policy
 * authority's `identities`); throws with every mismatch when none holds.
 */
export function checkAnyIdentity(cert: X509Certificate, identities: IdentityPolicy[]): void {
  if (identities.length === 0)
    throw verificationFailed('IDENTITY_MISMATCH', 'no identity is acceptable (the list is empty)');
  const reasons: string[] = [];
  for (const identity of identities) {
    try {
      checkIdentity(cert, identity);
      return;
    } catch (e) {
      reasons.push((e as Error).message);
    }
  }
  if (identities.length === 1) checkIdentity(cert, identities[0]!);
  const ids = certificateIdentities(cert);
  throw verificationFailed(
    'IDENTITY_MISMATCH',
    `the certificate was issued to ${ids.length ? ids.map((i) => `"${i}"`).join(', ') : 'no identity'} (issuer "${fulcioIssuer(cert) ?? 'none'}"), which is none of the ${identities.length} acceptable identities`,
  );
}
