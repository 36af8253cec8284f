import fs from 'node:fs';
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { readBundle } from '../trust-flags.ts';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'show what a bundle says: who signed, issuer, when, which log, timestamps, subjects',
    )
    .argument('<bundle>', 'a Sigstore bundle (.sigstore.json)')
    .option('--trusted-root <file>', 'also say which times and logs the trusted root vouches for')
    .action(async (bundlePath: string, o: { trustedRoot?: string }) => {
      const b = await readBundle(bundlePath);
      const { inspectBundle } = await import('../../client/verify/inspect.ts');
      let root;
      if (o.trustedRoot) {
        let text: string;
        try {
          text = fs.readFileSync(o.trustedRoot, 'utf8');
        } catch (e) {
          throw invalid('--trusted-root', `cannot read ${o.trustedRoot}`, e);
        }
        const { parseTrustedRootJSON } = await import('../../bundle/trusted-root.ts');
        root = parseTrustedRootJSON(text, '--trusted-root');
      }
      console.log(inspectBundle(b, root).join('\n'));
    });
}
