/**
 * Where a verifier's trusted root comes from, in order:
 *  1. a trusted_root.json file (`--trusted-root`): no network;
 *  2. a Signet server (`--server` or SIGNET_SERVER) through its TUF repository;
 *  3. the default TUF repository: the one `signet initialize` set, else TUF_MIRROR (+ TUF_ROOT_JSON),
 *     else Sigstore's public-good repository, anchored in the root.json Signet ships. Updated
 *     through TUF when the mirror is reachable; otherwise the verified cache; for the public-good
 *     instance, as a last resort, the trusted_root.json shipped with Signet (only while the
 *     cache holds no metadata verified from the mirror: never a rollback from newer trust).
 * cosign's overrides then apply (SIGSTORE_ROOT_FILE, SIGSTORE_REKOR_PUBLIC_KEY,
 * SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, SIGSTORE_TSA_CERTIFICATE_FILE): each replaces that part of the
 * trusted root with the material in the file, as cosign does.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSystemError, invalid, SignetError } from '../../core/errors.ts';
import { tufCacheDir } from '../tuf/index.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import { parseJsonText } from '../../core/json.ts';
import { writeFileAtomic, writeTempBeside } from '../../log/atomic-file.ts';
import { inputNames, type InputNames } from '../input-names.ts';
import { displayName } from '../file-or-url.ts';
import { recordDefaultTrust, type DefaultTrust } from './default-trust.ts';
const fs = process.getBuiltinModule('node:fs');

/** Sigstore's public-good TUF repository (cosign's and sigstore-js's default mirror). */
export const PUBLIC_GOOD_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

export interface TrustOptions {
  /** A trusted_root.json file. */
  trustedRoot?: string | undefined;
  /** A Signet server (its TUF repository is `<server>/tuf`). */
  server?: string | undefined;
  /** Pin the server's TUF root.json. */
  tufRoot?: string | undefined;
  /** No network at all. */
  offline?: boolean | undefined;
  env?: NodeJS.ProcessEnv;
  warn?: (message: string) => void;
  /** How errors name the inputs above (default: the CLI's flags). */
  names?: InputNames<TrustInput>;
  /** Files replacing parts of the trusted root (default: cosign's SIGSTORE_* variables in env). */
  overrides?: TrustOverrideFiles;
  /** Each TUF request's deadline in milliseconds (default: the TUF client's). */
  timeoutMs?: number;
}

export type TrustInput = 'trustedRoot' | 'server' | 'tufRoot';
const TRUST_FLAGS: Record<TrustInput, string> = {
  trustedRoot: '--trusted-root',
  server: '--server',
  tufRoot: '--tuf-root',
};

/** The folder of the files shipped with Signet (data/ next to src/ or dist/). */
export function shippedDataDir(): string {
  return fileURLToPath(new URL('../../../data/', import.meta.url));
}

export { tufCacheDir };

/** What `signet initialize` saved: the default TUF repository and its pinned root. */
export interface DefaultRepository {
  mirror: string;
  rootFile: string;
}

const INITIALIZED = 'default-repository.json';

export function readInitialized(cacheDir: string): DefaultRepository | undefined {
  const file = path.join(cacheDir, INITIALIZED);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const v = parseConfig(text, file);
  return v;
}

function parseConfig(text: string, file: string): DefaultRepository {
  let v: unknown;
  try {
    v = parseJsonText(text, file);
  } catch (e) {
    throw invalid(
      file,
      `${(e as Error).message.replace(`${file}: `, '')}; run signet initialize again`,
      e,
    );
  }
  const o = v as { mirror?: unknown; rootFile?: unknown } | null;
  if (typeof o?.mirror !== 'string' || typeof o.rootFile !== 'string')
    throw invalid(file, 'is not a signet initialize record; run signet initialize again');
  return { mirror: o.mirror, rootFile: o.rootFile };
}

/**
 * `signet initialize --mirror URL --root FILE`: make this TUF repository the default for every
 * later verification, after a first verified update (so a wrong root fails now, not later).
 */
export async function initializeRepository(o: {
  mirror: string;
  /** A root.json file, its http(s) URL, or `env://VAR` (as cosign takes it). */
  root?: string | undefined;
  /** cosign's `--root-checksum`: hex SHA-256 of the root, or `sha256:HEX` / `sha512:HEX`. */
  rootChecksum?: string | undefined;
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  warn?: (m: string) => void;
  /** Each request's deadline in milliseconds (`--timeout`): the root URL and the TUF refresh. */
  timeoutMs?: number;
}): Promise<DefaultRepository & { trustedRootText: string }> {
  const env = o.env ?? process.env;
  const cacheDir = o.cacheDir ?? tufCacheDir(env);
  const { httpUrl, trimSlash } = await import('../../services/http/outbound.ts');
  httpUrl(o.mirror, '--mirror');
  const mirror = trimSlash(o.mirror);
  if (o.rootChecksum !== undefined && o.root === undefined)
    throw invalid('--root-checksum', 'goes with --root');
  let rootFile: string;
  if (o.root !== undefined) {
    const bytes = await readRoot(o.root, o.rootChecksum, o.warn, o.timeoutMs);
    const created = fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    rootFile = path.join(cacheDir, 'initialized-root.json');
    const { fetchTrust, removeNewFolders } = await import('../tuf/index.ts');
    // Checked before it replaces anything: the root must parse and the mirror must verify.
    // the root all verification trusts: a temporary file of its own (see writeTempBeside)
    const tmp = writeTempBeside(rootFile, bytes, 0o600);
    try {
      const trust = await fetchTrust({
        tufUrl: mirror,
        rootFile: tmp,
        rootLabel: displayName(o.root),
        names: { rootFile: '--root' },
        cacheDir,
        ...(o.warn ? { warn: o.warn } : {}),
        timeoutMs: o.timeoutMs,
      });
      fs.renameSync(tmp, rootFile);
      writeRecord(cacheDir, { mirror, rootFile });
      return { mirror, rootFile, trustedRootText: trust.trustedRootText };
    } catch (e) {
      // a cache folder this run made for nothing is not left behind
      removeNewFolders(created, cacheDir);
      throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  if (mirror !== PUBLIC_GOOD_MIRROR)
    throw invalid('--root', `is required for ${mirror}: the TUF root.json to trust it with`);
  rootFile = path.join(shippedDataDir(), 'public-good', 'root.json');
  const { fetchTrust } = await import('../tuf/index.ts');
  const trust = await fetchTrust({
    tufUrl: mirror,
    rootFile,
    cacheDir,
    ...(o.warn ? { warn: o.warn } : {}),
    timeoutMs: o.timeoutMs,
  });
  fs.rmSync(path.join(cacheDir, INITIALIZED), { force: true });
  return { mirror, rootFile, trustedRootText: trust.trustedRootText };
}

/**
 * The bytes of `--root`: a file, an http(s) URL (with a warning unless a checksum pins it) or
 * `env://VAR`, as cosign reads it, checked against `--root-checksum` when one is given.
 */
async function readRoot(
  root: string,
  checksum: string | undefined,
  warn: ((m: string) => void) | undefined,
  timeoutMs: number | undefined,
): Promise<Uint8Array> {
  const want = checksum === undefined ? undefined : parseChecksum(checksum);
  const { loadFileOrUrl, referenceOf } = await import('../file-or-url.ts');
  if (referenceOf(root).kind === 'url' && want === undefined)
    (warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(
      `--root ${displayName(root)} is downloaded without --root-checksum: whoever can change that download chooses what you trust`,
    );
  const bytes = await loadFileOrUrl(root, '--root', {
    // tuf-js's and go-tuf's limit for a root of unknown length
    maxBytes: 512_000,
    http: { retries: 0, timeoutMs },
    readFile: (file) => {
      try {
        return fs.readFileSync(file);
      } catch (e) {
        throw invalid('--root', describeSystemError(e, file), e);
      }
    },
  });
  if (want !== undefined) {
    const { createHash } = process.getBuiltinModule('node:crypto');
    const got = createHash(want.alg).update(bytes).digest('hex');
    if (got !== want.hex)
      throw invalid(
        '--root-checksum',
        `${displayName(root)} has ${want.alg} ${got}, not ${want.hex}`,
      );
  }
  return bytes;
}

/** cosign's checksum forms: `HEX` (SHA-256), `sha256:HEX`, `sha512:HEX`. */
function parseChecksum(v: string): { alg: 'sha256' | 'sha512'; hex: string } {
  const m = /^(?:(sha256|sha512):)?([0-9a-fA-F]+)$/.exec(v);
  const alg = (m?.[1] ?? 'sha256') as 'sha256' | 'sha512';
  if (!m || m[2]!.length !== (alg === 'sha256' ? 64 : 128))
    throw invalid(
      '--root-checksum',
      `"${v}" is not a hex SHA-256 (or sha256:HEX, sha512:HEX) of the root`,
    );
  return { alg, hex: m[2]!.toLowerCase() };
}

function writeRecord(cacheDir: string, r: DefaultRepository): void {
  const file = path.join(cacheDir, INITIALIZED);
  writeFileAtomic(file, `${JSON.stringify(r, null, 2)}\n`, 0o600);
}

function readSmall(file: string, label: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(label, describeSystemError(e, file), e);
  }
}

/** The trusted root as protobuf JSON, from the first source the options name (see top). */
export async function trustedRootJson(o: TrustOptions): Promise<{
  json: unknown;
  from: string;
  unreachable?: string;
  /** Set when it came from the default TUF repository: no file or server was named. */
  defaultRepository?: Omit<DefaultTrust, 'names'>;
}> {
  const env = o.env ?? process.env;
  const warn = o.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const n = inputNames(TRUST_FLAGS, o.names);
  if (o.trustedRoot !== undefined && o.server !== undefined)
    throw invalid(n.trustedRoot, `give either ${n.trustedRoot} or ${n.server}, not both`);
  if (o.trustedRoot !== undefined) {
    const { readDocument } = await import('../file-or-url.ts');
    const text = readDocument(o.trustedRoot, n.trustedRoot);
    return { json: parseJsonText(text, n.trustedRoot, o.trustedRoot), from: o.trustedRoot };
  }
  const server = o.server ?? (env.SIGNET_SERVER || undefined);
  const { fetchTrust } = await import('../tuf/index.ts');
  if (server !== undefined) {
    const { httpUrl } = await import('../../services/http/outbound.ts');
    httpUrl(server, o.server !== undefined ? n.server : 'SIGNET_SERVER');
    const t = await fetchTrust({
      serverUrl: server,
      cacheDir: tufCacheDir(env),
      warn,
      names: { rootFile: n.tufRoot },
      ...(o.tufRoot !== undefined ? { rootFile: o.tufRoot } : {}),
      ...(o.offline ? { offline: true } : {}),
      timeoutMs: o.timeoutMs,
    });
    return { json: t.trustedRoot, from: `${server}/tuf` };
  }
  const t = await fromDefaultRepository(env, o.offline === true, o.timeoutMs);
  return {
    json: t.trustedRoot,
    from: t.from,
    ...(t.unreachable ? { unreachable: t.unreachable } : {}),
    defaultRepository: { mirror: t.mirror, publicGood: t.publicGood, shipped: !!t.unreachable },
  };
}

/** The signing config of the default TUF repository (public-good unless initialized). */
export async function defaultSigningConfigJson(o: {
  env?: NodeJS.ProcessEnv;
  offline?: boolean | undefined;
  /** Each TUF request's deadline in milliseconds (default: the TUF client's). */
  timeoutMs?: number;
}): Promise<unknown> {
  const t = await fromDefaultRepository(o.env ?? process.env, o.offline === true, o.timeoutMs);
  if (t.signingConfig === undefined)
    throw new SignetError(
      'not-found',
      'NO_SIGNING_CONFIG',
      `the TUF repository ${t.from} has no signing config: give --signing-config FILE or --server URL`,
    );
  return t.signingConfig;
}

async function fromDefaultRepository(
  env: NodeJS.ProcessEnv,
  offline: boolean,
  timeoutMs: number | undefined,
): Promise<{
  trustedRoot: unknown;
  signingConfig: unknown;
  from: string;
  /** The repository, and whether it is public-good's (anchored in the shipped root.json). */
  mirror: string;
  publicGood: boolean;
  /** Set when the repository did not answer and the files shipped with Signet were used. */
  unreachable?: string;
}> {
  const cacheDir = tufCacheDir(env);
  const repo = defaultRepository(env, cacheDir);
  const { fetchTrust } = await import('../tuf/index.ts');
  try {
    const t = await fetchTrust({
      tufUrl: repo.mirror,
      rootFile: repo.rootFile,
      cacheDir,
      // The cache fallback is expected here (laptops go offline); it is not worth a warning.
      warn: () => {},
      ...(offline ? { offline: true } : {}),
      timeoutMs,
    });
    return {
      trustedRoot: t.trustedRoot,
      signingConfig: t.signingConfig,
      from: repo.mirror,
      mirror: repo.mirror,
      publicGood: repo.shipped,
    };
  } catch (e) {
    // Only an unreachable repository falls back, and only while the cache has never verified
    // metadata from it. A repository that fails verification is an attack or a
    // misconfiguration; a verified cache that has expired (TUF_CACHE_UNUSABLE) is what a freeze
    // attack leaves: falling back to the older shipped files would roll the client back to
    // keys it may have seen retired. Both stop here (fail closed).
    if (!(e instanceof SignetError) || e.code !== 'TUF_UNREACHABLE' || !repo.shipped) throw e;
    const dir = path.join(shippedDataDir(), 'public-good');
    const read = (name: string) =>
      parseJsonText(fs.readFileSync(path.join(dir, name), 'utf8'), 'shipped trust', name);
    return {
      trustedRoot: read('trusted_root.json'),
      signingConfig: read('signing_config.v0.2.json'),
      from: path.join(dir, 'trusted_root.json'),
      mirror: repo.mirror,
      publicGood: true,
      unreachable: repo.mirror,
    };
  }
}

/** The repository verifications use when no file or server is named. */
function defaultRepository(
  env: NodeJS.ProcessEnv,
  cacheDir: string,
): DefaultRepository & { shipped: boolean } {
  if (env.TUF_MIRROR) {
    // TUF_MIRROR alone is a mirror of the public-good repository: trusted with the shipped root.
    const root = env.TUF_ROOT_JSON || undefined;
    if (root?.trimStart().startsWith('{'))
      throw invalid(
        'TUF_ROOT_JSON',
        "holds JSON: it names the root.json file, so give the file's path",
      );
    return {
      mirror: env.TUF_MIRROR.replace(/\/+$/, ''),
      rootFile: root ?? path.join(shippedDataDir(), 'public-good', 'root.json'),
      shipped: root === undefined,
    };
  }
  const init = readInitialized(cacheDir);
  if (init) return { ...init, shipped: false };
  return {
    mirror: PUBLIC_GOOD_MIRROR,
    rootFile: path.join(shippedDataDir(), 'public-good', 'root.json'),
    shipped: true,
  };
}

/** The parts of a trusted root cosign's environment can replace. */
export type TrustOverride = 'fulcio' | 'rekor' | 'ctfe' | 'tsa';

/** cosign's variable for each part (gitsign reads SIGSTORE_ROOT_FILE as its fulcioRoot too). */
export const TRUST_OVERRIDE_VARIABLES: Record<TrustOverride, string> = {
  fulcio: 'SIGSTORE_ROOT_FILE',
  rekor: 'SIGSTORE_REKOR_PUBLIC_KEY',
  ctfe: 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE',
  tsa: 'SIGSTORE_TSA_CERTIFICATE_FILE',
};

/**
 * Files that replace parts of a trusted root, and the setting each came from (for errors).
 * `pool`: a TSA file of CA certificates in any order, the TSA's own optional (gitsign's
 * timestampCertChain), rather than cosign's chain from the TSA's certificate.
 */
export type TrustOverrideFiles = Partial<
  Record<TrustOverride, { file: string; name: string; pool?: boolean }>
>;

/** cosign's environment overrides: the files its SIGSTORE_* variables name. */
export function trustOverridesFromEnv(env: NodeJS.ProcessEnv): TrustOverrideFiles {
  const out: TrustOverrideFiles = {};
  for (const [kind, name] of Object.entries(TRUST_OVERRIDE_VARIABLES) as Array<
    [TrustOverride, string]
  >) {
    const file = env[name];
    if (file) out[kind] = { file, name };
  }
  return out;
}

/**
 * Each part of the trusted root a file is given for, replaced with the material in it, as
 * cosign replaces them: CA certificates (SIGSTORE_ROOT_FILE: roots and intermediates in any
 * order, a CA for each path from one of them to a root), the log key
 * (SIGSTORE_REKOR_PUBLIC_KEY), the CT log key (SIGSTORE_CT_LOG_PUBLIC_KEY_FILE), the TSA chain
 * (SIGSTORE_TSA_CERTIFICATE_FILE: the TSA's certificate first; a pool as gitsign's, an
 * authority for each path to a root, whose timestamps then carry the TSA's certificate).
 * Errors name the setting the file came from.
 */
export async function applyTrustOverrides(
  json: unknown,
  overrides: TrustOverrideFiles,
): Promise<unknown> {
  if (Object.keys(overrides).length === 0) return json;
  const { composeTrustedRoot } = await import('../sign/trusted-root-create.ts');
  const start = '1970-01-01T00:00:00Z';
  const chain = (kind: 'fulcio' | 'tsa') => {
    const o = overrides[kind];
    if (!o) return [];
    const url = `env:${o.name}`;
    return [
      kind === 'tsa' && !o.pool
        ? { url, chainFile: o.file, field: o.name, start, leafFirst: true }
        : { url, chainFile: o.file, field: o.name, start, pool: true },
    ];
  };
  const log = (kind: 'rekor' | 'ctfe') => {
    const o = overrides[kind];
    return o ? [{ url: `env:${o.name}`, keyFile: o.file, field: o.name, start }] : [];
  };
  const made = composeTrustedRoot(
    { fulcio: chain('fulcio'), tsa: chain('tsa'), rekor: log('rekor'), ctfe: log('ctfe') },
    { read: (file, field) => readSmall(file, field) },
  );
  const out = { ...(json as Record<string, unknown>) };
  if (overrides.fulcio) out.certificateAuthorities = made.certificateAuthorities;
  if (overrides.rekor) {
    // A key the root already lists keeps that log's URL: checkpoints name their log by it
    // (the origin check in verify/tlog.ts), and a file holds only the key. Any other key names
    // its log alone (an env: URL, no http(s) one), as cosign trusts it.
    const known = new Map(
      ((out.tlogs ?? []) as Array<{ logId?: { keyId?: string }; baseUrl?: string }>).map((t) => [
        t.logId?.keyId,
        t.baseUrl,
      ]),
    );
    out.tlogs = (made.tlogs as Array<{ logId?: { keyId?: string }; baseUrl?: string }>).map((t) => {
      const url = known.get(t.logId?.keyId);
      return url ? { ...t, baseUrl: url } : t;
    });
  }
  if (overrides.ctfe) out.ctlogs = made.ctlogs;
  if (overrides.tsa) out.timestampAuthorities = made.timestampAuthorities;
  return out;
}

/** The trusted root, parsed: from the options' source, with the environment's overrides. */
export async function loadTrust(o: TrustOptions): Promise<TrustedRoot> {
  const { json, from, defaultRepository } = await trustedRootJson(o);
  const overrides = o.overrides ?? trustOverridesFromEnv(o.env ?? process.env);
  const withOverrides = await applyTrustOverrides(json, overrides);
  const { parseTrustedRoot } = await import('../../bundle/trusted-root.ts');
  try {
    const root = parseTrustedRoot(withOverrides);
    // A failure against it says which root that was (one the user never named) and what to
    // give instead; a root the environment changed in part is no longer only the default.
    if (defaultRepository && Object.keys(overrides).length === 0) {
      const n = inputNames(TRUST_FLAGS, o.names);
      recordDefaultTrust(root, {
        ...defaultRepository,
        names: { server: n.server, trustedRoot: n.trustedRoot },
      });
    }
    return root;
  } catch (e) {
    if (e instanceof SignetError)
      throw new SignetError(e.kind, e.code, `${from} is not a valid trusted root: ${e.message}`, {
        field:
          o.trustedRoot !== undefined
            ? inputNames(TRUST_FLAGS, o.names).trustedRoot
            : 'trusted root',
        cause: e,
      });
    throw e;
  }
}
