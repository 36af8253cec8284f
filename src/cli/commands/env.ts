import type { Command } from 'commander';

/**
 * `signet env` (cosign's `env`): the environment variables signet reads, with their values;
 * secrets are masked unless --show-sensitive-values.
 */
export const ENVIRONMENT: ReadonlyArray<{
  name: string;
  description: string;
  sensitive?: boolean;
}> = [
  { name: 'SIGNET_SERVER', description: 'the Signet stack of every command that takes --server' },
  {
    name: 'SIGNET_TUF_CACHE',
    description: 'TUF metadata cache folder (default ~/.cache/signet/tuf)',
  },
  { name: 'SIGNET_SIGN_IN', description: 'sign-in mode: auto, browser, device or never' },
  { name: 'SIGNET_CONFIG', description: 'signet up: the config file' },
  { name: 'SIGNET_PORT', description: 'signet up: the port' },
  { name: 'SIGNET_HOST', description: 'signet up: the address to listen on' },
  { name: 'SIGNET_DATA', description: 'signet up: the data folder' },
  { name: 'SIGNET_DATABASE', description: 'signet up: a PostgreSQL URL', sensitive: true },
  { name: 'SIGNET_PUBLIC_URL', description: 'signet up: the URL clients reach the stack at' },
  { name: 'SIGNET_DEBUG', description: 'print stack traces of errors' },
  {
    name: 'SIGNET_ACCESS_LOG',
    description: 'signet up: off leaves out the per-request access log',
  },
  {
    name: 'SIGNET_CA_KEY_PASSPHRASE',
    description: "signet up: the passphrase of the CA's encrypted key file",
    sensitive: true,
  },
  {
    name: 'SIGNET_WEBHOOK_SECRET',
    description: "signet monitor: the HMAC key of webhook alerts (--webhook-secret's default)",
    sensitive: true,
  },
  { name: 'SIGNET_GIT_LOG', description: "git signing: a file for the signer's failure lines" },
  { name: 'SIGNET_CACHE', description: 'git signing: false turns the credential cache off' },
  {
    name: 'SIGNET_AGENT_SOCKET',
    description: "git signing: the credential cache's socket (default under XDG_RUNTIME_DIR)",
  },
  { name: 'COSIGN_PASSWORD', description: 'passphrase of cosign.key files', sensitive: true },
  {
    name: 'COSIGN_REPOSITORY',
    description:
      "a repository to keep image signatures and attestations in, instead of the image's",
  },
  {
    name: 'SIGSTORE_ID_TOKEN',
    description: 'the OIDC identity token for keyless signing',
    sensitive: true,
  },
  {
    name: 'SIGSTORE_ROOT_FILE',
    description: "PEM CA certificates that replace the trusted root's CAs",
  },
  {
    name: 'SIGSTORE_REKOR_PUBLIC_KEY',
    description: "PEM key file that replaces the trusted root's transparency logs",
  },
  {
    name: 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE',
    description: "PEM key file that replaces the trusted root's CT logs",
  },
  {
    name: 'SIGSTORE_TSA_CERTIFICATE_FILE',
    description: "PEM TSA chain that replaces the trusted root's TSAs",
  },
  {
    name: 'TUF_ROOT',
    description: "TUF metadata cache folder (cosign's name; SIGNET_TUF_CACHE wins)",
  },
  {
    name: 'TUF_MIRROR',
    description: 'the default TUF repository (instead of the public-good one)',
  },
  { name: 'TUF_ROOT_JSON', description: 'root.json that TUF_MIRROR is trusted with' },
  { name: 'BROWSER', description: 'the browser command for sign-in' },
];

export function registerEnv(program: Command): void {
  program
    .command('env')
    .description('print the environment variables signet reads')
    .option('--show-descriptions', 'say what each variable does')
    .option('--show-sensitive-values', 'print tokens and passwords instead of ******')
    .action((flags: { showDescriptions?: boolean; showSensitiveValues?: boolean }) => {
      for (const v of ENVIRONMENT) {
        const raw = process.env[v.name];
        const value =
          raw === undefined ? '' : v.sensitive && !flags.showSensitiveValues ? '******' : raw;
        if (flags.showDescriptions) console.log(`# ${v.description}`);
        console.log(`${v.name}="${value}"`);
      }
    });
}
