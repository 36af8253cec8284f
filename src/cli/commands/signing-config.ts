import type { Command } from 'commander';
import { describeWriteError, invalid } from '../../core/errors.ts';
import { requestTimeout, timeoutOption } from '../flags.ts';

const collect = (v: string, all: string[]) => [...all, v];

interface Flags {
  fulcio: string[];
  rekor: string[];
  oidcProvider: string[];
  tsa: string[];
  rekorConfig?: string;
  tsaConfig?: string;
  baseConfig?: string;
  withDefaultServices?: boolean;
  withDefaultRekorV2?: boolean;
  noDefaultFulcio?: boolean;
  noDefaultRekor?: boolean;
  noDefaultOidc?: boolean;
  noDefaultTsa?: boolean;
  out?: string;
  timeout: string;
}

const SPEC = 'url=URL,api-version=N,start-time=RFC3339,operator=NAME[,end-time=RFC3339]';

/** `signing-config create`: cosign v3's command and flags (client/sign/signing-config-create.ts). */
export function registerSigningConfig(program: Command): void {
  const sc = program
    .command('signing-config')
    .description('write a signing_config.json: where clients find the CA, logs, TSAs and sign-in');
  sc.command('create')
    .description("compose a signing_config.json (v0.2) from service specs (cosign's flags)")
    .option('--fulcio <spec>', `a certificate authority: ${SPEC}`, collect, [])
    .option('--rekor <spec>', `a transparency log: ${SPEC}`, collect, [])
    .option('--oidc-provider <spec>', `an OIDC provider: ${SPEC}`, collect, [])
    .option('--tsa <spec>', `a timestamp authority: ${SPEC}`, collect, [])
    .option('--rekor-config <mode>', 'which logs a client writes to: ANY, ALL or EXACT:<count>')
    .option('--tsa-config <mode>', 'which TSAs a client asks: ANY, ALL or EXACT:<count>')
    .option(
      '--base-config <file>',
      'start from this signing config; each service flag replaces its kind',
    )
    .option(
      '--with-default-services',
      "start from the default TUF repository's signing config (set by signet initialize, else the public-good instance); each service flag replaces its kind",
    )
    .option(
      '--with-default-rekor-v2',
      "cosign: the default repository's Rekor v2 signing config (not read by Signet: see the message)",
    )
    .option('--no-default-fulcio', 'drop the base certificate authorities')
    .option('--no-default-rekor', 'drop the base transparency logs')
    .option('--no-default-oidc', 'drop the base OIDC providers')
    .option('--no-default-tsa', 'drop the base timestamp authorities')
    .option('--out <file>', 'write it to this file (mode 0600) instead of stdout')
    .addOption(timeoutOption())
    .action(async (flags: Flags) => {
      if (flags.withDefaultRekorV2)
        throw invalid(
          '--with-default-rekor-v2',
          "is not supported: Signet's TUF client reads the repository's signing_config.v0.2.json, not its signing_config_rekor_v2.v0.2.json; use --with-default-services with --rekor url=URL,api-version=2,start-time=T,operator=NAME --rekor-config ANY, or --base-config FILE",
        );
      // cosign: MarkFlagsMutuallyExclusive("base-config", "with-default-services")
      if (flags.withDefaultServices && flags.baseConfig !== undefined)
        throw invalid(
          '--with-default-services',
          'give either --with-default-services or --base-config, not both',
        );
      const { createSigningConfig } = await import('../../client/sign/signing-config-create.ts');
      const { readText } = await import('../../client/sign/setup.ts');
      const { parseSigningConfigJSON } = await import('../../bundle/signing-config.ts');
      // commander turns --no-default-x into defaultX=false
      const f = flags as Flags & Record<string, unknown>;
      const specs: Parameters<typeof createSigningConfig>[0] = {
        fulcio: flags.fulcio,
        rekor: flags.rekor,
        oidcProvider: flags.oidcProvider,
        tsa: flags.tsa,
        noDefaultFulcio: f.defaultFulcio === false,
        noDefaultRekor: f.defaultRekor === false,
        noDefaultOidc: f.defaultOidc === false,
        noDefaultTsa: f.defaultTsa === false,
      };
      if (flags.rekorConfig !== undefined) specs.rekorConfig = flags.rekorConfig;
      if (flags.tsaConfig !== undefined) specs.tsaConfig = flags.tsaConfig;
      if (flags.baseConfig !== undefined)
        specs.base = parseSigningConfigJSON(
          readText(flags.baseConfig, '--base-config'),
          flags.baseConfig,
        );
      if (flags.withDefaultServices) {
        const { defaultSigningConfigJson } = await import('../../client/verify/trust.ts');
        const { parseSigningConfig } = await import('../../bundle/signing-config.ts');
        specs.base = parseSigningConfig(await defaultSigningConfigJson(requestTimeout(flags)));
      }
      if (
        !specs.base &&
        flags.fulcio.length + flags.rekor.length + flags.oidcProvider.length + flags.tsa.length ===
          0
      )
        throw invalid(
          '--fulcio',
          'give at least one of --fulcio, --rekor, --oidc-provider, --tsa (or --base-config)',
        );
      const text = `${JSON.stringify(createSigningConfig(specs), null, 2)}\n`;
      if (flags.out === undefined) {
        process.stdout.write(text);
        return;
      }
      const fs = process.getBuiltinModule('node:fs');
      try {
        fs.writeFileSync(flags.out, text, { mode: 0o600 });
      } catch (e) {
        throw invalid('--out', describeWriteError(e, flags.out), e);
      }
      process.stderr.write(`Wrote signing config to ${flags.out}\n`);
    });
}
