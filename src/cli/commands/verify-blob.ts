import type { Command } from 'commander';
import { verificationFailed } from '../../core/errors.ts';
import type { VerificationResult, VerifyOptions } from '../../client/verify/verifier.ts';
import {
  addVerifyFlags,
  loadTrustedRoot,
  readArtifact,
  readBundle,
  signerPolicy,
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
  return `signed by ${who} at ${when}`;
}

/** Shared by verify-blob, verify-blob-attestation and verify-bundle. */
export async function runVerify(
  artifactArg: string | undefined,
  flags: VerifyFlags,
  opts: VerifyOptions & { attestation?: boolean } = {},
): Promise<VerificationResult> {
  // Parse every input before any check, so a bad flag is reported as such.
  const policy = await signerPolicy(flags);
  const bundle = await readBundle(flags.bundle);
  const artifact = readArtifact(artifactArg, flags.digest);
  const root = await loadTrustedRoot(flags);
  if (opts.attestation && bundle.content.$case !== 'dsseEnvelope')
    throw verificationFailed(
      'NOT_AN_ATTESTATION',
      'the bundle holds a plain signature, not an attestation; use verify-blob',
    );
  const { verifyBundle } = await import('../../client/verify/verifier.ts');
  return verifyBundle(bundle, artifact, root, policy, opts);
}

export function registerVerifyBlob(program: Command): void {
  addVerifyFlags(
    program
      .command('verify-blob')
      .description('verify a signed file (blob) against its Sigstore bundle')
      .argument('[artifact]', 'the signed file (or give --digest)'),
  )
    .option('--digest <sha256:hex>', 'the artifact by its digest instead of the file')
    .action(async (artifact: string | undefined, flags: VerifyFlags) => {
      const r = await runVerify(artifact, flags);
      console.error(`Verified OK: ${describeResult(r)}`);
    });
}
