/**
 * The policy engine: which policies cover an artifact, and whether its verified signatures and
 * attestations satisfy them. Pure and synchronous: the artifact's evidence (bundles with the
 * means to verify them) is gathered beforehand, and every signature check is the ONE verifier's
 * (client/verify/verifier.ts): the engine only decides over verified results.
 *
 * Semantics (policy-controller's, pkg/webhook/validator.go): every policy that matches must pass
 * (AND); within a policy one authority suffices (OR), or `threshold` distinct authorities; an
 * authority with attestations is satisfied by its attestations (each listed predicate type, with
 * its condition), otherwise by signatures; `threshold` on an authority asks for that many
 * distinct signers. A failed policy in `warn` mode admits with a warning.
 */
import { SignetError } from '../../core/errors.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import {
  fulcioExtensions,
  FULCIO_EXTENSION_NAMES,
  FULCIO_OID_PREFIX,
} from '../../core/x509/fulcio-extensions.ts';
import { spkiDer } from '../../core/crypto/keys.ts';
import type { SignerPolicy, VerificationResult, VerifyOptions } from '../verify/verifier.ts';
import { globMatches, imageGlobMatches, type ImageReference } from './glob.ts';
import type { Authority, LabelSelector, Policy, PolicyMode, SigningAuthority } from './types.ts';
import type { ObjectPart } from './cel-env.ts';
import type { SignedObjectType } from '../../core/git/object.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

export type TargetKind = Target['kind'];

/** What is being decided about. */
export type Target =
  | {
      kind: 'image';
      ref: ImageReference;
      /** `registry/repo@digest` once resolved */ digestName?: string;
      /** The image's config files by `os/architecture[/variant]`, when a policy asked. */
      configs?: Record<string, unknown>;
    }
  | { kind: 'blob'; path: string | undefined; name: string | undefined; digest: string | undefined }
  /** A git object, matched by spec.commits: a commit, or an annotated tag (named as one). */
  | { kind: SignedObjectType; repository: string; ref: string | undefined; sha: string };

/** One signature or attestation found for the target, with the means to verify it. */
export interface Evidence {
  kind: 'signature' | 'attestation';
  /** Where it came from (a bundle file, a registry referrer), for reports. */
  label: string;
  /** Images: the signature repository it was found in, when an authority's `source` named it. */
  origin?: string;
  /** It could not be gathered: verify() throws why (checked whatever the deadline). */
  unavailable?: boolean;
  /** Images: how it was stored (OCI referrer bundle, or cosign's legacy tag). */
  scheme?: 'bundle' | 'legacy';
  /** The ONE verifier over this evidence; throws a SignetError naming the failed check. */
  verify(policy: SignerPolicy, root: TrustedRoot, options: VerifyOptions): VerificationResult;
}

/** The Kubernetes resource being admitted, for `spec.match`. */
export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  labels: Record<string, string>;
  /** The object's parts a policy condition may include (spec.policy includeSpec, ...). */
  object?: Record<ObjectPart, unknown>;
}

export type NoMatchPolicy = 'allow' | 'warn' | 'deny';

export interface EvaluateOptions {
  /** What to do with an artifact no policy covers (default deny, as policy-controller). */
  noMatch?: NoMatchPolicy;
  resource?: ResourceInfo;
  /**
   * When the evaluation must be over (epoch ms): a check not started by then, or a condition
   * still running then, fails with EVALUATION_TIMEOUT, so the policy fails (a denial in
   * enforce mode, a warning in warn mode).
   */
  deadline?: number;
}

/** The deadline has passed: what every check after it says. */
export function deadlineError(deadline: number): SignetError {
  return new SignetError(
    'verification',
    'EVALUATION_TIMEOUT',
    `evaluation did not finish in time (its deadline was ${new Date(deadline).toISOString()})`,
  );
}

/** cosign's `--timeout` default (3m0s) for a whole CLI evaluation. */
export const DEFAULT_EVALUATION_MS = 180_000;

/**
 * Evidence that could not be gathered (a registry or log that failed or did not answer in
 * time): every signature and attestation check fails with that reason, so each policy covering
 * the artifact fails by its mode, and a static authority still decides as it says.
 */
export function unavailableEvidence(label: string, error: Error): Evidence[] {
  const verify = (): never => {
    throw error;
  };
  return [
    { kind: 'signature', label, verify, unavailable: true },
    { kind: 'attestation', label, verify, unavailable: true },
  ];
}

function checkDeadline(deadline: number | undefined): void {
  if (deadline !== undefined && Date.now() >= deadline) throw deadlineError(deadline);
}

export interface SignerMatch {
  /** `identity (issuer)` or `key sha256:…`. */
  signer: string;
  /** The evidence that satisfied it. */
  evidence: string;
  identity?: string;
  issuer?: string;
  /** For attestations: the attestation rule name. */
  attestation?: string;
}

export interface AuthorityOutcome {
  name: string;
  kind: Authority['kind'];
  passed: boolean;
  /** The distinct signers that satisfied it. */
  satisfiedBy: SignerMatch[];
  /** Why it is not satisfied (or, when it is, what did not count). */
  reasons: string[];
  /** For a static authority: its message. */
  message?: string;
}

export interface PolicyOutcome {
  name: string;
  source: string;
  mode: PolicyMode;
  passed: boolean;
  threshold: number;
  authorities: AuthorityOutcome[];
  /** Why the policy fails (threshold unmet, condition false). */
  reasons: string[];
}

export interface Decision {
  target: string;
  kind: TargetKind;
  allowed: boolean;
  /** The policies that matched, in load order. */
  policies: PolicyOutcome[];
  /** No policy covered the artifact. */
  noMatch: boolean;
  /** Denials: enforce-mode failures (and no-match under deny). */
  errors: string[];
  /** Warn-mode failures (what would have failed) and no-match under warn. */
  warnings: string[];
}

export function targetLabel(t: Target): string {
  if (t.kind === 'image') return t.ref.original;
  if (t.kind === 'blob') return t.path ?? t.name ?? t.digest ?? '(artifact)';
  return `${t.repository}@${t.sha}${t.ref ? ` (${t.ref})` : ''}`;
}

/** The artifact as CEL conditions see it (`artifact`). */
function artifactInput(t: Target): Record<string, unknown> {
  if (t.kind === 'image')
    return {
      kind: 'image',
      name: t.ref.name,
      reference: t.ref.original,
      registry: t.ref.registry,
      repository: t.ref.repository,
      tag: t.ref.tag ?? '',
      digest: t.ref.digest ?? t.digestName?.split('@')[1] ?? '',
    };
  if (t.kind === 'blob')
    return { kind: 'blob', path: t.path ?? '', name: t.name ?? '', digest: t.digest ?? '' };
  return { kind: t.kind, repository: t.repository, ref: t.ref ?? '', sha: t.sha };
}

/** A Kubernetes label selector: every label and every expression must hold. */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  return (
    Object.entries(sel.matchLabels).every(([k, v]) => labels[k] === v) &&
    sel.matchExpressions.every((e) => {
      const has = Object.hasOwn(labels, e.key);
      switch (e.operator) {
        case 'In':
          return has && e.values.includes(labels[e.key]!);
        case 'NotIn':
          return !has || !e.values.includes(labels[e.key]!);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
      }
    })
  );
}

/** Does `policy` cover `target` (and, at admission, this kind of resource)? */
export function policyMatches(policy: Policy, target: Target, resource?: ResourceInfo): boolean {
  if (resource && policy.match.length > 0) {
    const ok = policy.match.some(
      (m) =>
        m.resource === resource.resource &&
        (m.version === resource.version || m.version === '*') &&
        m.group === resource.group &&
        (m.selector === undefined || selectorMatches(m.selector, resource.labels)),
    );
    if (!ok) return false;
  }
  if (target.kind === 'image') {
    const also = target.digestName ? [target.digestName] : [];
    return policy.images.some((g) => imageGlobMatches(g, target.ref, also));
  }
  if (target.kind === 'blob')
    return policy.blobs.some(
      (b) =>
        (b.path === undefined || (target.path !== undefined && globMatches(b.path, target.path))) &&
        (b.name === undefined || (target.name !== undefined && globMatches(b.name, target.name))),
    );
  return policy.commits.some(
    (c) =>
      globMatches(c.repository, target.repository) &&
      (c.ref === undefined || (target.ref !== undefined && globMatches(c.ref, target.ref))),
  );
}

/**
 * What evidence from an authority's `source` carries as its origin: the repository, and the tag
 * prefix when one is given (two authorities may read one repository under two prefixes).
 */
export function sourceKey(s: { oci: string; tagPrefix: string | undefined }): string {
  return s.tagPrefix === undefined ? s.oci : `${s.oci} (tag prefix ${s.tagPrefix})`;
}

function signerOf(r: VerificationResult): { id: string; identity?: string; issuer?: string } {
  if (r.signer.kind === 'key')
    return {
      id: `key sha256:${createHash('sha256').update(spkiDer(r.signer.key)).digest('hex').slice(0, 16)}`,
    };
  const identity = r.signer.identity[0] ?? '';
  const issuer = r.signer.issuer ?? '';
  return { id: `${identity} (issuer ${issuer})`, identity, issuer };
}

/** The signing certificate as conditions see it. */
function certificateInput(r: VerificationResult): Record<string, unknown> {
  if (r.signer.kind === 'key')
    return { kind: 'key', subject: '', identities: [], issuer: '', extensions: {} };
  const ext = fulcioExtensions(r.signer.certificate);
  const extensions: Record<string, string> = {};
  for (const [arc, value] of Object.entries(ext)) {
    if (value === undefined) continue;
    extensions[`${FULCIO_OID_PREFIX}${arc}`] = value;
    const name = FULCIO_EXTENSION_NAMES[Number(arc)];
    if (name) extensions[name] = value;
  }
  return {
    kind: 'certificate',
    subject: r.signer.identity[0] ?? '',
    identities: r.signer.identity,
    issuer: r.signer.issuer ?? '',
    extensions,
  };
}

function statementInput(r: VerificationResult, target: Target): Record<string, unknown> {
  const st = r.statement;
  const times = r.times.map((t) => ({ source: t.source, time: t.time, by: t.by }));
  const earliest = r.times.reduce<Date | undefined>(
    (m, t) => (m === undefined || t.time < m ? t.time : m),
    undefined,
  );
  return {
    statement: st
      ? {
          _type: st.type,
          subject: st.subject,
          predicateType: st.predicateType,
          predicate: st.predicate,
        }
      : {},
    predicate: st?.predicate ?? null,
    predicateType: st?.predicateType ?? '',
    subject: st?.subject ?? [],
    certificate: certificateInput(r),
    logTime: earliest ?? new Date(0),
    times,
    artifact: artifactInput(target),
  };
}

function signerPolicy(a: SigningAuthority): SignerPolicy {
  return a.key ? { kind: 'key', key: a.key } : { kind: 'identities', identities: a.identities };
}

interface AuthorityEvaluation {
  outcome: AuthorityOutcome;
  /** For spec.policy: what matched, policy-controller's authorityMatches shape. */
  matches: { signatures: unknown[]; attestations: Record<string, unknown[]> };
}

async function evaluateAuthority(
  a: Authority,
  target: Target,
  evidence: Evidence[],
  deadline: number | undefined,
): Promise<AuthorityEvaluation> {
  const matches = { signatures: [] as unknown[], attestations: {} as Record<string, unknown[]> };
  if (a.kind === 'static') {
    const outcome: AuthorityOutcome = {
      name: a.name,
      kind: 'static',
      passed: a.action === 'pass',
      satisfiedBy: [],
      reasons:
        a.action === 'fail'
          ? [`static authority says fail${a.message ? `: ${a.message}` : ''}`]
          : [],
    };
    if (a.message !== undefined) outcome.message = a.message;
    return { outcome, matches };
  }
  const policy = signerPolicy(a);
  // An authority with a source looks only there; otherwise only beside the image (policy-controller).
  const inSource = evidence.filter((e) =>
    a.sources.length === 0
      ? e.origin === undefined
      : a.sources.some((s) => sourceKey(s) === e.origin),
  );
  evidence = inSource.filter(
    (e) =>
      a.signatureFormat === undefined || e.scheme === undefined || e.scheme === a.signatureFormat,
  );
  // "None found" while some were left out by signatureFormat would send the reader to the registry.
  const noneFound = (kind: Evidence['kind']) => {
    const left = inSource.filter((e) => e.kind === kind && !evidence.includes(e)).length;
    const other = a.signatureFormat === 'bundle' ? 'legacy' : 'bundle';
    return `no ${kind} was found for the artifact${left > 0 ? ` (${left} in the ${other} format ${left === 1 ? 'was' : 'were'} left out: signatureFormat is ${a.signatureFormat})` : ''}`;
  };
  const base: VerifyOptions = a.verify;
  const reasons: string[] = [];
  const satisfiedBy: SignerMatch[] = [];
  let passed: boolean;
  const record = (e: Evidence, r: VerificationResult, attestation?: string) => {
    const s = signerOf(r);
    const m: SignerMatch = { signer: s.id, evidence: e.label };
    if (s.identity !== undefined) m.identity = s.identity;
    if (s.issuer !== undefined) m.issuer = s.issuer;
    if (attestation !== undefined) m.attestation = attestation;
    return m;
  };
  if (a.attestations.length === 0) {
    const sigs = evidence.filter((e) => e.kind === 'signature');
    if (sigs.length === 0) reasons.push(noneFound('signature'));
    for (const e of sigs) {
      try {
        if (!e.unavailable) checkDeadline(deadline);
        const r = e.verify(policy, a.trust.root, base);
        const m = record(e, r);
        if (!satisfiedBy.some((x) => x.signer === m.signer)) satisfiedBy.push(m);
        matches.signatures.push({ subject: m.identity ?? m.signer, issuer: m.issuer ?? '' });
      } catch (err) {
        reasons.push(`${e.label}: ${(err as Error).message}`);
      }
    }
    passed = satisfiedBy.length >= a.threshold;
    if (!passed && satisfiedBy.length > 0)
      reasons.unshift(
        `${satisfiedBy.length} distinct signer${satisfiedBy.length === 1 ? '' : 's'} of ${a.threshold} required`,
      );
  } else {
    const atts = evidence.filter((e) => e.kind === 'attestation');
    passed = true;
    for (const rule of a.attestations) {
      const signers: SignerMatch[] = [];
      const ruleMatches: unknown[] = [];
      if (atts.length === 0) reasons.push(`${rule.name}: ${noneFound('attestation')}`);
      for (const e of atts) {
        try {
          if (!e.unavailable) checkDeadline(deadline);
          const r = e.verify(policy, a.trust.root, { ...base, predicateType: rule.predicateType });
          if (
            rule.condition &&
            !(await rule.condition.evaluate(statementInput(r, target), deadline))
          ) {
            reasons.push(
              `${rule.name}: ${e.label}: the condition ${rule.condition.source} is false`,
            );
            continue;
          }
          const m = record(e, r, rule.name);
          if (!signers.some((x) => x.signer === m.signer)) signers.push(m);
          ruleMatches.push({
            subject: m.identity ?? m.signer,
            issuer: m.issuer ?? '',
            predicateType: rule.predicateType,
            predicate: r.statement?.predicate ?? null,
          });
        } catch (err) {
          reasons.push(`${rule.name}: ${e.label}: ${(err as Error).message}`);
        }
      }
      matches.attestations[rule.name] = ruleMatches;
      for (const s of signers) satisfiedBy.push(s);
      if (signers.length < a.threshold) {
        passed = false;
        if (signers.length > 0)
          reasons.unshift(
            `${rule.name}: ${signers.length} distinct signer${signers.length === 1 ? '' : 's'} of ${a.threshold} required`,
          );
      }
    }
  }
  return {
    outcome: { name: a.name, kind: a.kind, passed, satisfiedBy, reasons },
    matches,
  };
}

export async function evaluatePolicy(
  p: Policy,
  target: Target,
  evidence: Evidence[],
  deadline?: number,
  resource?: ResourceInfo,
): Promise<PolicyOutcome> {
  const evaluations: AuthorityEvaluation[] = [];
  for (const a of p.authorities)
    evaluations.push(await evaluateAuthority(a, target, evidence, deadline));
  const satisfied = evaluations.filter((e) => e.outcome.passed).length;
  const reasons: string[] = [];
  let passed = satisfied >= p.threshold;
  if (!passed)
    reasons.push(
      p.threshold === 1
        ? 'no authority is satisfied'
        : `${satisfied} of the ${p.threshold} required authorities are satisfied`,
    );
  if (passed && p.condition) {
    const authorityMatches: Record<string, unknown> = {};
    for (const [i, a] of p.authorities.entries())
      if (evaluations[i]!.outcome.passed) authorityMatches[a.name] = evaluations[i]!.matches;
    try {
      const input: Record<string, unknown> = { authorityMatches, artifact: artifactInput(target) };
      // Outside admission there is no object (its parts are null); only images have configs.
      for (const part of p.includes)
        input[part] =
          part === 'config'
            ? (target.kind === 'image' && target.configs) || null
            : (resource?.object?.[part] ?? null);
      if (!(await p.condition.evaluate(input, deadline))) {
        passed = false;
        reasons.push(`the policy condition ${p.condition.source} is false`);
      }
    } catch (e) {
      passed = false;
      reasons.push((e as Error).message);
    }
  }
  return {
    name: p.name,
    source: p.source,
    mode: p.mode,
    passed,
    threshold: p.threshold,
    authorities: evaluations.map((e) => e.outcome),
    reasons,
  };
}

/** Every matching policy must pass (AND); a failed warn-mode policy only warns. */
export async function evaluate(
  policies: Policy[],
  target: Target,
  evidence: Evidence[],
  opts: EvaluateOptions = {},
): Promise<Decision> {
  const label = targetLabel(target);
  const matching = policies.filter((p) => policyMatches(p, target, opts.resource));
  const decision: Decision = {
    target: label,
    kind: target.kind,
    allowed: true,
    policies: [],
    noMatch: matching.length === 0,
    errors: [],
    warnings: [],
  };
  if (matching.length === 0) {
    const noMatch = opts.noMatch ?? 'deny';
    const msg = `no policy covers ${label}`;
    if (noMatch === 'deny') decision.errors.push(msg);
    if (noMatch === 'warn') decision.warnings.push(msg);
  }
  for (const p of matching) {
    const outcome = await evaluatePolicy(p, target, evidence, opts.deadline, opts.resource);
    decision.policies.push(outcome);
    if (outcome.passed) continue;
    const why = failureSummary(outcome);
    if (p.mode === 'warn')
      decision.warnings.push(`policy "${p.name}" would fail (warn mode): ${why}`);
    else decision.errors.push(`policy "${p.name}" fails: ${why}`);
  }
  decision.allowed = decision.errors.length === 0;
  return decision;
}

/** One line: the policy's reasons, then each authority's first reason. */
export function failureSummary(o: PolicyOutcome): string {
  const parts = [...o.reasons];
  for (const a of o.authorities)
    if (!a.passed) parts.push(`${a.name}: ${a.reasons[0] ?? 'not satisfied'}`);
  return parts.join('; ');
}
