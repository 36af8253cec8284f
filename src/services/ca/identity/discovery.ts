import type { JSONWebKeySet } from 'jose';
import { SignetError, quoteInput } from '../../../core/errors.ts';
import { parseJsonText } from '../../../core/json.ts';
import { type HttpResponse, send } from '../../http/outbound.ts';

/**
 * OIDC discovery (OpenID Connect Discovery 1.0 section 4) and JWKS retrieval for the issuers the
 * CA trusts, with a cache per issuer. Redirects to another origin are refused (Fulcio's
 * `noRedirectClient`): a trusted issuer must not be able to send the CA to fetch from
 * arbitrary hosts. Responses are size- and time-bounded.
 */
export interface KeySetCacheOptions {
  /** Minimum time between two fetches of one issuer's JWKS triggered by an unknown `kid`. */
  refreshCooldownMs?: number;
  /** A JWKS older than this is fetched again before use. */
  maxAgeMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Most issuers cached at once (meta-issuers can name many). */
  maxIssuers?: number;
}

const MAX_BODY = 1024 * 1024;

interface Entry {
  jwks: JSONWebKeySet;
  jwksUri: string;
  fetchedAt: number;
}

function unreachable(issuer: string, why: string): SignetError {
  return new SignetError(
    'unauthorized',
    'ISSUER_UNREACHABLE',
    `cannot get the signing keys of issuer ${issuer}: ${why}`,
  );
}

export class KeySetCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<JSONWebKeySet>>();
  private readonly cooldown: number;
  private readonly maxAge: number;
  private readonly timeout: number;
  private readonly maxIssuers: number;

  constructor(opts: KeySetCacheOptions = {}) {
    this.cooldown = opts.refreshCooldownMs ?? 1000;
    this.maxAge = opts.maxAgeMs ?? 10 * 60 * 1000;
    this.timeout = opts.timeoutMs ?? 10_000;
    this.maxIssuers = opts.maxIssuers ?? 1000;
  }

  /**
   * The issuer's JWKS, from the cache when fresh. `caCert`: PEM CA certificates trusted for
   * TLS to this issuer beside the system's (its configured `ca-cert`).
   */
  async get(issuer: string, caCert?: string): Promise<JSONWebKeySet> {
    const e = this.entries.get(issuer);
    if (e && Date.now() - e.fetchedAt < this.maxAge) return e.jwks;
    return this.fetch(issuer, caCert);
  }

  /**
   * Fetches the JWKS again because a token named a `kid` it does not have (key rotation).
   * Returns undefined when a fetch happened within the cooldown (the keys cannot have changed
   * meaningfully, and unknown kids must not make us hammer the issuer).
   */
  async refresh(issuer: string, caCert?: string): Promise<JSONWebKeySet | undefined> {
    const pending = this.inflight.get(issuer);
    if (pending) return pending;
    const e = this.entries.get(issuer);
    if (e && Date.now() - e.fetchedAt < this.cooldown) return undefined;
    return this.fetch(issuer, caCert);
  }

  private fetch(issuer: string, caCert: string | undefined): Promise<JSONWebKeySet> {
    const pending = this.inflight.get(issuer);
    if (pending) return pending;
    const p = (async () => {
      const jwksUri = this.entries.get(issuer)?.jwksUri ?? (await this.discover(issuer, caCert));
      const jwks = parseJwks(await this.getJson(jwksUri, issuer, 'JWKS', caCert), issuer);
      this.remember(issuer, { jwks, jwksUri, fetchedAt: Date.now() });
      return jwks;
    })().finally(() => this.inflight.delete(issuer));
    this.inflight.set(issuer, p);
    return p;
  }

  private remember(issuer: string, e: Entry): void {
    this.entries.delete(issuer);
    if (this.entries.size >= this.maxIssuers) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(issuer, e);
  }

  private async discover(issuer: string, caCert: string | undefined): Promise<string> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = await this.getJson(url, issuer, 'discovery document', caCert);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw unreachable(issuer, 'the discovery document is not a JSON object');
    const d = doc as Record<string, unknown>;
    // Discovery 1.0 section 4.3: the issuer in the document must equal the one used.
    if (d['issuer'] !== issuer)
      throw unreachable(
        issuer,
        `the discovery document names issuer ${quoteInput(d['issuer'])}, not ${issuer}`,
      );
    const jwksUri = d['jwks_uri'];
    if (typeof jwksUri !== 'string')
      throw unreachable(issuer, 'the discovery document has no jwks_uri');
    let u: URL;
    try {
      u = new URL(jwksUri);
    } catch {
      throw unreachable(issuer, `jwks_uri "${jwksUri}" is not a URL`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      throw unreachable(issuer, `jwks_uri "${jwksUri}" is not http(s)`);
    return u.href;
  }

  /** A JSON document of the issuer's; redirects followed within its origin only (Fulcio's noRedirectClient refuses the others). */
  private async getJson(
    url: string,
    issuer: string,
    what: string,
    caCert: string | undefined,
  ): Promise<unknown> {
    let res: HttpResponse;
    try {
      res = await send(
        {
          service: `the ${what}`,
          method: 'GET',
          url,
          accept: 'application/json',
          redirect: 'same-origin',
          maxBytes: MAX_BODY,
        },
        {
          timeoutMs: this.timeout,
          retries: 0,
          ...(caCert ? { tls: { ca: withSystemCas(caCert) } } : {}),
        },
      );
    } catch (e) {
      // Unreachable, an error status, too large an answer, a redirect elsewhere: the HTTP
      // layer's message says which.
      throw unreachable(issuer, (e as Error).message);
    }
    if (res.status !== 200)
      throw unreachable(issuer, `the ${what} at ${url} answered HTTP ${res.status}`);
    try {
      return parseJsonText(res.body, what, url);
    } catch {
      throw unreachable(issuer, `the ${what} at ${url} is not JSON`);
    }
  }
}

/** The system's CA certificates and `pem` (Fulcio adds an issuer's ca-cert to the system pool). */
function withSystemCas(pem: string): string {
  return [...process.getBuiltinModule('node:tls').rootCertificates, pem].join('\n');
}

function parseJwks(v: unknown, issuer: string): JSONWebKeySet {
  if (typeof v !== 'object' || v === null || !Array.isArray((v as { keys?: unknown }).keys))
    throw unreachable(issuer, 'the JWKS has no "keys" array');
  const keys = (v as { keys: unknown[] }).keys.filter(
    (k): k is JSONWebKeySet['keys'][number] =>
      typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string',
  );
  return { keys };
}
