import type { KeyObject } from 'node:crypto';
import {
  parseSigningConfig,
  parseSigningConfigJSON,
  type SigningConfig,
} from '../../bundle/signing-config.ts';
import { describeSystemError, invalid, SignetError } from '../../core/errors.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { httpUrl, type HttpOptions, type TlsClientOptions } from '../../services/http/outbound.ts';
import {
  currentServices,
  requireTimeSource,
  servicesFromSigningConfig,
  type SigningServices,
} from './services.ts';
import { keylessSigner, keySigner, type Signer } from './signer.ts';
import { issuedByTrustedCa } from './check.ts';
import { STDIN } from '../many-files.ts';
import { readWholeOrHashed } from '../read-or-hash.ts';
// sign.ts (logs, TSA, bundle) is loaded while the CA answers: see setupSigning.
import type { SignContext } from './sign.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import { parseTrustedRoot } from '../../bundle/trusted-root.ts';
import type { Artifact } from '../verify/verifier.ts';
import { inputNames, type InputNames } from '../input-names.ts';
import { displayName, loadTextFileOrUrl } from '../file-or-url.ts';
const { X509Certificate } = process.getBuiltinModule('node:crypto');
const fs = process.getBuiltinModule('node:fs');

/**
 * From command-line choices to a ready SignContext: where the services are (a signing config
 * file, or a Signet server's), who signs (a key file, or keyless with an identity token).
 * Shared by sign-blob, attest-blob and sign-bundle.
 */
export interface SignSetupOptions {
  /** `--key FILE`: keyed signing. */
  key?: string;
  /**
   * `key` may also be an http(s) URL or `env://VAR`, as cosign's --key (client/file-or-url.ts):
   * the CLI's choice; the library's `key` is a file.
   */
  keyReferences?: boolean;
  /**
   * `--key`'s passphrase may be piped on standard input when that is not a terminal (cosign's
   * way): the CLI's choice where standard input carries no artifact; never the library's.
   */
  passphraseFromStdin?: boolean;
  /** `--identity-token` (a token or a file); else SIGSTORE_ID_TOKEN, CI, or a sign-in. */
  identityToken?: string;
  /** `never` to fail instead of asking a person to sign in (default: only on a terminal). */
  interactive?: 'auto' | 'browser' | 'device' | 'never';
  /** `--oidc-issuer`: where a person signs in (default: the server's or signing config's). */
  oidcIssuer?: string;
  /** `--oidc-client-id` for the sign-in (default `sigstore`). */
  oidcClientId?: string;
  signingConfig?: string;
  server?: string;
  /**
   * With `server`: get its signing config through its TUF repository, cached here (the CLI
   * always does). Without it the plain /signing_config.json is fetched, unauthenticated.
   */
  tufCacheDir?: string;
  /** Pin the server's TUF root.json (otherwise trusted on first use, with a warning). */
  tufRoot?: string;
  rekorVersion?: 1 | 2;
  /** false: write no transparency log entry (`--tlog-upload=false`). */
  tlogUpload?: boolean;
  http?: HttpOptions;
  env?: NodeJS.ProcessEnv;
  onEvent?: (message: string) => void;
  /** Where sign-in instructions go (default stderr; git's program uses the terminal). */
  say?: (message: string) => void;
  /** Keyless: certify this key instead of a fresh one (a credential cache keeps it). */
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
  /** cosign's --fulcio-url, --rekor-url, --timestamp-server-url: these services instead. */
  caUrl?: string | undefined;
  rekorUrl?: string | undefined;
  timestampServerUrl?: string | undefined;
  /** TLS settings for the timestamp authorities (cosign's --timestamp-client-*). */
  tsaTls?: TlsClientOptions | undefined;
  /** With neither a server nor a signing config: the default TUF repository's signing config. */
  useDefaultSigningConfig?: boolean;
  /** No network for trust: the signing config from the TUF cache or the shipped copy. */
  offline?: boolean;
  /** cosign's --oidc-client-secret-file contents, --oidc-redirect-url, --oidc-provider, ... */
  oidcClientSecret?: string | undefined;
  oidcRedirectUrl?: string | undefined;
  oidcProvider?: string | undefined;
  oidcDisableAmbient?: boolean | undefined;
  /** Keyed signing with a certificate for the key (cosign's --certificate, PEM). */
  certificatePem?: string | undefined;
  /** How errors name the inputs above (default: the CLI's flags). */
  names?: InputNames<SignInput>;
  /**
   * A check of the services chosen, before any token is read or certificate issued (an image
   * signature in the legacy scheme needs a Rekor v1 log: oci/sign.ts checkReferrersMode).
   */
  checkServices?: (services: SigningServices) => void;
}

export type SignInput =
  'key' | 'signingConfig' | 'server' | 'tufRoot' | 'identityToken' | 'oidcProvider';
const SIGN_FLAGS: Record<SignInput, string> = {
  key: '--key',
  signingConfig: '--signing-config',
  server: '--server',
  tufRoot: '--tuf-root',
  identityToken: '--identity-token',
  oidcProvider: '--oidc-provider',
};

export async function setupSigning(o: SignSetupOptions): Promise<SignContext> {
  const env = o.env ?? process.env;
  const keyless = o.key === undefined;
  const explicit =
    o.caUrl !== undefined || o.rekorUrl !== undefined || o.timestampServerUrl !== undefined;
  const servicesOf = (config: SigningConfig | undefined): SigningServices => {
    let s: SigningServices = config
      ? servicesFromSigningConfig(config, { rekorVersion: o.rekorVersion, keyless })
      : { caUrl: undefined, tlogs: [], tsaUrls: [] };
    s = withUrlOverrides(s, o);
    return o.tlogUpload === false ? { ...s, tlogs: [] } : s;
  };
  const { config, cached, trustedRoot } = await loadSigningConfig(o, explicit);
  let services = servicesOf(config);
  // A signing config cached by a recent run may predate a rotation that froze its log, or a
  // stack that moved or was rebuilt since: the server's current one, asked at most once.
  let fresh: Promise<SigningServices> | undefined;
  let freshRoot: unknown;
  const refreshServices = cached
    ? () =>
        (fresh ??= loadSigningConfig(o, explicit, true).then(({ config: current, trustedRoot }) => {
          freshRoot = trustedRoot;
          const s = servicesOf(current);
          if (keyless) requireTimeSource(s);
          o.checkServices?.(s);
          return s;
        }))
    : undefined;
  const hasServices = config !== undefined || explicit;
  if (keyless && services.caUrl === undefined && hasServices)
    throw new SignetError(
      'invalid-input',
      'NO_CA',
      'no certificate authority to sign with: give --fulcio-url, or a signing config that lists one',
    );
  if (!hasServices && (keyless || o.tlogUpload !== false))
    throw new SignetError(
      'invalid-input',
      'NO_SERVICES',
      keyless
        ? 'say where the services are: --server URL (a Signet stack) or --signing-config FILE'
        : 'say where the transparency log is (--server URL or --signing-config FILE), or sign without one with --tlog-upload=false',
    );
  o.checkServices?.(services);
  let signer: Signer;
  if (keyless) {
    requireTimeSource(services); // before the token is spent on a certificate
    const token = await identityToken(o, env, config?.oidcUrls[0]?.url);
    // What signing needs next (logs, TSA, bundle) loads while the CA works on the certificate,
    // a round trip that leaves this process idle: once the request is on the wire, since
    // loading holds the event loop and would hold up the connect and the write too.
    const sent = Promise.withResolvers<void>();
    const certify = (s: SigningServices) =>
      keylessSigner(s.caUrl!, token, { ...o.http, onSent: sent.resolve }, o.keyPair);
    const certified = certify(services).catch(async (e: unknown) => {
      const current = await currentServices(e, services, refreshServices, o.onEvent);
      if (!current) throw e;
      services = current;
      return certify(current);
    });
    const next = sent.promise.then(() => import('./sign.ts'));
    const [issued] = await Promise.all([certified, next]);
    signer = issued;
    // A stack set up again with new keys at the same address answers a signing config kept
    // from a recent run as before, and its certificate is of a CA the kept trusted root does not
    // name: the server's TUF repository is asked again (a rebuilt one is refused there, naming
    // the root first seen), rather than sign what no verifier of that root would accept.
    // Asked just now, the server's TUF-verified trusted root is checked the same way: a CA
    // (or something in front of it) that issues under another root gets nothing signed or
    // logged, rather than a bundle no verifier of that root accepts.
    const leaf = issued.chainPem[0]!;
    if (
      trustedRoot !== undefined &&
      o.caUrl === undefined &&
      !issuedByKeptRoot(leaf, trustedRoot)
    ) {
      if (refreshServices) await refreshServices();
      if (!refreshServices || !issuedByKeptRoot(leaf, freshRoot))
        throw new SignetError(
          'verification',
          'CA_CHAIN',
          `the certificate from ${services.caUrl} is not issued by a certificate authority of the trusted root of ${o.server}`,
        );
    }
    o.onEvent?.(`signing certificate issued by ${services.caUrl}`);
  } else {
    const keyFlag = inputNames(SIGN_FLAGS, o.names).key;
    const text = o.keyReferences
      ? await loadTextFileOrUrl(o.key!, keyFlag, {
          env,
          readFile: (file) => readFileBytes(file, keyFlag),
          ...(o.http ? { http: o.http } : {}),
        })
      : readText(o.key!, keyFlag);
    // Keyed signing only: the key readers bring a cipher library keyless runs do not need.
    const [{ readPrivateKey }, { readPassphrase }] = await Promise.all([
      import('../keys/cosign-key.ts'),
      import('../keys/passphrase.ts'),
    ]);
    // Its errors lead with the flag, as the verify commands' key errors do.
    const key = await readPrivateKey(
      text,
      () => readPassphrase({ env, piped: o.passphraseFromStdin === true }),
      `${keyFlag}: ${displayName(o.key!)}`,
    );
    signer = keySigner(key);
    if (o.certificatePem !== undefined) signer = withCertificate(signer, o.certificatePem);
  }
  return {
    signer,
    services,
    http: o.http,
    onEvent: o.onEvent,
    ...(refreshServices ? { refreshServices } : {}),
    ...(o.tsaTls ? { tsaTls: o.tsaTls } : {}),
  };
}

/** cosign's per-service URL flags replace what the signing config chose for that service. */
function withUrlOverrides(s: SigningServices, o: SignSetupOptions): SigningServices {
  const out = { ...s };
  if (o.caUrl !== undefined) {
    httpUrl(o.caUrl, '--fulcio-url');
    out.caUrl = o.caUrl;
  }
  if (o.rekorUrl !== undefined) {
    httpUrl(o.rekorUrl, '--rekor-url');
    out.tlogs = [{ url: o.rekorUrl, majorApiVersion: o.rekorVersion ?? 1 }];
  }
  if (o.timestampServerUrl !== undefined) {
    httpUrl(o.timestampServerUrl, '--timestamp-server-url');
    out.tsaUrls = [o.timestampServerUrl];
  }
  return out;
}

/**
 * Keyed signing with a certificate for the key (cosign's --certificate): the bundle carries the
 * certificate instead of a key hint, so verifiers can check an identity. It must be for this key.
 */
function withCertificate(signer: Signer, pem: string): Signer {
  let der: Uint8Array;
  let spki: Uint8Array;
  try {
    const cert = new X509Certificate(pem);
    der = new Uint8Array(cert.raw);
    spki = new Uint8Array(cert.publicKey.export({ format: 'der', type: 'spki' }));
  } catch (e) {
    throw invalid('--certificate', `is not a PEM certificate: ${(e as Error).message}`, e);
  }
  const keySpki = signer.material.$case === 'publicKey' ? signer.material.publicKeyDer : undefined;
  if (keySpki === undefined || Buffer.compare(Buffer.from(keySpki), Buffer.from(spki)) !== 0)
    throw invalid('--certificate', 'is not a certificate for the --key key (another public key)');
  return {
    ...signer,
    verifierPem: encodePem('CERTIFICATE', der),
    material: { $case: 'certificate', certificateDer: der },
  };
}

/**
 * The signing config the options name, and whether it is the one a recent run verified and
 * kept (`cached`: the server was not asked; see SIGNER_CACHE_VALIDITY_MS).
 */
async function loadSigningConfig(
  o: SignSetupOptions,
  explicit: boolean,
  fresh = false,
): Promise<{ config: SigningConfig | undefined; cached: boolean; trustedRoot?: unknown }> {
  const n = inputNames(SIGN_FLAGS, o.names);
  if (o.signingConfig !== undefined && o.server !== undefined)
    throw invalid(n.signingConfig, `give either ${n.signingConfig} or ${n.server}, not both`);
  if (o.signingConfig !== undefined)
    return {
      config: parseSigningConfigJSON(readText(o.signingConfig, n.signingConfig), o.signingConfig),
      cached: false,
    };
  if (o.server !== undefined) {
    httpUrl(o.server, n.server);
    if (o.tufCacheDir === undefined) {
      const { fetchSigningConfigJson } = await import('../http/trust.ts');
      return {
        config: parseSigningConfig(await fetchSigningConfigJson(o.server, o.http)),
        cached: false,
      };
    }
    // The signing config says where our identity token goes: take it only from the server's
    // TUF repository, verified against the pinned (or first-seen) root.
    const { fetchTrust, SIGNER_CACHE_VALIDITY_MS } = await import('../tuf/index.ts');
    const trust = await fetchTrust({
      serverUrl: o.server,
      cacheDir: o.tufCacheDir,
      cacheValidityMs: fresh ? 0 : SIGNER_CACHE_VALIDITY_MS,
      names: { rootFile: n.tufRoot },
      ...(o.tufRoot !== undefined ? { rootFile: o.tufRoot } : {}),
      // A refresh after a failure (`fresh`) has nothing to add when the server is down, so it
      // does not warn that it fell back to the cache: the failure itself is the one line.
      ...(fresh
        ? { warn: () => {} }
        : o.onEvent
          ? { warn: (m: string) => o.onEvent!(`warning: ${m}`) }
          : {}),
      ...(o.http?.timeoutMs !== undefined ? { timeoutMs: o.http.timeoutMs } : {}),
    });
    if (trust.signingConfig === undefined)
      throw new SignetError(
        'not-found',
        'NO_SIGNING_CONFIG',
        `the TUF repository of ${o.server} has no signing config: give ${n.signingConfig} FILE`,
      );
    return {
      config: parseSigningConfig(trust.signingConfig),
      cached: trust.recorded,
      trustedRoot: trust.trustedRoot,
    };
  }
  // Keyed signing without a log needs no service at all: do not reach for one.
  if (o.useDefaultSigningConfig && !explicit && (o.key === undefined || o.tlogUpload !== false)) {
    const { defaultSigningConfigJson } = await import('../verify/trust.ts');
    const json = await defaultSigningConfigJson({
      env: o.env ?? process.env,
      offline: o.offline,
      timeoutMs: o.http?.timeoutMs,
    });
    // Never `cached`: the default repository is asked on every run (no cache window), so a
    // service its config names that fails has no newer config to be retried with. When the
    // repository did not answer (or --offline kept it from being asked), the verified cache
    // or the shipped copy was used, and a refresh could not (or must not) ask it either.
    return { config: parseSigningConfig(json), cached: false };
  }
  return { config: undefined, cached: false };
}

/**
 * Whether the certificate `leafPem` is issued by a CA of the trusted root `rootJson` (a TUF
 * target, verified); false when that does not parse as a trusted root.
 */
function issuedByKeptRoot(leafPem: string, rootJson: unknown): boolean {
  let root;
  try {
    root = parseTrustedRoot(rootJson);
  } catch {
    return false; // no usable root: not shown to be trusted, so the server is asked again
  }
  return issuedByTrustedCa(leafPem, root);
}

/**
 * The identity client's order (cosign's): --identity-token, SIGSTORE_ID_TOKEN, ambient CI
 * credentials, then a browser or device sign-in at the stack's (or signing config's) issuer.
 */
async function identityToken(
  o: SignSetupOptions,
  env: NodeJS.ProcessEnv,
  issuer: string | undefined,
): Promise<string> {
  const { getIdentityToken } = await import('../identity/index.ts');
  const t = await getIdentityToken({
    identityToken: o.identityToken,
    env,
    server: o.server,
    issuer: o.oidcIssuer ?? (o.server ? undefined : issuer),
    interactive: o.interactive,
    ...(o.say ? { say: o.say } : {}),
    ...(o.oidcClientId !== undefined ? { clientId: o.oidcClientId } : {}),
    clientSecret: o.oidcClientSecret,
    redirectUrl: o.oidcRedirectUrl,
    provider: o.oidcProvider,
    names: inputNames(SIGN_FLAGS, o.names),
    disableAmbient: o.oidcDisableAmbient,
  });
  o.onEvent?.(`using the identity token from ${t.source}`);
  return t.token;
}

/**
 * Files (and standard input) up to this size are read whole and signed by OpenSSL; larger ones
 * are hashed as a stream and their digest signed (the bundle is the same). Signing a digest goes through
 * @noble/curves, whose first signature in a process builds its tables (tens of ms).
 */
export const WHOLE_FILE_SIGNING_LIMIT = 64 * 1024 * 1024;

/**
 * Sign a file, or standard input (`-`), for a messageSignature bundle. Up to `wholeFileLimit`
 * bytes are signed whole; past it the input is hashed as it is read (any size, constant memory)
 * and its digest signed: every message scheme can (Ed25519 keys sign Ed25519ph; pure Ed25519,
 * the one scheme that needs the message itself, signs only DSSE envelopes, never an artifact).
 * Standard input has no size to ask first: it is kept up to the limit and decided by the bytes
 * that come (readWholeOrHashed), so a small input is signed as before and as a file of its size
 * is, and a large one as a large file is, holding at most the limit. Either way the bundle is a
 * message signature over the same digest, which cosign, sigstore-js and Signet verify alike; the
 * limit only keeps small inputs on OpenSSL's faster whole-message path.
 */
export async function signFile(
  file: string,
  ctx: SignContext,
  flag = 'file',
  wholeFileLimit = WHOLE_FILE_SIGNING_LIMIT,
): Promise<{ bundle: Bundle; artifact: Artifact }> {
  const { artifactHash, signArtifact, signArtifactDigest } = await import('./sign.ts');
  const hash = artifactHash(ctx.signer);
  const read = readWholeOrHashed(file, flag, wholeFileLimit, [hash]);
  if (read.kind === 'bytes') {
    const { data } = read;
    return { bundle: await signArtifact(data, ctx), artifact: { kind: 'bytes', data } };
  }
  const digest = read.digests.get(hash)!;
  return {
    bundle: await signArtifactDigest(digest, ctx),
    artifact: { kind: 'digest', algorithm: hash, digest },
  };
}

/** One file of a many-file signing: its bundle, or why it was not signed. */
export type FileSigning =
  | { file: string; bundle: Bundle; error?: undefined }
  | { file: string; bundle?: undefined; error: unknown };

/**
 * Files signed at once: their log and timestamp round trips overlap. Each holds its file (up
 * to WHOLE_FILE_SIGNING_LIMIT) until it is signed, which bounds the memory a release takes.
 */
export const SIGN_FILES_PARALLEL = 4;

/**
 * A check to make before each of many signings with one context: a keyless certificate is
 * short-lived, and a signing that could outlast it (less than one request timeout left) would
 * put its log entry and timestamp outside the certificate's validity, so its bundle would not
 * verify. Throws CERTIFICATE_EXPIRING naming `what` then; a key (no certificate) never expires.
 */
export function certificateTimeCheck(ctx: SignContext): (what: string) => void {
  if (ctx.signer.material.$case !== 'certificate') return () => {};
  const notAfter = new X509Certificate(ctx.signer.material.certificateDer).validToDate.getTime();
  const margin = ctx.http?.timeoutMs ?? 30_000;
  return (what) => {
    if (Date.now() + margin >= notAfter)
      throw new SignetError(
        'invalid-input',
        'CERTIFICATE_EXPIRING',
        `the signing certificate expires at ${new Date(notAfter).toISOString()}, too soon to sign ${what}; sign it in another run`,
      );
  };
}

/**
 * Many files with one signing context, as sigstore-python's `sign` does: one identity token,
 * key and certificate for all of them, and for each its own signature, log entries, timestamps
 * and bundle. `finish` gets each file's bundle while its bytes are still at hand (to check and
 * write it). One file's failure does not stop the others; results come in the order of `files`.
 */
export async function signFiles(
  files: readonly string[],
  ctx: SignContext,
  finish: (file: string, bundle: Bundle, artifact: Artifact) => Promise<void>,
): Promise<FileSigning[]> {
  const { mapLimited } = await import('../../core/concurrent.ts');
  const lasts = certificateTimeCheck(ctx);
  return mapLimited(files, SIGN_FILES_PARALLEL, async (file): Promise<FileSigning> => {
    try {
      lasts(file);
      const { bundle, artifact } = await signFile(file, ctx);
      await finish(file, bundle, artifact);
      return { file, bundle };
    } catch (error) {
      return { file, error };
    }
  });
}

/**
 * The file must exist and be a regular file, or with `pipe` a pipe (`<(...)`, a FIFO), which is
 * read once and signed by what was read, as standard input is: checked before anything is
 * signed. A device or socket is refused (it may never end).
 */
export function checkReadableFile(file: string, flag: string, opts: { pipe?: boolean } = {}): void {
  if (file === STDIN) return;
  let st;
  try {
    st = fs.statSync(file);
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    throw fileError(file, flag, e);
  }
  if (st.isFile() || (opts.pipe && st.isFIFO())) return;
  if (!opts.pipe || st.isDirectory())
    throw invalid(flag, `cannot read ${file}: not a regular file`);
  throw invalid(
    flag,
    `cannot read ${file}: not a regular file or pipe; to sign a stream, give - (standard input)`,
  );
}

/** Read a text file named by a flag, with an error that names the flag and the file. */
export function readText(file: string, flag: string): string {
  return new TextDecoder().decode(readFileBytes(file, flag));
}

export function readFileBytes(file: string, flag: string): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(file === STDIN ? 0 : file));
  } catch (e) {
    throw fileError(file, flag, e);
  }
}

/** The file a flag names, with its name (for errors), or undefined when the flag was left out. */
export function readNamedFile(
  file: string | undefined,
  flag: string,
): { name: string; bytes: Uint8Array } | undefined {
  return file === undefined ? undefined : { name: file, bytes: readFileBytes(file, flag) };
}

/** Everything on standard input (a flag given as `-`), with an error that names the flag. */
export function readStdin(flag: string): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(0));
  } catch (e) {
    throw invalid(flag, `standard input could not be read (${(e as Error).message})`, e);
  }
}

function fileError(file: string, flag: string, e: unknown) {
  return invalid(flag, describeSystemError(e, file), e);
}
