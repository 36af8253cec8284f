/**
 * A registry client for one repository (OCI distribution-spec v1.1), on the shared HTTP client:
 * explicit Accept headers (distribution answers 404 to OCI manifests without them), Basic and
 * Bearer challenges (distribution token spec), bounded redirects for blobs (the Authorization
 * header never leaves the registry's host), 429/503 retried by the shared client, and plain
 * HTTP only for loopback registries unless the user allows it.
 */
import { SignetError, invalid } from '../../core/errors.ts';
import { digestHasher, digestOf, matchesDigest, type Digest } from '../../core/oci/digest.ts';
import {
  MANIFEST_TYPES,
  MAX_MANIFEST_BYTES,
  OCI_INDEX,
  parseManifest,
  type Descriptor,
} from '../../core/oci/manifest.ts';
import { DOCKER_HUB } from '../../core/oci/reference.ts';
import {
  send,
  sendStream,
  type HttpOptions,
  type HttpRequest,
  type HttpResponse,
  type StreamRequest,
  type StreamResponse,
  type TlsClientOptions,
} from '../../services/http/outbound.ts';
import { findCredentials, parseChallenge, type Credentials } from './auth.ts';
import type { ImageSource } from './source.ts';
import { parseJsonText } from '../../core/json.ts';

export interface RegistryOptions {
  /** `--registry-username` / `--registry-password` (else the Docker config). */
  username?: string;
  password?: string;
  /** `--allow-http-registry`: plain HTTP to registries that are not on loopback. */
  allowHttp?: boolean;
  /**
   * `--allow-insecure-registry`, as cosign's: HTTPS without verifying the registry's certificate
   * (a self-signed one), and plain HTTP when the registry does not speak TLS at all.
   */
  allowInsecure?: boolean;
  /**
   * `--registry-token`: sent as the Bearer token to the registry itself, with no token exchange
   * (go-containerregistry's RegistryToken). A user name and password win over it, as in cosign.
   */
  token?: string;
  /** `--registry-cacert`, `--registry-client-cert`/`-key`, `--registry-server-name`. */
  tls?: TlsClientOptions;
  /**
   * cosign's COSIGN_REPOSITORY: keep signatures and attestations in this repository instead of
   * the image's (legacy tags and referrers alike; attachmentsOf in image.ts).
   */
  signatureRepository?: { registry: string; repository: string };
  /** cosign's --attachment-tag-prefix: legacy tags are `[prefix]sha256-<hex>.sig`. */
  tagPrefix?: string;
  http?: HttpOptions;
  env?: NodeJS.ProcessEnv;
}

/** Signature and attestation blobs are bundles; an SBOM attestation may be large, not unbounded. */
export const MAX_BLOB_BYTES = 128 * 1024 * 1024;
/** Pages of a paginated list (tags, referrers) we follow. */
const MAX_PAGES = 20;
const MAX_REDIRECTS = 5;
const REDIRECTS = [301, 302, 303, 307, 308];

/** OpenSSL's and Node's codes for a certificate that does not verify. */
const CERT_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The system error code under a SignetError from the HTTP client. */
function causeCode(e: unknown): string | undefined {
  const c = e instanceof SignetError ? (e.cause as { code?: unknown } | undefined) : undefined;
  return typeof c?.code === 'string' ? c.code : undefined;
}

/** A TLS handshake with a server that answers in plain HTTP. */
function notTls(e: unknown): boolean {
  const c = causeCode(e);
  return (
    c === 'EPROTO' || c === 'ERR_SSL_WRONG_VERSION_NUMBER' || c === 'ERR_SSL_PACKET_LENGTH_TOO_LONG'
  );
}

/** Go's net/http answer to plain HTTP on a TLS port (docker-registry, zot, ...). */
function wantsTls(e: unknown): boolean {
  const said = 'Client sent an HTTP request to an HTTPS server';
  if (!(e instanceof SignetError)) return false;
  if (e.details?.status === 400 && e.message.includes(said)) return true;
  // To a HEAD that answer (with its body) does not parse; the parser keeps the raw bytes.
  const raw = (e.cause as { rawPacket?: unknown } | undefined)?.rawPacket;
  return causeCode(e)?.startsWith('HPE_') === true && Buffer.isBuffer(raw) && raw.includes(said);
}

/** The media type of an answer, without parameters. */
function contentType(res: HttpResponse): string {
  return res.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
}

/**
 * An error answer only a registry gives: its API version header, or the distribution-spec error
 * body `{"errors": [...]}` ("error codes"), which registries send with a 404.
 */
function isRegistryAnswer(res: HttpResponse): boolean {
  if (res.headers.get('docker-distribution-api-version')?.startsWith('registry/')) return true;
  try {
    const j = parseJsonText(res.body, 'error answer') as { errors?: unknown } | null;
    return Array.isArray(j?.errors);
  } catch {
    return false;
  }
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '');
  return h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/**
 * Content-addressed answers (manifests and blobs fetched by digest, checked against it) never
 * change, so a process verifying many images (an admission webhook) keeps the recent ones.
 * Bounded by entries and bytes; keyed by registry and repository, since access is per repository.
 */
class ContentCache {
  private readonly map = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  constructor(maxEntries: number, maxBytes: number) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
  }
  get(key: string): { bytes: Uint8Array; mediaType: string } | undefined {
    const v = this.map.get(key);
    if (v) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: { bytes: Uint8Array; mediaType: string }): void {
    if (v.bytes.length > this.maxBytes / 16 || this.map.has(key)) return;
    this.map.set(key, v);
    this.bytes += v.bytes.length;
    for (const [k, old] of this.map) {
      if (this.map.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= old.bytes.length;
    }
  }
}

const contentCache = new ContentCache(4096, 64 * 1024 * 1024);

/**
 * The digest each tag named when last fetched (per registry, repository and tag; bounded): the
 * same tag is then asked for with If-None-Match, and a registry whose tag still names that
 * manifest answers 304 without it (Debian's distribution: 1.1 ms of its CPU instead of 1.5 ms),
 * the bytes coming from the content cache by digest. Tags move, so every lookup still asks.
 */
const tagDigests = new Map<string, string>();
const MAX_TAG_DIGESTS = 4096;

function rememberTag(key: string, digest: string | undefined): void {
  tagDigests.delete(key);
  if (digest === undefined) return;
  tagDigests.set(key, digest);
  if (tagDigests.size > MAX_TAG_DIGESTS) tagDigests.delete(tagDigests.keys().next().value!);
}

/**
 * What each registry last said to the referrers API (an index, or 404), and until when we
 * believe it. Without it, a registry lacking the API costs a wasted round trip per image, and
 * one having it a speculative read of the referrers tag schema (discover.ts listReferrers).
 * Bounded: an admission webhook meets whatever registries its pods name.
 */
const referrersApi = new Map<string, { answers: boolean; until: number }>();
const REFERRERS_API_TTL_MS = 5 * 60 * 1000;
const MAX_REFERRERS_API_REGISTRIES = 1024;

function knownReferrersApi(base: string): boolean | undefined {
  const k = referrersApi.get(base);
  return k && k.until > Date.now() ? k.answers : undefined;
}

function rememberReferrersApi(base: string, answers: boolean): void {
  referrersApi.delete(base);
  referrersApi.set(base, { answers, until: Date.now() + REFERRERS_API_TTL_MS });
  if (referrersApi.size > MAX_REFERRERS_API_REGISTRIES)
    referrersApi.delete(referrersApi.keys().next().value!);
}

export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: Digest;
}

export class Repository {
  readonly registry: string;
  readonly repository: string;
  /** `https://host`, or `http://` on loopback (until it turns out to speak TLS), with --allow-http-registry, or after an insecure fallback. */
  base: string;
  private readonly opts: RegistryOptions;
  private credentials: Promise<Credentials | undefined> | undefined;
  /** Authorization header per access ("pull" or "pull,push"). */
  private readonly auth = new Map<string, string>();
  /** requireRegistry's answer: the server was asked once whether it is a registry. */
  private registryChecked: Promise<void> | undefined;

  constructor(registry: string, repository: string, opts: RegistryOptions = {}) {
    this.registry = registry;
    this.repository = repository;
    this.opts = opts;
    const plain = isLoopback(registry) || opts.allowHttp;
    this.base = `${plain ? 'http' : 'https'}://${apiHost(registry)}`;
  }

  /** cosign's --attachment-tag-prefix, as given (legacyTag in core/oci/cosign.ts). */
  get tagPrefix(): string {
    return this.opts.tagPrefix ?? '';
  }

  /** `registry/repository`, for messages. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  private service(): string {
    return `the registry ${this.registry}`;
  }

  /**
   * The shared HTTP client with this registry's TLS choice. A certificate that does not verify
   * is an error naming the registry and the flag; with --allow-insecure-registry a registry that
   * does not speak TLS is asked again over plain HTTP (go-containerregistry's fallback for
   * insecure registries, which cosign uses).
   */
  private async send(req: HttpRequest, opts = this.opts.http): Promise<HttpResponse> {
    const http = this.transport(opts);
    try {
      return await send(req, http);
    } catch (e) {
      const code = causeCode(e);
      if (code !== undefined && CERT_ERRORS.has(code))
        throw new SignetError(
          'unavailable',
          'REGISTRY_TLS',
          `the registry ${this.registry} presented a TLS certificate that does not verify (${code}) at ${req.url}: ${
            code === 'ERR_TLS_CERT_ALTNAME_INVALID'
              ? 'it is not for this host name; --registry-server-name names the one it carries'
              : this.opts.tls?.ca !== undefined
                ? 'it does not chain to --registry-cacert'
                : 'give its CA with --registry-cacert, or if you trust this registry anyway, use --allow-insecure-registry'
          }`,
          { cause: e },
        );
      // The registry's TLS alert when it wants a client certificate (RFC 8446 §6.2: 116, or
      // TLS 1.2's bad_certificate, 42) or does not accept the one given.
      if (
        code !== undefined &&
        /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA)$/.test(code)
      )
        throw new SignetError(
          'unauthorized',
          'REGISTRY_TLS',
          this.opts.tls?.cert !== undefined
            ? `the registry ${this.registry} refused the client certificate of --registry-client-cert (${code})`
            : `the registry ${this.registry} asks for a client certificate (${code}): give it with --registry-client-cert and --registry-client-key`,
          { cause: e },
        );
      // Requests sent in parallel before the first one switched come here too.
      const https = `https://${apiHost(this.registry)}`;
      const http = `http://${apiHost(this.registry)}`;
      if (this.opts.allowInsecure && req.url.startsWith(`${https}/`) && notTls(e)) {
        this.base = http;
        return this.send({ ...req, url: this.rebase(req.url) }, opts);
      }
      // A loopback registry is asked in plain HTTP first (the common local setup); one that
      // serves TLS says so in Go's answer to plain HTTP, and is asked again over HTTPS
      // (go-containerregistry tries both schemes for localhost).
      if (isLoopback(this.registry) && req.url.startsWith(`${http}/`) && wantsTls(e)) {
        this.base = https;
        return this.send({ ...req, url: this.rebase(req.url) }, opts);
      }
      throw e;
    }
  }

  /** The HTTP options with this registry's TLS settings (every request to it goes with them). */
  private transport(opts = this.opts.http): HttpOptions {
    return {
      ...opts,
      ...(this.opts.allowInsecure ? { insecureTls: true } : {}),
      ...(this.opts.tls ? { tls: this.opts.tls } : {}),
    };
  }

  /**
   * One request with authentication: a 401 is answered once with the challenge's scheme, then
   * the request is sent again. 401/403 after that are errors that say what to do.
   */
  async request(
    r: Omit<HttpRequest, 'service' | 'url'> & { path: string; push?: boolean },
  ): Promise<HttpResponse> {
    const access = r.push ? 'pull,push' : 'pull';
    const url = r.path.startsWith('http') ? this.rebase(r.path) : `${this.base}${r.path}`;
    const allow = [...(r.allow ?? []), 401, 403, ...(r.redirect === 'manual' ? REDIRECTS : [])];
    const req: HttpRequest = { ...r, service: this.service(), url, allow };
    const headers = () => ({ ...r.headers, ...this.headers(access) });
    let res = await this.send({ ...req, headers: headers() });
    if (res.status === 401) {
      await this.authenticate(res.headers.get('www-authenticate'), access);
      res = await this.send({ ...req, url: this.rebase(url), headers: headers() });
      if (res.status === 401) throw this.refused(401, r.push === true);
    }
    if (res.status === 403) throw this.refused(403, r.push === true);
    return res;
  }

  /** The error for a 401 after authenticating, or a 403: what to do about it. */
  private refused(status: number, push: boolean): SignetError {
    if (status === 403)
      return new SignetError(
        'unauthorized',
        'REGISTRY_FORBIDDEN',
        `${this.service()} denied ${push ? 'push' : 'pull'} access to ${this.name} (HTTP 403): the credentials in use lack that permission`,
      );
    return new SignetError(
      'unauthorized',
      'REGISTRY_UNAUTHORIZED',
      this.opts.token !== undefined && this.opts.username === undefined
        ? `${this.service()} refused the --registry-token for ${this.name} (HTTP 401)`
        : `${this.service()} refused the credentials for ${this.name} (HTTP 401): check them (signet login ${this.registry}, or --registry-username/--registry-password)`,
    );
  }

  /**
   * `request` with streamed bodies (blob copies). A request without a body is sent again after a
   * 401 challenge; one with a body must be authorized already (its upload was started with
   * `request`, which answered the challenge).
   */
  private async requestStream(
    r: Omit<StreamRequest, 'service' | 'url' | 'headers'> & { path: string; push?: boolean },
  ): Promise<StreamResponse> {
    const access = r.push ? 'pull,push' : 'pull';
    const url = r.path.startsWith('http') ? this.rebase(r.path) : `${this.base}${r.path}`;
    const allow = [...(r.allow ?? []), 401, 403, ...(r.redirect === 'manual' ? REDIRECTS : [])];
    const http = this.transport();
    const go = () =>
      sendStream(
        { ...r, service: this.service(), url, allow, headers: this.headers(access) },
        http,
      );
    let res = await go();
    if (res.status === 401 && !r.body) {
      res.body.resume();
      await this.authenticate(res.headers.get('www-authenticate'), access);
      res = await go();
    }
    if (res.status === 401 || res.status === 403) {
      res.body.destroy();
      throw this.refused(res.status, r.push === true);
    }
    return res;
  }

  /** A URL built before a fallback to plain HTTP, on the base in use now. */
  private rebase(url: string): string {
    for (const scheme of ['https', 'http']) {
      const origin = `${scheme}://${apiHost(this.registry)}`;
      if (this.base !== origin && url.startsWith(`${origin}/`))
        return `${this.base}${url.slice(origin.length)}`;
    }
    return url;
  }

  private headers(access: string): Record<string, string> {
    const h = this.auth.get(access);
    return h ? { authorization: h } : {};
  }

  private creds(): Promise<Credentials | undefined> {
    this.credentials ??= findCredentials(this.registry, {
      ...(this.opts.username !== undefined ? { username: this.opts.username } : {}),
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
      ...(this.opts.env ? { env: this.opts.env } : {}),
    });
    return this.credentials;
  }

  private needLogin(): SignetError {
    return new SignetError(
      'unauthorized',
      'REGISTRY_UNAUTHORIZED',
      `${this.service()} requires authentication for ${this.name} (HTTP 401) and no credentials were found: run signet login ${this.registry} (or docker login), or give --registry-username and --registry-password`,
    );
  }

  private async authenticate(header: string | null, access: string): Promise<void> {
    if (this.opts.token !== undefined && this.opts.username === undefined) {
      this.auth.set(access, `Bearer ${this.opts.token}`);
      return;
    }
    const ch = parseChallenge(header);
    const creds = await this.creds();
    if (!ch || ch.scheme === 'basic') {
      if (!creds || creds.identityToken !== undefined) throw this.needLogin();
      this.auth.set(
        access,
        `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
      );
      return;
    }
    const realm = ch.params.realm;
    if (!realm)
      throw new SignetError(
        'internal',
        'BAD_RESPONSE',
        `${this.service()} sent a Bearer challenge without a realm`,
      );
    let u: URL;
    try {
      u = new URL(realm);
    } catch {
      throw new SignetError(
        'internal',
        'BAD_RESPONSE',
        `${this.service()} sent a token realm that is not a URL: ${realm}`,
      );
    }
    if (
      u.protocol !== 'https:' &&
      !(
        u.protocol === 'http:' &&
        (isLoopback(u.host) || this.opts.allowHttp || this.opts.allowInsecure)
      )
    )
      throw new SignetError(
        'unauthorized',
        'REGISTRY_TOKEN',
        `${this.service()} sends its token requests to ${realm}, which is not https`,
      );
    if (ch.params.service) u.searchParams.set('service', ch.params.service);
    u.searchParams.set('scope', `repository:${this.repository}:${access}`);
    const headers: Record<string, string> = {};
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (creds?.identityToken !== undefined) {
      // OAuth2 refresh token grant (distribution docs/spec/auth/oauth.md).
      method = 'POST';
      body = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        service: ch.params.service ?? '',
        scope: `repository:${this.repository}:${access}`,
        client_id: 'signet',
      }).toString();
    } else if (creds)
      headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const res = await this.send(
      {
        service: `the token service of ${this.registry}`,
        method,
        url: method === 'POST' ? `${u.origin}${u.pathname}` : u.toString(),
        headers,
        accept: 'application/json',
        ...(body !== undefined ? { body, contentType: 'application/x-www-form-urlencoded' } : {}),
        allow: [401, 403],
      },
      this.opts.http,
    );
    if (res.status === 401 || res.status === 403) {
      if (!creds) throw this.needLogin();
      throw new SignetError(
        'unauthorized',
        'REGISTRY_UNAUTHORIZED',
        `${this.service()} refused the credentials for ${this.name} (HTTP ${res.status} from its token service): check them (signet login ${this.registry}, or --registry-username/--registry-password)`,
      );
    }
    let token: unknown;
    try {
      const j = parseJsonText(res.body, 'token answer') as Record<string, unknown>;
      token = j.token ?? j.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '')
      throw new SignetError(
        'internal',
        'BAD_RESPONSE',
        `the token service of ${this.registry} answered without a token`,
      );
    this.auth.set(access, `Bearer ${token}`);
  }

  /** A manifest by tag or digest; undefined when the registry has none. Digests are checked. */
  async getManifest(reference: string, what: string): Promise<FetchedManifest | undefined> {
    const byDigest = /^sha(256|512):/.test(reference);
    const byDigestKey = (d: string) => `${this.base}/${this.repository}@${d}`;
    /** The manifest the content cache holds under digest `d`, as fetched. */
    const cached = (d: string): FetchedManifest | undefined => {
      const c = contentCache.get(byDigestKey(d));
      const alg = d.startsWith('sha512') ? 'sha512' : 'sha256';
      return c && { bytes: c.bytes, mediaType: c.mediaType, digest: digestOf(c.bytes, alg) };
    };
    const key = byDigestKey(reference);
    const hit = byDigest ? cached(reference) : undefined;
    if (hit) return hit;
    // A tag fetched before: asked for on condition that it names another manifest now.
    const last = byDigest ? undefined : tagDigests.get(key);
    const known = last !== undefined ? cached(last) : undefined;
    const res = await this.request({
      method: 'GET',
      path: `/v2/${this.repository}/manifests/${reference}`,
      accept: MANIFEST_TYPES.join(', '),
      allow: known ? [404, 304] : [404],
      maxBytes: MAX_MANIFEST_BYTES,
      ...(known ? { headers: { 'if-none-match': `"${last}"` } } : {}),
    });
    if (res.status === 304 && known) return known;
    if (res.status === 404) {
      if (!isRegistryAnswer(res)) await this.requireRegistry();
      if (!byDigest) rememberTag(key, undefined);
      return undefined;
    }
    const ct = contentType(res);
    if (ct === 'text/html')
      throw this.notARegistry(
        `GET ${this.base}/v2/${this.repository}/manifests/${reference} answered a web page (text/html), not a manifest`,
      );
    const digest = digestOf(res.body);
    if (reference.includes(':') && reference !== digest.text)
      throw new SignetError(
        'verification',
        'DIGEST_MISMATCH',
        `${what}: the registry served a manifest whose digest is ${digest.text}, not the ${reference} asked for`,
      );
    // The body's own mediaType wins over the header (parseManifest checks them).
    const m = parseManifest(res.body, ct, what);
    contentCache.set(byDigestKey(digest.text), { bytes: res.body, mediaType: m.mediaType });
    if (!byDigest) rememberTag(key, digest.text);
    return { bytes: res.body, mediaType: m.mediaType, digest };
  }

  /**
   * A 404 that is not in a registry's shape: is the server one at all? Every registry answers
   * `GET /v2/` with 200, or 401 to ask for credentials (distribution-spec, "end-1"); a web server
   * answers 404 or a page, and "no such image" would send the user looking for a tag. Asked once.
   */
  private requireRegistry(): Promise<void> {
    this.registryChecked ??= (async () => {
      const url = `${this.base}/v2/`;
      const res = await this.send({
        service: this.service(),
        method: 'GET',
        url,
        accept: 'application/json',
        allow: [401, 404],
        maxBytes: 64 * 1024,
      });
      if (res.status === 404)
        throw this.notARegistry(`GET ${url} answered HTTP 404, where a registry answers 200`);
      if (contentType(res) === 'text/html')
        throw this.notARegistry(`GET ${url} answered a web page (text/html)`);
    })();
    return this.registryChecked;
  }

  private notARegistry(why: string): SignetError {
    return new SignetError(
      'unavailable',
      'NOT_A_REGISTRY',
      `the server at ${this.registry} is not an OCI registry: ${why}`,
    );
  }

  /** PUT a manifest by tag or digest. Returns the OCI-Subject header (the registry keeps referrers). */
  async putManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ subject: string | null }> {
    const res = await this.request({
      method: 'PUT',
      path: `/v2/${this.repository}/manifests/${reference}`,
      body: bytes,
      contentType: mediaType,
      push: true,
    });
    return { subject: res.headers.get('oci-subject') };
  }

  async deleteManifest(digest: Digest): Promise<boolean> {
    const res = await this.request({
      method: 'DELETE',
      path: `/v2/${this.repository}/manifests/${digest.text}`,
      allow: [404, 405],
      push: true,
    });
    if (res.status === 405)
      throw new SignetError(
        'unsupported',
        'DELETE_DISABLED',
        `${this.service()} does not allow deleting manifests (HTTP 405)`,
      );
    return res.status !== 404;
  }

  async blobExists(digest: Digest): Promise<boolean> {
    const res = await this.request({
      method: 'HEAD',
      path: `/v2/${this.repository}/blobs/${digest.text}`,
      allow: [404],
      redirect: 'manual',
    });
    return res.status !== 404;
  }

  /** A blob, following the registry's redirect to its storage, checked against its digest. */
  async getBlob(digest: Digest, what: string, maxBytes = MAX_BLOB_BYTES): Promise<Uint8Array> {
    const key = `${this.base}/${this.repository}@${digest.text}`;
    const hit = contentCache.get(key);
    if (hit && hit.bytes.length <= maxBytes) return hit.bytes;
    let url = `${this.base}/v2/${this.repository}/blobs/${digest.text}`;
    let res = await this.request({
      method: 'GET',
      path: url,
      redirect: 'manual',
      allow: [404],
      maxBytes,
    });
    for (let i = 0; REDIRECTS.includes(res.status); i++) {
      const next = this.redirectTarget(res.headers.get('location'), url, i, what);
      url = next.toString();
      // Another host (blob storage, a CDN) gets no registry credentials.
      res =
        next.host === new URL(this.base).host
          ? await this.request({
              method: 'GET',
              path: url,
              redirect: 'manual',
              allow: [404],
              maxBytes,
            })
          : await this.send(
              {
                service: `the blob storage of ${this.registry}`,
                method: 'GET',
                url,
                redirect: 'manual',
                allow: [404, ...REDIRECTS],
                maxBytes,
              },
              this.opts.http,
            );
    }
    if (res.status === 404)
      throw new SignetError(
        'not-found',
        'BLOB_UNKNOWN',
        `${what}: ${this.name} has no blob ${digest.text}`,
      );
    if (!matchesDigest(res.body, digest))
      throw new SignetError(
        'verification',
        'DIGEST_MISMATCH',
        `${what}: the registry served a blob that does not match its digest ${digest.text}`,
      );
    contentCache.set(key, { bytes: res.body, mediaType: '' });
    return res.body;
  }

  /**
   * Where a blob redirect leads: at most MAX_REDIRECTS of them, https unless plain HTTP is
   * allowed for the target.
   */
  private redirectTarget(loc: string | null, url: string, i: number, what: string): URL {
    if (i >= MAX_REDIRECTS)
      throw invalid(what, `${this.service()} redirected the blob more than ${MAX_REDIRECTS} times`);
    if (!loc) throw invalid(what, `${this.service()} redirected the blob without a Location`);
    const next = new URL(loc, url);
    if (
      next.protocol !== 'https:' &&
      !(
        next.protocol === 'http:' &&
        (isLoopback(next.host) || this.opts.allowHttp || this.opts.allowInsecure)
      )
    )
      throw invalid(
        what,
        `${this.service()} redirected the blob to ${next.origin}, which is not https`,
      );
    return next;
  }

  /**
   * Copy blob `d` from `src` into this repository as a stream: memory stays bounded whatever
   * the layer's size. The bytes are counted and hashed on the way; the last chunk is held back
   * until they match the descriptor, so a wrong blob never completes an upload (the registry
   * checks the digest of the PUT too).
   */
  async copyBlobFrom(src: ImageSource, d: Descriptor, what: string): Promise<void> {
    if (await this.blobExists(d.digest)) return;
    const body = await src.openBlob(d.digest, what);
    const checked = process
      .getBuiltinModule('node:stream')
      .pipeline(body, checkedBlob(d, `${what}: blob ${d.digest.text} from ${src.name}`), () => {});
    const u = await this.startUpload();
    u.searchParams.set('digest', d.digest.text);
    const res = await this.requestStream({
      method: 'PUT',
      path: u.toString(),
      body: checked,
      contentLength: d.size,
      contentType: 'application/octet-stream',
      push: true,
    });
    res.body.resume();
  }

  /** A blob as an unread stream, following the registry's redirects to its storage. */
  async openBlob(digest: Digest, what: string): Promise<StreamResponse['body']> {
    let url = `${this.base}/v2/${this.repository}/blobs/${digest.text}`;
    const get = (path: string, auth: boolean) =>
      auth
        ? this.requestStream({ method: 'GET', path, redirect: 'manual', allow: [404] })
        : sendStream(
            {
              service: `the blob storage of ${this.registry}`,
              method: 'GET',
              url: path,
              redirect: 'manual',
              allow: [404, ...REDIRECTS],
            },
            this.opts.allowInsecure ? { ...this.opts.http, insecureTls: true } : this.opts.http,
          );
    let res = await get(url, true);
    for (let i = 0; REDIRECTS.includes(res.status); i++) {
      res.body.resume();
      const next = this.redirectTarget(res.headers.get('location'), url, i, what);
      url = next.toString();
      // Another host (blob storage, a CDN) gets no registry credentials.
      res = await get(url, next.host === new URL(this.base).host);
    }
    if (res.status === 404) {
      res.body.resume();
      throw new SignetError(
        'not-found',
        'BLOB_UNKNOWN',
        `${what}: ${this.name} has no blob ${digest.text}`,
      );
    }
    return res.body;
  }

  /** Start a blob upload; its Location, checked to stay on this registry. */
  private async startUpload(): Promise<URL> {
    const start = await this.request({
      method: 'POST',
      path: `/v2/${this.repository}/blobs/uploads/`,
      push: true,
    });
    const loc = start.headers.get('location');
    if (!loc)
      throw new SignetError(
        'internal',
        'BAD_RESPONSE',
        `${this.service()} started an upload without a Location`,
      );
    const u = new URL(loc, `${this.base}/`);
    if (u.host !== new URL(this.base).host)
      throw new SignetError(
        'internal',
        'BAD_RESPONSE',
        `${this.service()} sent the upload to another host (${u.host})`,
      );
    return u;
  }

  /** Upload a blob (monolithic POST-then-PUT); skipped when the registry has it already. */
  async putBlob(data: Uint8Array): Promise<Digest> {
    const digest = digestOf(data);
    if (await this.blobExists(digest)) return digest;
    const u = await this.startUpload();
    u.searchParams.set('digest', digest.text);
    await this.request({
      method: 'PUT',
      path: u.toString(),
      body: data,
      contentType: 'application/octet-stream',
      push: true,
    });
    return digest;
  }

  /**
   * The referrers of `digest` through the referrers API, following pagination (bounded);
   * undefined when the registry has no such API (404), so the caller uses the tag schema.
   */
  async referrers(digest: Digest, what: string): Promise<Descriptor[] | undefined> {
    if (knownReferrersApi(this.base) === false) return undefined;
    let path: string | undefined = `/v2/${this.repository}/referrers/${digest.text}`;
    const out: Descriptor[] = [];
    for (let page = 0; path && page < MAX_PAGES; page++) {
      const res = await this.request({
        method: 'GET',
        path,
        accept: OCI_INDEX,
        allow: [404],
        maxBytes: MAX_MANIFEST_BYTES,
      });
      if (res.status === 404) {
        if (page === 0) rememberReferrersApi(this.base, false);
        return page === 0 ? undefined : out;
      }
      const ct = res.headers.get('content-type')?.split(';')[0]?.trim();
      const m = parseManifest(res.body, ct, `${what} referrers`);
      if (m.kind !== 'index')
        throw invalid(
          `${what} referrers`,
          'the referrers API answered something that is not an image index',
        );
      if (page === 0) rememberReferrersApi(this.base, true);
      out.push(...m.manifests);
      path = nextLink(res.headers.get('link'), this.base);
    }
    return out;
  }

  /** Whether this registry answered the referrers API lately (ImageSource.answersReferrers). */
  answersReferrers(): boolean {
    return knownReferrersApi(this.base) === true;
  }

  async listTags(): Promise<string[]> {
    let path: string | undefined = `/v2/${this.repository}/tags/list`;
    const tags: string[] = [];
    for (let page = 0; path && page < MAX_PAGES; page++) {
      const res = await this.request({
        method: 'GET',
        path,
        accept: 'application/json',
        allow: [404],
      });
      if (res.status === 404) return tags;
      let j: unknown;
      try {
        j = parseJsonText(res.body, 'tag list');
      } catch {
        throw invalid(
          this.name,
          `${this.service()} answered the tag list with something that is not JSON`,
        );
      }
      const list = (j as { tags?: unknown }).tags;
      if (Array.isArray(list)) for (const t of list) if (typeof t === 'string') tags.push(t);
      path = nextLink(res.headers.get('link'), this.base);
    }
    return tags;
  }
}

/**
 * Passes a blob through, counting and hashing it; fails when it is longer or shorter than
 * `d.size` or its digest is not `d.digest`. The last chunk waits for that check.
 */
export function checkedBlob(d: Descriptor, what: string): NodeJS.ReadWriteStream {
  const hash = digestHasher(d.digest.algorithm);
  let held: Buffer | undefined;
  let total = 0;
  const wrong = (why: string) =>
    new SignetError('verification', 'DIGEST_MISMATCH', `${what}: ${why}`);
  return new (process.getBuiltinModule('node:stream').Transform)({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      if (total > d.size) return done(wrong(`more than the ${d.size} bytes its descriptor names`));
      hash.update(chunk);
      const prev = held;
      held = chunk;
      done(null, prev);
    },
    flush(done) {
      if (total !== d.size)
        return done(wrong(`${total} bytes, not the ${d.size} its descriptor names`));
      if (hash.digest().hex !== d.digest.hex)
        return done(wrong('its bytes do not match its digest'));
      done(null, held);
    },
  });
}

/** RFC 8288 `Link: </v2/...?n=..&last=..>; rel="next"` (distribution's pagination). */
function nextLink(header: string | null, base: string): string | undefined {
  if (!header) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
  if (!m) return undefined;
  const u = new URL(m[1]!, `${base}/`);
  if (u.origin !== new URL(base).origin) return undefined;
  return `${u.pathname}${u.search}`;
}
