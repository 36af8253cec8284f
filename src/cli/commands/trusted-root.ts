import type { Command } from 'commander';
import { describeWriteError, invalid, SignetError } from '../../core/errors.ts';
import { requestTimeout, timeoutOption } from '../flags.ts';
import type { DeprecatedTrustFlags } from '../../client/sign/trusted-root-create.ts';

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
  const get = tr
    .command('get', { isDefault: true })
    .description("print or save a Signet stack's trusted_root.json (the default)")
    .option('--server <url>', 'the Signet stack (env SIGNET_SERVER)', process.env.SIGNET_SERVER)
    .option('--out <file>', 'write it to this file instead of stdout')
    .option('--signing-config', 'fetch the signing config (signing_config.json) instead')
    .option('--tuf-root <file>', "pin the server's TUF root.json (otherwise trusted on first use)")
    .option(
      '--offline',
      'no network: the trust verified from the server before and cached here (may be out of date); without it, a server that cannot be reached is an error',
    )
    .addOption(timeoutOption())
    .action(async (flags: GetFlags) => {
      if (flags.server === undefined)
        throw invalid('--server', 'is required: the URL of a Signet stack');
      const { httpUrl } = await import('../../services/http/outbound.ts');
      httpUrl(flags.server, '--server');
      const bundle = await import('../../bundle/index.ts');
      const { fetchTrust, tufCacheDir } = await import('../../client/tuf/index.ts');
      // Through the stack's TUF repository, as every command that takes trust from --server:
      // what is printed is what its signed metadata vouches for, not what one plain GET said.
      // Its job is exporting the current trust (to carry into an air gap): a server that cannot
      // be reached is an error, not the cached copy a verifier falls back to, which may be out
      // of date; --offline asks for that copy.
      let trust;
      try {
        trust = await fetchTrust({
          serverUrl: flags.server,
          cacheDir: tufCacheDir(),
          names: { rootFile: '--tuf-root' },
          ...(flags.tufRoot !== undefined ? { rootFile: flags.tufRoot } : {}),
          ...(flags.offline ? { offline: true } : { requireNetwork: true }),
          ...requestTimeout(flags),
        });
      } catch (e) {
        if (e instanceof SignetError && e.details?.['cached'] === true)
          throw new SignetError(e.kind, e.code, `${e.message}: pass --offline to use that copy`, {
            cause: e,
          });
        throw e;
      }
      let text: string;
      if (flags.signingConfig) {
        if (trust.signingConfig === undefined)
          throw invalid(
            '--signing-config',
            `the TUF repository of ${flags.server} has no signing config`,
          );
        const cfg = bundle.parseSigningConfig(trust.signingConfig);
        text = JSON.stringify(bundle.signingConfigToJSON(cfg), null, 2);
      } else {
        const root = bundle.parseTrustedRoot(trust.trustedRoot);
        text = JSON.stringify(bundle.trustedRootToJSON(root), null, 2);
      }
      if (flags.out === undefined) {
        process.stdout.write(`${text}\n`);
        return;
      }
      const fs = process.getBuiltinModule('node:fs');
      try {
        fs.writeFileSync(flags.out, `${text}\n`);
      } catch (e) {
        throw invalid('--out', describeWriteError(e, flags.out), e);
      }
      process.stderr.write(
        `Wrote ${flags.signingConfig ? 'signing config' : 'trusted root'} to ${flags.out}${flags.offline ? ` (offline: as verified from ${flags.server} before and cached in ${trust.cachePath})` : ''}\n`,
      );
    });
  // `signet trusted-root --server URL` runs get, but commander's help of a command lists its
  // subcommands only: get's flags would be seen only by those who know to ask `get --help`.
  tr.addHelpText(
    'after',
    () => `\nWithout a command, get runs:\n\n${get.helpInformation().trimEnd()}`,
  );
}

type GetFlags = {
  server?: string;
  out?: string;
  signingConfig?: boolean;
  tufRoot?: string;
  offline?: boolean;
  timeout: string;
};

const collect = (v: string, all: string[]) => [...all, v];

/** Deprecated flag -> what cosign says to use instead (cobra's MarkDeprecated). */
const DEPRECATED_TRUST_FLAGS: Record<keyof DeprecatedTrustFlags, [string, string]> = {
  certificateChain: ['certificate-chain', 'use --fulcio instead'],
  fulcioUri: ['fulcio-uri', 'use --fulcio instead'],
  ctfeKey: ['ctfe-key', 'use --ctfe instead'],
  ctfeStartTime: ['ctfe-start-time', 'use --ctfe instead'],
  ctfeEndTime: ['ctfe-end-time', 'use --ctfe instead'],
  ctfeUrl: ['ctfe-url', 'use --ctfe instead'],
  rekorKey: ['rekor-key', 'use --rekor instead'],
  rekorStartTime: ['rekor-start-time', 'use --rekor instead'],
  rekorEndTime: ['rekor-end-time', 'use --rekor instead'],
  rekorUrl: ['rekor-url', 'use --rekor instead'],
  timestampCertificateChain: ['timestamp-certificate-chain', 'use --tsa instead'],
  timestampUri: ['timestamp-uri', 'use --tsa instead'],
};

/** `trusted-root create`: compose a trusted root from any deployment's material (cosign v3). */
function registerCreate(tr: Command): void {
  const cmd = tr
    .command('create')
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
    .option(
      '--ctfe <spec>',
      'url=URL,public-key=PEM,start-time=T[,end-time=T][,origin=NAME]',
      collect,
      [],
    )
    .option(
      '--tsa <spec>',
      'url=URL,certificate-chain=PEM[,start-time=T][,end-time=T]',
      collect,
      [],
    )
    .option(
      '--with-default-services',
      "start from the default TUF repository's trusted root (set by signet initialize, else the public-good instance); the service flags add to it",
    )
    .option(
      '--no-default-fulcio',
      'with --with-default-services: leave out its certificate authorities',
    )
    .option('--no-default-ctfe', 'with --with-default-services: leave out its CT logs')
    .option('--no-default-tsa', 'with --with-default-services: leave out its timestamp authorities')
    .option('--no-default-rekor', 'with --with-default-services: leave out its transparency logs')
    .option(
      '--add-trusted-root <file>',
      "add every service of this trusted_root.json (another deployment's, e.g. saved with `signet trusted-root --server URL --out FILE`), so one file trusts several (repeatable)",
      collect,
      [],
    )
    .option('--out <file>', 'write it to this file (mode 0600) instead of stdout')
    .addOption(timeoutOption());
  // cosign's deprecated flags: accepted, with cosign's warning (cobra MarkDeprecated).
  const deprecatedHelp: Record<string, string> = {
    certificateChain: 'PEM chain of a CA (root last)',
    fulcioUri: 'URL of the CA of the same position',
    ctfeKey: 'PEM public key of a CT log',
    ctfeStartTime: 'RFC 3339 start of the CT key of the same position',
    ctfeEndTime: 'RFC 3339 end of the CT key of the same position',
    ctfeUrl: 'URL of the CT log of the same position',
    rekorKey: 'PEM public key of a log (FILE,ORIGIN for Rekor v2)',
    rekorStartTime: 'RFC 3339 start of the log key of the same position',
    rekorEndTime: 'RFC 3339 end of the log key of the same position',
    rekorUrl: 'URL of the log of the same position',
    timestampCertificateChain: 'PEM chain of a TSA (leaf first, root last)',
    timestampUri: 'URL of the TSA of the same position',
  };
  for (const [key, [flag, instead]] of Object.entries(DEPRECATED_TRUST_FLAGS))
    cmd.option(`--${flag} <value>`, `deprecated (${instead}): ${deprecatedHelp[key]}`, collect, []);
  cmd.action(async (flags: CreateFlags) => {
    const d = Object.fromEntries(
      Object.keys(DEPRECATED_TRUST_FLAGS).map((k) => [k, flags[k as keyof DeprecatedTrustFlags]]),
    ) as unknown as DeprecatedTrustFlags;
    for (const [key, [flag, instead]] of Object.entries(DEPRECATED_TRUST_FLAGS))
      if (d[key as keyof DeprecatedTrustFlags].length > 0)
        process.stderr.write(`Flag --${flag} has been deprecated, ${instead}\n`);
    const { deprecatedInputs, composeTrustedRoot } =
      await import('../../client/sign/trusted-root-create.ts');
    const inputs = deprecatedInputs(flags, d);
    // commander files --no-default-x as defaultX = false
    const keep = {
      fulcio: flags.defaultFulcio !== false,
      ctfe: flags.defaultCtfe !== false,
      tsa: flags.defaultTsa !== false,
      rekor: flags.defaultRekor !== false,
    };
    if (flags.withDefaultServices) {
      const { trustedRootJson } = await import('../../client/verify/trust.ts');
      const base = await trustedRootJson(requestTimeout(flags));
      inputs.base = { json: base.json, keep };
      // A verifier falls back to the shipped files quietly (laptops go offline); a root written
      // out to be used elsewhere is said to be the shipped one, which may be out of date.
      if (base.unreachable)
        process.stderr.write(
          `warning: the TUF repository ${base.unreachable} did not answer: starting from the trusted root shipped with Signet, which may be out of date\n`,
        );
      process.stderr.write(`Starting from the trusted root of ${base.from}\n`);
    } else if (Object.values(keep).includes(false)) {
      const which = Object.entries(keep).find(([, v]) => !v)![0];
      throw invalid(
        `--no-default-${which}`,
        'only means something with --with-default-services (there are no defaults otherwise)',
      );
    }
    const { readText } = await import('../../client/sign/setup.ts');
    if (flags.addTrustedRoot.length > 0) {
      const { parseJsonText } = await import('../../core/json.ts');
      inputs.add = flags.addTrustedRoot.map((file) => ({
        json: parseJsonText(readText(file, '--add-trusted-root'), '--add-trusted-root', file),
        file,
      }));
    }
    const given =
      inputs.fulcio.length + inputs.rekor.length + inputs.ctfe.length + inputs.tsa.length;
    if (given === 0 && !inputs.base && !inputs.add)
      throw invalid(
        '--fulcio',
        'give at least one of --fulcio, --rekor, --ctfe, --tsa (or --with-default-services, --add-trusted-root)',
      );
    const root = composeTrustedRoot(inputs, { read: readText });
    await output(`${JSON.stringify(root, null, 2)}\n`, flags.out, 'trusted root');
  });
}

type CreateFlags = {
  fulcio: string[];
  rekor: string[];
  ctfe: string[];
  tsa: string[];
  out?: string;
  withDefaultServices?: boolean;
  defaultFulcio?: boolean;
  defaultCtfe?: boolean;
  defaultTsa?: boolean;
  defaultRekor?: boolean;
  addTrustedRoot: string[];
  timeout: string;
} & DeprecatedTrustFlags;

async function output(text: string, out: string | undefined, what: string): Promise<void> {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  const fs = process.getBuiltinModule('node:fs');
  try {
    // cosign writes it 0600
    fs.writeFileSync(out, text, { mode: 0o600 });
  } catch (e) {
    throw invalid('--out', describeWriteError(e, out), e);
  }
  process.stderr.write(`Wrote ${what} to ${out}\n`);
}
