import type { Command } from 'commander';
import { addVerifyFlags, verifyFlagsFrom, type VerifyCliFlags } from '../trust-flags.ts';
import { verifyFromFlags } from '../../client/verify/setup.ts';
import { describeResult } from './verify-blob.ts';

/**
 * The sigstore-conformance CLI protocol's verification command:
 * `verify-bundle --bundle B (--certificate-identity I --certificate-oidc-issuer U | --key K)
 *  --trusted-root T FILE_OR_sha256:DIGEST`. Exit 0 when the bundle verifies, 1 otherwise.
 */
export function registerVerifyBundle(program: Command): void {
  addVerifyFlags(
    program
      .command('verify-bundle')
      .description(
        'verify a Sigstore bundle for a file or sha256:<digest> (sigstore-conformance protocol)',
      )
      .argument('<artifact>', 'the signed file, or sha256:<hex> of it'),
  ).action(async (artifact: string, flags: VerifyCliFlags) => {
    const r = await verifyFromFlags(artifact, verifyFlagsFrom(flags));
    console.error(`Verified OK: ${describeResult(r)}`);
  });
}
