import path from 'node:path';
import type { Fetcher, Updater } from 'tuf-js';
import { describeSystemError, invalid, SignetError } from '../../core/errors.ts';
import { httpUrl, send, trimSlash } from '../../services/http/outbound.ts';
import { parseJsonText } from '../../core/json.ts';
import type { InputNames } from '../input-names.ts';
import { chainsFromPin, forgetUnanchored, recordingRoots } from './anchor.ts';
const { createHash } = process.getBuiltinModule('node:crypto');
const fs = process.getBuiltinModule('node:fs');

/** Target names as in Sigstore's public TUF repository (and Signet's /tuf). */
export const TRUSTED_ROOT_TARGET = 'trusted_root.json';
export const SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json';

export interface FetchTrustOptions {
  /** Base URL of a Signet stack; its TUF repository is `<serverUrl>/tuf`. */
  serverUrl?: string;
  /** URL of a TUF repository (metadata at `<tufUrl>/N.root.json`, targets at `<tufUrl>/targets/`). */
  tufUrl?: string;
  /** A root.json to pin (recommended). Without it the first use trusts the server's 1.root.json. */
  rootFile?: string;
  /** How messages name the root file, when `rootFile` is a copy (initialize's temporary one). */
  rootLabel?: string;
  /** Folder for the local TUF cache (one subfolder per repository). */
  cacheDir: string;
  /** Where warnings go (trust on first use, offline fallback). Default: stderr. */
  warn?: (message: string) => void;
  /** Network timeout per request in milliseconds (default 10 s). */
  timeoutMs?: number;
  /**
   * How long after a refresh from the network the cached, verified, unexpired metadata is used
   * without asking the repository again (default 0: always ask). A signer run many times in a
   * row (a CI job) saves the round trips with SIGNER_CACHE_VALIDITY_MS: it reads only the
   * signing config, whose service URLs a rotation does not change. Verifiers always ask, so a
   * rotated key is trusted at once (see unchangedTargets for what an unchanged answer costs).
   */
  cacheValidityMs?: number;
  /** No network at all: only the verified, unexpired metadata already in the cache. */
  offline?: boolean;
  /**
   * The repository must answer now: unreachable, fail (TUF_UNREACHABLE) instead of falling
   * back to the verified cache, which may be out of date. For trust exported to be used
   * elsewhere (`signet trusted-root --out`, carried into an air gap), where the cached copy would
   * be taken for the current one; verifiers keep the fallback. When a verified copy is cached
   * (which `offline` would use), the error's `details.cached` is true.
   */
  requireNetwork?: boolean;
  /** How errors name `rootFile` (default `rootFile`): the caller's flag or option. */
  names?: InputNames<'rootFile'>;
}

/** Where TUF metadata is cached: SIGNET_TUF_CACHE, cosign's TUF_ROOT, else ~/.cache/signet/tuf. */
export function tufCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SIGNET_TUF_CACHE) return env.SIGNET_TUF_CACHE;
  if (env.TUF_ROOT) return env.TUF_ROOT;
  // HOME is what os.homedir() reads first; node:os is loaded only without it.
  const home = env.HOME || process.getBuiltinModule('node:os').homedir();
  const base = env.XDG_CACHE_HOME || path.join(home, '.cache');
  return path.join(base, 'signet', 'tuf');
}

/** See FetchTrustOptions.cacheValidityMs. */
export const SIGNER_CACHE_VALIDITY_MS = 5 * 60_000;

export interface FetchedTrust {
  /** trusted_root.json (protobuf-specs TrustedRoot JSON), parsed when read (it may throw then). */
  readonly trustedRoot: unknown;
  /**
   * signing_config.v0.2.json (SigningConfig v0.2 JSON), or undefined if the repository has none;
   * parsed when read.
   */
  readonly signingConfig: unknown;
  trustedRootText: string;
  signingConfigText: string | undefined;
  /** True when the network could not be reached and verified cached metadata was used. */
  offline: boolean;
  /**
   * True when the repository was not asked: a refresh within `cacheValidityMs` verified these
   * targets. What they say may have changed on the server since (a moved or rebuilt stack).
   */
  recorded: boolean;
  /** The repository's cache folder. */
  cachePath: string;
}

/**
 * Gets the trusted root and signing config through TUF (tuf-js) from a pinned root: the TUF
 * client verifies the root chain, timestamp, snapshot and targets, and the files' hashes.
 * Everything is cached; without network the cached, still-unexpired metadata is used.
 */
export async function fetchTrust(opts: FetchTrustOptions): Promise<FetchedTrust> {
  const tufUrl = repositoryUrl(opts);
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  // One cache per repository and trust anchor: a root file given later (e.g. for a server that
  // was set up again) starts its own chain instead of being shadowed by an older pin.
  const given =
    opts.rootFile === undefined
      ? undefined
      : readRootFile(opts.rootFile, opts.names?.rootFile ?? 'rootFile');
  const cachePath = trustCachePath(opts.cacheDir, tufUrl, given);
  const metadataDir = path.join(cachePath, 'metadata');
  const targetDir = path.join(cachePath, 'targets');
  const created = fs.mkdirSync(metadataDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(targetDir, { recursive: true, mode: 0o700 });
  try {
    return await refreshTrust(opts, tufUrl, cachePath, given, warn);
  } catch (e) {
    // A first fetch that failed (a wrong URL, a root that is not the server's) leaves no cache
    // behind: nothing in it was ever verified.
    removeNewFolders(created, cachePath);
    throw e;
  }
}

/** The cache folder of a repository and trust anchor (`root`: the pinned root's text, if given). */
export function trustCachePath(cacheDir: string, tufUrl: string, root: string | undefined): string {
  const anchor =
    root === undefined
      ? 'first-use'
      : `root-${createHash('sha256').update(root).digest('hex').slice(0, 16)}`;
  return path.join(cacheDir, cacheName(tufUrl), anchor);
}

/**
 * Removes the folders a first run made when it failed: `cachePath` (or the part of it that was
 * new), then each new parent up to `created` (what mkdirSync made first) while it is empty, so
 * another repository's cache, made meanwhile beside it, stays.
 */
export function removeNewFolders(created: string | undefined, cachePath: string): void {
  if (created === undefined) return;
  const top = created.length > cachePath.length ? created : cachePath;
  fs.rmSync(top, { recursive: true, force: true });
  for (let d = path.dirname(top); d.length >= created.length; d = path.dirname(d))
    try {
      fs.rmdirSync(d);
    } catch {
      return; // not empty (or gone): what is left is not only this run's
    }
}

/** fetchTrust once its cache folders exist: pin the root, refresh (or use the cache), read. */
async function refreshTrust(
  opts: FetchTrustOptions,
  tufUrl: string,
  cachePath: string,
  given: string | undefined,
  warn: (m: string) => void,
): Promise<FetchedTrust> {
  const metadataDir = path.join(cachePath, 'metadata');
  const targetDir = path.join(cachePath, 'targets');
  if (opts.offline && given === undefined && !fs.existsSync(path.join(metadataDir, 'root.json')))
    throw new SignetError(
      'unavailable',
      'TUF_UNREACHABLE',
      `offline: no root is pinned for ${tufUrl} in ${cachePath}; run once with the network, or pass the root file`,
    );
  // A pinned root anchors every run (anchor.ts): a cache that does not follow from it is set aside.
  if (
    given !== undefined &&
    fs.existsSync(path.join(metadataDir, 'root.json')) &&
    !(await chainsFromPin(cachePath, given))
  ) {
    forgetUnanchored(cachePath, [...METADATA.map((m) => path.join('metadata', m)), RECORD]);
    warn(
      `the TUF cache in ${cachePath} does not follow from the given root (changed by someone, or left by another copy of it), so it was set aside and the trust is fetched again`,
    );
  }
  await pinRoot(tufUrl, metadataDir, given, opts.timeoutMs, warn);

  // tuf-js (some 40 modules) is loaded only when metadata is verified, not for a recorded result.
  const make = async (forceCache: boolean): Promise<Updater> => {
    const [{ Updater }, { tufFetcher }] = await Promise.all([
      import('tuf-js'),
      import('./fetcher.ts'),
    ]);
    return new Updater({
      metadataDir,
      metadataBaseUrl: tufUrl,
      targetDir,
      targetBaseUrl: `${tufUrl}/targets`,
      forceCache,
      config: { maxRootRotations: MAX_ROOT_ROTATIONS },
      // Offline: a cache miss must fail, never fall through to the network.
      fetcher: opts.offline
        ? NO_NETWORK
        : recordingRoots(tufFetcher(opts.timeoutMs ?? 10_000), cachePath),
    });
  };

  let offline = false;
  // Recently refreshed and the cache holds exactly the bytes that refresh verified: its result.
  let files = recordedTargets(cachePath, opts.cacheValidityMs ?? 0);
  const recorded = files !== undefined;
  if (files === undefined)
    try {
      if (opts.offline) throw new OfflineRequested();
      files =
        (await unchangedTargets(cachePath, tufUrl, opts.timeoutMs ?? 10_000)) ??
        (await getTargets(await make(false), true));
      recordVerified(cachePath, metadataDir, files);
    } catch (e) {
      if (!isNetworkError(e))
        throw tufError(
          tufUrl,
          e,
          given === undefined
            ? { firstUse: cachePath }
            : { rootFile: opts.rootLabel ?? opts.rootFile! },
        );
      // Trust to export must be current: a cached copy is not used (with none, the error below).
      if (
        opts.requireNetwork &&
        !(e instanceof OfflineRequested) &&
        fs.existsSync(path.join(metadataDir, 'timestamp.json'))
      )
        throw new SignetError(
          'unavailable',
          'TUF_UNREACHABLE',
          `cannot reach the TUF repository ${tufUrl} (${describe(e)}); the trust verified from it before (cached in ${cachePath}) may be out of date, so it is not used`,
          { cause: e, details: { cached: true } },
        );
      try {
        files = await getTargets(await make(true), false);
      } catch (e2) {
        // A cache that once verified a timestamp from this repository knows more than the trust
        // anchor alone: callers must not fall back to older trust then (see TUF_CACHE_UNUSABLE).
        if (fs.existsSync(path.join(metadataDir, 'timestamp.json')))
          throw new SignetError(
            'unavailable',
            'TUF_CACHE_UNUSABLE',
            `cannot reach the TUF repository ${tufUrl} (${describe(e)}) and the trust verified from it before cannot be used: ${staleReason(metadataDir, e2)} (cached in ${cachePath})`,
            { cause: e },
          );
        throw new SignetError(
          'unavailable',
          'TUF_UNREACHABLE',
          `cannot reach the TUF repository ${tufUrl} (${describe(e)}), and nothing verified from it is cached`,
          { cause: e },
        );
      }
      offline = true;
      if (!(e instanceof OfflineRequested))
        warn(
          `cannot reach ${tufUrl} (${describe(e)}); using the verified trust cached in ${cachePath}`,
        );
    }
  const trustedRootText = files.get(TRUSTED_ROOT_TARGET)?.text;
  if (trustedRootText === undefined)
    throw new SignetError(
      'not-found',
      'TUF_NO_TRUSTED_ROOT',
      `the TUF repository ${tufUrl} has no ${TRUSTED_ROOT_TARGET} target`,
    );
  const signingConfigText = files.get(SIGNING_CONFIG_TARGET)?.text;
  // Each target is parsed when it is first read: a signer reads only the signing config, and
  // the trusted root's strict parse was a millisecond of every `signet sign-blob`.
  let trustedRoot: unknown;
  let signingConfig: unknown;
  return {
    get trustedRoot() {
      return (trustedRoot ??= parseJson(trustedRootText, TRUSTED_ROOT_TARGET));
    },
    get signingConfig() {
      if (signingConfigText === undefined) return undefined;
      return (signingConfig ??= parseJson(signingConfigText, SIGNING_CONFIG_TARGET));
    },
    trustedRootText,
    signingConfigText,
    offline,
    recorded,
    cachePath,
  };
}

/** A target read from the cache: its file there and its text. */
interface CachedTarget {
  file: string;
  text: string;
}

/** The top-level metadata tuf-js verifies from the cache (TUF 1.0 §5). */
const METADATA = ['root.json', 'timestamp.json', 'snapshot.json', 'targets.json'];

/**
 * What the last refresh from the network verified, in `<cache>/verified.json`: when, the
 * SHA-256 of each metadata file and target it read, and the earliest expiry among that
 * metadata. tuf-js's result depends only on those bytes and the time, so within the cache
 * validity a cache that still holds exactly them gives the same targets without loading
 * tuf-js to verify the same signatures again (bench/sign). Any changed, missing or expired
 * file goes through tuf-js.
 */
interface VerifiedRecord {
  at: string;
  expires: string;
  metadata: Record<string, string>;
  /** Target name -> its file (relative to the cache) and SHA-256; null: not in the repository. */
  targets: Record<string, { file: string; sha256: string } | null>;
}

const RECORD = 'verified.json';
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function recordVerified(
  cachePath: string,
  metadataDir: string,
  files: Map<string, CachedTarget | undefined>,
): void {
  const metadata: Record<string, string> = {};
  let expires = Infinity;
  for (const name of METADATA) {
    const bytes = fs.readFileSync(path.join(metadataDir, name));
    metadata[name] = sha256(bytes);
    const e = Date.parse(
      (JSON.parse(bytes.toString('utf8')) as { signed: { expires: string } }).signed.expires,
    );
    expires = Math.min(expires, Number.isNaN(e) ? -Infinity : e);
  }
  if (!Number.isFinite(expires)) return; // nothing to record a result under
  const targets: VerifiedRecord['targets'] = {};
  for (const [name, t] of files)
    targets[name] = t ? { file: path.relative(cachePath, t.file), sha256: sha256(t.text) } : null;
  const record: VerifiedRecord = {
    at: new Date().toISOString(),
    expires: new Date(expires).toISOString(),
    metadata,
    targets,
  };
  fs.writeFileSync(path.join(cachePath, RECORD), JSON.stringify(record), { mode: 0o600 });
}

/** The targets `verified.json` records, if under `validityMs` old, unexpired and unchanged. */
function recordedTargets(
  cachePath: string,
  validityMs: number,
): Map<string, CachedTarget | undefined> | undefined {
  if (validityMs <= 0) return undefined;
  try {
    const r = JSON.parse(fs.readFileSync(path.join(cachePath, RECORD), 'utf8')) as VerifiedRecord;
    const now = Date.now();
    const age = now - Date.parse(r.at);
    if (!(age >= 0 && age < validityMs && now < Date.parse(r.expires))) return undefined;
    const metadataDir = path.join(cachePath, 'metadata');
    for (const name of METADATA)
      if (sha256(fs.readFileSync(path.join(metadataDir, name))) !== r.metadata[name])
        return undefined;
    const out = new Map<string, CachedTarget | undefined>();
    for (const name of [TRUSTED_ROOT_TARGET, SIGNING_CONFIG_TARGET]) {
      const t = r.targets[name];
      if (t === undefined) return undefined;
      if (t === null) {
        out.set(name, undefined);
        continue;
      }
      const file = path.join(cachePath, t.file);
      const text = fs.readFileSync(file, 'utf8');
      if (sha256(text) !== t.sha256) return undefined;
      out.set(name, { file, text });
    }
    return out;
  } catch {
    return undefined; // no record, or one this code cannot read: verify
  }
}

/**
 * Root versions one refresh follows (tuf-js's default is 256, one request each, each with its
 * own timeout): a repository holding the root key could make a run wait 256 timeouts (a
 * red-team review: 3.5 min at --timeout 1, over 2 h at 30 s). Sigstore's public-good root has
 * had about a dozen versions in five years; a client this far behind goes on at the next run.
 */
const MAX_ROOT_ROTATIONS = 32;

/** tuf-js's default download limits (its config.js) for the two files a revalidation reads. */
const ROOT_MAX_BYTES = 512_000;
const TIMESTAMP_MAX_BYTES = 16_384;

/**
 * The recorded targets when the repository still serves what the last refresh verified: no root
 * newer than the cached one (403 or 404 for N+1.root.json, TUF 1.0 §5.3.3) and timestamp.json
 * byte for byte the cached one. tuf-js's refresh would then read nothing more from the network
 * (an unchanged timestamp names the cached snapshot, which names the cached targets), verify
 * the same bytes under the same root, and give the recorded targets, unless something expired,
 * which recordedTargets checks along with every cached file's hash. The network is asked on
 * every run, so a rotated key or a new target is seen at once; any other answer (a newer root, a
 * new timestamp, an HTTP error) goes to tuf-js. Two requests and no tuf-js is what a verifier
 * run costs when nothing changed.
 */
async function unchangedTargets(
  cachePath: string,
  tufUrl: string,
  timeoutMs: number,
): Promise<Map<string, CachedTarget | undefined> | undefined> {
  const recorded = recordedTargets(cachePath, Infinity);
  if (recorded === undefined) return undefined;
  const metadataDir = path.join(cachePath, 'metadata');
  const version = (
    JSON.parse(fs.readFileSync(path.join(metadataDir, 'root.json'), 'utf8')) as {
      signed?: { version?: unknown };
    }
  ).signed?.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) return undefined;
  const get = (file: string, maxBytes: number, allow?: number[]) =>
    send(
      { service: 'the TUF repository', method: 'GET', url: `${tufUrl}/${file}`, maxBytes, allow },
      { timeoutMs, retries: 0 },
    );
  try {
    const [next, timestamp] = await Promise.all([
      get(`${version + 1}.root.json`, ROOT_MAX_BYTES, [403, 404]),
      get('timestamp.json', TIMESTAMP_MAX_BYTES),
    ]);
    const newerRoot = next.status !== 403 && next.status !== 404;
    const cached = fs.readFileSync(path.join(metadataDir, 'timestamp.json'));
    return !newerRoot &&
      sameBytes(timestamp.body, cached) &&
      chainedToTimestamp(cachePath, recorded)
      ? recorded
      : undefined;
  } catch (e) {
    // Not reached: the caller falls back to the verified cache. An error answer: tuf-js asks.
    if (isNetworkError(e)) throw e;
    return undefined;
  }
}

/**
 * Whether the cached snapshot, targets metadata and targets are, hash by hash, what the cached
 * timestamp names (timestamp -> snapshot.json -> targets.json -> each target; TUF 1.0 §4.4-4.6
 * `hashes`). unchangedTargets has just seen the repository serve that very timestamp, so this
 * anchors every cached byte to the repository without verifying a signature; `verified.json`
 * alone would not, since anything that can write the cache can rewrite it too. Metadata that
 * names a file by version only (no hashes) gives false: tuf-js then verifies the signatures.
 */
function chainedToTimestamp(
  cachePath: string,
  recorded: Map<string, CachedTarget | undefined>,
): boolean {
  const metadataDir = path.join(cachePath, 'metadata');
  const read = (name: string) => fs.readFileSync(path.join(metadataDir, name));
  const signed = (bytes: Buffer) =>
    (JSON.parse(bytes.toString('utf8')) as { signed?: Record<string, unknown> }).signed ?? {};
  const named = (meta: unknown, name: string, bytes: Uint8Array | string): boolean => {
    const m = (meta as Record<string, { hashes?: { sha256?: unknown }; length?: unknown }>)?.[name];
    const want = m?.hashes?.sha256;
    const length = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
    return (
      typeof want === 'string' &&
      want === sha256(bytes) &&
      (m!.length === undefined || m!.length === length)
    );
  };
  const snapshot = read('snapshot.json');
  const targets = read('targets.json');
  if (!named(signed(read('timestamp.json')).meta, 'snapshot.json', snapshot)) return false;
  if (!named(signed(snapshot).meta, 'targets.json', targets)) return false;
  const listed = signed(targets).targets as Record<string, unknown> | undefined;
  for (const [name, t] of recorded)
    if (t === undefined ? listed?.[name] !== undefined : !named(listed, name, t.text)) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function repositoryUrl(opts: FetchTrustOptions): string {
  const field = opts.tufUrl !== undefined ? 'tufUrl' : 'serverUrl';
  const raw = opts.tufUrl ?? opts.serverUrl;
  if (!raw) throw invalid('serverUrl', 'give the server URL or the TUF repository URL');
  httpUrl(raw, field);
  const base = trimSlash(raw);
  return opts.tufUrl !== undefined ? base : `${base}/tuf`;
}

/** A folder name per repository, readable and collision-free. */
function cacheName(url: string): string {
  const u = new URL(url);
  const readable = `${u.hostname}${u.port ? `_${u.port}` : ''}${u.pathname}`.replace(
    /[^A-Za-z0-9._-]+/g,
    '_',
  );
  return `${readable}-${createHash('sha256').update(url).digest('hex').slice(0, 8)}`;
}

/** Puts the trust anchor (root.json) in the cache: the given file, or trust on first use. */
function readRootFile(file: string, name: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(name, describeSystemError(e, file), e);
  }
  checkRoot(text, name);
  return text;
}

/** Puts the trust anchor (root.json) in the cache: the given root, or trust on first use. */
async function pinRoot(
  tufUrl: string,
  metadataDir: string,
  given: string | undefined,
  timeoutMs: number | undefined,
  warn: (m: string) => void,
): Promise<void> {
  const pinned = path.join(metadataDir, 'root.json');
  if (fs.existsSync(pinned)) return; // already pinned; tuf-js keeps it updated along the root chain
  let text = given;
  if (text === undefined) {
    const url = `${tufUrl}/1.root.json`;
    try {
      const res = await send(
        // tuf-js's limit for a root (its rootMaxLength), not the 16 MiB of any answer
        { service: 'the TUF repository', method: 'GET', url, maxBytes: ROOT_MAX_BYTES },
        { timeoutMs: timeoutMs ?? 10_000, retries: 0 },
      );
      text = new TextDecoder().decode(res.body);
    } catch (e) {
      throw new SignetError(
        'unavailable',
        'TUF_UNREACHABLE',
        `cannot fetch the initial root: ${(e as Error).message}`,
        { cause: e },
      );
    }
    checkRoot(text, url);
    const digest = createHash('sha256').update(text).digest('hex');
    warn(
      `trust on first use: no root given for ${tufUrl}, so its 1.root.json (sha256 ${digest}) was fetched over the network and pinned in ${metadataDir}. ` +
        'Anyone who could tamper with this first download could have chosen what you trust; pass the root file you got from the server operator to pin it instead.',
    );
  }
  fs.writeFileSync(pinned, text, { mode: 0o600 });
}

function checkRoot(text: string, field: string): void {
  const v = parseJson(text, field);
  const signed = (v as { signed?: { _type?: unknown } } | null)?.signed;
  if (!signed || signed._type !== 'root')
    throw invalid(field, 'is not TUF root metadata (signed._type must be "root")');
}

async function getTargets(
  updater: Updater,
  download: boolean,
): Promise<Map<string, CachedTarget | undefined>> {
  await updater.refresh();
  const out = new Map<string, CachedTarget | undefined>();
  for (const name of [TRUSTED_ROOT_TARGET, SIGNING_CONFIG_TARGET]) {
    const info = await updater.getTargetInfo(name);
    if (!info) {
      out.set(name, undefined);
      continue;
    }
    let file = await updater.findCachedTarget(info);
    if (!file) {
      if (!download) throw new Error(`${name} is not in the cache`);
      file = await updater.downloadTarget(info);
    }
    out.set(name, { file, text: fs.readFileSync(file, 'utf8') });
  }
  return out;
}

const NO_NETWORK: Fetcher = {
  downloadFile: () => Promise.reject(new OfflineRequested()),
  downloadBytes: () => Promise.reject(new OfflineRequested()),
};

/** `offline: true`: the network is not tried, the cache is used as when it is unreachable. */
class OfflineRequested extends Error {
  constructor() {
    super('offline mode');
  }
}

function isNetworkError(e: unknown): boolean {
  if (e instanceof OfflineRequested) return true;
  // The repository not reached, or an answer cut off or too large (fetcher.ts, client/http).
  if (e instanceof SignetError)
    return e.code === 'SERVICE_UNREACHABLE' || e.code === 'DEADLINE_EXCEEDED';
  // tuf-js's DownloadError family: HTTP error answers (fetcher.ts), wrong lengths.
  for (let p = e as object | null; p; p = Object.getPrototypeOf(p) as object | null)
    if (p.constructor?.name === 'DownloadError') return true;
  return false;
}

/** Why verified cached metadata cannot be used: the first file that has expired, else `e`. */
function staleReason(metadataDir: string, e: unknown): string {
  const now = Date.now();
  for (const name of METADATA) {
    try {
      const text = fs.readFileSync(path.join(metadataDir, name), 'utf8');
      const expires = (JSON.parse(text) as { signed?: { expires?: unknown } }).signed?.expires;
      if (typeof expires === 'string' && !(Date.parse(expires) > now))
        return `its ${name} expired at ${expires}`;
    } catch {
      // missing or unreadable: e says what failed
    }
  }
  return describe(e);
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.cause?.code !== undefined) return describeSystemError(err.cause, 'the repository');
  return [err.message, err.cause?.message].filter(Boolean).join(': ');
}

function tufError(
  url: string,
  e: unknown,
  anchor: { firstUse: string } | { rootFile: string },
): SignetError {
  if (e instanceof SignetError) return e;
  const message = (e as Error).message;
  // The given root is the trust anchor: a mismatch is reported against it, never resolved by
  // falling back to an earlier first-use pin. Any other refusal (an old version, expired
  // metadata, a wrong hash) is no reason to trust anew: the advice to do so is for keys only.
  const root = 'firstUse' in anchor ? `the root pinned in ${anchor.firstUse}` : anchor.rootFile;
  let hint =
    '; TUF refuses such metadata (a rollback, freeze or mix-and-match attack, or a broken repository)';
  if (/ was signed by \d+\/\d+ keys/.test(message))
    hint =
      'firstUse' in anchor
        ? `; the repository no longer matches the root first seen from it (pinned in ${anchor.firstUse}). If this server was set up again with new keys, remove that folder to trust it anew, or pass its root file`
        : `; the repository does not match the root given in ${anchor.rootFile} (its metadata is not signed by that root's keys). Check that the root file is this server's`;
  else if (/^Final root\.json is expired/.test(message))
    hint =
      `; the newest root reached from ${root} has expired: the repository withholds newer roots (a freeze attack)` +
      ('rootFile' in anchor ? `, or ${anchor.rootFile} is not this server's root` : '');
  return new SignetError(
    'verification',
    'TUF_VERIFICATION',
    `TUF update from ${url} failed: ${message}${hint}`,
    { cause: e },
  );
}

function parseJson(text: string, name: string): unknown {
  return parseJsonText(text, name);
}
