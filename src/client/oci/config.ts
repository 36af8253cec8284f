/**
 * An image's config files (OCI image-spec config.md: os, architecture, the runtime config), by
 * platform, as policy-controller gives them to a policy with `fetchConfigFile: true`: keyed
 * `os/architecture[/variant]`, one per platform of an index (attestation manifests, whose
 * platform is unknown/unknown, are not images), or the one of a single-platform image. An index
 * with two images for one platform, as containerd normalises platforms (platformKey:
 * linux/arm64/v8 is linux/arm64), is refused, as `verify --platform` refuses it: which of them a
 * node runs is the runtime's choice (containerd: the first), and a policy must not judge the
 * other.
 */
import { invalid, SignetError } from '../../core/errors.ts';
import type { Digest } from '../../core/oci/digest.ts';
import { formatPlatform, platformKey } from '../../core/oci/platform.ts';
import { MAX_MANIFEST_BYTES, parseManifest, type ImageManifest } from '../../core/oci/manifest.ts';
import { parseJsonText } from '../../core/json.ts';
import type { ImageSource } from './source.ts';

/** Platforms of one index read at the most. */
export const MAX_CONFIG_PLATFORMS = 64;

async function manifestAt(source: ImageSource, digest: string, what: string) {
  const m = await source.getManifest(digest, what);
  if (!m) throw new SignetError('not-found', 'NOT_FOUND', `${what}: the registry has no ${digest}`);
  return parseManifest(m.bytes, m.mediaType, what);
}

async function configOf(
  source: ImageSource,
  m: ImageManifest,
  what: string,
): Promise<Record<string, unknown>> {
  const bytes = await source.getBlob(m.config.digest, `${what} config`, MAX_MANIFEST_BYTES);
  const config = parseJsonText(bytes, `${what} config`);
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw invalid(`${what} config`, 'is not a JSON object');
  return config as Record<string, unknown>;
}

/** The config files of the image `digest` in `source`, by platform. */
export async function imageConfigs(
  source: ImageSource,
  digest: Digest,
  what: string,
): Promise<Record<string, unknown>> {
  const top = await manifestAt(source, digest.text, what);
  const out: Record<string, unknown> = {};
  if (top.kind === 'manifest') {
    const config = await configOf(source, top, what);
    const { os, architecture, variant } = config;
    if (typeof os !== 'string' || typeof architecture !== 'string')
      throw invalid(`${what} config`, 'names no os and architecture');
    out[formatPlatform({ os, architecture, ...(typeof variant === 'string' ? { variant } : {}) })] =
      config;
    return out;
  }
  const images = top.manifests.filter(
    (d) => d.platform && !(d.platform.os === 'unknown' && d.platform.architecture === 'unknown'),
  );
  const considered = images.slice(0, MAX_CONFIG_PLATFORMS);
  const count = new Map<string, number>();
  for (const d of considered) {
    const key = platformKey(d.platform!);
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  for (const [key, n] of count)
    if (n > 1)
      throw new SignetError(
        'verification',
        'AMBIGUOUS_PLATFORM',
        `${what}: the index has ${n} images for ${key}: which of them runs there is ambiguous (verify --platform refuses it too)`,
      );
  for (const d of considered) {
    // Keyed as the index names the platform (policy-controller: go-containerregistry's
    // Platform.String()), so a policy written for it reads the same keys; only the check
    // above for two images of one platform reads platforms as containerd normalises them.
    const key = formatPlatform(d.platform!);
    const child = await manifestAt(source, d.digest.text, `${what} (${key})`);
    if (child.kind !== 'manifest') continue;
    out[key] = await configOf(source, child, `${what} (${key})`);
  }
  return out;
}
