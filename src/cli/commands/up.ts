import type { Command } from 'commander';
import type { StackConfig } from '../../services/config.ts';
import type { RunningStack } from '../../services/stack.ts';
import { invalid } from '../../core/errors.ts';
import { exitOnClosedStdout } from '../errors.ts';
import { parsePort } from '../flags.ts';

interface UpFlags {
  config?: string;
  port?: string;
  host?: string;
  data?: string;
  database?: string;
  publicUrl?: string;
  insecurePublicTestIdentities?: boolean;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'start the whole stack (CA, CT log, transparency log, TSA, identity provider, TUF) in one process',
    )
    .option('--config <file>', 'YAML or JSON config file (env SIGNET_CONFIG)')
    .option('--port <port>', 'TCP port; 0 picks a free one (env SIGNET_PORT; default 8420)')
    .option('--host <host>', 'address to listen on (env SIGNET_HOST; default 127.0.0.1)')
    .option(
      '--data <dir>',
      'data folder: keys, embedded database, TUF repository (env SIGNET_DATA; default ./.signet)',
    )
    .option(
      '--database <url>',
      'postgres://... to keep the logs in PostgreSQL instead of SQLite (env SIGNET_DATABASE)',
    )
    .option(
      '--public-url <url>',
      'URL clients reach the stack at, when behind a proxy (env SIGNET_PUBLIC_URL)',
    )
    .option(
      '--insecure-public-test-identities',
      'listen on a non-loopback address although the CA trusts the built-in identity provider, which signs anyone in without a password (anyone who reaches the port gets certificates); refused without this flag',
    )
    .action(async (flags: UpFlags) => {
      // A signal while starting stops at once (nothing is acknowledged before the stack is up).
      let stop: () => void = () => {
        process.stderr.write('signet: stopped while starting\n');
        process.exit(1);
      };
      process.once('SIGINT', () => stop());
      process.once('SIGTERM', () => stop());
      // Loaded here, not at startup: every other command would pay for fastify otherwise.
      const { readConfigFile } = await import('../../services/config.ts');
      const { startStack } = await import('../../services/stack.ts');
      const { explorerBundleCheck } = await import('../explorer-check.ts');
      // Precedence: flags, then environment, then the config file, then defaults.
      const env = process.env;
      const configFile = flags.config ?? env.SIGNET_CONFIG;
      const file: StackConfig = configFile ? readConfigFile(configFile) : { services: {} };
      const portText = flags.port ?? env.SIGNET_PORT;
      // An error names the flag, variable or config file field that gave a value: flags win,
      // then the environment, then the file; a default is named by its flag.
      const source = (
        key: 'host' | 'port' | 'publicUrl' | 'database',
        flag: string,
        variable: string,
      ): string =>
        flags[key] === undefined && env[variable] !== undefined
          ? variable
          : flags[key] === undefined && file[key] !== undefined
            ? `${configFile}: ${key}`
            : flag;
      const hostName = source('host', '--host', 'SIGNET_HOST');
      const publicUrl = flags.publicUrl ?? env.SIGNET_PUBLIC_URL ?? file.publicUrl;
      // A public URL no setting gave (a wildcard host requires one) is named in the place
      // the host was given: the flag beside --host, the variable beside SIGNET_HOST, the field.
      const publicUrlName =
        publicUrl !== undefined
          ? source('publicUrl', '--public-url', 'SIGNET_PUBLIC_URL')
          : hostName === 'SIGNET_HOST'
            ? 'SIGNET_PUBLIC_URL'
            : hostName === '--host'
              ? '--public-url'
              : `${configFile}: publicUrl`;
      const stack = await startStack({
        port:
          portText !== undefined
            ? parsePort(portText, flags.port ? '--port' : 'SIGNET_PORT')
            : (file.port ?? 8420),
        host: flags.host ?? env.SIGNET_HOST ?? file.host ?? '127.0.0.1',
        dataDir: flags.data ?? env.SIGNET_DATA ?? file.data ?? '.signet',
        databaseUrl: flags.database ?? env.SIGNET_DATABASE ?? file.database,
        publicUrl,
        config: file.services,
        ...(file.dir === undefined ? {} : { configDir: file.dir }),
        names: {
          ...(configFile === undefined ? {} : { configFile }),
          publicUrl: publicUrlName,
          database: source('database', '--database', 'SIGNET_DATABASE'),
          host: hostName,
          port: source('port', '--port', 'SIGNET_PORT'),
        },
        checkBundle: explorerBundleCheck,
        allowPublicTestIdentities: flags.insecurePublicTestIdentities === true,
        accessLog:
          env.SIGNET_ACCESS_LOG !== undefined
            ? accessLogSetting(env.SIGNET_ACCESS_LOG)
            : (file.accessLog ?? true),
      });
      // A closed stdout (`signet up | head`) must not take the server down with it.
      process.stdout.off('error', exitOnClosedStdout);
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
      });
      process.stdout.write(
        banner(stack.url, Object.keys(stack.services), signInOf(stack, file.services['ca']), {
          command: signetCommand(process.argv[1], process.cwd(), env),
          ...(stack.listening === undefined ? {} : { listening: stack.listening }),
        }),
      );
      await new Promise<void>((resolve) => {
        stop = resolve;
      });
      await stack.close();
      process.stdout.write('signet stopped\n');
    });
}

/**
 * How a new user gets a certificate from the stack, for the banner's example: a token from the
 * built-in provider's test grant (`signet token`, the `sigstore` client's, on unless
 * `oidc.clients` turns it off), signing in at that provider (a person, in a browser or with a
 * device code), or a token from one of the issuers `ca.issuers` trusts instead of it.
 */
export type SignIn = 'test-grant' | 'sign-in' | 'issuers';

function signInOf(stack: RunningStack, ca: Record<string, unknown> | undefined): SignIn {
  if (ca?.['issuers'] !== undefined) return 'issuers';
  const client = stack.services.oidc?.provider.config.clients.find((c) => c.id === 'sigstore');
  return client?.testGrant === true && client.secret === undefined ? 'test-grant' : 'sign-in';
}

/**
 * How the banner's examples start signet, the way this one was started (`main`: the module
 * Node runs). In a clone, where bin/signet runs the sources (src/cli/main.ts): its bin/signet,
 * as `./bin/signet` from the clone's folder (the README's way), by its path from elsewhere.
 * Installed from npm (dist/cli/main.js), there is no ./bin/signet where the user is:
 * `npx signet` when npm started it (npx, npm exec, an npm script), else `signet` (on PATH).
 */
export function signetCommand(
  main: string | undefined,
  cwd: string,
  env: NodeJS.ProcessEnv,
): string {
  const path = process.getBuiltinModule('node:path');
  if (main !== undefined && /(^|[\\/])src[\\/]cli[\\/]main\.ts$/.test(main)) {
    const script = path.resolve(path.dirname(main), '..', '..', 'bin', 'signet');
    const rel = path.relative(cwd, script);
    const shown =
      rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel) ? script : `./${rel}`;
    return /^[\w./+,:@%=-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", "'\\''")}'`;
  }
  return env['npm_command'] !== undefined ? 'npx signet' : 'signet';
}

/**
 * What a new user needs first: where the stack is and how to sign and verify against it.
 * `command`: how to start signet (signetCommand; default the clone's `./bin/signet`).
 * `listening`: where the server listens (`host:port`), when the public URL `url` is another.
 */
export function banner(
  url: string,
  services: string[],
  signIn: SignIn,
  where: { command?: string; listening?: string } = {},
): string {
  const signet = where.command ?? './bin/signet';
  const up = `signet is up at ${url}${where.listening === undefined ? '' : ` (listening on ${where.listening})`}`;
  const lines = [up, `  services: ${services.join(', ') || '(none)'}`];
  if (services.includes('explorer'))
    lines.push(`  explorer:       ${url}/ (search, entries, log status, bundle check)`);
  if (services.includes('tuf')) {
    lines.push(
      `  trusted root:   ${url}/trusted_root.json`,
      `  signing config: ${url}/signing_config.json`,
      `  TUF repository: ${url}/tuf`,
      // --tuf-root takes a file: the root is fetched once, then named on every command.
      `  pin its root:   curl -fsSo root.json ${url}/tuf/1.root.json, then --tuf-root root.json`,
    );
  }
  if (services.includes('ca') && services.includes('oidc')) {
    const verify = (identity: string, issuer: string) =>
      `  ${signet} verify-blob --server ${url} --bundle FILE.sigstore.json --certificate-identity ${identity} --certificate-oidc-issuer ${issuer} FILE`;
    if (signIn === 'test-grant')
      lines.push(
        '',
        'Sign and verify a file against it:',
        `  ${signet} sign-blob --server ${url} --identity-token "$(${signet} token --server ${url} --subject dev@signet.local)" --bundle FILE.sigstore.json FILE`,
        verify('dev@signet.local', `${url}/oidc`),
      );
    else if (signIn === 'sign-in')
      lines.push(
        '',
        `Sign and verify a file against it (sign-blob signs you in at ${url}/oidc, in a browser or with a device code; oidc.clients turned the test grant off, so signet token needs --flow device or --flow browser):`,
        `  ${signet} sign-blob --server ${url} --bundle FILE.sigstore.json FILE`,
        verify('IDENTITY', `${url}/oidc`),
      );
    else
      lines.push(
        '',
        'Sign and verify a file against it (the CA trusts the issuers of ca.issuers, not the built-in provider: sign with a token from one of them):',
        `  ${signet} sign-blob --server ${url} --identity-token TOKEN --bundle FILE.sigstore.json FILE`,
        verify('IDENTITY', 'ISSUER'),
      );
  }
  return `${lines.join('\n')}\n`;
}

/** SIGNET_ACCESS_LOG: on (1, true, on, yes) or off (0, false, off, no); anything else is a mistake. */
function accessLogSetting(v: string): boolean {
  if (/^(1|true|on|yes)$/i.test(v)) return true;
  if (/^(0|false|off|no)$/i.test(v)) return false;
  throw invalid('SIGNET_ACCESS_LOG', `"${v}" is not on or off (1/0, true/false, on/off, yes/no)`);
}
