import { invalid } from '../../core/errors.ts';
import { jwtPayloadClaims } from '../identity/check.ts';

/**
 * The claim the CA's proof of possession is over (Fulcio: the principal's name): the email
 * when the issuer vouches for it (`email_verified: true`), otherwise the subject. The token is
 * read, not verified: the CA verifies it; we only need to know what it will check.
 */
export function challengeOf(token: string): string {
  const claims = unverifiedClaims(token);
  if (typeof claims.email === 'string' && claims.email !== '' && claims.email_verified === true)
    return claims.email;
  if (typeof claims.sub === 'string' && claims.sub !== '') return claims.sub;
  throw invalid('identity token', 'has neither a verified email nor a subject (sub) claim');
}

export function unverifiedClaims(token: string): Record<string, unknown> {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p)))
    throw invalid('identity token', 'is not a JWT (three base64url parts separated by dots)');
  const claims = jwtPayloadClaims(parts[1]!);
  if (claims === undefined) throw invalid('identity token', 'its payload is not a JSON object');
  return claims;
}
