/**
 * Finding what is attached to an image, in both places cosign stores it:
 *  - OCI 1.1 referrers (the referrers API, or on 404 the referrers tag schema `sha256-<hex>`),
 *    whose bundle layer is a Sigstore bundle (cosign specs/BUNDLE_SPEC.md);
 *  - the legacy `sha256-<hex>.sig` / `.att` tags, one signature per layer (SIGNATURE_SPEC.md).
 * A candidate that is not what it claims becomes a rejection with its reason, never a crash.
 */
import { parseBundleJSON, type Bundle } from '../../bundle/bundle.ts';
import { SignetError } from '../../core/errors.ts';
import { mapLimited } from '../../core/concurrent.ts';
import { digestTag, type Digest } from '../../core/oci/digest.ts';
import {
  ANN_BUNDLE_PREDICATE,
  BUNDLE_MEDIA_TYPES,
  COSIGN_SIGN_PREDICATE,
  DSSE_MEDIA_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  legacyTag,
} from '../../core/oci/cosign.ts';
import { parseManifest, type Descriptor, type ImageManifest } from '../../core/oci/manifest.ts';
import { legacyLayerToBundle } from './legacy.ts';
import type { ImageSource } from './source.ts';
import { parseJsonText } from '../../core/json.ts';

/** Referrer manifests examined per image; more are reported, not fetched. */
export const MAX_REFERRERS = 256;
/** Layers examined per legacy tag. */
export const MAX_LEGACY_LAYERS = 256;
/** A signature payload or bundle larger than this is refused (an SBOM attestation may be large). */
export const MAX_ATTACHMENT_BYTES = 128 * 1024 * 1024;
/**
 * The bytes of signature payloads, bundles and attestations read of one image and held until
 * they are verified. Without a bound, a registry (or whoever may push to the repository) makes
 * every verifier of the image hold what it serves: 256 referrers and 256 layers per legacy tag
 * of up to MAX_ATTACHMENT_BYTES each, tens of GiB, and an admission webhook that much per
 * review. Real cosign signatures are small (a simple-signing payload ~1 KB, a bundle ~10 KB);
 * an attestation (an SBOM) may be some MBs: 64 MiB holds many of those and keeps a webhook
 * reviewing a few images at once within a few hundred MB. A candidate that does not fit is
 * rejected with the reason, not fetched; the others are still verified.
 */
export const MAX_IMAGE_ATTACHMENT_BYTES = 64 * 1024 * 1024;
/**
 * Candidates this small are read even when the budget is spent, so that large ones served
 * first cannot crowd out a real signature: at most (MAX_REFERRERS + 2 * MAX_LEGACY_LAYERS)
 * of them, 48 MiB, beside the budget.
 */
export const SMALL_ATTACHMENT_BYTES = 64 * 1024;

/** What one image's candidates may hold (MAX_IMAGE_ATTACHMENT_BYTES), shared by its readers. */
export class AttachmentBudget {
  private used = 0;
  readonly limit: number;
  constructor(limit = MAX_IMAGE_ATTACHMENT_BYTES) {
    this.limit = limit;
  }
  /**
   * Counts `size` bytes of `what` ("its bundle") as held, or throws why they may not be read;
   * returns the bytes to give back when the candidate is dropped.
   */
  take(size: number, what: string): number {
    if (size > MAX_ATTACHMENT_BYTES)
      throw new Error(`${what} is ${size} bytes, more than the ${MAX_ATTACHMENT_BYTES} byte limit`);
    if (size <= SMALL_ATTACHMENT_BYTES) return 0;
    if (this.used + size > this.limit)
      throw new Error(
        `${what} is ${size} bytes, ${this.used > 0 ? `and with the ${this.used} bytes of those read before it ` : ''}more than the ${this.limit} bytes read of an image's signatures and attestations`,
      );
    this.used += size;
    return size;
  }
  give(n: number): void {
    this.used -= n;
  }
}

export type AttachmentKind = 'signature' | 'attestation';

export interface Attachment {
  kind: AttachmentKind;
  /** Where it was found, for messages: `referrer sha256:...` or `tag sha256-....sig layer 2`. */
  location: string;
  scheme: 'referrer' | 'legacy';
  bundle: Bundle;
  /** Legacy signatures: the signed simple-signing payload. */
  payload?: Uint8Array;
  /** The predicate type the registry metadata names (referrer annotation or legacy layer). */
  predicateType?: string;
  /** The referrer manifest's digest (referrers) or the legacy tag. */
  manifest: string;
}

export interface Rejected {
  location: string;
  reason: string;
}

export interface Discovery {
  attachments: Attachment[];
  /** Candidates that could not be read as signatures (counted as found, not tried). */
  unreadable: Rejected[];
  /** True when the registry has no referrers API and the tag schema was read. */
  usedTagSchema: boolean;
  /** Referrers beyond MAX_REFERRERS, not examined. */
  skipped: number;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The referrers of `digest`: the API's answer, or the tag schema index on 404. */
export async function listReferrers(
  source: ImageSource,
  digest: Digest,
  what: string,
): Promise<{ descriptors: Descriptor[]; usedTagSchema: boolean }> {
  const readTagSchema = () =>
    source.getManifest(digestTag(digest), `${what} referrers tag ${digestTag(digest)}`).then(
      (v) => ({ v }),
      (e: unknown) => ({ e }),
    );
  // Unless the source is known to have the API, the tag schema index is asked for at the same
  // time: most registries still lack the API, and a round trip is most of what verifying an
  // image costs. Its answer waits for the API's, and is not used when the API answers
  // (distribution-spec v1.1: the tag schema is the fallback for a 404).
  const tagged = source.answersReferrers?.() === true ? undefined : readTagSchema();
  const api = await source.referrers(digest, what);
  if (api) return { descriptors: api, usedTagSchema: false };
  const got = await (tagged ?? readTagSchema());
  if ('e' in got) throw got.e;
  const idx = got.v;
  if (!idx) return { descriptors: [], usedTagSchema: true };
  const m = parseManifest(idx.bytes, idx.mediaType, `${what} referrers tag ${digestTag(digest)}`);
  if (m.kind !== 'index') return { descriptors: [], usedTagSchema: true };
  return { descriptors: m.manifests, usedTagSchema: true };
}

/** Everything attached to the image `digest` that `kinds` asks for. */
export async function discover(
  source: ImageSource,
  digest: Digest,
  what: string,
  kinds: AttachmentKind[] = ['signature', 'attestation'],
  /** cosign's ociremote.WithPrefix (policy-controller `source[].tagPrefix`): `<prefix>sha256-<hex>.sig`. */
  tagPrefix = source.tagPrefix ?? '',
  /** What the image's candidates may hold; one per image, shared by all its sources. */
  budget = new AttachmentBudget(),
): Promise<Discovery> {
  const out: Discovery = { attachments: [], unreadable: [], usedTagSchema: false, skipped: 0 };
  // The places are independent: ask the registry about all of them at once.
  const parts = [
    fromReferrers(source, digest, what, kinds, budget),
    ...(['sig', 'att'] as const)
      .filter((s) => kinds.includes(s === 'sig' ? 'signature' : 'attestation'))
      .map((s) => fromLegacy(source, digest, what, s, tagPrefix, budget)),
  ];
  for (const p of await Promise.all(parts)) {
    out.attachments.push(...p.attachments);
    out.unreadable.push(...p.unreadable);
    out.usedTagSchema ||= p.usedTagSchema;
    out.skipped += p.skipped;
  }
  return out;
}

/** At most this many referrer fetches in flight. */
const PARALLEL = 8;

async function fromReferrers(
  source: ImageSource,
  digest: Digest,
  what: string,
  kinds: AttachmentKind[],
  budget: AttachmentBudget,
): Promise<Discovery> {
  const out: Discovery = { attachments: [], unreadable: [], usedTagSchema: false, skipped: 0 };
  const { descriptors, usedTagSchema } = await listReferrers(source, digest, what);
  out.usedTagSchema = usedTagSchema;
  // cosign's own tag-schema fallback leaves artifactType out of the entries (cosign#4641):
  // those must be fetched to learn what they are; typed entries of other types are skipped.
  const candidates = descriptors.filter(
    (d) => d.artifactType === undefined || BUNDLE_MEDIA_TYPES.includes(d.artifactType),
  );
  if (candidates.length > MAX_REFERRERS) out.skipped = candidates.length - MAX_REFERRERS;
  const results = await mapLimited(candidates.slice(0, MAX_REFERRERS), PARALLEL, (d) =>
    readReferrer(source, digest, what, kinds, d, budget),
  );
  for (const r of results)
    if (r && 'bundle' in r) out.attachments.push(r);
    else if (r) out.unreadable.push(r);
  return out;
}

/** One referrer: the attachment, why it is unreadable, or undefined when it is not ours. */
async function readReferrer(
  source: ImageSource,
  digest: Digest,
  what: string,
  kinds: AttachmentKind[],
  d: Descriptor,
  budget: AttachmentBudget,
): Promise<Attachment | Rejected | undefined> {
  const location = `referrer ${d.digest.text}`;
  // The bundle's bytes counted as held: given back when the candidate is dropped.
  const held = { bytes: 0 };
  try {
    const m = await source.getManifest(d.digest.text, `${what} ${location}`);
    if (!m) throw new Error('the registry lists it but has no such manifest');
    const man = parseManifest(m.bytes, m.mediaType, `${what} ${location}`);
    if (man.kind !== 'manifest') throw new Error('it is an index, not a manifest');
    const at = man.artifactType ?? man.config.mediaType;
    if (!BUNDLE_MEDIA_TYPES.includes(at)) return undefined; // not a Sigstore bundle: not ours to judge
    if (man.subject?.digest.text !== digest.text)
      throw new Error(`its subject is ${man.subject?.digest.text ?? 'missing'}, not this image`);
    const predicateType =
      man.annotations?.[ANN_BUNDLE_PREDICATE] ?? d.annotations?.[ANN_BUNDLE_PREDICATE];
    const kind: AttachmentKind =
      predicateType === undefined || predicateType === COSIGN_SIGN_PREDICATE
        ? 'signature'
        : 'attestation';
    if (!kinds.includes(kind) && predicateType !== undefined) return undefined;
    const bundle = await readBundleLayer(source, man, `${what} ${location}`, budget, held);
    const k: AttachmentKind = predicateType !== undefined ? kind : bundleKind(bundle);
    if (!kinds.includes(k)) {
      budget.give(held.bytes);
      return undefined;
    }
    const a: Attachment = {
      kind: k,
      location,
      scheme: 'referrer',
      bundle,
      manifest: d.digest.text,
    };
    if (predicateType !== undefined) a.predicateType = predicateType;
    return a;
  } catch (e) {
    budget.give(held.bytes);
    return { location, reason: reason(e) };
  }
}

/** Without the annotation: a DSSE statement of cosign's sign predicate is a signature. */
function bundleKind(b: Bundle): AttachmentKind {
  if (b.content.$case !== 'dsseEnvelope') return 'signature';
  try {
    const s = parseJsonText(b.content.dsseEnvelope.payload, 'payload') as {
      predicateType?: unknown;
    };
    return s.predicateType === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation';
  } catch {
    return 'attestation';
  }
}

async function readBundleLayer(
  source: ImageSource,
  man: ImageManifest,
  what: string,
  budget: AttachmentBudget,
  held: { bytes: number },
): Promise<Bundle> {
  const layer = man.layers.find((l) => BUNDLE_MEDIA_TYPES.includes(l.mediaType));
  if (!layer) throw new Error('it has no Sigstore bundle layer');
  held.bytes = budget.take(layer.size, 'its bundle');
  // No more than the manifest says (what was counted): a larger answer is refused as it comes.
  const bytes = await source.getBlob(layer.digest, what, layer.size);
  try {
    return parseBundleJSON(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`its bundle is not a valid Sigstore bundle: ${reason(e)}`, { cause: e });
  }
}

async function fromLegacy(
  source: ImageSource,
  digest: Digest,
  what: string,
  suffix: 'sig' | 'att',
  prefix: string,
  budget: AttachmentBudget,
): Promise<Discovery> {
  const out: Discovery = { attachments: [], unreadable: [], usedTagSchema: false, skipped: 0 };
  const tag = legacyTag(digest, suffix, prefix);
  // Registry failures (down, unauthorized) are the whole verification's failure, not a rejection.
  const m = await source.getManifest(tag, `${what} ${tag}`).catch((e: unknown) => {
    if (e instanceof SignetError && (e.code === 'INVALID_INPUT' || e.code === 'MANIFEST_TYPE')) {
      out.unreadable.push({ location: `tag ${tag}`, reason: reason(e) });
      return undefined;
    }
    throw e;
  });
  if (!m) return out;
  let man;
  try {
    man = parseManifest(m.bytes, m.mediaType, `${what} ${tag}`);
    if (man.kind !== 'manifest')
      throw new SignetError('invalid-input', 'INVALID_INPUT', 'it is an index, not a manifest');
  } catch (e) {
    out.unreadable.push({ location: `tag ${tag}`, reason: reason(e) });
    return out;
  }
  const want = suffix === 'sig' ? SIMPLE_SIGNING_MEDIA_TYPE : DSSE_MEDIA_TYPE;
  const layers = man.layers.filter((l) => l.mediaType === want);
  if (layers.length > MAX_LEGACY_LAYERS) out.skipped += layers.length - MAX_LEGACY_LAYERS;
  for (const [i, l] of layers.slice(0, MAX_LEGACY_LAYERS).entries()) {
    const location = `tag ${tag} layer ${i + 1}`;
    let held = 0;
    try {
      held = budget.take(l.size, 'its payload');
      const payload = await source.getBlob(l.digest, `${what} ${location}`, l.size);
      const bundle = legacyLayerToBundle(
        suffix,
        payload,
        l.annotations ?? {},
        `${what} ${location}`,
      );
      const a: Attachment = {
        kind: suffix === 'sig' ? 'signature' : 'attestation',
        location,
        scheme: 'legacy',
        bundle,
        manifest: tag,
      };
      if (suffix === 'sig') a.payload = payload;
      const pt = l.annotations?.predicateType;
      if (pt) a.predicateType = pt;
      out.attachments.push(a);
    } catch (e) {
      budget.give(held);
      out.unreadable.push({ location, reason: reason(e) });
    }
  }
  return out;
}
