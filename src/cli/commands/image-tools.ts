/** cosign's OCI plumbing commands on images: tree, download, copy, clean, triangulate, save, load, generate, attach. */
import type { Command } from 'commander';
import { invalid, SignetError } from '../../core/errors.ts';
import { deprecate } from '../options.ts';
import { timeoutOption } from '../flags.ts';
import {
  addRegistryFlags,
  collectAnnotation,
  parseAnnotations,
  platformFlag,
  registryOptions,
  type RegistryFlags,
} from '../registry-flags.ts';
import { printableLines } from '../../core/encoding/printable.ts';

function withRegistry(cmd: Command): Command {
  return addRegistryFlags(cmd).addOption(timeoutOption());
}

export function registerImageTools(program: Command): void {
  withRegistry(
    program
      .command('tree')
      .description('list what is attached to an image: referrers and legacy .sig/.att/.sbom tags')
      .argument('<image>'),
  ).action(async (image: string, flags: RegistryFlags) => {
    const oci = await import('../../client/oci/index.ts');
    process.stdout.write(
      `${printableLines(oci.formatTree(await oci.tree(image, registryOptions(flags))))}\n`,
    );
  });

  const dl = program
    .command('download')
    .description('print the signatures or attestations attached to an image, as stored');
  for (const kind of ['signature', 'attestation'] as const) {
    const cmd = withRegistry(
      dl
        .command(kind)
        .description(`the ${kind}s of the image, one JSON document per line`)
        .argument('<image>')
        .option(
          '--platform <os/arch[/variant]>',
          "of a multi-platform index: the image for this platform's " + kind + 's',
        ),
    );
    if (kind === 'attestation')
      cmd.option(
        '--predicate-type <type>',
        'only attestations of this predicate type (a URI or cosign name: slsaprovenance, spdxjson, ...)',
      );
    cmd.action(
      async (
        image: string,
        flags: RegistryFlags & { platform?: string; predicateType?: string },
      ) => {
        const oci = await import('../../client/oci/index.ts');
        const o: Parameters<typeof oci.download>[3] = {};
        if (flags.platform !== undefined) o.platform = await platformFlag(flags.platform);
        if (flags.predicateType !== undefined) {
          const { predicateTypeOf } = await import('../../client/sign/predicate.ts');
          o.predicateType = predicateTypeOf(flags.predicateType);
        }
        const lines = await oci.download(image, kind, registryOptions(flags), o);
        // As cosign's download: an image without signatures is an error; one without
        // attestations is not, unless a predicate type was asked for.
        if (lines.length === 0 && kind === 'signature')
          throw new SignetError('not-found', 'NONE_ATTACHED', 'no signatures associated', {
            field: image,
          });
        if (lines.length === 0 && o.predicateType !== undefined)
          throw new SignetError(
            'not-found',
            'NONE_ATTACHED',
            `no attestations with predicate type '${o.predicateType}' found`,
            { field: image },
          );
        for (const line of lines) process.stdout.write(`${line}\n`);
      },
    );
  }

  const copy = withRegistry(
    program
      .command('copy')
      .description(
        'copy an image and the signatures and attestations attached to it to another repository',
      )
      .argument('<source>')
      .argument('<destination>')
      .option('-f, --force', 'replace destination tags that hold something else (else refused)')
      .option(
        '--only <kinds>',
        'copy only what is attached, of these kinds: sig, att, sbom (comma-separated); the image goes by digest and the destination tag is left alone',
        (v: string, all: string[] = []) => [...all, ...v.split(',')],
      )
      .option('--sig-only', 'same as --only=sig')
      .option(
        '--platform <os/arch[/variant]>',
        'of a multi-platform index: only the image for this platform, and its signatures',
      ),
  );
  deprecate(copy, 'sig-only', 'use --only=sig instead');
  copy.action(
    async (
      src: string,
      dst: string,
      flags: RegistryFlags & {
        force?: boolean;
        only?: string[];
        sigOnly?: boolean;
        platform?: string;
      },
    ) => {
      const only = [...(flags.only ?? []), ...(flags.sigOnly ? ['sig'] : [])].map((k) => {
        if (k !== 'sig' && k !== 'att' && k !== 'sbom')
          throw invalid('--only', `"${k}" is not sig, att or sbom`);
        return k;
      });
      const oci = await import('../../client/oci/index.ts');
      await oci.copyImage(src, dst, registryOptions(flags), {
        onEvent: (m) => process.stderr.write(`${m}\n`),
        ...(flags.force ? { force: true } : {}),
        ...(only.length > 0 ? { only } : {}),
        ...(flags.platform !== undefined ? { platform: await platformFlag(flags.platform) } : {}),
      });
    },
  );

  withRegistry(
    program
      .command('clean')
      .description('remove the signatures, attestations and SBOMs attached to an image')
      .argument('<image>')
      .option('--type <type>', 'all, signature, attestation or sbom', 'all')
      .option('-f, --force', 'remove without asking first'),
  ).action(async (image: string, flags: RegistryFlags & { type: string; force?: boolean }) => {
    if (!['all', 'signature', 'attestation', 'sbom'].includes(flags.type))
      throw invalid('--type', `"${flags.type}" is not all, signature, attestation or sbom`);
    if (flags.force !== true) {
      // As cosign clean asks (its prompt for each --type).
      const what = {
        all: 'signatures, attestations and SBOMs',
        signature: 'signatures',
        attestation: 'attestations',
        sbom: 'SBOMs',
      }[flags.type as 'all' | 'signature' | 'attestation' | 'sbom'];
      const { confirmContinue } = await import('../confirm.ts');
      confirmContinue(`this will remove all ${what} from ${image}`, '--force');
    }
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

  withRegistry(
    program
      .command('save')
      .description(
        'save an image and everything attached to it to an OCI image layout folder (as cosign save)',
      )
      .argument('<image>')
      .option('--dir <folder>', 'the folder to write (new, or empty)'),
  ).action(async (image: string, flags: RegistryFlags & { dir?: string }) => {
    if (flags.dir === undefined) throw invalid('--dir', 'is required: the folder to save into');
    const oci = await import('../../client/oci/index.ts');
    await oci.saveImage(image, flags.dir, registryOptions(flags), {
      onEvent: (m) => process.stderr.write(`${m}\n`),
    });
  });

  withRegistry(
    program
      .command('load')
      .description(
        'push an image saved with save (or cosign save), and what is attached to it, to a registry',
      )
      .argument('<image>', 'where to: registry/repository[:tag]')
      .option('--dir <folder>', 'the OCI image layout folder to read'),
  ).action(async (image: string, flags: RegistryFlags & { dir?: string }) => {
    if (flags.dir === undefined) throw invalid('--dir', 'is required: the folder to load from');
    const oci = await import('../../client/oci/index.ts');
    await oci.loadImage(flags.dir, image, registryOptions(flags), {
      onEvent: (m) => process.stderr.write(`${m}\n`),
    });
  });

  withRegistry(
    program
      .command('generate')
      .description(
        'print the payload a signature of an image signs (simple signing, as cosign generate): sign it with any tool, then attach signature --payload --signature',
      )
      .argument('<image>')
      .option(
        '-a, --annotations <key=value>',
        'annotation to sign with the image (repeatable)',
        collectAnnotation,
      ),
  ).action(async (image: string, flags: RegistryFlags & { annotations?: string[] }) => {
    const annotations = parseAnnotations(flags.annotations);
    const { imagePayload } = await import('../../client/oci/attach.ts');
    process.stdout.write(
      await imagePayload(image, {
        registry: registryOptions(flags),
        ...(annotations ? { annotations } : {}),
      }),
    );
  });

  const attach = program
    .command('attach')
    .description('put a signature or attestation made elsewhere on an image (as cosign attach)');
  withRegistry(
    attach
      .command('signature')
      .description(
        'attach a Sigstore bundle (from `signet sign --upload=false --bundle FILE`) as a referrer, or a signature made elsewhere over the payload `signet generate` prints (--signature) to the .sig tag',
      )
      .argument('<image>')
      .option('--bundle <file>', 'the Sigstore bundle (DSSE, its statement about the image)')
      .option(
        '--payload <file>',
        'with --signature: the signed simple-signing payload (default: the one `signet generate` prints); else the same as --bundle',
      )
      .option('--signature <file>', 'a signature over the payload, base64 (- reads stdin)')
      .option('--certificate <file>', 'with --signature: the signing certificate (PEM)')
      .option(
        '--certificate-chain <file>',
        'with --certificate: its CA certificates (PEM), issuer first',
      )
      .option('--tsr <file>', 'with --signature: an RFC 3161 timestamp response (DER) over it')
      .option(
        '--rekor-response <file>',
        "with --signature: its Rekor v1 entry (a Sigstore bundle, or cosign's --bundle JSON)",
      ),
  ).action(
    async (
      image: string,
      flags: RegistryFlags & {
        bundle?: string;
        payload?: string;
        signature?: string;
        certificate?: string;
        certificateChain?: string;
        tsr?: string;
        rekorResponse?: string;
      },
    ) => {
      if (flags.signature !== undefined) {
        if (flags.bundle !== undefined)
          throw invalid(
            '--bundle',
            'a bundle carries its own signature: give --bundle alone, or --payload with --signature',
          );
        const { readNamedFile: read, readStdin } = await import('../../client/sign/setup.ts');
        const signature =
          flags.signature === '-'
            ? { name: '(stdin)', bytes: readStdin('--signature') }
            : read(flags.signature, '--signature')!;
        const parts = {
          signature,
          payload: read(flags.payload, '--payload'),
          certificate: read(flags.certificate, '--certificate'),
          chain: read(flags.certificateChain, '--certificate-chain'),
          timestamp: read(flags.tsr, '--tsr'),
          rekorResponse: read(flags.rekorResponse, '--rekor-response'),
        };
        const { attachDetachedSignature } = await import('../../client/oci/attach.ts');
        const tag = await attachDetachedSignature(image, parts, {
          registry: registryOptions(flags),
        });
        process.stderr.write(`attached ${signature.name} to ${image}: ${tag}\n`);
        return;
      }
      const detached: Array<[string, string | undefined]> = [
        ['--certificate', flags.certificate],
        ['--certificate-chain', flags.certificateChain],
        ['--tsr', flags.tsr],
        ['--rekor-response', flags.rekorResponse],
      ];
      for (const [flag, v] of detached)
        if (v !== undefined)
          throw invalid(
            flag,
            'goes with --signature (a signature made elsewhere); a bundle carries its own',
          );
      if (flags.bundle !== undefined && flags.payload !== undefined)
        throw invalid('--payload', 'give the bundle once, with --bundle or --payload');
      const file = flags.bundle ?? flags.payload;
      if (file === undefined)
        throw invalid('--bundle', 'is required: the Sigstore bundle to attach (or --signature)');
      await attachFiles(image, 'signature', [file], flags, flags.bundle ? '--bundle' : '--payload');
    },
  );
  withRegistry(
    attach
      .command('attestation')
      .description(
        'attach attestations: Sigstore bundles as referrers, DSSE envelopes (JSON or JSON Lines) on the .att tag',
      )
      .argument('<image>')
      .option(
        '--attestation <file>',
        'a Sigstore bundle or signed DSSE envelopes about the image (repeatable)',
        (v: string, all: string[] = []) => [...all, v],
      ),
  ).action(async (image: string, flags: RegistryFlags & { attestation?: string[] }) => {
    if (!flags.attestation?.length)
      throw invalid('--attestation', 'is required: the attestation file to attach');
    await attachFiles(image, 'attestation', flags.attestation, flags);
  });
}

/** Read every file first (a typo fails before anything is pushed), then attach them. */
async function attachFiles(
  image: string,
  kind: 'signature' | 'attestation',
  files: string[],
  flags: RegistryFlags,
  field: string = kind === 'signature' ? '--bundle' : '--attestation',
): Promise<void> {
  const { readFileBytes } = await import('../../client/sign/setup.ts');
  const read = files.map((name) => ({ name, bytes: readFileBytes(name, field) }));
  const { attachToImage } = await import('../../client/oci/attach.ts');
  for (const a of await attachToImage(image, kind, read, {
    registry: registryOptions(flags),
    field,
  }))
    process.stderr.write(`attached ${a.file} to ${image}: ${a.stored.join(', ')}\n`);
}
