/**
 * What a library caller passes, checked before anything is verified. Plain JavaScript has no
 * compiler to hold callers to the declared types, and a verifier that trusts the shape of its
 * options can be talked out of a check: a policy that is not a policy must be refused, never
 * read as "no identity to check".
 */
import { invalid, quoteInput } from '../core/errors.ts';
import type { SignerPolicy } from '../client/verify/verifier.ts';
const { KeyObject } = process.getBuiltinModule('node:crypto');

const POLICY_KINDS: ReadonlySet<string> = new Set<SignerPolicy['kind']>([
  'identity',
  'identities',
  'key',
  'anyIdentity',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

const isThenable = (v: unknown): boolean =>
  isObject(v) && typeof (v as { then?: unknown }).then === 'function';

/** The options object itself: refused when missing, with what it must hold. */
export function optionsInput(value: unknown, what: string): Record<string, unknown> {
  if (!isObject(value) || Array.isArray(value))
    throw invalid('options', `is ${quoteInput(value)}; ${what}`);
  return value;
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
  if (p.kind === 'identity' && !isObject(p.identity))
    throw invalid(`${field}.identity`, `is ${quoteInput(p.identity)}, not an identity policy`);
  if (p.kind === 'identities') {
    if (!Array.isArray(p.identities) || p.identities.length === 0)
      throw invalid(
        `${field}.identities`,
        `is ${quoteInput(p.identities)}; a non-empty list of identity policies is required`,
      );
    p.identities.forEach((id, i) => {
      if (!isObject(id))
        throw invalid(`${field}.identities[${i}]`, `is ${quoteInput(id)}, not an identity policy`);
    });
  }
  if (p.kind === 'key' && !(p.key instanceof KeyObject && p.key.type !== 'secret'))
    throw invalid(
      `${field}.key`,
      `is ${quoteInput(p.key)}, not a public key (KeyObject); keyPolicy(pem) makes the policy from a PEM public key`,
    );
  return p;
}
