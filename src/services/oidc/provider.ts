import { createHash, createPublicKey, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, type JWK, SignJWT } from 'jose';
import { SignetError, quoteInput } from '../../core/errors.ts';
import { KeyRing } from '../keyring.ts';
import type { ClientConfig, IdentityConfig, ProviderConfig } from './config.ts';
import { baseClaims, type Flavor, flavorPath } from './flavors.ts';

/**
 * The built-in identity provider's state: signing keys (KeyRing `oidc`, ES256), authorization
 * codes (PKCE), device codes (RFC 8628), and minting of ID tokens. HTTP lives in routes.ts.
 * Codes are kept in memory: a restart forgets logins in progress, nothing else.
 */
export const KEY_SPEC = { type: 'ec', curve: 'P-256' } as const;
const ALG = 'ES256';
const CODE_TTL_MS = 60_000;
const DEVICE_TTL_MS = 600_000;
const MAX_PENDING = 10_000;

/** An OAuth 2.0 error (RFC 6749 5.2 / RFC 8628 3.5), answered as `{error, error_description}`. */
export class OAuthError extends Error {
  readonly error: string;
  readonly status: number;
  constructor(error: string, description: string, status = 400) {
    super(description);
    this.error = error;
    this.status = status;
  }
}

export interface Issuer {
  flavor: Flavor;
  /** Kubernetes cluster name ('default' otherwise). */
  cluster: string;
  url: string;
}

interface AuthCode {
  issuer: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  identity: IdentityConfig;
  expires: number;
}

/**
 * A login in progress: the validated authorization request, between the login page (GET) and
 * the person's choice (POST). The form carries only its id, so the request cannot be altered
 * in between, and each login is answered once.
 */
export interface PendingLogin {
  id: string;
  issuer: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string | undefined;
  nonce: string | undefined;
  expires: number;
  /** Set once the person chose an identity or cancelled; kept until expiry to say so. */
  answered: boolean;
}

interface DeviceCode {
  issuer: Issuer;
  clientId: string;
  userCode: string;
  expires: number;
  interval: number;
  lastPoll: number;
  state: 'pending' | 'denied' | { identity: IdentityConfig };
}

export interface TokenResponse {
  access_token: string;
  id_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export class OidcProvider {
  readonly config: ProviderConfig;
  /** `<base>/oidc` */
  readonly root: string;
  private readonly baseUrl: string;
  private readonly dataDir: string;
  private ring: KeyRing;
  private ringStamp: number;
  private jwksCache: { stamp: number; keys: JWK[]; kids: Map<number, string> } | undefined;
  private readonly codes = new Map<string, AuthCode>();
  private readonly logins = new Map<string, PendingLogin>();
  private readonly devices = new Map<string, DeviceCode>();
  private readonly userCodes = new Map<string, string>();

  constructor(opts: { dataDir: string; baseUrl: string; config: ProviderConfig }) {
    this.config = opts.config;
    this.baseUrl = opts.baseUrl;
    this.root = `${opts.baseUrl}/oidc`;
    this.dataDir = opts.dataDir;
    this.ring = KeyRing.open(opts.dataDir, 'oidc', KEY_SPEC);
    this.ringStamp = this.stamp();
  }

  /** When the provider's first key was made: the start of its validity in the signing config. */
  get since(): Date {
    return this.ring.versions[0]!.validFrom;
  }

  issuer(flavor: Flavor, cluster = 'default'): Issuer {
    return { flavor, cluster, url: `${this.root}${flavorPath(flavor, cluster)}` };
  }

  identities(flavor: Flavor): IdentityConfig[] {
    return this.config.identities.filter((i) => i.flavor === flavor);
  }

  findIdentity(flavor: Flavor, name: string): IdentityConfig {
    const id = this.config.identities.find((i) => i.flavor === flavor && i.name === name);
    if (!id) {
      const known = this.identities(flavor).map((i) => i.name);
      throw new OAuthError(
        'invalid_request',
        `no ${flavor} identity named ${quoteInput(name)} is configured` +
          (known.length ? ` (configured: ${known.join(', ')})` : ''),
      );
    }
    return id;
  }

  client(id: unknown): ClientConfig {
    const c = typeof id === 'string' ? this.config.clients.find((x) => x.id === id) : undefined;
    if (!c)
      throw new OAuthError('invalid_client', `unknown client_id ${quoteInput(id ?? null)}`, 401);
    return c;
  }

  /** Checks the client's secret when it has one (constant-time compare). */
  authenticate(client: ClientConfig, secret: string | undefined): void {
    if (client.secret === undefined) return;
    const a = createHash('sha256').update(client.secret).digest();
    const b = createHash('sha256')
      .update(secret ?? '')
      .digest();
    if (secret === undefined || !timingSafeEqual(a, b))
      throw new OAuthError(
        'invalid_client',
        `client ${client.id}: wrong or missing client_secret`,
        401,
      );
  }

  /** RFC 8252 7.3: loopback redirects on any port; otherwise the client's registered URIs. */
  checkRedirectUri(client: ClientConfig, uri: unknown): string {
    if (typeof uri !== 'string' || uri === '')
      throw new OAuthError('invalid_request', 'redirect_uri is required');
    if (client.redirectUris.includes(uri)) return uri;
    let u: URL;
    try {
      u = new URL(uri);
    } catch {
      throw new OAuthError('invalid_request', `redirect_uri ${quoteInput(uri)} is not a URL`);
    }
    const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
    if (u.protocol === 'http:' && loopback && !u.hash && !u.username && !u.password) return uri;
    throw new OAuthError(
      'invalid_request',
      `redirect_uri ${quoteInput(uri)} is not registered for client ${client.id} and is not a loopback http URL`,
    );
  }

  // ---- keys ---------------------------------------------------------------------------------

  private stamp(): number {
    try {
      return fs.statSync(path.join(this.ring.folder, 'ring.json')).mtimeMs;
    } catch {
      return 0;
    }
  }

  /** Picks up a rotation done by another process (e.g. `signet rotate`). */
  private fresh(): KeyRing {
    const s = this.stamp();
    if (s !== this.ringStamp) {
      this.ring = KeyRing.open(this.dataDir, 'oidc', KEY_SPEC);
      this.ringStamp = s;
    }
    return this.ring;
  }

  /** Adds a new signing key; the old one stays published so tokens it signed still verify. */
  rotateKey(): void {
    this.ring = KeyRing.rotate(this.dataDir, 'oidc');
    this.ringStamp = this.stamp();
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const ring = this.fresh();
    if (this.jwksCache?.stamp !== this.ringStamp) {
      const keys: JWK[] = [];
      const kids = new Map<number, string>();
      // Keys rotated out more than a day ago signed no token that is still valid.
      const cutoff = Date.now() - 86_400_000 - this.config.tokenLifetimeSeconds * 1000;
      for (const v of ring.versions) {
        const jwk = createPublicKey(v.key).export({ format: 'jwk' }) as JWK;
        const kid = await calculateJwkThumbprint(jwk);
        kids.set(v.id, kid);
        if (v.validTo && v.validTo.getTime() < cutoff) continue;
        keys.push({ ...jwk, kid, use: 'sig', alg: ALG });
      }
      this.jwksCache = { stamp: this.ringStamp, keys, kids };
    }
    return { keys: this.jwksCache.keys };
  }

  // ---- tokens -------------------------------------------------------------------------------

  /**
   * Signs an ID token for `identity` from `issuer`. `overrides` is for tests of bad tokens
   * (times, claims); the HTTP endpoints never pass it.
   */
  async mint(
    issuer: Issuer,
    identity: IdentityConfig,
    audience: string,
    overrides: {
      claims?: Record<string, unknown>;
      lifetimeSeconds?: number;
      issuedAt?: number;
    } = {},
  ): Promise<string> {
    await this.jwks();
    const ring = this.fresh();
    const current = ring.current();
    const kid = this.jwksCache!.kids.get(current.id)!;
    const ctx = {
      baseUrl: this.baseUrl,
      spiffeTrustDomain: this.config.spiffeTrustDomain,
      usernameDomain: new URL(this.baseUrl).hostname,
    };
    const base = baseClaims(identity.flavor, identity.name, ctx);
    const claims: Record<string, unknown> = { ...base.claims, ...identity.claims };
    if (typeof claims['sub'] !== 'string') claims['sub'] = base.sub(claims);
    const iat = overrides.issuedAt ?? Math.floor(Date.now() / 1000);
    const lifetime = overrides.lifetimeSeconds ?? this.config.tokenLifetimeSeconds;
    const payload: Record<string, unknown> = {
      ...claims,
      iss: issuer.url,
      aud: audience,
      iat,
      nbf: iat,
      exp: iat + lifetime,
      ...overrides.claims,
    };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return new SignJWT(payload).setProtectedHeader({ alg: ALG, kid, typ: 'JWT' }).sign(current.key);
  }

  private async tokenResponse(
    issuer: Issuer,
    identity: IdentityConfig,
    aud: string,
    nonce?: string,
  ): Promise<TokenResponse> {
    const id_token = await this.mint(issuer, identity, aud, nonce ? { claims: { nonce } } : {});
    return {
      access_token: randomBytes(32).toString('base64url'),
      id_token,
      token_type: 'Bearer',
      expires_in: this.config.tokenLifetimeSeconds,
      scope: 'openid email',
    };
  }

  // ---- authorization code + PKCE (RFC 6749 4.1, RFC 7636) -----------------------------------

  /** Remembers a validated authorization request while the person looks at the login page. */
  startLogin(a: Omit<PendingLogin, 'id' | 'expires' | 'answered'>): PendingLogin {
    this.sweep();
    const login: PendingLogin = {
      ...a,
      id: randomBytes(32).toString('base64url'),
      expires: Date.now() + this.config.loginTimeoutSeconds * 1000,
      answered: false,
    };
    this.logins.set(login.id, login);
    return login;
  }

  /**
   * The login a submitted page belongs to: each login is answered once (see answerLogin),
   * before it expires, at the issuer that showed it.
   */
  pendingLogin(issuer: Issuer, id: unknown): PendingLogin {
    const again = 'start again from the application that sent you here';
    if (typeof id !== 'string' || id === '')
      throw new OAuthError('invalid_request', `login is missing from the form: ${again}`);
    const l = this.logins.get(id);
    if (!l || l.issuer !== issuer.url)
      throw new OAuthError('invalid_request', `this sign-in is unknown: ${again}`);
    if (l.answered)
      throw new OAuthError('invalid_request', `this sign-in was already answered: ${again}`);
    if (l.expires < Date.now()) {
      this.logins.delete(id);
      throw new OAuthError(
        'invalid_request',
        `this sign-in expired (it is open for ${this.config.loginTimeoutSeconds} s): ${again}`,
      );
    }
    return l;
  }

  /** The person chose an identity or cancelled: the login page cannot be answered again. */
  answerLogin(l: PendingLogin): void {
    l.answered = true;
  }

  createCode(a: Omit<AuthCode, 'expires'>): string {
    this.sweep();
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { ...a, expires: Date.now() + CODE_TTL_MS });
    return code;
  }

  async redeemCode(
    issuer: Issuer,
    p: { code: unknown; client: ClientConfig; redirectUri: unknown; codeVerifier: unknown },
  ): Promise<TokenResponse> {
    if (typeof p.code !== 'string') throw new OAuthError('invalid_request', 'code is required');
    const c = this.codes.get(p.code);
    this.codes.delete(p.code); // single use, whatever happens next
    if (!c || c.expires < Date.now() || c.issuer !== issuer.url)
      throw new OAuthError('invalid_grant', 'the authorization code is unknown, used or expired');
    if (c.clientId !== p.client.id)
      throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
    if (c.redirectUri !== p.redirectUri)
      throw new OAuthError(
        'invalid_grant',
        'redirect_uri differs from the one of the authorization request',
      );
    if (typeof p.codeVerifier !== 'string' || !/^[A-Za-z0-9._~-]{43,128}$/.test(p.codeVerifier))
      throw new OAuthError(
        'invalid_request',
        'code_verifier is required (43-128 unreserved characters, RFC 7636 4.1)',
      );
    const challenge = createHash('sha256').update(p.codeVerifier).digest('base64url');
    if (challenge !== c.codeChallenge)
      throw new OAuthError(
        'invalid_grant',
        'code_verifier does not match the code_challenge (PKCE S256)',
      );
    return this.tokenResponse(issuer, c.identity, c.clientId, c.nonce);
  }

  // ---- device authorization (RFC 8628) ------------------------------------------------------

  startDevice(
    issuer: Issuer,
    client: ClientConfig,
  ): {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete: string;
    expires_in: number;
    interval: number;
  } {
    this.sweep();
    const deviceCode = randomBytes(32).toString('base64url');
    // RFC 8628 6.1: 8 characters from a 20-letter consonant alphabet, shown as XXXX-XXXX.
    const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
    let raw = '';
    for (let i = 0; i < 8; i++) raw += alphabet[randomInt(alphabet.length)];
    const userCode = `${raw.slice(0, 4)}-${raw.slice(4)}`;
    const interval = this.config.devicePollIntervalSeconds;
    this.devices.set(deviceCode, {
      issuer,
      clientId: client.id,
      userCode,
      expires: Date.now() + DEVICE_TTL_MS,
      interval,
      lastPoll: 0,
      state: 'pending',
    });
    this.userCodes.set(raw, deviceCode);
    const verification = `${issuer.url}/device`;
    return {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verification,
      verification_uri_complete: `${verification}?user_code=${userCode}`,
      expires_in: DEVICE_TTL_MS / 1000,
      interval,
    };
  }

  /** The pending device request for a user code typed by a person (case and dash insensitive). */
  deviceByUserCode(issuer: Issuer, userCode: unknown): DeviceCode {
    const norm = typeof userCode === 'string' ? userCode.toUpperCase().replace(/[^A-Z]/g, '') : '';
    const dc = this.userCodes.get(norm);
    const d = dc ? this.devices.get(dc) : undefined;
    if (!d || d.expires < Date.now() || d.issuer.url !== issuer.url || d.state !== 'pending')
      throw new OAuthError('invalid_request', 'this code is unknown, already used or expired');
    return d;
  }

  decideDevice(d: DeviceCode, identity: IdentityConfig | undefined): void {
    d.state = identity ? { identity } : 'denied';
  }

  async pollDevice(
    issuer: Issuer,
    deviceCode: unknown,
    client: ClientConfig,
  ): Promise<TokenResponse> {
    if (typeof deviceCode !== 'string')
      throw new OAuthError('invalid_request', 'device_code is required');
    const d = this.devices.get(deviceCode);
    if (!d || d.issuer.url !== issuer.url || d.clientId !== client.id)
      throw new OAuthError('invalid_grant', 'unknown device_code');
    const now = Date.now();
    if (d.expires < now) {
      this.devices.delete(deviceCode);
      throw new OAuthError('expired_token', 'the device code expired; start again');
    }
    if (d.state === 'denied') {
      this.devices.delete(deviceCode);
      throw new OAuthError('access_denied', 'the user denied the request');
    }
    if (d.state === 'pending') {
      // RFC 8628 3.5: polling faster than `interval` gets slow_down and 5 more seconds.
      const tooFast = d.interval > 0 && now - d.lastPoll < d.interval * 1000;
      d.lastPoll = now;
      if (tooFast) {
        d.interval += 5;
        throw new OAuthError('slow_down', `poll at most every ${d.interval} seconds`);
      }
      throw new OAuthError('authorization_pending', 'the user has not approved the request yet');
    }
    this.devices.delete(deviceCode);
    this.userCodes.delete(d.userCode.replace('-', ''));
    return this.tokenResponse(issuer, d.state.identity, d.clientId);
  }

  // ---- non-interactive grant for configured test clients -------------------------------------

  async testGrant(
    issuer: Issuer,
    client: ClientConfig,
    subject: unknown,
    audience: unknown,
  ): Promise<TokenResponse> {
    if (!client.testGrant)
      throw new OAuthError(
        'unauthorized_client',
        `client ${client.id} may not use the client_credentials grant: the password-less test grant is off for it (oidc.clients lists it without testGrant: true)`,
      );
    if (typeof subject !== 'string' || subject === '')
      throw new OAuthError(
        'invalid_request',
        `subject is required: the name of a configured ${issuer.flavor} identity (${this.identities(
          issuer.flavor,
        )
          .map((i) => i.name)
          .join(', ')})`,
      );
    if (
      audience !== undefined &&
      (typeof audience !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(audience))
    )
      throw new OAuthError(
        'invalid_request',
        'audience must be a printable string of at most 256 characters',
      );
    const identity = this.findIdentity(issuer.flavor, subject);
    return this.tokenResponse(issuer, identity, audience ?? client.id);
  }

  private sweep(): void {
    const now = Date.now();
    if (this.codes.size > MAX_PENDING / 2)
      for (const [k, v] of this.codes) if (v.expires < now) this.codes.delete(k);
    if (this.logins.size > MAX_PENDING / 2)
      for (const [k, v] of this.logins) if (v.expires < now) this.logins.delete(k);
    if (this.devices.size > MAX_PENDING / 2)
      for (const [k, v] of this.devices)
        if (v.expires < now) {
          this.devices.delete(k);
          this.userCodes.delete(v.userCode.replace('-', ''));
        }
    if (
      this.codes.size >= MAX_PENDING ||
      this.devices.size >= MAX_PENDING ||
      this.logins.size >= MAX_PENDING
    )
      throw new SignetError(
        'unavailable',
        'TOO_MANY_LOGINS',
        'too many logins in progress; try again later',
      );
  }
}
