import type { Command } from 'commander';
import { invalid, SignetError } from '../../core/errors.ts';
import type { VerificationResult } from '../../client/verify/verifier.ts';
import { bundleBeside, STDIN } from '../../client/many-files.ts';
import { displayName, isReference } from '../../client/file-or-url.ts';
import { verifyFilesFromFlags, verifyFromFlags } from '../../client/verify/setup.ts';
import {
  addVerifyFlags,
  verifyFlagsFrom,
  type VerifyCliFlags,
  type VerifyFlags,
} from '../trust-flags.ts';

/** One line saying who signed and when, for a successful verification. */
export function describeResult(r: VerificationResult): string {
  const who =
    r.signer.kind === 'certificate'
      ? `${r.signer.identity.join(', ')} (issuer ${r.signer.issuer ?? 'unknown'})`
      : 'the given public key';
  const when = r.times
    .map(
      (t) =>
        `${t.time.toISOString()} (${t.source === 'timestamp-authority' ? 'timestamp authority' : 'transparency log'})`,
    )
    .join(', ');
  return `signed by ${who}${when ? ` at ${when}` : ' (no verified time: not logged, not timestamped)'}`;
}

export function registerVerifyBlob(program: Command): void {
  addVerifyFlags(
    program
      .command('verify-blob')
      .description('verify a signed file (blob) against its Sigstore bundle')
      .argument(
        '[artifacts...]',
        'the signed file, or its http(s) URL or env://VAR (or give --digest); several files are each verified against FILE.sigstore.json beside them',
      ),
  )
    .option('--digest <sha256:hex>', 'the artifact by its digest instead of the file')
    .option(
      '--digestAlg <alg>',
      'the algorithm of --digest given as bare hex (sha256, sha384, sha512)',
    )
    .option(
      '--policy <file>',
      'decide by policy files (ClusterImagePolicy) instead of identity flags (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--artifact-name <name>', 'the name policies match with spec.blobs[].name')
    .action(async (artifacts: string[], cli: PolicyFlags) => {
      const flags: PolicyFlags = { ...cli, ...verifyFlagsFrom(cli) };
      if (flags.artifactName !== undefined && !flags.policy)
        throw invalid(
          '--artifact-name',
          'goes with --policy: it is the name policies match (spec.blobs[].name)',
        );
      // cosign's verify-blob reads its one artifact from an http(s) URL or env://VAR too.
      const reference = artifacts.find(isReference);
      if (reference !== undefined) {
        if (artifacts.length > 1)
          throw invalid(
            'artifact',
            `${displayName(reference)}: several artifacts are files, each with its bundle beside it; verify a URL or env:// artifact on its own, with --bundle`,
          );
        if (flags.policy)
          throw invalid(
            '--policy',
            'decides about a file by its path: give the artifact as a file, not a URL or env:// value',
          );
        if (flags.bundle === undefined && flags.signature === undefined)
          throw invalid(
            '--bundle',
            'is required when the artifact is a URL or env:// value: no bundle is beside it',
          );
      }
      if (artifacts.length > 1) {
        await (flags.policy
          ? verifyFilesByPolicy(artifacts, { ...flags, policy: flags.policy })
          : verifyFiles(artifacts, flags));
        return;
      }
      const artifact = artifacts[0];
      if (artifact === STDIN && flags.bundle === undefined && flags.signature === undefined)
        throw invalid('--bundle', 'is required when the artifact is read from standard input (-)');
      // No bundle named: the one beside the file, where sign-blob puts it for several files.
      if (artifact !== undefined && flags.bundle === undefined && flags.signature === undefined) {
        const beside = bundleBeside(artifact);
        // One `sign-blob FILE` prints its bundle instead: say where the bundle was looked for.
        if (!process.getBuiltinModule('node:fs').existsSync(beside))
          throw new SignetError(
            'not-found',
            'NO_SIGNATURE',
            `${beside} does not exist: without --bundle the bundle is read from beside the file (where sign-blob writes it for several files); give --bundle FILE`,
            { field: 'bundle' },
          );
        Object.assign(flags, { bundle: beside, bundleLabel: 'bundle' });
      }
      if (flags.policy) {
        await verifyByPolicy(artifact, { ...flags, policy: flags.policy });
        return;
      }
      const r = await verifyFromFlags(artifact, flags);
      console.error(`Verified OK: ${describeResult(r)}`);
    });
}

/**
 * `verify-blob FILE FILE...`: a line per artifact (verified, or why not); the exit code is the
 * first failure's, so a script learns what went wrong as for one artifact.
 */
async function verifyFiles(artifacts: string[], flags: VerifyFlags): Promise<void> {
  const results = await verifyFilesFromFlags(artifacts, flags);
  await reportFiles(
    results.map((r) =>
      r.result
        ? { file: r.artifact, ok: describeResult(r.result), warnings: [] }
        : { file: r.artifact, error: r.error },
    ),
  );
}

/** `verify-blob --policy P FILE FILE...`: the policies decide each file, reported alike. */
async function verifyFilesByPolicy(
  artifacts: string[],
  flags: VerifyFlags & { policy: string[]; artifactName?: string },
): Promise<void> {
  const { verifyBlobFilesWithPolicy, describeAllowed } =
    await import('../../client/policy/blob.ts');
  const results = await verifyBlobFilesWithPolicy(artifacts, flags);
  await reportFiles(
    results.map((r) =>
      r.decision
        ? { file: r.file, ok: describeAllowed(r.decision), warnings: r.decision.warnings }
        : { file: r.file, error: r.error },
    ),
  );
}

/** One line per file, in order; a summary and the first failure's exit code when any failed. */
async function reportFiles(
  lines: Array<{ file: string; ok: string; warnings: string[] } | { file: string; error: unknown }>,
): Promise<void> {
  const { reportErrorOf, finishEach } = await import('../errors.ts');
  const failures: unknown[] = [];
  for (const l of lines)
    if ('ok' in l) {
      for (const w of l.warnings) console.error(`warning: ${l.file}: ${w}`);
      console.error(`Verified OK: ${l.file}: ${l.ok}`);
    } else {
      reportErrorOf(l.file, l.error);
      failures.push(l.error);
    }
  finishEach(failures, lines.length, 'artifacts did not verify');
}

export type PolicyFlags = VerifyCliFlags & { policy?: string[]; artifactName?: string };

/** `--policy`: the policy engine decides; warnings on stderr. */
export async function verifyByPolicy(
  artifact: string | undefined,
  flags: VerifyFlags & { policy: string[]; artifactName?: string },
  opts: { attestation?: boolean } = {},
): Promise<void> {
  const { verifyBlobWithPolicy, describeAllowed } = await import('../../client/policy/blob.ts');
  const d = await verifyBlobWithPolicy(artifact, flags, opts);
  for (const w of d.warnings) console.error(`warning: ${w}`);
  console.error(`Verified OK: ${describeAllowed(d)}`);
}
