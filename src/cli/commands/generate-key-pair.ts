import type { Command } from 'commander';
import { describeWriteError, invalid, SignetError } from '../../core/errors.ts';
import { timeoutOption } from '../flags.ts';

export function registerGenerateKeyPair(program: Command): void {
  program
    .command('generate-key-pair')
    .description(
      "create an ECDSA P-256 key pair in cosign's format: <prefix>.key (encrypted with a passphrase from COSIGN_PASSWORD, a prompt, or standard input) and <prefix>.pub",
    )
    .option('--output-key-prefix <prefix>', 'file name prefix of the key files', 'cosign')
    .option('-f, --force', 'overwrite existing key files')
    .addOption(timeoutOption())
    .action(async (flags: { outputKeyPrefix: string; force?: boolean }) => {
      const fs = process.getBuiltinModule('node:fs');
      const { generateCosignKeyPair, readPassphrase } = await import('../../client/keys/index.ts');
      if (flags.outputKeyPrefix === '') throw invalid('--output-key-prefix', 'must not be empty');
      const keyFile = `${flags.outputKeyPrefix}.key`;
      const pubFile = `${flags.outputKeyPrefix}.pub`;
      for (const f of [keyFile, pubFile])
        if (!flags.force && fs.existsSync(f))
          throw new SignetError(
            'conflict',
            'KEY_EXISTS',
            `${f} already exists: use --force to overwrite it, or --output-key-prefix for another name`,
          );
      const passphrase = await readPassphrase({ confirm: true, piped: true });
      const pair = await generateCosignKeyPair(passphrase);
      passphrase.fill(0);
      try {
        // The private key is created 0600 from the start, never world-readable for a moment.
        fs.rmSync(keyFile, { force: true });
        fs.writeFileSync(keyFile, pair.privatePem, { mode: 0o600, flag: 'wx' });
        fs.writeFileSync(pubFile, pair.publicPem);
      } catch (e) {
        throw invalid(
          '--output-key-prefix',
          describeWriteError(e, (e as NodeJS.ErrnoException).path ?? keyFile),
          e,
        );
      }
      process.stderr.write(`Private key written to ${keyFile}\nPublic key written to ${pubFile}\n`);
    });
}
