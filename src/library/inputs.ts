/**
 * What a library caller passes, checked before anything is verified. Plain JavaScript has no
 * compiler to hold callers to the declared types, and a verifier that trusts the shape of its
 * options can be talked out of a check: a policy that is not a policy must be refused, never
 * read as "no identity to check".
 */
import { invalid, quoteInput, SignetError } from '../core/errors.ts';
import { HASH_SIZE } from '../core/crypto/keys.ts';
import {
  isParsedTrustedRoot,
  parseTrustedRoot,
  trustedRootToJSON,
  type TrustedRoot,
} from '../bundle/trusted-root.ts';
import {
  bundleToJSON,
  isParsedBundle,
  parseBundle,
  parseBundleJSON,
  type Bundle,
} from '../bundle/bundle.ts';
import type { Artifact, SignerPolicy, VerifyName } from '../client/verify/verifier.ts';
import type { InputNames } from '../client/input-names.ts';
import {
  anchoredRegExp,
  isAnchoredRegExp,
  GITHUB_WORKFLOW_FIELDS,
  type IdentityPolicy,
  type Matcher,
} from '../client/verify/policy.ts';
const { KeyObject } = process.getBuiltinModule('node:crypto');

const POLICY_KINDS: ReadonlySet<string> = new Set<SignerPolicy['kind']>([
  'identity',
  'identities',
  'key',
  'anyIdentity',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * The any-signer policies unsafeAnyIdentityPolicy() made. Every other policy is checked by what
 * it says; this one says "anyone", so it is taken only when asked for by that call: never from
 * data (a config file, a request body parsed into `{ kind: 'anyIdentity' }`) or a copy.
 */
const anyIdentityPolicies = new WeakSet<object>();

/**
 * A policy that accepts ANY signer: verify() then checks the signature, the certificate chain,
 * the logs and the times, and says who signed (`result.signer`) without requiring anyone. For
 * tools that show who signed, never for deciding whether to trust an artifact. Only the object
 * this returns is taken: a `{ kind: 'anyIdentity' }` built by hand or parsed from data is refused.
 */
export function unsafeAnyIdentityPolicy(): SignerPolicy {
  const p: SignerPolicy = Object.freeze({ kind: 'anyIdentity' as const });
  anyIdentityPolicies.add(p);
  return p;
}

const isThenable = (v: unknown): boolean =>
  isObject(v) && typeof (v as { then?: unknown }).then === 'function';

/** An options object (or another object argument, named by `field`): refused when missing. */
export function optionsInput(
  value: unknown,
  what: string,
  field = 'options',
): Record<string, unknown> {
  if (!isObject(value) || Array.isArray(value))
    throw invalid(field, `is ${quoteInput(value)}; ${what}`);
  return value;
}

/**
 * Refuses keys an options object does not have: a misspelt `server` must not quietly mean
 * "the public-good instance" (and send the identity token there).
 */
export function knownOptions(
  value: Record<string, unknown>,
  keys: readonly string[],
  field = 'options',
): void {
  for (const k of Object.keys(value))
    if (value[k] !== undefined && !keys.includes(k))
      throw invalid(`${field}.${k}`, `is not known here (${keys.join(', ')} are)`);
}

/** `options.policy`: one of the SignerPolicy kinds, with what that kind needs. */
export function signerPolicyInput(value: unknown): SignerPolicy {
  const field = 'options.policy';
  if (value === undefined || value === null)
    throw invalid(
      field,
      'is required: who must have signed, from identityPolicy({ identity, issuer }) or keyPolicy(pem)',
    );
  if (isThenable(value)) throw invalid(field, 'is a Promise: keyPolicy() is async, so await it');
  if (!isObject(value) || typeof value.kind !== 'string' || !POLICY_KINDS.has(value.kind)) {
    const sigstoreJs =
      isObject(value) &&
      ('certificateIssuer' in value ||
        'certificateIdentityEmail' in value ||
        'certificateIdentityURI' in value);
    throw invalid(
      field,
      `is not a signer policy (${isObject(value) ? `kind ${quoteInput(value.kind)}` : quoteInput(value)}); make one with identityPolicy({ identity, issuer }) or keyPolicy(pem)${sigstoreJs ? " (sigstore-js's certificateIdentity*/certificateIssuer options are identityPolicy's identity and issuer)" : ''}`,
    );
  }
  const p = value as SignerPolicy;
  if (p.kind === 'anyIdentity') {
    if (!anyIdentityPolicies.has(value))
      throw invalid(
        field,
        'is an anyIdentity policy unsafeAnyIdentityPolicy() did not make; a policy that accepts any signer must be asked for by calling it',
      );
    return p;
  }
  if (p.kind === 'identity')
    return { kind: 'identity', identity: identityInput(p.identity, `${field}.identity`) };
  if (p.kind === 'identities') {
    if (!Array.isArray(p.identities) || p.identities.length === 0)
      throw invalid(
        `${field}.identities`,
        `is ${quoteInput(p.identities)}; a non-empty list of identity policies is required`,
      );
    return {
      kind: 'identities',
      identities: p.identities.map((id, i) => identityInput(id, `${field}.identities[${i}]`)),
    };
  }
  if (p.kind === 'key' && !(p.key instanceof KeyObject && p.key.type !== 'secret'))
    throw invalid(
      `${field}.key`,
      `is ${quoteInput(p.key)}, not a public key (KeyObject); keyPolicy(pem) makes the policy from a PEM public key`,
    );
  return p;
}

/**
 * A value a certificate field must have: a string (exact), a RegExp, or `{ exact }` /
 * `{ regexp }` (a RegExp or its source). Every regexp is anchored here, whoever built it, so
 * `/signet/` cannot accept "malice@not-signet.example"; a RegExp's i and s flags are kept (as
 * Go's `(?i)`/`(?s)`), and m is refused: its ^ and $ would match at any line of the value.
 */
export function matcherInput(value: unknown, field: string): Matcher {
  if (typeof value === 'string') return { exact: value };
  if (value instanceof RegExp) return { regexp: regExpInput(value, field) };
  if (isObject(value) && 'exact' in value && typeof value.exact === 'string')
    return { exact: value.exact };
  if (isObject(value) && 'regexp' in value) {
    const re = value.regexp;
    if (re instanceof RegExp) return { regexp: regExpInput(re, field) };
    if (typeof re === 'string') return { regexp: anchoredRegExp(re, field) };
  }
  throw invalid(
    field,
    `is ${quoteInput(value)}; give a string (exact), a RegExp (matching the whole value) or { regexp: 'source' }`,
  );
}

function regExpInput(re: RegExp, field: string): RegExp {
  // identityPolicy's own, checked again by verify(): anchored once is enough
  if (isAnchoredRegExp(re)) return re;
  if (re.multiline)
    throw invalid(
      field,
      `${re.toString()}: the m flag would let ^ and $ match at any line, not the whole value; leave it out`,
    );
  const lead = (re.ignoreCase ? 'i' : '') + (re.dotAll ? 's' : '');
  return anchoredRegExp(lead ? `(?${lead})${re.source}` : re.source, field);
}

/** An identity policy: who (`subjectAlternativeName`) and vouched for by whom (`issuer`). */
export function identityInput(value: unknown, field: string): IdentityPolicy {
  if (!isObject(value)) throw invalid(field, `is ${quoteInput(value)}, not an identity policy`);
  knownOptions(value, ['subjectAlternativeName', 'issuer', 'githubWorkflow', 'extensions'], field);
  const out: IdentityPolicy = {
    subjectAlternativeName: matcherInput(
      value.subjectAlternativeName,
      `${field}.subjectAlternativeName`,
    ),
    issuer: matcherInput(value.issuer, `${field}.issuer`),
  };
  if (value.githubWorkflow !== undefined)
    out.githubWorkflow = githubWorkflowInput(value.githubWorkflow, `${field}.githubWorkflow`);
  if (value.extensions !== undefined)
    out.extensions = stringRecord(value.extensions, `${field}.extensions`);
  return out;
}

export function githubWorkflowInput(
  value: unknown,
  field: string,
): IdentityPolicy['githubWorkflow'] {
  const known: readonly string[] = GITHUB_WORKFLOW_FIELDS;
  const r = stringRecord(value, field);
  for (const k of Object.keys(r))
    if (!known.includes(k))
      throw invalid(
        `${field}.${k}`,
        `is not a GitHub workflow field; the fields are ${known.join(', ')}`,
      );
  return r;
}

/** An object of strings (Fulcio extensions by OID, workflow fields): exact values only. */
export function stringRecord(value: unknown, field: string): Record<string, string> {
  if (!isObject(value) || Array.isArray(value))
    throw invalid(field, `is ${quoteInput(value)}; give an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (typeof v !== 'string')
      throw invalid(`${field}.${k}`, `is ${quoteInput(v)}; the value must be a string (exact)`);
    out[k] = v;
  }
  return out;
}

/**
 * The parsed form's shape (keys as KeyObjects, times as Dates, certificates as bytes): an object
 * of it that parseTrustedRoot did not make (a copy, or built by hand) is written out and parsed.
 */
function looksParsed(v: Record<string, unknown>): boolean {
  const list = (x: unknown, each: (e: Record<string, unknown>) => boolean) =>
    Array.isArray(x) && x.every((e) => isObject(e) && each(e));
  const log = (l: Record<string, unknown>) => l.publicKey instanceof KeyObject;
  const ca = (c: Record<string, unknown>) => Array.isArray(c.certChain);
  return (
    list(v.tlogs, log) &&
    list(v.ctlogs, log) &&
    list(v.certificateAuthorities, ca) &&
    list(v.timestampAuthorities, ca)
  );
}

/**
 * `options.trustedRoot`: a parsed TrustedRoot, or its JSON value (as sigstore-js takes it),
 * parsed here. A path or JSON text is refused with the function that reads it.
 */
export function trustedRootInput(value: unknown): TrustedRoot {
  const field = 'options.trustedRoot';
  if (value === undefined || value === null)
    throw invalid(
      field,
      'is required: the trust to verify against, from loadTrustedRoot() or parseTrustedRootJSON(text)',
    );
  if (isThenable(value))
    throw invalid(field, 'is a Promise: loadTrustedRoot() is async, so await it');
  if (typeof value === 'string' || value instanceof Uint8Array)
    throw invalid(
      field,
      `is ${typeof value === 'string' ? 'a string' : 'bytes'}, not a trusted root; read a file with loadTrustedRoot({ trustedRoot: path }), JSON text with parseTrustedRootJSON(text)`,
    );
  if (isObject(value) && isParsedTrustedRoot(value)) return value;
  let json: unknown = value;
  if (isObject(value) && looksParsed(value))
    try {
      json = trustedRootToJSON(value as unknown as TrustedRoot);
    } catch (e) {
      throw invalid(
        field,
        `is not a trusted root parseTrustedRoot made, and cannot be written out as one to parse: ${e instanceof RangeError ? 'a time in it is not a valid Date' : (e as Error).message}`,
        e,
      );
    }
  try {
    return parseTrustedRoot(json);
  } catch (e) {
    if (!(e instanceof SignetError)) throw e;
    throw new SignetError(e.kind, e.code, `is not a trusted root: ${e.message}`, {
      field,
      cause: e,
    });
  }
}

/**
 * The bundle to verify: parsed (by parseBundle, or sign()), its JSON text or UTF-8 bytes, or its
 * JSON value. An object that only looks parsed (a copy, or JSON that carries `content`) is
 * written out and parsed again, so nothing reaches the verifier without strict parsing.
 */
export function bundleInput(value: unknown): Bundle {
  if (typeof value === 'string' || value instanceof Uint8Array) return parseBundleJSON(value);
  if (isThenable(value))
    throw invalid('bundle', 'is a Promise: sign() and attest() are async, so await them');
  if (!isObject(value) || Array.isArray(value))
    throw invalid(
      'bundle',
      `is ${quoteInput(value)}; give a bundle: parsed, its JSON text or bytes, or its JSON value`,
    );
  if (isParsedBundle(value)) return value;
  if (!('content' in value)) return parseBundle(value);
  let json: unknown;
  try {
    json = bundleToJSON(value as unknown as Bundle);
  } catch (e) {
    throw invalid('bundle', 'is neither a parsed bundle nor its JSON value', e);
  }
  return parseBundle(json);
}

/** Bytes a caller signs or verifies: a Uint8Array (a Buffer is one); text must be encoded. */
export function bytesInput(value: unknown, field: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw invalid(
    field,
    `is ${value instanceof ArrayBuffer ? 'an ArrayBuffer' : quoteInput(value)}, not bytes; give a Uint8Array or Buffer${bytesHint(value, field)}`,
  );
}

function bytesHint(value: unknown, field: string): string {
  if (value instanceof ArrayBuffer) return ' (new Uint8Array(buffer))';
  if (typeof value !== 'string') return '';
  return field.endsWith('digest')
    ? " (Buffer.from(hex, 'hex') for a hex digest)"
    : ' (new TextEncoder().encode(text) for text)';
}

/** The artifact: its bytes, or an Artifact (`{ kind: 'digest', algorithm, digest }`, ...). */
export function artifactInput(value: unknown): Artifact {
  if (value instanceof Uint8Array) return { kind: 'bytes', data: value };
  if (isObject(value) && value.kind === 'bytes')
    return { kind: 'bytes', data: bytesInput(value.data, 'artifact.data') };
  if (isObject(value) && value.kind === 'digest') {
    const algorithm = value.algorithm;
    if (algorithm !== 'sha256' && algorithm !== 'sha384' && algorithm !== 'sha512')
      throw invalid(
        'artifact.algorithm',
        `is ${quoteInput(algorithm)}; give sha256, sha384 or sha512`,
      );
    const digest = bytesInput(value.digest, 'artifact.digest');
    if (digest.length !== HASH_SIZE[algorithm])
      throw invalid(
        'artifact.digest',
        `is ${digest.length} bytes; a ${algorithm} digest is ${HASH_SIZE[algorithm]}`,
      );
    return { kind: 'digest', algorithm, digest };
  }
  if (
    isObject(value) &&
    value.kind === 'file' &&
    typeof value.path === 'string' &&
    typeof value.digest === 'function'
  )
    return value as Artifact;
  return { kind: 'bytes', data: bytesInput(value, 'artifact') };
}

const VERIFY_NAME_KEYS = [
  'subject',
  'chain',
  'key',
  'noTlog',
  'signedTimestamps',
] as const satisfies readonly VerifyName[];

/** `options.names`: how errors name what is verified and the inputs they point to (strings). */
export function verifyNamesInput(value: unknown): InputNames<VerifyName> {
  if (value === undefined) return {};
  const r = stringRecord(value, 'options.names');
  knownOptions(r, VERIFY_NAME_KEYS, 'options.names');
  return r;
}

/**
 * A threshold (how many logs, SCTs, timestamps are required): a whole number, 0 or more. NaN
 * compares false with every count, so `entries < NaN` would waive the requirement it states.
 */
export function thresholdInput(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw invalid(field, `is ${quoteInput(value)}; give a whole number, 0 or more`);
}
