import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { printable } from '../../core/encoding/printable.ts';
import { requestTimeout, timeoutOption } from '../flags.ts';
import { refuseKeyReference } from '../options.ts';

/**
 * cosign's `bundle` commands: inspect (what a bundle says), upgrade (v0.1/v0.2 and cosign's
 * legacy --bundle JSON to v0.3, fetching missing inclusion proofs from the log) and create (a
 * bundle from a detached signature, certificate or key, and the log entry).
 */
export function registerBundle(program: Command): void {
  const bundle = program
    .command('bundle')
    .description('inspect, upgrade or create a Sigstore bundle');

  bundle
    .command('inspect')
    .description('show what a bundle says: who signed, issuer, when, which log, subjects')
    .argument('<bundle>', 'a Sigstore bundle')
    .option('--trusted-root <file>', 'also say which times and logs the trusted root vouches for')
    .addOption(timeoutOption())
    .action(async (file: string, o: { trustedRoot?: string }) => {
      const { readBundle, loadTrustedRoot } = await import('../../client/verify/setup.ts');
      const { inspectBundle } = await import('../../client/verify/inspect.ts');
      const b = await readBundle(file, 'bundle');
      const root = o.trustedRoot
        ? await loadTrustedRoot({ trustedRoot: o.trustedRoot })
        : undefined;
      console.log(inspectBundle(b, root).map(printable).join('\n'));
    });

  bundle
    .command('upgrade')
    .description('upgrade a v0.1/v0.2 bundle or a legacy cosign bundle to v0.3')
    .argument('<bundle>', 'the bundle to upgrade')
    .option(
      '--rekor-url <url>',
      'where to fetch missing inclusion proofs',
      'https://rekor.sigstore.dev',
    )
    .option('--out <file>', 'write the upgraded bundle here (default: stdout)')
    .addOption(timeoutOption())
    .action(async (file: string, o: { rekorUrl: string; out?: string; timeout: string }) => {
      const { readDocument } = await import('../../client/file-or-url.ts');
      const { parseJsonText } = await import('../../core/json.ts');
      const { upgradeBundle } = await import('../../bundle/assemble.ts');
      const { entryByIndexV1 } = await import('../../client/http/rekor-v1.ts');
      const { serializeBundle } = await import('../../bundle/bundle.ts');
      const { writeBundleOutput } = await import('./sign-blob.ts');
      const value = parseJsonText(readDocument(file, 'bundle', 'NO_SIGNATURE'), 'bundle', file);
      const r = await upgradeBundle(value, (i) => entryByIndexV1(o.rekorUrl, i, requestTimeout(o)));
      process.stderr.write(
        r.wasV03
          ? 'The bundle is v0.3 already: written as it is, with any inclusion proof it lacked\n'
          : `Upgraded ${r.from} to v0.3\n`,
      );
      await writeBundleOutput(serializeBundle(r.bundle), o.out);
    });

  bundle
    .command('create')
    .description(
      'make a v0.3 bundle from a detached signature, the certificate or key, and the log entry',
    )
    .option('--artifact <file>', 'the signed file')
    .option(
      '--attestation <file>',
      'the DSSE envelope (JSON) of an attestation, instead of --signature',
    )
    .option(
      '--signature <file>',
      'the signature (base64), as sign-blob --output-signature writes it',
    )
    .option('--certificate <file>', 'the signing certificate (PEM)')
    .option(
      '--key <file|url>',
      'the public key (PEM) of a keyed signature: a file, an http(s) URL or env://VAR',
    )
    .option('--rfc3161-timestamp <file>', 'an RFC 3161 timestamp (DER) over the signature')
    .option('--rekor-url <url>', 'the log to fetch the entry from', 'https://rekor.sigstore.dev')
    .option('--ignore-tlog', 'make a bundle without a log entry')
    .option('--out <file>', 'write the bundle here (default: stdout)')
    .addOption(timeoutOption())
    .action(
      async (o: {
        artifact?: string;
        attestation?: string;
        signature?: string;
        certificate?: string;
        key?: string;
        rfc3161Timestamp?: string;
        rekorUrl: string;
        ignoreTlog?: boolean;
        out?: string;
        timeout: string;
      }) => {
        const { createPublicKey } = process.getBuiltinModule('node:crypto');
        const { readText, readFileBytes } = await import('../../client/sign/setup.ts');
        const { digestFile } = await import('../../client/read-or-hash.ts');
        const { assembleBundle } = await import('../../bundle/assemble.ts');
        const { messageHash, keyDetailsOf } = await import('../../core/crypto/keys.ts');
        const { serializeBundle } = await import('../../bundle/bundle.ts');
        const { writeBundleOutput } = await import('./sign-blob.ts');
        if ((o.signature === undefined) === (o.attestation === undefined))
          throw invalid('--signature', 'give either --signature or --attestation');
        if ((o.certificate === undefined) === (o.key === undefined))
          throw invalid('--certificate', 'give either --certificate or --key: who signed');
        const attestation = o.attestation !== undefined;
        const signature = readText(
          (o.signature ?? o.attestation)!,
          o.signature ? '--signature' : '--attestation',
        );
        const certificatePem =
          o.certificate !== undefined ? readText(o.certificate, '--certificate') : undefined;
        // --key as cosign's bundle create reads it: a file, an http(s) URL or env://VAR.
        refuseKeyReference(o.key);
        const { loadTextFileOrUrl } = await import('../../client/file-or-url.ts');
        const keyPem =
          o.key !== undefined
            ? await loadTextFileOrUrl(o.key, '--key', {
                readFile: (file) => readFileBytes(file, '--key'),
                http: requestTimeout(o),
              })
            : undefined;
        let key;
        try {
          key = createPublicKey((certificatePem ?? keyPem)!);
        } catch (e) {
          throw invalid(
            o.certificate ? '--certificate' : '--key',
            'is not a PEM certificate or public key',
            e,
          );
        }
        let digest;
        if (!attestation) {
          if (o.artifact === undefined) throw invalid('--artifact', 'is required: the signed file');
          const alg = messageHash(keyDetailsOf(key, '--key'));
          digest = {
            algorithm: ({ sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' } as const)[
              alg
            ],
            // Hashed as it is read: an artifact of any size in constant memory.
            digest: digestFile(o.artifact, alg, '--artifact'),
          };
        }
        const timestamps = o.rfc3161Timestamp
          ? [readFileBytes(o.rfc3161Timestamp, '--rfc3161-timestamp')]
          : [];
        const parts = {
          signature,
          attestation,
          digest,
          certificatePem,
          publicKeyHint: keyPem !== undefined ? '' : undefined,
          timestamps,
          labels: {
            signature: o.signature ? '--signature' : '--attestation',
            certificate: '--certificate',
          },
        };
        let b = assembleBundle(parts);
        if (!o.ignoreTlog) {
          const { findLogEntry } = await import('../../client/sign/find-entry.ts');
          const entry = await findLogEntry(
            o.rekorUrl,
            parts,
            key,
            (certificatePem ?? keyPem)!,
            requestTimeout(o),
          );
          b = assembleBundle({ ...parts, tlogEntries: [entry] });
        }
        await writeBundleOutput(serializeBundle(b), o.out);
      },
    );
}
