import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { type HttpResponse, send, trimSlash } from '../../services/http/outbound.ts';
import { jwtPayloadClaims } from './check.ts';
import { describeSystemError, SignetError } from '../../core/errors.ts';
import { tokenError } from './errors.ts';
import { parseJsonText } from '../../core/json.ts';
const { spawn } = process.getBuiltinModule('node:child_process');
const { createHash, randomBytes } = process.getBuiltinModule('node:crypto');

/**
 * Getting a token from a person: in a browser (authorization code + PKCE, RFC 7636, with a
 * loopback redirect, RFC 8252 7.3) or, where there is no browser, the device authorization
 * flow (RFC 8628). Both start from the issuer's discovery document.
 */
export interface InteractiveOptions {
  issuer: string;
  clientId: string;
  /** Where instructions for the person go (default: stderr). */
  say: (message: string) => void;
  /** Opens a URL in a browser (default: the platform's opener). */
  openBrowser?: (url: string) => void | Promise<void>;
  timeoutMs: number;
  /** cosign's --oidc-client-secret-file: sent with the token requests when the client has one. */
  clientSecret?: string | undefined;
  /**
   * cosign's --oidc-redirect-url: the loopback redirect to listen on (host, port, path; port 0
   * picks a free one). Default http://127.0.0.1:0/auth/callback.
   */
  redirectUrl?: string | undefined;
}

interface Discovery {
  authorization_endpoint?: string;
  token_endpoint?: string;
  device_authorization_endpoint?: string;
}

/** The identity provider, as the client's HTTP layer names it in errors. */
const PROVIDER = 'the identity provider';

/**
 * Every error status: the provider's answers to token requests are read whatever their status
 * (OAuth 2.0 errors, RFC 6749 §5.2, and the device flow's `authorization_pending`, RFC 8628
 * §3.5, come as 4xx JSON).
 */
const ANY_STATUS = Array.from({ length: 200 }, (_, i) => 400 + i);

/** A network failure or a deadline, as a token error (the HTTP layer's message says which). */
function asTokenError(e: unknown): SignetError {
  if (e instanceof SignetError && e.kind === 'unavailable')
    return tokenError('OIDC_UNREACHABLE', e.message, e);
  return e instanceof SignetError ? e : tokenError('OIDC_UNREACHABLE', String(e), e);
}

async function postForm(
  url: string,
  form: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: HttpResponse;
  try {
    res = await send(
      {
        service: PROVIDER,
        method: 'POST',
        url,
        body: new URLSearchParams(form).toString(),
        contentType: 'application/x-www-form-urlencoded',
        accept: 'application/json',
        allow: ANY_STATUS,
      },
      { timeoutMs },
    );
  } catch (e) {
    throw asTokenError(e);
  }
  let body: Record<string, unknown> = {};
  try {
    const v: unknown = parseJsonText(res.body, 'token response', url);
    if (typeof v === 'object' && v !== null) body = v as Record<string, unknown>;
  } catch {
    throw tokenError(
      'OIDC_ERROR',
      `${url} answered HTTP ${res.status} with something that is not JSON`,
    );
  }
  return { status: res.status, body };
}

/** Redirects the discovery request follows, as a browser would (at most MAX_REDIRECTS). */
const REDIRECTS = [301, 302, 303, 307, 308];
const MAX_REDIRECTS = 5;

export async function discover(issuer: string, timeoutMs: number): Promise<Discovery> {
  const first = `${trimSlash(issuer)}/.well-known/openid-configuration`;
  const deadline = Date.now() + timeoutMs;
  let url = first;
  for (let hops = 0; ; hops++) {
    let res: HttpResponse;
    try {
      res = await send(
        {
          service: PROVIDER,
          method: 'GET',
          url,
          accept: 'application/json',
          redirect: 'manual',
          allow: [...REDIRECTS, ...ANY_STATUS],
        },
        { deadline },
      );
    } catch (e) {
      throw asTokenError(e);
    }
    if (REDIRECTS.includes(res.status)) {
      const next = redirectTarget(res.headers.get('location'), url);
      if (next === undefined || hops >= MAX_REDIRECTS)
        throw tokenError(
          'OIDC_UNREACHABLE',
          `the identity provider's discovery document at ${first} ${next === undefined ? 'redirects to no http(s) URL' : `redirects more than ${MAX_REDIRECTS} times`}`,
        );
      url = next;
      continue;
    }
    if (res.status !== 200)
      throw tokenError(
        'OIDC_UNREACHABLE',
        `the identity provider's discovery document at ${url} answered HTTP ${res.status}`,
      );
    try {
      return parseJsonText(res.body, 'discovery document', url) as Discovery;
    } catch {
      throw tokenError('OIDC_ERROR', `the discovery document at ${url} is not JSON`);
    }
  }
}

/** Where a redirect's Location (relative to `from`) points, if it is an http(s) URL. */
function redirectTarget(location: string | null, from: string): string | undefined {
  if (location === null) return undefined;
  try {
    const u = new URL(location, from);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

function idTokenOf(r: { status: number; body: Record<string, unknown> }, what: string): string {
  if (r.status === 200 && typeof r.body['id_token'] === 'string') return r.body['id_token'];
  const desc = r.body['error_description'] ?? r.body['message'] ?? '';
  throw tokenError(
    'OIDC_ERROR',
    `the identity provider refused the ${what}: ${String(r.body['error'] ?? `HTTP ${r.status}`)}${desc ? ` (${String(desc)})` : ''}`,
  );
}

/** Opens the platform's browser; never throws (the URL is printed too). */
export function systemBrowser(url: string): void {
  const cmd =
    process.platform === 'darwin'
      ? 'open'
      : process.platform === 'win32'
        ? 'explorer.exe'
        : 'xdg-open';
  launch(cmd, [url], () => {});
}

function launch(cmd: string, args: string[], failed: (why: string) => void): void {
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', (e) => failed(describeSystemError(e, cmd)));
    child.unref();
  } catch (e) {
    // The URL was printed; the person can open it themselves.
    failed(describeSystemError(e, cmd));
  }
}

/**
 * The opener named by the `BROWSER` environment variable, as many command-line tools read it
 * (Python's webbrowser, git web--browse): a list of commands separated by the path delimiter,
 * of which the first is used; its words are split on spaces (no shell is involved), `%s` stands
 * for the URL, and without `%s` the URL is added as the last argument.
 */
export function browserCommand(
  value: string,
  say: (message: string) => void,
): ((url: string) => void) | undefined {
  const first = value
    .split(path.delimiter)
    .map((c) => c.trim())
    .find((c) => c !== '');
  if (first === undefined) return undefined;
  const words = first.split(/\s+/);
  return (url: string) => {
    const args = words.slice(1);
    const withUrl = args.some((a) => a.includes('%s'))
      ? args.map((a) => a.replaceAll('%s', url))
      : [...args, url];
    launch(words[0]!, withUrl, (why) =>
      say(
        `The browser command from BROWSER (${words[0]}) did not start: ${why}. Open the URL yourself.`,
      ),
    );
  };
}

/** Whether a browser can plausibly be opened here. */
export function canOpenBrowser(env: NodeJS.ProcessEnv): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY || env.BROWSER);
}

/** The page the browser lands on at the loopback redirect: plain, escaped, no script. */
function callbackPage(title: string, message: string): string {
  const e = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(title)} · signet</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#111827}
h1{font-size:1.4rem}</style></head>
<body><h1>${e(title)}</h1><p>${e(message)}</p></body></html>
`;
}

/** The loopback redirect to listen on; only http on this machine (RFC 8252 §7.3). */
function loopbackRedirect(url: string | undefined): URL & { listenHost: string } {
  let u: URL;
  try {
    u = new URL(url ?? 'http://127.0.0.1:0/auth/callback');
  } catch {
    throw tokenError('OIDC_ERROR', `--oidc-redirect-url: "${url}" is not a URL`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (u.protocol !== 'http:' || !['localhost', '127.0.0.1', '::1'].includes(host))
    throw tokenError(
      'OIDC_ERROR',
      `--oidc-redirect-url: "${url}" must be an http URL on this machine (localhost, 127.0.0.1 or [::1])`,
    );
  return Object.assign(u, { listenHost: host === 'localhost' ? '127.0.0.1' : host });
}

export async function browserFlow(o: InteractiveOptions): Promise<string> {
  const d = await discover(o.issuer, o.timeoutMs);
  if (!d.authorization_endpoint || !d.token_endpoint)
    throw tokenError('OIDC_ERROR', `${o.issuer} does not offer the authorization code flow`);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');

  let resolveCode!: (code: string) => void;
  let rejectCode!: (e: Error) => void;
  const codePromise = new Promise<string>((res, rej) => {
    resolveCode = res;
    rejectCode = rej;
  });
  // The browser may come back (or the timer fire) while the opener is still running: the
  // failure is awaited below, so it must not count as unhandled meanwhile.
  codePromise.catch(() => {});
  const redirect = loopbackRedirect(o.redirectUrl);
  // Not an ES import of node:http, which loads undici (services/http/outbound.ts).
  const server = process.getBuiltinModule('node:http').createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname !== redirect.pathname) {
      res.writeHead(404).end();
      return;
    }
    const done = (status: number, msg: string) =>
      res
        .writeHead(status, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
        })
        .end(callbackPage(status === 200 ? 'Signed in' : 'Sign-in failed', msg));
    if (u.searchParams.get('state') !== state) {
      done(400, 'This sign-in does not belong to this signet run (state mismatch).');
      rejectCode(
        tokenError(
          'OIDC_ERROR',
          'the browser came back with the wrong state: ignoring a login that signet did not start',
        ),
      );
      return;
    }
    const err = u.searchParams.get('error');
    const code = u.searchParams.get('code');
    const desc = u.searchParams.get('error_description') ?? '';
    if (err === 'access_denied') {
      done(400, 'You cancelled the sign-in. Nothing was signed; you can close this window.');
      rejectCode(
        tokenError(
          'OIDC_DENIED',
          `the sign-in was cancelled in the browser${desc ? ` (${desc})` : ''}`,
        ),
      );
      return;
    }
    if (err || !code) {
      done(400, `Sign-in failed: ${err ?? 'no code'}. You can close this window.`);
      rejectCode(
        tokenError(
          'OIDC_ERROR',
          `sign-in failed in the browser: ${err ?? 'no authorization code'} ${desc}`.trim(),
        ),
      );
      return;
    }
    done(200, 'You can close this window and return to the terminal.');
    resolveCode(code);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(redirect.port || 0), redirect.listenHost, () => resolve());
  }).catch((e: unknown) => {
    throw tokenError(
      'OIDC_ERROR',
      `cannot listen for the sign-in redirect: ${describeSystemError(e, `${redirect.hostname}:${redirect.port || 0}`)}`,
      e,
    );
  });
  const redirectUri = `http://${redirect.host.replace(/:\d*$/, '')}:${(server.address() as AddressInfo).port}${redirect.pathname}`;
  const auth = new URL(d.authorization_endpoint);
  auth.searchParams.set('response_type', 'code');
  auth.searchParams.set('client_id', o.clientId);
  auth.searchParams.set('redirect_uri', redirectUri);
  auth.searchParams.set('scope', 'openid email');
  auth.searchParams.set('code_challenge', challenge);
  auth.searchParams.set('code_challenge_method', 'S256');
  auth.searchParams.set('state', state);
  auth.searchParams.set('nonce', nonce);
  const timer = setTimeout(
    () =>
      rejectCode(
        tokenError(
          'OIDC_TIMEOUT',
          `no sign-in within ${Math.round(o.timeoutMs / 1000)} s; run the command again`,
        ),
      ),
    o.timeoutMs,
  );
  try {
    o.say(`Opening your browser to sign in. If it does not open, visit:\n  ${auth.href}`);
    await (o.openBrowser ?? systemBrowser)(auth.href);
    const code = await codePromise;
    const token = idTokenOf(
      await postForm(
        d.token_endpoint,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          client_id: o.clientId,
          code_verifier: verifier,
          ...(o.clientSecret !== undefined ? { client_secret: o.clientSecret } : {}),
        },
        o.timeoutMs,
      ),
      'authorization code',
    );
    // OIDC Core §3.1.3.7 step 11: a nonce was sent, so the ID token must carry exactly it (as
    // cosign's interactive flow requires); a token without one could be replayed from elsewhere.
    const got = jwtPayloadClaims(token.split('.')[1] ?? '')?.nonce;
    if (got !== nonce)
      throw tokenError(
        'OIDC_ERROR',
        got === undefined
          ? 'the ID token does not carry the nonce of this sign-in: refusing it'
          : "the ID token carries another login's nonce: refusing it",
      );
    return token;
  } finally {
    clearTimeout(timer);
    server.close();
    server.closeAllConnections();
  }
}

export async function deviceFlow(o: InteractiveOptions): Promise<string> {
  const d = await discover(o.issuer, o.timeoutMs);
  if (!d.device_authorization_endpoint || !d.token_endpoint)
    throw tokenError(
      'OIDC_ERROR',
      `${o.issuer} does not offer the device flow (no device_authorization_endpoint)`,
    );
  // A confidential client authenticates here too (RFC 8628 3.1, RFC 6749 2.3.1).
  const start = await postForm(
    d.device_authorization_endpoint,
    {
      client_id: o.clientId,
      scope: 'openid email',
      ...(o.clientSecret !== undefined ? { client_secret: o.clientSecret } : {}),
    },
    o.timeoutMs,
  );
  const b = start.body;
  if (
    start.status !== 200 ||
    typeof b['device_code'] !== 'string' ||
    typeof b['user_code'] !== 'string' ||
    typeof b['verification_uri'] !== 'string'
  )
    throw tokenError(
      'OIDC_ERROR',
      `the device authorization request failed: ${String(b['error_description'] ?? b['error'] ?? `HTTP ${start.status}`)}`,
    );
  const complete =
    typeof b['verification_uri_complete'] === 'string' ? b['verification_uri_complete'] : undefined;
  o.say(
    `To sign in, open ${b['verification_uri']} and enter the code ${b['user_code']}` +
      (complete ? `\n  (or open ${complete})` : ''),
  );
  let interval = typeof b['interval'] === 'number' && b['interval'] >= 0 ? b['interval'] : 5;
  const expiresIn = typeof b['expires_in'] === 'number' ? b['expires_in'] * 1000 : o.timeoutMs;
  const deadline = Date.now() + Math.min(expiresIn, o.timeoutMs);
  for (;;) {
    await new Promise((r) => setTimeout(r, Math.max(interval * 1000, 100)));
    if (Date.now() > deadline)
      throw tokenError(
        'OIDC_TIMEOUT',
        'the device code expired before it was approved; run the command again',
      );
    const r = await postForm(
      d.token_endpoint,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: b['device_code'],
        client_id: o.clientId,
        ...(o.clientSecret !== undefined ? { client_secret: o.clientSecret } : {}),
      },
      o.timeoutMs,
    );
    const err = r.body['error'];
    if (r.status === 200) return idTokenOf(r, 'device code');
    if (err === 'authorization_pending') continue;
    if (err === 'slow_down') {
      interval += 5; // RFC 8628 3.5
      continue;
    }
    if (err === 'access_denied') throw tokenError('OIDC_DENIED', 'the sign-in was denied');
    if (err === 'expired_token')
      throw tokenError(
        'OIDC_TIMEOUT',
        'the device code expired before it was approved; run the command again',
      );
    return idTokenOf(r, 'device code');
  }
}
