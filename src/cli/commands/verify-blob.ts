import type { Command } from 'commander';
import type { VerificationResult } from '../../client/verify/verifier.ts';
import { verifyFromFlags } from '../../client/verify/setup.ts';
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
      .argument('[artifact]', 'the signed file (or give --digest)'),
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
    .action(async (artifact: string | undefined, cli: PolicyFlags) => {
      const flags: PolicyFlags = { ...cli, ...verifyFlagsFrom(cli) };
      if (flags.policy) {
        await verifyByPolicy(artifact, { ...flags, policy: flags.policy });
        return;
      }
      const r = await verifyFromFlags(artifact, flags);
      console.error(`Verified OK: ${describeResult(r)}`);
    });
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
