/**
 * Policy decisions about files: the file (or its digest) and its bundles become a blob target
 * and evidence for the engine.
 */
import path from 'node:path';
import { toHex } from '../../core/encoding/hex.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { Artifact } from '../verify/verifier.ts';
import { readArtifact, readBundle, type VerifyFlags } from '../verify/setup.ts';
import { bundleBeside, refuseOneFileFlags, refuseRepeats } from '../many-files.ts';
import { verificationFailed } from '../../core/errors.ts';
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
  if (a.kind === 'file') return `sha256:${toHex(a.digest('sha256'))}`;
  return `sha256:${createHash('sha256').update(a.data).digest('hex')}`;
}

export function blobTarget(
  file: string | undefined,
  artifact: Artifact,
  artifactName: string | undefined,
): Target {
  const p = file !== undefined && artifact.kind !== 'digest' ? normalisePath(file) : undefined;
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
  const artifact = await readArtifact(file, o.digest);
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
  const policies = await policiesInsteadOfIdentity(flags);
  return decideOneBlob(policies, file, flags.bundle, flags.bundleLabel ?? '--bundle', flags, opts);
}

/** One file of `verify-blob --policy FILE FILE...`: the decision that allowed it, or why not. */
export type FileDecision = { file: string } & (
  { decision: Decision; error?: undefined } | { decision?: undefined; error: unknown }
);

/**
 * `verify-blob --policy FILE FILE...`: the policies are read once, then each file is decided
 * with the bundle beside it (FILE.sigstore.json) and the name policies match taken from its
 * path. A denied or unreadable file is recorded with its error and the others go on.
 */
export async function verifyBlobFilesWithPolicy(
  files: readonly string[],
  flags: VerifyFlags & { policy: string[]; artifactName?: string },
): Promise<FileDecision[]> {
  refuseOneFileFlags(
    [
      ['--bundle', flags.bundle],
      ['--digest', flags.digest],
      ['--artifact-name', flags.artifactName],
    ],
    `is about one artifact; with ${files.length} artifacts each is decided with the bundle beside it (FILE.sigstore.json) and named by its path`,
  );
  refuseRepeats(files, 'artifact');
  const policies = await policiesInsteadOfIdentity(flags);
  const out: FileDecision[] = [];
  for (const file of files)
    try {
      out.push({
        file,
        decision: await decideOneBlob(policies, file, bundleBeside(file), 'bundle', {}),
      });
    } catch (error) {
      out.push({ file, error });
    }
  return out;
}

/** The policy set of --policy, which replaces the identity flags (given both: refused). */
async function policiesInsteadOfIdentity(
  flags: VerifyFlags & { policy: string[] },
): Promise<Policy[]> {
  const { loadPolicySet, refuseFlagsPoliciesReplace } = await import('./setup.ts');
  refuseFlagsPoliciesReplace(flags);
  return loadPolicySet(flags.policy, flags);
}

/** One file (or --digest) and its bundle, decided; a denial throws POLICY_DENIED naming why. */
async function decideOneBlob(
  policies: Policy[],
  file: string | undefined,
  bundlePath: string | undefined,
  bundleLabel: string,
  flags: { digest?: string; artifactName?: string },
  opts: { attestation?: boolean } = {},
): Promise<Decision> {
  const bundle = await readBundle(bundlePath, bundleLabel);
  if (opts.attestation && bundle.content.$case !== 'dsseEnvelope')
    throw verificationFailed(
      'NOT_AN_ATTESTATION',
      'the bundle holds a plain signature, not an attestation; use verify-blob',
    );
  const artifact = await readArtifact(file, flags.digest);
  const target = blobTarget(file, artifact, flags.artifactName);
  const decision = await decideBlob(policies, target, artifact, [{ bundle, label: bundlePath! }]);
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
