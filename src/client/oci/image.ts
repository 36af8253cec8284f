/**
 * Images by reference: resolve a tag to its digest, read the manifest (or index), and say what
 * went wrong in one line that names the image.
 */
import { invalid, SignetError } from '../../core/errors.ts';
import type { Digest } from '../../core/oci/digest.ts';
import { parseManifest, type Descriptor, type Manifest } from '../../core/oci/manifest.ts';
import { manifestForPlatform, type Platform } from '../../core/oci/platform.ts';
import {
  formatReference,
  parseReference,
  withDigest,
  type ImageReference,
} from '../../core/oci/reference.ts';
import { Repository, type RegistryOptions } from './registry.ts';
import type { ImageSource } from './source.ts';

export interface ResolvedImage {
  /** The reference as given. */
  given: ImageReference;
  /** Pinned to the digest. */
  ref: ImageReference;
  digest: Digest;
  manifest: Manifest;
  /** The descriptor a referrer's `subject` names. */
  descriptor: Descriptor;
}

/** An image known by its digest: what verification needs of it (ResolvedImage has the rest). */
export type PinnedImage = Pick<ResolvedImage, 'given' | 'ref' | 'digest'>;

/**
 * Prefix a failure with the image it is about (once), as its field, so a caller that names the
 * image already can take the reason alone (reasonOf).
 */
export function aboutImage(image: string, e: unknown): unknown {
  if (!(e instanceof SignetError) || e.message.includes(image)) return e;
  return new SignetError(e.kind, e.code, e.message, {
    field: image,
    cause: e,
    ...(e.details ? { details: e.details } : {}),
  });
}

export function repositoryOf(ref: ImageReference, opts: RegistryOptions = {}): Repository {
  return new Repository(ref.registry, ref.repository, opts);
}

/**
 * Where the signatures and attestations of `ref` are kept: its own repository, or the one
 * COSIGN_REPOSITORY names (cosign's target repository: signing images one cannot push to).
 */
export function attachmentsOf(ref: ImageReference, opts: RegistryOptions = {}): Repository {
  const t = opts.signatureRepository;
  return t ? new Repository(t.registry, t.repository, opts) : repositoryOf(ref, opts);
}

/** Resolve `image` (text or parsed) in `source` (default: its registry). */
export async function resolveImage(
  image: string | ImageReference,
  opts: { registry?: RegistryOptions; source?: ImageSource } = {},
): Promise<ResolvedImage> {
  const given = typeof image === 'string' ? parseReference(image) : image;
  const text = typeof image === 'string' ? image : formatReference(image);
  const source = opts.source ?? repositoryOf(given, opts.registry);
  try {
    const reference = given.digest?.text ?? given.tag!;
    const m = await source.getManifest(reference, text);
    if (!m)
      throw new SignetError(
        'not-found',
        'IMAGE_NOT_FOUND',
        given.digest
          ? `no such image: ${source.name} has no manifest ${given.digest.text}`
          : `no such image: ${source.name} has no tag ${given.tag}`,
      );
    const manifest = parseManifest(m.bytes, m.mediaType, text);
    return {
      given,
      ref: withDigest(given, m.digest),
      digest: m.digest,
      manifest,
      descriptor: { mediaType: manifest.mediaType, digest: m.digest, size: m.bytes.length },
    };
  } catch (e) {
    throw aboutImage(text, e);
  }
}

/**
 * `image` resolved where it is (`named`), and the image to act on: with `platform` (cosign's
 * --platform, its SignedEntityForPlatform) the index's image for that platform, resolved by
 * digest; else `named` itself. One path for signing, attesting, verifying, deciding and the
 * plumbing commands.
 */
export async function resolvePlatform(
  image: string | ImageReference,
  platform: Platform | undefined,
  where: { registry?: RegistryOptions; source?: ImageSource },
): Promise<{ named: ResolvedImage; image: ResolvedImage }> {
  const named = await resolveImage(image, where);
  if (!platform) return { named, image: named };
  try {
    if (named.manifest.kind !== 'index')
      throw invalid(
        '--platform',
        'it is one image, not a multi-platform index: leave --platform out',
      );
    const child = manifestForPlatform(
      named.manifest.manifests,
      platform,
      '--platform',
      'the index',
    );
    return { named, image: await resolveImage(withDigest(named.ref, child.digest), where) };
  } catch (e) {
    // named once, as the caller that names images expects
    throw aboutImage(typeof image === 'string' ? image : formatReference(image), e);
  }
}

/** The image and, for an index, every manifest it lists (`-r`), each resolved by digest. */
export async function resolveRecursive(
  image: ResolvedImage,
  source: ImageSource,
): Promise<ResolvedImage[]> {
  const out = [image];
  if (image.manifest.kind !== 'index') return out;
  for (const d of image.manifest.manifests) {
    const child = await resolveImage(withDigest(image.ref, d.digest), { source });
    out.push(...(await resolveRecursive(child, source)));
    if (out.length > MAX_RECURSIVE)
      throw new SignetError(
        'too-large',
        'INDEX_TOO_LARGE',
        `${formatReference(image.ref)}: the index names more than ${MAX_RECURSIVE} manifests; sign them one by one`,
      );
  }
  return out;
}

/** Manifests `-r` signs at most (a multi-platform index has a handful). */
export const MAX_RECURSIVE = 256;
