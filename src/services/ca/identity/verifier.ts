import type { ErrorCode } from '../../../core/errors.ts';
import { compactVerify, createLocalJWKSet, errors as joseErrors, type JSONWebKeySet } from 'jose';
import { SignetError, quoteInput } from '../../../core/errors.ts';
import { type IssuerConfig, type IssuerEntry, metaIssuerRegExp } from './config.ts';
import { KeySetCache, type KeySetCacheOptions } from './discovery.ts';
import { principalFor } from './principals.ts';
import { checkRequiredClaims } from './required-claims.ts';
import { decodeUnverified, parseClaims } from './token.ts';
import type { IdentityVerifier, OidcIssuerInfo, Principal } from './types.ts';

/**
 * Verifies OIDC identity tokens for the CA (servers.md 1.3 step 1) and maps them to a Principal:
 * the unverified `iss` picks a configured issuer (exact first, then anchored meta-issuer
 * patterns); the signature is checked with that issuer's published keys; then `aud`, `exp`,
 * `nbf`, `iat` and the claims the issuer type needs. Every failure is a SignetError of kind
 * `unauthorized` whose code and message name the check that failed.
 */
export interface IdentityVerifierOptions extends KeySetCacheOptions {
  /** Tolerated clock difference with the issuer, seconds (default 60). */
  clockSkewSeconds?: number;
  /** For tests: the current time. */
  now?: () => Date;
}

/** RFC 7518 asymmetric algorithms + EdDSA (RFC 8037). Never `none`, never HMAC (HS*). */
export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

function fail(code: ErrorCode, message: string, cause?: unknown): SignetError {
  return new SignetError('unauthorized', code, message, { cause });
}

export function createIdentityVerifier(
  config: IssuerConfig,
  opts: IdentityVerifierOptions = {},
): IdentityVerifier & { issuers(): OidcIssuerInfo[] } {
  const skew = opts.clockSkewSeconds ?? 60;
  const now = opts.now ?? (() => new Date());
  const keys = new KeySetCache(opts);
  const exact = new Map<string, IssuerEntry>(config.oidcIssuers.map((e) => [e.issuerUrl, e]));
  const meta = config.metaIssuers.map((e) => ({ entry: e, re: metaIssuerRegExp(e.issuerUrl) }));
  // One resolver per fetched JWKS: it keeps the imported keys, so each token costs one verify.
  const resolvers = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();
  const resolverFor = (jwks: JSONWebKeySet) => {
    let r = resolvers.get(jwks);
    if (!r) resolvers.set(jwks, (r = createLocalJWKSet(jwks)));
    return r;
  };

  function issuerFor(iss: string): IssuerEntry {
    const e = exact.get(iss) ?? meta.find((m) => m.re.test(iss))?.entry;
    if (!e) {
      const names = [...exact.keys(), ...meta.map((m) => m.entry.issuerUrl)];
      throw fail(
        'UNKNOWN_ISSUER',
        `the token's issuer ${quoteInput(iss)} is not trusted by this CA` +
          (names.length ? ` (trusted: ${names.join(', ')})` : ' (no issuers are configured)'),
      );
    }
    return e;
  }

  async function verifySignature(
    token: string,
    iss: string,
    kid: string | undefined,
    caCert: string | undefined,
  ): Promise<Uint8Array> {
    const attempt = async (jwks: JSONWebKeySet) =>
      (await compactVerify(token, resolverFor(jwks), { algorithms: [...ALLOWED_ALGORITHMS] }))
        .payload;
    let jwks = await keys.get(iss, caCert);
    for (let round = 0; ; round++) {
      try {
        return await attempt(jwks);
      } catch (e) {
        if (e instanceof joseErrors.JWKSNoMatchingKey && round === 0) {
          // Perhaps the issuer rotated its keys since we cached them.
          const fresh = await keys.refresh(iss, caCert);
          if (fresh) {
            jwks = fresh;
            continue;
          }
        }
        throw signatureError(e, iss, kid);
      }
    }
  }

  return {
    async verify(token: string): Promise<Principal> {
      const { header, payload } = decodeUnverified(token);
      const alg = header['alg'];
      if (alg === 'none' || (typeof alg === 'string' && alg.toLowerCase() === 'none'))
        throw fail(
          'TOKEN_ALGORITHM',
          'the token is unsigned (alg "none"); unsigned tokens are never accepted',
        );
      if (typeof alg === 'string' && /^HS/i.test(alg))
        throw fail(
          'TOKEN_ALGORITHM',
          `the token uses ${alg}, a shared-secret HMAC algorithm; only the issuer's public-key signatures are accepted (${ALLOWED_ALGORITHMS.join(', ')})`,
        );
      if (typeof alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(alg))
        throw fail(
          'TOKEN_ALGORITHM',
          `the token's algorithm ${quoteInput(alg ?? null)} is not allowed (allowed: ${ALLOWED_ALGORITHMS.join(', ')})`,
        );
      const iss = payload['iss'];
      if (typeof iss !== 'string' || iss === '')
        throw fail('TOKEN_CLAIMS', 'the token has no "iss" (issuer) claim');
      const entry = issuerFor(iss);
      const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined;
      // From here on only the verified payload is read.
      const claims = parseClaims(await verifySignature(token, iss, kid, entry.caCert));
      if (claims['iss'] !== iss) throw fail('TOKEN_MALFORMED', 'the verified payload differs');
      const t = Math.floor(now().getTime() / 1000);
      const exp = claims['exp'];
      if (typeof exp !== 'number' || !Number.isFinite(exp))
        throw fail('TOKEN_CLAIMS', 'the token has no numeric "exp" (expiry) claim');
      // RFC 7519 §4.1.4: the current time MUST be before exp (plus the allowed skew): a token
      // is expired at its exp second, not one second later.
      if (t >= exp + skew)
        throw fail(
          'TOKEN_EXPIRED',
          `the token expired at ${iso(exp)} (${t - exp} s ago; allowed clock skew ${skew} s)`,
        );
      const nbf = claims['nbf'];
      if (nbf !== undefined) {
        if (typeof nbf !== 'number' || !Number.isFinite(nbf))
          throw fail('TOKEN_CLAIMS', 'the token\'s "nbf" claim is not a number');
        if (t + skew < nbf)
          throw fail(
            'TOKEN_NOT_YET_VALID',
            `the token is not valid before ${iso(nbf)} (${nbf - t} s from now; allowed clock skew ${skew} s)`,
          );
      }
      // Fulcio's token requirements (docs/oidc.md) include `iat`.
      const iat = claims['iat'];
      if (typeof iat !== 'number' || !Number.isFinite(iat))
        throw fail('TOKEN_CLAIMS', 'the token has no numeric "iat" (issued at) claim');
      if (t + skew < iat)
        throw fail(
          'TOKEN_ISSUED_IN_FUTURE',
          `the token claims to be issued at ${iso(iat)}, ${iat - t} s in the future (allowed clock skew ${skew} s)`,
        );
      const aud = claims['aud'];
      const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
      if (!auds || auds.length === 0)
        throw fail(
          'TOKEN_AUDIENCE',
          `the token has no "aud" claim; this CA expects "${entry.clientId}"`,
        );
      if (!auds.includes(entry.clientId))
        throw fail(
          'TOKEN_AUDIENCE',
          `the token's audience is ${
            Array.isArray(aud)
              ? `[${aud
                  .slice(0, 5)
                  .map((a) => quoteInput(a))
                  .join(', ')}${aud.length > 5 ? ', ...' : ''}]`
              : quoteInput(aud)
          }, but this CA expects "${entry.clientId}" for issuer ${iss}`,
        );
      const sub = claims['sub'];
      if (typeof sub !== 'string' || sub === '')
        throw fail('TOKEN_CLAIMS', 'the token has no "sub" (subject) claim');
      if (entry.requiredClaims) checkRequiredClaims(entry.requiredClaims, claims, iss);
      return principalFor(entry, config, iss, claims, sub);
    },
    issuers(): OidcIssuerInfo[] {
      const info = (e: IssuerEntry, wildcard: boolean): OidcIssuerInfo => ({
        ...(wildcard ? { wildcardIssuerUrl: e.issuerUrl } : { issuerUrl: e.issuerUrl }),
        audience: e.clientId,
        challengeClaim: e.challengeClaim ?? (e.type === 'email' ? 'email' : 'sub'),
        spiffeTrustDomain: e.spiffeTrustDomain ?? '',
        issuerType: e.type,
        subjectDomain: e.subjectDomain ?? '',
        skipEmailVerification: e.skipEmailVerification,
      });
      return [
        ...config.oidcIssuers.map((e) => info(e, false)),
        ...config.metaIssuers.map((e) => info(e, true)),
      ];
    },
  };
}

function iso(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString();
}

function signatureError(e: unknown, iss: string, kid: string | undefined): SignetError {
  if (e instanceof SignetError) return e;
  const k = kid === undefined ? 'no kid' : `kid ${quoteInput(kid)}`;
  if (e instanceof joseErrors.JWKSNoMatchingKey)
    return fail(
      'TOKEN_KEY_UNKNOWN',
      `the token was signed with a key (${k}) that issuer ${iss} does not publish in its JWKS`,
      e,
    );
  if (e instanceof joseErrors.JWSSignatureVerificationFailed)
    return fail(
      'TOKEN_SIGNATURE',
      `the token's signature does not verify with issuer ${iss}'s key (${k}): forged or altered`,
      e,
    );
  if (e instanceof joseErrors.JOSEAlgNotAllowed)
    return fail('TOKEN_ALGORITHM', `the token's algorithm is not allowed: ${e.message}`, e);
  if (e instanceof joseErrors.JWKSMultipleMatchingKeys)
    return fail(
      'TOKEN_KEY_UNKNOWN',
      `the token names no kid and issuer ${iss} publishes several keys`,
      e,
    );
  if (e instanceof joseErrors.JOSEError)
    return fail('TOKEN_MALFORMED', `the token cannot be verified: ${e.message}`, e);
  return fail('TOKEN_MALFORMED', `the token cannot be verified: ${(e as Error).message}`, e);
}
