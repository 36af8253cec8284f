/**
 * Registry credentials as Docker and cosign find them (docker/cli config/configfile,
 * docker-credential-helpers protocol): `--registry-username/--registry-password` first, then
 * `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`): `credHelpers[host]`, then
 * `credsStore`, then `auths[host]` (`auth` = base64 user:password, or `identitytoken`).
 * Docker Hub is keyed `https://index.docker.io/v1/` there.
 */
import os from 'node:os';
import path from 'node:path';
import { invalid, SignetError, describeSystemError } from '../../core/errors.ts';
import { parseJsonText } from '../../core/json.ts';
import { writeFileAtomic } from '../../log/atomic-file.ts';
const { execFile } = process.getBuiltinModule('node:child_process');
const fs = process.getBuiltinModule('node:fs');

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token (`identitytoken`) to exchange at the token realm. */
  identityToken?: string;
}

export interface CredentialOptions {
  username?: string;
  password?: string;
  env?: NodeJS.ProcessEnv;
}

const HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
];

function configKeys(host: string): string[] {
  if (host === 'docker.io') return HUB_KEYS;
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
}

interface DockerConfig {
  auths?: Record<
    string,
    { auth?: string; username?: string; password?: string; identitytoken?: string }
  >;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

function readDockerConfig(
  env: NodeJS.ProcessEnv,
): { config: DockerConfig; file: string } | undefined {
  const file = dockerConfigPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalid('DOCKER_CONFIG', describeSystemError(e, file));
  }
  let v: unknown;
  try {
    v = parseJsonText(text, 'DOCKER_CONFIG', file);
  } catch {
    throw invalid('DOCKER_CONFIG', `${file} is not JSON`);
  }
  if (!isObject(v)) throw invalid('DOCKER_CONFIG', `${file} is not a JSON object`);
  return { config: v as DockerConfig, file };
}

function helperName(name: string, file: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw invalid(
      'DOCKER_CONFIG',
      `${file} names credential helper "${name}", which is not a plain name`,
    );
  return name;
}

/**
 * One run of `docker-credential-NAME OP` (the docker-credential-helpers protocol): `input` on its
 * stdin; resolves with its stdout, or rejects with the failure and what the helper printed.
 */
function runHelper(
  program: string,
  op: 'get' | 'store',
  input: string,
): Promise<
  { ok: true; stdout: string } | { ok: false; stdout: string; why: string; error: Error }
> {
  return new Promise((resolve) => {
    const child = execFile(
      program,
      [op],
      { timeout: 10_000, maxBuffer: 1024 * 1024 },
      (err, stdout) => {
        if (!err) return resolve({ ok: true, stdout });
        const why =
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'not installed (not on PATH)'
            : (stdout.trim() || err.message).split('\n')[0]!;
        resolve({ ok: false, stdout, why, error: err });
      },
    );
    // A helper that exits without reading its input closes the pipe: its exit status and output
    // are the answer, not the write's EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** The docker-credential-helpers `get` protocol: host on stdin, `{Username, Secret}` on stdout. */
async function fromHelper(name: string, host: string): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const serverUrl = host === 'docker.io' ? HUB_KEYS[0]! : host;
  const r = await runHelper(program, 'get', serverUrl);
  // "credentials not found" is the protocol's way of saying "none".
  if (!r.ok && /credentials not found/i.test(`${r.stdout} ${r.error.message}`)) return undefined;
  if (!r.ok)
    throw new SignetError(
      'unauthorized',
      'CREDENTIAL_HELPER',
      `credential helper ${program} failed for ${host}: ${r.why}`,
      { cause: r.error },
    );
  const out = r.stdout;
  if (out.trim() === '') return undefined;
  let v: unknown;
  try {
    v = parseJsonText(out, 'credential helper answer');
  } catch {
    throw new SignetError(
      'unauthorized',
      'CREDENTIAL_HELPER',
      `credential helper ${program} answered something that is not JSON`,
    );
  }
  if (!isObject(v) || typeof v.Secret !== 'string')
    throw new SignetError(
      'unauthorized',
      'CREDENTIAL_HELPER',
      `credential helper ${program} answered without a Secret`,
    );
  const username = typeof v.Username === 'string' ? v.Username : '';
  // Docker's convention: the user "<token>" means the secret is an identity (refresh) token.
  if (username === '<token>') return { username: '', password: '', identityToken: v.Secret };
  return { username, password: v.Secret };
}

/**
 * The credential helper a Docker config names for `host`: its `credHelpers` entry (`own`: the
 * host's alone), else the `credsStore` every host shares.
 */
function helperFor(
  config: DockerConfig,
  host: string,
  file: string,
): { name: string; own: boolean } | undefined {
  if (isObject(config.credHelpers))
    for (const k of configKeys(host)) {
      const h = config.credHelpers[k];
      if (typeof h === 'string') return { name: helperName(h, file), own: true };
    }
  if (typeof config.credsStore === 'string' && config.credsStore !== '')
    return { name: helperName(config.credsStore, file), own: false };
  return undefined;
}

/** The docker-credential-helpers `store` protocol: `{ServerURL, Username, Secret}` on stdin. */
async function toHelper(name: string, serverUrl: string, c: Credentials): Promise<void> {
  const program = `docker-credential-${name}`;
  const input = JSON.stringify({ ServerURL: serverUrl, Username: c.username, Secret: c.password });
  const r = await runHelper(program, 'store', input);
  if (!r.ok)
    throw new SignetError(
      'unauthorized',
      'CREDENTIAL_HELPER',
      `credential helper ${program} could not store the credentials for ${serverUrl}: ${r.why}`,
      { cause: r.error },
    );
}

/**
 * `signet login` (cosign login, which is crane's): keep `c` for `host` where Docker and this
 * module's findCredentials look for it. A credential helper the config names for the host
 * (`credHelpers`, else `credsStore`) stores the secret, and `auths` gets an empty entry for the
 * host as Docker writes one; otherwise `auths[host].auth` is base64 of user:password. The config
 * keeps everything else it holds, and is written whole (a temporary file renamed over it), with
 * mode 0600. Returns the config file's path.
 */
export async function storeCredentials(
  host: string,
  c: Credentials,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const file = dockerConfigPath(env);
  const found = readDockerConfig(env);
  const config: DockerConfig & Record<string, unknown> = found ? { ...found.config } : {};
  const key = host === 'docker.io' ? HUB_KEYS[0]! : host;
  const helper = helperFor(config, host, file);
  const auths = isObject(config.auths) ? { ...config.auths } : {};
  if (helper !== undefined) {
    await toHelper(helper.name, key, c);
    auths[key] = {};
  } else auths[key] = { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') };
  config.auths = auths;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // the registry password: a temporary file of its own, never one planted beside it
    writeFileAtomic(file, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
  } catch (e) {
    throw invalid('DOCKER_CONFIG', describeSystemError(e, file), e);
  }
  return file;
}

/** The credentials for `host` (undefined: anonymous). */
export async function findCredentials(
  host: string,
  o: CredentialOptions = {},
): Promise<Credentials | undefined> {
  if (o.username !== undefined || o.password !== undefined) {
    if (o.username === undefined || o.password === undefined)
      throw invalid(
        o.username === undefined ? '--registry-username' : '--registry-password',
        'is required with the other registry credential flag',
      );
    return { username: o.username, password: o.password };
  }
  const found = readDockerConfig(o.env ?? process.env);
  if (!found) return undefined;
  const { config, file } = found;
  const keys = configKeys(host);
  const helper = helperFor(config, host, file);
  // A host's own helper answers for it alone; the shared store may not know it: then auths.
  if (helper?.own) return fromHelper(helper.name, host);
  if (helper) {
    const c = await fromHelper(helper.name, host);
    if (c) return c;
  }
  if (isObject(config.auths))
    for (const k of keys) {
      const a = config.auths[k];
      if (!isObject(a)) continue;
      if (typeof a.identitytoken === 'string' && a.identitytoken !== '')
        return { username: '', password: '', identityToken: a.identitytoken };
      if (typeof a.auth === 'string' && a.auth !== '') {
        const text = Buffer.from(a.auth, 'base64').toString('utf8');
        const i = text.indexOf(':');
        if (i < 0)
          throw invalid(
            'DOCKER_CONFIG',
            `${file}: auths["${k}"].auth is not base64 of user:password`,
          );
        return { username: text.slice(0, i), password: text.slice(i + 1) };
      }
      if (typeof a.username === 'string' && typeof a.password === 'string')
        return { username: a.username, password: a.password };
    }
  return undefined;
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (RFC 7235 auth-params). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2]!)) !== null) {
    if (p[0] === '') break;
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme, params };
}
