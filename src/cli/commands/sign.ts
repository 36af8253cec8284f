import type { Command } from 'commander';
import type { ResolvedImage } from '../../client/oci/image.ts';
import type { ImageSignOptions } from '../../client/oci/sign.ts';
import { invalid } from '../../core/errors.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { Signer } from '../../client/sign/signer.ts';
import type { Artifact } from '../../client/verify/verifier.ts';
import { fromHex } from '../../core/encoding/hex.ts';
import {
  addSigningFlags,
  bundleChecker,
  checkBundleTarget,
  signingOptions,
  writeBundleOutput,
  writeDetachedOutputs,
  checkDetachedTargets,
  writeOutputFile,
  type SigningFlags,
} from './sign-blob.ts';
import {
  addRegistryFlags,
  collectAnnotation,
  parseAnnotations,
  parseBool,
  platformFlag,
  registryOptions,
  type RegistryFlags,
} from '../registry-flags.ts';
import { addBool, deprecate } from '../options.ts';

/**
 * What a new image signature is checked against, as verify takes it: the payload a legacy
 * `.sig` layer signs, else (an envelope, whose statement names it) the image's digest.
 */
export function imageArtifact(image: ResolvedImage, bundle: Bundle, payload: Uint8Array): Artifact {
  return bundle.content.$case === 'dsseEnvelope'
    ? {
        kind: 'digest',
        algorithm: image.digest.algorithm,
        digest: fromHex(image.digest.hex, 'digest'),
      }
    : { kind: 'bytes', data: payload };
}

export interface ImageSigningFlags extends SigningFlags, RegistryFlags {
  /** `--upload <bool>`; false also from attest's `--no-upload`. */
  upload: string | boolean;
  registryReferrersMode: string;
  recordCreationTimestamp: boolean;
  platform?: string;
}

export function addImageWriteFlags(cmd: Command): Command {
  addRegistryFlags(addSigningFlags(cmd))
    .option('--upload <bool>', 'push the signature to the registry (true|false)', 'true')
    .option(
      '--registry-referrers-mode <mode>',
      'where to store it: oci-1-1 (a referrer holding a bundle, cosign v3) or legacy (the .sig/.att tag)',
      'oci-1-1',
    )
    .option(
      '--platform <os/arch[/variant]>',
      'of a multi-platform index: the image for this platform, not the index',
    );
  addBool(
    cmd,
    'record-creation-timestamp',
    'legacy: record the time as the .sig/.att image creation (a referrer always carries it)',
  );
  return deprecate(cmd, 'record-creation-timestamp', 'not used with the new bundle format');
}

/** `--upload` (or attest's `--no-upload`) as a boolean. */
export function uploadFlag(f: ImageSigningFlags): boolean {
  return typeof f.upload === 'boolean' ? f.upload : parseBool(f.upload, '--upload');
}

export function writeMode(f: ImageSigningFlags): 'oci-1-1' | 'legacy' {
  if (f.registryReferrersMode !== 'oci-1-1' && f.registryReferrersMode !== 'legacy')
    throw invalid(
      '--registry-referrers-mode',
      `"${f.registryReferrersMode}" is not legacy or oci-1-1`,
    );
  return f.registryReferrersMode;
}

/**
 * --bundle and cosign's detached outputs (--output-signature, --output-certificate,
 * --rfc3161-timestamp, --output-payload) name one signature's files: refused when a run makes
 * `count` of them, with `why`.
 */
export function refuseOutputsForMany(
  flags: ImageSigningFlags & { outputPayload?: string },
  count: number,
  why: string,
): void {
  if (count <= 1) return;
  const outputs: Array<[string, string | undefined]> = [
    ['--bundle', flags.bundle],
    ['--output-payload', flags.outputPayload],
    ['--output-signature', flags.outputSignature],
    ['--output', flags.output],
    ['--output-certificate', flags.outputCertificate],
    ['--rfc3161-timestamp', flags.rfc3161Timestamp],
  ];
  for (const [flag, v] of outputs)
    if (v !== undefined) throw invalid(flag, `writes one file; ${why}`);
}

/** What the flags ask to keep of a new signature of an image, before it is pushed. */
export async function writeImageOutputs(
  bundle: Bundle,
  payload: Uint8Array,
  flags: ImageSigningFlags & { outputPayload?: string },
): Promise<void> {
  if (flags.bundle !== undefined) {
    const { serializeBundle } = await import('../../bundle/bundle.ts');
    await writeBundleOutput(serializeBundle(bundle), flags.bundle);
  }
  await writeDetachedOutputs(bundle, flags);
  if (flags.outputPayload !== undefined)
    writeOutputFile(flags.outputPayload, '--output-payload', 'payload', payload);
}

/** cosign's warning for a tag, in one line. */
function warnTag(
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

/**
 * What a signature or attestation of `image` is about: the image, resolved to its digest (a
 * tag warned about), or with --platform the index's image for `platform`.
 */
export async function imageToWrite(
  image: string,
  platform: import('../../core/oci/platform.ts').Platform | undefined,
  registry: import('../../client/oci/registry.ts').RegistryOptions,
): Promise<ResolvedImage> {
  const { resolvePlatform } = await import('../../client/oci/image.ts');
  const { named, image: r } = await resolvePlatform(image, platform, { registry });
  warnTag(image, { ...r, given: named.given });
  return r;
}

/** registry/repository@digest: what one signature is for. */
function nameOf(r: ResolvedImage): string {
  return `${r.ref.registry}/${r.ref.repository}@${r.digest.text}`;
}

export function registerSign(program: Command): void {
  const sign = addImageWriteFlags(
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
      .option('-r, --recursive', 'for a multi-platform index: sign the index and every image in it')
      .option(
        '--sign-container-identity <names>',
        'legacy: the docker-reference the payload claims (the name a mirror serves the image under; comma-separated or repeatable: one signature each)',
        (v: string, all: string[] = []) => [...all, ...v.split(',')],
      )
      .option(
        '--payload <file>',
        'legacy: sign this simple-signing payload (from `signet generate`)',
      )
      .option('--output-payload <file>', 'also write the signed payload to this file')
      .option('--attachment <type>', 'refused: attachments (SBOMs) are not signed in place'),
  );
  // cosign's messages (options/sign.go)
  deprecate(
    sign,
    'sign-container-identity',
    'not possible when OCI referrers become the default behavior',
  );
  deprecate(sign, 'payload', 'payload will always be generated automatically in future versions');
  deprecate(
    sign,
    'output-payload',
    'please use --bundle to provide the output bundle location, which will include the payload',
  );
  deprecate(
    sign,
    'attachment',
    'please use OCI referrers for attachments; see `cosign attach sbom --registry-referrers-mode=oci-1-1 --help`',
  );
  sign.action(
    async (
      images: string[],
      flags: ImageSigningFlags & {
        annotations?: string[];
        recursive?: boolean;
        signContainerIdentity?: string[];
        payload?: string;
        outputPayload?: string;
        attachment?: string;
      },
    ) => {
      if (flags.attachment !== undefined)
        throw invalid(
          '--attachment',
          'signing an attached SBOM is not supported (cosign deprecated it): attest the SBOM to the image with `attest --type spdxjson|cyclonedx --predicate FILE`',
        );
      const upload = uploadFlag(flags);
      const mode = writeMode(flags);
      const identities = flags.signContainerIdentity?.map((id) => {
        if (id.trim() === '') throw invalid('--sign-container-identity', 'names an empty identity');
        return id.trim();
      });
      if ((identities?.length ?? 0) > 1)
        refuseOutputsForMany(
          flags,
          identities!.length,
          `with ${identities!.length} container identities there is a signature for each`,
        );
      let payload: Uint8Array | undefined;
      if (flags.payload !== undefined) {
        if (images.length > 1 || flags.recursive)
          throw invalid(
            '--payload',
            `is about one image; ${flags.recursive ? '-r signs every image of the index' : `${images.length} were given`}`,
          );
        const { readFileBytes } = await import('../../client/sign/setup.ts');
        payload = readFileBytes(flags.payload, '--payload');
      }
      if (flags.platform !== undefined && flags.recursive)
        throw invalid(
          '--platform',
          'signs the image of one platform; -r signs the index and every image in it: give one of them',
        );
      const platform =
        flags.platform === undefined ? undefined : await platformFlag(flags.platform);
      const annotations = parseAnnotations(flags.annotations);
      refuseOutputsForMany(
        flags,
        images.length,
        `with ${images.length} images the signatures go to the registry`,
      );
      if (!upload && flags.bundle === undefined)
        throw invalid('--upload', 'false needs --bundle FILE: the signature has to go somewhere');
      const registry = registryOptions(flags);
      await checkBundleTarget(flags.bundle);
      checkDetachedTargets(flags);
      const oci = await import('../../client/oci/index.ts');
      // --trusted-root: the certificate, then each new signature before it is pushed or written.
      const check = await bundleChecker(flags.trustedRoot, 'pushed');
      /** The signer, once it has its certificate (the check needs its key). */
      const signing: { signer?: Signer } = {};
      /** The first image named: the one --bundle and the other output files are of. */
      let first: ResolvedImage | undefined;
      const signOptions: ImageSignOptions = {
        mode,
        upload,
        registry,
        recordCreationTimestamp: flags.recordCreationTimestamp,
        ...(annotations ? { annotations } : {}),
        ...(identities ? { containerIdentities: identities } : {}),
        ...(payload ? { payload } : {}),
        // Written before the push, so a failed push still leaves the bundle (the log has it).
        onSigned: async (img, bundle, signedPayload) => {
          await check.bundle(bundle, imageArtifact(img, bundle, signedPayload), signing.signer!);
          if (img === first) await writeImageOutputs(bundle, signedPayload, flags);
        },
      };
      oci.checkSignOptions(signOptions);
      // Every image is resolved (and a tag warned about) before anything is signed or logged.
      // An image named twice (by tag and by digest, say) is signed once.
      const all = new Map<string, ResolvedImage>();
      for (const image of images) {
        const resolved = await imageToWrite(image, platform, registry);
        first ??= resolved;
        const list = flags.recursive
          ? await oci.resolveRecursive(resolved, oci.repositoryOf(resolved.ref, registry))
          : [resolved];
        for (const r of list) if (!all.has(nameOf(r))) all.set(nameOf(r), r);
      }
      const { setupSigning } = await import('../../client/sign/index.ts');
      const { stdinFree } = await import('../../client/many-files.ts');
      const ctx = await setupSigning({
        ...(await signingOptions(flags)),
        passphraseFromStdin: stdinFree(flags.payload),
        checkServices: (services) => oci.checkReferrersMode(mode, services),
      });
      signing.signer = ctx.signer;
      await check.certificate(ctx.signer);
      const signed = await oci.signResolved([...all.values()], ctx, signOptions);
      for (const s of signed)
        if (s.stored)
          process.stderr.write(
            `Pushing signature to: ${oci.attachmentsOf(s.image.ref, registry).name} (${mode === 'legacy' ? `tag ${s.stored}` : `referrer ${s.stored}`}) for ${s.image.digest.text}\n`,
          );
    },
  );
}
