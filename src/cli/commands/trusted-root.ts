import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';

/**
 * `trusted-root`: fetch the trusted root of a Signet stack, check that it parses, and print or
 * save it (for offline `verify-blob --trusted-root FILE` and for other Sigstore clients).
 */
export function registerTrustedRoot(program: Command): void {
  program
    .command('trusted-root')
    .description("print or save a Signet stack's trusted_root.json (what verifiers trust)")
    .option('--server <url>', 'the Signet stack (env SIGNET_SERVER)', process.env.SIGNET_SERVER)
    .option('--out <file>', 'write it to this file instead of stdout')
    .option('--signing-config', 'fetch the signing config (signing_config.json) instead')
    .action(async (flags: { server?: string; out?: string; signingConfig?: boolean }) => {
      if (flags.server === undefined)
        throw invalid('--server', 'is required: the URL of a Signet stack');
      try {
        new URL(flags.server);
      } catch {
        throw invalid('--server', `"${flags.server}" is not a URL`);
      }
      const http = await import('../../client/http/trust.ts');
      const bundle = await import('../../bundle/index.ts');
      let text: string;
      if (flags.signingConfig) {
        const cfg = bundle.parseSigningConfig(await http.fetchSigningConfigJson(flags.server));
        text = JSON.stringify(bundle.signingConfigToJSON(cfg), null, 2);
      } else {
        const root = bundle.parseTrustedRoot(await http.fetchTrustedRootJson(flags.server));
        text = JSON.stringify(bundle.trustedRootToJSON(root), null, 2);
      }
      if (flags.out === undefined) {
        process.stdout.write(`${text}\n`);
        return;
      }
      const fs = await import('node:fs');
      try {
        fs.writeFileSync(flags.out, `${text}\n`);
      } catch (e) {
        throw invalid('--out', `cannot write ${flags.out}: ${(e as Error).message}`, e);
      }
      process.stderr.write(
        `Wrote ${flags.signingConfig ? 'signing config' : 'trusted root'} to ${flags.out}\n`,
      );
    });
}
