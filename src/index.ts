/**
 * Signet as a library: sign and verify Sigstore bundles from Node.js, with the same code the
 * `signet` command runs. The public API is this module (the package's `exports` map names
 * nothing else); everything is ESM with type declarations.
 *
 *   import { sign, verify, loadTrustedRoot, identityPolicy } from 'signet';
 *   const bundle = await sign(data, { server: 'http://127.0.0.1:8420', identityToken });
 *   const root = await loadTrustedRoot({ server: 'http://127.0.0.1:8420' });
 *   await verify(bundle, data, { trustedRoot: root, policy: identityPolicy({ identity, issuer }) });
 *
 * Errors are `SignetError`s: `kind` says what sort of failure it is, `code` which check or input.
 */
// First: on a Node.js too old for the rest, importing the library fails here, saying so.
import './library/node-version.ts';
import type { KeyObject } from 'node:crypto';
import { SignetError, invalid, quoteInput, type ErrorKind } from './core/errors.ts';
import {
  bundleToJSON,
  parseBundle,
  parseBundleJSON,
  serializeBundle,
  type Bundle,
} from './bundle/bundle.ts';
import {
  parseTrustedRoot,
  parseTrustedRootJSON,
  trustedRootToJSON,
  type TrustedRoot,
} from './bundle/trusted-root.ts';
import type { IdentityPolicy } from './client/verify/policy.ts';
import type {
  Artifact,
  SignerPolicy,
  VerificationResult,
  VerifyOptions,
} from './client/verify/verifier.ts';
import type { SignSetupOptions } from './client/sign/setup.ts';
import {
  artifactInput,
  bundleInput,
  bytesInput,
  githubWorkflowInput,
  knownOptions,
  matcherInput,
  optionsInput,
  signerPolicyInput,
  stringRecord,
  thresholdInput,
  trustedRootInput,
  verifyNamesInput,
} from './library/inputs.ts';
import { SIGN_NAMES, TRUST_NAMES, VERIFY_NAMES } from './library/names.ts';

export { SignetError };
export { unsafeAnyIdentityPolicy } from './library/inputs.ts';
export type { ErrorKind };
export type { ErrorCode } from './core/error-codes.ts';
export type { Bundle, TrustedRoot, IdentityPolicy, SignerPolicy, VerificationResult, Artifact };
export {
  parseBundle,
  parseBundleJSON,
  serializeBundle,
  bundleToJSON,
  parseTrustedRoot,
  parseTrustedRootJSON,
  trustedRootToJSON,
};

/** Where the services are and who signs. */
export interface SignOptions {
  /** A Signet stack's URL: its signing config comes through its TUF repository. */
  server?: string;
  /** Or a signing_config.json file. Neither: the public-good instance's signing config. */
  signingConfig?: string;
  /** Keyless: the OIDC identity token (else SIGSTORE_ID_TOKEN or ambient CI credentials). */
  identityToken?: string;
  /** Keyed: the path of a private key file (cosign.key with COSIGN_PASSWORD, PKCS#8 or SEC1 PEM). */
  key?: string;
  /** false: no transparency log entry. */
  tlogUpload?: boolean;
  /** Pin the server's TUF root.json. */
  tufRoot?: string;
  /** Per-request deadline in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Progress messages (default: none). */
  onEvent?: (message: string) => void;
}

const SIGN_OPTIONS = [
  'server',
  'signingConfig',
  'identityToken',
  'key',
  'tlogUpload',
  'tufRoot',
  'timeoutMs',
  'onEvent',
] as const satisfies readonly (keyof SignOptions)[];

async function context(o: SignOptions) {
  knownOptions(optionsInput(o, 'give { server, identityToken } or { key }'), SIGN_OPTIONS);
  const { setupSigning } = await import('./client/sign/setup.ts');
  const { tufCacheDir } = await import('./client/verify/trust.ts');
  const s: SignSetupOptions = {
    tufCacheDir: tufCacheDir(),
    interactive: 'never',
    useDefaultSigningConfig: true,
    http: { timeoutMs: o.timeoutMs ?? 30_000 },
    names: SIGN_NAMES,
  };
  if (o.server !== undefined) s.server = o.server;
  if (o.signingConfig !== undefined) s.signingConfig = o.signingConfig;
  if (o.identityToken !== undefined) s.identityToken = o.identityToken;
  if (o.key !== undefined) {
    // A KeyObject or PEM text is not read as a path (and never printed back).
    if (typeof o.key !== 'string')
      throw invalid(
        'options.key',
        `is ${quoteInput(o.key)}; give the path of the private key file`,
      );
    s.key = o.key;
  }
  if (o.tlogUpload !== undefined) s.tlogUpload = o.tlogUpload;
  if (o.tufRoot !== undefined) s.tufRoot = o.tufRoot;
  if (o.onEvent !== undefined) s.onEvent = o.onEvent;
  return setupSigning(s);
}

/** Sign bytes: a bundle (v0.3) with a message signature, logged and timestamped. */
export async function sign(artifact: Uint8Array, options: SignOptions = {}): Promise<Bundle> {
  const { signArtifact } = await import('./client/sign/sign.ts');
  const data = bytesInput(artifact, 'artifact');
  return signArtifact(data, await context(options));
}

/**
 * Sign many artifacts with one setup: one identity token and (keyless) one certificate for all,
 * a signature, log entry and timestamp for each; the bundles in the order of `artifacts`. A few
 * are signed at once. Rejects with the first failure (the others may have been logged).
 */
export async function signMany(
  artifacts: readonly Uint8Array[],
  options: SignOptions = {},
): Promise<Bundle[]> {
  const { signArtifact } = await import('./client/sign/sign.ts');
  const { certificateTimeCheck, SIGN_FILES_PARALLEL } = await import('./client/sign/setup.ts');
  const { mapLimited } = await import('./core/concurrent.ts');
  if (!Array.isArray(artifacts))
    throw invalid('artifacts', 'is not an array; give an array of Uint8Arrays');
  const data = artifacts.map((a, i) => bytesInput(a, `artifacts[${i}]`));
  const ctx = await context(options);
  const lasts = certificateTimeCheck(ctx);
  return mapLimited(data, SIGN_FILES_PARALLEL, (artifact, i) => {
    lasts(`artifact ${i}`);
    return signArtifact(artifact, ctx);
  });
}

/**
 * Attest: an in-toto Statement v1 about `subject` (its name and SHA-256) with a predicate,
 * signed in a DSSE envelope. `predicateType` is a URI or one of cosign's short names.
 */
export async function attest(
  subject: { name: string; data: Uint8Array },
  predicateType: string,
  predicate: unknown,
  options: SignOptions = {},
): Promise<Bundle> {
  const { createHash } = process.getBuiltinModule('node:crypto');
  const { buildStatement, INTOTO_PAYLOAD_TYPE } = await import('./core/intoto/index.ts');
  const { predicateTypeOf } = await import('./client/sign/predicate.ts');
  const { signEnvelope } = await import('./client/sign/sign.ts');
  const o = optionsInput(subject, 'give { name, data }', 'subject');
  if (typeof o.name !== 'string')
    throw invalid('subject.name', `is ${quoteInput(o.name)}; give the artifact's name`);
  const data = bytesInput(o.data, 'subject.data');
  const sha256 = createHash('sha256').update(data).digest('hex');
  const statement = buildStatement(
    [{ name: o.name, digest: { sha256 } }],
    predicateTypeOf(predicateType),
    predicate,
  );
  return signEnvelope(statement, INTOTO_PAYLOAD_TYPE, await context(options));
}

/** Where a verifier's trust comes from (see client/verify/trust.ts for the order). */
export interface TrustOptions {
  /** A trusted_root.json file. */
  trustedRoot?: string;
  /** A Signet server (through its TUF repository). */
  server?: string;
  /** Pin the server's TUF root.json. */
  tufRoot?: string;
  /** No network: a file, the verified TUF cache, or the public-good root shipped with Signet. */
  offline?: boolean;
  /**
   * Warnings (trust on first use of a server, a stale cache used offline), as `sign` gives
   * them; default: printed to stderr, as `sign` does.
   */
  onEvent?: (message: string) => void;
}

const TRUST_OPTIONS = [
  'trustedRoot',
  'server',
  'tufRoot',
  'offline',
  'onEvent',
] as const satisfies readonly (keyof TrustOptions)[];

/** The trusted root: a file, a Signet server's TUF repository, or the public-good instance. */
export async function loadTrustedRoot(options: TrustOptions = {}): Promise<TrustedRoot> {
  knownOptions(optionsInput(options, 'give { server } or { trustedRoot: path }'), TRUST_OPTIONS);
  const { loadTrust } = await import('./client/verify/trust.ts');
  const { onEvent, ...trust } = options;
  // A security warning is not dropped: it goes where sign() sends its warnings.
  return loadTrust({
    ...trust,
    names: TRUST_NAMES,
    ...(onEvent ? { warn: (m: string) => onEvent(`warning: ${m}`) } : {}),
  });
}

/**
 * Who must have signed: the certificate identity and OIDC issuer, each exact (a string) or a
 * regular expression that must match the WHOLE value (a RegExp or `{ regexp: 'source' }`; a
 * RegExp's i and s flags are kept, m is refused).
 */
export function identityPolicy(p: {
  identity: string | RegExp | { regexp: string };
  issuer: string | RegExp | { regexp: string };
  githubWorkflow?: IdentityPolicy['githubWorkflow'];
  extensions?: Record<string, string>;
}): SignerPolicy {
  const o = optionsInput(p, 'give { identity, issuer }', 'policy');
  knownOptions(o, ['identity', 'issuer', 'githubWorkflow', 'extensions'], 'policy');
  const identity: IdentityPolicy = {
    subjectAlternativeName: matcherInput(o.identity, 'identity'),
    issuer: matcherInput(o.issuer, 'issuer'),
  };
  if (o.githubWorkflow !== undefined)
    identity.githubWorkflow = githubWorkflowInput(o.githubWorkflow, 'githubWorkflow');
  if (o.extensions !== undefined) identity.extensions = stringRecord(o.extensions, 'extensions');
  return { kind: 'identity', identity };
}

/** Verification with a public key (PEM text or a KeyObject) instead of an identity. */
export async function keyPolicy(key: string | KeyObject): Promise<SignerPolicy> {
  if (typeof key !== 'string') return { kind: 'key', key };
  const { parsePublicKey } = await import('./core/crypto/keys.ts');
  return { kind: 'key', key: parsePublicKey(key, 'key') };
}

export interface VerifyBundleOptions extends Omit<VerifyOptions, 'predicateType'> {
  trustedRoot: TrustedRoot;
  policy: SignerPolicy;
}

/** Untyped callers: the options and their policy are checked, never taken on trust. */
const VERIFY_OPTIONS = [
  'trustedRoot',
  'policy',
  'tlogThreshold',
  'ctlogThreshold',
  'timestampThreshold',
  'witnesses',
  'checkClaims',
  'signatureHash',
  'signedTimestampThreshold',
  'currentTimeWhenUntimed',
  'names',
] as const satisfies readonly (keyof VerifyBundleOptions)[];

const THRESHOLDS = [
  'tlogThreshold',
  'ctlogThreshold',
  'timestampThreshold',
  'signedTimestampThreshold',
] as const satisfies readonly (keyof VerifyBundleOptions)[];

function checkVerifyOptions<O extends VerifyBundleOptions>(options: O, extra: string[] = []): O {
  const o = optionsInput(options, 'give { trustedRoot, policy }');
  knownOptions(o, [...VERIFY_OPTIONS, ...extra]);
  for (const k of THRESHOLDS) thresholdInput(o[k], `options.${k}`);
  return {
    ...options,
    trustedRoot: trustedRootInput(o.trustedRoot),
    policy: signerPolicyInput(o.policy),
    // the caller's own names over the library's
    names: { ...VERIFY_NAMES, ...verifyNamesInput(o.names) },
  };
}

/**
 * Verify a bundle (parsed, JSON text or bytes, or JSON value) over the artifact's bytes (or its digest):
 * times, log entries, certificate chain and SCT, signature, and the signer policy. Throws a
 * SignetError naming the check that failed.
 */
export async function verify(
  bundle: Bundle | string | Uint8Array | object,
  artifact: Uint8Array | Artifact,
  options: VerifyBundleOptions,
): Promise<VerificationResult> {
  const { verifyBundle } = await import('./client/verify/verifier.ts');
  const { trustedRoot, policy, ...rest } = checkVerifyOptions(options);
  const b = bundleInput(bundle);
  if (b.content.$case !== 'messageSignature')
    throw new SignetError(
      'verification',
      'NOT_A_SIGNATURE',
      'the bundle holds an attestation (DSSE envelope); use verifyAttestation',
    );
  return verifyBundle(b, artifactInput(artifact), trustedRoot, policy, rest);
}

/** Verify an attestation bundle about the artifact (and, if given, its predicate type). */
export async function verifyAttestation(
  bundle: Bundle | string | Uint8Array | object,
  artifact: Uint8Array | Artifact,
  options: VerifyBundleOptions & { predicateType?: string },
): Promise<VerificationResult> {
  const { verifyBundle } = await import('./client/verify/verifier.ts');
  const { predicateTypeOf } = await import('./client/sign/predicate.ts');
  const { trustedRoot, policy, predicateType, ...rest } = checkVerifyOptions(options, [
    'predicateType',
  ]);
  const b = bundleInput(bundle);
  if (b.content.$case !== 'dsseEnvelope')
    throw new SignetError(
      'verification',
      'NOT_AN_ATTESTATION',
      'the bundle holds a plain signature, not an attestation; use verify',
    );
  return verifyBundle(b, artifactInput(artifact), trustedRoot, policy, {
    ...rest,
    ...(predicateType !== undefined ? { predicateType: predicateTypeOf(predicateType) } : {}),
  });
}
