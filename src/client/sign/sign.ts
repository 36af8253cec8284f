import { MEDIA_TYPE_V03, parseBundle, type Bundle } from '../../bundle/bundle.ts';
import { envelopeToJSON, pae } from '../../core/dsse/index.ts';
import { SignetError } from '../../core/errors.ts';
import { fromBase64 } from '../../core/encoding/base64.ts';
import {
  defaultHash,
  HASH_SIZE,
  type HashAlgorithm,
  type KeyDetails,
} from '../../core/crypto/keys.ts';
import { digest as digestOf } from '../../core/crypto/digest.ts';
import { explorerEntryUrl } from '../explorer-link.ts';
import type { HttpOptions, TlsClientOptions } from '../../services/http/outbound.ts';
import { createEntryV1, dsseV001, hashedrekordV001, type TlogEntryJson } from '../http/rekor-v1.ts';
import { createEntryV2, dsseRequestV002, hashedrekordRequestV002 } from '../http/rekor-v2.ts';
import { fetchTimestamp } from '../http/tsa.ts';
import { currentServices, requireTimeSource, type SigningServices } from './services.ts';
import type { Signer } from './signer.ts';

/**
 * One signing operation (client spec §3 "Signing"): sign, then witness the signature in
 * parallel — a transparency log entry per selected log and an RFC 3161 timestamp per selected
 * TSA — and package everything as a bundle v0.3. The bundle is built as protobuf JSON and read
 * back through the bundle layer's strict parser, so what we write is what a verifier accepts.
 */
export interface SignContext {
  signer: Signer;
  services: SigningServices;
  http?: HttpOptions;
  /** TLS settings for the timestamp authorities (a private CA, a client certificate). */
  tsaTls?: TlsClientOptions;
  /** Called as each service answers (progress on stderr in the CLI). */
  onEvent?: (message: string) => void;
  /**
   * The services were read from a recently cached signing config: the current ones from the
   * server, asked (once) when a service named there is not found or not reached
   * (currentServices): `signet rotate rekor` froze its log, or the stack moved or was rebuilt.
   */
  refreshServices?: () => Promise<SigningServices>;
}

/** messageSignature bundle over the artifact bytes. */
export async function signArtifact(artifact: Uint8Array, ctx: SignContext): Promise<Bundle> {
  checkTimeSource(ctx);
  const hash = artifactHash(ctx.signer);
  const digest = digestOf(hash, artifact);
  return signedMessage(digest, await ctx.signer.signMessage(artifact), ctx);
}

/**
 * messageSignature bundle over an artifact known by its digest (computed with
 * `artifactHash(signer)`, e.g. while streaming a large file): the signature is made over the
 * digest, which is all the logs and verifiers need besides the file itself.
 */
export async function signArtifactDigest(digest: Uint8Array, ctx: SignContext): Promise<Bundle> {
  checkTimeSource(ctx);
  const hash = artifactHash(ctx.signer);
  if (digest.length !== HASH_SIZE[hash])
    throw new SignetError(
      'internal',
      'BAD_DIGEST',
      `expected a ${hash} digest of ${HASH_SIZE[hash]} bytes`,
    );
  return signedMessage(digest, await ctx.signer.signDigest(digest), ctx);
}

/**
 * The hash a message signature uses: the message scheme's (P-384 -> SHA-384, as cosign does;
 * Ed25519ph -> SHA-512). Verifiers take it from messageDigest.algorithm and logs check the
 * digest's length.
 */
export function artifactHash(signer: Signer): HashAlgorithm {
  return defaultHash(signer.messageDetails);
}

async function signedMessage(
  digest: Uint8Array,
  signature: Uint8Array,
  ctx: SignContext,
): Promise<Bundle> {
  const hash = artifactHash(ctx.signer);
  const { tlogEntries, timestamps } = await witness(ctx, signature, {
    v1: () =>
      hashedrekordV001({ digest, algorithm: hash, signature, verifierPem: ctx.signer.verifierPem }),
    v2: { digest, keyDetails: ctx.signer.messageDetails },
  });
  return toBundle(ctx.signer, tlogEntries, timestamps, {
    messageSignature: {
      messageDigest: { algorithm: BUNDLE_HASH[hash], digest: b64(digest) },
      signature: b64(signature),
    },
  });
}

/** Envelopes larger than this go to a Rekor v1 log by digest (hashedrekord), not whole (dsse). */
export const LARGE_ENVELOPE_BYTES = 256 * 1024;

/** dsseEnvelope bundle: one signature over PAE(payloadType, payload). */
export async function signEnvelope(
  payload: Uint8Array,
  payloadType: string,
  ctx: SignContext,
): Promise<Bundle> {
  checkTimeSource(ctx);
  const signed = pae(payloadType, payload);
  const signature = ctx.signer.sign(signed);
  const envelope = envelopeToJSON({
    payload,
    payloadType,
    signatures: [{ keyid: '', sig: signature }],
  });
  const envelopeJson = JSON.stringify(envelope);
  // A signature over the PAE digest is the envelope's signature when the key's scheme is its
  // message scheme (ECDSA, RSA). Pure Ed25519 signs the PAE itself, which no digest checks.
  const { keyDetails, messageDetails } = ctx.signer;
  const byDigest = keyDetails === messageDetails;
  const paeDigest = byDigest ? digestOf(defaultHash(keyDetails), signed) : undefined;
  const { tlogEntries, timestamps } = await witness(ctx, signature, {
    // Rekor v1 logs envelopes as dsse 0.0.1, which sends the whole envelope; a large one (an
    // SBOM of many MiB, cosign#3599) is logged as hashedrekord over the PAE digest instead, as
    // Rekor v2 logs every envelope: the log needs only the digest of what was signed.
    v1: () =>
      envelopeJson.length > LARGE_ENVELOPE_BYTES && paeDigest
        ? hashedrekordV001({
            digest: paeDigest,
            algorithm: defaultHash(keyDetails),
            signature,
            verifierPem: ctx.signer.verifierPem,
          })
        : dsseV001({ envelopeJson, verifierPems: [ctx.signer.verifierPem] }),
    // Rekor v2 without a digest to log: the envelope itself (dsse 0.0.2, PKIX_ED25519).
    v2: paeDigest ? { digest: paeDigest, keyDetails } : { envelope: { payload, payloadType } },
  });
  return toBundle(ctx.signer, tlogEntries, timestamps, { dsseEnvelope: envelope });
}

/** A keyless signature needs a time source (see requireTimeSource). */
function checkTimeSource(ctx: SignContext): void {
  if (ctx.signer.material.$case === 'certificate') requireTimeSource(ctx.services);
}

/** What the logs record: a Rekor v1 proposed entry, and the Rekor v2 request's content. */
interface EntryToLog {
  v1: () => unknown;
  v2:
    | { digest: Uint8Array; keyDetails: KeyDetails; envelope?: undefined }
    | { envelope: { payload: Uint8Array; payloadType: string } };
}

async function witness(
  ctx: SignContext,
  signature: Uint8Array,
  entry: EntryToLog,
): Promise<{ tlogEntries: TlogEntryJson[]; timestamps: Uint8Array[] }> {
  try {
    return await witnessOnce(ctx, signature, entry);
  } catch (e) {
    const fresh = await currentServices(e, ctx.services, ctx.refreshServices, ctx.onEvent);
    if (!fresh) throw e;
    // Kept for the next signings with this context (many files); asked once (memoized).
    ctx.services = fresh;
    return witnessOnce(ctx, signature, entry);
  }
}

async function witnessOnce(
  ctx: SignContext,
  signature: Uint8Array,
  entry: EntryToLog,
): Promise<{ tlogEntries: TlogEntryJson[]; timestamps: Uint8Array[] }> {
  const signer = ctx.signer;
  const verifier =
    signer.material.$case === 'certificate'
      ? { certificateDer: signer.material.certificateDer }
      : { publicKeyDer: signer.material.publicKeyDer };
  const v2 = entry.v2;
  const tlogJobs = ctx.services.tlogs.map(async (log) => {
    const e =
      log.majorApiVersion === 1
        ? await createEntryV1(log.url, entry.v1(), ctx.http)
        : await createEntryV2(
            log.url,
            v2.envelope
              ? dsseRequestV002({
                  ...v2.envelope,
                  signature,
                  keyDetails: signer.keyDetails,
                  ...verifier,
                })
              : hashedrekordRequestV002({
                  digest: v2.digest,
                  signature,
                  keyDetails: v2.keyDetails,
                  ...verifier,
                }),
            ctx.http,
          );
    ctx.onEvent?.(`tlog entry created with index: ${e.logIndex} (${log.url})`);
    // As cosign links search.sigstore.dev: a Signet stack's own explorer shows the entry.
    const link = explorerEntryUrl(log.url, fromBase64(e.canonicalizedBody, 'canonicalizedBody'));
    if (link) ctx.onEvent?.(`tlog entry in the explorer: ${link}`);
    return e;
  });
  const tsaJobs = ctx.services.tsaUrls.map(async (url) => {
    const t = await fetchTimestamp(
      url,
      signature,
      ctx.tsaTls ? { ...ctx.http, tls: ctx.tsaTls } : ctx.http,
    );
    ctx.onEvent?.(`timestamp received from ${url}`);
    return t;
  });
  const [tlogEntries, timestamps] = await Promise.all([
    Promise.all(tlogJobs),
    Promise.all(tsaJobs),
  ]);
  return { tlogEntries, timestamps };
}

function toBundle(
  signer: Signer,
  tlogEntries: TlogEntryJson[],
  timestamps: Uint8Array[],
  content: Record<string, unknown>,
): Bundle {
  const material: Record<string, unknown> =
    signer.material.$case === 'certificate'
      ? { certificate: { rawBytes: b64(signer.material.certificateDer) } }
      : { publicKey: { hint: signer.material.hint } };
  material.tlogEntries = tlogEntries;
  if (timestamps.length > 0)
    material.timestampVerificationData = {
      rfc3161Timestamps: timestamps.map((t) => ({ signedTimestamp: b64(t) })),
    };
  try {
    return parseBundle({ mediaType: MEDIA_TYPE_V03, verificationMaterial: material, ...content });
  } catch (e) {
    // Our inputs are the services' answers: a bundle that does not parse means one answered
    // with something that is not what the public API promises.
    throw new SignetError(
      'internal',
      'BAD_SERVICE_ANSWER',
      `the services' answers do not make a valid bundle: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

const BUNDLE_HASH = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' } as const;

function b64(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}
