import type { Command } from 'commander';
import { SignetError } from '../../core/errors.ts';
import { requestTimeout, timeoutOption } from '../flags.ts';

/**
 * The sigstore-conformance CLI protocol's signing command (docs/cli_protocol.md):
 *   sign-bundle [--staging] --identity-token TOKEN --bundle FILE
 *               [--trusted-root FILE] [--signing-config FILE] FILE
 * Keyless, services from the signing config; a given trusted root is used to check the
 * bundle right after signing (when the verifier is available). cosign's -t/--timeout bounds
 * each request, as in sign-blob.
 */
export function registerSignBundle(program: Command): void {
  program
    .command('sign-bundle')
    .description('sign a file keyless and write a bundle (sigstore-conformance CLI protocol)')
    .argument('<file>', 'the artifact to sign')
    .option('--staging', "use Sigstore's public staging infrastructure (not reachable from Signet)")
    .requiredOption('--identity-token <jwt>', 'the OIDC identity token')
    .requiredOption('--bundle <file>', 'where to write the bundle')
    .option('--trusted-root <file>', 'trusted root to check the new bundle against')
    .option('--signing-config <file>', 'signing config naming the CA, logs and TSAs')
    .option('--server <url>', 'a Signet stack (instead of --signing-config)')
    .addOption(timeoutOption())
    .action(
      async (
        file: string,
        flags: {
          staging?: boolean;
          identityToken: string;
          bundle: string;
          trustedRoot?: string;
          signingConfig?: string;
          server?: string;
          timeout: string;
        },
      ) => {
        if (flags.signingConfig === undefined && flags.server === undefined)
          throw new SignetError(
            'invalid-input',
            'NO_SERVICES',
            flags.staging
              ? "--staging names Sigstore's public staging services, which signet does not reach: give --signing-config FILE"
              : 'give --signing-config FILE (or --server URL) to say where the services are',
          );
        const { signFileToBundle } = await import('./sign-blob.ts');
        const { tufCacheDir } = await import('../../client/tuf/index.ts');
        await signFileToBundle(file, flags, async () => ({
          identityToken: flags.identityToken,
          signingConfig: flags.signingConfig,
          server: flags.server,
          tufCacheDir: tufCacheDir(),
          http: requestTimeout(flags),
        }));
      },
    );
}
