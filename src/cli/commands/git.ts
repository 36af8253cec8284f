import path from 'node:path';
import type { Command } from 'commander';
import { invalid, reasonOf, SignetError } from '../../core/errors.ts';

/** What `signet git setup` writes: git's x509 signing through Signet, and Signet's settings. */
export function gitSetupSettings(o: {
  server: string;
  program: string;
  tlog: boolean;
  cache: boolean;
  identity?: string | undefined;
  issuer?: string | undefined;
}): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['gpg.format', 'x509'],
    ['gpg.x509.program', o.program],
    ['commit.gpgsign', 'true'],
    ['tag.gpgsign', 'true'],
    ['signet.server', o.server],
    ['signet.tlog', String(o.tlog)],
    ['signet.cache', String(o.cache)],
  ];
  if (o.identity !== undefined) out.push(['signet.identity', o.identity]);
  if (o.issuer !== undefined) out.push(['signet.issuer', o.issuer]);
  return out;
}

/** `signet up`'s address, the server when neither --server nor SIGNET_SERVER names one. */
const DEFAULT_SERVER = 'http://127.0.0.1:8420';

/**
 * That `server` answers as a Signet stack: its signing config (what every commit is signed
 * with) is fetched and read once. Fails with one line that names the server and where it came
 * from (`given`: the flag or variable; undefined for the default).
 */
async function checkStack(server: string, given: string | undefined): Promise<void> {
  const { fetchSigningConfigJson } = await import('../../client/http/trust.ts');
  const { parseSigningConfig } = await import('../../bundle/signing-config.ts');
  try {
    parseSigningConfig(await fetchSigningConfigJson(server, { timeoutMs: 10_000, retries: 0 }));
  } catch (e) {
    const what =
      given === undefined ? `no --server given, and signet up's default address ${server}` : server;
    throw new SignetError(
      e instanceof SignetError ? e.kind : 'unavailable',
      e instanceof SignetError ? e.code : 'SERVICE_UNREACHABLE',
      `${what} does not answer as a Signet stack, so nothing was set: ${reasonOf(e)}`,
      { ...(given !== undefined ? { field: given } : {}), cause: e },
    );
  }
}

interface SetupFlags {
  global?: boolean;
  server?: string;
  tlog: boolean;
  cache: boolean;
  check: boolean;
  identity?: string;
  issuer?: string;
}

export function registerGit(program: Command): void {
  const git = program
    .command('git')
    .description('sign git commits and tags keyless (gitsign-compatible signatures)');
  git
    .command('setup')
    .description(
      'make git sign commits and tags with Signet: gpg.format=x509, gpg.x509.program, commit.gpgsign, tag.gpgsign and the stack URL',
    )
    .option('--global', 'write your global git config instead of this repository')
    .option(
      '--server <url>',
      `the Signet stack to sign with, checked to answer (env SIGNET_SERVER; default ${DEFAULT_SERVER})`,
    )
    .option('--no-tlog', 'timestamp only, no transparency log entry (private deployments)')
    .option('--no-cache', 'sign in for every signature (no credential cache)')
    .option(
      '--no-check',
      'do not check that the server answers (to set up before the stack runs; commits fail until it does)',
    )
    .option('--identity <id>', 'git verify-commit: the identity that must have signed')
    .option('--issuer <url>', 'git verify-commit: the OIDC issuer of that identity')
    .action(async (flags: SetupFlags) => {
      const { httpUrl } = await import('../../services/http/outbound.ts');
      const { git: runGit } = await import('../../client/git/repo.ts');
      const { setGitConfig } = await import('../../client/git/config.ts');
      // Where the server came from, to say so: a default is easy to get without meaning it.
      const given =
        flags.server !== undefined
          ? '--server'
          : process.env.SIGNET_SERVER
            ? 'SIGNET_SERVER'
            : undefined;
      const server = (flags.server ?? (process.env.SIGNET_SERVER || DEFAULT_SERVER)).replace(
        /\/+$/,
        '',
      );
      httpUrl(server, given ?? '--server');
      if ((flags.identity === undefined) !== (flags.issuer === undefined))
        throw invalid('--identity', 'give --identity and --issuer together');
      // git verify-commit would then fail on every commit: refused here instead
      if (flags.issuer !== undefined) httpUrl(flags.issuer, '--issuer');
      const scope = flags.global ? '--global' : '--local';
      if (!flags.global)
        await runGit(process.cwd(), ['rev-parse', '--git-dir']).catch(() => {
          throw new SignetError(
            'invalid-input',
            'NOT_A_REPOSITORY',
            `${process.cwd()} is not in a git repository: run \`signet git setup\` in one, or add --global for all your repositories`,
          );
        });
      if (given !== '--server')
        process.stderr.write(
          `No --server given: using ${server} (${given === 'SIGNET_SERVER' ? 'from SIGNET_SERVER' : "signet up's default address"}).\n`,
        );
      // Before anything is written: a server that does not answer would fail every commit.
      if (flags.check) await checkStack(server, given);
      const settings = gitSetupSettings({
        server,
        program: path.resolve(import.meta.dirname, '../../../bin/signet-gitsign'),
        tlog: flags.tlog,
        cache: flags.cache,
        identity: flags.identity,
        issuer: flags.issuer,
      });
      // All or none: a failed write puts back the settings written before it.
      await setGitConfig(process.cwd(), scope, settings);
      const where = flags.global ? 'global git config' : 'repository git config';
      for (const [k, v] of settings) process.stdout.write(`${k}=${v}\n`);
      process.stderr.write(
        `Set in your ${where}. \`git commit\` and \`git tag -a\` now sign through ${server}${flags.tlog ? '' : ' (timestamp only, no transparency log)'}${flags.check ? '' : ' (not checked to answer: --no-check)'}.\n`,
      );
    });
  git
    .command('agent', { hidden: true })
    .description('the credential cache (started on demand by the git program)')
    .action(async () => {
      const { runAgent } = await import('../../client/git/agent.ts');
      await runAgent();
    });
}
