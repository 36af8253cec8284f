/**
 * `signet attach signature|attestation` (cosign attach): put on an image a signature or an
 * attestation made elsewhere, e.g. by `signet sign --upload=false --bundle FILE` on a machine
 * without registry access. Nothing is signed here and nothing is verified but the shape: a
 * verifier checks the signatures as for any other. What is refused is what could never be about
 * this image: a statement whose subjects do not include the image's digest.
 *
 * - A Sigstore bundle with a DSSE envelope goes up as an OCI 1.1 referrer, as `sign` writes it
 *   (cosign's attachAttestationNewBundle).
 * - A bare DSSE envelope, or several in one file (JSON Lines, as cosign reads them), go on the
 *   legacy `sha256-<hex>.att` image, one layer each (cosign's attachAttestation).
 * - A detached signature (cosign's attach signature --payload --signature): a signature made by
 *   any tool (a KMS, an HSM, openssl) over the simple-signing payload `signet generate` prints,
 *   with its certificate, chain, Rekor v1 entry and RFC 3161 timestamp if it has them, goes on
 *   the legacy `sha256-<hex>.sig` image as cosign's signature layer. The parts are read back as
 *   the verifier reads such a layer (legacy.ts) before anything is pushed.
 */
import { invalid } from '../../core/errors.ts';
import { parseJsonText } from '../../core/json.ts';
import { parseEnvelope, envelopeToJSON, type Envelope } from '../../core/dsse/index.ts';
import { INTOTO_PAYLOAD_TYPE, parseStatement, subjectsMatching } from '../../core/intoto/index.ts';
import {
  ANN_PREDICATE_TYPE,
  ANN_SIGNATURE,
  COSIGN_SIGN_PREDICATE,
  DSSE_MEDIA_TYPE,
} from '../../core/oci/cosign.ts';
import { repositoryName } from '../../core/oci/reference.ts';
import { buildSimpleSigning } from '../../core/oci/simple-signing.ts';
import { parseBundle } from '../../bundle/bundle.ts';
import { detachedSignatureLayer, type AttachFile, type DetachedSignature } from './detached.ts';
import { aboutImage, attachmentsOf, resolveImage, type ResolvedImage } from './image.ts';
import type { RegistryOptions } from './registry.ts';
import { appendLegacy, attachBundle } from './write.ts';

export type { AttachFile, DetachedSignature } from './detached.ts';

/** Where each attached item went: a referrer's digest or the legacy tag. */
export interface Attached {
  file: string;
  stored: string[];
}

/** The predicate type of an in-toto envelope about `image`, or an error naming `field`. */
function statementAbout(envelope: Envelope, image: ResolvedImage, field: string): string {
  if (envelope.payloadType !== INTOTO_PAYLOAD_TYPE)
    throw invalid(
      field,
      `the envelope's payloadType is ${envelope.payloadType}, not ${INTOTO_PAYLOAD_TYPE}`,
    );
  const statement = parseStatement(envelope.payload, `${field} statement`);
  if (subjectsMatching(statement, image.digest.algorithm, image.digest.hex).length === 0)
    throw invalid(
      field,
      `no subject of its statement has the digest of the image (${image.digest.text}): it is not about this image`,
    );
  return statement.predicateType;
}

/** JSON values one after another in `text` (a JSON document, or JSON Lines). */
function jsonValues(text: string, field: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid(field, 'is empty');
  try {
    return [parseJsonText(trimmed, field)];
  } catch (whole) {
    const lines = trimmed.split('\n').filter((l) => l.trim() !== '');
    if (lines.length < 2) throw whole;
    return lines.map((l, i) => parseJsonText(l, `${field} line ${i + 1}`));
  }
}

function isBundle(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { mediaType?: unknown }).mediaType === 'string' &&
    (v as { mediaType: string }).mediaType.startsWith('application/vnd.dev.sigstore.bundle')
  );
}

/**
 * Attach each of `files` to `image`: `signature` takes a Sigstore bundle; `attestation` a bundle
 * or DSSE envelopes. Every file is read and checked before anything is pushed.
 */
export async function attachToImage(
  image: string,
  kind: 'signature' | 'attestation',
  files: readonly AttachFile[],
  /** `field`: the flag that named the files, for errors (default --bundle / --attestation). */
  o: { registry?: RegistryOptions; field?: string } = {},
): Promise<Attached[]> {
  const resolved = await resolveImage(image, o.registry ? { registry: o.registry } : {});
  const field = o.field ?? (kind === 'signature' ? '--bundle' : '--attestation');
  type Item =
    | { file: string; kind: 'bundle'; bytes: Uint8Array; predicateType: string }
    | { file: string; kind: 'envelope'; envelope: Envelope; predicateType: string };
  const items: Item[] = [];
  for (const f of files) {
    const at = `${field} ${f.name}`;
    const values = jsonValues(new TextDecoder().decode(f.bytes), at);
    if (values.length === 1 && isBundle(values[0])) {
      const bundle = parseBundle(values[0]);
      if (bundle.content.$case !== 'dsseEnvelope')
        throw invalid(
          at,
          'the bundle has no DSSE envelope (a message signature of a file is not about an image)',
        );
      const predicateType = statementAbout(bundle.content.dsseEnvelope, resolved, at);
      // cosign v3 tells its image signatures from attestations by the predicate alone: a
      // bundle given as the other kind is refused rather than stored as what it is.
      if (kind === 'signature' && predicateType !== COSIGN_SIGN_PREDICATE)
        throw invalid(
          at,
          `is an attestation (predicate ${predicateType}), not an image signature (${COSIGN_SIGN_PREDICATE}): attach it with \`attach attestation --attestation\``,
        );
      if (kind === 'attestation' && predicateType === COSIGN_SIGN_PREDICATE)
        throw invalid(
          at,
          `is an image signature (predicate ${COSIGN_SIGN_PREDICATE}), not an attestation: attach it with \`attach signature --bundle\``,
        );
      items.push({ file: f.name, kind: 'bundle', bytes: f.bytes, predicateType });
      continue;
    }
    if (kind === 'signature')
      throw invalid(
        at,
        'is not a Sigstore bundle (a payload signed elsewhere goes with its --signature)',
      );
    for (const [i, v] of values.entries()) {
      const where = values.length > 1 ? `${at} line ${i + 1}` : at;
      const envelope = parseEnvelope(v, where);
      items.push({
        file: f.name,
        kind: 'envelope',
        envelope,
        predicateType: statementAbout(envelope, resolved, where),
      });
    }
  }
  const repo = attachmentsOf(resolved.ref, o.registry);
  const what = `${resolved.ref.registry}/${resolved.ref.repository}@${resolved.digest.text}`;
  const out = new Map<string, string[]>();
  try {
    for (const item of items) {
      const stored =
        item.kind === 'bundle'
          ? (await attachBundle(repo, resolved.descriptor, item.bytes, item.predicateType, what))
              .text
          : await appendLegacy(
              repo,
              resolved.digest,
              'att',
              {
                mediaType: DSSE_MEDIA_TYPE,
                payload: new TextEncoder().encode(JSON.stringify(envelopeToJSON(item.envelope))),
                annotations: { [ANN_SIGNATURE]: '', [ANN_PREDICATE_TYPE]: item.predicateType },
              },
              what,
            );
      out.set(item.file, [...(out.get(item.file) ?? []), stored]);
    }
  } catch (e) {
    throw aboutImage(image, e);
  }
  return [...out].map(([file, stored]) => ({ file, stored }));
}

/**
 * The simple-signing payload of `image` (cosign generate): what a detached signature signs,
 * exactly as `sign --registry-referrers-mode legacy` would sign it.
 */
export async function imagePayload(
  image: string,
  o: { annotations?: Record<string, string>; registry?: RegistryOptions } = {},
): Promise<Uint8Array> {
  const resolved = await resolveImage(image, o.registry ? { registry: o.registry } : {});
  return buildSimpleSigning(repositoryName(resolved.ref), resolved.digest, o.annotations);
}

/**
 * Attach a signature made elsewhere over `image`'s simple-signing payload to its legacy `.sig`
 * image. Refused before anything is pushed: a payload about another image or not
 * simple-signing, a signature that is not base64, certificates that do not parse, a timestamp
 * that is not RFC 3161, a log entry of another signature. The signature itself is checked by
 * `verify`, as every other (with --key or a certificate identity).
 */
export async function attachDetachedSignature(
  image: string,
  parts: DetachedSignature,
  o: { registry?: RegistryOptions } = {},
): Promise<string> {
  const resolved = await resolveImage(image, o.registry ? { registry: o.registry } : {});
  const layer = detachedSignatureLayer(resolved, parts);
  const what = `${resolved.ref.registry}/${resolved.ref.repository}@${resolved.digest.text}`;
  try {
    return await appendLegacy(
      attachmentsOf(resolved.ref, o.registry),
      resolved.digest,
      'sig',
      layer,
      what,
    );
  } catch (e) {
    throw aboutImage(image, e);
  }
}
