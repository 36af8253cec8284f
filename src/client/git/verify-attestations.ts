/**
 * Verification of the attestations kept about a commit or a tree (attest.ts: `signet-gitsign
 * attest`, gitsign's `attest`): each through THE verifier (client/verify/verifier.ts), bound to
 * the object by its ID (a subject's `gitCommit` or `gitTree` digest), to the predicate type
 * asked for, and to the predicate file kept beside its envelope. Where the certificate and the
 * log entry come from depends on what is kept:
 *  - the Sigstore bundle beside the envelope (`<name>.sigstore.json`, as signet-gitsign attest
 *    keeps it), or a bundle in the `.sig` itself: from it (verifies offline). A bundle beside
 *    the envelope is used only when it holds exactly the `.sig`'s envelope. One of another
 *    envelope is stale (gitsign's attest of the same file rewrites the `.sig` alone) and is
 *    ignored, said in the result: anyone who could plant it could as well delete it, so the
 *    `.sig` is then verified as gitsign's are, below, and fails if it does not verify;
 *  - a DSSE envelope alone (what gitsign writes): from the transparency log, searched by the
 *    digest of the payload (dsse and intoto entries) and of the signed PAE (an envelope logged
 *    by its digest, hashedrekord). Anyone can log the public payload again with their own
 *    signature, so every entry listed is tried (up to the search's limit). Each entry found
 *    offers its certificate, which the verifier takes only if that entry, in a trusted log,
 *    records exactly this signature by that certificate; the chain, SCT, times and identity are
 *    then checked as for any bundle.
 * Nothing verifiable found fails: no attestation passes without a certificate and a log entry.
 */
import { SignetError, invalid, verificationFailed } from '../../core/errors.ts';
import { canonicalize } from '../../core/encoding/canonical-json.ts';
import { encodePem } from '../../core/encoding/pem.ts';
import { fromBase64 } from '../../core/encoding/base64.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { digest } from '../../core/crypto/digest.ts';
import { pae, parseEnvelope, sameEnvelope, type Envelope } from '../../core/dsse/index.ts';
import { parseStatement, type Statement } from '../../core/intoto/index.ts';
import { parseJsonText } from '../../core/json.ts';
import { rekorEntryFacts } from '../../core/rekor/entry-facts.ts';
import type { TlogEntryProtoJson } from '../../core/rekor/entry-proto.ts';
import { assembleBundle } from '../../bundle/assemble.ts';
import { parseBundle, type Bundle } from '../../bundle/bundle.ts';
import type { TrustedRoot } from '../../bundle/trusted-root.ts';
import {
  verifyBundle,
  type Artifact,
  type SignerPolicy,
  type VerificationResult,
  type VerifyOptions,
} from '../verify/verifier.ts';
import type { EntrySearch } from './commits.ts';
import {
  attestedObject,
  DIGEST_NAMES,
  BUNDLE_SUFFIX,
  ENVELOPE_SUFFIX,
  readAttestations,
  type AttestedObject,
  type StoredAttestation,
} from './attest.ts';

export interface GitAttestationOptions {
  trustedRoot: TrustedRoot;
  policy: SignerPolicy;
  /** Only attestations of this predicate type (a URI) are verified; default: every type. */
  predicateType?: string;
  /** Finds the log entries of envelopes kept without a bundle; without it, only bundles verify. */
  search?: EntrySearch;
  /** Witness cosignatures, and the CT log threshold (0: no SCT needed). */
  verify?: Pick<VerifyOptions, 'witnesses' | 'ctlogThreshold'>;
}

export interface VerifiedGitAttestation {
  /** The predicate file's name (the envelope is `<name>.sig`). */
  name: string;
  statement: Statement;
  /** The statement as signed, as JSON. */
  statementJson: unknown;
  result: VerificationResult;
  /** Where the certificate and log entry came from: a bundle kept, or the log's search. */
  source: 'bundle' | 'log search';
  /** The bundle file kept beside the `.sig` that was ignored: of another envelope (stale). */
  staleBundle?: string;
}

export interface GitAttestationCheck {
  kind: AttestedObject;
  /** The commit or tree ID. */
  object: string;
  ref: string;
  refExists: boolean;
  /** Attestations kept for the object (`.sig` files). */
  found: number;
  /** Those of the predicate type asked for, and those whose type cannot be read: checked. */
  tried: number;
  verified: VerifiedGitAttestation[];
  rejected: Array<{ name: string; reason: string; error: unknown }>;
  /** The predicate types of the attestations not of the type asked for. */
  otherTypes: string[];
}

/** What a `.sig` holds, read but not yet trusted, and the bundle file beside it if any. */
interface Unverified {
  /** The predicate file's name. */
  name: string;
  label: string;
  text: string;
  envelope: Envelope;
  /** A bundle the `.sig` itself holds. */
  bundle: Bundle | undefined;
  statement: Statement;
  /** `<name>.sigstore.json`, as kept (read by keptBundle). */
  bundleFile: { label: string; bytes: Uint8Array } | undefined;
}

/**
 * The verifier binds an artifact through its SHA-2 digest; a git object is bound by its ID
 * (VerifyOptions.subject), so the artifact it is given is never read.
 */
const BOUND_BY_SUBJECT: Artifact = { kind: 'bytes', data: new Uint8Array(0) };

function read(a: StoredAttestation & { unreadable?: undefined }): Unverified {
  const label = `${a.name}${ENVELOPE_SUFFIX}`;
  const text = new TextDecoder().decode(a.envelope);
  const value = parseJsonText(a.envelope, label);
  let bundle: Bundle | undefined;
  let envelope: Envelope;
  if (typeof value === 'object' && value !== null && 'mediaType' in value) {
    ({ bundle, envelope } = parseDsseBundle(value, label));
  } else envelope = parseEnvelope(value, label);
  return {
    name: a.name,
    label,
    text,
    envelope,
    bundle,
    statement: parseStatement(envelope.payload, `${label} payload`),
    bundleFile: a.bundle && { label: `${a.name}${BUNDLE_SUFFIX}`, bytes: a.bundle },
  };
}

/** A Sigstore bundle of a DSSE envelope, from the JSON `value` of the file `label`. */
function parseDsseBundle(value: unknown, label: string): { bundle: Bundle; envelope: Envelope } {
  let bundle: Bundle;
  try {
    bundle = parseBundle(value);
  } catch (e) {
    throw invalid(label, `is not a valid Sigstore bundle: ${(e as Error).message}`, e);
  }
  if (bundle.content.$case !== 'dsseEnvelope')
    throw invalid(label, 'holds a bundle of a message signature, not of an attestation');
  return { bundle, envelope: bundle.content.dsseEnvelope };
}

/**
 * The bundle kept beside the `.sig` when it is of exactly the `.sig`'s envelope (the statement
 * checked, type, subject and predicate file, is then the one the bundle's signature covers);
 * undefined when it is of another envelope (stale). One that is not a bundle of an envelope
 * at all fails.
 */
function keptBundle(u: Unverified, file: { label: string; bytes: Uint8Array }): Bundle | undefined {
  const { bundle, envelope } = parseDsseBundle(parseJsonText(file.bytes, file.label), file.label);
  return sameEnvelope(envelope, u.envelope) ? bundle : undefined;
}

/**
 * What is said of the bundle kept beside the attestation `name`'s `.sig` and ignored because it
 * is of another envelope.
 */
export function staleBundleNote(name: string): string {
  const sig = `${name}${ENVELOPE_SUFFIX}`;
  return `${name}${BUNDLE_SUFFIX} was ignored: its envelope is not the one kept in ${sig} (a stale bundle, e.g. left when gitsign attest rewrote ${sig})`;
}

/** The predicate file kept beside the envelope must be the predicate it signed. */
function checkPredicateFile(a: StoredAttestation & { unreadable?: undefined }, u: Unverified) {
  if (a.file === undefined)
    throw verificationFailed(
      'PREDICATE_MISMATCH',
      `${a.name} is missing beside ${u.label}: the predicate file attest keeps with its envelope`,
    );
  let kept: unknown;
  try {
    kept = parseJsonText(a.file, a.name);
  } catch (e) {
    throw verificationFailed(
      'PREDICATE_MISMATCH',
      `${a.name} is not the predicate ${u.label} signed: ${(e as Error).message}`,
      e,
    );
  }
  if (canonicalize(kept) !== canonicalize(u.statement.predicate))
    throw verificationFailed(
      'PREDICATE_MISMATCH',
      `${a.name} is not the predicate ${u.label} signed (it changed after it was attested)`,
    );
}

/** The certificates an entry names its signers by (candidates; the verifier decides). */
function certificatesOf(entry: TlogEntryProtoJson): Uint8Array[] {
  try {
    return rekorEntryFacts(fromBase64(entry.canonicalizedBody, 'canonicalizedBody'))
      .signers.filter((s) => 'certificate' in s && s.form === 'certificate')
      .map((s) => (s as { certificate: Uint8Array }).certificate);
  } catch {
    return []; // a body that names no certificate is not this keyless signature's entry
  }
}

/** A failure that says only that a candidate entry is another signature's. */
const notThisEntry = (e: SignetError) =>
  e.code === 'TLOG_BODY_MISMATCH' || e.code === 'SIGNATURE' || e.code === 'KEY_MISMATCH';

type VerifiedOne = Pick<VerifiedGitAttestation, 'result' | 'source' | 'staleBundle'>;

async function verifyOne(
  u: Unverified,
  kind: AttestedObject,
  object: string,
  o: GitAttestationOptions,
): Promise<VerifiedOne> {
  const verify = (b: Bundle, label = u.label) =>
    verifyBundle(b, BOUND_BY_SUBJECT, o.trustedRoot, o.policy, {
      ...o.verify,
      subject: { algorithm: DIGEST_NAMES[kind], digest: object },
      names: { subject: label, chain: label },
      ...(o.predicateType !== undefined ? { predicateType: o.predicateType } : {}),
    });
  // A bundle kept of this envelope: verified as it is, never searched for (a search finds only
  // candidates). One of another envelope is stale: the `.sig` is verified as if it were not
  // there, and the failure, if any, says it was ignored.
  if (u.bundleFile) {
    const kept = keptBundle(u, u.bundleFile);
    if (kept) return { result: verify(kept, u.bundleFile.label), source: 'bundle' };
    const staleBundle = u.bundleFile.label;
    try {
      return { ...(await verifyEnvelope(u, o, verify)), staleBundle };
    } catch (e) {
      // A log that cannot be asked (or a bug) is no verdict, and is told as it is.
      if (!(e instanceof SignetError) || e.kind === 'unavailable' || e.kind === 'internal') throw e;
      throw new SignetError(e.kind, e.code, `${e.message}; ${staleBundleNote(u.name)}`, {
        cause: e,
        ...(e.details ? { details: e.details } : {}),
      });
    }
  }
  return verifyEnvelope(u, o, verify);
}

/** The `.sig` as kept, without a bundle beside it: its own bundle, or the log's search. */
async function verifyEnvelope(
  u: Unverified,
  o: GitAttestationOptions,
  verify: (b: Bundle) => VerificationResult,
): Promise<VerifiedOne> {
  if (u.bundle) return { result: verify(u.bundle), source: 'bundle' };
  if (!o.search)
    throw verificationFailed(
      'TLOG_MISSING',
      `${u.label} holds a DSSE envelope alone (no certificate, no log entry), which verifies only through the transparency log's search; the log was not searched (offline)`,
    );
  const { payload, payloadType } = u.envelope;
  const hashes = [payload, pae(payloadType, payload)].map(
    (b) => `sha256:${toHex(digest('sha256', b))}`,
  );
  const tried = new Set<string>();
  let failure: SignetError | undefined;
  let unread: SignetError | undefined;
  for (const hash of hashes)
    try {
      // Every entry listed, page by page: the first 10 may all be copies someone else logged.
      for await (const page of o.search({ hash }))
        for (const entry of page) {
          const key = `${entry.logId.keyId} ${entry.logIndex}`;
          if (tried.has(key)) continue;
          tried.add(key);
          for (const certificate of certificatesOf(entry))
            try {
              const bundle = assembleBundle({
                signature: u.text,
                attestation: true,
                certificatePem: encodePem('CERTIFICATE', certificate),
                tlogEntries: [entry],
                labels: { signature: u.label },
              });
              return { result: verify(bundle), source: 'log search' };
            } catch (e) {
              if (!(e instanceof SignetError)) throw e;
              // The entry of this signature whose check failed says why; others are not its entry.
              if (!notThisEntry(e)) failure ??= e;
            }
        }
    } catch (e) {
      // More entries than are read: the other digest's search may still find it.
      if (!(e instanceof SignetError && e.code === 'TLOG_SEARCH_TOO_MANY')) throw e;
      unread ??= e;
    }
  if (failure) throw failure;
  if (unread)
    throw verificationFailed(
      'TLOG_SEARCH_TOO_MANY',
      `no entry read records ${u.label}'s signature, and not all were read (${unread.message}): its payload may have been logged again many times to hide its entry; an attestation kept with its bundle (${u.name}${BUNDLE_SUFFIX}, as signet-gitsign attest writes it) verifies without the search`,
      unread,
    );
  throw verificationFailed(
    'TLOG_MISSING',
    `the transparency log has no entry for ${u.label}'s signature (searched by the digests of its payload and of what it signs): it was never logged, or it changed since`,
  );
}

/**
 * Every attestation kept for `object` (a commit or tree ID), each verified or rejected with
 * its reason; never throws for one that does not verify.
 */
export async function checkGitAttestations(
  repoDir: string,
  kind: AttestedObject,
  object: string,
  o: GitAttestationOptions,
): Promise<GitAttestationCheck> {
  const stored = await readAttestations(repoDir, kind, object);
  const out: GitAttestationCheck = {
    kind,
    object,
    ref: stored.ref,
    refExists: stored.refExists,
    found: stored.attestations.length,
    tried: 0,
    verified: [],
    rejected: [],
    otherTypes: [],
  };
  for (const a of stored.attestations) {
    const reject = (error: unknown) => {
      // A log that cannot be asked, or a bug, is no verdict on the attestation: it stops here.
      if (
        !(error instanceof SignetError) ||
        error.kind === 'unavailable' ||
        error.kind === 'internal'
      )
        throw error;
      out.rejected.push({ name: a.name, reason: error.message, error });
    };
    let u: Unverified;
    try {
      if (a.unreadable !== undefined)
        throw a.incomplete
          ? verificationFailed('ATTESTATION_INCOMPLETE', a.unreadable)
          : new SignetError('invalid-input', 'INVALID_INPUT', a.unreadable);
      u = read(a);
    } catch (e) {
      // One that cannot be read has no type to be filtered by: it counts as tried.
      out.tried++;
      reject(e);
      continue;
    }
    if (o.predicateType !== undefined && u.statement.predicateType !== o.predicateType) {
      out.otherTypes.push(u.statement.predicateType);
      continue;
    }
    out.tried++;
    try {
      checkPredicateFile(a, u);
      const verified = await verifyOne(u, kind, object, o);
      out.verified.push({
        name: a.name,
        statement: u.statement,
        statementJson: parseJsonText(u.envelope.payload, `${u.label} payload`),
        ...verified,
      });
    } catch (e) {
      reject(e);
    }
  }
  return out;
}

/**
 * Verifies the attestations of the commit `rev` names (or of its tree): resolves when at least
 * one of the type asked for verifies. Throws NO_SIGNATURE (none kept; cosign's exit 10) or
 * NO_MATCHING_SIGNATURE (none of the type, or none verified; exit 12), naming the object.
 */
export async function verifyGitAttestations(
  repoDir: string,
  kind: AttestedObject,
  rev: string,
  o: GitAttestationOptions,
): Promise<GitAttestationCheck> {
  const object = await attestedObject(repoDir, kind, rev);
  const r = await checkGitAttestations(repoDir, kind, object, o);
  const what = `${kind} ${object}`;
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  if (r.found === 0)
    throw new SignetError(
      'verification',
      'NO_SIGNATURE',
      r.refExists
        ? `no attestations found for ${what}: ${r.ref} has none for it`
        : `no attestations found for ${what}: this repository has no ${r.ref} (fetch it, e.g. git fetch origin 'refs/attestations/*:refs/attestations/*')`,
      { details: { found: 0, tried: 0, valid: 0 } },
    );
  if (r.tried === 0)
    throw new SignetError(
      'verification',
      'NO_MATCHING_SIGNATURE',
      `no attestation of type ${o.predicateType} for ${what}: its ${n(r.found, 'attestation')} ${r.found === 1 ? 'is' : 'are'} of type ${[...new Set(r.otherTypes)].join(', ')}`,
      { details: { found: r.found, tried: 0, valid: 0 } },
    );
  // Every one made with another deployment: said as such, so the command can say where the
  // repository's verification takes its deployment from (a clone has no signet.server).
  const elsewhere =
    r.rejected.length > 0 &&
    r.rejected.every((x) => x.error instanceof SignetError && x.error.code === 'OTHER_DEPLOYMENT');
  if (r.verified.length === 0)
    throw new SignetError(
      'verification',
      elsewhere ? 'OTHER_DEPLOYMENT' : 'NO_MATCHING_SIGNATURE',
      `no matching attestations for ${what}: ${r.found} found, ${r.tried} ${o.predicateType === undefined ? 'tried' : `of type ${o.predicateType}`}, 0 valid (${r.rejected
        .slice(0, 3)
        .map((x) => `${x.name}: ${x.reason}`)
        .join('; ')}${r.rejected.length > 3 ? `; and ${r.rejected.length - 3} more` : ''})`,
      {
        details: {
          found: r.found,
          tried: r.tried,
          valid: 0,
          rejected: r.rejected.map(({ name, reason }) => ({ name, reason })),
        },
      },
    );
  return r;
}
