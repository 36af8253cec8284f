/**
 * Verifies a git signature (gitsign's CMS format) with THE verifier (client/verify/verifier.ts),
 * through the CMS <-> bundle mapping gitsign documents (docs/bundle-cms.md):
 *  - the artifact is DER(SignedAttrs); the bundle's messageSignature is the SignerInfo's
 *    signature with messageDigest = hash(DER(SignedAttrs));
 *  - the certificate is the leaf the SignerInfo names; intermediates come from the trusted root;
 *  - the log entry is the embedded TransparencyLogEntry (OID …57264.3.1) whose body is rebuilt
 *    from the signature, the certificate and the signed attributes (hashedrekord 0.0.1), so an
 *    entry for any other signature fails its inclusion checks;
 *  - RFC 3161 tokens from the unsigned attributes are the bundle's timestamps;
 *  - "content binding": hash(payload) must equal the messageDigest attribute.
 * Signatures without an embedded entry are gitsign's "online" mode: the log is searched for a
 * hashedrekord over the object ID signed with the same certificate (verifyGitSignatureOnline).
 * A timestamp-only signature (no log at all) verifies only when asked for, and says so.
 */
import type { KeyObject } from 'node:crypto';
import { SignetError, verificationFailed } from '../../core/errors.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { parseGitSignature, type GitSignature } from '../../core/git/signature.ts';
import { hashedRekordV001Body } from '../../core/rekor/v1.ts';
import { decodeTlogEntryProto, type TlogEntryProtoJson } from '../../core/rekor/entry-proto.ts';
import { certificateFingerprint } from '../../core/git/status.ts';
import { parseCertificateOnce } from '../../core/x509/certificate.ts';
import { MEDIA_TYPE_V03, parseBundle, type Bundle } from '../../bundle/bundle.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import {
  verifyBundle,
  type SignerPolicy,
  type VerificationResult,
  type VerifiedTime,
  type VerifyOptions,
} from '../verify/verifier.ts';
import { certificateIdentities, type IdentityPolicy } from '../verify/policy.ts';
import { parseJsonText } from '../../core/json.ts';
const { createHash, verify: nodeVerify } = process.getBuiltinModule('node:crypto');

export interface GitVerifyOptions {
  /** Accept a signature with no transparency log entry when an RFC 3161 timestamp dates it. */
  allowNoTlog?: boolean;
  /** Witness cosignatures the log entry's checkpoint must carry (`--witness-key`). */
  witnesses?: VerifyOptions['witnesses'];
  /** Accept a certificate without an SCT (`--insecure-ignore-sct`, as gitsign verify has). */
  ignoreSct?: boolean;
}

/** What the git options ask of the verifier, beyond the log threshold. */
function verifierOptions(opts: GitVerifyOptions): VerifyOptions {
  return {
    // what a git user has in hand is a signature, not a bundle
    names: { subject: 'the signature', chain: 'the signature' },
    ...(opts.witnesses ? { witnesses: opts.witnesses } : {}),
    ...(opts.ignoreSct ? { ctlogThreshold: 0 } : {}),
  };
}

export interface GitVerification {
  /** The certificate's identities (SAN) and OIDC issuer. */
  identity: string[];
  issuer: string | undefined;
  certificate: Uint8Array;
  /** SHA-1 fingerprint of the certificate, as gpg status lines print it. */
  fingerprint: string;
  /** Verified times: the log's integrated time and/or the TSA's. */
  times: VerifiedTime[];
  /** The signing time the signer claims (signed attribute; not a verified time). */
  claimedTime: Date | undefined;
  /** The verifier's result (for callers that decide over it, e.g. the policy engine). */
  verification: VerificationResult;
  /** How the signature is logged; undefined for timestamp-only signatures. */
  log: { mode: 'embedded' | 'online'; logIndex: number; log: string } | undefined;
}

/** Any signer: git verify-commit cannot say whom it expects (gitsign warns the same way). */
export const ANY_IDENTITY: IdentityPolicy = {
  subjectAlternativeName: { regexp: /^[\s\S]*$/ },
  issuer: { regexp: /^[\s\S]*$/ },
};

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const BUNDLE_HASH = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' } as const;

/** The signature parsed and bound to the payload (content binding), before any trust. */
export function bindGitSignature(payload: Uint8Array, signature: Uint8Array): GitSignature {
  const sig = parseGitSignature(signature);
  const mismatch = contentMismatch(sig, payload);
  if (mismatch) throw mismatch;
  return sig;
}

function contentMismatch(sig: GitSignature, payload: Uint8Array): SignetError | undefined {
  const digest = createHash(sig.digest).update(payload).digest();
  if (Buffer.compare(digest, sig.messageDigest) === 0) return undefined;
  return verificationFailed(
    'CONTENT_MISMATCH',
    `the signed content does not match: the signature is over ${sig.digest} ${toHex(sig.messageDigest)}, the object's content hashes to ${toHex(digest)} (changed after signing)`,
  );
}

/** Whether the CMS signature verifies over the signed attributes with `key` (no trust in it). */
function signsAttributes(sig: GitSignature, key: KeyObject): boolean {
  try {
    return nodeVerify(sig.digest, sig.signedAttrs, key, sig.signer.signature);
  } catch {
    return false;
  }
}

const signatureMismatch = () =>
  verificationFailed(
    'SIGNATURE',
    "the signature does not verify over the signed attributes with the certificate's key",
  );

/** A signature that is wrong by its own certificate (badSignature). */
export interface BadSignature {
  certificate: Uint8Array;
  /** The certificate's identities (SAN), unverified: whom the signature claims. */
  identity: string[];
  reason: SignetError;
}

/**
 * gpgsm's first check, before any trust (gitsign follows gpgsm's status protocol): the
 * signature against the certificate it carries. Returns why it is BAD (git's %G? B) when the
 * content changed after signing or the signature does not verify with the certificate's key;
 * undefined when it holds, or when the signature or certificate cannot be read (the verifier
 * then says why it cannot be checked).
 */
export function badSignature(payload: Uint8Array, signature: Uint8Array): BadSignature | undefined {
  let sig: GitSignature;
  let key: KeyObject;
  let identity: string[];
  try {
    sig = parseGitSignature(signature);
    const cert = parseCertificateOnce(sig.certificate);
    key = cert.publicKey;
    identity = certificateIdentities(cert);
  } catch {
    return undefined;
  }
  const reason =
    contentMismatch(sig, payload) ?? (signsAttributes(sig, key) ? undefined : signatureMismatch());
  return reason && { certificate: sig.certificate, identity, reason };
}

/**
 * Offline verification: the embedded log entry (or, with allowNoTlog, timestamps alone).
 * Throws a SignetError: `invalid-input` for an unreadable signature, `verification` otherwise.
 */
/** Where a signature made without a log entry (signet.tlog false) is taken. */
const MADE_WITHOUT_LOG =
  'a signature made without one is taken only by signet verify-commit --insecure-ignore-tlog, or by git where signet.tlog is false';

export function verifyGitSignature(
  payload: Uint8Array,
  signature: Uint8Array,
  trustedRoot: TrustedRoot,
  policy: SignerPolicy,
  opts: GitVerifyOptions = {},
): GitVerification {
  const sig = bindGitSignature(payload, signature);
  if (sig.tlogEntry === undefined && !opts.allowNoTlog)
    throw verificationFailed(
      'TLOG_MISSING',
      `the signature carries no transparency log entry (${MADE_WITHOUT_LOG}; or it was made in gitsign online mode and the log could not be searched)`,
    );
  return verifyBound(sig, trustedRoot, policy, opts);
}

function verifyBound(
  sig: GitSignature,
  trustedRoot: TrustedRoot,
  policy: SignerPolicy,
  opts: GitVerifyOptions,
): GitVerification {
  const entry = sig.tlogEntry ? embeddedEntry(sig) : undefined;
  const bundle = toBundle(sig, entry ? [entry] : []);
  const r = verifyBundle(bundle, { kind: 'bytes', data: sig.signedAttrs }, trustedRoot, policy, {
    ...verifierOptions(opts),
    tlogThreshold: entry ? 1 : 0,
  });
  return result(sig, r, entry ? 'embedded' : undefined);
}

/** The embedded entry with its body rebuilt from this signature (gitsign ToLogEntryProto). */
function embeddedEntry(sig: GitSignature): TlogEntryProtoJson {
  let e: TlogEntryProtoJson;
  try {
    e = decodeTlogEntryProto(sig.tlogEntry!, 'tlogEntry');
  } catch (err) {
    throw verificationFailed(
      'TLOG_MALFORMED',
      `the embedded transparency log entry is not a TransparencyLogEntry: ${(err as Error).message}`,
      err,
    );
  }
  if (e.kindVersion.kind !== 'hashedrekord' || e.kindVersion.version !== '0.0.1')
    throw verificationFailed(
      'TLOG_KIND',
      `the embedded log entry is ${e.kindVersion.kind || '(no kind)'} ${e.kindVersion.version}; git signatures are logged as hashedrekord 0.0.1`,
    );
  const digest = createHash(sig.digest).update(sig.signedAttrs).digest('hex');
  const body = hashedRekordV001Body(
    sig.digest,
    digest,
    b64(sig.signer.signature),
    b64(new TextEncoder().encode(encodePem('CERTIFICATE', sig.certificate))),
  );
  return { ...e, canonicalizedBody: b64(body) };
}

function toBundle(sig: GitSignature, entries: TlogEntryProtoJson[]): Bundle {
  const digest = createHash(sig.digest).update(sig.signedAttrs).digest();
  const json = {
    mediaType: MEDIA_TYPE_V03,
    verificationMaterial: {
      certificate: { rawBytes: b64(sig.certificate) },
      tlogEntries: entries,
      ...(sig.timestampTokens.length
        ? {
            timestampVerificationData: {
              rfc3161Timestamps: sig.timestampTokens.map((t) => ({ signedTimestamp: b64(t) })),
            },
          }
        : {}),
    },
    messageSignature: {
      messageDigest: { algorithm: BUNDLE_HASH[sig.digest], digest: b64(digest) },
      signature: b64(sig.signer.signature),
    },
  };
  try {
    return parseBundle(json);
  } catch (e) {
    throw verificationFailed(
      (e as SignetError).code ?? 'MALFORMED',
      `the signature's parts do not make a valid Sigstore bundle: ${(e as Error).message}`,
      e,
    );
  }
}

function result(
  sig: GitSignature,
  r: VerificationResult,
  mode: 'embedded' | 'online' | undefined,
): GitVerification {
  const signer = r.signer;
  const le = r.tlogEntries[0];
  return {
    identity: signer.kind === 'certificate' ? signer.identity : [],
    issuer: signer.kind === 'certificate' ? signer.issuer : undefined,
    certificate: sig.certificate,
    fingerprint: certificateFingerprint(sig.certificate),
    times: r.times,
    claimedTime: sig.signingTime,
    verification: r,
    log:
      mode && le
        ? { mode, logIndex: le.entry.logIndex, log: le.log.baseUrl || 'transparency log' }
        : undefined,
  };
}

/** Finds gitsign online-mode entries: hashedrekord over SHA-256(objectId) by this certificate. */
export type LogSearch = (objectId: string, certificatePem: string) => Promise<TlogEntryProtoJson[]>;

/**
 * With an online fallback: a signature without an embedded entry is looked up in the log by
 * its object ID (gitsign's online mode). The entry is then verified by the verifier as a bundle
 * over the object ID, and the CMS signature over the content with the same certificate.
 */
export async function verifyGitSignatureOnline(
  payload: Uint8Array,
  signature: Uint8Array,
  objectId: string,
  trustedRoot: TrustedRoot,
  policy: SignerPolicy,
  search: LogSearch | undefined,
  opts: GitVerifyOptions = {},
): Promise<GitVerification> {
  const found = await searchOnlineEntry(payload, signature, objectId, search);
  return verifyGitSignatureWithEntry(
    payload,
    signature,
    objectId,
    found,
    trustedRoot,
    policy,
    opts,
  );
}

/** What the log search found for a signature without an embedded entry (nothing to do if embedded). */
export interface OnlineSearch {
  entry: TlogEntryProtoJson | undefined;
  searched: boolean;
  error: unknown;
}

/** The I/O half of online verification: search the log for the object's entry. */
export async function searchOnlineEntry(
  payload: Uint8Array,
  signature: Uint8Array,
  objectId: string,
  search: LogSearch | undefined,
): Promise<OnlineSearch> {
  const sig = bindGitSignature(payload, signature);
  if (sig.tlogEntry !== undefined || !search)
    return { entry: undefined, searched: false, error: undefined };
  try {
    return {
      entry: (await search(objectId, encodePem('CERTIFICATE', sig.certificate)))[0],
      searched: true,
      error: undefined,
    };
  } catch (e) {
    return { entry: undefined, searched: true, error: e };
  }
}

/**
 * The pure half: verify with the embedded entry, or else with the entry the search found
 * (searchOnlineEntry), so a caller that verifies under several trust roots and policies (the
 * policy engine) searches once.
 */
export function verifyGitSignatureWithEntry(
  payload: Uint8Array,
  signature: Uint8Array,
  objectId: string,
  found: OnlineSearch,
  trustedRoot: TrustedRoot,
  policy: SignerPolicy,
  opts: GitVerifyOptions = {},
): GitVerification {
  const sig = bindGitSignature(payload, signature);
  if (sig.tlogEntry !== undefined) return verifyBound(sig, trustedRoot, policy, opts);
  const searchError = found.error;
  const search = found.searched;
  const entry = found.entry;
  if (!entry) {
    if (opts.allowNoTlog) return verifyBound(sig, trustedRoot, policy, opts);
    throw verificationFailed(
      'TLOG_MISSING',
      searchError
        ? `the signature carries no transparency log entry, and the log could not be searched for one: ${(searchError as Error).message}`
        : search
          ? `the signature carries no transparency log entry, and the log has none for ${objectId} signed with this certificate (${MADE_WITHOUT_LOG})`
          : `the signature carries no transparency log entry (${MADE_WITHOUT_LOG})`,
    );
  }
  // The online entry: a signature over the object ID (hex text) with the commit's certificate.
  const body = parseJsonText(
    Buffer.from(entry.canonicalizedBody, 'base64'),
    'transparency log entry body',
  ) as {
    spec?: { signature?: { content?: string } };
  };
  const shaSig = body.spec?.signature?.content;
  if (typeof shaSig !== 'string')
    throw verificationFailed('TLOG_MALFORMED', 'the online log entry carries no signature');
  const artifact = new TextEncoder().encode(objectId);
  const bundle = parseBundle({
    mediaType: MEDIA_TYPE_V03,
    verificationMaterial: {
      certificate: { rawBytes: b64(sig.certificate) },
      tlogEntries: [entry],
    },
    messageSignature: {
      messageDigest: {
        algorithm: 'SHA2_256',
        digest: b64(createHash('sha256').update(artifact).digest()),
      },
      signature: shaSig,
    },
  });
  const r = verifyBundle(
    bundle,
    { kind: 'bytes', data: artifact },
    trustedRoot,
    policy,
    verifierOptions(opts),
  );
  // The content signature by the same (now verified) certificate's key.
  if (r.signer.kind !== 'certificate' || !signsAttributes(sig, r.signer.certificate.publicKey))
    throw signatureMismatch();
  return result(sig, r, 'online');
}
