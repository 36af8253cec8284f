import type { Command } from 'commander';
import type { ResolvedImage } from '../../client/oci/image.ts';
import { invalid } from '../../core/errors.ts';
import {
  addSigningFlags,
  checkBundleTarget,
  signingOptions,
  writeBundleOutput,
  type SigningFlags,
} from './sign-blob.ts';
import {
  addRegistryFlags,
  collectAnnotation,
  parseAnnotations,
  parseBool,
  registryOptions,
  type RegistryFlags,
} from '../registry-flags.ts';

export interface ImageSigningFlags extends SigningFlags, RegistryFlags {
  upload: string;
  registryReferrersMode: string;
}

export function addImageWriteFlags(cmd: Command): Command {
  return addRegistryFlags(addSigningFlags(cmd))
    .option('--upload <bool>', 'push the signature to the registry (true|false)', 'true')
    .option(
      '--registry-referrers-mode <mode>',
      'where to store it: oci-1-1 (a referrer holding a bundle, cosign v3) or legacy (the .sig/.att tag)',
      'oci-1-1',
    );
}

export function writeMode(f: ImageSigningFlags): 'oci-1-1' | 'legacy' {
  if (f.registryReferrersMode !== 'oci-1-1' && f.registryReferrersMode !== 'legacy')
    throw invalid(
      '--registry-referrers-mode',
      `"${f.registryReferrersMode}" is not legacy or oci-1-1`,
    );
  return f.registryReferrersMode;
}

/** cosign's warning for a tag, in one line. */
export function warnTag(
  image: string,
  resolved: {
    given: { digest?: unknown; tag?: string | undefined };
    ref: { registry: string; repository: string };
    digest: { text: string };
  },
): void {
  if (resolved.given.digest === undefined)
    process.stderr.write(
      `WARNING: Image reference ${image} uses a tag, not a digest, to identify the image to sign; signing ${resolved.ref.registry}/${resolved.ref.repository}@${resolved.digest.text}, which the tag names now. Use the digest to be sure you sign what you meant to.\n`,
    );
}

/** registry/repository@digest: what one signature is for. */
function nameOf(r: ResolvedImage): string {
  return `${r.ref.registry}/${r.ref.repository}@${r.digest.text}`;
}

export function registerSign(program: Command): void {
  addImageWriteFlags(
    program
      .command('sign')
      .description('sign a container image in its registry (keyless or --key), as cosign sign does')
      .argument(
        '<images...>',
        'the image: registry/repository@sha256:... (or :tag, resolved to its digest); several are signed with one certificate',
      )
      .option(
        '-a, --annotations <key=value>',
        'annotation to sign with the image (repeatable)',
        collectAnnotation,
      )
      .option(
        '-r, --recursive',
        'for a multi-platform index: sign the index and every image in it',
      ),
  ).action(
    async (
      images: string[],
      flags: ImageSigningFlags & { annotations?: string[]; recursive?: boolean },
    ) => {
      const upload = parseBool(flags.upload, '--upload');
      const mode = writeMode(flags);
      const annotations = parseAnnotations(flags.annotations);
      if (images.length > 1 && flags.bundle !== undefined)
        throw invalid(
          '--bundle',
          `names one image's bundle; with ${images.length} images the signatures go to the registry`,
        );
      if (!upload && flags.bundle === undefined)
        throw invalid('--upload', 'false needs --bundle FILE: the signature has to go somewhere');
      const registry = registryOptions(flags);
      await checkBundleTarget(flags.bundle);
      const oci = await import('../../client/oci/index.ts');
      const { serializeBundle } = await import('../../bundle/bundle.ts');
      // Every image is resolved (and a tag warned about) before anything is signed or logged.
      // An image named twice (by tag and by digest, say) is signed once.
      const all = new Map<string, ResolvedImage>();
      let first: ResolvedImage | undefined;
      for (const image of images) {
        const resolved = await oci.resolveImage(image, { registry });
        warnTag(image, resolved);
        first ??= resolved;
        const list = flags.recursive
          ? await oci.resolveRecursive(resolved, oci.repositoryOf(resolved.ref, registry))
          : [resolved];
        for (const r of list) if (!all.has(nameOf(r))) all.set(nameOf(r), r);
      }
      const { setupSigning } = await import('../../client/sign/index.ts');
      const ctx = await setupSigning(await signingOptions(flags));
      const signed = await oci.signResolved([...all.values()], ctx, {
        mode,
        upload,
        registry,
        ...(annotations ? { annotations } : {}),
        // Written before the push, so a failed push still leaves the bundle (the log has it).
        onSigned: async (img, bundle) => {
          if (flags.bundle !== undefined && img === first)
            await writeBundleOutput(serializeBundle(bundle), flags.bundle);
        },
      });
      for (const s of signed)
        if (s.stored)
          process.stderr.write(
            `Pushing signature to: ${s.image.ref.registry}/${s.image.ref.repository} (${mode === 'legacy' ? `tag ${s.stored}` : `referrer ${s.stored}`}) for ${s.image.digest.text}\n`,
          );
    },
  );
}
