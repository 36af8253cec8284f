/**
 * Policy decisions about files: the file (or its digest) and its bundles become a blob target
 * and evidence for the engine.
 */
import path from 'node:path';
import { toHex } from '../../core/encoding/hex.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { Artifact } from '../verify/verifier.ts';
import { readArtifact, readBundle, type VerifyFlags } from '../verify/setup.ts';
import { invalid, verificationFailed } from '../../core/errors.ts';
import { evaluate, type Decision, type EvaluateOptions, type Target } from './engine.ts';
import { bundleEvidence } from './evidence.ts';
import type { Policy } from './types.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

/** A path as policies see it: forward slashes, no leading `./`. */
export function normalisePath(p: string): string {
  let n = path.posix.normalize(p.split(path.sep).join('/'));
  while (n.startsWith('./')) n = n.slice(2);
  return n;
}

export function artifactDigestText(a: Artifact): string {
  if (a.kind === 'digest') return `${a.algorithm}:${toHex(a.digest)}`;
  return `sha256:${createHash('sha256').update(a.data).digest('hex')}`;
}

export function blobTarget(
  file: string | undefined,
  artifact: Artifact,
  artifactName: string | undefined,
): Target {
  const p = file !== undefined && artifact.kind === 'bytes' ? normalisePath(file) : undefined;
  return {
    kind: 'blob',
    path: p,
    name: artifactName ?? (p !== undefined ? path.posix.basename(p) : undefined),
    digest: artifactDigestText(artifact),
  };
}

export function decideBlob(
  policies: Policy[],
  target: Target,
  artifact: Artifact,
  bundles: Array<{ bundle: Bundle; label: string }>,
  opts: EvaluateOptions = {},
): Promise<Decision> {
  const evidence = bundles.map((b) => bundleEvidence(b.bundle, artifact, b.label));
  return evaluate(policies, target, evidence, opts);
}

/** From file names: the artifact (or --digest), its bundles, an optional name. */
export async function decideBlobFiles(
  policies: Policy[],
  file: string | undefined,
  o: {
    bundles: string[];
    digest?: string;
    artifactName?: string;
    noMatch?: EvaluateOptions['noMatch'];
    deadline?: number;
  },
): Promise<{ decision: Decision; artifact: Artifact; bundles: Bundle[] }> {
  const artifact = readArtifact(file, o.digest);
  if (o.bundles.length === 0) await readBundle(undefined); // "--bundle is required"
  const bundles: Bundle[] = [];
  for (const b of o.bundles) bundles.push(await readBundle(b));
  const target = blobTarget(file, artifact, o.artifactName);
  const decision = await decideBlob(
    policies,
    target,
    artifact,
    bundles.map((bundle, i) => ({ bundle, label: o.bundles[i]! })),
    {
      ...(o.noMatch ? { noMatch: o.noMatch } : {}),
      ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
    },
  );
  return { decision, artifact, bundles };
}

/**
 * `verify-blob --policy` / `verify-blob-attestation --policy`: the policies decide instead of the
 * identity flags. A denial throws (naming each failing policy); warnings are in the decision.
 */
export async function verifyBlobWithPolicy(
  file: string | undefined,
  flags: VerifyFlags & { policy: string[]; artifactName?: string },
  opts: { attestation?: boolean } = {},
): Promise<Decision> {
  const identityFlags = [
    flags.certificateIdentity,
    flags.certificateIdentityRegexp,
    flags.certificateOidcIssuer,
    flags.certificateOidcIssuerRegexp,
    flags.key,
  ];
  if (identityFlags.some((f) => f !== undefined))
    throw invalid(
      '--policy',
      'give either --policy or --key / certificate identity flags: the policy says who may sign',
    );
  const { loadPolicySet } = await import('./setup.ts');
  const policies = await loadPolicySet(flags.policy, flags);
  const bundle = await readBundle(flags.bundle);
  if (opts.attestation && bundle.content.$case !== 'dsseEnvelope')
    throw verificationFailed(
      'NOT_AN_ATTESTATION',
      'the bundle holds a plain signature, not an attestation; use verify-blob',
    );
  const artifact = readArtifact(file, flags.digest);
  const target = blobTarget(file, artifact, flags.artifactName);
  const decision = await decideBlob(policies, target, artifact, [{ bundle, label: flags.bundle! }]);
  if (!decision.allowed)
    throw verificationFailed('POLICY_DENIED', `${decision.target}: ${decision.errors.join('; ')}`);
  return decision;
}

/** One line for a decision that allowed: which policy, which authority, which signer. */
export function describeAllowed(d: Decision): string {
  const parts = d.policies.map((p) => {
    const a = p.authorities.filter((x) => x.passed);
    const by = a.map(
      (x) =>
        `${x.name}${x.satisfiedBy.length ? ` (${x.satisfiedBy.map((s) => s.signer).join(', ')})` : ''}`,
    );
    return `policy "${p.name}"${p.passed ? ` by ${by.join(', ')}` : ' FAILED (warn mode)'}`;
  });
  return parts.length ? parts.join('; ') : 'no policy covers it (allowed by --no-match-policy)';
}
