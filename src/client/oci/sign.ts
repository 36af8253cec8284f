/**
 * Signing and attesting images, as cosign v3 does by default: a DSSE in-toto statement about
 * the manifest digest (predicate `https://sigstore.dev/cosign/sign/v1` for signatures), logged,
 * timestamped, packaged as a v0.3 bundle and pushed as an OCI 1.1 referrer; or, in `legacy`
 * mode, the simple-signing payload (or the envelope) appended to the `.sig` (`.att`) tag.
 * The log entry comes first: if it fails nothing is pushed; if the push fails after it, the
 * error says so (and `onSigned` has already seen the bundle, so `--bundle` is still written).
 */
import { serializeBundle, type Bundle } from '../../bundle/bundle.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import {
  INTOTO_PAYLOAD_TYPE,
  buildStatement,
  parseStatement,
  subjectsMatching,
} from '../../core/intoto/index.ts';
import {
  ANN_PREDICATE_TYPE,
  COSIGN_SIGN_PREDICATE,
  DSSE_MEDIA_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from '../../core/oci/cosign.ts';
import { repositoryName, type ImageReference } from '../../core/oci/reference.ts';
import { buildSimpleSigning, parseSimpleSigning } from '../../core/oci/simple-signing.ts';
import { parseJsonText } from '../../core/json.ts';
import type { Descriptor } from '../../core/oci/manifest.ts';
import { signArtifact, signEnvelope, type SignContext } from '../sign/sign.ts';
import type { SigningServices } from '../sign/services.ts';
import {
  aboutImage,
  attachmentsOf,
  repositoryOf,
  resolveImage,
  resolveRecursive,
  type ResolvedImage,
} from './image.ts';
import { bundleToLegacyAnnotations } from './legacy.ts';
import type { RegistryOptions, Repository } from './registry.ts';
import { appendLegacy, attachBundle, type AppendOptions } from './write.ts';

export type ReferrersMode = 'oci-1-1' | 'legacy';

export interface ImageWriteOptions {
  /** `oci-1-1` (default): bundle as a referrer; `legacy`: the `.sig`/`.att` tag scheme. */
  mode?: ReferrersMode;
  /** false: sign only (`--upload=false`); the bundle goes to `onSigned`. */
  upload?: boolean;
  registry?: RegistryOptions;
  /** Each new bundle and the payload it signs (the simple-signing JSON or the statement), before it is pushed. */
  onSigned?: (image: ResolvedImage, bundle: Bundle, payload: Uint8Array) => Promise<void> | void;
  onEvent?: (message: string) => void;
  /**
   * `legacy`: record the time as the `.sig`/`.att` image's creation (cosign
   * --record-creation-timestamp; a referrer always carries it).
   */
  recordCreationTimestamp?: boolean;
}

export interface ImageSignOptions extends ImageWriteOptions {
  /** `-a key=value`. */
  annotations?: Record<string, string>;
  /** `-r`: an index and every manifest in it. */
  recursive?: boolean;
  /**
   * `legacy`: the docker-reference each signature claims (cosign --sign-container-identity:
   * the name a mirror serves the image under); one signature each. Default: the repository.
   */
  containerIdentities?: string[];
  /** `legacy`: a simple-signing payload to sign as given (cosign --payload); it must be about the image. */
  payload?: Uint8Array;
}

export interface ImageAttestOptions extends ImageWriteOptions {
  /** `legacy`: the new attestation replaces those of its predicate type on `.att` (cosign --replace). */
  replace?: boolean;
}

export interface SignedImage {
  image: ResolvedImage;
  bundle: Bundle;
  /** Where it was stored (referrer digest or legacy tag); undefined without upload. */
  stored?: string;
}

/**
 * That the scheme can carry the log entry of the services chosen: the legacy scheme needs a
 * Rekor v1 one. The CLI checks before it spends a token on a certificate (setupSigning's
 * checkServices); signing checks again.
 */
export function checkReferrersMode(mode: ReferrersMode, services: SigningServices): void {
  if (
    mode === 'legacy' &&
    services.tlogs.length > 0 &&
    !services.tlogs.some((t) => t.majorApiVersion === 1)
  )
    throw invalid(
      '--registry-referrers-mode',
      // cosign (signcommon.LoadTrustedMaterialAndSigningConfig) refuses the old format with a
      // signing config unless --bundle keeps the verification material, since its layer
      // annotation (RekorBundleFromProtoTlogEntry) has no SET or integrated time to give for a
      // Rekor v2 entry. Signet refuses instead of pushing a signature no verifier can check.
      'the legacy .sig/.att scheme keeps the log entry as a Rekor v1 bundle annotation (signed entry timestamp and integrated time), which a Rekor v2 entry does not have, so older verifiers could not check it (cosign refuses its old format with a signing config for the same reason); the log chosen from the signing config is a Rekor v2 one: use --rekor-version 1 (a Rekor v1 log of the signing config), or --registry-referrers-mode oci-1-1',
    );
}

/** How a legacy layer is appended: with the creation time, when asked for. */
function appendOptions(o: ImageWriteOptions): AppendOptions {
  return o.recordCreationTimestamp ? { created: new Date() } : {};
}

function logged(bundle: Bundle): string {
  const e = bundle.verificationMaterial.tlogEntries;
  return e.length > 0
    ? `the transparency log entry (index ${e.map((x) => x.logIndex).join(', ')}) was made`
    : 'it was signed';
}

async function push(
  image: ResolvedImage,
  bundle: Bundle,
  payload: Uint8Array,
  o: ImageWriteOptions,
  store: () => Promise<string>,
): Promise<string | undefined> {
  await o.onSigned?.(image, bundle, payload);
  if (o.upload === false) return undefined;
  try {
    return await store();
  } catch (e) {
    throw new SignetError(
      e instanceof SignetError ? e.kind : 'internal',
      'PUSH_FAILED',
      `${logged(bundle)}, but pushing the signature to ${image.ref.registry}/${image.ref.repository} failed: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Sign images already resolved (the CLI resolves before it asks for a token). */
export async function signResolved(
  images: ResolvedImage[],
  ctx: SignContext,
  o: ImageSignOptions = {},
): Promise<SignedImage[]> {
  const mode = o.mode ?? 'oci-1-1';
  checkReferrersMode(mode, ctx.services);
  checkSignOptions(o);
  const out: SignedImage[] = [];
  for (const image of images) {
    const repo = attachmentsOf(image.ref, o.registry);
    const what = `${image.ref.registry}/${image.ref.repository}@${image.digest.text}`;
    if (mode === 'legacy') {
      for (const payload of legacyPayloads(image, o)) {
        const bundle = await signArtifact(payload, ctx);
        const annotations = bundleToLegacyAnnotations(bundle);
        const stored = await push(image, bundle, payload, o, () =>
          appendLegacy(
            repo,
            image.digest,
            'sig',
            { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload, annotations },
            what,
            appendOptions(o),
          ),
        );
        out.push({ image, bundle, ...(stored ? { stored } : {}) });
      }
      continue;
    }

    // cosign signDigestBundle: subject = the digest, with the annotations; empty predicate.
    const subject: Record<string, unknown> = {
      digest: { [image.digest.algorithm]: image.digest.hex },
    };
    if (o.annotations && Object.keys(o.annotations).length > 0) subject.annotations = o.annotations;
    const statement = new TextEncoder().encode(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [subject],
        predicateType: COSIGN_SIGN_PREDICATE,
        predicate: {},
      }),
    );
    const bundle = await signEnvelope(statement, INTOTO_PAYLOAD_TYPE, ctx);
    const stored = await push(
      image,
      bundle,
      statement,
      o,
      async () =>
        (
          await attachBundle(
            repo,
            image.descriptor,
            new TextEncoder().encode(serializeBundle(bundle)),
            COSIGN_SIGN_PREDICATE,
            what,
          )
        ).text,
    );
    out.push({ image, bundle, ...(stored ? { stored } : {}) });
  }
  return out;
}

/**
 * Options that contradict each other, refused before anything is signed (the CLI asks before it
 * gets a certificate): the payload options belong to the legacy scheme.
 */
export function checkSignOptions(o: ImageSignOptions): void {
  if (
    (o.mode ?? 'oci-1-1') !== 'legacy' &&
    (o.payload !== undefined || o.containerIdentities?.length)
  )
    throw invalid(
      o.payload !== undefined ? '--payload' : '--sign-container-identity',
      'sets the simple-signing payload of the legacy .sig scheme; the oci-1-1 scheme signs an in-toto statement about the digest (use --registry-referrers-mode legacy)',
    );
  if (o.payload !== undefined && o.containerIdentities?.length)
    throw invalid('--sign-container-identity', 'goes with a generated payload, not --payload');
}

/**
 * The simple-signing payloads a legacy signature of `image` signs: the one given (checked to be
 * about the image), else one per claimed identity (the repository by default), as cosign's
 * signDigest makes them.
 */
function legacyPayloads(image: ResolvedImage, o: ImageSignOptions): Uint8Array[] {
  if (o.payload !== undefined) {
    const p = parseSimpleSigning(o.payload, '--payload');
    if (p.manifestDigest.text !== image.digest.text)
      throw invalid(
        '--payload',
        `is about ${p.manifestDigest.text}, not the image (${image.digest.text})`,
      );
    return [o.payload];
  }
  const identities = o.containerIdentities?.length
    ? o.containerIdentities
    : [repositoryName(image.ref)];
  return identities.map((id) => buildSimpleSigning(id, image.digest, o.annotations));
}

/** Resolve `image` (and with `recursive`, every manifest of its index) and sign each. */
export async function signImage(
  image: string | ImageReference,
  ctx: SignContext,
  o: ImageSignOptions = {},
): Promise<SignedImage[]> {
  const resolved = await resolveImage(image, o.registry ? { registry: o.registry } : {});
  const all = o.recursive
    ? await resolveRecursive(resolved, repositoryOf(resolved.ref, o.registry))
    : [resolved];
  return signResolved(all, ctx, o);
}

export interface AttestInput {
  /** A predicate and its type URI: the statement is built about the image. */
  predicateType?: string;
  predicate?: unknown;
  /** Or a whole statement, signed as given; one subject must be the image's digest. */
  statement?: Uint8Array;
}

/** The statement an attestation of `image` signs (cosign attest: subject name = the repository). */
export function attestationStatement(
  image: ResolvedImage,
  input: AttestInput,
): { statement: Uint8Array; predicateType: string } {
  if (input.statement) {
    const parsed = parseStatement(input.statement, '--statement');
    if (subjectsMatching(parsed, image.digest.algorithm, image.digest.hex).length === 0)
      throw invalid(
        '--statement',
        `no subject of the statement has the digest of the image (${image.digest.text}): it is not about this image`,
      );
    return { statement: input.statement, predicateType: parsed.predicateType };
  }
  if (input.predicateType === undefined) throw invalid('--type', 'is required with --predicate');
  return {
    statement: buildStatement(
      [{ name: repositoryName(image.ref), digest: { [image.digest.algorithm]: image.digest.hex } }],
      input.predicateType,
      input.predicate ?? {},
    ),
    predicateType: input.predicateType,
  };
}

export async function attestResolved(
  image: ResolvedImage,
  input: AttestInput,
  ctx: SignContext,
  o: ImageAttestOptions = {},
): Promise<SignedImage> {
  const mode = o.mode ?? 'oci-1-1';
  checkReferrersMode(mode, ctx.services);
  const { statement, predicateType } = attestationStatement(image, input);
  const repo = attachmentsOf(image.ref, o.registry);
  const what = `${image.ref.registry}/${image.ref.repository}@${image.digest.text}`;
  const bundle = await signEnvelope(statement, INTOTO_PAYLOAD_TYPE, ctx);
  let stored: string | undefined;
  if (mode === 'legacy') {
    if (bundle.content.$case !== 'dsseEnvelope')
      throw new SignetError('internal', 'NOT_DSSE', 'expected a DSSE bundle');
    const { envelopeToJSON } = await import('../../core/dsse/index.ts');
    const payload = new TextEncoder().encode(
      JSON.stringify(envelopeToJSON(bundle.content.dsseEnvelope)),
    );
    const annotations = {
      ...bundleToLegacyAnnotations(bundle),
      [ANN_PREDICATE_TYPE]: predicateType,
    };
    stored = await push(image, bundle, statement, o, () =>
      appendLegacy(
        repo,
        image.digest,
        'att',
        { mediaType: DSSE_MEDIA_TYPE, payload, annotations },
        what,
        {
          ...appendOptions(o),
          ...(o.replace ? { replaces: (l) => ofPredicateType(repo, l, predicateType, what) } : {}),
        },
      ),
    );
  } else
    stored = await push(
      image,
      bundle,
      statement,
      o,
      async () =>
        (
          await attachBundle(
            repo,
            image.descriptor,
            new TextEncoder().encode(serializeBundle(bundle)),
            predicateType,
            what,
          )
        ).text,
    );
  return { image, bundle, ...(stored ? { stored } : {}) };
}

/**
 * Whether a legacy `.att` layer is an attestation of `predicateType`: its envelope's statement
 * says so (cosign's ReplaceOp reads the payload too). A layer that is not one is kept.
 */
async function ofPredicateType(
  repo: Repository,
  layer: Descriptor,
  predicateType: string,
  what: string,
): Promise<boolean> {
  try {
    const { parseEnvelope } = await import('../../core/dsse/index.ts');
    const bytes = await repo.getBlob(layer.digest, `${what} attestation layer`);
    const envelope = parseEnvelope(parseJsonText(bytes, 'attestation layer'), 'attestation layer');
    return (
      parseStatement(envelope.payload, 'attestation statement').predicateType === predicateType
    );
  } catch (e) {
    if (e instanceof SignetError && e.kind === 'invalid-input') return false;
    throw e;
  }
}

export async function attestImage(
  image: string | ImageReference,
  input: AttestInput,
  ctx: SignContext,
  o: ImageAttestOptions = {},
): Promise<SignedImage> {
  const resolved = await resolveImage(image, o.registry ? { registry: o.registry } : {});
  try {
    return await attestResolved(resolved, input, ctx, o);
  } catch (e) {
    throw aboutImage(
      typeof image === 'string' ? image : `${image.registry}/${image.repository}`,
      e,
    );
  }
}
