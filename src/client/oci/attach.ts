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
  ANN_BUNDLE,
  ANN_CERTIFICATE,
  ANN_CHAIN,
  ANN_PREDICATE_TYPE,
  ANN_SIGNATURE,
  ANN_TIMESTAMP,
  DSSE_MEDIA_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from '../../core/oci/cosign.ts';
import { repositoryName } from '../../core/oci/reference.ts';
import { buildSimpleSigning, parseSimpleSigning } from '../../core/oci/simple-signing.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { toBase64 } from '../../core/encoding/base64.ts';
import { parseCertificate } from '../../core/x509/certificate.ts';
import { parseTimestamp } from '../../core/rfc3161/token.ts';
import { parseBundle } from '../../bundle/bundle.ts';
import {
  bundleFormat,
  certificatesDer,
  parseLegacyCosignBundle,
  signatureBytes,
} from '../../bundle/assemble.ts';
import { aboutImage, resolveImage, repositoryOf, type ResolvedImage } from './image.ts';
import { legacyLayerToBundle, rekorBundleAnnotation, timestampAnnotation } from './legacy.ts';
import type { RegistryOptions } from './registry.ts';
import { appendLegacy, attachBundle } from './write.ts';

/** A file to attach: its name (for errors) and its bytes. */
export interface AttachFile {
  name: string;
  bytes: Uint8Array;
}

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
  o: { registry?: RegistryOptions } = {},
): Promise<Attached[]> {
  const resolved = await resolveImage(image, o.registry ? { registry: o.registry } : {});
  const field = kind === 'signature' ? '--bundle' : '--attestation';
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
      items.push({
        file: f.name,
        kind: 'bundle',
        bytes: f.bytes,
        predicateType: statementAbout(bundle.content.dsseEnvelope, resolved, at),
      });
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
  const repo = repositoryOf(resolved.ref, o.registry);
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

/** cosign attach signature's detached parts. */
export interface DetachedSignature {
  /** The simple-signing payload; left out: the one `imagePayload` gives (no annotations). */
  payload?: AttachFile;
  /** The signature over the payload, base64. */
  signature: AttachFile;
  /** The signing certificate (PEM); without it the signature is a key's. */
  certificate?: AttachFile;
  /** Its CA certificates (PEM), issuer first. */
  chain?: AttachFile;
  /** An RFC 3161 timestamp response (DER) over the signature. */
  timestamp?: AttachFile;
  /** The signature's Rekor v1 entry: cosign's pre-v3 --bundle JSON, or a Sigstore bundle. */
  rekorResponse?: AttachFile;
}

const eqBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** The Rekor bundle annotation from a --rekor-response file that logged `signature`. */
function rekorAnnotation(file: AttachFile, signature: Uint8Array): string {
  const field = `--rekor-response ${file.name}`;
  const value = parseJsonText(file.bytes, field);
  const format = bundleFormat(value);
  if (format === 'unknown')
    throw invalid(
      field,
      "is neither a Sigstore bundle nor cosign's --bundle JSON (base64Signature, rekorBundle)",
    );
  let logged: Uint8Array;
  let annotation: string;
  if (format === 'sigstore') {
    const bundle = parseBundle(value);
    const entry = bundle.verificationMaterial.tlogEntries.find(
      (e) => e.signedEntryTimestamp !== undefined,
    );
    if (!entry)
      throw invalid(
        field,
        'has no Rekor v1 entry with a signed entry timestamp, which the legacy .sig scheme carries',
      );
    if (bundle.content.$case !== 'messageSignature')
      throw invalid(field, 'holds a DSSE envelope, not a signature over a payload');
    logged = bundle.content.messageSignature.signature;
    annotation = rekorBundleAnnotation(entry);
  } else {
    logged = parseLegacyCosignBundle(value).signature;
    const { SignedEntryTimestamp, Payload } = (value as { rekorBundle: Record<string, unknown> })
      .rekorBundle;
    const p = Payload as Record<string, unknown>;
    annotation = JSON.stringify({
      SignedEntryTimestamp,
      Payload: {
        body: p.body,
        integratedTime: p.integratedTime,
        logIndex: p.logIndex,
        logID: p.logID,
      },
    });
  }
  if (!eqBytes(logged, signature))
    throw invalid(field, 'is the log entry of another signature than --signature');
  return annotation;
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
  let payload = buildSimpleSigning(repositoryName(resolved.ref), resolved.digest, undefined);
  if (parts.payload) {
    const field = `--payload ${parts.payload.name}`;
    let value: unknown;
    try {
      value = parseJsonText(parts.payload.bytes, field);
    } catch {
      value = undefined; // not JSON: parseSimpleSigning says so below
    }
    if (isBundle(value))
      throw invalid(
        field,
        'is a Sigstore bundle, which carries its own signature: attach it without --signature',
      );
    const signed = parseSimpleSigning(parts.payload.bytes, field);
    if (signed.manifestDigest.text !== resolved.digest.text)
      throw invalid(
        field,
        `is about ${signed.manifestDigest.text}, not the image (${resolved.digest.text})`,
      );
    payload = parts.payload.bytes;
  }
  const sigText = new TextDecoder().decode(parts.signature.bytes);
  const signature = signatureBytes(sigText, `--signature ${parts.signature.name}`);
  const annotations: Record<string, string> = { [ANN_SIGNATURE]: toBase64(signature) };
  const pems = (file: AttachFile, flag: string) => {
    const field = `${flag} ${file.name}`;
    return certificatesDer(new TextDecoder().decode(file.bytes), field).map((der, i, all) => {
      parseCertificate(der, all.length > 1 ? `${field} certificate ${i + 1}` : field);
      return encodePem('CERTIFICATE', der);
    });
  };
  if (parts.certificate) {
    const leaf = pems(parts.certificate, '--certificate');
    if (leaf.length !== 1)
      throw invalid(
        `--certificate ${parts.certificate.name}`,
        `holds ${leaf.length} certificates; give its CA certificates with --certificate-chain`,
      );
    annotations[ANN_CERTIFICATE] = leaf[0]!;
    if (parts.chain) annotations[ANN_CHAIN] = pems(parts.chain, '--certificate-chain').join('');
  } else if (parts.chain)
    throw invalid('--certificate-chain', 'goes with --certificate, the certificate it issued');
  if (parts.rekorResponse)
    annotations[ANN_BUNDLE] = rekorAnnotation(parts.rekorResponse, signature);
  if (parts.timestamp) {
    const field = `--tsr ${parts.timestamp.name}`;
    try {
      parseTimestamp(parts.timestamp.bytes);
    } catch (e) {
      throw invalid(field, `is not an RFC 3161 timestamp: ${(e as Error).message}`, e);
    }
    annotations[ANN_TIMESTAMP] = timestampAnnotation(parts.timestamp.bytes);
  }
  const what = `${resolved.ref.registry}/${resolved.ref.repository}@${resolved.digest.text}`;
  // What verify will read: if it cannot make a bundle of these parts, nothing goes up.
  legacyLayerToBundle('sig', payload, annotations, 'the signature');
  try {
    return await appendLegacy(
      repositoryOf(resolved.ref, o.registry),
      resolved.digest,
      'sig',
      { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload, annotations },
      what,
    );
  } catch (e) {
    throw aboutImage(image, e);
  }
}
