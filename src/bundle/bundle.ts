/**
 * Sigstore bundles (protobuf-specs `dev.sigstore.bundle.v1.Bundle`), versions 0.1, 0.2 and 0.3,
 * parsed strictly into typed values and written back as protobuf JSON.
 * Version rules (sigstore_bundle.proto comments): v0.1 entries need an inclusion promise (SET);
 * v0.2+ entries need an inclusion proof with a checkpoint; v0.3 carries a single `certificate`
 * instead of a chain.
 */
import { invalid, quoteInput, SignetError } from '../core/errors.ts';
import { toBase64 } from '../core/encoding/base64.ts';
import { envelopeToJSON, parseEnvelope, type Envelope } from '../core/dsse/index.ts';
import {
  array,
  bytes,
  enumName,
  int64,
  message,
  nonEmptyBytes,
  required,
  str,
  type JsonObject,
  parseJsonText,
} from './json.ts';
import { ownEntry } from '../core/own.ts';

export const MEDIA_TYPE_V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
export const MEDIA_TYPE_V02 = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
export const MEDIA_TYPE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The older spelling of v0.3, still written by some clients; both must be accepted. */
export const MEDIA_TYPE_V03_LEGACY = 'application/vnd.dev.sigstore.bundle+json;version=0.3';

export type BundleVersion = '0.1' | '0.2' | '0.3';

const VERSIONS: Record<string, BundleVersion> = {
  [MEDIA_TYPE_V01]: '0.1',
  [MEDIA_TYPE_V02]: '0.2',
  [MEDIA_TYPE_V03]: '0.3',
  [MEDIA_TYPE_V03_LEGACY]: '0.3',
};

export type HashAlgorithmName = 'SHA2_256' | 'SHA2_384' | 'SHA2_512';
export const HASH_ALGORITHMS: readonly HashAlgorithmName[] = ['SHA2_256', 'SHA2_384', 'SHA2_512'];
const HASH_NUMBERS: Record<number, HashAlgorithmName> = {
  1: 'SHA2_256',
  2: 'SHA2_384',
  3: 'SHA2_512',
};
/** The digest length of each hash algorithm, in bytes. */
const HASH_LENGTHS: Record<HashAlgorithmName, number> = {
  SHA2_256: 32,
  SHA2_384: 48,
  SHA2_512: 64,
};

export interface MessageDigest {
  algorithm: HashAlgorithmName;
  digest: Uint8Array;
}

export interface MessageSignature {
  /**
   * An unauthenticated hint of the artifact digest. Always present in parsed bundles (the
   * spec requires it); optional in the type so that writers may omit it.
   */
  messageDigest: MessageDigest | undefined;
  signature: Uint8Array;
}

export type BundleContent =
  | { $case: 'messageSignature'; messageSignature: MessageSignature }
  | { $case: 'dsseEnvelope'; dsseEnvelope: Envelope };

export type SignerMaterial =
  | { $case: 'certificate'; certificate: Uint8Array }
  | { $case: 'x509CertificateChain'; certificates: Uint8Array[] }
  | { $case: 'publicKey'; hint: string };

export interface InclusionProof {
  logIndex: number;
  rootHash: Uint8Array;
  treeSize: number;
  hashes: Uint8Array[];
  /** The signed note text of the checkpoint the proof leads to. */
  checkpoint: string | undefined;
}

export interface TransparencyLogEntry {
  logIndex: number;
  logId: Uint8Array;
  kind: string;
  kindVersion: string;
  /** Seconds since the epoch; 0 when the log gives none (Rekor v2). */
  integratedTime: number;
  signedEntryTimestamp: Uint8Array | undefined;
  inclusionProof: InclusionProof | undefined;
  canonicalizedBody: Uint8Array;
}

export interface VerificationMaterial {
  signer: SignerMaterial;
  tlogEntries: TransparencyLogEntry[];
  rfc3161Timestamps: Uint8Array[];
}

export interface Bundle {
  mediaType: string;
  version: BundleVersion;
  verificationMaterial: VerificationMaterial;
  content: BundleContent;
}

/** Parse bundle JSON text (or its UTF-8 bytes). Errors are SignetErrors whose field is the JSON path. */
export function parseBundleJSON(text: string | Uint8Array): Bundle {
  return parseBundle(parseJsonText(text, 'bundle'));
}

/** The bundles parseBundle made: a caller's object that only looks parsed is parsed again. */
const parsedBundles = new WeakSet<object>();
export const isParsedBundle = (v: object): v is Bundle => parsedBundles.has(v);

export function parseBundle(value: unknown): Bundle {
  // cosign's pre-v3 `--bundle` output is a different format; say so instead of "unknown field".
  if (typeof value === 'object' && value !== null && 'base64Signature' in value)
    throw new SignetError(
      'unsupported',
      'LEGACY_COSIGN_BUNDLE',
      'this is a legacy cosign bundle (base64Signature/cert/rekorBundle), not a Sigstore bundle; sign again with cosign --new-bundle-format or signet',
      { field: 'bundle' },
    );
  // Without a media type it is some other JSON (a key file, a trusted root, a statement):
  // said as such, rather than as the first field a bundle does not have.
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !('mediaType' in value) &&
    !('media_type' in value) // protojson's other name for it
  )
    throw invalid('mediaType', 'is missing: this JSON is not a Sigstore bundle');
  const o = message(value, '', [
    'mediaType',
    'verificationMaterial',
    'messageSignature',
    'dsseEnvelope',
  ]);
  const mediaType = str(required(o.mediaType, 'mediaType'), 'mediaType');
  const version = ownEntry(VERSIONS, mediaType);
  if (version === undefined)
    throw new SignetError(
      'unsupported',
      'UNSUPPORTED_BUNDLE_VERSION',
      `${quoteInput(mediaType)} is not a supported bundle media type (Sigstore bundle v0.1, v0.2 or v0.3)`,
      { field: 'mediaType' },
    );
  const content = parseContent(o);
  const verificationMaterial = parseVerificationMaterial(
    required(o.verificationMaterial, 'verificationMaterial'),
    version,
  );
  const bundle: Bundle = { mediaType, version, verificationMaterial, content };
  parsedBundles.add(bundle);
  return bundle;
}

function parseContent(o: JsonObject): BundleContent {
  if (o.messageSignature !== undefined && o.dsseEnvelope !== undefined)
    throw invalid(
      'messageSignature',
      'a bundle holds either messageSignature or dsseEnvelope, not both',
    );
  if (o.messageSignature !== undefined) {
    const m = message(o.messageSignature, 'messageSignature', ['messageDigest', 'signature']);
    // Required by the bundle spec (and sigstore-js): it names what was signed.
    const p = 'messageSignature.messageDigest';
    const d = message(required(m.messageDigest, p), p, ['algorithm', 'digest']);
    const algorithm = enumName(
      required(d.algorithm, `${p}.algorithm`),
      `${p}.algorithm`,
      HASH_ALGORITHMS,
      HASH_NUMBERS,
    );
    const digest = nonEmptyBytes(d.digest, `${p}.digest`);
    // A digest of the wrong length can match nothing; refused here, it is not quoted whole
    // (as hex, 2 characters a byte) by the verifier's "not the digest that was signed".
    if (digest.length !== HASH_LENGTHS[algorithm])
      throw invalid(
        `${p}.digest`,
        `is ${digest.length} bytes; a ${algorithm} digest is ${HASH_LENGTHS[algorithm]}`,
      );
    const messageDigest: MessageDigest = { algorithm, digest };
    return {
      $case: 'messageSignature',
      messageSignature: {
        messageDigest,
        signature: nonEmptyBytes(m.signature, 'messageSignature.signature'),
      },
    };
  }
  if (o.dsseEnvelope !== undefined) {
    const env = parseEnvelope(o.dsseEnvelope, 'dsseEnvelope');
    if (env.signatures.length !== 1)
      throw invalid(
        'dsseEnvelope.signatures',
        `a bundle's envelope must carry exactly one signature, found ${env.signatures.length}`,
      );
    return { $case: 'dsseEnvelope', dsseEnvelope: env };
  }
  throw invalid('messageSignature', 'the bundle has no content (messageSignature or dsseEnvelope)');
}

function parseVerificationMaterial(value: unknown, version: BundleVersion): VerificationMaterial {
  const P = 'verificationMaterial';
  const o = message(value, P, [
    'publicKey',
    'x509CertificateChain',
    'certificate',
    'tlogEntries',
    'timestampVerificationData',
  ]);
  const present = ['publicKey', 'x509CertificateChain', 'certificate'].filter(
    (k) => o[k] !== undefined,
  );
  if (present.length !== 1)
    throw invalid(
      P,
      present.length === 0
        ? 'has no signer material (certificate, x509CertificateChain or publicKey)'
        : `holds more than one kind of signer material (${present.join(', ')})`,
    );
  let signer: SignerMaterial;
  if (o.certificate !== undefined) {
    const c = message(o.certificate, `${P}.certificate`, ['rawBytes']);
    signer = {
      $case: 'certificate',
      certificate: nonEmptyBytes(c.rawBytes, `${P}.certificate.rawBytes`),
    };
  } else if (o.x509CertificateChain !== undefined) {
    if (version === '0.3')
      throw invalid(
        `${P}.x509CertificateChain`,
        'is not allowed in a v0.3 bundle (use certificate)',
      );
    const c = message(o.x509CertificateChain, `${P}.x509CertificateChain`, ['certificates']);
    const list = array(c.certificates, `${P}.x509CertificateChain.certificates`);
    if (list.length === 0)
      throw invalid(
        `${P}.x509CertificateChain.certificates`,
        'is empty: there is no signing certificate',
      );
    signer = {
      $case: 'x509CertificateChain',
      certificates: list.map((x, i) => {
        const p = `${P}.x509CertificateChain.certificates[${i}]`;
        return nonEmptyBytes(message(x, p, ['rawBytes']).rawBytes, `${p}.rawBytes`);
      }),
    };
  } else {
    const k = message(o.publicKey, `${P}.publicKey`, ['hint']);
    signer = {
      $case: 'publicKey',
      hint: k.hint === undefined ? '' : str(k.hint, `${P}.publicKey.hint`),
    };
  }
  const tlogEntries = array(o.tlogEntries, `${P}.tlogEntries`).map((e, i) =>
    parseTlogEntry(e, `${P}.tlogEntries[${i}]`, version),
  );
  let rfc3161Timestamps: Uint8Array[] = [];
  if (o.timestampVerificationData !== undefined) {
    const p = `${P}.timestampVerificationData`;
    const t = message(o.timestampVerificationData, p, ['rfc3161Timestamps']);
    rfc3161Timestamps = array(t.rfc3161Timestamps, `${p}.rfc3161Timestamps`).map((x, i) => {
      const q = `${p}.rfc3161Timestamps[${i}]`;
      return nonEmptyBytes(
        message(x, q, ['signedTimestamp']).signedTimestamp,
        `${q}.signedTimestamp`,
      );
    });
  }
  return { signer, tlogEntries, rfc3161Timestamps };
}

function parseTlogEntry(value: unknown, P: string, version: BundleVersion): TransparencyLogEntry {
  const o = message(value, P, [
    'logIndex',
    'logId',
    'kindVersion',
    'integratedTime',
    'inclusionPromise',
    'inclusionProof',
    'canonicalizedBody',
  ]);
  // proto3 JSON omits zero values, so an absent index is 0
  const logIndex = o.logIndex === undefined ? 0 : int64(o.logIndex, `${P}.logIndex`, 0);
  const logId = nonEmptyBytes(
    message(required(o.logId, `${P}.logId`), `${P}.logId`, ['keyId']).keyId,
    `${P}.logId.keyId`,
  );
  const kv = message(required(o.kindVersion, `${P}.kindVersion`), `${P}.kindVersion`, [
    'kind',
    'version',
  ]);
  const kind = str(required(kv.kind, `${P}.kindVersion.kind`), `${P}.kindVersion.kind`);
  const kindVersion = str(
    required(kv.version, `${P}.kindVersion.version`),
    `${P}.kindVersion.version`,
  );
  const integratedTime =
    o.integratedTime === undefined ? 0 : int64(o.integratedTime, `${P}.integratedTime`, 0);
  let signedEntryTimestamp: Uint8Array | undefined;
  if (o.inclusionPromise !== undefined) {
    const p = message(o.inclusionPromise, `${P}.inclusionPromise`, ['signedEntryTimestamp']);
    signedEntryTimestamp = nonEmptyBytes(
      p.signedEntryTimestamp,
      `${P}.inclusionPromise.signedEntryTimestamp`,
    );
  }
  let inclusionProof: InclusionProof | undefined;
  if (o.inclusionProof !== undefined) {
    const p = `${P}.inclusionProof`;
    const ip = message(o.inclusionProof, p, [
      'logIndex',
      'rootHash',
      'treeSize',
      'hashes',
      'checkpoint',
    ]);
    let checkpoint: string | undefined;
    if (ip.checkpoint !== undefined) {
      const c = message(ip.checkpoint, `${p}.checkpoint`, ['envelope']);
      checkpoint = str(
        required(c.envelope, `${p}.checkpoint.envelope`),
        `${p}.checkpoint.envelope`,
      );
    }
    inclusionProof = {
      logIndex: ip.logIndex === undefined ? 0 : int64(ip.logIndex, `${p}.logIndex`, 0),
      rootHash: nonEmptyBytes(ip.rootHash, `${p}.rootHash`),
      treeSize: int64(required(ip.treeSize, `${p}.treeSize`), `${p}.treeSize`, 1),
      hashes: array(ip.hashes, `${p}.hashes`).map((h, i) => bytes(h, `${p}.hashes[${i}]`)),
      checkpoint,
    };
  }
  const canonicalizedBody = nonEmptyBytes(o.canonicalizedBody, `${P}.canonicalizedBody`);
  if (version === '0.1' && signedEntryTimestamp === undefined)
    throw invalid(
      `${P}.inclusionPromise`,
      'is required in a v0.1 bundle (the signed entry timestamp)',
    );
  if (version !== '0.1') {
    if (inclusionProof === undefined)
      throw invalid(`${P}.inclusionProof`, `is required in a v${version} bundle`);
    if (inclusionProof.checkpoint === undefined)
      throw invalid(`${P}.inclusionProof.checkpoint`, `is required in a v${version} bundle`);
  }
  return {
    logIndex,
    logId,
    kind,
    kindVersion,
    integratedTime,
    signedEntryTimestamp,
    inclusionProof,
    canonicalizedBody,
  };
}

/**
 * The bundle as protobuf JSON, as protojson and sigstore-js write it: camelCase, int64 as
 * strings, fields holding their zero value (0, "", []) omitted.
 */
export function bundleToJSON(b: Bundle): JsonObject {
  const vm = b.verificationMaterial;
  const material: JsonObject = {};
  switch (vm.signer.$case) {
    case 'certificate':
      material.certificate = { rawBytes: toBase64(vm.signer.certificate) };
      break;
    case 'x509CertificateChain':
      material.x509CertificateChain = {
        certificates: vm.signer.certificates.map((c) => ({ rawBytes: toBase64(c) })),
      };
      break;
    case 'publicKey':
      material.publicKey = { hint: vm.signer.hint };
      break;
  }
  material.tlogEntries = vm.tlogEntries.map(tlogEntryToJSON);
  if (vm.rfc3161Timestamps.length > 0)
    material.timestampVerificationData = {
      rfc3161Timestamps: vm.rfc3161Timestamps.map((t) => ({ signedTimestamp: toBase64(t) })),
    };
  const out: JsonObject = { mediaType: b.mediaType, verificationMaterial: material };
  if (b.content.$case === 'messageSignature') {
    const m = b.content.messageSignature;
    const ms: JsonObject = {};
    if (m.messageDigest)
      ms.messageDigest = {
        algorithm: m.messageDigest.algorithm,
        digest: toBase64(m.messageDigest.digest),
      };
    ms.signature = toBase64(m.signature);
    out.messageSignature = ms;
  } else {
    out.dsseEnvelope = envelopeToJSON(b.content.dsseEnvelope);
  }
  return out;
}

export function tlogEntryToJSON(e: TransparencyLogEntry): JsonObject {
  const out: JsonObject = {};
  if (e.logIndex !== 0) out.logIndex = String(e.logIndex);
  out.logId = { keyId: toBase64(e.logId) };
  out.kindVersion = { kind: e.kind, version: e.kindVersion };
  if (e.integratedTime !== 0) out.integratedTime = String(e.integratedTime);
  if (e.signedEntryTimestamp)
    out.inclusionPromise = { signedEntryTimestamp: toBase64(e.signedEntryTimestamp) };
  if (e.inclusionProof) {
    const p = e.inclusionProof;
    const proof: JsonObject = {};
    if (p.logIndex !== 0) proof.logIndex = String(p.logIndex);
    proof.rootHash = toBase64(p.rootHash);
    proof.treeSize = String(p.treeSize);
    if (p.hashes.length > 0) proof.hashes = p.hashes.map(toBase64);
    if (p.checkpoint !== undefined) proof.checkpoint = { envelope: p.checkpoint };
    out.inclusionProof = proof;
  }
  out.canonicalizedBody = toBase64(e.canonicalizedBody);
  return out;
}

/** The bundle as JSON text, as written to `*.sigstore.json` files. */
export function serializeBundle(b: Bundle): string {
  return JSON.stringify(bundleToJSON(b));
}
