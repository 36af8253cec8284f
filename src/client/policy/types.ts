/**
 * A loaded policy: ClusterImagePolicy's shape (policy.sigstore.dev v1beta1/v1alpha1) as typed
 * values, every glob, regexp, key, CEL condition and trust root already compiled and checked.
 */
import type { KeyObject } from 'node:crypto';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import type { IdentityPolicy } from '../verify/policy.ts';
import type { VerifyOptions } from '../verify/verifier.ts';
import type { CelCondition } from './cel.ts';
import type { PolicyPart } from './cel-env.ts';
import type { Glob } from './glob.ts';

export type PolicyMode = 'enforce' | 'warn';

/** A Kubernetes resource kind a policy applies to at admission (`spec.match`). */
export interface ResourceMatch {
  group: string;
  version: string;
  resource: string;
  /** `selector`: which objects of that kind, by their labels (a Kubernetes LabelSelector). */
  selector: LabelSelector | undefined;
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: Array<{
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values: string[];
  }>;
}

export interface BlobMatch {
  /** Over the path as given (forward slashes, no leading `./`). */
  path?: Glob;
  /** Over the artifact's name (the file's base name, or --artifact-name). */
  name?: Glob;
}

export interface CommitMatch {
  /** Over the repository (e.g. `github.com/org/repo`). */
  repository: Glob;
  /** Over the ref (`refs/heads/main`, `refs/tags/v1.2.0`); absent: any. */
  ref: Glob | undefined;
}

export interface AttestationRule {
  name: string;
  predicateType: string;
  condition: CelCondition | undefined;
}

/** The trust an authority verifies against (composed from trust root references). */
export interface AuthorityTrust {
  root: TrustedRoot;
  /** Where it came from, for reports. */
  label: string;
}

interface AuthorityBase {
  name: string;
  /** Its field path in the policy file. */
  field: string;
}

export interface StaticAuthority extends AuthorityBase {
  kind: 'static';
  action: 'pass' | 'fail';
  message: string | undefined;
}

export interface SigningAuthority extends AuthorityBase {
  kind: 'key' | 'keyless';
  /** key: the public key; keyless: the identities (any one suffices per signature). */
  key: KeyObject | undefined;
  identities: IdentityPolicy[];
  trust: AuthorityTrust;
  /**
   * What each signature must carry besides its signer, as policy-controller reads the authority:
   * a log entry unless it is a key authority without `ctlog`, or one with `rfc3161timestamp`
   * (which requires a signed timestamp instead); no SCT under `keyless.insecureIgnoreSCT`; the
   * signer's hash from `key.hashAlgorithm`.
   */
  verify: VerifyOptions;
  attestations: AttestationRule[];
  /** Distinct signers (identities or keys) that must have signed; default 1. */
  threshold: number;
  /** Alternative signature repositories for images (`source[].oci`). */
  sources: Array<{ oci: string; tagPrefix: string | undefined }>;
  signatureFormat: 'legacy' | 'bundle' | undefined;
}

export type Authority = StaticAuthority | SigningAuthority;

export interface Policy {
  name: string;
  /** File (and document) it came from. */
  source: string;
  mode: PolicyMode;
  images: Glob[];
  blobs: BlobMatch[];
  commits: CommitMatch[];
  match: ResourceMatch[];
  authorities: Authority[];
  /** Distinct authorities that must be satisfied; default 1 (any one). */
  threshold: number;
  /** spec.policy: a CEL condition over `authorityMatches`. */
  condition: CelCondition | undefined;
  /** What else the condition sees (includeSpec, ..., fetchConfigFile). */
  includes: PolicyPart[];
}
