import path from 'node:path';
import type { Command } from 'commander';
import { invalid, SignetError } from '../../core/errors.ts';

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

interface SetupFlags {
  global?: boolean;
  server?: string;
  tlog: boolean;
  cache: boolean;
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
      'the Signet stack to sign with (env SIGNET_SERVER; default http://127.0.0.1:8420)',
    )
    .option('--no-tlog', 'timestamp only, no transparency log entry (private deployments)')
    .option('--no-cache', 'sign in for every signature (no credential cache)')
    .option('--identity <id>', 'git verify-commit: the identity that must have signed')
    .option('--issuer <url>', 'git verify-commit: the OIDC issuer of that identity')
    .action(async (flags: SetupFlags) => {
      const { httpUrl } = await import('../../services/http/outbound.ts');
      const { git: runGit } = await import('../../client/git/repo.ts');
      const server = (flags.server ?? process.env.SIGNET_SERVER ?? 'http://127.0.0.1:8420').replace(
        /\/+$/,
        '',
      );
      httpUrl(server, '--server');
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
      const settings = gitSetupSettings({
        server,
        program: path.resolve(import.meta.dirname, '../../../bin/signet-gitsign'),
        tlog: flags.tlog,
        cache: flags.cache,
        identity: flags.identity,
        issuer: flags.issuer,
      });
      for (const [k, v] of settings) await runGit(process.cwd(), ['config', scope, k, v]);
      const where = flags.global ? 'global git config' : 'repository git config';
      for (const [k, v] of settings) process.stdout.write(`${k}=${v}\n`);
      process.stderr.write(
        `Set in your ${where}. \`git commit\` and \`git tag -a\` now sign through ${server}${flags.tlog ? '' : ' (timestamp only, no transparency log)'}.\n`,
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
