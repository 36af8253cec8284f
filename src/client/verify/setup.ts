/**
 * The verify-side setup shared by every verify command and by library users: where trust comes
 * from (a trusted_root.json file, or a Signet server through its TUF repository), who must have
 * signed (exact identity and issuer, their regexp forms, the GitHub workflow fields, Fulcio
 * extensions, or a public key), the bundle and the artifact (a path, or `sha256:<hex>`). Each turns
 * into a typed value here, once, with an error that names the flag or argument it came from.
 */
import {
  describeSystemError,
  invalid,
  reasonOf,
  SignetError,
  verificationFailed,
} from '../../core/errors.ts';
import { fromHex } from '../../core/encoding/hex.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { BundleParts } from '../../bundle/assemble.ts';
import type { KeyObject } from 'node:crypto';
import { bundleBeside, refuseOneFileFlags, refuseRepeats, STDIN } from '../many-files.ts';
import {
  displayName,
  isReference,
  loadFileOrUrl,
  loadReference,
  loadTextFileOrUrl,
  readDocument,
  referenceOf,
  refuseReference,
  type LoadOptions,
} from '../file-or-url.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import type { IdentityPolicy, Matcher } from './policy.ts';
import type { WitnessPolicy } from './tlog.ts';
import type { TrustOverrideFiles } from './trust.ts';
import type { Artifact, SignerPolicy, VerificationResult, VerifyOptions } from './verifier.ts';
import type { HttpOptions } from '../../services/http/outbound.ts';
const fs = process.getBuiltinModule('node:fs');

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
  /** `--digestAlg`: the algorithm of `--digest` when it is given as bare hex (cosign). */
  digestAlg?: string;
  /** `--offline`: no network at all; trust from a file, the verified TUF cache or the shipped root. */
  offline?: boolean;
  /** `--insecure-ignore-tlog`: accept a bundle without a transparency log entry. */
  insecureIgnoreTlog?: boolean;
  /** `--insecure-ignore-sct`: accept a certificate without an SCT. */
  insecureIgnoreSct?: boolean;
  /** `--use-signed-timestamps`: require an RFC 3161 timestamp from a trusted TSA. */
  useSignedTimestamps?: boolean;
  /** cosign's detached inputs (deprecated there, still meaningful): a signature and certificate. */
  signature?: string;
  certificate?: string;
  certificateChain?: string;
  /** cosign's `--rfc3161-timestamp`: an RFC 3161 timestamp token (DER) over the detached signature. */
  rfc3161Timestamp?: string;
  /** How the bundle was named by the user (`--bundle` or the positional `bundle`). */
  bundleLabel?: string;
  /** Each request's options (`--timeout`): the TUF refresh, the signing config, the log search. */
  http?: HttpOptions;
}

const readFile = readDocument;

/**
 * The bundle to verify. `label` is how the user named it (`--bundle`, or `bundle` for a
 * positional argument). A bundle file that does not exist is NO_SIGNATURE (cosign's exit 10).
 */
export async function readBundle(path: string | undefined, label = '--bundle'): Promise<Bundle> {
  if (!path) throw invalid(label, 'is required: the bundle to verify');
  return parseBundleText(readFile(path, label, 'NO_SIGNATURE'), path, label);
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
        // The document itself ("bundle: is not valid JSON") needs no field name after ours.
        `${name} is not a valid Sigstore bundle: ${e.field === 'bundle' ? e.message.slice('bundle: '.length) : e.message}`,
        {
          ...(field !== undefined ? { field } : {}),
          cause: e,
        },
      );
    throw e;
  }
}

/**
 * The trusted root the flags name: `--trusted-root`, `--server` (or SIGNET_SERVER), else the
 * default TUF repository (public-good unless `signet initialize` chose another), with cosign's
 * SIGSTORE_* overrides applied (client/verify/trust.ts).
 */
export async function loadTrustedRoot(
  flags: Pick<VerifyFlags, 'trustedRoot' | 'server' | 'tufRoot' | 'offline' | 'http'>,
  env: NodeJS.ProcessEnv = process.env,
  overrides?: TrustOverrideFiles,
): Promise<TrustedRoot> {
  const { loadTrust } = await import('./trust.ts');
  return loadTrust({
    trustedRoot: flags.trustedRoot,
    server: flags.server,
    tufRoot: flags.tufRoot,
    offline: flags.offline,
    env,
    timeoutMs: flags.http?.timeoutMs,
    ...(overrides ? { overrides } : {}),
  });
}

export { tufCacheDir } from './trust.ts';

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

/**
 * `--key`, or the identity policy the flags describe. Identity and issuer are both required.
 * `keyFlag: false`: the command has no `--key` (git's: commits are signed keyless), so a
 * missing identity does not suggest it.
 */
export async function signerPolicy(
  flags: VerifyFlags,
  o: { keyFlag?: boolean; http?: LoadOptions['http'] } = {},
): Promise<SignerPolicy> {
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
    // A file, or a URL or env:// as cosign takes a key (its KMS schemes are refused earlier).
    const text = await loadTextFileOrUrl(flags.key, '--key', o.http ? { http: o.http } : {});
    const { parsePublicKey } = await import('../../core/crypto/keys.ts');
    try {
      return { kind: 'key', key: parsePublicKey(text, '--key') };
    } catch (e) {
      throw invalid('--key', `${displayName(flags.key)} is not a public key: ${reasonOf(e)}`, e);
    }
  }
  if (!san)
    throw invalid(
      '--certificate-identity',
      `is required (or --certificate-identity-regexp${o.keyFlag === false ? '' : ', or --key'}): say who must have signed`,
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

/**
 * The artifact: a file path, or `sha256:<hex>` in its place (conformance protocol), or
 * `--digest` (`sha256:<hex>`, or bare hex with `--digestAlg`, as cosign takes it). An artifact
 * file that does not exist is NOT_FOUND (cosign's exit 11). `urls`: an http(s) URL or
 * `env://VAR` is read as cosign's verify-blob reads it (up to WHOLE_FILE_VERIFY_LIMIT).
 */
export async function readArtifact(
  arg: string | undefined,
  digestFlag: string | undefined,
  digestAlg?: string,
  o: { urls?: boolean; http?: LoadOptions['http'] } = {},
): Promise<Artifact> {
  if (arg !== undefined && digestFlag !== undefined)
    throw invalid('--digest', 'give either the artifact file or --digest, not both');
  if (digestAlg !== undefined && digestFlag === undefined)
    throw invalid('--digestAlg', 'goes with --digest: the algorithm of that digest');
  if (digestFlag !== undefined) {
    if (digestAlg !== undefined) {
      if (!['sha256', 'sha384', 'sha512'].includes(digestAlg))
        throw invalid('--digestAlg', `"${digestAlg}" is not sha256, sha384 or sha512`);
      const hex = digestFlag.replace(new RegExp(`^${digestAlg}:`), '');
      return parseDigest(`${digestAlg}:${hex}`, '--digest');
    }
    return parseDigest(digestFlag, '--digest');
  }
  if (arg === undefined)
    throw invalid('artifact', 'is required: the file that was signed, or --digest sha256:<hex>');
  if (/^sha(256|384|512):[0-9a-fA-F]+$/.test(arg) && !fs.existsSync(arg))
    return parseDigest(arg, 'artifact');
  if (arg === STDIN) return readStdinArtifact();
  const ref = referenceOf(arg);
  if (!o.urls) refuseReference(arg, 'artifact', 'the artifact');
  else if (ref.kind !== 'file') {
    const data = await loadReference(ref, 'artifact', {
      missing: 'NOT_FOUND',
      maxBytes: WHOLE_FILE_VERIFY_LIMIT,
      ...(o.http ? { http: o.http } : {}),
    });
    return { kind: 'bytes', data };
  }
  try {
    if ((fs.statSync(arg, { throwIfNoEntry: false })?.size ?? 0) <= WHOLE_FILE_VERIFY_LIMIT) {
      const b = fs.readFileSync(arg);
      return { kind: 'bytes', data: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) };
    }
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SignetError(
      missing ? 'not-found' : 'invalid-input',
      missing ? 'NOT_FOUND' : 'INVALID_INPUT',
      describeSystemError(e, arg),
      { field: 'artifact', cause: e },
    );
  }
  const { digestFile } = await import('../read-or-hash.ts');
  const digests = new Map<'sha256' | 'sha384' | 'sha512', Uint8Array>();
  const file = arg;
  return {
    kind: 'file',
    path: file,
    digest(algorithm) {
      let d = digests.get(algorithm);
      if (!d) digests.set(algorithm, (d = digestFile(file, algorithm, 'artifact')));
      return d;
    },
  };
}

/**
 * Standard input as the artifact: whole up to WHOLE_FILE_VERIFY_LIMIT, as a file that small is;
 * past it hashed as it comes. It cannot be read a second time as a large file is, for the hash
 * a check turns out to need, so the one read hashes with every algorithm a signature may be
 * made over: three hashes instead of one, still in constant memory.
 */
async function readStdinArtifact(): Promise<Artifact> {
  const { readWholeOrHashed } = await import('../read-or-hash.ts');
  const read = readWholeOrHashed(STDIN, 'artifact', WHOLE_FILE_VERIFY_LIMIT, [
    'sha256',
    'sha384',
    'sha512',
  ]);
  if (read.kind === 'bytes') return read;
  return { kind: 'file', path: STDIN, digest: (algorithm) => read.digests.get(algorithm)! };
}

/**
 * Files (and standard input) up to this size are read whole; a larger one is hashed as it is
 * read, with whichever algorithm the signature was made over, so verifying it takes constant
 * memory (as signing it does: WHOLE_FILE_SIGNING_LIMIT).
 */
export const WHOLE_FILE_VERIFY_LIMIT = 64 * 1024 * 1024;

/** What the verify flags ask of the verifier (cosign's --insecure-* and timestamp flags). */
export function verifyOptionsFrom(flags: VerifyFlags, bundle: Bundle): VerifyOptions {
  const o: VerifyOptions = {};
  if (flags.insecureIgnoreTlog) {
    o.tlogThreshold = 0;
    // Without a log there may be no signed time: a key needs none, and a certificate is then
    // checked at the current time (sigstore-go's WithCurrentTime, which cosign uses here).
    if (bundle.verificationMaterial.rfc3161Timestamps.length === 0) {
      o.timestampThreshold = 0;
      o.currentTimeWhenUntimed = true;
    }
  }
  if (flags.insecureIgnoreSct) o.ctlogThreshold = 0;
  if (flags.useSignedTimestamps) o.signedTimestampThreshold = 1;
  return o;
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

/** One artifact of a many-artifact verification: what verified, or why it did not. */
export type FileVerification = { artifact: string } & (
  { result: VerificationResult; error?: undefined } | { result?: undefined; error: unknown }
);

/**
 * Many artifact files against one signer policy and one trust root (a CI job checking a
 * release): the flags and the trust are read once, then each artifact is verified against its
 * bundle beside it. A bad flag or an unreadable trust root fails the whole; a failed artifact
 * is recorded with its error and the others go on. Results come in the order of `artifacts`.
 */
export async function verifyFilesFromFlags(
  artifacts: readonly string[],
  flags: VerifyFlags,
): Promise<FileVerification[]> {
  refuseOneFileFlags(
    [
      ['--bundle', flags.bundle],
      ['--digest', flags.digest],
      ['--signature', flags.signature],
      ['--certificate', flags.certificate],
      ['--certificate-chain', flags.certificateChain],
      ['--rfc3161-timestamp', flags.rfc3161Timestamp],
    ],
    `is about one artifact; with ${artifacts.length} artifacts each bundle is read from beside its file (FILE.sigstore.json)`,
  );
  refuseRepeats(artifacts, 'artifact');
  const policy = await signerPolicy(flags, flags.http ? { http: flags.http } : {});
  const witnesses = await witnessPolicy(flags);
  const root = await loadTrustedRoot(flags);
  const out: FileVerification[] = [];
  for (const artifact of artifacts)
    try {
      const data = await readArtifact(artifact, undefined);
      const bundle = await readBundle(bundleBeside(artifact), 'bundle');
      const result = await verifyWith(bundle, data, root, policy, flags, witnesses, {});
      out.push({ artifact, result });
    } catch (error) {
      out.push({ artifact, error });
    }
  return out;
}

/** The verifier, with the options the flags and the caller ask for. */
async function verifyWith(
  bundle: Bundle,
  artifact: Artifact,
  root: TrustedRoot,
  policy: SignerPolicy,
  flags: VerifyFlags,
  witnesses: WitnessPolicy | undefined,
  opts: VerifyOptions,
): Promise<VerificationResult> {
  const { verifyBundle } = await import('./verifier.ts');
  return verifyBundle(bundle, artifact, root, policy, {
    ...verifyOptionsFrom(flags, bundle),
    ...opts,
    ...(witnesses ? { witnesses } : {}),
  });
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
  // A bundle carries its certificate and chain: given as well they would be ignored, and a user
  // pinning a certificate would get no pinning (cosign refuses them with a bundle too).
  if (flags.signature === undefined)
    for (const [flag, v, carried] of [
      ['--certificate', flags.certificate, 'certificate and chain'],
      ['--certificate-chain', flags.certificateChain, 'certificate and chain'],
      ['--rfc3161-timestamp', flags.rfc3161Timestamp, 'RFC 3161 timestamps'],
    ] as const)
      if (v !== undefined)
        throw invalid(
          flag,
          `goes with --signature (a detached signature): a bundle carries its own ${carried}; to require a signer, use the identity flags or --key`,
        );
  // Parse every input before any check, so a bad flag is reported as such.
  const policy = await signerPolicy(flags, flags.http ? { http: flags.http } : {});
  // --check-claims=false verifies the envelope alone; no artifact is needed then.
  const artifact: Artifact =
    opts.checkClaims === false && artifactArg === undefined && flags.digest === undefined
      ? { kind: 'bytes', data: new Uint8Array() }
      : await readArtifact(artifactArg, flags.digest, flags.digestAlg, {
          // cosign's verify-blob fetches a URL artifact; verify-blob-attestation opens a file.
          urls: opts.attestation !== true,
          ...(flags.http ? { http: flags.http } : {}),
        });
  const detached =
    flags.signature !== undefined
      ? await detachedParts(flags, policy, artifact, opts.attestation === true)
      : undefined;
  const { assembleBundle } = await import('../../bundle/assemble.ts');
  let bundle = detached
    ? assembleBundle(detached.parts)
    : await readBundle(flags.bundle, flags.bundleLabel);
  const witnesses = await witnessPolicy(flags);
  const root = await loadTrustedRoot(flags);
  // A detached signature's log entry is looked up in the logs the trust names (cosign's
  // verify-blob --signature does the same at --rekor-url), unless the log is not asked for.
  if (detached && !flags.insecureIgnoreTlog)
    bundle = assembleBundle({
      ...detached.parts,
      tlogEntries: [await loggedEntry(detached, root, flags)],
    });
  if (opts.attestation && bundle.content.$case !== 'dsseEnvelope')
    throw verificationFailed(
      'NOT_AN_ATTESTATION',
      'the bundle holds a plain signature, not an attestation; use verify-blob',
    );
  return verifyWith(
    bundle,
    artifact,
    root,
    policy,
    flags,
    witnesses,
    detached ? { ...opts, names: detachedNames(flags) } : opts,
  );
}

/**
 * How a detached `--signature`'s failures name what failed: it is no bundle (cosign's legacy
 * signature), and CA certificates given with it came from a flag's file.
 */
export function detachedNames(
  flags: Pick<VerifyFlags, 'certificate' | 'certificateChain'>,
): NonNullable<VerifyOptions['names']> {
  return {
    subject: 'the signature',
    chain:
      flags.certificateChain !== undefined
        ? `--certificate-chain ${displayName(flags.certificateChain)}`
        : `--certificate ${displayName(flags.certificate ?? '')}`.trimEnd(),
  };
}

/** A detached signature as bundle parts, with the signer's key and PEM (to find its log entry). */
export interface DetachedParts {
  parts: BundleParts;
  key: KeyObject;
  verifierPem: string;
}

/**
 * cosign's detached inputs: `--signature` (a file or the base64 text; for attestations the DSSE
 * envelope) with `--certificate` [+ `--certificate-chain`] or `--key`, as the parts of a bundle
 * (its log entry is found by loggedEntry, unless --insecure-ignore-tlog).
 */
async function detachedParts(
  flags: VerifyFlags,
  policy: SignerPolicy,
  artifact: Artifact,
  attestation: boolean,
): Promise<DetachedParts> {
  if (flags.bundle !== undefined)
    throw invalid('--signature', 'give either --bundle or --signature, not both');
  const { messageHash, keyDetailsOf } = await import('../../core/crypto/keys.ts');
  const { createHash } = process.getBuiltinModule('node:crypto');
  // A file or the base64 text, as in cosign; a URL or env:// too for a signature (cosign's
  // verify-blob), not for an attestation's envelope (its verify-blob-attestation reads a file).
  const sig = flags.signature!;
  if (attestation) refuseReference(sig, '--signature', "the attestation's envelope");
  const sigText =
    !attestation && isReference(sig)
      ? await loadTextFileOrUrl(sig, '--signature', httpOf(flags))
      : fs.existsSync(sig)
        ? readFile(sig, '--signature')
        : sig;
  const certificatePem =
    flags.certificate !== undefined
      ? await loadTextFileOrUrl(flags.certificate, '--certificate', httpOf(flags))
      : undefined;
  const { key, verifierPem } = detachedSigner(policy, certificatePem);
  let digest: { algorithm: 'SHA2_256' | 'SHA2_384' | 'SHA2_512'; digest: Uint8Array } | undefined;
  if (!attestation) {
    // The digest the signature was made over: the key's message hash (P-384 signs SHA-384, as
    // cosign; Ed25519 signs Ed25519ph over SHA-512).
    const alg = messageHash(keyDetailsOf(key, '--certificate'));
    if (artifact.kind === 'digest' && artifact.algorithm !== alg)
      throw invalid(
        '--digest',
        `the signature is over a ${alg} digest; give the file or its ${alg}`,
      );
    digest = {
      algorithm: ({ sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' } as const)[alg],
      digest:
        artifact.kind === 'bytes'
          ? new Uint8Array(createHash(alg).update(artifact.data).digest())
          : artifact.kind === 'file'
            ? artifact.digest(alg)
            : artifact.digest,
    };
  }
  const parts: BundleParts = {
    signature: sigText,
    attestation,
    digest,
    certificatePem,
    chainPem:
      flags.certificateChain !== undefined
        ? await loadTextFileOrUrl(flags.certificateChain, '--certificate-chain', httpOf(flags))
        : undefined,
    publicKeyHint: policy.kind === 'key' ? '' : undefined,
    timestamps:
      flags.rfc3161Timestamp !== undefined
        ? [await readTimestampFile(flags.rfc3161Timestamp, flags)]
        : [],
    labels: {
      signature: '--signature',
      certificate: '--certificate',
      chain: '--certificate-chain',
    },
  };
  return { parts, key, verifierPem };
}

/** A URL a verify flag names is fetched under the command's --timeout. */
function httpOf(flags: Pick<VerifyFlags, 'http'>): LoadOptions {
  return flags.http ? { http: flags.http } : {};
}

/**
 * cosign's `--rfc3161-timestamp` (a file, URL or env://): a TimeStampResp or bare token (DER),
 * parsed here.
 */
async function readTimestampFile(file: string, flags: VerifyFlags): Promise<Uint8Array> {
  const der = await loadFileOrUrl(file, '--rfc3161-timestamp', httpOf(flags));
  const { parseTimestamp } = await import('../../core/rfc3161/token.ts');
  try {
    parseTimestamp(der);
  } catch (e) {
    throw invalid(
      '--rfc3161-timestamp',
      `${displayName(file)} is not an RFC 3161 timestamp: ${reasonOf(e)}`,
      e,
    );
  }
  return der;
}

/**
 * Who signed a detached signature: `--key`'s key, or the key of `--certificate` (required
 * without `--key`), with the PEM a log entry records for it.
 */
export function detachedSigner(
  policy: SignerPolicy,
  certificatePem: string | undefined,
): { key: KeyObject; verifierPem: string } {
  if (policy.kind === 'key')
    return {
      key: policy.key,
      verifierPem: certificatePem ?? policy.key.export({ type: 'spki', format: 'pem' }).toString(),
    };
  if (certificatePem === undefined)
    throw invalid('--signature', 'needs --certificate (or --key) to say who signed');
  const { createPublicKey } = process.getBuiltinModule('node:crypto');
  try {
    return { key: createPublicKey(certificatePem), verifierPem: certificatePem };
  } catch (e) {
    throw invalid('--certificate', 'is not a PEM certificate', e);
  }
}

/**
 * Where a detached signature's log entry may be: the Rekor v1 logs of the server's signing
 * config (where its clients write), then the logs the trusted root lists. Only where to look:
 * an entry found anywhere is still verified against the trusted root's log keys.
 */
async function logUrls(root: TrustedRoot, flags: VerifyFlags): Promise<string[]> {
  const urls: string[] = [];
  if (flags.server !== undefined) {
    const { fetchSigningConfigJson } = await import('../http/trust.ts');
    const { parseSigningConfig } = await import('../../bundle/signing-config.ts');
    const config = parseSigningConfig(await fetchSigningConfigJson(flags.server, flags.http));
    for (const t of config.rekorTlogUrls) if (t.majorApiVersion === 1) urls.push(t.url);
  }
  for (const t of root.tlogs) if (t.baseUrl !== '') urls.push(t.baseUrl);
  return [...new Set(urls)];
}

/**
 * The entry of a detached signature in a log of the trusted root (Rekor v1's search, as
 * cosign's verify-blob looks it up at --rekor-url): the first log that has it; none is an error
 * that says how to go on.
 */
export async function loggedEntry(
  d: DetachedParts,
  root: TrustedRoot,
  flags: VerifyFlags,
): Promise<unknown> {
  const how =
    'give the bundle written when it was signed (--bundle), or --insecure-ignore-tlog to accept it without a log entry';
  if (flags.offline)
    throw verificationFailed(
      'TLOG_ENTRY_NOT_FOUND',
      `a detached signature's log entry is looked up online, and --offline forbids that: ${how}`,
    );
  const urls = await logUrls(root, flags);
  const { findLogEntry } = await import('../sign/find-entry.ts');
  const missed: string[] = [];
  for (const url of urls)
    try {
      return await findLogEntry(url, d.parts, d.key, d.verifierPem, flags.http);
    } catch (e) {
      if (!(e instanceof SignetError) || (e.kind !== 'not-found' && e.kind !== 'unavailable'))
        throw e;
      missed.push(e.kind === 'unavailable' ? `${url} (not reachable)` : url);
    }
  throw verificationFailed(
    'TLOG_ENTRY_NOT_FOUND',
    `no transparency log of the trusted root records this signature (looked in ${missed.join(', ') || 'none: the trusted root names no log URL'}): ${how}`,
  );
}
