import { jsonProblem, quoteInput, SignetError } from '../../../core/errors.ts';
import { parseJsonText, repeatedKeyOf } from '../../../core/json.ts';

/**
 * Bounded, strict decoding of a compact JWS (RFC 7515 section 7.1) before its signature is
 * checked, to learn `alg`, `kid` and `iss` (which pick the verification key). The work is
 * bounded whatever the input: a size cap, and the dots are counted before anything is split
 * (Fulcio's GHSA-f83f-xpx7-ffpw: a token made of millions of dots exhausted memory).
 */
const MAX_TOKEN_BYTES = 64 * 1024;

function malformed(message: string): SignetError {
  return new SignetError('unauthorized', 'TOKEN_MALFORMED', message);
}

export interface UnverifiedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

export function decodeUnverified(token: unknown): UnverifiedToken {
  if (typeof token !== 'string' || token.length === 0)
    throw malformed('no identity token was given');
  if (token.length > MAX_TOKEN_BYTES)
    throw malformed(
      `the identity token is ${token.length} bytes, more than the ${MAX_TOKEN_BYTES} allowed`,
    );
  let dots = 0;
  for (let i = 0; i < token.length && dots <= 2; i++) if (token.charCodeAt(i) === 46) dots++;
  if (dots !== 2)
    throw malformed(
      `the identity token is not a JWT: it must be three base64url parts separated by two dots (found ${dots > 2 ? 'more than two' : dots})`,
    );
  const [h, p] = token.split('.') as [string, string, string];
  return { header: part(h, 'header'), payload: part(p, 'payload') };
}

/** The verified payload bytes as a claims object. */
export function parseClaims(bytes: Uint8Array): Record<string, unknown> {
  return json(new TextDecoder('utf-8', { fatal: true }).decode(bytes), 'payload');
}

/**
 * A part of a compact JWS (RFC 7515 §7.1): base64url of UTF-8 JSON. A part that is not even that
 * (`Bearer abc.def.ghi`, a stray character in front) is no JWT, and is said so in those terms,
 * not as the decoding step that failed ("the token's header is not UTF-8").
 */
function part(b64: string, what: string): Record<string, unknown> {
  const notJwt = (why: string) =>
    malformed(`the identity token is not a JWT: its ${what} ${why} (base64url of JSON)`);
  if (!/^[A-Za-z0-9_-]+$/.test(b64)) throw notJwt('has characters outside base64url');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64url'));
  } catch {
    throw notJwt('does not decode');
  }
  return json(text, what);
}

function json(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = parseJsonText(text, what);
  } catch (e) {
    // A claim (or header parameter) given twice is valid JSON that readers take differently
    // (RFC 7519 §4: the token MUST be rejected, or the last taken): say so, naming it.
    const key = repeatedKeyOf(e);
    if (key !== undefined)
      throw malformed(
        `the token's ${what} has the ${what === 'payload' ? 'claim' : 'parameter'} ${quoteInput(key)} twice`,
      );
    const cause = (e as { cause?: unknown }).cause;
    throw malformed(
      `the token's ${what} is not JSON${cause instanceof SyntaxError ? ` (${jsonProblem(cause)})` : ''}`,
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw malformed(`the token's ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}
