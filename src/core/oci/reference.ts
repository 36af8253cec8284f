/**
 * Image references as Docker and cosign read them (distribution/reference grammar): an optional
 * registry host, a repository path, and a tag and/or a digest. `ubuntu` is
 * `docker.io/library/ubuntu:latest`, as `docker pull` normalises it.
 */
import { invalid } from '../errors.ts';
import { parseDigest, type Digest } from './digest.ts';

export const DOCKER_HUB = 'docker.io';

export interface ImageReference {
  /** Host[:port] of the registry, `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path inside the registry (`library/ubuntu`). */
  repository: string;
  tag: string | undefined;
  digest: Digest | undefined;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;
/** distribution's limit on a whole reference name. */
const MAX_NAME = 255;

/** Parse `[host[:port]/]path[:tag][@sha256:hex]`; `field` names the input in errors. */
export function parseReference(text: string, field = 'image'): ImageReference {
  const bad = (why: string) => invalid(field, `"${text}" is not an image reference: ${why}`);
  if (text === '' || /\s/.test(text)) throw bad('it is empty or contains white space');
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = parseDigest(rest.slice(at + 1), field);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === '') throw bad("it ends in ':' with no tag after it");
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  // The first part is a host when it looks like one (has a dot or port, or is localhost).
  if (
    parts.length > 1 &&
    (parts[0]!.includes('.') ||
      parts[0]!.includes(':') ||
      parts[0] === 'localhost' ||
      parts[0]!.startsWith('['))
  ) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) throw bad(`"${registry}" is not a registry host`);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const p of parts)
    if (!COMPONENT.test(p))
      throw bad(
        `"${p}" is not a valid repository path component (lowercase letters, digits, . _ -)`,
      );
  const repository = parts.join('/');
  if (repository.length > MAX_NAME) throw bad(`the repository name is longer than ${MAX_NAME}`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository, tag, digest };
}

/**
 * A registry named alone (`signet login ghcr.io`): host[:port], as go-containerregistry's
 * name.NewRegistry takes it (no scheme, no path); Docker Hub's names become `docker.io`.
 */
export function parseRegistryHost(text: string, field = 'server'): string {
  if (!HOST.test(text))
    throw invalid(
      field,
      `"${text}" is not a registry: give its host and optional port (ghcr.io, localhost:5000), no scheme or path`,
    );
  return text === 'index.docker.io' || text === 'registry-1.docker.io' ? DOCKER_HUB : text;
}

/** `registry/repository` (what cosign puts in the simple-signing docker-reference). */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry === DOCKER_HUB ? 'index.docker.io' : ref.registry}/${ref.repository}`;
}

/** The reference as text: `registry/repo@sha256:...` when the digest is known, else `:tag`. */
export function formatReference(ref: ImageReference): string {
  const base = `${ref.registry}/${ref.repository}`;
  if (ref.digest) return `${base}@${ref.digest.text}`;
  return `${base}:${ref.tag ?? 'latest'}`;
}

/** The same repository, pinned to `digest`. */
export function withDigest(ref: ImageReference, digest: Digest): ImageReference {
  return { ...ref, tag: undefined, digest };
}
