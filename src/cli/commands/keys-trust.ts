import type { Command } from 'commander';
import { describeWriteError, invalid } from '../../core/errors.ts';
import { requestTimeout, timeoutOption } from '../flags.ts';
import { refuseKeyReference } from '../options.ts';

/**
 * Write a file all or nothing, with an error naming the flag and the file: a temporary file of
 * its own (created exclusively, under a random name) renamed into place, so that in a shared
 * folder nobody else's file can become the private key.
 */
async function writeFile(file: string, data: string, flag: string, mode = 0o644): Promise<void> {
  const { writeFileAtomic } = await import('../../log/atomic-file.ts');
  try {
    writeFileAtomic(file, data, mode);
  } catch (e) {
    throw invalid(flag, describeWriteError(e, file), e);
  }
}

/**
 * cosign's key and trust commands: `public-key` (the public half of a private key),
 * `import-key-pair` (a PEM private key into cosign's encrypted format), `initialize` (the default
 * TUF repository).
 */
export function registerKeysAndTrust(program: Command): void {
  program
    .command('public-key')
    .description('print the public key (PEM) of a private key (cosign.key or PEM)')
    .requiredOption(
      '--key <file|url>',
      'the private key (encrypted with COSIGN_PASSWORD, or plain PEM): a file, an http(s) URL or env://VAR',
    )
    .option('--outfile <file>', 'write it to this file instead of stdout')
    .addOption(timeoutOption())
    .action(async (flags: { key: string; outfile?: string; timeout?: string }) => {
      const { createPublicKey } = process.getBuiltinModule('node:crypto');
      const { readPrivateKey, publicKeyPem, readPassphrase } =
        await import('../../client/keys/index.ts');
      const { readFileBytes } = await import('../../client/sign/setup.ts');
      const { displayName, loadTextFileOrUrl } = await import('../../client/file-or-url.ts');
      refuseKeyReference(flags.key);
      // A file, an http(s) URL or env://VAR, as cosign's public-key reads --key.
      const text = await loadTextFileOrUrl(flags.key, '--key', {
        readFile: (file) => readFileBytes(file, '--key'),
        http: requestTimeout(flags),
      });
      const key = await readPrivateKey(
        text,
        () => readPassphrase({ piped: true }),
        `--key: ${displayName(flags.key)}`,
      );
      const pem = publicKeyPem(createPublicKey(key));
      if (flags.outfile === undefined) process.stdout.write(pem);
      else {
        await writeFile(flags.outfile, pem, '--outfile');
        process.stderr.write(`Public key written to ${flags.outfile}\n`);
      }
    });

  program
    .command('import-key-pair')
    .description(
      "import a PEM private key (PKCS#8, EC or RSA) into cosign's format: <prefix>.key (encrypted with COSIGN_PASSWORD or a prompt) and <prefix>.pub",
    )
    .requiredOption('-k, --key <file>', 'the PEM private key to import')
    .option(
      '-o, --output-key-prefix <prefix>',
      'file name prefix of the key files',
      'import-cosign',
    )
    .option('-y, --yes', 'overwrite existing key files')
    .addOption(timeoutOption())
    .action(async (flags: { key: string; outputKeyPrefix: string; yes?: boolean }) => {
      const fs = process.getBuiltinModule('node:fs');
      const { createPublicKey } = process.getBuiltinModule('node:crypto');
      const keys = await import('../../client/keys/index.ts');
      const { readText } = await import('../../client/sign/setup.ts');
      const text = readText(flags.key, '--key');
      if (keys.isEncryptedKey(text))
        throw invalid('--key', 'is already a cosign key; nothing to import');
      const key = await keys.readPrivateKey(
        text,
        () => Promise.reject(new Error('not encrypted')),
        `--key: ${flags.key}`,
      );
      const keyFile = `${flags.outputKeyPrefix}.key`;
      const pubFile = `${flags.outputKeyPrefix}.pub`;
      for (const f of [keyFile, pubFile])
        if (!flags.yes && fs.existsSync(f))
          throw invalid('--output-key-prefix', `${f} already exists (use -y to overwrite it)`);
      const passphrase = await keys.readPassphrase({ confirm: true, piped: true });
      const pem = await keys.encryptPrivateKey(key, passphrase);
      passphrase.fill(0);
      await writeFile(keyFile, pem, '--output-key-prefix', 0o600);
      await writeFile(pubFile, keys.publicKeyPem(createPublicKey(key)), '--output-key-prefix');
      process.stderr.write(`Private key written to ${keyFile}\nPublic key written to ${pubFile}\n`);
    });

  program
    .command('initialize')
    .description(
      'set the default TUF repository that verification and signing use (default: the Sigstore public-good one)',
    )
    .option('--mirror <url>', 'the TUF repository', 'https://tuf-repo-cdn.sigstore.dev')
    .option(
      '--root <file|url>',
      "the repository's root.json to trust it with (a file, an http(s) URL or env://VAR)",
    )
    .option(
      '--root-checksum <sha256>',
      'the expected checksum of --root: hex sha256, or sha256:HEX / sha512:HEX',
    )
    .option('--staging', 'the public-good staging repository (not supported)')
    .addOption(timeoutOption())
    .action(
      async (flags: {
        mirror: string;
        root?: string;
        rootChecksum?: string;
        staging?: boolean;
        timeout: string;
      }) => {
        if (flags.staging) throw invalid('--staging', 'is not supported; give --mirror and --root');
        const { initializeRepository } = await import('../../client/verify/trust.ts');
        const r = await initializeRepository({
          mirror: flags.mirror,
          root: flags.root,
          rootChecksum: flags.rootChecksum,
          ...requestTimeout(flags),
        });
        process.stderr.write(
          `Root status: the TUF repository ${r.mirror} is the default (root ${r.rootFile}); its trusted root verified\n`,
        );
      },
    );
}
