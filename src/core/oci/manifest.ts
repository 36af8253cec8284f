/**
 * OCI image manifests and indexes (image-spec v1.1 manifest.md, image-index.md, descriptor.md),
 * and the Docker v2 schema 2 forms registries still serve. Registry answers are untrusted: they
 * become typed values here, with errors that name the field.
 */
import { invalid, SignetError } from '../errors.ts';
import { parseDigest, type Digest } from './digest.ts';
import { parseJsonText } from '../json.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** `{}`, the empty descriptor's content (image-spec manifest.md "Guidance for an Empty Descriptor"). */
export const EMPTY_JSON = new TextEncoder().encode('{}');

/** Every manifest type we read, for the Accept header (registries answer 404 to OCI without it). */
export const MANIFEST_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

/** distribution's default manifest limit (4 MiB); larger answers are refused, not buffered. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function annotationsAt(v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid(path, 'must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalid(`${path}.${k}`, 'must be a string');
    out[k] = val;
  }
  return out;
}

export function parseDescriptor(v: unknown, path: string): Descriptor {
  if (!isObject(v)) throw invalid(path, 'must be a descriptor object');
  if (typeof v.mediaType !== 'string' || v.mediaType === '')
    throw invalid(`${path}.mediaType`, 'must be a non-empty string');
  if (typeof v.digest !== 'string') throw invalid(`${path}.digest`, 'must be a string');
  const digest = parseDigest(v.digest, `${path}.digest`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0)
    throw invalid(`${path}.size`, 'must be a non-negative integer');
  const d: Descriptor = { mediaType: v.mediaType, digest, size: v.size };
  if (v.artifactType !== undefined) {
    if (typeof v.artifactType !== 'string')
      throw invalid(`${path}.artifactType`, 'must be a string');
    d.artifactType = v.artifactType;
  }
  const a = annotationsAt(v.annotations, `${path}.annotations`);
  if (a) d.annotations = a;
  if (
    isObject(v.platform) &&
    typeof v.platform.os === 'string' &&
    typeof v.platform.architecture === 'string'
  ) {
    d.platform = { os: v.platform.os, architecture: v.platform.architecture };
    if (typeof v.platform.variant === 'string') d.platform.variant = v.platform.variant;
  }
  return d;
}

/**
 * Parse manifest bytes. `contentType` is the registry's Content-Type; the body's own
 * `mediaType` wins when present (both must agree on manifest vs index).
 */
export function parseManifest(
  bytes: Uint8Array,
  contentType: string | undefined,
  what: string,
): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES)
    throw new SignetError(
      'too-large',
      'MANIFEST_TOO_LARGE',
      `${what}: the manifest is ${bytes.length} bytes, more than the ${MAX_MANIFEST_BYTES} byte limit`,
    );
  let v: unknown;
  try {
    v = parseJsonText(bytes, 'the manifest');
  } catch (e) {
    // Why, kept: "the manifest has the key "layers" twice in one object" is no syntax error.
    const why = e instanceof Error ? e.message.replace(/^the manifest: /, '') : 'is not JSON';
    throw invalid(what, `the manifest ${why}`);
  }
  if (!isObject(v)) throw invalid(what, 'the manifest is not a JSON object');
  if (v.schemaVersion !== 2) throw invalid(`${what}.schemaVersion`, 'must be 2');
  const mediaType =
    typeof v.mediaType === 'string' ? v.mediaType : (contentType?.split(';')[0]?.trim() ?? '');
  const isIndex =
    mediaType === OCI_INDEX ||
    mediaType === DOCKER_MANIFEST_LIST ||
    (mediaType === '' && Array.isArray(v.manifests));
  const common: {
    artifactType?: string;
    subject?: Descriptor;
    annotations?: Record<string, string>;
  } = {};
  if (v.artifactType !== undefined) {
    if (typeof v.artifactType !== 'string')
      throw invalid(`${what}.artifactType`, 'must be a string');
    common.artifactType = v.artifactType;
  }
  if (v.subject !== undefined) common.subject = parseDescriptor(v.subject, `${what}.subject`);
  const a = annotationsAt(v.annotations, `${what}.annotations`);
  if (a) common.annotations = a;
  if (isIndex) {
    if (!Array.isArray(v.manifests)) throw invalid(`${what}.manifests`, 'must be an array');
    return {
      kind: 'index',
      mediaType: mediaType || OCI_INDEX,
      manifests: v.manifests.map((m, i) => parseDescriptor(m, `${what}.manifests[${i}]`)),
      ...common,
    };
  }
  if (mediaType !== '' && mediaType !== OCI_MANIFEST && mediaType !== DOCKER_MANIFEST)
    throw new SignetError(
      'unsupported',
      'MANIFEST_TYPE',
      `${what}: media type "${mediaType}" is not an image manifest or index`,
    );
  if (!Array.isArray(v.layers)) throw invalid(`${what}.layers`, 'must be an array');
  return {
    kind: 'manifest',
    mediaType: mediaType || OCI_MANIFEST,
    config: parseDescriptor(v.config, `${what}.config`),
    layers: v.layers.map((l, i) => parseDescriptor(l, `${what}.layers[${i}]`)),
    ...common,
  };
}

/** A descriptor as JSON (fields in the order the specs list them). */
export function descriptorJSON(d: Descriptor): Record<string, unknown> {
  const o: Record<string, unknown> = {
    mediaType: d.mediaType,
    digest: d.digest.text,
    size: d.size,
  };
  if (d.artifactType !== undefined) o.artifactType = d.artifactType;
  if (d.annotations !== undefined) o.annotations = d.annotations;
  if (d.platform !== undefined) o.platform = d.platform;
  return o;
}

/** Serialise an image manifest (OCI). */
export function manifestJSON(m: Omit<ImageManifest, 'kind'>): Uint8Array {
  const o: Record<string, unknown> = { schemaVersion: 2, mediaType: m.mediaType };
  if (m.artifactType !== undefined) o.artifactType = m.artifactType;
  o.config = descriptorJSON(m.config);
  o.layers = m.layers.map(descriptorJSON);
  if (m.subject) o.subject = descriptorJSON(m.subject);
  if (m.annotations) o.annotations = m.annotations;
  return new TextEncoder().encode(JSON.stringify(o));
}

/** Serialise an image index (OCI). */
export function indexJSON(m: Omit<ImageIndex, 'kind'>): Uint8Array {
  const o: Record<string, unknown> = { schemaVersion: 2, mediaType: m.mediaType };
  if (m.artifactType !== undefined) o.artifactType = m.artifactType;
  o.manifests = m.manifests.map(descriptorJSON);
  if (m.subject) o.subject = descriptorJSON(m.subject);
  if (m.annotations) o.annotations = m.annotations;
  return new TextEncoder().encode(JSON.stringify(o));
}
