import type { KeyDetails } from '../../core/crypto/keys.ts';
import {
  badResponse,
  type HttpOptions,
  sendJson,
  trimSlash,
} from '../../services/http/outbound.ts';
import type { TlogEntryJson } from './rekor-v1.ts';

/**
 * Rekor v2 write API `POST /api/v2/log/entries` (rekor-tiles; servers.md 3.1, 3.2). The only
 * live kind is hashedrekord 0.0.2; DSSE envelopes are logged as hashedrekord over the PAE
 * digest with the envelope's signature (client spec §4.4; rekor-tiles rejects dsseRequestV002),
 * except pure Ed25519 ones (dsseRequestV002 below).
 */
export function hashedrekordRequestV002(p: {
  digest: Uint8Array;
  signature: Uint8Array;
  keyDetails: KeyDetails;
  /** DER of the signing certificate, or of the public key (SPKI) for keyed signing. */
  certificateDer?: Uint8Array;
  publicKeyDer?: Uint8Array;
}): unknown {
  return {
    hashedRekordRequestV002: {
      digest: b64(p.digest),
      signature: { content: b64(p.signature), verifier: verifierOf(p) },
    },
  };
}

/**
 * dsse 0.0.2 (`dsseRequestV002`): the envelope and its verifier. Only for a pure Ed25519
 * envelope signature, which signs the PAE itself and so cannot be logged as hashedrekord over a
 * digest. rekor-tiles dropped this kind (PR #744); a Signet log keeps it for this case.
 */
export function dsseRequestV002(p: {
  payload: Uint8Array;
  payloadType: string;
  signature: Uint8Array;
  keyDetails: KeyDetails;
  certificateDer?: Uint8Array;
  publicKeyDer?: Uint8Array;
}): unknown {
  return {
    dsseRequestV002: {
      envelope: {
        payload: b64(p.payload),
        payloadType: p.payloadType,
        signatures: [{ sig: b64(p.signature) }],
      },
      verifiers: [verifierOf(p)],
    },
  };
}

function verifierOf(p: {
  keyDetails: KeyDetails;
  certificateDer?: Uint8Array;
  publicKeyDer?: Uint8Array;
}): Record<string, unknown> {
  const verifier: Record<string, unknown> = p.certificateDer
    ? { x509Certificate: { rawBytes: b64(p.certificateDer) } }
    : { publicKey: { rawBytes: b64(p.publicKeyDer ?? new Uint8Array()) } };
  verifier.keyDetails = p.keyDetails;
  return verifier;
}

/** Rekor v2 waits for a checkpoint before answering: allow well over its 2-10 s. */
export const REKOR_V2_TIMEOUT_MS = 60_000;

const SERVICE = 'the transparency log (Rekor v2)';

export async function createEntryV2(
  baseUrl: string,
  request: unknown,
  opts: HttpOptions = {},
): Promise<TlogEntryJson> {
  const url = `${trimSlash(baseUrl)}/api/v2/log/entries`;
  const { json } = await sendJson(
    { service: SERVICE, method: 'POST', url, json: request },
    { timeoutMs: REKOR_V2_TIMEOUT_MS, ...opts },
  );
  return checkTlogEntry(json, { service: SERVICE, url });
}

/** The response is already a TransparencyLogEntry; check the parts a bundle needs. */
function checkTlogEntry(json: unknown, where: { service: string; url: string }): TlogEntryJson {
  const e = json as Record<string, unknown> | null;
  const bad = (what: string) => badResponse(where, what);
  if (typeof e !== 'object' || e === null) throw bad('expected a TransparencyLogEntry object');
  if (typeof e.logIndex !== 'string' && typeof e.logIndex !== 'number')
    throw bad('logIndex is missing');
  const logId = e.logId as { keyId?: unknown } | undefined;
  if (typeof logId?.keyId !== 'string') throw bad('logId.keyId is missing');
  const kv = e.kindVersion as { kind?: unknown; version?: unknown } | undefined;
  if (typeof kv?.kind !== 'string' || typeof kv.version !== 'string')
    throw bad('kindVersion is missing');
  const proof = e.inclusionProof as Record<string, unknown> | undefined | null;
  if (
    !proof ||
    typeof (proof.checkpoint as { envelope?: unknown } | undefined)?.envelope !== 'string'
  )
    throw bad('inclusionProof with a checkpoint is missing');
  if (typeof e.canonicalizedBody !== 'string') throw bad('canonicalizedBody is missing');
  // protojson leaves an empty repeated field out (a proof in a tree of one has no hashes)
  if (proof.hashes !== undefined && !Array.isArray(proof.hashes))
    throw bad('inclusionProof.hashes must be a list');
  const out: TlogEntryJson = {
    logIndex: String(e.logIndex),
    logId: { keyId: logId.keyId },
    kindVersion: { kind: kv.kind, version: kv.version },
    integratedTime: String(e.integratedTime ?? '0'),
    inclusionProof: {
      logIndex: int64(proof.logIndex, 'inclusionProof.logIndex', bad),
      rootHash: sha256Base64(proof.rootHash, 'inclusionProof.rootHash', bad),
      treeSize: int64(proof.treeSize, 'inclusionProof.treeSize', bad),
      hashes: ((proof.hashes ?? []) as unknown[]).map((h, i) =>
        sha256Base64(h, `inclusionProof.hashes[${i}]`, bad),
      ),
      checkpoint: { envelope: (proof.checkpoint as { envelope: string }).envelope },
    },
    canonicalizedBody: e.canonicalizedBody,
  };
  const promise = e.inclusionPromise as { signedEntryTimestamp?: unknown } | null | undefined;
  if (typeof promise?.signedEntryTimestamp === 'string')
    out.inclusionPromise = { signedEntryTimestamp: promise.signedEntryTimestamp };
  return out;
}

/** An int64 as protojson writes it (a decimal string; a number tolerated), non-negative. */
function int64(v: unknown, name: string, bad: (what: string) => Error): string {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v)) return v;
  throw bad(`${name} must be a non-negative integer`);
}

/** A SHA-256 hash as protojson bytes (standard base64, 44 characters). */
function sha256Base64(v: unknown, name: string, bad: (what: string) => Error): string {
  if (typeof v === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(v)) return v;
  throw bad(`${name} must be a base64 SHA-256 hash`);
}

function b64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}
