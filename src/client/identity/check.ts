import { tokenError } from './errors.ts';
import { parseJsonText } from '../../core/json.ts';

/**
 * A light look at a token the client is about to use, so the user hears about an expired or
 * garbled token here, in plain words, rather than as a refusal from the CA. (The CA verifies it
 * for real.)
 */
export interface TokenInfo {
  issuer: string | undefined;
  subject: string | undefined;
  email: string | undefined;
  audience: string[];
  expiresAt: Date | undefined;
}

/**
 * The JSON object in a JWT's payload part (RFC 7519 §7.2 step 7 without any verification: the
 * CA verifies); undefined when the part is not base64url JSON of an object.
 */
export function jwtPayloadClaims(payloadPart: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = parseJsonText(Buffer.from(payloadPart, 'base64url'), 'token payload');
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What keeps `token` from being a JWT's compact form (RFC 7519 §7.2: three base64url parts,
 * header.payload.signature, separated by dots), naming the part; undefined when it is one.
 */
export function jwtShapeProblem(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3)
    return `it has ${parts.length} part${parts.length === 1 ? '' : 's'} separated by dots, not three (header.payload.signature)`;
  for (const [i, name] of (['header', 'payload', 'signature'] as const).entries()) {
    const ordinal = ['first', 'second', 'third'][i]!;
    if (parts[i] === '') return `its ${name} (the ${ordinal} of its three parts) is empty`;
    if (!/^[A-Za-z0-9_-]+$/.test(parts[i]!))
      return `its ${name} (the ${ordinal} of its three parts) is not base64url`;
  }
  return undefined;
}

export function inspectToken(token: string, source: string): TokenInfo {
  const problem = jwtShapeProblem(token);
  if (problem !== undefined)
    throw tokenError(
      'TOKEN_MALFORMED',
      `the identity token from ${source} is not a JWT: ${problem}`,
    );
  const parts = token.split('.');
  const claims = jwtPayloadClaims(parts[1]!);
  if (claims === undefined)
    throw tokenError('TOKEN_MALFORMED', `the identity token from ${source} has no JSON claims`);
  const s = (k: string) => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
  const aud = claims['aud'];
  return {
    issuer: s('iss'),
    subject: s('sub'),
    email: s('email'),
    audience:
      typeof aud === 'string'
        ? [aud]
        : Array.isArray(aud)
          ? aud.filter((a) => typeof a === 'string')
          : [],
    expiresAt: typeof claims['exp'] === 'number' ? new Date(claims['exp'] * 1000) : undefined,
  };
}

/** Refuses an expired token, or one for another audience, with a message saying so. */
export function checkToken(
  token: string,
  source: string,
  opts: { audience?: string; now?: Date } = {},
): TokenInfo {
  const info = inspectToken(token, source);
  const now = opts.now ?? new Date();
  if (info.expiresAt && info.expiresAt.getTime() <= now.getTime()) {
    const mins = Math.round((now.getTime() - info.expiresAt.getTime()) / 60000);
    throw tokenError(
      'TOKEN_EXPIRED',
      `the identity token from ${source} expired at ${info.expiresAt.toISOString()}` +
        ` (${mins < 1 ? 'less than a minute' : `${mins} minute${mins === 1 ? '' : 's'}`} ago); get a fresh one`,
    );
  }
  if (opts.audience !== undefined && !info.audience.includes(opts.audience))
    throw tokenError(
      'TOKEN_AUDIENCE',
      `the identity token from ${source} is for audience ${JSON.stringify(info.audience)}, but the CA expects "${opts.audience}"; request it with that audience`,
    );
  return info;
}
