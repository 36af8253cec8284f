import { invalid, quoteInput } from '../../core/errors.ts';
import { baseClaims, type Flavor, FLAVORS, isFlavor } from './flavors.ts';

/**
 * Configuration of the built-in identity provider (the `oidc` section of the stack config).
 *
 *   identities:            # who can log in / get tokens; defaults: one per flavor
 *     - { flavor: email, name: alice@example.com }
 *     - { flavor: github, name: octo/app, claims: { ref: refs/tags/v1.0.0 } }
 *   clients:               # OAuth clients; default: the public client `sigstore`
 *     - { id: sigstore }                            # public: loopback redirects, device flow
 *     - { id: ci-tests, secret: s3cret, testGrant: true }
 *   tokenLifetimeSeconds: 600
 *   devicePollIntervalSeconds: 5
 *   loginTimeoutSeconds: 600
 *   spiffeTrustDomain: signet.local
 *   includeDefaultIdentities: true
 */
export interface IdentityConfig {
  flavor: Flavor;
  /** Login name: an email, `owner/repo`, `namespace/serviceaccount`, a SPIFFE path, a user name. */
  name: string;
  /** Claims overlaid on the flavor's generated ones (may override `sub`). */
  claims: Record<string, unknown>;
}

export interface ClientConfig {
  id: string;
  /** When set, the client must authenticate with it (form field or HTTP Basic). */
  secret?: string;
  /** Redirect URIs allowed besides loopback ones (which every client may use, RFC 8252 7.3). */
  redirectUris: string[];
  /** May use the non-interactive `client_credentials` grant naming any configured identity. */
  testGrant: boolean;
}

export interface ProviderConfig {
  identities: IdentityConfig[];
  clients: ClientConfig[];
  tokenLifetimeSeconds: number;
  devicePollIntervalSeconds: number;
  /** How long a login page may stay open before its answer is refused. */
  loginTimeoutSeconds: number;
  spiffeTrustDomain: string;
}

const DEFAULT_IDENTITIES: ReadonlyArray<{ flavor: Flavor; name: string }> = [
  { flavor: 'email', name: 'dev@signet.local' },
  { flavor: 'github', name: 'signet-dev/demo' },
  { flavor: 'gitlab', name: 'signet-dev/demo' },
  { flavor: 'buildkite', name: 'signet-dev/demo' },
  { flavor: 'spiffe', name: 'demo' },
  { flavor: 'kubernetes', name: 'default/default' },
  { flavor: 'uri', name: 'dev' },
  { flavor: 'username', name: 'dev' },
];

/** A boolean setting, or undefined when absent: "no", 0 or "false" must not read as on. */
function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw invalid(field, `must be true or false (got ${quoteInput(v)})`);
}

/** Refuses a key of `o` beyond `known`: a misspelt one would be dropped without a word. */
function onlyKeys(o: Record<string, unknown>, known: readonly string[], field: string): void {
  for (const k of Object.keys(o))
    if (!known.includes(k))
      throw invalid(`${field}.${k}`, `unknown key (known: ${known.join(', ')})`);
}

export function parseProviderConfig(raw: Record<string, unknown>, field = 'oidc'): ProviderConfig {
  const identities: IdentityConfig[] = [];
  // These identities sign anyone in without a password: only `false` turns them off, and a
  // value that is neither (`no`, "false") stops the stack rather than leave them on.
  if (bool(raw['includeDefaultIdentities'], `${field}.includeDefaultIdentities`) !== false)
    for (const d of DEFAULT_IDENTITIES) identities.push({ ...d, claims: {} });
  const ids = raw['identities'];
  if (ids !== undefined) {
    if (!Array.isArray(ids)) throw invalid(`${field}.identities`, 'must be a list');
    ids.forEach((v, i) => {
      const f = `${field}.identities[${i}]`;
      const o = record(v, f);
      onlyKeys(o, ['flavor', 'name', 'claims'], f);
      const flavor = o['flavor'] ?? 'email';
      if (typeof flavor !== 'string' || !isFlavor(flavor))
        throw invalid(`${f}.flavor`, `must be one of ${FLAVORS.join(', ')}`);
      const name = o['name'];
      if (typeof name !== 'string' || name === '' || name.length > 256)
        throw invalid(`${f}.name`, 'must be a non-empty string');
      const claims = o['claims'] === undefined ? {} : record(o['claims'], `${f}.claims`);
      try {
        baseClaims(flavor, name, {
          baseUrl: 'http://x',
          spiffeTrustDomain: 'x',
          usernameDomain: 'x',
        });
      } catch (e) {
        throw invalid(`${f}.name`, (e as Error).message);
      }
      // A configured identity replaces a default one of the same flavor and name.
      const at = identities.findIndex((x) => x.flavor === flavor && x.name === name);
      if (at >= 0) identities.splice(at, 1);
      identities.push({ flavor, name, claims });
    });
  }
  const clients: ClientConfig[] = [];
  const cl = raw['clients'];
  if (cl === undefined) {
    // Zero config: the client id every Sigstore tool uses. It may use the test grant so that
    // `signet token` works against a local stack; configure clients to turn that off.
    clients.push({ id: 'sigstore', redirectUris: [], testGrant: true });
  } else {
    if (!Array.isArray(cl)) throw invalid(`${field}.clients`, 'must be a list');
    // No client: nothing could sign in (browser, device flow or token), with no word said.
    if (cl.length === 0)
      throw invalid(
        `${field}.clients`,
        'is empty, so no one could sign in: list the clients, e.g. [{ id: sigstore }] (the public client without the password-less test grant), or leave clients out for the default',
      );
    cl.forEach((v, i) => {
      const f = `${field}.clients[${i}]`;
      const o = record(v, f);
      onlyKeys(o, ['id', 'secret', 'redirectUris', 'testGrant'], f);
      const id = o['id'];
      if (typeof id !== 'string' || !/^[\w.:-]{1,128}$/.test(id))
        throw invalid(`${f}.id`, 'must be a client id ([A-Za-z0-9_.:-], at most 128)');
      const c: ClientConfig = {
        id,
        redirectUris: [],
        testGrant: bool(o['testGrant'], `${f}.testGrant`) === true,
      };
      if (o['secret'] !== undefined) {
        if (typeof o['secret'] !== 'string' || o['secret'].length < 8)
          throw invalid(`${f}.secret`, 'must be a string of at least 8 characters');
        c.secret = o['secret'];
      }
      if (o['redirectUris'] !== undefined) {
        if (
          !Array.isArray(o['redirectUris']) ||
          !o['redirectUris'].every((u) => typeof u === 'string')
        )
          throw invalid(`${f}.redirectUris`, 'must be a list of URLs');
        c.redirectUris = o['redirectUris'];
      }
      clients.push(c);
    });
  }
  return {
    identities,
    clients,
    tokenLifetimeSeconds: int(
      raw['tokenLifetimeSeconds'],
      600,
      1,
      86400,
      `${field}.tokenLifetimeSeconds`,
    ),
    devicePollIntervalSeconds: int(
      raw['devicePollIntervalSeconds'],
      5,
      0,
      60,
      `${field}.devicePollIntervalSeconds`,
    ),
    loginTimeoutSeconds: int(
      raw['loginTimeoutSeconds'],
      600,
      1,
      3600,
      `${field}.loginTimeoutSeconds`,
    ),
    spiffeTrustDomain: str(
      raw['spiffeTrustDomain'],
      'signet.local',
      /^[a-z0-9._-]+$/,
      `${field}.spiffeTrustDomain`,
    ),
  };
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(field, 'must be a map');
  return v as Record<string, unknown>;
}

function int(v: unknown, dflt: number, min: number, max: number, field: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(field, `must be an integer from ${min} to ${max}`);
  return v;
}

function str(v: unknown, dflt: string, re: RegExp, field: string): string {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !re.test(v)) throw invalid(field, `must match ${re}`);
  return v;
}
