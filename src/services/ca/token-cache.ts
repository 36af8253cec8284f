import { createHash } from 'node:crypto';
import type { IdentityVerifier, Principal } from './identity/types.ts';

/**
 * Remembers tokens that verified, until they expire, so a client that asks for many
 * certificates with one token pays for the signature check and JWKS lookup once (bench: token
 * verification dominates issuance otherwise). Keyed by SHA-256 of the exact token bytes, so only
 * the identical token hits; failures are never cached. Bounded; the oldest entry goes first.
 */
export class CachedVerifier implements IdentityVerifier {
  private readonly inner: IdentityVerifier;
  private readonly max: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { principal: Principal; expMs: number }>();

  constructor(inner: IdentityVerifier, opts: { maxEntries?: number; now?: () => number } = {}) {
    this.inner = inner;
    this.max = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  async verify(token: string): Promise<Principal> {
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit && this.now() < hit.expMs) return hit.principal;
    if (hit) this.cache.delete(key);
    const principal = await this.inner.verify(token);
    const exp = expiryOf(token);
    if (exp !== undefined && this.now() < exp) {
      if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { principal, expMs: exp });
    }
    return principal;
  }
}

/** `exp` of a token that has just verified (so its payload is the verified one), in ms. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp)
      ? payload.exp * 1000
      : undefined;
  } catch {
    return undefined;
  }
}
