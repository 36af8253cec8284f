/**
 * cosign's OCI plumbing on images: `tree` (what is attached where), `download` (the signatures
 * and attestations as stored), `copy` (an image with everything attached to it), `clean`
 * (remove what is attached), `triangulate` (where cosign would look).
 */
import { serializeBundle, type Bundle } from '../../bundle/bundle.ts';
import { parseStatement } from '../../core/intoto/index.ts';
import { parseJsonText } from '../../core/json.ts';
import { SignetError } from '../../core/errors.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { digestTag, type Digest } from '../../core/oci/digest.ts';
import {
  ANN_BUNDLE,
  ANN_BUNDLE_PREDICATE,
  ANN_CERTIFICATE,
  ANN_PREDICATE_TYPE,
  ANN_SIGNATURE,
  ANN_TIMESTAMP,
  BUNDLE_MEDIA_TYPES,
  COSIGN_SIGN_PREDICATE,
  legacyTag,
} from '../../core/oci/cosign.ts';
import type { Platform } from '../../core/oci/platform.ts';
import { parseManifest, type Descriptor, type Manifest } from '../../core/oci/manifest.ts';
import { formatReference, parseReference, type ImageReference } from '../../core/oci/reference.ts';
import { discover, listReferrers, type AttachmentKind } from './discover.ts';
import {
  aboutImage,
  attachmentsOf,
  repositoryOf,
  resolveImage,
  type ResolvedImage,
  resolvePlatform,
} from './image.ts';
import { Repository, type FetchedManifest, type RegistryOptions } from './registry.ts';
import { addToTagSchema, removeFromTagSchema } from './write.ts';
import type { ImageSource } from './source.ts';
import { LocalLayout } from './layout.ts';
import { LayoutWriter } from './layout-writer.ts';

const SUFFIXES = ['sig', 'att', 'sbom'] as const;

export type TriangulateType = 'signature' | 'attestation' | 'sbom' | 'digest' | 'referrers';

/** Where cosign keeps what `type` names for this image (`<repo>:sha256-<hex>.sig`, ...). */
export async function triangulate(
  image: string,
  type: TriangulateType,
  registry: RegistryOptions = {},
): Promise<string> {
  const r = await resolveImage(image, { registry });
  const at = attachmentsOf(r.ref, registry);
  const base = type === 'digest' ? `${r.ref.registry}/${r.ref.repository}` : at.name;
  const legacy = (s: Suffix) => `${base}:${legacyTag(r.digest, s, at.tagPrefix)}`;
  switch (type) {
    case 'digest':
      return `${base}@${r.digest.text}`;
    case 'referrers':
      return `${base}:${digestTag(r.digest)}`;
    case 'signature':
      return legacy('sig');
    case 'attestation':
      return legacy('att');
    case 'sbom':
      return legacy('sbom');
  }
}

export interface TreeNode {
  scheme: 'referrer' | 'legacy';
  /** `sha256-<hex>.sig` or the referrer manifest digest. */
  where: string;
  artifactType?: string;
  predicateType?: string;
  /** Legacy tags: the layers (one per signature). */
  layers?: TreeLayer[];
}

/**
 * One layer of a legacy tag; of a .sig or .att tag, as its annotations describe it (not
 * verified). The layers of one .sig tag usually share their digest (each holds the same
 * simple-signing payload): what tells them apart is their signature, and what each carries.
 */
export type TreeLayer = { digest: string } & (
  | { signed?: undefined }
  | {
      signed: true;
      /** The start of its signature annotation (base64), when it has one. */
      signature?: string;
      certificate: boolean;
      /** The log index its Rekor bundle annotation names, or true when it has one without. */
      logEntry: number | boolean;
      timestamp: boolean;
      predicateType?: string;
    }
);

/** How much of a signature `tree` shows: enough to tell signatures apart, as a git short ID. */
const SIGNATURE_SHOWN = 16;

function treeLayer(l: Descriptor): TreeLayer {
  const a = l.annotations ?? {};
  const out: TreeLayer & { signed: true } = {
    digest: l.digest.text,
    signed: true,
    certificate: Boolean(a[ANN_CERTIFICATE]),
    logEntry: a[ANN_BUNDLE] ? (bundleLogIndex(a[ANN_BUNDLE]) ?? true) : false,
    timestamp: Boolean(a[ANN_TIMESTAMP]),
  };
  const sig = a[ANN_SIGNATURE];
  if (sig)
    out.signature = sig.length > SIGNATURE_SHOWN ? `${sig.slice(0, SIGNATURE_SHOWN)}...` : sig;
  if (a[ANN_PREDICATE_TYPE]) out.predicateType = a[ANN_PREDICATE_TYPE];
  return out;
}

/** The logIndex of cosign's Rekor bundle annotation (`{"Payload":{"logIndex":N,...}}`), if any. */
function bundleLogIndex(text: string): number | undefined {
  try {
    const v = (parseJsonText(text, ANN_BUNDLE) as { Payload?: { logIndex?: unknown } } | null)
      ?.Payload?.logIndex;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

function formatLayer(l: TreeLayer): string {
  if (!l.signed) return `    layer ${l.digest}`;
  const parts = [
    ...(l.signature !== undefined ? [`signature ${l.signature}`] : []),
    ...(l.predicateType !== undefined ? [`predicate ${l.predicateType}`] : []),
    ...(l.certificate ? ['certificate'] : []),
    ...(l.logEntry === false
      ? ['no log entry']
      : [typeof l.logEntry === 'number' ? `log entry ${l.logEntry}` : 'log entry']),
    ...(l.timestamp ? ['timestamp'] : []),
  ];
  return `    layer ${l.digest} (${parts.join(', ')})`;
}

export interface Tree {
  image: ResolvedImage;
  /** Where the attachments are kept: the image's repository, or COSIGN_REPOSITORY's. */
  attachments: string;
  usedTagSchema: boolean;
  nodes: TreeNode[];
}

/** Everything attached to the image (not verified). */
export async function tree(image: string, registry: RegistryOptions = {}): Promise<Tree> {
  const r = await resolveImage(image, { registry });
  const repo = attachmentsOf(r.ref, registry);
  try {
    const nodes: TreeNode[] = [];
    const { descriptors, usedTagSchema } = await listReferrers(repo, r.digest, image);
    for (const d of descriptors) {
      const n: TreeNode = { scheme: 'referrer', where: d.digest.text };
      if (d.artifactType) n.artifactType = d.artifactType;
      const pt = d.annotations?.[ANN_BUNDLE_PREDICATE];
      if (pt) n.predicateType = pt;
      nodes.push(n);
    }
    for (const s of SUFFIXES) {
      const tag = legacyTag(r.digest, s, repo.tagPrefix);
      const m = await repo.getManifest(tag, `${image} ${tag}`);
      if (!m) continue;
      const man = parseManifest(m.bytes, m.mediaType, `${image} ${tag}`);
      nodes.push({
        scheme: 'legacy',
        where: tag,
        layers:
          man.kind !== 'manifest'
            ? []
            : man.layers.map((l) => (s === 'sbom' ? { digest: l.digest.text } : treeLayer(l))),
      });
    }
    return { image: r, attachments: repo.name, usedTagSchema, nodes };
  } catch (e) {
    throw aboutImage(image, e);
  }
}

export function formatTree(t: Tree): string {
  const lines = [
    `Supply chain artifacts for ${t.image.ref.registry}/${t.image.ref.repository}@${t.image.digest.text}:`,
  ];
  if (t.nodes.length === 0) lines.push('  (none)');
  for (const n of t.nodes) {
    if (n.scheme === 'referrer')
      lines.push(
        `  referrer ${n.where}${n.artifactType ? ` (${n.artifactType})` : ''}${n.predicateType ? ` predicate ${n.predicateType}` : ''}${t.usedTagSchema ? ' [referrers tag schema]' : ''}`,
      );
    else {
      const what = n.where.endsWith('.sig')
        ? 'signatures'
        : n.where.endsWith('.att')
          ? 'attestations'
          : 'SBOMs';
      lines.push(`  ${what} in tag ${t.attachments}:${n.where}`);
      for (const l of n.layers ?? []) lines.push(formatLayer(l));
    }
  }
  return lines.join('\n');
}

/**
 * The stored signatures or attestations, one JSON document each: the bundle for referrers,
 * and for legacy layers cosign's download format (`Base64Signature`, `Payload`, `Cert`, ...)
 * or the DSSE envelope.
 */
export async function download(
  image: string,
  kind: AttachmentKind,
  registry: RegistryOptions = {},
  o: {
    /** cosign --platform: of an index, what is attached to the image for this platform. */
    platform?: Platform;
    /** cosign --predicate-type: only attestations whose statement has this predicate type. */
    predicateType?: string;
  } = {},
): Promise<string[]> {
  const r = (await resolvePlatform(image, o.platform, { registry })).image;
  const repo = attachmentsOf(r.ref, registry);
  const d = await discover(repo, r.digest, image, [kind]).catch((e: unknown) => {
    throw aboutImage(image, e);
  });
  const attachments =
    o.predicateType === undefined
      ? d.attachments
      : d.attachments.filter((a) => statementType(a.bundle) === o.predicateType);
  return attachments.map((a) => {
    if (a.scheme === 'referrer') return serializeBundle(a.bundle);
    const b = a.bundle;
    if (b.content.$case === 'dsseEnvelope') {
      const env = b.content.dsseEnvelope;
      return JSON.stringify({
        payloadType: env.payloadType,
        payload: Buffer.from(env.payload).toString('base64'),
        signatures: env.signatures.map((s) => ({
          keyid: s.keyid,
          sig: Buffer.from(s.sig).toString('base64'),
        })),
      });
    }
    const vm = b.verificationMaterial;
    const certs = vm.signer.$case === 'x509CertificateChain' ? vm.signer.certificates : [];
    const pem = (der: Uint8Array) => encodePem('CERTIFICATE', der);
    const e = vm.tlogEntries[0];
    return JSON.stringify({
      Base64Signature: Buffer.from(b.content.messageSignature.signature).toString('base64'),
      Payload: Buffer.from(a.payload ?? new Uint8Array()).toString('base64'),
      Cert: certs[0] ? pem(certs[0]) : null,
      Chain: certs.length > 1 ? certs.slice(1).map(pem).join('') : null,
      Bundle: e
        ? {
            SignedEntryTimestamp: Buffer.from(e.signedEntryTimestamp ?? new Uint8Array()).toString(
              'base64',
            ),
            Payload: {
              body: Buffer.from(e.canonicalizedBody).toString('base64'),
              integratedTime: e.integratedTime,
              logIndex: e.logIndex,
              logID: Buffer.from(e.logId).toString('hex'),
            },
          }
        : null,
      RFC3161Timestamp: vm.rfc3161Timestamps[0]
        ? { SignedRFC3161Timestamp: Buffer.from(vm.rfc3161Timestamps[0]).toString('base64') }
        : null,
    });
  });
}

/** Layers of real images can be GiBs: they stream from source to destination, never held whole. */
async function copyBlob(
  src: ImageSource,
  dst: ManifestSink,
  d: Descriptor,
  what: string,
): Promise<void> {
  await dst.copyBlobFrom(src, d, what);
}

/** Where copyManifest puts things: a registry repository, or a layout being saved. */
type ManifestSink = Pick<Repository, 'copyBlobFrom'> & {
  putManifest(reference: string, bytes: Uint8Array, mediaType: string): Promise<unknown>;
};

/** Copy one manifest (and for an index, every manifest in it) by digest, blobs first. */
async function copyManifest(
  src: ImageSource,
  dst: ManifestSink,
  digest: Digest,
  what: string,
  tag?: string,
): Promise<Manifest> {
  const m = await src.getManifest(digest.text, what);
  if (!m)
    throw new SignetError(
      'not-found',
      'IMAGE_NOT_FOUND',
      `${what}: ${src.name} has no manifest ${digest.text}`,
    );
  const man = parseManifest(m.bytes, m.mediaType, what);
  if (man.kind === 'index')
    for (const c of man.manifests) await copyManifest(src, dst, c.digest, what);
  else for (const b of [man.config, ...man.layers]) await copyBlob(src, dst, b, what);
  await dst.putManifest(tag ?? digest.text, m.bytes, m.mediaType);
  return man;
}

/** Most referrers of one subject that copy, save and load carry (a registry may list thousands). */
const MAX_REFERRERS = 256;

/**
 * Copy referrer `d` of `subject` to the registry `dst`; without a referrers API there, the tag
 * schema index records it, with its artifactType and annotations.
 */
async function pushReferrer(
  src: ImageSource,
  dst: Repository,
  subject: Digest,
  d: Descriptor,
  srcText: string,
  dstText: string,
): Promise<void> {
  await copyManifest(src, dst, d.digest, `${srcText} referrer ${d.digest.text}`);
  if ((await dst.referrers(subject, dstText)) !== undefined) return;
  const m = await dst.getManifest(d.digest.text, `${dstText} referrer`);
  const man = parseManifest(m!.bytes, m!.mediaType, dstText);
  const entry: Descriptor = { mediaType: man.mediaType, digest: d.digest, size: m!.bytes.length };
  const at = d.artifactType ?? man.artifactType;
  if (at) entry.artifactType = at;
  const ann = d.annotations ?? man.annotations;
  if (ann) entry.annotations = ann;
  await addToTagSchema(dst, subject, entry, dstText);
}

type Suffix = (typeof SUFFIXES)[number];

/**
 * Everything attached in `src` to the image `digest` (whose manifest is `man`) and, for an index,
 * to each of its manifests: each legacy `.sig`/`.att`/`.sbom` image found, then each referrer (at
 * most MAX_REFERRERS a subject), handed to `visit` in turn. copy and save walk it alike.
 */
async function eachAttached(
  src: ImageSource,
  digest: Digest,
  man: Manifest,
  what: string,
  visit: {
    legacy(tag: string, suffix: Suffix, m: FetchedManifest): Promise<void>;
    referrer(subject: Digest, d: Descriptor): Promise<void>;
  },
): Promise<void> {
  const subjects = [digest, ...(man.kind === 'index' ? man.manifests.map((c) => c.digest) : [])];
  for (const subject of subjects) {
    for (const s of SUFFIXES) {
      const tag = legacyTag(subject, s, src.tagPrefix);
      const m = await src.getManifest(tag, `${what} ${tag}`);
      if (m) await visit.legacy(tag, s, m);
    }
    const { descriptors } = await listReferrers(src, subject, what);
    for (const d of descriptors.slice(0, MAX_REFERRERS)) await visit.referrer(subject, d);
  }
}

/**
 * The tag a destination reference names (`repo:v2`), or undefined for a bare repository or a
 * digest: parseReference's default `latest` is not a tag the user gave.
 */
function namedTag(text: string, ref: ImageReference): string | undefined {
  const last = text.split('/').pop() ?? '';
  return ref.digest || !last.includes(':') ? undefined : ref.tag;
}

/** cosign save's `kind` annotation of the image and of its legacy signature images. */
const KIND = 'kind';
const KIND_OF_SUFFIX: Record<Suffix, string> = {
  sig: 'dev.cosignproject.cosign/sigs',
  att: 'dev.cosignproject.cosign/atts',
  sbom: 'dev.cosignproject.cosign/sboms',
};
const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * `signet save IMAGE --dir DIR` (cosign save): the image (an index with all its manifests) and
 * everything attached to it as an OCI image layout that `verify --local-image DIR` reads and
 * `signet load` pushes back. As cosign: the image is marked `kind: .../image` (or
 * `.../imageIndex`), legacy `.sig`/`.att`/`.sbom` images `kind: .../sigs` and so on (and named
 * by their tag); unlike cosign, OCI 1.1 referrers (what `sign` writes) are saved too, listed by
 * digest. Nothing is left in DIR when the save fails.
 */
export async function saveImage(
  image: string,
  dir: string,
  registry: RegistryOptions = {},
  o: { onEvent?: (m: string) => void } = {},
): Promise<CopyResult> {
  const r = await resolveImage(image, { registry });
  const src = repositoryOf(r.ref, registry);
  const srcAttached = attachmentsOf(r.ref, registry);
  const out = new LayoutWriter(dir);
  const result: CopyResult = { digest: r.digest, signatures: 0, referrers: 0 };
  const entries: Descriptor[] = [];
  try {
    const man = await copyManifest(src, out, r.digest, image);
    entries.push({
      ...r.descriptor,
      annotations: {
        [KIND]: `dev.cosignproject.cosign/${man.kind === 'index' ? 'imageIndex' : 'image'}`,
      },
    });
    await eachAttached(srcAttached, r.digest, man, image, {
      async legacy(tag, suffix, sig) {
        await copyManifest(srcAttached, out, sig.digest, `${image} ${tag}`);
        entries.push({
          mediaType: sig.mediaType,
          digest: sig.digest,
          size: sig.bytes.length,
          annotations: { [KIND]: KIND_OF_SUFFIX[suffix], [REF_NAME]: tag },
        });
        result.signatures++;
      },
      async referrer(_subject, d) {
        await copyManifest(srcAttached, out, d.digest, `${image} referrer ${d.digest.text}`);
        const entry: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
        if (d.artifactType) entry.artifactType = d.artifactType;
        entries.push(entry);
        result.referrers++;
      },
    });
    out.finish(entries);
  } catch (e) {
    out.discard();
    throw aboutImage(image, e);
  }
  o.onEvent?.(
    `saved ${formatReference(r.ref)} to ${dir} with ${result.signatures} signature image(s) and ${result.referrers} referrer(s)`,
  );
  return result;
}

/**
 * `signet load --dir DIR IMAGE` (cosign load): push what a layout holds (as `signet save` or
 * `cosign save` wrote it) to the repository IMAGE names, the image under IMAGE's tag (if it has
 * one), its legacy signature images under their tags, and its referrers (through the referrers
 * tag schema where the registry has no referrers API).
 */
export async function loadImage(
  dir: string,
  image: string,
  registry: RegistryOptions = {},
  o: { onEvent?: (m: string) => void } = {},
): Promise<CopyResult> {
  const layout = new LocalLayout(dir, '--dir');
  const img = await layout.image();
  let dstRef: ImageReference;
  try {
    dstRef = parseReference(image, 'image');
  } catch (e) {
    throw aboutImage(image, e);
  }
  if (dstRef.digest && dstRef.digest.text !== img.digest.text)
    throw new SignetError(
      'invalid-input',
      'INVALID_INPUT',
      `${image}: names digest ${dstRef.digest.text}, but the image in ${dir} is ${img.digest.text}`,
    );
  const dst = repositoryOf(dstRef, registry);
  const dstAttached = attachmentsOf(dstRef, registry);
  // As cosign load (go-containerregistry's name.ParseReference): a name without a tag or
  // digest is tagged latest.
  const tag = dstRef.digest ? undefined : (namedTag(image, dstRef) ?? 'latest');
  const result: CopyResult = { digest: img.digest, signatures: 0, referrers: 0 };
  try {
    // Every signature image's tag is known before anything is pushed, so a layout that would
    // write elsewhere pushes nothing.
    const legacyTags = await legacyTagsOf(layout, img.digest, dir, dstAttached.tagPrefix);
    await copyManifest(layout, dst, img.digest, `${dir} image`, tag);
    for (const e of layout.entries) {
      if (e.digest.text === img.digest.text) continue;
      const t = legacyTags.get(e);
      if (t !== undefined) {
        await copyManifest(layout, dstAttached, e.digest, `${dir} ${t}`, t);
        result.signatures++;
        continue;
      }
      const m = await layout.getManifest(e.digest.text, `${dir} ${e.digest.text}`);
      const subject = m && parseManifest(m.bytes, m.mediaType, dir).subject;
      if (!subject) continue; // not something attached to an image: not ours to push
      await pushReferrer(layout, dstAttached, subject.digest, e, dir, image);
      result.referrers++;
    }
  } catch (e) {
    throw aboutImage(image, e);
  }
  o.onEvent?.(
    `loaded ${dir} to ${dst.name}${tag ? `:${tag}` : ''}@${img.digest.text} with ${result.signatures} signature image(s) and ${result.referrers} referrer(s)`,
  );
  return result;
}

/**
 * The destination tag of each legacy signature image in a layout (an entry marked `kind:
 * .../sigs`, `atts` or `sboms`): the `.sig`/`.att`/`.sbom` tag of the image or of one of its
 * manifests, as cosign derives it from the digest, under the destination's tag prefix. The
 * entry's own tag name only says which of those it is (cosign's layouts name none: the
 * image's): a name that is not such a tag of the right kind (`prod`, another image's `.sig`)
 * is refused, since `verify --local-image` checks signatures, not where load would write them.
 */
async function legacyTagsOf(
  layout: LocalLayout,
  image: Digest,
  dir: string,
  prefix: string | undefined,
): Promise<Map<Descriptor, string>> {
  const m = await layout.getManifest(image.text, `${dir} image`);
  const man = parseManifest(m!.bytes, m!.mediaType, `${dir} image`);
  const subjects = [image, ...(man.kind === 'index' ? man.manifests.map((c) => c.digest) : [])];
  const out = new Map<Descriptor, string>();
  for (const e of layout.entries) {
    const kind = e.annotations?.[KIND];
    const suffix = SUFFIXES.find((s) => KIND_OF_SUFFIX[s] === kind);
    if (suffix === undefined || e.digest.text === image.text) continue;
    const named = e.annotations?.[REF_NAME];
    const subject =
      named === undefined
        ? image
        : subjects.find((d) => named.endsWith(`${digestTag(d)}.${suffix}`));
    if (subject === undefined)
      throw new SignetError(
        'invalid-input',
        'INVALID_INPUT',
        `${dir}: ${e.digest.text} is marked ${kind} with the tag "${named}", which is not the .${suffix} tag of the image (${image.text}) or of one of its manifests: nothing was loaded`,
      );
    out.set(e, legacyTag(subject, suffix, prefix));
  }
  return out;
}

export interface CopyResult {
  digest: Digest;
  signatures: number;
  referrers: number;
}

export interface CopyOptions {
  onEvent?: (m: string) => void;
  /** cosign -f: replace destination tags that hold something else (refused without it). */
  force?: boolean;
  /**
   * cosign --only: copy only these attached kinds (legacy tags, and referrers of that kind); the
   * image goes by digest and the destination tag is left as it is.
   */
  only?: ReadonlyArray<'sig' | 'att' | 'sbom'>;
  /** cosign --platform: of an index, only the image for this platform and what is attached to it. */
  platform?: Platform;
}

/** The predicate type an attestation's statement names (unverified: download prints as stored). */
function statementType(b: Bundle): string | undefined {
  if (b.content.$case !== 'dsseEnvelope') return undefined;
  try {
    return parseStatement(b.content.dsseEnvelope.payload, 'statement').predicateType;
  } catch {
    return undefined;
  }
}

/** The kind a referrer is, by the predicate type its descriptor names (cosign's signature predicate: a signature). */
function referrerKind(d: Descriptor): 'sig' | 'att' {
  const pt = d.annotations?.[ANN_BUNDLE_PREDICATE];
  return pt === undefined || pt === COSIGN_SIGN_PREDICATE ? 'sig' : 'att';
}

/**
 * Copy `src` to `dst` (a repository, with or without a tag), then every legacy tag and every
 * referrer attached to it (and, for an index, to its manifests), so signatures travel. As
 * cosign, a destination tag that holds something else is replaced only with `force`: that is
 * checked for every tag before anything is copied.
 */
export async function copyImage(
  srcText: string,
  dstText: string,
  registry: RegistryOptions = {},
  o: CopyOptions = {},
): Promise<CopyResult> {
  const r = (await resolvePlatform(srcText, o.platform, { registry })).image;
  let dstRef: ImageReference;
  try {
    dstRef = parseReference(dstText, 'destination');
  } catch (e) {
    throw aboutImage(dstText, e);
  }
  if (dstRef.digest && dstRef.digest.text !== r.digest.text)
    throw new SignetError(
      'invalid-input',
      'INVALID_INPUT',
      `${dstText}: the destination names digest ${dstRef.digest.text}, but ${srcText} is ${r.digest.text}`,
    );
  const src = repositoryOf(r.ref, registry);
  const srcAttached = attachmentsOf(r.ref, registry);
  const dst = repositoryOf(dstRef, registry);
  const out: CopyResult = { digest: r.digest, signatures: 0, referrers: 0 };
  const wanted = (kind: 'sig' | 'att' | 'sbom') => !o.only || o.only.includes(kind);
  let copiedAs = `@${r.digest.text}`;
  try {
    // A tag given for the destination is used; without one, the source's tag (if it had one).
    // With --only the image goes by digest (its signatures need their subject), untagged.
    const tag = o.only || dstRef.digest ? undefined : (namedTag(dstText, dstRef) ?? r.given.tag);
    const legacy: Array<{ tag: string; m: FetchedManifest }> = [];
    const referrers: Array<{ subject: Digest; d: Descriptor }> = [];
    await eachAttached(srcAttached, r.digest, r.manifest, srcText, {
      async legacy(t, suffix, m) {
        if (wanted(suffix)) legacy.push({ tag: t, m });
      },
      async referrer(subject, d) {
        if (wanted(referrerKind(d))) referrers.push({ subject, d });
      },
    });
    if (!o.force)
      for (const [t, digest] of [
        ...(tag ? [[tag, r.digest] as const] : []),
        ...legacy.map((l) => [l.tag, l.m.digest] as const),
      ]) {
        const there = await dst.getManifest(t, `${dstText} ${t}`);
        if (there && there.digest.text !== digest.text)
          throw new SignetError(
            'conflict',
            'DESTINATION_EXISTS',
            `${dst.name}:${t} already holds ${there.digest.text}, not ${digest.text}: nothing was copied; give -f to replace it`,
          );
      }
    await copyManifest(src, dst, r.digest, srcText, tag);
    if (tag) copiedAs = `:${tag}`;
    for (const l of legacy) {
      await copyManifest(srcAttached, dst, l.m.digest, `${srcText} ${l.tag}`, l.tag);
      out.signatures++;
    }
    for (const x of referrers) {
      await pushReferrer(srcAttached, dst, x.subject, x.d, srcText, dstText);
      out.referrers++;
    }
  } catch (e) {
    throw aboutImage(srcText, e);
  }
  o.onEvent?.(
    `copied ${formatReference(r.ref)} to ${dst.name}${copiedAs} with ${out.signatures} signature tag(s) and ${out.referrers} referrer(s)`,
  );
  return out;
}

export type CleanType = 'all' | 'signature' | 'attestation' | 'sbom';

/** Delete what is attached to the image: legacy tags and/or referrers (with their index entries). */
export async function cleanImage(
  image: string,
  type: CleanType,
  registry: RegistryOptions = {},
): Promise<string[]> {
  const r = await resolveImage(image, { registry });
  const repo = attachmentsOf(r.ref, registry);
  const removed: string[] = [];
  try {
    const suffixes =
      type === 'all'
        ? SUFFIXES
        : type === 'signature'
          ? (['sig'] as const)
          : type === 'attestation'
            ? (['att'] as const)
            : (['sbom'] as const);
    for (const s of suffixes) {
      const t = legacyTag(r.digest, s, repo.tagPrefix);
      const m = await repo.getManifest(t, `${image} ${t}`);
      if (m && (await repo.deleteManifest(m.digest))) removed.push(t);
    }
    if (type === 'sbom') return removed;
    const { descriptors, usedTagSchema } = await listReferrers(repo, r.digest, image);
    const gone = new Set<string>();
    for (const d of descriptors) {
      if (d.artifactType !== undefined && !BUNDLE_MEDIA_TYPES.includes(d.artifactType)) continue;
      const isSig = referrerKind(d) === 'sig';
      if (type === 'signature' && !isSig) continue;
      if (type === 'attestation' && isSig) continue;
      await repo.deleteManifest(d.digest);
      gone.add(d.digest.text);
      removed.push(d.digest.text);
    }
    if (usedTagSchema && gone.size > 0) {
      if (gone.size === descriptors.length) {
        const idx = await repo.getManifest(digestTag(r.digest), image);
        if (idx) await repo.deleteManifest(idx.digest);
      } else await removeFromTagSchema(repo, r.digest, gone, image);
    }
  } catch (e) {
    throw aboutImage(image, e);
  }
  return removed;
}
