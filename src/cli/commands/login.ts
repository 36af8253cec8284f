/**
 * `signet login SERVER`: cosign's login (go-containerregistry's `crane auth login`), so scripts
 * that log in with cosign before signing keep working. It stores the credentials where Docker,
 * cosign and Signet's registry client read them (client/oci/auth.ts); it does not ask the
 * registry, as cosign does not.
 */
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { timeoutOption } from '../flags.ts';

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description(
      "log in to a registry: keep a user name and password for it in Docker's config.json, or in the credential helper that file names (as cosign login)",
    )
    .argument('<server>', 'the registry: its host and optional port (ghcr.io, localhost:5000)')
    .option('-u, --username <name>', 'user name')
    .option('-p, --password <password>', 'password (or --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .addOption(timeoutOption())
    .action(async (server: string, flags: LoginFlags) => {
      const { parseRegistryHost } = await import('../../core/oci/reference.ts');
      const host = parseRegistryHost(server, 'server');
      if (flags.password !== undefined && flags.passwordStdin)
        throw invalid(
          '--password-stdin',
          'give the password with --password or on stdin, not both',
        );
      let password = flags.password;
      if (flags.passwordStdin) {
        const { readStdin } = await import('../../client/sign/setup.ts');
        // As crane: the one line ending of `echo "$TOKEN" |` is not part of the password.
        password = new TextDecoder()
          .decode(readStdin('--password-stdin'))
          .replace(/\n$/, '')
          .replace(/\r$/, '');
      }
      if (!flags.username) throw invalid('--username', `is required: the user name for ${host}`);
      if (!password)
        throw invalid('--password', `is required (or --password-stdin): the password for ${host}`);
      const { storeCredentials } = await import('../../client/oci/auth.ts');
      const file = await storeCredentials(host, { username: flags.username, password });
      console.error(`logged in via ${file}`);
    });
}
