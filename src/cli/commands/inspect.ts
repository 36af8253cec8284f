import type { Command } from 'commander';
import { loadTrustedRoot, readBundle } from '../../client/verify/setup.ts';
import { printable } from '../../core/encoding/printable.ts';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'show what a bundle says: who signed, issuer, when, which log, timestamps, subjects',
    )
    .argument('<bundle>', 'a Sigstore bundle (.sigstore.json)')
    .option('--trusted-root <file>', 'also say which times and logs the trusted root vouches for')
    .action(async (bundlePath: string, o: { trustedRoot?: string }) => {
      const b = await readBundle(bundlePath, 'bundle');
      const { inspectBundle } = await import('../../client/verify/inspect.ts');
      // The same reading as the verify commands: size limit, errors naming the file.
      const root = o.trustedRoot
        ? await loadTrustedRoot({ trustedRoot: o.trustedRoot })
        : undefined;
      console.log(inspectBundle(b, root).map(printable).join('\n'));
    });
}
