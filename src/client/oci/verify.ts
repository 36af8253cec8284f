/**
 * Image verification: find every signature (or attestation) attached to the image, verify each
 * through the one bundle verifier (client/verify/verifier.ts) with the image's manifest digest
 * as the artifact, then check what only images have (the legacy payload names this digest, the
 * required annotations). Reports found / tried / verified, as cosign users expect.
 */
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import type { Bundle } from '../../bundle/bundle.ts';
import type { DetachedSignature } from './detached.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import { fromHex } from '../../core/encoding/hex.ts';
import { parseSimpleSigning } from '../../core/oci/simple-signing.ts';
import { parseReference, type ImageReference } from '../../core/oci/reference.ts';
import type { Digest } from '../../core/oci/digest.ts';
import { formatPlatform, type Platform } from '../../core/oci/platform.ts';
import {
  verifyBundle,
  type Artifact,
  type SignerPolicy,
  type VerificationResult,
  type VerifyOptions,
} from '../verify/verifier.ts';
import {
  discover,
  type Attachment,
  type AttachmentKind,
  type Discovery,
  type Rejected,
} from './discover.ts';
import {
  aboutImage,
  attachmentsOf,
  resolvePlatform,
  repositoryOf,
  resolveImage,
  type PinnedImage,
  type ResolvedImage,
} from './image.ts';
import type { RegistryOptions } from './registry.ts';
import type { ImageSource } from './source.ts';
import { parseJsonText } from '../../core/json.ts';

export interface ImageVerifyOptions {
  trustedRoot: TrustedRoot;
  policy: SignerPolicy;
  /** `-a key=value`: every one must be among the signature's annotations. */
  annotations?: Record<string, string>;
  /** Verify attestations instead of signatures; with a predicate type, only that type. */
  attestations?: boolean;
  predicateType?: string;
  /**
   * The verifier's options, or a function of each signature's bundle giving them (cosign's
   * --insecure-ignore-tlog depends on whether the bundle has a timestamp: verifyOptionsFrom).
   */
  verify?: VerifyOptions | ((bundle: Bundle) => VerifyOptions);
  registry?: RegistryOptions;
  /** Read from here instead of the image's registry (e.g. a LocalLayout). */
  source?: ImageSource;
  /**
   * Of a multi-platform index, verify the image for this platform (what is attached to it),
   * not the index. Not with `detached`.
   */
  platform?: Platform;
  /**
   * Verify this detached signature (cosign verify --signature --payload --certificate) instead
   * of those attached to the image; the image is still resolved to its digest.
   */
  detached?: DetachedSignature;
}

export interface VerifiedAttachment {
  kind: AttachmentKind;
  scheme: 'referrer' | 'legacy';
  location: string;
  result: VerificationResult;
  /** The signature's annotations (legacy payload `optional`, or the statement subject's). */
  annotations: Record<string, unknown>;
  /** The verified in-toto statement (attestations and bundle-scheme signatures), as JSON. */
  statement?: unknown;
  /** Legacy signatures: the simple-signing payload that was signed. */
  payload?: unknown;
}

export interface ImageVerification {
  image: PinnedImage;
  /** Signatures of the asked kind found (readable or not). */
  found: number;
  /** Those that could be read and were checked. */
  tried: number;
  verified: VerifiedAttachment[];
  rejected: Rejected[];
  /** Referrers not examined (over the limit). */
  skipped: number;
}

function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

function annotationsMatch(
  have: Record<string, unknown>,
  want: Record<string, string> | undefined,
): string | undefined {
  for (const [k, v] of Object.entries(want ?? {})) {
    if (!Object.hasOwn(have, k)) return `it has no annotation ${k}`;
    const got = have[k];
    if ((typeof got === 'string' ? got : JSON.stringify(got)) !== v)
      return `annotation ${k} is ${JSON.stringify(got)}, not "${v}"`;
  }
  return undefined;
}

/** Verify one attachment against the image; throws with the reason it does not hold. */
export function verifyAttachment(
  a: Attachment,
  image: Pick<ResolvedImage, 'digest'>,
  o: Pick<
    ImageVerifyOptions,
    'trustedRoot' | 'policy' | 'annotations' | 'predicateType' | 'verify'
  >,
): VerifiedAttachment {
  const given = typeof o.verify === 'function' ? o.verify(a.bundle) : o.verify;
  const opts: VerifyOptions = {
    ...given,
    // A layer of cosign's .sig/.att tag is no bundle to its user (legacyLayerToBundle makes
    // one to verify it): the messages name it as what it is, "the signature has 0 ...".
    ...(a.scheme === 'legacy' ? { names: { subject: `the ${a.kind}`, ...given?.names } } : {}),
  };
  if (a.kind === 'attestation' && o.predicateType !== undefined)
    opts.predicateType = o.predicateType;
  let artifact: Artifact;
  if (a.payload) artifact = { kind: 'bytes', data: a.payload };
  else
    artifact = {
      kind: 'digest',
      algorithm: image.digest.algorithm,
      digest: fromHex(image.digest.hex, 'digest'),
    };
  const result = verifyBundle(a.bundle, artifact, o.trustedRoot, o.policy, opts);
  const out: VerifiedAttachment = {
    kind: a.kind,
    scheme: a.scheme,
    location: a.location,
    result,
    annotations: {},
  };
  if (a.payload) {
    const p = parseSimpleSigning(a.payload, 'the signed payload');
    // --check-claims=false (cosign): the signature, signer and log only, not what it is about.
    if (opts.checkClaims !== false && p.manifestDigest.text !== image.digest.text)
      throw new SignetError(
        'verification',
        'WRONG_IMAGE',
        `the signature is for ${p.manifestDigest.text}, not this image`,
      );
    out.annotations = p.optional ?? {};
    out.payload = parseJsonText(a.payload, 'the signed payload');
  } else if (a.bundle.content.$case === 'dsseEnvelope') {
    const st = parseJsonText(a.bundle.content.dsseEnvelope.payload, 'the attestation statement');
    out.statement = st;
    const subjects = asObject(st).subject;
    const mine = Array.isArray(subjects)
      ? subjects.find(
          (s) => asObject(asObject(s).digest)[image.digest.algorithm] === image.digest.hex,
        )
      : undefined;
    out.annotations = asObject(asObject(mine).annotations);
    if (
      a.kind === 'signature' &&
      result.statement?.predicateType !== a.predicateType &&
      a.predicateType !== undefined
    )
      throw new SignetError(
        'verification',
        'ATTESTATION_TYPE',
        `the referrer says predicate type ${a.predicateType} but the statement has ${result.statement?.predicateType}`,
      );
  }
  const why = annotationsMatch(out.annotations, o.annotations);
  if (why) throw new SignetError('verification', 'ANNOTATIONS', why);
  return out;
}

/**
 * Every signature (or attestation) on the image, verified; never throws for a signature that
 * does not verify (it is listed in `rejected`). Registry failures do throw.
 */
export async function checkImage(
  image: string | ImageReference,
  o: ImageVerifyOptions,
): Promise<ImageVerification> {
  const ref = typeof image === 'string' ? parseReference(image) : image;
  const text = typeof image === 'string' ? image : `${image.registry}/${image.repository}`;
  const source = o.source ?? repositoryOf(ref, o.registry);
  // The signatures: in the layout, or where they are kept (COSIGN_REPOSITORY).
  const attached = o.source ?? attachmentsOf(ref, o.registry);
  const kind: AttachmentKind = o.attestations ? 'attestation' : 'signature';
  const look = (digest: Digest) =>
    discover(attached, digest, text, [kind]).catch((e: unknown) => {
      throw aboutImage(text, e);
    });
  let pinned: PinnedImage;
  let d: Discovery;
  if (o.platform) {
    if (o.detached)
      throw invalid('--platform', 'a detached signature is verified against the image named');
    pinned = (await resolvePlatform(image, o.platform, { source })).image;
    d = await look(pinned.digest);
  } else if (o.detached) {
    // Loaded when asked for: a verify start reads only the modules it uses (bench/image).
    const { detachedBundle, detachedSignatureLayer } = await import('./detached.ts');
    pinned = await resolveImage(image, { source });
    const layer = detachedSignatureLayer(pinned, o.detached);
    const attachment: Attachment = {
      kind: 'signature',
      location: `--signature ${o.detached.signature.name}`,
      scheme: 'legacy',
      bundle: detachedBundle(layer.payload, layer.annotations),
      payload: layer.payload,
      manifest: '(detached)',
    };
    d = { attachments: [attachment], unreadable: [], usedTagSchema: false, skipped: 0 };
  } else if (ref.digest) {
    // Given by digest, only the signatures are asked for, as cosign does
    // (ociremote.ResolveDigest): the image's manifest is fetched only when none is found, to
    // tell an image that is not there from one that is not signed.
    d = await look(ref.digest);
    pinned = { given: ref, ref, digest: ref.digest };
    if (d.attachments.length + d.unreadable.length === 0) await resolveImage(image, { source });
  } else {
    pinned = await resolveImage(image, { source });
    d = await look(pinned.digest);
  }
  const out: ImageVerification = {
    image: pinned,
    found: d.attachments.length + d.unreadable.length,
    tried: d.attachments.length,
    verified: [],
    rejected: [...d.unreadable],
    skipped: d.skipped,
  };
  for (const a of d.attachments) {
    try {
      out.verified.push(verifyAttachment(a, pinned, o));
    } catch (e) {
      out.rejected.push({
        location: a.location,
        reason: e instanceof Error ? e.message : String(e),
      });
    }
  }
  return out;
}

/**
 * Verify the image; throws unless at least one signature verifies: code NO_SIGNATURE (none
 * found; cosign exit 10) or NO_MATCHING_SIGNATURE (none verified; exit 12), naming the image.
 */
export async function verifyImage(
  image: string | ImageReference,
  o: ImageVerifyOptions,
): Promise<ImageVerification> {
  const r = await checkImage(image, o);
  const what = o.attestations ? 'attestation' : 'signature';
  // A layout's failure names its folder (the reference given is a stand-in).
  const name =
    o.source?.name ?? (typeof image === 'string' ? image : `${image.registry}/${image.repository}`);
  // With --platform: what was searched is the index's image for that platform, not the index.
  const of = o.platform ? ` for its ${formatPlatform(o.platform)} image` : '';
  if (r.found === 0)
    throw new SignetError(
      'verification',
      'NO_SIGNATURE',
      `${name}: no ${what}s found${of} (looked at the OCI referrers of ${r.image.digest.text} and the legacy ${what === 'signature' ? '.sig' : '.att'} tag)`,
      {
        details: { found: 0, tried: 0, valid: 0 },
      },
    );
  if (r.verified.length === 0)
    throw new SignetError(
      'verification',
      'NO_MATCHING_SIGNATURE',
      `${name}: no matching ${what}s${of}: ${r.found} found, ${r.tried} tried, 0 valid (${r.rejected
        .slice(0, 3)
        .map((x) => `${x.location}: ${x.reason}`)
        .join('; ')}${r.rejected.length > 3 ? `; and ${r.rejected.length - 3} more` : ''})`,
      { details: { found: r.found, tried: r.tried, valid: 0, rejected: r.rejected } },
    );
  return r;
}
