/**
 * cosign's legacy signature layers (specs/SIGNATURE_SPEC.md, pkg/oci/static/signature.go) to and
 * from Sigstore bundles: a layer's payload, signature annotation, certificate, chain, Rekor SET
 * bundle and RFC 3161 timestamp carry exactly what a v0.1 bundle carries, so a legacy signature
 * is verified by turning it into that bundle and handing it to the one verifier.
 */
import {
  MEDIA_TYPE_V01,
  parseBundle,
  type Bundle,
  type TransparencyLogEntry,
} from '../../bundle/bundle.ts';
import { invalid, SignetError } from '../../core/errors.ts';
import { decodePemAll, encodePem } from '../../core/encoding/pem.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { digest } from '../../core/crypto/digest.ts';
import {
  ANN_BUNDLE,
  ANN_CERTIFICATE,
  ANN_CHAIN,
  ANN_SIGNATURE,
  ANN_TIMESTAMP,
} from '../../core/oci/cosign.ts';
import { parseJsonText } from '../../core/json.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * The bundle a legacy layer amounts to. `kind` 'sig': the payload is the simple-signing JSON,
 * signed directly; 'att': the payload is a DSSE envelope (JSON).
 */
export function legacyLayerToBundle(
  kind: 'sig' | 'att',
  payload: Uint8Array,
  annotations: Record<string, string>,
  what: string,
): Bundle {
  const material: Record<string, unknown> = {};
  const certPem = annotations[ANN_CERTIFICATE];
  if (certPem) {
    const certs = decodePemAll(certPem, `${what} certificate`).map((b) => b.der);
    if (certs.length === 0) throw invalid(`${what} certificate`, 'holds no PEM certificate');
    const chain = annotations[ANN_CHAIN]
      ? decodePemAll(annotations[ANN_CHAIN], `${what} chain`).map((b) => b.der)
      : [];
    material.x509CertificateChain = {
      certificates: [certs[0]!, ...chain].map((d) => ({ rawBytes: b64(d) })),
    };
  } else material.publicKey = { hint: '' };
  const entries = annotations[ANN_BUNDLE]
    ? [rekorBundleToEntry(annotations[ANN_BUNDLE], `${what} Rekor bundle`)]
    : [];
  material.tlogEntries = entries.map((e) => e.json);
  if (annotations[ANN_TIMESTAMP]) {
    let ts: unknown;
    try {
      ts = parseJsonText(annotations[ANN_TIMESTAMP], `${what} timestamp`);
    } catch {
      ts = undefined;
    }
    if (!isObject(ts) || typeof ts.SignedRFC3161Timestamp !== 'string')
      throw invalid(`${what} timestamp`, 'is not {"SignedRFC3161Timestamp": base64}');
    material.timestampVerificationData = {
      rfc3161Timestamps: [{ signedTimestamp: ts.SignedRFC3161Timestamp }],
    };
  }
  let content: Record<string, unknown>;
  if (kind === 'sig') {
    const sig = annotations[ANN_SIGNATURE];
    if (!sig) throw invalid(`${what} signature`, `the layer has no ${ANN_SIGNATURE} annotation`);
    content = {
      messageSignature: {
        messageDigest: legacyMessageDigest(payload, entries[0]?.hashedrekordHash),
        signature: sig,
      },
    };
  } else {
    let env: unknown;
    try {
      env = parseJsonText(payload, what);
    } catch {
      throw invalid(what, 'the attestation layer is not a DSSE envelope (not JSON)');
    }
    content = { dsseEnvelope: env };
  }
  // A v0.1 bundle: SET-only log entries and certificate chains are allowed there.
  const bundle = parseBundle({
    mediaType: MEDIA_TYPE_V01,
    verificationMaterial: material,
    ...content,
  });
  // Without a hashedrekord entry nothing names the hash the payload was signed over: the layer
  // then gives no digest hint, and the verifier takes the signer's key's own (cosign signs with
  // its key's default: SHA-384 for P-384, Ed25519ph over SHA-512 for Ed25519).
  if (bundle.content.$case === 'messageSignature' && entries[0]?.hashedrekordHash === undefined)
    bundle.content.messageSignature.messageDigest = undefined;
  return bundle;
}

/**
 * A legacy layer names no digest algorithm: the payload itself is what was signed. The digest
 * is the one the layer's hashedrekord entry records (SHA-512 for an Ed25519 key, which signs
 * Ed25519ph; the verifier then checks the entry against it); without one, SHA-256 stands in
 * only until the bundle is parsed (legacyLayerToBundle then drops it).
 */
function legacyMessageDigest(
  payload: Uint8Array,
  logged: string | undefined,
): { algorithm: string; digest: string } {
  const hash = logged === 'sha384' || logged === 'sha512' ? logged : 'sha256';
  return { algorithm: `SHA2_${hash.slice(3)}`, digest: b64(digest(hash, payload)) };
}

/**
 * cosign's `{SignedEntryTimestamp, Payload:{body, integratedTime, logIndex, logID}}` as a bundle
 * tlog entry (JSON), and the digest algorithm of a hashedrekord body.
 */
function rekorBundleToEntry(
  text: string,
  what: string,
): { json: Record<string, unknown>; hashedrekordHash: string | undefined } {
  let v: unknown;
  try {
    v = parseJsonText(text, what);
  } catch {
    throw invalid(what, 'is not JSON');
  }
  if (!isObject(v) || !isObject(v.Payload) || typeof v.SignedEntryTimestamp !== 'string')
    throw invalid(what, 'is not {SignedEntryTimestamp, Payload}');
  const p = v.Payload;
  if (
    typeof p.body !== 'string' ||
    typeof p.logID !== 'string' ||
    !Number.isSafeInteger(p.logIndex) ||
    !Number.isSafeInteger(p.integratedTime)
  )
    throw invalid(`${what}.Payload`, 'needs body, integratedTime, logIndex and logID');
  if (!/^[0-9a-f]{64}$/.test(p.logID))
    throw invalid(`${what}.Payload.logID`, 'is not 64 hex digits');
  let body: Record<string, unknown>;
  try {
    body = parseJsonText(Buffer.from(p.body, 'base64'), `${what}.Payload.body`) as Record<
      string,
      unknown
    >;
  } catch {
    throw invalid(`${what}.Payload.body`, 'is not base64 JSON');
  }
  if (typeof body.kind !== 'string' || typeof body.apiVersion !== 'string')
    throw invalid(`${what}.Payload.body`, 'has no kind and apiVersion');
  const spec = body.spec;
  const data = isObject(spec) && isObject(spec.data) ? spec.data : undefined;
  const hash = data && isObject(data.hash) ? data.hash.algorithm : undefined;
  return {
    json: {
      logIndex: String(p.logIndex),
      logId: { keyId: Buffer.from(p.logID, 'hex').toString('base64') },
      kindVersion: { kind: body.kind, version: body.apiVersion },
      integratedTime: String(p.integratedTime),
      inclusionPromise: { signedEntryTimestamp: v.SignedEntryTimestamp },
      canonicalizedBody: p.body,
    },
    hashedrekordHash: body.kind === 'hashedrekord' && typeof hash === 'string' ? hash : undefined,
  };
}

/**
 * cosign's Rekor bundle annotation (pkg/cosign/bundle RekorBundle, Go field order) of a log entry
 * that has a signed entry timestamp.
 */
export function rekorBundleAnnotation(entry: TransparencyLogEntry): string {
  return JSON.stringify({
    SignedEntryTimestamp: b64(entry.signedEntryTimestamp!),
    Payload: {
      body: b64(entry.canonicalizedBody),
      integratedTime: entry.integratedTime,
      logIndex: entry.logIndex,
      logID: toHex(entry.logId),
    },
  });
}

/** cosign's RFC 3161 timestamp annotation (pkg/cosign/bundle RFC3161Timestamp). */
export function timestampAnnotation(der: Uint8Array): string {
  return JSON.stringify({ SignedRFC3161Timestamp: b64(der) });
}

/**
 * The layer annotations for a signature bundle (what cosign writes): the signature, the
 * certificate PEM, the Rekor v1 entry as a SET bundle, the RFC 3161 timestamp.
 */
export function bundleToLegacyAnnotations(bundle: Bundle): Record<string, string> {
  const a: Record<string, string> = {};
  const vm = bundle.verificationMaterial;
  a[ANN_SIGNATURE] =
    bundle.content.$case === 'messageSignature'
      ? b64(bundle.content.messageSignature.signature)
      : '';
  if (vm.signer.$case === 'certificate')
    a[ANN_CERTIFICATE] = encodePem('CERTIFICATE', vm.signer.certificate);
  else if (vm.signer.$case === 'x509CertificateChain') {
    a[ANN_CERTIFICATE] = encodePem('CERTIFICATE', vm.signer.certificates[0]!);
    if (vm.signer.certificates.length > 1)
      a[ANN_CHAIN] = vm.signer.certificates
        .slice(1)
        .map((d) => encodePem('CERTIFICATE', d))
        .join('');
  }
  const withSet = vm.tlogEntries.find((e) => e.signedEntryTimestamp !== undefined);
  if (withSet) a[ANN_BUNDLE] = rekorBundleAnnotation(withSet);
  else if (vm.tlogEntries.length > 0)
    throw new SignetError(
      'unsupported',
      'LEGACY_NEEDS_SET',
      'the legacy .sig scheme carries a Rekor v1 signed entry timestamp, and this signature was logged without one (Rekor v2): sign with --rekor-version 1, or use --registry-referrers-mode oci-1-1',
    );
  if (vm.rfc3161Timestamps.length > 0)
    a[ANN_TIMESTAMP] = timestampAnnotation(vm.rfc3161Timestamps[0]!);
  return a;
}
