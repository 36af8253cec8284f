import { invalid, quoteInput, SignetError } from '../../../core/errors.ts';

/**
 * `required-claims` of an issuer in the CA's issuer configuration (Signet's, beside Fulcio's
 * keys): a certificate is issued only for tokens whose claims hold every requirement. Trusting
 * GitHub's issuer otherwise means trusting every GitHub Actions workflow in the world; a
 * private CA names its own organisations (what fulcio#1989 asks Fulcio for):
 *
 *   required-claims:
 *     repository_owner: my-org                       # exactly this
 *     repository: [my-org/app, my-org/lib]           # exactly one of these
 *     ref: { regexp: 'refs/(heads/main|tags/v.+)' }  # a regular expression, the whole value
 *
 * A claim names a top-level claim of the verified token. A claim that is a list (an identity
 * provider's `groups`) holds when one of its strings does; a number or boolean is read as its
 * JSON text (`123`, `true`); a missing claim, or one of another shape, does not hold.
 */
export interface ClaimRequirement {
  claim: string;
  /** The values the claim may equal, exactly. */
  oneOf?: readonly string[];
  /** Matches the whole claim (anchored when parsed). */
  regexp?: RegExp;
}

/** The `required-claims` object of the issuer at `field`, typed; errors name the claim. */
export function parseRequiredClaims(v: unknown, field: string): ClaimRequirement[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'must map claim names to a value, a list of values or { regexp: ... }');
  const out: ClaimRequirement[] = [];
  for (const [claim, want] of Object.entries(v)) {
    const at = `${field}.${claim}`;
    if (claim === '') throw invalid(at, 'names no claim');
    if (typeof want === 'string') out.push({ claim, oneOf: [want] });
    else if (Array.isArray(want)) {
      if (want.length === 0 || !want.every((x) => typeof x === 'string'))
        throw invalid(at, 'must list at least one value, each a string');
      out.push({ claim, oneOf: want as string[] });
    } else if (typeof want === 'number' || typeof want === 'boolean')
      // YAML reads 42 and true as such; a claim is compared as text, so say which text.
      throw invalid(at, `must be a string: quote it ('${String(want)}')`);
    else if (typeof want === 'object' && want !== null && !Array.isArray(want)) {
      const keys = Object.keys(want);
      if (keys.join() !== 'regexp')
        throw invalid(
          at,
          `takes one key, regexp (got ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'none'})`,
        );
      const source = (want as { regexp: unknown }).regexp;
      if (typeof source !== 'string' || source === '')
        throw invalid(`${at}.regexp`, 'must be a non-empty regular expression');
      try {
        out.push({ claim, regexp: new RegExp(`^(?:${source})$`, 'u') });
      } catch (e) {
        throw invalid(`${at}.regexp`, `is not a regular expression: ${(e as Error).message}`);
      }
    } else
      throw invalid(
        at,
        `must be a value, a list of values or { regexp: ... } (got ${quoteInput(want)})`,
      );
  }
  if (out.length === 0) throw invalid(field, 'names no claims (leave it out to require none)');
  return out;
}

/** The claim's values a requirement is checked against, or undefined for another shape. */
function valuesOf(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (typeof v === 'number' || typeof v === 'boolean') return [JSON.stringify(v)];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  return undefined;
}

/**
 * Throws (kind `forbidden`: the token is genuine, this CA does not issue for it) unless every
 * requirement holds for the verified `claims` of a token from `issuer`.
 */
export function checkRequiredClaims(
  required: readonly ClaimRequirement[],
  claims: Record<string, unknown>,
  issuer: string,
): void {
  for (const r of required) {
    const got = Object.hasOwn(claims, r.claim) ? claims[r.claim] : undefined;
    const values = valuesOf(got);
    const holds = values?.some((x) => (r.regexp ? r.regexp.test(x) : r.oneOf!.includes(x)));
    if (holds) continue;
    throw new SignetError(
      'forbidden',
      'TOKEN_CLAIM_NOT_ALLOWED',
      got === undefined
        ? `the token has no "${r.claim}" claim, which this CA requires of tokens from ${issuer}`
        : Array.isArray(got)
          ? `the token's "${r.claim}" claim lists no value this CA issues certificates for under ${issuer}`
          : `the token's "${r.claim}" claim (${quoteInput(got)}) is not one this CA issues certificates for under ${issuer}`,
    );
  }
}
