/**
 * Platforms of a multi-platform index (image-spec image-index.md `platform`): cosign's
 * `--platform os/arch[/variant]`, parsed once and matched against an index's entries.
 */
import { invalid } from '../errors.ts';
import type { Descriptor } from './manifest.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** `linux/amd64`, `linux/arm64/v8`: the flag's text as a platform, or an error naming `field`. */
export function parsePlatform(text: string, field: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p)))
    throw invalid(field, `"${text}" is not os/architecture[/variant] (e.g. linux/amd64)`);
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/**
 * The variant a platform means when it names none (containerd's platforms.Normalize, which
 * Docker and buildx follow): linux/arm64 is linux/arm64/v8, linux/arm is linux/arm/v7.
 */
const DEFAULT_VARIANT: Readonly<Record<string, string>> = { arm64: 'v8', arm: 'v7' };
function variantOf(p: Platform): string | undefined {
  return (
    p.variant ??
    (Object.hasOwn(DEFAULT_VARIANT, p.architecture) ? DEFAULT_VARIANT[p.architecture] : undefined)
  );
}

/**
 * A platform as one text, normalised as containerd's platforms.Normalize does for the variants
 * it defaults: linux/arm64/v8 is linux/arm64, linux/arm is linux/arm/v7. Two index entries with
 * the same key are images for the same platform (policy config keys, config.ts).
 */
export function platformKey(p: Platform): string {
  const v = variantOf(p);
  return formatPlatform({
    os: p.os,
    architecture: p.architecture,
    ...(v !== undefined && !(p.architecture === 'arm64' && v === 'v8') ? { variant: v } : {}),
  });
}

/**
 * The entry of `manifests` for `want`: os and architecture equal, and the variant when `want`
 * names one. Exactly one must match; none or several is an error that lists what is there.
 */
export function manifestForPlatform(
  manifests: readonly Descriptor[],
  want: Platform,
  field: string,
  what: string,
): Descriptor {
  const matching = manifests.filter(
    (m) =>
      m.platform !== undefined &&
      m.platform.os === want.os &&
      m.platform.architecture === want.architecture &&
      (want.variant === undefined || platformKey(m.platform) === platformKey(want)),
  );
  if (matching.length === 1) return matching[0]!;
  const there = manifests
    .flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : []))
    .join(', ');
  throw invalid(
    field,
    matching.length === 0
      ? `${what} has no image for ${formatPlatform(want)} (it has ${there || 'no platforms'})`
      : `${what} has ${matching.length} images for ${formatPlatform(want)}: name the variant too (it has ${there})`,
  );
}
