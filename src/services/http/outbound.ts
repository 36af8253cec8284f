import type http from 'node:http';
import { describeSystemError, invalid, SignetError } from '../../core/errors.ts';
import { parseJsonText } from '../../core/json.ts';

/**
 * The one place Signet makes HTTP requests: the client's (to a Sigstore deployment, a
 * registry, an identity provider, a webhook) and the servers' own (the CA's OIDC discovery,
 * the log's witnesses). It lives here, in the lowest layer that does HTTP, so that both find
 * it. node:http(s) with a deadline, answers read only up to a size limit, and errors a person
 * can act on. `service` names the remote in every message ("Fulcio at http://..."). Not global
 * fetch: its first use loads undici with TLS and zlib, tens of milliseconds of every short
 * command (`signet sign-blob` makes three plain requests to a local stack). And node:http is
 * taken with process.getBuiltinModule, not `import`: the ESM facade of a builtin reads every
 * export, and node:http's lazy WebSocket/fetch getters then load undici anyway (~30 ms).
 */
export interface HttpOptions {
  /** Whole-request deadline in milliseconds. */
  timeoutMs?: number;
  /**
   * An absolute deadline (epoch ms) shared by every request of one operation (a policy
   * evaluation): each request gets what is left of it, retries included.
   */
  deadline?: number;
  /** Extra headers (e.g. User-Agent). */
  headers?: Record<string, string>;
  /**
   * How often to try again when the service says "not now" (HTTP 503 or 429: Rekor v2's
   * pushback, a busy CA). Default 2. Nothing was stored in such an answer, so a retry is safe.
   */
  retries?: number;
  /**
   * Called when a request has been written to the connection (each attempt): a caller can
   * start local work that would otherwise hold up the connect and the write.
   */
  onSent?: () => void;
  /**
   * Accept any TLS certificate: only for a registry the user named with
   * `--allow-insecure-registry` (cosign's flag turns off verification the same way).
   */
  insecureTls?: boolean;
  /** TLS settings of an HTTPS server that is not verified by the system's CAs alone. */
  tls?: TlsClientOptions;
}

/** cosign's --registry-cacert/-client-cert/-client-key/-server-name (PEM text, not paths). */
export interface TlsClientOptions {
  /** Trust these CA certificates, in place of the system's, for the server's certificate. */
  ca?: string;
  /** A client certificate and its private key, for a server that asks for one (mutual TLS). */
  cert?: string;
  key?: string;
  /** The name the server's certificate must carry (and the SNI), when it is not the URL's host. */
  servername?: string;
}

/** node:https options for `opts` (nothing for plain HTTP). */
function tlsOptions(opts: HttpOptions, url: URL): Record<string, unknown> {
  if (url.protocol !== 'https:') return {};
  return { ...opts.tls, ...(opts.insecureTls ? { rejectUnauthorized: false } : {}) };
}

/** Longest wait between attempts, whatever Retry-After says. */
const MAX_RETRY_WAIT_MS = 5_000;

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Largest response body the client reads (a bundle part, never an artifact). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Response headers, read by name (case-insensitive). */
export interface HttpHeaders {
  get(name: string): string | null;
}

export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  body: Uint8Array;
}

export interface HttpRequest {
  service: string;
  method: 'GET' | 'POST' | 'HEAD' | 'PUT' | 'DELETE';
  url: string;
  /** Headers for this request only (e.g. a registry's Authorization). */
  headers?: Record<string, string>;
  /** Largest body to read (default 16 MiB); larger answers are refused, not buffered. */
  maxBytes?: number;
  /**
   * 3xx answers. 'follow' (the default): followed as Go's http.Client follows them for cosign
   * and sigstore-go (see followRedirect). 'same-origin': followed only within the URL's origin
   * (a server's own requests, which a redirect must not aim elsewhere). 'manual': handed to the
   * caller (a registry redirecting a blob to storage). 'error': refused.
   */
  redirect?: 'follow' | 'same-origin' | 'error' | 'manual';
  body?: Uint8Array | string;
  contentType?: string;
  accept?: string;
  /** Statuses besides 2xx that the caller handles itself (e.g. 409 for a duplicate entry). */
  allow?: number[];
}

/** How many timeouts one request may take with its retries and redirects. */
const REQUEST_SPAN = 2;

/**
 * Send a request; a network failure, timeout or unexpected status becomes a SignetError.
 * Redirects are followed (unless the request says otherwise), each hop with its retries.
 */
export async function send(req: HttpRequest, opts: HttpOptions = {}): Promise<HttpResponse> {
  let [current, currentOpts] = [req, opts];
  // Retries and redirects start no new attempt past REQUEST_SPAN timeouts from the first: each
  // attempt has the whole timeout, and a service answering 503 then a redirect, ten times over,
  // stretched one request with --timeout 2 to 170 s.
  const span = REQUEST_SPAN * (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const until = Date.now() + span;
  for (let hops = 0; ; hops++) {
    const res = await sendRetrying(current, currentOpts, until);
    if (!isFollowed(current, res.status)) return finish(current, res);
    [current, currentOpts] = followRedirect(current, currentOpts, res, hops);
    if (Date.now() >= until)
      throw new SignetError(
        'unavailable',
        'SERVICE_UNREACHABLE',
        `cannot reach ${req.service} at ${req.url}: its retries and redirects took more than ${span / 1000} s (${REQUEST_SPAN} times the timeout of a request)`,
      );
  }
}

async function sendRetrying(
  req: HttpRequest,
  opts: HttpOptions,
  until: number,
): Promise<HttpResponse> {
  const retries = opts.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    const res = await sendOnce(req, opts);
    if (
      (res.status !== 503 && res.status !== 429) ||
      attempt >= retries ||
      req.allow?.includes(res.status)
    )
      return res;
    const wait = retryWait(res.headers.get('retry-after'), attempt);
    const end = Math.min(until, opts.deadline ?? Infinity);
    if (Date.now() + wait >= end) return res;
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** Redirects followed for one request: Go's http.Client stops after 10 too. */
export const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];
/** Credentials one origin gave and another must not get (Go drops these across hosts too). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

function isFollowed(req: HttpRequest, status: number): boolean {
  const mode = req.redirect ?? 'follow';
  return (
    (mode === 'follow' || mode === 'same-origin') &&
    REDIRECT_STATUSES.includes(status) &&
    !req.allow?.includes(status)
  );
}

/**
 * The request a redirect asks for (RFC 9110 §15.4), as Go's http.Client makes it for cosign,
 * sigstore-go and rekor-monitor: a GET or HEAD goes where any redirect points, a 307 or 308
 * repeats a POST with its body there. Where Go would turn a POST into a GET (301, 302, 303),
 * which no Sigstore write answers, the error names the new URL instead. Not followed: a
 * redirect from https to plain http (what was sent over TLS would then go in the clear, an
 * identity token among it), one without a usable Location, more than MAX_REDIRECTS in a row.
 * Credentials in the headers go only to the origin they were given for.
 */
function followRedirect(
  req: HttpRequest,
  opts: HttpOptions,
  res: HttpResponse,
  hops: number,
): [HttpRequest, HttpOptions] {
  const where = `${req.service} at ${req.url}`;
  const refused = (why: string) =>
    new SignetError('unavailable', 'REDIRECT_REFUSED', `${where} ${why}`, {
      details: { status: res.status },
    });
  if (hops >= MAX_REDIRECTS) throw refused(`redirected more than ${MAX_REDIRECTS} times`);
  const location = res.headers.get('location');
  if (!location) throw refused(`answered HTTP ${res.status} without a Location to go to`);
  let next: URL;
  try {
    next = new URL(location, req.url);
  } catch {
    throw refused(`redirected to "${location}", which is not a URL`);
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:')
    throw refused(`redirected to ${next.href}, which is not an http(s) URL`);
  const from = new URL(req.url);
  if (from.protocol === 'https:' && next.protocol === 'http:')
    throw refused(`redirected from https to plain http (${next.href}): refused`);
  const keepsMethod = req.method === 'GET' || req.method === 'HEAD' || res.status >= 307;
  if (!keepsMethod)
    throw refused(
      `answered HTTP ${res.status}, a redirect to ${next.href} that would turn the ${req.method} into a GET: give that URL instead`,
    );
  if (next.origin === from.origin) return [{ ...req, url: next.href }, opts];
  if (req.redirect === 'same-origin')
    throw refused(`redirected to another origin (${next.origin}): refused`);
  const strip = (h: Record<string, string> | undefined) =>
    h &&
    Object.fromEntries(
      Object.entries(h).filter(([k]) => !CREDENTIAL_HEADERS.includes(k.toLowerCase())),
    );
  return [
    { ...req, url: next.href, ...(req.headers ? { headers: strip(req.headers)! } : {}) },
    { ...opts, ...(opts.headers ? { headers: strip(opts.headers)! } : {}) },
  ];
}

/** Retry-After in seconds when the server gives one (capped), else 250 ms, 500 ms, ... */
function retryWait(header: string | null, attempt: number): number {
  const seconds = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
  return Math.min(seconds !== undefined ? seconds * 1000 : 250 * 2 ** attempt, MAX_RETRY_WAIT_MS);
}

function finish(req: HttpRequest, res: HttpResponse): HttpResponse {
  if ((res.status >= 200 && res.status < 300) || req.allow?.includes(res.status)) return res;
  throw statusError(req, res.status, res.body);
}

async function sendOnce(req: HttpRequest, opts: HttpOptions): Promise<HttpResponse> {
  let timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  /** The operation's deadline, not the request's own timeout, bounds this request. */
  let byDeadline = false;
  if (opts.deadline !== undefined) {
    const left = opts.deadline - Date.now();
    if (left <= 0)
      throw new SignetError(
        'unavailable',
        'DEADLINE_EXCEEDED',
        `${req.service} at ${req.url}: not asked, the operation's time is up`,
      );
    byDeadline = left <= timeoutMs;
    timeoutMs = Math.min(timeoutMs, left);
  }
  const headers: Record<string, string> = { ...opts.headers, ...req.headers };
  if (req.contentType) headers['content-type'] = req.contentType;
  if (req.accept) headers.accept = req.accept;
  const body =
    req.body === undefined
      ? undefined
      : typeof req.body === 'string'
        ? Buffer.from(req.body)
        : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
  if (body) headers['content-length'] = String(body.length);
  const max = req.maxBytes ?? MAX_RESPONSE_BYTES;
  const url = new URL(req.url);
  const client =
    url.protocol === 'https:'
      ? process.getBuiltinModule('node:https')
      : process.getBuiltinModule('node:http');
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(e instanceof SignetError ? e : unreachable(req, e, timeoutMs, byDeadline));
    };
    // A whole-request deadline: connecting, sending, and reading the answer to its end.
    const timer = setTimeout(
      () => fail(Object.assign(new Error('timeout'), { name: 'TimeoutError' })),
      timeoutMs,
    );
    const tls = tlsOptions(opts, url);
    const request = client.request(url, { method: req.method, headers, ...tls }, (res) => {
      const status = res.statusCode ?? 0;
      // A 3xx is followed by send, or handed to the caller; refused only when asked to be.
      if (status >= 300 && status < 400 && req.redirect === 'error' && !req.allow?.includes(status))
        return fail(new Error('unexpected redirect'));
      // A HEAD answer's Content-Length is the size of what a GET would send.
      const len = req.method === 'HEAD' ? 0 : Number(res.headers['content-length'] ?? '0');
      if (len > max)
        return fail(new Error(`response of ${len} bytes is too large (limit ${max} bytes)`));
      // The body is counted as it arrives: a server that sends without end (or without a
      // Content-Length) is cut off at the limit instead of being buffered whole first.
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > max) fail(new Error(`response is too large (more than the ${max} byte limit)`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new Error('the connection closed before the answer ended'));
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          status,
          headers: headersOf(res.headers),
          body: new Uint8Array(Buffer.concat(chunks)),
        });
      });
    });
    request.on('error', fail);
    if (opts.onSent) request.once('finish', opts.onSent);
    request.end(body);
  });
}

/** A request whose body is a stream of known length (a blob copied between registries). */
export interface StreamRequest extends Omit<HttpRequest, 'body' | 'maxBytes'> {
  body?: NodeJS.ReadableStream;
  contentLength?: number;
}

export interface StreamResponse {
  status: number;
  headers: HttpHeaders;
  /** The answer's body, unread: the caller consumes it (or destroys it). */
  body: http.IncomingMessage;
}

/** Error answers are read this far, for their message. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * `send` for bodies too large to hold (image layers of GiBs): the request body is piped from a
 * stream and the answer's body is handed over unread, so memory stays bounded by the streams'
 * buffers. `timeoutMs` is an idle limit here (no bytes either way for that long), not a
 * whole-request deadline, which a large layer on a slow link would exceed. No retries: a stream
 * cannot be sent twice.
 */
export function sendStream(req: StreamRequest, opts: HttpOptions = {}): Promise<StreamResponse> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers: Record<string, string> = { ...opts.headers, ...req.headers };
  if (req.contentType) headers['content-type'] = req.contentType;
  if (req.accept) headers.accept = req.accept;
  if (req.contentLength !== undefined) headers['content-length'] = String(req.contentLength);
  const url = new URL(req.url);
  const client =
    url.protocol === 'https:'
      ? process.getBuiltinModule('node:https')
      : process.getBuiltinModule('node:http');
  const tls = tlsOptions(opts, url);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      request.destroy();
      reject(e instanceof SignetError ? e : unreachable(req, e, timeoutMs));
    };
    const request = client.request(url, { method: req.method, headers, ...tls }, (res) => {
      const status = res.statusCode ?? 0;
      const redirect = status >= 300 && status < 400;
      if (redirect && req.redirect !== 'manual') return fail(new Error('unexpected redirect'));
      if ((status >= 200 && status < 300) || redirect || req.allow?.includes(status)) {
        if (settled) return res.destroy();
        settled = true;
        res.setTimeout(timeoutMs, () =>
          res.destroy(new Error(`no data from ${req.service} for ${timeoutMs / 1000} s`)),
        );
        return resolve({ status, headers: headersOf(res.headers), body: res });
      }
      // An error answer: its message, read up to a limit.
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (c: Buffer) => {
        total += c.length;
        if (total <= MAX_ERROR_BODY_BYTES) chunks.push(c);
      });
      res.on('error', fail);
      res.on('end', () => fail(statusError(req, status, Buffer.concat(chunks))));
    });
    request.setTimeout(timeoutMs, () =>
      fail(Object.assign(new Error('timeout'), { name: 'TimeoutError' })),
    );
    request.on('error', fail);
    if (!req.body) request.end();
    // The body's own failure (e.g. its digest did not match) is the request's.
    else process.getBuiltinModule('node:stream/promises').pipeline(req.body, request).catch(fail);
  });
}

function headersOf(h: http.IncomingHttpHeaders): HttpHeaders {
  return {
    get(name: string): string | null {
      const v = h[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/** `send` + JSON decoding of the response body. */
export async function sendJson(
  req: Omit<HttpRequest, 'body' | 'contentType'> & { json?: unknown },
  opts: HttpOptions = {},
): Promise<{ status: number; headers: HttpHeaders; json: unknown }> {
  const res = await send(
    {
      ...req,
      accept: req.accept ?? 'application/json',
      body: req.json === undefined ? undefined : JSON.stringify(req.json),
      contentType: req.json === undefined ? undefined : 'application/json',
    },
    opts,
  );
  return { status: res.status, headers: res.headers, json: parseJson(req, res.body) };
}

export function parseJson(req: Pick<HttpRequest, 'service' | 'url'>, body: Uint8Array): unknown {
  try {
    return parseJsonText(body, 'response', req.url);
  } catch (e) {
    throw badResponse(req, 'the response is not JSON', e);
  }
}

/** A response that arrived but does not have the shape the public API promises. */
export function badResponse(
  req: Pick<HttpRequest, 'service' | 'url'>,
  what: string,
  cause?: unknown,
): SignetError {
  return new SignetError('internal', 'BAD_RESPONSE', `${req.service} at ${req.url}: ${what}`, {
    cause,
  });
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

function unreachable(
  req: Pick<HttpRequest, 'service' | 'url'>,
  e: unknown,
  timeoutMs: number,
  byDeadline = false,
): SignetError {
  const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
  const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError';
  const why = timedOut
    ? `no answer within ${timeoutMs / 1000} s`
    : (err.cause?.code ?? err.code) !== undefined
      ? // The URL is in the message already: the reason names only the server.
        describeSystemError(err.cause?.code !== undefined ? err.cause : err, originOf(req.url))
      : (err.cause?.message ?? err.message);
  // Out of the operation's time: said by the code, as the caller's own deadline timer would.
  // Timers start from the event loop's cached clock, so this one may fire a few ms before
  // Date.now() reaches the deadline, and the caller cannot tell by the clock.
  return new SignetError(
    'unavailable',
    timedOut && byDeadline ? 'DEADLINE_EXCEEDED' : 'SERVICE_UNREACHABLE',
    `cannot reach ${req.service} at ${req.url}: ${why}`,
    { cause: e },
  );
}

/** Surface the server's own message: `{message}` (Signet, Rekor, Fulcio/grpc-gateway) or text. */
function statusError(
  req: Pick<HttpRequest, 'service' | 'url'>,
  status: number,
  body: Uint8Array,
): SignetError {
  let detail = new TextDecoder().decode(body).trim();
  try {
    const j = parseJsonText(detail, 'error answer') as Record<string, unknown>;
    const m = j.message ?? j.error ?? j.detail;
    if (typeof m === 'string' && m) detail = m;
  } catch {
    // not JSON: keep the text
  }
  if (detail.length > 500) detail = `${detail.slice(0, 500)}...`;
  const kind =
    status === 400 || status === 422
      ? 'invalid-input'
      : status === 401 || status === 403
        ? 'unauthorized'
        : status === 404
          ? 'not-found'
          : status === 409
            ? 'conflict'
            : status === 413
              ? 'too-large'
              : status === 503 || status === 502 || status === 504
                ? 'unavailable'
                : 'internal';
  return new SignetError(
    kind,
    'SERVICE_ERROR',
    `${req.service} at ${req.url} answered HTTP ${status}${detail ? `: ${detail}` : ''}`,
    { details: { status } },
  );
}

/** A service URL from a flag or option: it must parse and be http(s). Errors name `field`. */
export function httpUrl(value: string, field: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw invalid(field, `"${value}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw invalid(field, `"${value}" is not an http(s) URL`);
  return u;
}

/** A base URL without trailing slashes, so that `${base}/path` has exactly one. */
export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
