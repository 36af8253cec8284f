import { invalid } from '../../core/errors.ts';
import { jwtPayloadClaims, jwtShapeProblem } from '../identity/check.ts';

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
  const problem = jwtShapeProblem(token.trim());
  if (problem !== undefined) throw invalid('identity token', `is not a JWT: ${problem}`);
  const claims = jwtPayloadClaims(token.trim().split('.')[1]!);
  if (claims === undefined) throw invalid('identity token', 'its payload is not a JSON object');
  return claims;
}
