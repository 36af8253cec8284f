import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';

/**
 * `trusted-root`: fetch the trusted root of a Signet stack, check that it parses, and print or
 * save it (for offline `verify-blob --trusted-root FILE` and for other Sigstore clients).
 */
export function registerTrustedRoot(program: Command): void {
  const tr = program
    .command('trusted-root')
    .description(
      "print or save a Signet stack's trusted_root.json (what verifiers trust), or create one",
    );
  registerCreate(tr);
  tr.command('get', { isDefault: true })
    .description("print or save a Signet stack's trusted_root.json (the default)")
    .option('--server <url>', 'the Signet stack (env SIGNET_SERVER)', process.env.SIGNET_SERVER)
    .option('--out <file>', 'write it to this file instead of stdout')
    .option('--signing-config', 'fetch the signing config (signing_config.json) instead')
    .action(async (flags: { server?: string; out?: string; signingConfig?: boolean }) => {
      if (flags.server === undefined)
        throw invalid('--server', 'is required: the URL of a Signet stack');
      const { httpUrl } = await import('../../client/http/fetch.ts');
      httpUrl(flags.server, '--server');
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

const collect = (v: string, all: string[]) => [...all, v];

/** `trusted-root create`: compose a trusted root from any deployment's material (cosign v3). */
function registerCreate(tr: Command): void {
  tr.command('create')
    .description(
      "compose a trusted_root.json from a deployment's CA chain and log/TSA keys (cosign's flags)",
    )
    .option(
      '--fulcio <spec>',
      'url=URL,certificate-chain=PEM[,start-time=T][,end-time=T]',
      collect,
      [],
    )
    .option(
      '--rekor <spec>',
      'url=URL,public-key=PEM,start-time=T[,end-time=T][,origin=NAME]',
      collect,
      [],
    )
    .option('--ctfe <spec>', 'url=URL,public-key=PEM,start-time=T[,end-time=T]', collect, [])
    .option(
      '--tsa <spec>',
      'url=URL,certificate-chain=PEM[,start-time=T][,end-time=T]',
      collect,
      [],
    )
    .option('--out <file>', 'write it to this file instead of stdout')
    .action(
      async (flags: {
        fulcio: string[];
        rekor: string[];
        ctfe: string[];
        tsa: string[];
        out?: string;
      }) => {
        if (flags.fulcio.length + flags.rekor.length + flags.ctfe.length + flags.tsa.length === 0)
          throw invalid('--fulcio', 'give at least one of --fulcio, --rekor, --ctfe, --tsa');
        const { createTrustedRoot } = await import('../../client/sign/trusted-root-create.ts');
        const { readText } = await import('../../client/sign/setup.ts');
        const root = createTrustedRoot(flags, { read: readText });
        await output(`${JSON.stringify(root, null, 2)}\n`, flags.out, 'trusted root');
      },
    );
}

async function output(text: string, out: string | undefined, what: string): Promise<void> {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  const fs = await import('node:fs');
  try {
    fs.writeFileSync(out, text);
  } catch (e) {
    throw invalid('--out', `cannot write ${out}: ${(e as Error).message}`, e);
  }
  process.stderr.write(`Wrote ${what} to ${out}\n`);
}
