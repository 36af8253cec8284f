/**
 * cosign's detached signature of an image (attach signature and verify with --payload,
 * --signature, --certificate, --certificate-chain, --rekor-response, --tsr): the parts made into
 * the legacy `.sig` layer cosign would have written for them, and checked by reading that layer
 * back as the verifier does (legacy.ts). A payload about another image, a signature that is not
 * base64, certificates or a timestamp that do not parse, a log entry of another signature: each
 * is an error naming its flag and file.
 */
import { invalid } from '../../core/errors.ts';
import { parseJsonText } from '../../core/json.ts';
import {
  ANN_BUNDLE,
  ANN_CERTIFICATE,
  ANN_CHAIN,
  ANN_SIGNATURE,
  ANN_TIMESTAMP,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from '../../core/oci/cosign.ts';
import type { Digest } from '../../core/oci/digest.ts';
import { repositoryName, type ImageReference } from '../../core/oci/reference.ts';
import { buildSimpleSigning, parseSimpleSigning } from '../../core/oci/simple-signing.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { toBase64 } from '../../core/encoding/base64.ts';
import { parseCertificate } from '../../core/x509/certificate.ts';
import { parseTimestamp } from '../../core/rfc3161/token.ts';
import { parseBundle, serializeBundle, type Bundle } from '../../bundle/bundle.ts';
import type { BundleParts } from '../../bundle/assemble.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import type { VerifyFlags } from '../verify/setup.ts';
import type { SignerPolicy } from '../verify/verifier.ts';
import {
  bundleFormat,
  certificatesDer,
  parseLegacyCosignBundle,
  signatureBytes,
} from '../../bundle/assemble.ts';
import { legacyLayerToBundle, rekorBundleAnnotation, timestampAnnotation } from './legacy.ts';
import type { LegacyLayer } from './write.ts';

/** A file given on the command line: its name (for errors) and its bytes. */
export interface AttachFile {
  name: string;
  bytes: Uint8Array;
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

/** The legacy `.sig` layer the parts amount to, for the image `image` (its digest). */
export function detachedSignatureLayer(
  image: { ref: ImageReference; digest: Digest },
  parts: DetachedSignature,
): LegacyLayer {
  let payload = buildSimpleSigning(repositoryName(image.ref), image.digest, undefined);
  if (parts.payload) {
    const field = `--payload ${parts.payload.name}`;
    let value: unknown;
    try {
      value = parseJsonText(parts.payload.bytes, field);
    } catch {
      value = undefined; // not JSON: parseSimpleSigning says so below
    }
    if (bundleFormat(value) !== 'unknown')
      throw invalid(
        field,
        'is a bundle, which carries its own signature: give it without --signature',
      );
    const signed = parseSimpleSigning(parts.payload.bytes, field);
    if (signed.manifestDigest.text !== image.digest.text)
      throw invalid(
        field,
        `is about ${signed.manifestDigest.text}, not the image (${image.digest.text})`,
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
  // What verify reads: parts it could not make a bundle of are refused here.
  detachedBundle(payload, annotations);
  return { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload, annotations };
}

/** The bundle a detached layer amounts to (legacy.ts), as verify reads it. */
export function detachedBundle(payload: Uint8Array, annotations: Record<string, string>): Bundle {
  return legacyLayerToBundle('sig', payload, annotations, 'the signature');
}

/**
 * The log entry of a detached image signature, as `--rekor-response` would give it (a Sigstore
 * bundle): found as verify-blob finds a file's (client/verify/setup.ts loggedEntry; cosign's
 * verify looks it up in Rekor too), the hashedrekord of the payload's sha256 by the signer's key
 * (the certificate's, or `--key`'s).
 */
export async function detachedLogEntry(
  image: { ref: ImageReference; digest: Digest },
  parts: DetachedSignature,
  policy: SignerPolicy,
  root: TrustedRoot,
  flags: VerifyFlags,
): Promise<AttachFile> {
  const { detachedSigner, loggedEntry } = await import('../verify/setup.ts');
  const { assembleBundle } = await import('../../bundle/assemble.ts');
  const { createHash } = process.getBuiltinModule('node:crypto');
  const layer = detachedSignatureLayer(image, parts);
  const certificatePem = parts.certificate && new TextDecoder().decode(parts.certificate.bytes);
  const signer = detachedSigner(policy, certificatePem);
  const bundleParts: BundleParts = {
    signature: layer.annotations[ANN_SIGNATURE]!,
    attestation: false,
    digest: {
      algorithm: 'SHA2_256',
      digest: new Uint8Array(createHash('sha256').update(layer.payload).digest()),
    },
    certificatePem,
    publicKeyHint: certificatePem === undefined ? '' : undefined,
  };
  const entry = await loggedEntry({ parts: bundleParts, ...signer }, root, flags);
  const bundle = assembleBundle({ ...bundleParts, tlogEntries: [entry] });
  return { name: '(found in the log)', bytes: new TextEncoder().encode(serializeBundle(bundle)) };
}
