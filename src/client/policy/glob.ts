/**
 * Which artifacts a policy covers: image globs with policy-controller's rules
 * (pkg/apis/glob/glob.go), and the Signet extensions for files (path or name globs) and git
 * commits (repository and ref globs). Pure.
 *
 * Image globs, exactly as policy-controller: the glob must match `^[a-zA-Z0-9-_:/*.@]+$`; `*`
 * alone means `index.docker.io/library/*` and `*` + `/` + `*` means `index.docker.io/*` + `/*`; `.` is
 * literal, `*` is any run of characters but `/`, `**` any run including `/`, and the glob must
 * match the whole reference. The reference is the fully qualified name (registry, repository,
 * `:tag` with `latest` by default, or `@digest`), so `:` is not a separator: `repo:**` accepts
 * any tag and `repo@**` any digest. As policy-controller (deprecated there, kept for policies that rely on
 * it), a glob that misses the qualified name is tried against the reference as written.
 */
import { invalid } from '../../core/errors.ts';
import {
  DOCKER_HUB,
  parseReference,
  type ImageReference as OciReference,
} from '../../core/oci/reference.ts';

export interface Glob {
  /** The glob as written. */
  source: string;
  regexp: RegExp;
}

const VALID_IMAGE_GLOB = /^[a-zA-Z0-9\-_:/*.@]+$/;

function translate(glob: string): RegExp {
  // policy-controller's order of replacements: `.` → `\.`, `**` → placeholder, `*` → `[^/]*`,
  // placeholder → `.*`. Other regexp metacharacters never reach here (validated first).
  const body = glob
    .split('**')
    .map((part) =>
      part
        .replace(/[\\^$+?()[\]{}|.]/g, (c) => `\\${c}`)
        .split('*')
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${body}$`, 'su');
}

/** An image glob; errors name `field`. */
export function compileImageGlob(glob: string, field: string): Glob {
  let g = glob;
  if (g === '*/*') g = 'index.docker.io/*/*';
  if (g === '*') g = 'index.docker.io/library/*';
  if (g === '') throw invalid(field, 'is empty; give an image glob such as "ghcr.io/org/**"');
  if (!VALID_IMAGE_GLOB.test(g))
    throw invalid(
      field,
      `"${glob}" is not a valid image glob: only letters, digits and - _ : / * . @ are allowed (a glob is not a regular expression)`,
    );
  return { source: glob, regexp: translate(g) };
}

/**
 * A glob over text with `*` (no `/`) and `**` (anything), every other character literal: file
 * paths, artifact names, git repositories and refs. Control characters are refused.
 */
export function compilePathGlob(glob: string, field: string): Glob {
  if (glob === '') throw invalid(field, 'is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(glob))
    throw invalid(field, `"${JSON.stringify(glob)}" contains control characters`);
  if (/\*{3,}/.test(glob)) throw invalid(field, `"${glob}" has "***"; use "*" or "**"`);
  return { source: glob, regexp: translate(glob) };
}

export function globMatches(g: Glob, value: string): boolean {
  return g.regexp.test(value);
}

/** An image reference, qualified as go-containerregistry's `name.ParseReference` names it. */
export interface ImageReference {
  /** As written. */
  original: string;
  /** e.g. `index.docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  /** e.g. `library/ubuntu`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
  /** `registry/repository:tag` or `registry/repository@digest` (ggcr's `Name()`). */
  name: string;
  /** The reference as the registry client reads it (core/oci). */
  oci: OciReference;
}

/**
 * Parses an image reference (core/oci's grammar: Docker Hub and `library/` implied, `latest` by
 * default) and names it as policy-controller's globs see it: ggcr calls Docker Hub
 * `index.docker.io`, and a reference with a digest is named by the digest alone. The registry
 * host is named in lower case and without HTTPS's default port: `REGISTRY.example:443/app` pulls
 * what `registry.example/app` does, and must not slip past a glob written the usual way (with
 * `--no-match-policy allow` or `warn` it would pass unchecked). The port is read as the number
 * it is (Go's net/url and the registry client read `:0443` as 443 and `:02600` as 2600): written
 * without leading zeros, and left out when 443.
 */
export function parseImageReference(image: string, field: string): ImageReference {
  const oci = parseReference(image, field);
  const host = canonicalHost(oci.registry, field);
  const registry = oci.registry === DOCKER_HUB ? 'index.docker.io' : host;
  const base = `${registry}/${oci.repository}`;
  const digest = oci.digest?.text;
  const tag = digest ? undefined : (oci.tag ?? 'latest');
  return {
    original: image,
    registry,
    repository: oci.repository,
    tag,
    digest,
    name: digest ? `${base}@${digest}` : `${base}:${tag}`,
    oci,
  };
}

/** `host[:port]` in lower case, the port as a number: none when 443, out of range refused. */
function canonicalHost(registry: string, field: string): string {
  const lower = registry.toLowerCase();
  const m = /^(.*):(\d+)$/.exec(lower);
  if (!m) return lower;
  const port = Number(m[2]);
  if (!(port >= 1 && port <= 65535))
    throw invalid(field, `the port of ${registry} is not a port number (1-65535)`);
  return port === 443 ? m[1]! : `${m[1]}:${port}`;
}

/**
 * policy-controller's `glob.Match`: the qualified name, then (deprecated fallback) the
 * reference as written. `alsoNames` are other names of the same image that may match (the
 * digest a tag resolved to).
 */
export function imageGlobMatches(g: Glob, ref: ImageReference, alsoNames: string[] = []): boolean {
  if (g.regexp.test(ref.name)) return true;
  if (ref.name !== ref.original && g.regexp.test(ref.original)) return true;
  return alsoNames.some((n) => g.regexp.test(n));
}
