import { checkToken, type TokenInfo } from './check.ts';
import { SignetError, describeSystemError } from '../../core/errors.ts';
import { tokenError } from './errors.ts';
import { trimSlash } from '../../services/http/outbound.ts';
import { inputNames, type InputNames } from '../input-names.ts';
const fs = process.getBuiltinModule('node:fs');

/**
 * Where a signer's identity token comes from, in cosign's order: the `--identity-token` flag
 * (a token or a file holding one), SIGSTORE_ID_TOKEN, ambient CI credentials (GitHub Actions,
 * GitLab CI, Buildkite), then a person: the browser (PKCE + loopback redirect) where one can be
 * opened, else the device flow. The token is checked (JWT, not expired, audience) before use.
 */
export interface IdentityTokenOptions {
  /** `--identity-token`: the token itself, or the path of a file holding it. */
  identityToken?: string;
  env?: NodeJS.ProcessEnv;
  /** Audience asked of CI providers and expected in the token (default `sigstore`). */
  audience?: string;
  /** Issuer for the interactive flows; default `<server>/oidc` when `server` is given. */
  issuer?: string;
  /** A Signet stack's base URL. */
  server?: string;
  /** OAuth client id for interactive flows (default `sigstore`). */
  clientId?: string;
  /**
   * `auto` (default): interactive only when stdin and stderr are terminals; browser if one can
   * be opened, else the device flow. `never` fails instead of asking a person. When not given,
   * the environment variable SIGNET_SIGN_IN may say it (for commands run without a terminal).
   */
  interactive?: SignInMode;
  /**
   * Opens the sign-in URL. Default: the command in the BROWSER environment variable if set
   * (see browserCommand), else the platform's opener.
   */
  openBrowser?: (url: string) => void | Promise<void>;
  /** Instructions for the person (default: stderr). */
  say?: (message: string) => void;
  timeoutMs?: number;
  buildkiteAgent?: string;
  now?: Date;
  /** cosign's --oidc-client-secret-file contents. */
  clientSecret?: string | undefined;
  /** cosign's --oidc-redirect-url. */
  redirectUrl?: string | undefined;
  /** cosign's --oidc-disable-ambient-providers: never read CI credentials. */
  disableAmbient?: boolean | undefined;
  /**
   * cosign's --oidc-provider: use only this source of a token (github-actions, buildkite-agent,
   * filesystem, interactive); unset tries them all in order.
   */
  provider?: string | undefined;
  /** How errors name `identityToken` and `provider` (default: the CLI's flags). */
  names?: InputNames<IdentityInput>;
}

export type IdentityInput = 'identityToken' | 'oidcProvider';
const IDENTITY_FLAGS: Record<IdentityInput, string> = {
  identityToken: '--identity-token',
  oidcProvider: '--oidc-provider',
};

/** cosign's --oidc-provider names Signet can use, and the file cosign's filesystem provider reads. */
export const OIDC_PROVIDERS = [
  'github-actions',
  'buildkite-agent',
  'filesystem',
  'interactive',
] as const;
export const FILESYSTEM_TOKEN_PATH = '/var/run/sigstore/cosign/oidc-token';

const MODES = ['auto', 'browser', 'device', 'never'] as const;
export type SignInMode = (typeof MODES)[number];

/** SIGNET_SIGN_IN: how to ask a person for a token when the caller did not say. */
function modeFromEnv(env: NodeJS.ProcessEnv): SignInMode | undefined {
  const v = env.SIGNET_SIGN_IN;
  if (v === undefined || v === '') return undefined;
  if (!(MODES as readonly string[]).includes(v))
    throw new SignetError(
      'invalid-input',
      'INVALID_INPUT',
      `"${v}" is not one of ${MODES.join(', ')}`,
      {
        field: 'SIGNET_SIGN_IN',
      },
    );
  return v as SignInMode;
}

export interface IdentityToken {
  token: string;
  /** Where it came from, for messages: `--identity-token`, `SIGSTORE_ID_TOKEN`, `GitHub Actions`, ... */
  source: string;
  info: TokenInfo;
}

export async function getIdentityToken(o: IdentityTokenOptions = {}): Promise<IdentityToken> {
  const env = o.env ?? process.env;
  const audience = o.audience ?? 'sigstore';
  const timeoutMs = o.timeoutMs ?? 300_000;
  const n = inputNames(IDENTITY_FLAGS, o.names);
  const done = (token: string, source: string): IdentityToken => {
    const t = token.trim();
    return { token: t, source, info: checkToken(t, source, { audience, now: o.now }) };
  };

  if (o.identityToken !== undefined)
    return done(fromFlag(o.identityToken, n.identityToken), n.identityToken);
  const envToken = env.SIGSTORE_ID_TOKEN;
  if (envToken !== undefined) {
    if (envToken.trim() === '')
      throw tokenError('NO_IDENTITY_TOKEN', 'SIGSTORE_ID_TOKEN is set but empty');
    return done(envToken, 'SIGSTORE_ID_TOKEN');
  }
  const ambient = {
    env,
    audience,
    timeoutMs: Math.min(timeoutMs, 30_000),
    buildkiteAgent: o.buildkiteAgent,
  };
  const provider = o.provider;
  if (provider !== undefined && !(OIDC_PROVIDERS as readonly string[]).includes(provider))
    throw new SignetError(
      'invalid-input',
      'INVALID_INPUT',
      `"${provider}" is not a provider signet can use (${OIDC_PROVIDERS.join(', ')}; spiffe and google are not supported)`,
      { field: n.oidcProvider },
    );
  const use = (p: string) => !o.disableAmbient && (provider === undefined || provider === p);
  // The CI providers' module is loaded only here: a token given as a flag or in
  // SIGSTORE_ID_TOKEN (above) needs none of it.
  const { buildkiteToken, githubActionsToken, gitlabHint } = await import('./ambient.ts');
  if (use('github-actions')) {
    const gh = await githubActionsToken(ambient);
    if (gh !== undefined) return done(gh, 'GitHub Actions');
  }
  if (use('buildkite-agent')) {
    const bk = await buildkiteToken(ambient);
    if (bk !== undefined) return done(bk, 'Buildkite');
  }
  if (use('filesystem') && fs.existsSync(FILESYSTEM_TOKEN_PATH)) {
    // Loaded here only: verify/setup.ts brings the verifier's trust modules, which a token
    // given on the command line (every CI signer) does not need.
    const { readDocument } = await import('../file-or-url.ts');
    return done(readDocument(FILESYSTEM_TOKEN_PATH, 'token file'), FILESYSTEM_TOKEN_PATH);
  }
  if (provider !== undefined && provider !== 'interactive')
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      `${n.oidcProvider} ${provider}: no token is available from it here`,
    );
  if (!o.disableAmbient) gitlabHint(env);

  const mode = o.interactive ?? modeFromEnv(env) ?? 'auto';
  const tty = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  if (mode === 'never' || (mode === 'auto' && !tty))
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      `no identity token found: ${n.identityToken === 'SIGSTORE_ID_TOKEN' ? '' : `give ${n.identityToken} (a token or a file), `}set SIGSTORE_ID_TOKEN, ` +
        'run in CI with OIDC enabled (GitHub Actions, GitLab CI, Buildkite), or ' +
        // In a terminal too, SIGNET_SIGN_IN=never is why no one is asked to sign in.
        (env.SIGNET_SIGN_IN === 'never'
          ? 'sign in (SIGNET_SIGN_IN=never turns signing in off)'
          : 'run in a terminal to sign in'),
    );
  const issuer = o.issuer ?? (o.server ? `${trimSlash(o.server)}/oidc` : undefined);
  if (!issuer)
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      'no identity token found, and no identity provider to sign in with: give --server URL or --oidc-issuer URL',
    );
  // Loaded only for a person signing in: a token given or found needs none of it.
  const { browserCommand, browserFlow, canOpenBrowser, deviceFlow } =
    await import('./interactive.ts');
  const say = o.say ?? ((m: string) => process.stderr.write(`${m}\n`));
  const io = {
    issuer,
    clientId: o.clientId ?? 'sigstore',
    say,
    openBrowser: o.openBrowser ?? (env.BROWSER ? browserCommand(env.BROWSER, say) : undefined),
    timeoutMs,
    clientSecret: o.clientSecret,
    redirectUrl: o.redirectUrl,
  };
  const useBrowser =
    mode === 'browser' || (mode === 'auto' && (o.openBrowser !== undefined || canOpenBrowser(env)));
  if (useBrowser) return done(await browserFlow(io), `the browser sign-in at ${issuer}`);
  return done(await deviceFlow(io), `the device sign-in at ${issuer}`);
}

/** `--identity-token` (`name`) takes the token itself or a file that holds it (as cosign does). */
function fromFlag(value: string, name: string): string {
  const v = value.trim();
  if (v === '') throw tokenError('NO_IDENTITY_TOKEN', `${name} is empty`);
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(v)) return v;
  let text: string;
  try {
    text = fs.readFileSync(value, 'utf8');
  } catch (e) {
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      `${name} is neither a JWT nor a readable file: ${describeSystemError(e, value)}`,
    );
  }
  if (text.trim() === '') throw tokenError('NO_IDENTITY_TOKEN', `${name} file ${value} is empty`);
  return text.trim();
}

export { checkToken, inspectToken, type TokenInfo } from './check.ts';
