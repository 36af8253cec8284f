import type { Command } from 'commander';
import type { VerificationResult } from '../../client/verify/verifier.ts';
import { verifyFromFlags } from '../../client/verify/setup.ts';
import { addVerifyFlags, type VerifyFlags } from '../trust-flags.ts';

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

export function registerVerifyBlob(program: Command): void {
  addVerifyFlags(
    program
      .command('verify-blob')
      .description('verify a signed file (blob) against its Sigstore bundle')
      .argument('[artifact]', 'the signed file (or give --digest)'),
  )
    .option('--digest <sha256:hex>', 'the artifact by its digest instead of the file')
    .action(async (artifact: string | undefined, flags: VerifyFlags) => {
      const r = await verifyFromFlags(artifact, flags);
      console.error(`Verified OK: ${describeResult(r)}`);
    });
}
