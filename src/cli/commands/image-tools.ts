/** cosign's OCI plumbing commands on images: tree, download, copy, clean, triangulate. */
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { addRegistryFlags, registryOptions, type RegistryFlags } from '../registry-flags.ts';

function withRegistry(cmd: Command): Command {
  return addRegistryFlags(cmd).option(
    '--timeout <seconds>',
    'deadline for each request to the registry',
    '30',
  );
}

export function registerImageTools(program: Command): void {
  withRegistry(
    program
      .command('tree')
      .description('list what is attached to an image: referrers and legacy .sig/.att/.sbom tags')
      .argument('<image>'),
  ).action(async (image: string, flags: RegistryFlags) => {
    const oci = await import('../../client/oci/index.ts');
    process.stdout.write(`${oci.formatTree(await oci.tree(image, registryOptions(flags)))}\n`);
  });

  const dl = program
    .command('download')
    .description('print the signatures or attestations attached to an image, as stored');
  for (const kind of ['signature', 'attestation'] as const)
    withRegistry(
      dl
        .command(kind)
        .description(`the ${kind}s of the image, one JSON document per line`)
        .argument('<image>'),
    ).action(async (image: string, flags: RegistryFlags) => {
      const oci = await import('../../client/oci/index.ts');
      for (const line of await oci.download(image, kind, registryOptions(flags)))
        process.stdout.write(`${line}\n`);
    });

  withRegistry(
    program
      .command('copy')
      .description(
        'copy an image and the signatures and attestations attached to it to another repository',
      )
      .argument('<source>')
      .argument('<destination>')
      .option('-f, --force', 'accepted for cosign compatibility (signet never asks)'),
  ).action(async (src: string, dst: string, flags: RegistryFlags) => {
    const oci = await import('../../client/oci/index.ts');
    await oci.copyImage(src, dst, registryOptions(flags), {
      onEvent: (m) => process.stderr.write(`${m}\n`),
    });
  });

  withRegistry(
    program
      .command('clean')
      .description('remove the signatures, attestations and SBOMs attached to an image')
      .argument('<image>')
      .option('--type <type>', 'all, signature, attestation or sbom', 'all')
      .option('-f, --force', 'accepted for cosign compatibility (signet never asks)'),
  ).action(async (image: string, flags: RegistryFlags & { type: string }) => {
    if (!['all', 'signature', 'attestation', 'sbom'].includes(flags.type))
      throw invalid('--type', `"${flags.type}" is not all, signature, attestation or sbom`);
    const oci = await import('../../client/oci/index.ts');
    const removed = await oci.cleanImage(image, flags.type as 'all', registryOptions(flags));
    process.stderr.write(
      removed.length === 0
        ? `nothing attached to ${image} to remove\n`
        : `removed ${removed.join(', ')}\n`,
    );
  });

  withRegistry(
    program
      .command('triangulate')
      .description(
        'print where the signatures (or attestations, SBOMs, referrers index) of an image are stored',
      )
      .argument('<image>')
      .option('--type <type>', 'signature, attestation, sbom, digest or referrers', 'signature'),
  ).action(async (image: string, flags: RegistryFlags & { type: string }) => {
    if (!['signature', 'attestation', 'sbom', 'digest', 'referrers'].includes(flags.type))
      throw invalid(
        '--type',
        `"${flags.type}" is not signature, attestation, sbom, digest or referrers`,
      );
    const oci = await import('../../client/oci/index.ts');
    process.stdout.write(
      `${await oci.triangulate(image, flags.type as 'signature', registryOptions(flags))}\n`,
    );
  });
}
