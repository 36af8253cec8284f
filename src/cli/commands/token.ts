import type { Command } from 'commander';
import { invalid, SignetError } from '../../core/errors.ts';
import { FLAVORS, flavorPath, isFlavor } from '../../services/oidc/flavors.ts';
import { parseJsonText } from '../../core/json.ts';

/**
 * `signet token`: prints an identity token from a running stack's built-in provider, for local
 * use and tests. By default through the non-interactive grant for test clients (naming the
 * identity with --subject); `--flow browser|device` signs in as a person instead.
 */
interface TokenFlags {
  server?: string;
  subject?: string;
  issuer: string;
  cluster: string;
  audience?: string;
  clientId: string;
  clientSecret?: string;
  flow: string;
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description("print an identity token from a Signet stack's built-in identity provider")
    .option('--server <url>', 'the Signet stack (env SIGNET_SERVER)', process.env.SIGNET_SERVER)
    .option('--subject <name>', 'the configured identity to get a token for, e.g. dev@signet.local')
    .option('--issuer <flavor>', `which issuer: ${FLAVORS.join(', ')}`, 'email')
    .option('--cluster <name>', 'for --issuer kubernetes: the cluster', 'default')
    .option('--audience <aud>', 'the token audience (default: the client id, sigstore)')
    .option('--client-id <id>', 'OAuth client id', 'sigstore')
    .option('--client-secret <secret>', 'OAuth client secret, when the client has one')
    .option('--flow <flow>', 'test (non-interactive, default), browser or device', 'test')
    .action(async (f: TokenFlags) => {
      process.stdout.write(`${await token(f)}\n`);
    });
}

async function token(f: TokenFlags): Promise<string> {
  if (!f.server) throw invalid('--server', 'is required: the URL of a running Signet stack');
  let base: URL;
  try {
    base = new URL(f.server);
  } catch {
    throw invalid('--server', `"${f.server}" is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw invalid('--server', `"${f.server}" is not an http(s) URL`);
  if (!isFlavor(f.issuer))
    throw invalid('--issuer', `"${f.issuer}" is not one of ${FLAVORS.join(', ')}`);
  if (!/^[-_a-zA-Z0-9]{1,63}$/.test(f.cluster))
    throw invalid('--cluster', `"${f.cluster}" is not a cluster name ([-_a-zA-Z0-9])`);
  const issuer = `${f.server.replace(/\/+$/, '')}/oidc${flavorPath(f.issuer, f.cluster)}`;
  if (f.flow === 'browser' || f.flow === 'device') {
    // The sign-in client is only needed for these flows; keep it off signet's startup path.
    const { getIdentityToken } = await import('../../client/identity/index.ts');
    const got = await getIdentityToken({
      // Only the browser opener: an ambient CI token or SIGSTORE_ID_TOKEN must not stand in for
      // the sign-in that was asked for.
      env: process.env.BROWSER === undefined ? {} : { BROWSER: process.env.BROWSER },
      issuer,
      clientId: f.clientId,
      audience: f.audience ?? f.clientId,
      interactive: f.flow,
    });
    return got.token;
  }
  if (f.flow !== 'test') throw invalid('--flow', `"${f.flow}" is not test, browser or device`);
  if (!f.subject)
    throw invalid(
      '--subject',
      'is required: the name of a configured identity, e.g. dev@signet.local',
    );
  const form: Record<string, string> = {
    grant_type: 'client_credentials',
    client_id: f.clientId,
    subject: f.subject,
  };
  if (f.clientSecret !== undefined) form['client_secret'] = f.clientSecret;
  if (f.audience !== undefined) form['audience'] = f.audience;
  // Through the client's node:http layer: global fetch would load undici, tens of ms of a
  // command that runs before each local signing (`--identity-token "$(signet token ...)"`).
  const { send } = await import('../../services/http/outbound.ts');
  let res: { status: number; body: Uint8Array };
  try {
    res = await send(
      {
        service: 'the identity provider',
        method: 'POST',
        url: `${issuer}/token`,
        body: new URLSearchParams(form).toString(),
        contentType: 'application/x-www-form-urlencoded',
        // OAuth 2.0 error answers (RFC 6749 §5.2) carry error_description, read below.
        allow: [400, 401],
      },
      { timeoutMs: 30_000, retries: 0 },
    );
  } catch (e) {
    throw new SignetError('unavailable', 'OIDC_UNREACHABLE', (e as Error).message, { cause: e });
  }
  let body: Record<string, unknown> = {};
  try {
    const v: unknown = parseJsonText(res.body, 'token response');
    if (typeof v === 'object' && v !== null) body = v as Record<string, unknown>;
  } catch {
    // reported below with the status
  }
  if (res.status !== 200 || typeof body['id_token'] !== 'string') {
    const why = body['error_description'] ?? body['message'] ?? `HTTP ${res.status}`;
    // The test grant is off for this client (oidc.clients): a person can still sign in.
    const instead =
      body['error'] === 'unauthorized_client'
        ? '; sign in instead with --flow device or --flow browser'
        : '';
    throw new SignetError(
      'unauthorized',
      'OIDC_ERROR',
      `${issuer} refused: ${String(why)}${instead}`,
    );
  }
  return body['id_token'];
}
