import { send } from '../../services/http/outbound.ts';
import { tokenError } from './errors.ts';
import { parseJsonText } from '../../core/json.ts';
const { spawn } = process.getBuiltinModule('node:child_process');

/**
 * Ambient CI credentials: a token the CI system hands the job, without a person.
 * Each function returns undefined when its CI is not the one running, and throws with a
 * how-to-fix message when it is running but cannot give a token.
 */
export interface AmbientOptions {
  env: NodeJS.ProcessEnv;
  audience: string;
  timeoutMs: number;
  /** The `buildkite-agent` program (tests may point to another). */
  buildkiteAgent?: string;
}

/**
 * GitHub Actions: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=... with
 * `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` answers `{"value": "<jwt>"}`
 * (what @actions/core getIDToken does). Needs `permissions: id-token: write`.
 */
export async function githubActionsToken(o: AmbientOptions): Promise<string | undefined> {
  const url = o.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = o.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url && !bearer) {
    if (o.env.GITHUB_ACTIONS === 'true')
      throw tokenError(
        'NO_IDENTITY_TOKEN',
        'running in GitHub Actions without an OIDC token: give the job `permissions: id-token: write`',
      );
    return undefined;
  }
  if (!url || !bearer)
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      `GitHub Actions: ${url ? 'ACTIONS_ID_TOKEN_REQUEST_TOKEN' : 'ACTIONS_ID_TOKEN_REQUEST_URL'} is not set; give the job \`permissions: id-token: write\``,
    );
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw tokenError('NO_IDENTITY_TOKEN', `ACTIONS_ID_TOKEN_REQUEST_URL "${url}" is not a URL`);
  }
  u.searchParams.set('audience', o.audience);
  let body: Uint8Array;
  try {
    ({ body } = await send(
      {
        service: "GitHub's token service",
        method: 'GET',
        url: u.href,
        headers: { authorization: `bearer ${bearer}` },
        accept: 'application/json',
      },
      { timeoutMs: o.timeoutMs, retries: 0 },
    ));
  } catch (e) {
    throw tokenError('NO_IDENTITY_TOKEN', (e as Error).message, e);
  }
  const text = new TextDecoder().decode(body);
  let value: unknown;
  try {
    value = (parseJsonText(text, 'token response') as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value === '')
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      'GitHub\'s token service answered without a "value" token',
    );
  return value;
}

/**
 * GitLab CI gives tokens only through `id_tokens:` in .gitlab-ci.yml, as environment variables
 * the job names; the Sigstore convention is SIGSTORE_ID_TOKEN (read before this is called).
 */
export function gitlabHint(env: NodeJS.ProcessEnv): void {
  if (env.GITLAB_CI === 'true')
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      // one line (errors are); YAML's flow style says it on one
      'running in GitLab CI without an identity token: add `id_tokens: {SIGSTORE_ID_TOKEN: {aud: sigstore}}` to the job',
    );
}

/** Buildkite: `buildkite-agent oidc request-token --audience sigstore` prints the token. */
export async function buildkiteToken(o: AmbientOptions): Promise<string | undefined> {
  if (o.env.BUILDKITE !== 'true') return undefined;
  const agent = o.buildkiteAgent ?? 'buildkite-agent';
  const args = ['oidc', 'request-token', '--audience', o.audience];
  const { code, stdout, stderr } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn(agent, args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Our own timer: spawn's `timeout` option keeps the process alive when spawning fails.
    const timer = setTimeout(() => child.kill(), o.timeoutMs);
    timer.unref();
    child.once('close', () => clearTimeout(timer));
    child.once('error', () => clearTimeout(timer));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  }).catch((e: unknown) => {
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      `running in Buildkite but cannot run ${agent}: ${(e as Error).message}`,
      e,
    );
  });
  if (code !== 0)
    throw tokenError(
      'NO_IDENTITY_TOKEN',
      `${agent} ${args.join(' ')} failed (exit ${code}): ${stderr.trim().slice(0, 300)}`,
    );
  const token = stdout.trim();
  if (!token) throw tokenError('NO_IDENTITY_TOKEN', `${agent} printed no token`);
  return token;
}
