import type { Command } from 'commander';

/**
 * One registration of `signet` commands: the top-level names (and aliases) it registers, and
 * its module, loaded only when needed. A short command like `signet sign-blob` loads its own
 * module and no other (each costs start-up time: bench/sign); help, completion and an unknown
 * command's suggestion load them all. test/cli/commands.test.ts checks that `names` are what
 * `register` adds. A command module must not import cli/main.ts: main is still in its top-level
 * await while it loads them, so the import would never settle.
 */
export interface CommandEntry {
  names: readonly string[];
  load: () => Promise<(program: Command) => void>;
  /** The command lists the other commands (completion): everything is registered. */
  needsAll?: boolean;
}

/** Every `signet` command, in help order. Add an entry per new command. */
export const COMMANDS: readonly CommandEntry[] = [
  { names: ['up'], load: async () => (await import('./up.ts')).registerUp },
  { names: ['sign-blob'], load: async () => (await import('./sign-blob.ts')).registerSignBlob },
  {
    names: ['attest-blob'],
    load: async () => (await import('./attest-blob.ts')).registerAttestBlob,
  },
  {
    names: ['generate-key-pair'],
    load: async () => (await import('./generate-key-pair.ts')).registerGenerateKeyPair,
  },
  {
    names: ['sign-bundle'],
    load: async () => (await import('./sign-bundle.ts')).registerSignBundle,
  },
  {
    names: ['trusted-root'],
    load: async () => (await import('./trusted-root.ts')).registerTrustedRoot,
  },
  {
    names: ['verify-blob'],
    load: async () => (await import('./verify-blob.ts')).registerVerifyBlob,
  },
  {
    names: ['verify-blob-attestation'],
    load: async () => (await import('./verify-blob-attestation.ts')).registerVerifyBlobAttestation,
  },
  {
    names: ['verify-bundle'],
    load: async () => (await import('./verify-bundle.ts')).registerVerifyBundle,
  },
  { names: ['inspect'], load: async () => (await import('./inspect.ts')).registerInspect },
  { names: ['rotate'], load: async () => (await import('./rotate.ts')).registerRotate },
  { names: ['backup', 'restore'], load: async () => (await import('./backup.ts')).registerBackup },
  { names: ['token'], load: async () => (await import('./token.ts')).registerToken },
  { names: ['policy'], load: async () => (await import('./policy.ts')).registerPolicy },
  {
    names: ['signing-config'],
    load: async () => (await import('./signing-config.ts')).registerSigningConfig,
  },
  { names: ['sign'], load: async () => (await import('./sign.ts')).registerSign },
  { names: ['verify'], load: async () => (await import('./verify.ts')).registerVerify },
  { names: ['attest'], load: async () => (await import('./attest.ts')).registerAttest },
  {
    names: ['verify-attestation'],
    load: async () => (await import('./verify.ts')).registerVerifyAttestation,
  },
  { names: ['witness'], load: async () => (await import('./witness.ts')).registerWitness },
  { names: ['git'], load: async () => (await import('./git.ts')).registerGit },
  {
    names: ['verify-commit'],
    load: async () => (await import('./verify-commit.ts')).registerVerifyCommit,
  },
  {
    names: ['verify-commit-attestation'],
    load: async () =>
      (await import('./verify-commit-attestation.ts')).registerVerifyCommitAttestation,
  },
  {
    names: ['verify-tag'],
    load: async () => (await import('./verify-commit.ts')).registerVerifyTag,
  },
  {
    names: [
      'tree',
      'download',
      'copy',
      'clean',
      'triangulate',
      'save',
      'load',
      'generate',
      'attach',
    ],
    load: async () => (await import('./image-tools.ts')).registerImageTools,
  },
  { names: ['login'], load: async () => (await import('./login.ts')).registerLogin },
  {
    names: ['dockerfile', 'manifest'],
    load: async () => (await import('./dockerfile-manifest.ts')).registerDockerfileAndManifest,
  },
  { names: ['admission'], load: async () => (await import('./admission.ts')).registerAdmission },
  { names: ['version'], load: async () => (await import('./version.ts')).registerVersion },
  { names: ['env'], load: async () => (await import('./env.ts')).registerEnv },
  {
    names: ['completion'],
    load: async () => (await import('./completion.ts')).registerCompletion,
    needsAll: true,
  },
  {
    names: ['public-key', 'import-key-pair', 'initialize'],
    load: async () => (await import('./keys-trust.ts')).registerKeysAndTrust,
  },
  { names: ['bundle'], load: async () => (await import('./bundle.ts')).registerBundle },
  { names: ['monitor'], load: async () => (await import('./monitor.ts')).registerMonitor },
];

/**
 * The entries to register for a command line: the one naming its first word, none for a bare
 * `--version` (commander answers it before any command), or all of them (no command, `help`, a
 * typo that gets a suggestion, a command that lists the others).
 */
export function commandsFor(argv: readonly string[]): readonly CommandEntry[] {
  const word = argv.find((a) => !a.startsWith('-'));
  if (word === undefined && argv.length === 1 && (argv[0] === '-v' || argv[0] === '--version'))
    return [];
  const entry = word === undefined ? undefined : COMMANDS.find((c) => c.names.includes(word));
  return entry && !entry.needsAll ? [entry] : COMMANDS;
}
