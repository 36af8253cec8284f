import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalid, quoteInput } from '../../core/errors.ts';
import { capText } from '../http/errors.ts';
import type { Flavor } from './flavors.ts';
import { devicePage, loginPage, messagePage } from './pages.ts';
import { type Issuer, OAuthError, type OidcProvider } from './provider.ts';

/**
 * HTTP of the built-in identity provider, mounted at `/oidc`. Per issuer (flavor):
 *   GET  <issuer>/.well-known/openid-configuration      OIDC Discovery 1.0
 *   GET  <issuer>/auth, POST <issuer>/auth              authorization code + PKCE login page
 *   POST <issuer>/token                                  RFC 6749 token endpoint (form or JSON)
 *   POST <issuer>/device/code, GET|POST <issuer>/device  RFC 8628 device flow
 * and GET /oidc/jwks for every issuer (one key ring).
 */
const GRANT_DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const CLUSTER = /^[-_a-zA-Z0-9]{1,63}$/;

type Params = Record<string, unknown>;

function params(req: FastifyRequest): Params {
  const q = (req.query ?? {}) as Params;
  const b = req.body && typeof req.body === 'object' ? (req.body as Params) : {};
  return { ...q, ...b };
}

/**
 * The token and device-authorization endpoints take their parameters form-encoded (RFC 6749
 * §4.1.3, RFC 8628 §3.1; a JSON object is read too): a body of another type (text/plain)
 * would be read as no parameters and refused as an unknown client, which names the wrong thing.
 */
function requireFormBody(req: FastifyRequest): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const length = Number(req.headers['content-length'] ?? 0);
  if (type === 'application/x-www-form-urlencoded' || type === 'application/json') return;
  if (type === '' && !(length > 0)) return;
  throw new OAuthError(
    'invalid_request',
    `the request body must be application/x-www-form-urlencoded, not ${type === '' ? 'a body without a Content-Type' : quoteInput(type)}`,
  );
}

/** The user code as typed (RFC 8628 3.3), cut to a length no real code has. */
function userCodeOf(p: Params): string {
  return typeof p['user_code'] === 'string' ? p['user_code'].slice(0, 32) : '';
}

function sendOAuth(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof OAuthError)
    return reply
      .code(e.status)
      .header('cache-control', 'no-store')
      .send({
        // RFC 6749 5.2 fields, plus the project's error shape (code, message, error).
        code: e.status,
        error: e.error,
        error_description: capText(e.message),
        message: capText(e.message),
      });
  throw e;
}

function sendHtml(reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:",
    )
    .header('x-frame-options', 'DENY')
    .type('text/html; charset=utf-8')
    .send(html);
}

/**
 * One part of HTTP Basic credentials: form-urlencoded before base64 (RFC 6749 2.3.1), so a
 * malformed percent-escape is the client's mistake, not a server error.
 */
function basicPart(text: string, what: 'client_id' | 'client_secret'): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new OAuthError(
      'invalid_request',
      `Authorization: the ${what} of the Basic credentials has a malformed percent-escape`,
    );
  }
}

/** HTTP Basic client authentication (RFC 6749 2.3.1) or form fields. */
function clientCredentials(
  req: FastifyRequest,
  p: Params,
): { id: unknown; secret: string | undefined } {
  const h = req.headers.authorization;
  if (typeof h === 'string' && /^basic /i.test(h)) {
    const dec = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i > 0)
      return {
        id: basicPart(dec.slice(0, i), 'client_id'),
        secret: basicPart(dec.slice(i + 1), 'client_secret'),
      };
  }
  return {
    id: p['client_id'],
    secret: typeof p['client_secret'] === 'string' ? p['client_secret'] : undefined,
  };
}

export async function registerOidcRoutes(
  app: FastifyInstance,
  provider: OidcProvider,
): Promise<void> {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => {
      const out: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(body as string)) out[k] = v;
      done(null, out);
    },
  );

  app.get('/jwks', async (_req, reply) =>
    reply.header('cache-control', 'max-age=60').send(await provider.jwks()),
  );

  const flavors: Flavor[] = ['email', 'github', 'gitlab', 'buildkite', 'spiffe', 'uri', 'username'];
  for (const flavor of flavors) {
    const prefix = flavor === 'email' ? '' : `/${flavor}`;
    registerIssuer(app, provider, prefix, () => provider.issuer(flavor));
  }
  registerIssuer(app, provider, '/kubernetes/:cluster', (req) => {
    const cluster = (req.params as { cluster?: string }).cluster ?? '';
    if (!CLUSTER.test(cluster)) throw invalid('cluster', 'must match [-_a-zA-Z0-9]{1,63}');
    return provider.issuer('kubernetes', cluster);
  });
}

function registerIssuer(
  app: FastifyInstance,
  provider: OidcProvider,
  prefix: string,
  issuerOf: (req: FastifyRequest) => Issuer,
): void {
  app.get(`${prefix}/.well-known/openid-configuration`, async (req) => {
    const iss = issuerOf(req);
    return {
      issuer: iss.url,
      authorization_endpoint: `${iss.url}/auth`,
      token_endpoint: `${iss.url}/token`,
      device_authorization_endpoint: `${iss.url}/device/code`,
      jwks_uri: `${provider.root}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', GRANT_DEVICE, 'client_credentials'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
      scopes_supported: ['openid', 'email'],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'nbf',
        'email',
        'email_verified',
        'nonce',
      ],
    };
  });

  // Authorization request: validate, then show the login page (RFC 6749 4.1.1, RFC 7636 4.3).
  const authParams = (p: Params) => {
    const client = provider.client(p['client_id']);
    const redirectUri = provider.checkRedirectUri(client, p['redirect_uri']);
    if (p['response_type'] !== 'code')
      throw new OAuthError('unsupported_response_type', 'response_type must be "code"');
    const challenge = p['code_challenge'];
    if (typeof challenge !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(challenge))
      throw new OAuthError(
        'invalid_request',
        'code_challenge is required: PKCE S256 (43 base64url characters)',
      );
    if (p['code_challenge_method'] !== 'S256')
      throw new OAuthError(
        'invalid_request',
        'code_challenge_method must be S256 ("plain" is not accepted)',
      );
    const str = (k: string) =>
      typeof p[k] === 'string' ? (p[k] as string).slice(0, 512) : undefined;
    return {
      client,
      redirectUri,
      challenge,
      state: str('state'),
      nonce: str('nonce'),
      scope: str('scope'),
    };
  };

  /** The client a token or device request comes from, its secret checked (RFC 6749 2.3.1). */
  const authenticatedClient = (req: FastifyRequest, p: Params) => {
    const cred = clientCredentials(req, p);
    const client = provider.client(cred.id);
    provider.authenticate(client, cred.secret);
    return client;
  };
  const choices = (iss: Issuer) =>
    provider.identities(iss.flavor).map((i) => ({ name: i.name, flavor: i.flavor }));
  /** The device-approval form (RFC 8628 3.3), as first shown and as shown again on an error. */
  const deviceForm = (iss: Issuer, userCode: string) => ({
    action: `${iss.url}/device`,
    issuer: iss.url,
    userCode,
    identities: choices(iss),
  });

  app.get(`${prefix}/auth`, async (req, reply) => {
    const iss = issuerOf(req);
    let a: ReturnType<typeof authParams>;
    try {
      a = authParams(params(req));
    } catch (e) {
      if (e instanceof OAuthError)
        return sendHtml(reply, messagePage('Cannot sign in', e.message), 400);
      throw e;
    }
    const login = provider.startLogin({
      issuer: iss.url,
      clientId: a.client.id,
      redirectUri: a.redirectUri,
      codeChallenge: a.challenge,
      state: a.state,
      nonce: a.nonce,
    });
    return sendHtml(
      reply,
      loginPage({
        action: `${iss.url}/auth`,
        issuer: iss.url,
        clientId: a.client.id,
        redirectUri: a.redirectUri,
        login: login.id,
        identities: choices(iss),
      }),
    );
  });

  // The person's answer to the login page: a code for the chosen identity, or (Cancel) the
  // access_denied error (RFC 6749 4.1.2.1), sent to the client's redirect URI with its state.
  app.post(`${prefix}/auth`, async (req, reply) => {
    const iss = issuerOf(req);
    const p = params(req);
    try {
      const login = provider.pendingLogin(iss, p['login']);
      const to = new URL(login.redirectUri);
      if (p['cancel'] !== undefined) {
        provider.answerLogin(login);
        to.searchParams.set('error', 'access_denied');
        to.searchParams.set('error_description', 'the person cancelled the sign-in');
      } else {
        const name = typeof p['identity'] === 'string' ? p['identity'] : '';
        const identity = provider.findIdentity(iss.flavor, name);
        provider.answerLogin(login);
        to.searchParams.set(
          'code',
          provider.createCode({
            issuer: iss.url,
            clientId: login.clientId,
            redirectUri: login.redirectUri,
            codeChallenge: login.codeChallenge,
            nonce: login.nonce,
            identity,
          }),
        );
      }
      if (login.state !== undefined) to.searchParams.set('state', login.state);
      return reply.code(302).header('cache-control', 'no-store').redirect(to.href);
    } catch (e) {
      if (e instanceof OAuthError)
        return sendHtml(reply, messagePage('Cannot sign in', e.message), 400);
      throw e;
    }
  });

  app.post(`${prefix}/token`, async (req, reply) => {
    const iss = issuerOf(req);
    const p = params(req);
    try {
      requireFormBody(req);
      const client = authenticatedClient(req, p);
      const grant = p['grant_type'];
      let res;
      if (grant === 'authorization_code')
        res = await provider.redeemCode(iss, {
          code: p['code'],
          client,
          redirectUri: p['redirect_uri'],
          codeVerifier: p['code_verifier'],
        });
      else if (grant === GRANT_DEVICE)
        res = await provider.pollDevice(iss, p['device_code'], client);
      else if (grant === 'client_credentials')
        res = await provider.testGrant(iss, client, p['subject'], p['audience']);
      else
        throw new OAuthError(
          'unsupported_grant_type',
          `grant_type ${quoteInput(grant ?? null)} is not supported (authorization_code, ${GRANT_DEVICE}, client_credentials)`,
        );
      return reply.header('cache-control', 'no-store').send(res);
    } catch (e) {
      return sendOAuth(reply, e);
    }
  });

  app.post(`${prefix}/device/code`, async (req, reply) => {
    const iss = issuerOf(req);
    const p = params(req);
    try {
      requireFormBody(req);
      const client = authenticatedClient(req, p);
      return reply.header('cache-control', 'no-store').send(provider.startDevice(iss, client));
    } catch (e) {
      return sendOAuth(reply, e);
    }
  });

  app.get(`${prefix}/device`, async (req, reply) => {
    const iss = issuerOf(req);
    return sendHtml(reply, devicePage(deviceForm(iss, userCodeOf(params(req)))));
  });

  app.post(`${prefix}/device`, async (req, reply) => {
    const iss = issuerOf(req);
    const p = params(req);
    const userCode = userCodeOf(p);
    try {
      const d = provider.deviceByUserCode(iss, userCode);
      if (p['deny'] !== undefined) {
        provider.decideDevice(d, undefined);
        return sendHtml(reply, messagePage('Request denied', 'The device will not get a token.'));
      }
      const name = typeof p['identity'] === 'string' ? p['identity'] : '';
      provider.decideDevice(d, provider.findIdentity(iss.flavor, name));
      return sendHtml(
        reply,
        messagePage(
          'Device approved',
          `Signed in as ${name}. You can close this window and return to the device.`,
        ),
      );
    } catch (e) {
      if (e instanceof OAuthError)
        return sendHtml(reply, devicePage({ ...deviceForm(iss, userCode), error: e.message }), 400);
      throw e;
    }
  });
}
