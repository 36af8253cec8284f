/**
 * Bundles made from their parts: a detached signature, the signing certificate (and chain) or a
 * key, log entries and timestamps (cosign's `bundle create` and its deprecated --signature /
 * --certificate inputs), and older formats upgraded to v0.3: v0.1/v0.2 bundles and cosign's
 * pre-v3 `--bundle` JSON (base64Signature, cert, rekorBundle, RFC3161Timestamp).
 * Pure functions: the results go through the strict parser, so what comes out is a bundle every
 * verifier reads.
 */
import { invalid } from '../core/errors.ts';
import { decodePemAll } from '../core/encoding/pem.ts';
import { fromBase64 } from '../core/encoding/base64.ts';
import { parseJsonText } from '../core/json.ts';
import {
  MEDIA_TYPE_V02,
  MEDIA_TYPE_V03,
  bundleToJSON,
  parseBundle,
  type Bundle,
  type HashAlgorithmName,
} from './bundle.ts';
import { message, str, type JsonObject } from './json.ts';

export interface BundleParts {
  /** messageSignature: base64 of the signature. attestation: the DSSE envelope (JSON, or base64 of it). */
  signature: string;
  attestation: boolean;
  /** The artifact digest a messageSignature names (required for one). */
  digest?: { algorithm: HashAlgorithmName; digest: Uint8Array } | undefined;
  certificatePem?: string | undefined;
  chainPem?: string | undefined;
  /** Keyed: the public key hint ('' when unknown). */
  publicKeyHint?: string | undefined;
  /** Transparency log entries as protobuf JSON (TransparencyLogEntry). */
  tlogEntries?: unknown[];
  /** RFC 3161 timestamp tokens (DER). */
  timestamps?: Uint8Array[];
  /** How the inputs were named on the command line, for errors. */
  labels?: { signature?: string; certificate?: string; chain?: string };
}

/** Every certificate of a PEM text (only CERTIFICATE blocks, at least one), as DER. */
export function certificatesDer(pem: string, label: string): Uint8Array[] {
  const blocks = decodePemAll(pem, label);
  if (blocks.length === 0) throw invalid(label, 'holds no PEM certificate');
  return blocks.map((b, i) => {
    if (b.label !== 'CERTIFICATE')
      throw invalid(label, `PEM block ${i + 1} is "${b.label}", not a CERTIFICATE`);
    return b.der;
  });
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** The signature text as bytes: base64 (whitespace ignored). */
export function signatureBytes(text: string, label: string): Uint8Array {
  const sig = fromBase64(text.replace(/\s+/g, ''), label);
  if (sig.length === 0) throw invalid(label, 'is empty');
  return sig;
}

/** A DSSE envelope given as JSON text or as base64 of it (cosign writes both). */
function envelopeJson(text: string, label: string): unknown {
  const t = text.trim();
  if (t.startsWith('{')) return parseJsonText(t, label);
  return parseJsonText(fromBase64(t.replace(/\s+/g, ''), label), label);
}

export function assembleBundle(p: BundleParts): Bundle {
  const L = {
    signature: p.labels?.signature ?? 'signature',
    certificate: p.labels?.certificate ?? 'certificate',
    chain: p.labels?.chain ?? 'certificate chain',
  };
  let material: JsonObject;
  let mediaType = MEDIA_TYPE_V03;
  if (p.certificatePem !== undefined) {
    const leaf = certificatesDer(p.certificatePem, L.certificate);
    if (leaf.length !== 1)
      throw invalid(L.certificate, `holds ${leaf.length} certificates; give the chain separately`);
    const chain = p.chainPem !== undefined ? certificatesDer(p.chainPem, L.chain) : [];
    if (chain.length > 0) {
      // A chain in the bundle is a v0.2 form (v0.3 carries the leaf only).
      mediaType = MEDIA_TYPE_V02;
      material = {
        x509CertificateChain: {
          certificates: [...leaf, ...chain].map((d) => ({ rawBytes: b64(d) })),
        },
      };
    } else material = { certificate: { rawBytes: b64(leaf[0]!) } };
  } else if (p.publicKeyHint !== undefined) material = { publicKey: { hint: p.publicKeyHint } };
  else throw invalid(L.certificate, 'is required (or a key): the bundle must say who signed');
  material.tlogEntries = p.tlogEntries ?? [];
  if (p.timestamps?.length)
    material.timestampVerificationData = {
      rfc3161Timestamps: p.timestamps.map((t) => ({ signedTimestamp: b64(t) })),
    };
  let content: JsonObject;
  if (p.attestation) content = { dsseEnvelope: envelopeJson(p.signature, L.signature) };
  else {
    if (!p.digest) throw invalid(L.signature, 'needs the artifact (its digest) to make a bundle');
    content = {
      messageSignature: {
        messageDigest: { algorithm: p.digest.algorithm, digest: b64(p.digest.digest) },
        signature: b64(signatureBytes(p.signature, L.signature)),
      },
    };
  }
  return parseBundle({ mediaType, verificationMaterial: material, ...content });
}

/**
 * What an upgrade needs from outside for a log entry that lacks an inclusion proof (v0.1
 * bundles, cosign's old bundles): the entry as the log serves it now, by index.
 */
export type EntryByIndex = (logIndex: number) => Promise<unknown>;

/** Which format a parsed JSON document is, for `bundle upgrade` and `bundle inspect`. */
export function bundleFormat(value: unknown): 'sigstore' | 'cosign-legacy' | 'unknown' {
  if (typeof value !== 'object' || value === null) return 'unknown';
  if ('base64Signature' in value) return 'cosign-legacy';
  if ('mediaType' in value) return 'sigstore';
  return 'unknown';
}

/**
 * cosign's pre-v3 `--bundle` output as bundle parts. Its signature covers the artifact
 * (hashedrekord) or, for attest-blob, is a DSSE envelope; the log entry is the SET-only
 * rekorBundle, so the caller fetches the inclusion proof (see upgradeBundle).
 */
export function parseLegacyCosignBundle(value: unknown): {
  signature: Uint8Array;
  certificatePem: string | undefined;
  logIndex: number;
  body: Uint8Array;
  timestamp: Uint8Array | undefined;
} {
  const o = message(
    value,
    '',
    ['base64Signature', 'cert', 'rekorBundle', 'RFC3161Timestamp'],
    false,
  );
  const signature = fromBase64(str(o.base64Signature, 'base64Signature'), 'base64Signature');
  let certificatePem: string | undefined;
  if (o.cert !== undefined) {
    const c = str(o.cert, 'cert');
    // cosign writes the PEM base64-encoded once more.
    certificatePem = c.includes('-----BEGIN') ? c : new TextDecoder().decode(fromBase64(c, 'cert'));
  }
  if (o.rekorBundle === undefined)
    throw invalid('rekorBundle', 'is missing: the bundle has no transparency log entry to upgrade');
  const rb = message(o.rekorBundle, 'rekorBundle', ['SignedEntryTimestamp', 'Payload'], false);
  const payload = message(
    rb.Payload,
    'rekorBundle.Payload',
    ['body', 'integratedTime', 'logIndex', 'logID'],
    false,
  );
  const logIndex = payload.logIndex;
  if (typeof logIndex !== 'number' || !Number.isSafeInteger(logIndex) || logIndex < 0)
    throw invalid('rekorBundle.Payload.logIndex', 'must be a non-negative integer');
  const body = fromBase64(
    str(payload.body, 'rekorBundle.Payload.body'),
    'rekorBundle.Payload.body',
  );
  let timestamp: Uint8Array | undefined;
  if (o.RFC3161Timestamp !== undefined) {
    const t = message(o.RFC3161Timestamp, 'RFC3161Timestamp', ['SignedRFC3161Timestamp'], false);
    timestamp = fromBase64(
      str(t.SignedRFC3161Timestamp, 'RFC3161Timestamp.SignedRFC3161Timestamp'),
      'RFC3161Timestamp',
    );
  }
  return { signature, certificatePem, logIndex, body, timestamp };
}

/**
 * Upgrade to v0.3 (cosign's `bundle upgrade`): a chain becomes its leaf certificate, entries
 * without an inclusion proof get the entry the log serves for their index (its body must be the
 * same bytes), and cosign's legacy JSON becomes a Sigstore bundle.
 */
export async function upgradeBundle(
  value: unknown,
  fetchEntry: EntryByIndex,
): Promise<{ bundle: Bundle; from: string; wasV03: boolean }> {
  const format = bundleFormat(value);
  if (format === 'cosign-legacy') {
    const legacy = parseLegacyCosignBundle(value);
    const entry = await fetchEntry(legacy.logIndex);
    sameBody(entry, legacy.body, legacy.logIndex);
    const body = parseJsonText(legacy.body, 'rekorBundle.Payload.body') as {
      kind?: unknown;
      spec?: { data?: { hash?: { algorithm?: unknown; value?: unknown } } };
    };
    let content: JsonObject;
    if (body.kind === 'hashedrekord') {
      const h = body.spec?.data?.hash;
      const alg = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' }[
        String(h?.algorithm)
      ];
      if (!alg || typeof h?.value !== 'string')
        throw invalid('rekorBundle.Payload.body', 'names no artifact hash');
      content = {
        messageSignature: {
          messageDigest: { algorithm: alg, digest: Buffer.from(h.value, 'hex').toString('base64') },
          signature: b64(legacy.signature),
        },
      };
    } else if (body.kind === 'dsse' || body.kind === 'intoto') {
      content = { dsseEnvelope: parseJsonText(legacy.signature, 'base64Signature') };
    } else
      throw invalid(
        'rekorBundle.Payload.body',
        `entry kind "${String(body.kind)}" cannot be upgraded`,
      );
    const material: JsonObject = legacy.certificatePem
      ? { certificate: { rawBytes: b64(certificatesDer(legacy.certificatePem, 'cert')[0]!) } }
      : { publicKey: { hint: '' } };
    material.tlogEntries = [entry];
    if (legacy.timestamp)
      material.timestampVerificationData = {
        rfc3161Timestamps: [{ signedTimestamp: b64(legacy.timestamp) }],
      };
    return {
      bundle: parseBundle({
        mediaType: MEDIA_TYPE_V03,
        verificationMaterial: material,
        ...content,
      }),
      from: 'a legacy cosign bundle',
      wasV03: false,
    };
  }
  if (format !== 'sigstore')
    throw invalid('bundle', 'is neither a Sigstore bundle nor a legacy cosign bundle');
  const b = parseBundle(value);
  const json = bundleToJSON(b);
  const vm = json.verificationMaterial as JsonObject;
  if (b.verificationMaterial.signer.$case === 'x509CertificateChain') {
    delete vm.x509CertificateChain;
    vm.certificate = { rawBytes: b64(b.verificationMaterial.signer.certificates[0]!) };
  }
  const entries = (vm.tlogEntries as JsonObject[] | undefined) ?? [];
  for (let i = 0; i < entries.length; i++) {
    const e = b.verificationMaterial.tlogEntries[i]!;
    if (e.inclusionProof?.checkpoint !== undefined) continue;
    const served = await fetchEntry(e.logIndex);
    sameBody(served, e.canonicalizedBody, e.logIndex);
    entries[i] = served as JsonObject;
  }
  json.mediaType = MEDIA_TYPE_V03;
  return { bundle: parseBundle(json), from: `a v${b.version} bundle`, wasV03: b.version === '0.3' };
}

/** The log must serve the very entry the bundle holds: same canonical body. */
function sameBody(entry: unknown, body: Uint8Array, logIndex: number): void {
  const served = (entry as { canonicalizedBody?: unknown } | null)?.canonicalizedBody;
  if (
    typeof served !== 'string' ||
    Buffer.compare(Buffer.from(served, 'base64'), Buffer.from(body)) !== 0
  )
    throw invalid(
      'tlogEntries',
      `the log's entry at index ${logIndex} is not the entry in the bundle (different body)`,
    );
}
