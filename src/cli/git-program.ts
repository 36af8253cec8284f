import { moduleUrl } from '../core/module-url.ts';
/**
 * The program git runs for `gpg.format=x509` (`gpg.x509.program`, set by `signet git setup`),
 * speaking git's gpg interface (git gpg-interface.c; gitsign internal/commands/root):
 *   sign:   <program> --status-fd=2 -bsau <key>     payload on stdin; armored CMS on stdout,
 *           `[GNUPG:] SIG_CREATED` on the status fd; exit 0
 *   verify: <program> --status-fd=1 --verify <sig-file> -   payload on stdin; GOODSIG/BADSIG/
 *           ERRSIG on the status fd, human text on stderr; exit 0 only for a good signature
 * Settings come from git config (`signet.*`, written by `signet git setup`) and the environment:
 *   signet.server / SIGNET_SERVER        the Signet stack (CA, log, TSA, trust)
 *   signet.trustedRoot                   verify against this trusted_root.json instead
 *   signet.identity, signet.issuer       who must have signed (git cannot say; default: anyone)
 *   signet.tlog (true|false)             false: timestamp only, no transparency log entry
 *   signet.cache (true|false)            the credential cache (default true)
 *   signet.log / SIGNET_GIT_LOG           also append messages to this file: git swallows the
 *                                        program's stderr when signing fails (git < 2.41)
 *   signet.matchCommitter (true|false)   refuse to sign unless the certificate names the committer
 * gitsign's names for these work too (GITSIGN_LOG, gitsign.logPath, gitsign.matchCommitter), so
 * a gitsign user's settings are not silently dropped; Signet's own names win when both are set.
 * gitsign's service settings (gitsign.fulcio, rekor, timestampServerURL, issuer, clientID,
 * redirectURL, clientSecretFile, tokenProvider, or GITSIGN_* / SIGSTORE_* in the environment)
 * replace what signet.server's signing config says, as cosign's --fulcio-url etc. do; when git
 * verifies, gitsign.fulcioRoot and timestampCertChain replace the trusted root's CAs and TSAs.
 * `signet-gitsign verify` and `verify-tag` are gitsign's commands of those names (signet
 * verify-commit, verify-tag), so scripts written for gitsign keep working; `attest` is
 * gitsign's too (git-attest.ts).
 * Failures end as one line on stderr and a non-zero exit, never a hang: every request has a
 * deadline (signet.timeout seconds, default 30).
 */
import { errorLine, ignoreClosedStderr } from './errors.ts';
import { isEntry } from './entry.ts';
import { gitsignTrustFiles, parseGitConfigList, settingLookup } from './gitsign-trust.ts';
const fs = process.getBuiltinModule('node:fs');

export interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

type Args =
  | { mode: 'sign'; statusFd: number; key: string | undefined }
  | { mode: 'verify'; statusFd: number; files: string[] }
  | { mode: 'version' };

class UsageError extends Error {}

/**
 * git's exact arguments, plus the spellings gpg and gitsign accept for them (`-v`,
 * `--detached-sign`, `--local-user=KEY`, `--include-certs N`: like gitsign, the signature
 * carries the leaf certificate whatever N says) and gitsign's `--version`.
 */
export function parseProgramArgs(argv: string[]): Args {
  let statusFd = -1;
  let sign = false;
  let verify = false;
  let key: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const fd = /^--status-fd(?:=(.*))?$/.exec(a);
    if (fd) {
      const v = fd[1] ?? argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) throw new UsageError('--status-fd needs a number');
      statusFd = Number(v);
    } else if (a === '--verify' || a === '-v') verify = true;
    else if (a === '--version') return { mode: 'version' };
    else if (['--sign', '--detach-sign', '--detached-sign', '--armor'].includes(a)) sign = true;
    else if (a === '--local-user' || a === '-u') key = argv[++i];
    else if (a.startsWith('--local-user=')) key = a.slice('--local-user='.length);
    else if (/^--include-certs(=|$)/.test(a)) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || !/^-?\d+$/.test(v))
        throw new UsageError('--include-certs needs a number');
    } else if (/^-[bsau]+$/.test(a)) {
      sign = true;
      if (a.includes('u')) {
        if (!a.endsWith('u')) throw new UsageError(`${a}: -u takes the key as the next argument`);
        key = argv[++i];
      }
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else files.push(a);
  }
  if (sign === verify) throw new UsageError('give --sign (-bsau KEY) or --verify SIGFILE -');
  return verify ? { mode: 'verify', statusFd, files } : { mode: 'sign', statusFd, key };
}

function statusStream(fd: number, io: Io): (s: string) => void {
  if (fd === 1) return (s) => io.stdout.write(s);
  if (fd === 2) return (s) => io.stderr.write(s);
  if (fd > 2) return (s) => fs.writeSync(fd, s);
  return () => {};
}

async function readAll(s: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return new Uint8Array(Buffer.concat(chunks));
}

/** `signet.*` and `gitsign.*` settings of the repository (and global config), in one git call. */
async function gitSettings(cwd: string): Promise<Map<string, string>> {
  const { execFile } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve) => {
    execFile('git', ['config', '--get-regexp', '^(signet|gitsign)\\.'], { cwd }, (err, stdout) =>
      resolve(parseGitConfigList(err ? '' : stdout)),
    );
  });
}

/**
 * The first of `names` that is set: an environment variable (upper case) or a git config key
 * (with a dot). Signet's names come first, then gitsign's, so both spellings work.
 */
function setting(
  io: Io,
  cfg: Map<string, string>,
  names: string[],
): { name: string; value: string } | undefined {
  return settingLookup(io.env, cfg)(names);
}

function flag(io: Io, cfg: Map<string, string>, names: string[], dflt: boolean): boolean {
  const s = setting(io, cfg, names);
  return bool(s?.value, s?.name ?? names[0]!, dflt);
}

function bool(v: string | undefined, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (/^(true|yes|on|1)$/i.test(v)) return true;
  if (/^(false|no|off|0)$/i.test(v)) return false;
  throw new UsageError(`${name}: "${v}" is not true or false`);
}

function timeoutMs(cfg: Map<string, string>): number {
  const t = cfg.get('signet.timeout') ?? '30';
  if (!/^\d+(\.\d+)?$/.test(t) || Number(t) <= 0)
    throw new UsageError(`signet.timeout: "${t}" is not a positive number of seconds`);
  return Number(t) * 1000;
}

const USAGE = `Usage: signet-gitsign [--status-fd=N] -bsau KEY | --verify SIGFILE - | COMMAND

Signet's signing program for git (gpg.format=x509, gpg.x509.program; signet git setup writes
both), speaking gitsign's interface. git runs it to sign (payload on stdin, signature on
stdout) and to verify. Settings: git config signet.* and gitsign.*, GITSIGN_* and SIGSTORE_*.

Commands (gitsign's names):
  verify [COMMIT]    verify a commit: signet verify-commit, with its identity flags
  verify-tag TAG     verify an annotated tag: signet verify-tag
  attest -f FILE --type URI [--objtype commit|tree]
                     sign a statement about HEAD's commit (or tree) and keep it on
                     refs/attestations/commits (or trees), as gitsign attest does
  initialize         set the TUF repository verification trusts: signet initialize
  version            print the version (also --version)
`;

/** gitsign's commands Signet does not have, and what to use instead. */
const LACKING: Record<string, string> = {
  show: '`signet verify-commit` says who signed a commit, when, and where it is logged',
  debug: 'set SIGNET_GIT_LOG (or gitsign.logPath) to see why signing fails',
};

/** Runs the program; resolves to the exit code. */
export async function gitProgram(argv: string[], io: Io): Promise<number> {
  // gitsign's own commands (`gitsign verify [COMMIT]`, `gitsign verify-tag TAG`, with
  // --certificate-identity[-regexp], --certificate-oidc-issuer[-regexp], --insecure-ignore-sct):
  // signet's verify-commit and verify-tag, which take the same flags, printing gitsign's summary;
  // `gitsign initialize` is signet initialize (--mirror, --root).
  const command = argv[0];
  if (command === 'verify' || command === 'verify-tag') {
    const { main } = await import('./main.ts');
    const name = command === 'verify' ? 'verify-commit' : 'verify-tag';
    return main([name, ...argv.slice(1), '--gitsign-summary']);
  }
  if (command === 'attest') {
    try {
      const { gitAttest } = await import('./git-attest.ts');
      await gitAttest(argv.slice(1), io, async () => {
        const s = await signingSettings(io);
        // A credential the cache holds signs attestations as it signs commits.
        const agent = await import('../client/git/agent.ts');
        const cache = await usableCache(io, s);
        const held = cache ? await agent.cachedCredential(s.socket, s.cacheKey) : undefined;
        if (held) {
          const signer = await agent.credentialSigner(held);
          return { ctx: { signer, services: held.services, http: s.http }, keep: async () => {} };
        }
        return signingContext(s.server, { ...s, cache }, io);
      });
      return 0;
    } catch (e) {
      io.stderr.write(`signet: cannot attest: ${oneLine(e)}\n`);
      return 1;
    }
  }
  if (command === 'initialize') {
    const { main } = await import('./main.ts');
    return main(argv);
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (command === 'version') argv = ['--version'];
  const lacking = Object.hasOwn(LACKING, command) ? LACKING[command] : undefined;
  if (lacking !== undefined) {
    io.stderr.write(`signet-gitsign: gitsign's \`${command}\` is not in Signet: ${lacking}\n`);
    return 2;
  }
  let args: Args;
  try {
    args = parseProgramArgs(argv);
  } catch (e) {
    io.stderr.write(`signet: ${errorLine(e)}\n`);
    return 2;
  }
  if (args.mode === 'version') {
    const { signetVersion } = await import('./version.ts');
    io.stdout.write(`signet-gitsign (signet ${signetVersion()})\n`);
    return 0;
  }
  const status = statusStream(args.statusFd, io);
  if (args.mode === 'sign') {
    try {
      await sign(io, status);
      return 0;
    } catch (e) {
      io.stderr.write('\n');
      await tell(io, `signet: cannot sign: ${oneLine(e)}`);
      return 1;
    }
  }
  return verify(args.files, io, status);
}

/**
 * A line for the person signing: on stderr, on the terminal (git before 2.41 shows only "gpg
 * failed to sign the data", and nothing of a signature that went well), and in the log file.
 */
async function tell(io: Io, line: string): Promise<void> {
  io.stderr.write(`${line}\n`);
  const tty = terminal();
  if (tty !== undefined) {
    fs.writeSync(tty, `${line}\n`);
    fs.closeSync(tty);
  }
  await logLine(io, line);
}

const LOG_SETTINGS = ['SIGNET_GIT_LOG', 'signet.log', 'GITSIGN_LOG', 'gitsign.logPath'];

/** Appends to the log file the settings name, if any (best effort). */
async function logLine(io: Io, line: string): Promise<void> {
  const file = setting(io, await gitSettings(io.cwd), LOG_SETTINGS)?.value;
  if (!file) return;
  try {
    fs.appendFileSync(file, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
  } catch {
    // a log that cannot be written must not turn a signature into a failure
  }
}

function oneLine(e: unknown): string {
  if (process.env.SIGNET_DEBUG) console.error(e);
  return errorLine(e);
}

/**
 * What signing takes from the repository's settings and the environment: the services
 * (signet.server or gitsign's), whether to log, the credential cache and its key.
 */
async function signingSettings(io: Io) {
  const cfg = await gitSettings(io.cwd);
  const server = io.env.SIGNET_SERVER || cfg.get('signet.server') || undefined;
  const gitsign = await gitsignServices(io, cfg);
  if (!server && !gitsign.caUrl)
    throw new UsageError(
      'no Signet server configured: run `signet git setup --server URL` (or set SIGNET_SERVER, or gitsign.fulcio)',
    );
  const tlog = bool(cfg.get('signet.tlog'), 'signet.tlog', true);
  const cache = bool(io.env.SIGNET_CACHE ?? cfg.get('signet.cache'), 'signet.cache', true);
  const http = { timeoutMs: timeoutMs(cfg), retries: 1 };
  const agent = await import('../client/git/agent.ts');
  const socket = agent.agentSocketPath(io.env);
  // A credential serves only the services and identity provider it was made for; when a token
  // is given (SIGSTORE_ID_TOKEN), only a credential made with that token serves, so a person who
  // exports another identity's token signs as that identity (gitsign's cache would keep signing
  // as the one it holds). A credential made with a token also serves runs without one.
  const { caUrl, rekorUrl, timestampServerUrl, oidcIssuer } = gitsign;
  const keyFor = (token: string | null) =>
    JSON.stringify([server, tlog, caUrl, rekorUrl, timestampServerUrl, oidcIssuer, token]);
  const token = io.env.SIGSTORE_ID_TOKEN;
  const cacheKey = keyFor(
    token
      ? process.getBuiltinModule('node:crypto').createHash('sha256').update(token).digest('hex')
      : null,
  );
  const storeKeys = token ? [cacheKey, keyFor(null)] : [cacheKey];
  return { cfg, server, gitsign, tlog, cache, http, socket, cacheKey, storeKeys };
}

/**
 * Whether the credential cache is on and its socket safe to talk to: one in a folder another
 * user made or can open (agent.ts agentSocketState) turns it off for this run, said once; the
 * object is signed all the same, after signing in.
 */
async function usableCache(io: Io, s: { cache: boolean; socket: string }): Promise<boolean> {
  if (!s.cache) return false;
  const agent = await import('../client/git/agent.ts');
  try {
    agent.agentSocketState(s.socket);
    return true;
  } catch (e) {
    await tell(io, `signet: the credential cache is off: ${oneLine(e)}`);
    return false;
  }
}

async function sign(io: Io, status: (s: string) => void): Promise<void> {
  const payload = await readAll(io.stdin);
  const settings = await signingSettings(io);
  const { cfg, server, gitsign, tlog, http, socket, cacheKey, storeKeys } = settings;
  const match = flag(io, cfg, ['signet.matchCommitter', 'gitsign.matchCommitter'], false);
  const committer = match
    ? await (await import('../client/git/repo.ts')).committerOf(io.cwd)
    : undefined;
  const agent = await import('../client/git/agent.ts');
  const { sigCreatedStatus } = await import('../core/git/status.ts');
  const cache = await usableCache(io, settings);
  if (cache && agent.agentSocketState(socket) === 'ready') {
    // The agent signs when it holds a credential: this process loads nothing else.
    const r = await agent.agentRequest(
      socket,
      {
        op: 'sign',
        server: cacheKey,
        payload: Buffer.from(payload).toString('base64'),
        timeoutMs: http.timeoutMs,
        ...(committer ? { committer } : {}),
      },
      http.timeoutMs * 3 + 5_000,
    );
    if (r?.ok === false) throw new Error(String(r.error));
    const signed = r?.signed as { armored: string; certificate: string; time: number } | null;
    if (signed) {
      io.stdout.write(signed.armored);
      status(sigCreatedStatus(Buffer.from(signed.certificate, 'base64'), new Date(signed.time)));
      return;
    }
  }
  const { signGitPayload } = await import('../client/git/sign.ts');
  const { ctx, keep } = await signingContext(
    server,
    { tlog, cache, http, socket, storeKeys, gitsign },
    io,
  );
  const r = await signGitPayload(payload, ctx, new Date(), { committer });
  await keep(); // a credential that signed (matchCommitter refuses before) serves the next commits
  io.stdout.write(r.armored);
  status(sigCreatedStatus(r.certificate, r.signingTime));
}

/** gitsign's token providers Signet has (spiffe and google are not among them). */
const TOKEN_PROVIDERS = [
  'interactive',
  'device',
  'github-actions',
  'buildkite-agent',
  'filesystem',
];

type GitsignServices = Awaited<ReturnType<typeof gitsignServices>>;

/**
 * gitsign's service settings, in gitsign's order (GITSIGN_*, then SIGSTORE_*, then gitsign.*),
 * as setupSigning options; each URL checked and errors naming the setting.
 */
async function gitsignServices(io: Io, cfg: Map<string, string>) {
  const get = (key: string, env: string) =>
    setting(io, cfg, [`GITSIGN_${env}`, `SIGSTORE_${env}`, `gitsign.${key}`]);
  const { httpUrl } = await import('../services/http/outbound.ts');
  const url = (key: string, env: string) => {
    const s = get(key, env);
    if (s) httpUrl(s.value, s.name);
    return s?.value;
  };
  const provider = get('tokenProvider', 'TOKEN_PROVIDER');
  if (provider && !TOKEN_PROVIDERS.includes(provider.value))
    throw new UsageError(
      `${provider.name}: "${provider.value}" is not a token provider Signet has (${TOKEN_PROVIDERS.join(', ')})`,
    );
  const secret = get('clientSecretFile', 'OIDC_CLIENT_SECRET_FILE');
  const { readDocument } = secret ? await import('../client/file-or-url.ts') : {};
  return {
    caUrl: url('fulcio', 'FULCIO_URL'),
    rekorUrl: url('rekor', 'REKOR_URL'),
    timestampServerUrl: url('timestampServerURL', 'TIMESTAMP_SERVER_URL'),
    oidcIssuer: url('issuer', 'OIDC_ISSUER'),
    oidcClientId: get('clientID', 'OIDC_CLIENT_ID')?.value,
    oidcRedirectUrl: url('redirectURL', 'OIDC_REDIRECT_URL'),
    oidcClientSecret: secret && readDocument?.(secret.value, secret.name).trim(),
    // device: a person signs in, as with interactive, but through the device flow (a code to
    // enter on any device) even where a browser could be opened, as gitsign's device provider
    oidcProvider: provider && (provider.value === 'device' ? 'interactive' : provider.value),
    ...(provider ? { names: { oidcProvider: provider.name } } : {}),
    signIn: provider?.value === 'device' ? ('device' as const) : undefined,
  };
}

/** A sign-in: a fresh key certified by the CA, and `keep` to hand it to the credential cache. */
async function signingContext(
  server: string | undefined,
  o: {
    tlog: boolean;
    cache: boolean;
    http: { timeoutMs: number; retries: number };
    socket: string;
    /** The cache keys a new credential is kept under (signingSettings). */
    storeKeys: string[];
    gitsign: GitsignServices;
  },
  io: Io,
) {
  const agent = await import('../client/git/agent.ts');
  const { generateKeyPairSync, X509Certificate } = process.getBuiltinModule('node:crypto');
  const { setupSigning } = await import('../client/sign/setup.ts');
  const { tufCacheDir } = await import('../client/verify/setup.ts');
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { signIn, ...services } = o.gitsign;
  const mode = await signInMode(io.env, signIn);
  // No sign-in, nothing to say on the terminal (a failure's reason is said by the caller).
  const tty = mode === 'never' ? undefined : terminal();
  const ctx = await setupSigning({
    ...(server !== undefined ? { server, tufCacheDir: tufCacheDir() } : {}),
    ...services,
    rekorVersion: 1, // gitsign's log entries are Rekor v1 hashedrekords
    tlogUpload: o.tlog,
    http: o.http,
    env: io.env,
    keyPair,
    // git owns stdin and stderr: a person signs in through the terminal, if there is one
    // (the browser where one can be opened, else the device flow), unless SIGNET_SIGN_IN says.
    interactive: mode,
    // git takes no flags of ours: a token comes from the environment
    names: { ...services.names, identityToken: 'SIGSTORE_ID_TOKEN' },
    ...(tty !== undefined ? { say: (m: string) => fs.writeSync(tty, `${m}\n`) } : {}),
  });
  const keep = async (): Promise<void> => {
    if (!o.cache || ctx.signer.material.$case !== 'certificate') return;
    const chainPem = (ctx.signer as { chainPem?: string[] }).chainPem ?? [];
    const notAfter = Date.parse(new X509Certificate(ctx.signer.material.certificateDer).validTo);
    const credential = {
      keyPem: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      chainPem,
      services: ctx.services,
      notAfter,
    };
    // A cache that cannot be used is said (the commit is signed all the same): silently, each
    // commit would wait for an agent that never starts.
    const off = (why: string) => tell(io, `signet: the credential cache is off: ${why}`);
    for (const key of o.storeKeys) {
      let stored: boolean;
      try {
        stored = await agent.storeCredential(o.socket, key, credential, () => startAgent(io.env));
      } catch (e) {
        return off(oneLine(e));
      }
      if (!stored) return off(`its agent did not start at ${o.socket}`);
    }
  };
  return { ctx, keep };
}

/**
 * How a person signs in: as SIGNET_SIGN_IN says when set; not at all without a terminal (git
 * holds stdin and stderr); through the device flow for gitsign's device token provider; else
 * in the browser where one can be opened, else through the device flow.
 */
async function signInMode(
  env: NodeJS.ProcessEnv,
  provider: 'device' | undefined,
): Promise<'browser' | 'device' | 'never'> {
  const forced = env.SIGNET_SIGN_IN;
  if (forced === 'browser' || forced === 'device' || forced === 'never') return forced;
  if (forced !== undefined && forced !== '' && forced !== 'auto')
    throw new UsageError(`SIGNET_SIGN_IN: "${forced}" is not one of auto, browser, device, never`);
  const tty = terminal();
  if (tty === undefined) return 'never';
  fs.closeSync(tty);
  if (provider === 'device') return 'device';
  const { canOpenBrowser } = await import('../client/identity/interactive.ts');
  return canOpenBrowser(env) ? 'browser' : 'device';
}

/**
 * The controlling terminal, when there is one (git holds stdin and stderr): to sign in through,
 * and to say why signing failed (git shows only its own line).
 */
function terminal(): number | undefined {
  try {
    return fs.openSync('/dev/tty', 'w');
  } catch {
    return undefined;
  }
}

function startAgent(env: NodeJS.ProcessEnv): void {
  const { spawn } = process.getBuiltinModule('node:child_process');
  const main = moduleUrl('./main.ts', import.meta.url).pathname;
  spawn(process.execPath, ['--disable-warning=ExperimentalWarning', main, 'git', 'agent'], {
    detached: true,
    stdio: 'ignore',
    env,
    cwd: '/', // the agent outlives this commit; it must not hold the repository's folder
  }).unref();
}

async function verify(files: string[], io: Io, status: (s: string) => void): Promise<number> {
  const st = await import('../core/git/status.ts');
  status(st.newSigStatus());
  let certificate: Uint8Array | undefined;
  let defaultTrust = false;
  try {
    if (files.length !== 2 || files[1] !== '-')
      throw new UsageError('verify takes the signature file and - (the payload on stdin)');
    const signature = new Uint8Array(fs.readFileSync(files[0]!));
    const payload = await readAll(io.stdin);
    const { parseGitSignature } = await import('../core/git/signature.ts');
    try {
      certificate = parseGitSignature(signature).certificate;
    } catch {
      certificate = undefined;
    }
    // gpgsm's order: the signature against its own certificate first, before any trust, so a
    // changed commit is BAD (%G? B) whatever else fails, and names whom the signature claims.
    const { badSignature } = await import('../client/git/verify.ts');
    const bad = badSignature(payload, signature);
    if (bad) {
      status(st.badSigStatus(bad.certificate, bad.identity));
      io.stderr.write(`signet: BAD signature: ${oneLine(bad.reason)}\n`);
      return 1;
    }
    const cfg = await gitSettings(io.cwd);
    // One deadline for every request of the verification: the trust root's and the log's.
    const timeout = timeoutMs(cfg);
    const { loadTrust, trustOverridesFromEnv } = await import('../client/verify/trust.ts');
    const trustedRootFile = cfg.get('signet.trustedroot');
    const server = io.env.SIGNET_SERVER || cfg.get('signet.server');
    defaultTrust = !trustedRootFile && !server;
    const trustedRoot = await loadTrust({
      ...(trustedRootFile
        ? { trustedRoot: trustedRootFile }
        : { server, tufRoot: cfg.get('signet.tufroot') }),
      names: {
        trustedRoot: 'signet.trustedRoot',
        server: 'signet.server',
        tufRoot: 'signet.tufRoot',
      },
      env: io.env,
      overrides: {
        ...trustOverridesFromEnv(io.env),
        ...gitsignTrustFiles(settingLookup(io.env, cfg)),
      },
      timeoutMs: timeout,
    });
    const identity = cfg.get('signet.identity');
    const issuer = cfg.get('signet.issuer');
    if (!identity !== !issuer)
      throw new UsageError(
        `${identity ? 'signet.identity is set but signet.issuer is not' : 'signet.issuer is set but signet.identity is not'}: set both (signet git setup --identity ... --issuer ...), or neither`,
      );
    const { ANY_IDENTITY, verifyGitSignatureOnline } = await import('../client/git/verify.ts');
    const { rekorSearch } = await import('../client/git/commits.ts');
    const { joinSignature, objectFormatOfPayload, objectId, objectTypeOf } =
      await import('../core/git/object.ts');
    const policy = {
      kind: 'identity' as const,
      identity:
        identity && issuer
          ? { subjectAlternativeName: { exact: identity }, issuer: { exact: issuer } }
          : ANY_IDENTITY,
    };
    const type = objectTypeOf(payload) ?? 'commit';
    const format = objectFormatOfPayload(payload);
    const id = objectId(type, joinSignature(type, payload, signature, format), format);
    const r = await verifyGitSignatureOnline(
      payload,
      signature,
      id,
      trustedRoot,
      policy,
      rekorSearch(
        trustedRoot,
        { timeoutMs: timeout },
        server ? [`${server.replace(/\/+$/, '')}/rekor`] : [],
      ),
      { allowNoTlog: !bool(cfg.get('signet.tlog'), 'signet.tlog', true) },
    );
    const who = r.identity.join(', ') || '(no identity)';
    const when = r.times[0]?.time ?? r.claimedTime ?? new Date();
    io.stderr.write(`signet: Good signature from ${who} (issuer ${r.issuer ?? 'unknown'})\n`);
    io.stderr.write(
      r.log
        ? `signet: logged at index ${r.log.logIndex} in ${r.log.log}${r.log.mode === 'online' ? ' (online entry)' : ''}, ${describeTimes(r.times)}\n`
        : `signet: NO TRANSPARENCY LOG ENTRY: timestamp only, ${describeTimes(r.times)}\n`,
    );
    if (!(identity && issuer))
      io.stderr.write(
        `signet: WARNING: git cannot say who must have signed; check with \`signet verify-${type === 'tag' ? 'tag' : 'commit'} --certificate-identity ... --certificate-oidc-issuer ...\` or set signet.identity and signet.issuer\n`,
      );
    status(st.goodSigStatus(r.certificate, r.identity, when));
    return 0;
  } catch (e) {
    status(st.errSigStatus(certificate, 9));
    // gitsign's settings name services, not trust: say where the trust came from (a bundle of
    // another deployment says it itself, with the settings to change: client/verify/default-trust.ts).
    const hint =
      (e as { details?: { defaultTrust?: unknown } }).details?.defaultTrust === true
        ? ''
        : defaultTrust
          ? '; trust came from the default TUF repository (Sigstore public-good, unless `signet initialize` set another): set signet.server to your Signet stack'
          : (e as { code?: unknown }).code === 'OTHER_DEPLOYMENT'
            ? '; set signet.server to the deployment that signed it (git config signet.server URL)'
            : '';
    io.stderr.write(`signet: cannot verify: ${oneLine(e)}${hint}\n`);
    return 1;
  }
}

function describeTimes(times: Array<{ source: string; time: Date }>): string {
  return times
    .map(
      (t) =>
        `${t.source === 'timestamp-authority' ? 'timestamped' : 'integrated'} ${t.time.toISOString()}`,
    )
    .join(', ');
}

if (isEntry(import.meta)) {
  process.stderr.on('error', ignoreClosedStderr);
  process.exitCode = await gitProgram(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
}
