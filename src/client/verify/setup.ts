/**
 * The verify-side setup shared by every verify command and by library users: where trust comes
 * from (a trusted_root.json file, or a Signet server through its TUF repository), who must have
 * signed (exact identity and issuer, their regexp forms, the GitHub workflow fields, Fulcio
 * extensions, or a public key), the bundle and the artifact (a path, or `sha256:<hex>`). Each turns
 * into a typed value here, once, with an error that names the flag or argument it came from.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invalid, SignetError, verificationFailed } from '../../core/errors.ts';
import { fromHex } from '../../core/encoding/hex.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import type { IdentityPolicy, Matcher } from './policy.ts';
import type { WitnessPolicy } from './tlog.ts';
import type { Artifact, SignerPolicy, VerificationResult, VerifyOptions } from './verifier.ts';

// The bundle, X.509 and crypto modules are loaded when a verification runs, not when
// `signet` starts: every command shares this startup (sign-blob's wall time counts).

/** What a verify command was given (cosign's flag names, camel-cased as commander does). */
export interface VerifyFlags {
  bundle?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  certificateGithubWorkflowTrigger?: string;
  certificateGithubWorkflowSha?: string;
  certificateGithubWorkflowName?: string;
  certificateGithubWorkflowRepository?: string;
  certificateGithubWorkflowRef?: string;
  certificateExtension?: string[];
  key?: string;
  trustedRoot?: string;
  server?: string;
  tufRoot?: string;
  digest?: string;
  witnessKey?: string[];
  witnessThreshold?: string;
}

/** Bundles, trusted roots and keys are small; a huge file is a mistake or an attack. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

function readFile(path: string, flag: string): string {
  try {
    const size = fs.statSync(path).size;
    if (size > MAX_DOCUMENT_BYTES)
      throw invalid(flag, `${path} is ${size} bytes; a ${flag.slice(2)} file is at most 16 MiB`);
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw invalid(
      flag,
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      e,
    );
  }
}

export async function readBundle(path: string | undefined): Promise<Bundle> {
  if (!path) throw invalid('--bundle', 'is required: the bundle to verify');
  return parseBundleText(readFile(path, '--bundle'), path, '--bundle');
}

/**
 * A bundle file's text; errors say which file is not a valid bundle and why (and name `field`,
 * the flag it came from, when there is one).
 */
export async function parseBundleText(text: string, name: string, field?: string): Promise<Bundle> {
  const { parseBundleJSON } = await import('../../bundle/bundle.ts');
  try {
    return parseBundleJSON(text);
  } catch (e) {
    if (e instanceof SignetError)
      throw new SignetError(
        e.kind,
        e.code,
        `${name} is not a valid Sigstore bundle: ${e.message}`,
        {
          ...(field !== undefined ? { field } : {}),
          cause: e,
        },
      );
    throw e;
  }
}

/** The trusted root from `--trusted-root` or from a Signet server (`--server`). */
export async function loadTrustedRoot(flags: VerifyFlags): Promise<TrustedRoot> {
  if (flags.trustedRoot && flags.server)
    throw invalid('--trusted-root', 'give either --trusted-root or --server, not both');
  const { parseTrustedRoot, parseTrustedRootJSON } = await import('../../bundle/trusted-root.ts');
  if (flags.trustedRoot) {
    const text = readFile(flags.trustedRoot, '--trusted-root');
    try {
      return parseTrustedRootJSON(text, flags.trustedRoot);
    } catch (e) {
      if (e instanceof SignetError)
        throw new SignetError(
          e.kind,
          e.code,
          `${flags.trustedRoot} is not a valid trusted root: ${e.message}`,
          {
            field: '--trusted-root',
            cause: e,
          },
        );
      throw e;
    }
  }
  if (flags.server)
    return parseTrustedRoot(await trustedRootFromServer(flags.server, flags.tufRoot));
  throw invalid(
    '--trusted-root',
    'is required (or --server URL of a Signet stack): there is nothing to trust',
  );
}

/** Where `--server` keeps its verified TUF metadata between runs. */
export function tufCacheDir(): string {
  if (process.env.SIGNET_TUF_CACHE) return process.env.SIGNET_TUF_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'signet', 'tuf');
}

/**
 * The server's trusted root, authenticated through its TUF repository (`<server>/tuf`):
 * pinned to `--tuf-root` when given, else trust on first use (with a warning), then every
 * update is verified against the cached root chain.
 */
async function trustedRootFromServer(
  server: string,
  tufRoot: string | undefined,
): Promise<unknown> {
  const { httpUrl } = await import('../http/fetch.ts');
  httpUrl(server, '--server');
  const { fetchTrust } = await import('../tuf/index.ts');
  const opts: { serverUrl: string; cacheDir: string; rootFile?: string } = {
    serverUrl: server,
    cacheDir: tufCacheDir(),
  };
  if (tufRoot !== undefined) opts.rootFile = tufRoot;
  return (await fetchTrust(opts)).trustedRoot;
}

function matcher(
  exactValue: string | undefined,
  re: string | undefined,
  flag: string,
  anchoredRegExp: (source: string, flag: string) => RegExp,
): Matcher | undefined {
  if (exactValue !== undefined && re !== undefined)
    throw invalid(`--${flag}`, `give either --${flag} or --${flag}-regexp, not both`);
  if (exactValue !== undefined) {
    if (exactValue === '') throw invalid(`--${flag}`, 'must not be empty');
    return { exact: exactValue };
  }
  if (re !== undefined) return { regexp: anchoredRegExp(re, `--${flag}-regexp`) };
  return undefined;
}

/** `--key`, or the identity policy the flags describe. Identity and issuer are both required. */
export async function signerPolicy(flags: VerifyFlags): Promise<SignerPolicy> {
  const { anchoredRegExp } = await import('./policy.ts');
  const san = matcher(
    flags.certificateIdentity,
    flags.certificateIdentityRegexp,
    'certificate-identity',
    anchoredRegExp,
  );
  const issuer = matcher(
    flags.certificateOidcIssuer,
    flags.certificateOidcIssuerRegexp,
    'certificate-oidc-issuer',
    anchoredRegExp,
  );
  if (flags.key !== undefined) {
    if (san || issuer)
      throw invalid('--key', 'give either --key or a certificate identity and issuer, not both');
    const text = readFile(flags.key, '--key');
    const { parsePublicKey } = await import('../../core/crypto/keys.ts');
    try {
      return { kind: 'key', key: parsePublicKey(text, '--key') };
    } catch (e) {
      throw invalid('--key', `${flags.key} is not a public key: ${(e as Error).message}`, e);
    }
  }
  if (!san)
    throw invalid(
      '--certificate-identity',
      'is required (or --certificate-identity-regexp, or --key): say who must have signed',
    );
  if (!issuer)
    throw invalid(
      '--certificate-oidc-issuer',
      'is required (or --certificate-oidc-issuer-regexp): say which identity provider vouches for the signer',
    );
  const identity: IdentityPolicy = { subjectAlternativeName: san, issuer };
  const gh = {
    trigger: flags.certificateGithubWorkflowTrigger,
    sha: flags.certificateGithubWorkflowSha,
    name: flags.certificateGithubWorkflowName,
    repository: flags.certificateGithubWorkflowRepository,
    ref: flags.certificateGithubWorkflowRef,
  };
  const ghSet = Object.fromEntries(Object.entries(gh).filter(([, v]) => v !== undefined));
  if (Object.keys(ghSet).length > 0) identity.githubWorkflow = ghSet;
  if (flags.certificateExtension?.length) {
    identity.extensions = {};
    for (const kv of flags.certificateExtension) {
      const m = /^(\d+(?:\.\d+)+)=(.*)$/s.exec(kv);
      if (!m) throw invalid('--certificate-extension', `"${kv}" is not OID=value`);
      identity.extensions[m[1]!] = m[2]!;
    }
  }
  return { kind: 'identity', identity };
}

/** `sha256:<hex>` as an artifact digest; errors name `flag`. */
export function parseDigest(text: string, flag: string): Artifact {
  const m = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(text);
  if (!m) throw invalid(flag, `"${text}" is not a digest of the form sha256:<hex>`);
  const algorithm = m[1] as 'sha256' | 'sha384' | 'sha512';
  const size = { sha256: 32, sha384: 48, sha512: 64 }[algorithm];
  const digest = fromHex(m[2]!.toLowerCase(), flag);
  if (digest.length !== size)
    throw invalid(flag, `a ${algorithm} digest is ${size} bytes, this one is ${digest.length}`);
  return { kind: 'digest', algorithm, digest };
}

/** The artifact: a file path, or `sha256:<hex>` in its place (conformance protocol), or --digest. */
export function readArtifact(arg: string | undefined, digestFlag: string | undefined): Artifact {
  if (arg !== undefined && digestFlag !== undefined)
    throw invalid('--digest', 'give either the artifact file or --digest, not both');
  if (digestFlag !== undefined) return parseDigest(digestFlag, '--digest');
  if (arg === undefined)
    throw invalid('artifact', 'is required: the file that was signed, or --digest sha256:<hex>');
  if (/^sha(256|384|512):[0-9a-fA-F]+$/.test(arg) && !fs.existsSync(arg))
    return parseDigest(arg, 'artifact');
  try {
    return { kind: 'bytes', data: new Uint8Array(fs.readFileSync(arg)) };
  } catch (e) {
    throw invalid(
      'artifact',
      `cannot read ${arg}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      e,
    );
  }
}

/**
 * `--witness-key` (a vkey `name+keyid+base64`, or a file of them, one a line; repeatable) and
 * `--witness-threshold N` (default 1): cosignatures every log checkpoint must carry.
 */
export async function witnessPolicy(flags: VerifyFlags): Promise<WitnessPolicy | undefined> {
  const given = flags.witnessKey ?? [];
  if (given.length === 0) {
    if (flags.witnessThreshold !== undefined)
      throw invalid('--witness-threshold', 'needs --witness-key: whose cosignatures to count');
    return undefined;
  }
  const { parseCosignerKey } = await import('../../core/note/cosignature.ts');
  const keys: WitnessPolicy['keys'] = [];
  for (const g of given) {
    const isVkey = /^[^+\s]+\+[0-9a-f]{8}\+/.test(g) && !fs.existsSync(g);
    const lines = isVkey
      ? [g]
      : readFile(g, '--witness-key')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('#'));
    if (lines.length === 0) throw invalid('--witness-key', `${g} holds no witness key`);
    for (const l of lines) {
      const k = parseCosignerKey(l, '--witness-key');
      if (!keys.some((x) => x.name === k.name && x.keyId === k.keyId)) keys.push(k);
    }
  }
  let threshold = 1;
  if (flags.witnessThreshold !== undefined) {
    if (!/^[1-9][0-9]{0,3}$/.test(flags.witnessThreshold))
      throw invalid('--witness-threshold', `"${flags.witnessThreshold}" is not a positive number`);
    threshold = Number(flags.witnessThreshold);
  }
  if (threshold > keys.length)
    throw invalid(
      '--witness-threshold',
      `${threshold} cosignatures cannot come from ${keys.length} witness key${keys.length === 1 ? '' : 's'}`,
    );
  return { keys, threshold };
}

/**
 * Reads every input, then verifies: the one path behind verify-blob, verify-blob-attestation and
 * verify-bundle (and library callers that start from file names and flags).
 */
export async function verifyFromFlags(
  artifactArg: string | undefined,
  flags: VerifyFlags,
  opts: VerifyOptions & { attestation?: boolean } = {},
): Promise<VerificationResult> {
  // Parse every input before any check, so a bad flag is reported as such.
  const policy = await signerPolicy(flags);
  const bundle = await readBundle(flags.bundle);
  const artifact = readArtifact(artifactArg, flags.digest);
  const witnesses = await witnessPolicy(flags);
  const root = await loadTrustedRoot(flags);
  if (opts.attestation && bundle.content.$case !== 'dsseEnvelope')
    throw verificationFailed(
      'NOT_AN_ATTESTATION',
      'the bundle holds a plain signature, not an attestation; use verify-blob',
    );
  const { verifyBundle } = await import('./verifier.ts');
  return verifyBundle(bundle, artifact, root, policy, witnesses ? { ...opts, witnesses } : opts);
}
