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

/** The docker-credential-helpers `get` protocol: host on stdin, `{Username, Secret}` on stdout. */
async function fromHelper(name: string, host: string): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const serverUrl = host === 'docker.io' ? HUB_KEYS[0]! : host;
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      program,
      ['get'],
      { timeout: 10_000, maxBuffer: 1024 * 1024 },
      (err, stdout) => {
        if (err) {
          // "credentials not found" is the protocol's way of saying "none".
          if (
            /credentials not found/i.test(stdout) ||
            /credentials not found/i.test(String(err.message))
          )
            resolve('');
          else
            reject(
              new SignetError(
                'unauthorized',
                'CREDENTIAL_HELPER',
                `credential helper ${program} failed for ${host}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed (not on PATH)' : err.message.split('\n')[0]}`,
                { cause: err },
              ),
            );
          return;
        }
        resolve(stdout);
      },
    );
    child.stdin?.end(serverUrl);
  });
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
  if (isObject(config.credHelpers))
    for (const k of keys) {
      const h = config.credHelpers[k];
      if (typeof h === 'string') return fromHelper(helperName(h, file), host);
    }
  if (typeof config.credsStore === 'string' && config.credsStore !== '') {
    const c = await fromHelper(helperName(config.credsStore, file), host);
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
