/**
 * Which artifacts a policy covers: image globs with policy-controller's rules
 * (pkg/apis/glob/glob.go), and the Signet extensions for files (path or name globs) and git
 * commits (repository and ref globs). Pure.
 *
 * Image globs, exactly as policy-controller: the glob must match `^[a-zA-Z0-9-_:/*.@]+$`; `*`
 * alone means `index.docker.io/library/*` and `*` + `/` + `*` means `index.docker.io/*` + `/*`; `.` is
 * literal, `*` is any run of characters but `/`, `**` any run including `/`, and the glob must
 * match the whole reference. The reference is the fully qualified name (registry, repository,
 * `:tag` with `latest` by default, or `@digest`), so `:` is not a separator: end a glob with
 * `:**` to accept any tag. As policy-controller (deprecated there, kept for policies that rely on
 * it), a glob that misses the qualified name is tried against the reference as written.
 */
import { invalid } from '../../core/errors.ts';

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

/** An image reference, fully qualified as go-containerregistry's `name.ParseReference` does. */
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
}

const DOCKER_HUB = 'index.docker.io';
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$|^sha384:[0-9a-f]{96}$|^sha512:[0-9a-f]{128}$/;
const REPOSITORY = /^[a-z0-9_.\-/]{2,255}$/;
const REGISTRY = /^[A-Za-z0-9.-]+(?::\d+)?$|^\[[0-9A-Fa-f:.]+\](?::\d+)?$/;

/**
 * Parses an image reference with go-containerregistry's weak validation: Docker Hub and
 * `library/` are implied, `latest` is the default tag; errors name `field`.
 */
export function parseImageReference(image: string, field: string): ImageReference {
  const bad = (why: string) => invalid(field, `"${image}" is not an image reference: ${why}`);
  if (image === '' || image.length > 4096) throw bad('empty or too long');
  let rest = image;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`"${digest}" is not a digest (sha256:<64 hex>)`);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
      if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
    } else tag = 'latest';
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === 'docker.io') registry = DOCKER_HUB;
  if (!REGISTRY.test(registry)) throw bad(`"${registry}" is not a registry host`);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository) || repository.split('/').some((s) => s === ''))
    throw bad(`"${repository}" is not a repository name (lowercase letters, digits, _ . - and /)`);
  const base = `${registry}/${repository}`;
  return {
    original: image,
    registry,
    repository,
    tag: digest ? undefined : tag,
    digest,
    name: digest ? `${base}@${digest}` : `${base}:${tag}`,
  };
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
