/**
 * Flags shared by the verify commands (cosign's names): where trust comes from
 * (`--trusted-root FILE` or `--server URL`), who must have signed (`--certificate-identity`,
 * `--certificate-oidc-issuer`, their `-regexp` forms, the GitHub workflow flags, `--key`), and
 * the artifact (a path, or `sha256:<hex>` / `--digest`). Each turns into a typed value here,
 * once, with an error that names the flag.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { invalid, SignetError } from '../core/errors.ts';
import { fromHex } from '../core/encoding/hex.ts';
import type { Bundle } from '../bundle/bundle.ts';
import type { TrustedRoot } from '../bundle/trusted-root.ts';
import type { IdentityPolicy, Matcher } from '../client/verify/policy.ts';
import type { Artifact, SignerPolicy } from '../client/verify/verifier.ts';

// The bundle, X.509 and crypto modules are loaded when a verify command runs, not when
// `signet` starts: every command shares this startup (sign-blob's wall time counts).

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
}

/** Adds the identity, key and trust flags to a verify command. */
export function addVerifyFlags(cmd: Command): Command {
  return cmd
    .option('--bundle <file>', 'the Sigstore bundle to verify')
    .option('--certificate-identity <id>', 'the signer identity (certificate SAN), matched exactly')
    .option(
      '--certificate-identity-regexp <re>',
      'a regular expression the whole signer identity must match',
    )
    .option('--certificate-oidc-issuer <url>', 'the OIDC issuer of the identity, matched exactly')
    .option(
      '--certificate-oidc-issuer-regexp <re>',
      'a regular expression the whole OIDC issuer must match',
    )
    .option(
      '--certificate-github-workflow-trigger <event>',
      'the GitHub event that ran the workflow',
    )
    .option('--certificate-github-workflow-sha <sha>', 'the commit SHA the workflow ran on')
    .option('--certificate-github-workflow-name <name>', 'the GitHub workflow name')
    .option('--certificate-github-workflow-repository <owner/repo>', 'the GitHub repository')
    .option('--certificate-github-workflow-ref <ref>', 'the git ref the workflow ran on')
    .option(
      '--certificate-extension <oid=value>',
      'a Fulcio certificate extension that must have this exact value (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--key <file>', 'verify with this public key (PEM) instead of a certificate identity')
    .option('--trusted-root <file>', 'trusted_root.json to verify against (offline)')
    .option(
      '--server <url>',
      'a Signet server to get the trusted root from (through its TUF repository)',
    )
    .option('--tuf-root <file>', "pin the server's TUF root.json (otherwise trusted on first use)");
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
  const text = readFile(path, '--bundle');
  const { parseBundleJSON } = await import('../bundle/bundle.ts');
  try {
    return parseBundleJSON(text);
  } catch (e) {
    if (e instanceof SignetError)
      throw new SignetError(
        e.kind,
        e.code,
        `${path} is not a valid Sigstore bundle: ${e.message}`,
        {
          field: '--bundle',
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
  const { parseTrustedRoot, parseTrustedRootJSON } = await import('../bundle/trusted-root.ts');
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
  const { httpUrl } = await import('../client/http/fetch.ts');
  httpUrl(server, '--server');
  const { fetchTrust } = await import('../client/tuf/index.ts');
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
  const { anchoredRegExp } = await import('../client/verify/policy.ts');
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
    const { parsePublicKey } = await import('../core/crypto/keys.ts');
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
