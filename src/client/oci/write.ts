/**
 * Writing attachments: a bundle as an OCI 1.1 referrer (cosign WriteAttestationNewBundleFormat),
 * indexed in the referrers tag schema when the registry keeps no referrers itself, and legacy
 * signatures appended to `sha256-<hex>.sig|.att`. Both tags are read-modify-write with no
 * conditional PUT in distribution, so every update is re-read until it has been seen to stick
 * twice, and redone when another writer replaced it (bounded).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SignetError } from '../../core/errors.ts';
import { digestOf, digestTag, type Digest } from '../../core/oci/digest.ts';
import {
  ANN_BUNDLE_CONTENT,
  ANN_BUNDLE_PREDICATE,
  ANN_CREATED,
  ANN_SIGNATURE,
  BUNDLE_MEDIA_TYPE,
  legacyTag,
} from '../../core/oci/cosign.ts';
import {
  EMPTY_JSON,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  indexJSON,
  manifestJSON,
  parseManifest,
  type Descriptor,
  type Manifest,
} from '../../core/oci/manifest.ts';
import type { Repository } from './registry.ts';

/** A time as cosign writes it (RFC 3339, whole seconds, UTC). */
const rfc3339 = (t: Date) => t.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Rounds of read-modify-write before giving up on a contended tag. */
const MAX_ROUNDS = 12;

/**
 * Apply `add` to the manifest at `tag` until a re-read shows `has` twice in a row. Another
 * signer's PUT may land between our read and write; re-reading after a pause catches that.
 */
export async function updateTag(
  repo: Repository,
  tag: string,
  what: string,
  add: (current: Manifest | undefined) => Promise<{ bytes: Uint8Array; mediaType: string }>,
  has: (current: Manifest) => boolean,
): Promise<void> {
  let seen = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const got = await repo.getManifest(tag, `${what} ${tag}`);
    const cur = got ? parseManifest(got.bytes, got.mediaType, `${what} ${tag}`) : undefined;
    if (cur && has(cur)) {
      if (++seen >= 2) return;
    } else {
      seen = 0;
      const next = await add(cur);
      await repo.putManifest(tag, next.bytes, next.mediaType);
    }
    await sleep(30 + Math.floor(Math.random() * 120));
  }
  throw new SignetError(
    'conflict',
    'TAG_CONTENDED',
    `${what}: could not add to ${repo.name}:${tag}: other writers kept replacing it (${MAX_ROUNDS} rounds)`,
  );
}

export interface AttachOptions {
  /** Annotations for the referrer manifest besides cosign's. */
  created?: Date;
}

/**
 * Push `bundleJson` as a referrer of `subject` (cosign's manifest, byte layout as
 * WriteReferrer makes it) and, without a referrers API, add it to the tag schema index with
 * artifactType and annotations lifted into the entry, as image-spec 1.1 requires.
 */
export async function attachBundle(
  repo: Repository,
  subject: Descriptor,
  bundleJson: Uint8Array,
  predicateType: string,
  what: string,
  o: AttachOptions = {},
): Promise<Digest> {
  const layer = await repo.putBlob(bundleJson);
  const config = await repo.putBlob(EMPTY_JSON);
  const annotations = {
    [ANN_CREATED]: rfc3339(o.created ?? new Date()),
    [ANN_BUNDLE_CONTENT]: 'dsse-envelope',
    [ANN_BUNDLE_PREDICATE]: predicateType,
  };
  const bytes = manifestJSON({
    mediaType: OCI_MANIFEST,
    artifactType: BUNDLE_MEDIA_TYPE,
    config: {
      mediaType: OCI_EMPTY,
      digest: config,
      size: EMPTY_JSON.length,
      artifactType: BUNDLE_MEDIA_TYPE,
    },
    layers: [{ mediaType: BUNDLE_MEDIA_TYPE, digest: layer, size: bundleJson.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  });
  const digest = digestOf(bytes);
  const { subject: kept } = await repo.putManifest(digest.text, bytes, OCI_MANIFEST);
  // OCI-Subject: the registry indexed it (distribution-spec "Pushing Manifests with Subject").
  if (kept !== null) return digest;
  const entry: Descriptor = {
    mediaType: OCI_MANIFEST,
    digest,
    size: bytes.length,
    artifactType: BUNDLE_MEDIA_TYPE,
    annotations,
  };
  await addToTagSchema(repo, subject.digest, entry, what);
  return digest;
}

/** Add a referrer to the `sha256-<hex>` index (referrers tag schema, distribution-spec 1.1). */
export async function addToTagSchema(
  repo: Repository,
  subject: Digest,
  entry: Descriptor,
  what: string,
): Promise<void> {
  await updateTag(
    repo,
    digestTag(subject),
    what,
    async (cur) => {
      const manifests =
        cur?.kind === 'index'
          ? cur.manifests.filter((m) => m.digest.text !== entry.digest.text)
          : [];
      return {
        bytes: indexJSON({ mediaType: OCI_INDEX, manifests: [...manifests, entry] }),
        mediaType: OCI_INDEX,
      };
    },
    (cur) => cur.kind === 'index' && cur.manifests.some((m) => m.digest.text === entry.digest.text),
  );
}

/** Remove referrers from the tag schema index (clean). */
export async function removeFromTagSchema(
  repo: Repository,
  subject: Digest,
  digests: Set<string>,
  what: string,
): Promise<void> {
  await updateTag(
    repo,
    digestTag(subject),
    what,
    async (cur) => ({
      bytes: indexJSON({
        mediaType: OCI_INDEX,
        manifests:
          cur?.kind === 'index' ? cur.manifests.filter((m) => !digests.has(m.digest.text)) : [],
      }),
      mediaType: OCI_INDEX,
    }),
    (cur) => cur.kind === 'index' && !cur.manifests.some((m) => digests.has(m.digest.text)),
  );
}

/** A legacy signature or attestation layer: the payload blob and its annotations. */
export interface LegacyLayer {
  mediaType: string;
  payload: Uint8Array;
  annotations: Record<string, string>;
}

/**
 * The config cosign's signature images carry (go-containerregistry empty image + layers);
 * `created` is the zero time unless asked for (cosign --record-creation-timestamp).
 */
function legacyConfig(layers: Descriptor[], created?: Date): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      architecture: '',
      created: created ? rfc3339(created) : '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest.text) },
      config: {},
    }),
  );
}

/** Same layer: same payload and same signature (two signers of one payload differ only there). */
function sameLayer(a: Descriptor, b: Descriptor): boolean {
  return (
    a.digest.text === b.digest.text &&
    a.mediaType === b.mediaType &&
    JSON.stringify(a.annotations ?? {}) === JSON.stringify(b.annotations ?? {}) &&
    (a.annotations?.[ANN_SIGNATURE] ?? '') === (b.annotations?.[ANN_SIGNATURE] ?? '')
  );
}

export interface AppendOptions {
  /** Record this time as the image's creation (cosign --record-creation-timestamp). */
  created?: Date;
  /** Layers already there that the new one replaces (cosign attest --replace); others stay. */
  replaces?: (existing: Descriptor) => Promise<boolean>;
}

/** Append a layer to `sha256-<hex>.<suffix>`, keeping every signature already there. */
export async function appendLegacy(
  repo: Repository,
  subject: Digest,
  suffix: 'sig' | 'att',
  layer: LegacyLayer,
  what: string,
  o: AppendOptions = {},
): Promise<string> {
  const digest = await repo.putBlob(layer.payload);
  const mine: Descriptor = {
    mediaType: layer.mediaType,
    digest,
    size: layer.payload.length,
    annotations: layer.annotations,
  };
  const tag = legacyTag(subject, suffix, repo.tagPrefix);
  await updateTag(
    repo,
    tag,
    what,
    async (cur) => {
      const layers: Descriptor[] = [];
      for (const l of cur?.kind === 'manifest' ? cur.layers : [])
        if (!sameLayer(l, mine) && !(o.replaces && (await o.replaces(l)))) layers.push(l);
      layers.push(mine);
      const config = legacyConfig(layers, o.created);
      await repo.putBlob(config);
      return {
        bytes: manifestJSON({
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
          layers,
        }),
        mediaType: OCI_MANIFEST,
      };
    },
    (cur) => cur.kind === 'manifest' && cur.layers.some((l) => sameLayer(l, mine)),
  );
  return tag;
}
