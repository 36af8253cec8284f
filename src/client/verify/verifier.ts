import type { ErrorCode } from '../../core/errors.ts';
/**
 * The bundle verifier, following the Sigstore client specification (§4 "Verification"):
 *  1. times: RFC 3161 timestamps verify against the trusted TSAs, and Rekor v1 entries'
 *     signed entry timestamps verify; the signing time comes ONLY from these;
 *  2. the signing certificate chains to a CA of the trusted root at every verified time, and
 *     carries an SCT from a trusted CT log (keyed bundles: the key the verifier supplies); that
 *     a CA of the trusted root signed it at all is checked before the log entries, which an
 *     altered certificate would fail first;
 *  3. every log entry comes from a trusted log, records exactly this signature, signer and
 *     artifact, and is proven included (SET and/or inclusion proof to a signed checkpoint);
 *  4. the signature verifies over the artifact (or its digest) or the DSSE PAE, the artifact
 *     matches the bundle's message digest (checked directly) or the statement's subject;
 *  5. the identity policy holds.
 * A bundle none of whose CA, logs and TSAs the trusted root holds fails with one error that
 * says it is another deployment's and names them (anchors.ts), whichever check failed first.
 * Pure and synchronous: no I/O; trust material and policy are passed in.
 */
import type { KeyObject } from 'node:crypto';
import { inputNames, type InputNames } from '../input-names.ts';
import { SignetError, quoteInput, verificationFailed } from '../../core/errors.ts';
import { toHex } from '../../core/encoding/hex.ts';
import {
  keyDetailsOf,
  messageScheme,
  spkiDer,
  defaultHash,
  type HashAlgorithm,
  type KeyDetails,
} from '../../core/crypto/keys.ts';
import { verifyDigest, verifyMessage } from '../../core/crypto/verify.ts';
import { digest } from '../../core/crypto/digest.ts';
import { parseCertificateOnce, type X509Certificate } from '../../core/x509/certificate.ts';
import {
  checkIssuedByAny,
  verifyCertificateChain,
  type VerifiedChain,
} from '../../core/x509/chain.ts';
import { verifyEmbeddedScts } from '../../core/ct/sct.ts';
import { verifyTimestamp } from '../../core/rfc3161/verify.ts';
import { pae } from '../../core/dsse/index.ts';
import {
  INTOTO_PAYLOAD_TYPE,
  parseStatement,
  subjectsMatching,
  type Statement,
} from '../../core/intoto/index.ts';
import { fulcioIssuer } from '../../core/x509/fulcio-extensions.ts';
import type { Bundle, HashAlgorithmName, TransparencyLogEntry } from '../../bundle/bundle.ts';
import {
  inRange,
  type CertificateAuthority,
  type TransparencyLogInstance,
  type TrustedRoot,
} from '../../bundle/trusted-root.ts';
import {
  checkAnyIdentity,
  checkIdentity,
  certificateIdentities,
  type IdentityPolicy,
} from './policy.ts';
import {
  findLog,
  logName,
  verifyEntryBody,
  verifyInclusionProof,
  verifySet,
  type EntryExpectation,
  type WitnessPolicy,
} from './tlog.ts';
import { otherDeployment } from './anchors.ts';
const { verify: nodeVerify } = process.getBuiltinModule('node:crypto');

export type Artifact =
  | { kind: 'bytes'; data: Uint8Array }
  /** Only the digest is known (`sha256:<hex>` on the command line). */
  | { kind: 'digest'; algorithm: 'sha256' | 'sha384' | 'sha512'; digest: Uint8Array }
  /**
   * A file too large to hold in memory: hashed as it is read, with each algorithm a check asks
   * for (verify-blob of a file over 64 MiB; of standard input, `-`, hashed as it came).
   */
  | { kind: 'file'; path: string; digest(algorithm: 'sha256' | 'sha384' | 'sha512'): Uint8Array };

export type SignerPolicy =
  | { kind: 'identity'; identity: IdentityPolicy }
  /** Any one of several identities (a policy authority's list); the first that holds is reported. */
  | { kind: 'identities'; identities: IdentityPolicy[] }
  | { kind: 'key'; key: KeyObject }
  /**
   * Every check but the identity policy: for showing who signed (the explorer's answer to a
   * dropped bundle), never for deciding whom to trust. Key-signed bundles still need `key`.
   */
  | { kind: 'anyIdentity' };

/**
 * Thresholds count independent witnesses, as sigstore-go does: distinct transparency logs,
 * timestamp authorities and CT logs. One authority saying the same thing twice (two entries of
 * one signature in one log, two tokens from one TSA, two SCTs from one CT log) counts once.
 */
export interface VerifyOptions {
  /** Transparency logs whose entries must verify (default 1). */
  tlogThreshold?: number;
  /** CT logs of the trusted root whose embedded SCTs must verify, for certificates (default 1). */
  ctlogThreshold?: number;
  /** Verified times required, at most one per log and per timestamp authority (default 1). */
  timestampThreshold?: number;
  /** For attestations: the predicate type the statement must carry. */
  predicateType?: string;
  /** Cosignatures every entry's checkpoint must carry (`--witness-key`, `--witness-threshold`). */
  witnesses?: WitnessPolicy;
  /**
   * Attestations: false skips binding the artifact to the statement's subjects (cosign's
   * --check-claims=false): only the envelope's signature, signer and log are verified.
   */
  checkClaims?: boolean;
  /**
   * Attestations about something named by a digest other than a SHA-2 of the artifact (a git
   * commit or tree by its ID: in-toto's `gitCommit`, `gitTree`): a subject must have exactly
   * this digest, and the artifact is not used.
   */
  subject?: { algorithm: string; digest: string };
  /**
   * The hash an ECDSA or RSA signature was made over, when the signer did not use the usual one
   * (policy-controller's `key.hashAlgorithm`); default: the bundle's message digest algorithm,
   * or the key's own hash for DSSE envelopes.
   */
  signatureHash?: HashAlgorithm;
  /** Trusted TSAs whose RFC 3161 timestamps must verify (cosign's --use-signed-timestamps; default 0). */
  signedTimestampThreshold?: number;
  /**
   * With no verified time at all (no log, no timestamp; only when timestampThreshold is 0):
   * check the certificate at the current time, as sigstore-go's WithCurrentTime does for
   * cosign's --insecure-ignore-tlog. Off by default: a signature then proves nothing about when.
   */
  currentTimeWhenUntimed?: boolean;
  /**
   * How errors name what is verified, when it is not a bundle (`subject`, `chain`: cosign's
   * detached `--signature` is "the signature", and the CA certificates given with it are named
   * by their flag and file), and the caller's inputs a message points to (default: the CLI's
   * flags; the library names its own).
   */
  names?: InputNames<VerifyName>;
}

/**
 * `subject`: what is verified; `chain`: where the CA certificates came from; `key`: how to verify
 * with a public key; `noTlog`: how to accept a signature logged nowhere; `signedTimestamps`: the
 * number of signed timestamps required.
 */
export type VerifyName = 'subject' | 'chain' | 'key' | 'noTlog' | 'signedTimestamps';
const VERIFY_NAMES: Record<VerifyName, string> = {
  subject: 'the bundle',
  chain: 'the bundle',
  key: '--key',
  noTlog: '--insecure-ignore-tlog',
  signedTimestamps: '--use-signed-timestamps',
};
/** How a message names `k` (see VerifyOptions.names). */
const nameOf = (options: VerifyOptions, k: VerifyName): string =>
  inputNames(VERIFY_NAMES, options.names)[k];

export interface VerifiedTime {
  source: 'transparency-log' | 'timestamp-authority' | 'current-time';
  time: Date;
  /** Log base URL or TSA subject, for humans. */
  by: string;
}

export interface VerificationResult {
  signer:
    | {
        kind: 'certificate';
        certificate: X509Certificate;
        identity: string[];
        issuer: string | undefined;
        chain: X509Certificate[];
      }
    | { kind: 'key'; key: KeyObject };
  times: VerifiedTime[];
  tlogEntries: Array<{ entry: TransparencyLogEntry; log: TransparencyLogInstance }>;
  /** The in-toto statement, for DSSE bundles. */
  statement?: Statement;
}

const HASH_OF: Record<HashAlgorithmName, 'sha256' | 'sha384' | 'sha512'> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
};

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

function verifyWithHash(key: KeyObject, alg: string, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return nodeVerify(alg, data, key, sig);
  } catch {
    return false;
  }
}

function fail(code: ErrorCode, message: string, cause?: unknown): SignetError {
  return verificationFailed(code, message, cause);
}

/** What errors call the material verified: "the bundle", unless `names` says otherwise. */
const subjectOf = (options: VerifyOptions): string => nameOf(options, 'subject');

/** The artifact's digest with `alg` (only possible for the digest we were given). */
function artifactDigest(
  artifact: Artifact,
  alg: 'sha256' | 'sha384' | 'sha512',
  subject: string,
): Uint8Array {
  if (artifact.kind === 'bytes') return digest(alg, artifact.data);
  if (artifact.kind === 'file') return artifact.digest(alg);
  if (artifact.algorithm !== alg)
    throw fail(
      'DIGEST_ALGORITHM',
      `${subject} was made over a ${alg} digest but the artifact was given by its ${artifact.algorithm} digest; give the file instead`,
    );
  return artifact.digest;
}

interface SignerKey {
  /** The signing certificate (absent for key-signed bundles) and what the bundle carried after it. */
  leaf: X509Certificate | undefined;
  untrusted: X509Certificate[];
  key: KeyObject;
  details: KeyDetails;
}

interface SignedContent {
  signature: Uint8Array;
  content: EntryExpectation['content'];
  statement: Statement | undefined;
}

type LogEvidence = VerificationResult['tlogEntries'];

/** A verified time and the trusted root's TSA or log that vouched for it (counted once). */
interface TimeEvidence {
  time: VerifiedTime;
  authority: CertificateAuthority | TransparencyLogInstance;
}

const distinct = (xs: readonly unknown[]): number => new Set(xs).size;

/**
 * The most log entries and RFC 3161 timestamps one bundle may carry (sigstore-go's
 * internal/limits): each costs signature checks, and no signer needs more.
 */
export const MAX_TLOG_ENTRIES = 32;
export const MAX_TIMESTAMPS = 32;

export function verifyBundle(
  bundle: Bundle,
  artifact: Artifact,
  trustedRoot: TrustedRoot,
  policy: SignerPolicy,
  options: VerifyOptions = {},
): VerificationResult {
  const vm = bundle.verificationMaterial;
  const subject = subjectOf(options);
  if (vm.tlogEntries.length > MAX_TLOG_ENTRIES)
    throw fail(
      'TLOG_TOO_MANY',
      `${subject} carries ${vm.tlogEntries.length} transparency log entries; at most ${MAX_TLOG_ENTRIES} are verified`,
    );
  if (vm.rfc3161Timestamps.length > MAX_TIMESTAMPS)
    throw fail(
      'TIMESTAMP_TOO_MANY',
      `${subject} carries ${vm.rfc3161Timestamps.length} RFC 3161 timestamps; at most ${MAX_TIMESTAMPS} are verified`,
    );
  const signer = signerKey(bundle, policy, subject, options);
  try {
    return checkSigned(bundle, artifact, trustedRoot, policy, options, signer);
  } catch (e) {
    // A bundle of another deployment fails its first check, which does not say why: say so.
    throw otherDeployment(e, subject, bundle, signer.leaf, trustedRoot) ?? e;
  }
}

/** Every check after the signer is known: signature, times, logs, certificate and identity. */
function checkSigned(
  bundle: Bundle,
  artifact: Artifact,
  trustedRoot: TrustedRoot,
  policy: SignerPolicy,
  options: VerifyOptions,
  signer: SignerKey,
): VerificationResult {
  const vm = bundle.verificationMaterial;
  const signed = checkSignature(bundle, artifact, signer, options);
  const evidence = timestampAuthorityTimes(vm.rfc3161Timestamps, signed.signature, trustedRoot);
  const expectation: EntryExpectation = {
    signature: signed.signature,
    signer: signer.leaf
      ? { kind: 'certificate', der: signer.leaf.der }
      : { kind: 'key', spki: spkiDer(signer.key) },
    content: signed.content,
  };
  // A log entry records the certificate as issued, so an altered certificate fails it too and
  // the log would be blamed: the CA's signature over the certificate needs no time, and is first.
  if (signer.leaf) checkIssuedByAny(signer.leaf, trustedRoot.certificateAuthorities);
  const entries = checkLogEntries(vm.tlogEntries, expectation, trustedRoot, evidence, options);
  checkThresholds(entries, evidence, options);
  const times = evidence.map((e) => e.time);
  const certTimes =
    times.length === 0 && options.currentTimeWhenUntimed
      ? [{ source: 'current-time' as const, time: new Date(), by: 'this computer' }]
      : times;
  // The log keys must have been trusted when the signature was made.
  for (const { entry, log } of entries)
    for (const t of times)
      if (!inRange(log.validFor, t.time))
        throw fail(
          'TLOG_KEY_NOT_VALID',
          `the key of log ${logName(log)} (entry ${entry.logIndex}) was not trusted at the signing time ${t.time.toISOString()}`,
        );
  const result: VerificationResult = {
    signer: signer.leaf
      ? checkCertificate(signer.leaf, signer.untrusted, certTimes, trustedRoot, policy, options)
      : { kind: 'key', key: signer.key },
    times,
    tlogEntries: entries,
  };
  if (signed.statement) result.statement = signed.statement;
  return result;
}

/** The key that signed: the given key for key-signed bundles, else the certificate's. */
function signerKey(
  bundle: Bundle,
  policy: SignerPolicy,
  subject: string,
  options: VerifyOptions,
): SignerKey {
  const vm = bundle.verificationMaterial;
  let leaf: X509Certificate | undefined;
  let untrusted: X509Certificate[] = [];
  let key: KeyObject;
  if (vm.signer.$case === 'publicKey') {
    if (policy.kind !== 'key')
      throw fail(
        'NO_CERTIFICATE',
        `${subject} is signed with a public key, not a certificate, so it cannot prove an identity; verify it with ${nameOf(options, 'key')}`,
      );
    key = policy.key;
  } else {
    const ders =
      vm.signer.$case === 'certificate' ? [vm.signer.certificate] : vm.signer.certificates;
    const field =
      vm.signer.$case === 'certificate'
        ? 'verificationMaterial.certificate'
        : 'verificationMaterial.x509CertificateChain.certificates';
    leaf = parseCertificateOnce(
      ders[0]!,
      vm.signer.$case === 'certificate' ? field : `${field}[0]`,
    );
    untrusted = ders.slice(1).map((d, i) => parseCertificateOnce(d, `${field}[${i + 1}]`));
    if (policy.kind === 'key' && !eq(spkiDer(policy.key), leaf.spki))
      throw fail('KEY_MISMATCH', `${subject}'s certificate has a key other than the key given`);
    key = leaf.publicKey;
  }
  try {
    return { leaf, untrusted, key, details: keyDetailsOf(key, 'signing key') };
  } catch (e) {
    throw fail('UNSUPPORTED_KEY', `the signing key cannot be used: ${(e as Error).message}`, e);
  }
}

/**
 * The signature over the artifact (or its digest) or over the DSSE PAE, and the binding of
 * the artifact: the message digest checked directly, or the statement's subjects.
 */
function checkSignature(
  bundle: Bundle,
  artifact: Artifact,
  { key, details, leaf }: SignerKey,
  options: VerifyOptions,
): SignedContent {
  const subject = subjectOf(options);
  if (bundle.content.$case === 'messageSignature') {
    const ms = bundle.content.messageSignature;
    const signature = ms.signature;
    // Message signatures use the key's message scheme: Ed25519 keys sign as Ed25519ph.
    const scheme = messageScheme(details);
    const alg = ms.messageDigest ? HASH_OF[ms.messageDigest.algorithm] : defaultHash(scheme);
    if (scheme === 'PKIX_ED25519_PH')
      checkEd25519phHash(ms.messageDigest?.algorithm, options.signatureHash);
    const digest = artifactDigest(artifact, alg, subject);
    // The bundle's messageDigest is an unauthenticated hint; it must still agree with the
    // artifact (sigstore-python#1652: a stale digest must not slip through).
    if (ms.messageDigest && !eq(ms.messageDigest.digest, digest))
      throw fail(
        'MESSAGE_DIGEST_MISMATCH',
        `the artifact's ${alg} digest ${toHex(digest)} is not the digest ${subject} says was signed (${toHex(ms.messageDigest.digest)})`,
      );
    let ok: boolean;
    const signedHash = options.signatureHash ?? alg;
    if (artifact.kind === 'bytes' && scheme !== 'PKIX_ED25519_PH') {
      // ECDSA/RSA: the hash the bundle names (a P-384 key may sign SHA-384, as sigstore-python
      // does), unless the verifier was told which one the signer used.
      ok = verifyWithHash(key, signedHash, artifact.data, signature);
    } else if (artifact.kind === 'digest' && signedHash !== alg)
      throw fail(
        'DIGEST_ALGORITHM',
        `the signature is over a ${signedHash} hash, which the artifact's ${alg} digest cannot check; give the file`,
      );
    // Ed25519ph signs the SHA-512 digest (RFC 8032 §5.1), never the message: no pure Ed25519.
    else
      ok = verifyDigest(
        key,
        scheme,
        signedHash === alg ? digest : artifactDigest(artifact, signedHash, subject),
        signature,
      );
    if (!ok)
      throw fail(
        'SIGNATURE',
        `the signature does not verify over the artifact with the signer's key (wrong artifact, or a tampered signature${leaf ? '' : ', or a key other than the one that signed'})`,
      );
    return {
      signature,
      content: { kind: 'message', algorithm: alg, digest },
      statement: undefined,
    };
  }
  const env = bundle.content.dsseEnvelope;
  const signature = env.signatures[0]!.sig;
  const signed = pae(env.payloadType, env.payload);
  if (!verifyMessage(key, details, signed, signature, options.signatureHash))
    throw fail('SIGNATURE', "the DSSE envelope signature does not verify with the signer's key");
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE)
    throw fail(
      'ATTESTATION_TYPE',
      `the envelope carries "${env.payloadType}", not an in-toto statement, so it cannot be bound to an artifact`,
    );
  let statement: Statement;
  try {
    statement = parseStatement(env.payload, 'dsseEnvelope.payload');
  } catch (e) {
    throw fail(
      'ATTESTATION_INVALID',
      `the signed statement is malformed: ${(e as Error).message}`,
      e,
    );
  }
  const alg = artifact.kind === 'digest' ? artifact.algorithm : 'sha256';
  const about =
    options.subject ??
    (options.checkClaims === false
      ? undefined
      : { algorithm: alg, digest: toHex(artifactDigest(artifact, alg, subject)) });
  if (about && subjectsMatching(statement, about.algorithm, about.digest).length === 0)
    throw fail(
      'ATTESTATION_SUBJECT',
      `the attestation is not about this artifact: no subject has ${about.algorithm} digest ${about.digest} (subjects: ${statement.subject
        .map(
          (s) =>
            s.name ||
            Object.entries(s.digest)
              .map(([a, d]) => `${a}:${d}`)
              .join(' '),
        )
        .join(', ')})`,
    );
  if (options.predicateType !== undefined && statement.predicateType !== options.predicateType)
    throw fail(
      'ATTESTATION_TYPE',
      `the attestation's predicate type is "${statement.predicateType}", expected "${options.predicateType}"`,
    );
  return {
    signature,
    content: {
      kind: 'dsse',
      payload: env.payload,
      payloadType: env.payloadType,
      pae: signed,
      keyHash: defaultHash(details),
    },
    statement,
  };
}

/**
 * Ed25519ph's prehash is SHA-512 and nothing else (RFC 8032 §5.1): a bundle or verifier that
 * names another hash cannot hold a signature of an Ed25519 key. Refused, not tried.
 */
function checkEd25519phHash(
  bundleHash: HashAlgorithmName | undefined,
  signatureHash: HashAlgorithm | undefined,
): void {
  if (bundleHash !== undefined && bundleHash !== 'SHA2_512')
    throw fail(
      'DIGEST_ALGORITHM',
      `the bundle's messageDigest is ${bundleHash}, but an Ed25519 key signs messages as Ed25519ph over SHA2_512`,
    );
  if (signatureHash !== undefined && signatureHash !== 'sha512')
    throw fail(
      'DIGEST_ALGORITHM',
      `the signature hash is ${signatureHash}, but an Ed25519 key signs messages as Ed25519ph over sha512`,
    );
}

/** RFC 3161 timestamps over the signature, each verified against the trusted TSAs. */
function timestampAuthorityTimes(
  tokens: Uint8Array[],
  signature: Uint8Array,
  trustedRoot: TrustedRoot,
): TimeEvidence[] {
  return tokens.map((token, i) => {
    try {
      const v = verifyTimestamp(token, signature, trustedRoot.timestampAuthorities);
      const tsa = trustedRoot.timestampAuthorities[v.authorityIndex]!;
      return {
        time: {
          source: 'timestamp-authority' as const,
          time: v.genTime,
          by: tsa.uri || tsa.subject.commonName,
        },
        authority: tsa,
      };
    } catch (e) {
      throw fail(
        e instanceof SignetError ? e.code : 'TIMESTAMP',
        `RFC 3161 timestamp ${i + 1} does not verify: ${(e as Error).message}`,
        e,
      );
    }
  });
}

/**
 * Each entry: from a trusted log, recording this signature/signer/artifact, proven included
 * (SET and/or inclusion proof to a signed checkpoint). Verified SET times join `times`.
 */
function checkLogEntries(
  tlogEntries: TransparencyLogEntry[],
  expectation: EntryExpectation,
  trustedRoot: TrustedRoot,
  times: TimeEvidence[],
  options: VerifyOptions,
): LogEvidence {
  const entries: LogEvidence = [];
  for (const entry of tlogEntries) {
    const log = findLog(entry, trustedRoot.tlogs);
    if (!log)
      throw fail(
        'TLOG_UNTRUSTED',
        `log entry ${entry.logIndex} comes from a transparency log that is not in the trusted root (log ID ${toHex(entry.logId)})`,
      );
    verifyEntryBody(entry, expectation);
    // Rekor v2 (0.0.2 bodies) has one index: the proven one. The top-level index is not
    // covered by any signature, so it must agree with the proof rather than be trusted.
    if (
      entry.kindVersion === '0.0.2' &&
      !entry.signedEntryTimestamp &&
      entry.inclusionProof &&
      entry.inclusionProof.logIndex !== entry.logIndex
    )
      throw fail(
        'TLOG_INDEX_MISMATCH',
        `log entry ${entry.logIndex} says index ${entry.logIndex} but its inclusion proof is for index ${entry.inclusionProof.logIndex}`,
      );
    let included = false;
    if (entry.signedEntryTimestamp) {
      const integrated = new Date(entry.integratedTime * 1000);
      if (entry.integratedTime > 0 && !inRange(log.validFor, integrated))
        throw fail(
          'TLOG_KEY_NOT_VALID',
          `the key of log ${logName(log)} was not trusted at the entry's integrated time ${integrated.toISOString()}`,
        );
      verifySet(entry, log);
      included = true;
      if (entry.integratedTime > 0)
        times.push({
          time: { source: 'transparency-log', time: integrated, by: logName(log) },
          authority: log,
        });
    }
    const witnesses = options.witnesses;
    if (witnesses && witnesses.threshold > 0 && entry.inclusionProof?.checkpoint === undefined)
      throw fail(
        'WITNESS_COSIGNATURES',
        `log entry ${entry.logIndex} has no checkpoint, so it cannot carry the ${witnesses.threshold} witness cosignature${witnesses.threshold === 1 ? '' : 's'} required`,
      );
    if (entry.inclusionProof) {
      verifyInclusionProof(entry, log, witnesses);
      if (entry.inclusionProof.checkpoint !== undefined) included = true;
    }
    if (!included)
      throw fail(
        'TLOG_NOT_INCLUDED',
        `log entry ${entry.logIndex} has neither a signed entry timestamp nor an inclusion proof with a checkpoint, so its inclusion is unproven`,
      );
    // The same body in the same trusted log is one entry, however the bundle names the log
    // (a v2 log may be named by its log ID or its checkpoint key ID).
    if (
      entries.some((x) => x.log === log && eq(x.entry.canonicalizedBody, entry.canonicalizedBody))
    )
      throw fail(
        'TLOG_DUPLICATE',
        `log entry ${entry.logIndex} appears twice; one entry cannot count twice`,
      );
    entries.push({ entry, log });
  }
  return entries;
}

/**
 * Enough log entries and verified times, each authority counted once: a threshold of n asks
 * for n independent logs or timestamp authorities, not for one saying the same thing n times.
 */
function checkThresholds(
  entries: LogEvidence,
  evidence: TimeEvidence[],
  options: VerifyOptions,
): void {
  const subject = subjectOf(options);
  const tlogThreshold = options.tlogThreshold ?? 1;
  const timestampThreshold = options.timestampThreshold ?? 1;
  const logs = distinct(entries.map((e) => e.log));
  if (logs < tlogThreshold)
    throw fail(
      'TLOG_MISSING',
      logs === entries.length
        ? `${subject} has ${entries.length} transparency log entr${entries.length === 1 ? 'y' : 'ies'}; ${tlogThreshold} verified entr${tlogThreshold === 1 ? 'y is' : 'ies are'} required${entries.length === 0 ? ` (a signature made without a log on purpose verifies with ${nameOf(options, 'noTlog')})` : ''}`
        : `${subject}'s ${entries.length} transparency log entries come from ${logs} log${logs === 1 ? '' : 's'}; entries from ${tlogThreshold} distinct logs are required (one log cannot count twice)`,
    );
  const times = evidence.map((e) => e.time);
  for (let i = 0; i < times.length; i++)
    for (let j = i + 1; j < times.length; j++)
      if (
        times[i]!.source === times[j]!.source &&
        times[i]!.time.getTime() === times[j]!.time.getTime() &&
        times[i]!.by === times[j]!.by
      )
        throw fail(
          'TIMESTAMP_DUPLICATE',
          'the same timestamp appears twice; one timestamp cannot count twice',
        );
  const signed = evidence.filter((e) => e.time.source === 'timestamp-authority');
  const signedThreshold = options.signedTimestampThreshold ?? 0;
  const tsas = distinct(signed.map((e) => e.authority));
  if (tsas < signedThreshold)
    throw fail(
      'NO_SIGNED_TIMESTAMP',
      `${subject} has ${signed.length} verified RFC 3161 timestamp${signed.length === 1 ? '' : 's'}${tsas === signed.length ? '' : ` from ${tsas} timestamp authorit${tsas === 1 ? 'y' : 'ies'}`}; ${signedThreshold} ${signedThreshold === 1 ? 'is' : 'from distinct authorities are'} required (${nameOf(options, 'signedTimestamps')})`,
    );
  const witnesses = distinct(evidence.map((e) => e.authority));
  if (witnesses < timestampThreshold)
    throw fail(
      'NO_VERIFIED_TIME',
      times.length === 0
        ? `${subject} has no verified time of signing (no RFC 3161 timestamp and no signed log entry time); Rekor v2 entries need a timestamp authority`
        : `${subject} has ${times.length} verified time${times.length === 1 ? '' : 's'} of signing${witnesses === times.length ? '' : ` from ${witnesses} log${witnesses === 1 ? '' : 's'} and timestamp authorities`}; ${timestampThreshold} from distinct authorities are required`,
    );
}

/** Where a time the certificate was checked at came from, for errors. */
function timeSource(source: VerifiedTime['source'], subject: string): string {
  if (source === 'timestamp-authority') return 'signing time from the timestamp authority';
  if (source === 'transparency-log') return 'signing time from the transparency log';
  return `the current time: ${subject} has no verified signing time`;
}

/** The certificate chains to a trusted CA at every verified time, carries an SCT, and the identity holds. */
function checkCertificate(
  leaf: X509Certificate,
  untrusted: X509Certificate[],
  times: VerifiedTime[],
  trustedRoot: TrustedRoot,
  policy: SignerPolicy,
  options: VerifyOptions,
): VerificationResult['signer'] {
  let chain: VerifiedChain;
  try {
    // One path validation at every verified time (signatures checked once).
    chain = verifyCertificateChain(
      leaf,
      trustedRoot.certificateAuthorities,
      times.map((t) => t.time),
      untrusted,
      { carrier: nameOf(options, 'chain') },
    );
  } catch (e) {
    const se = e as SignetError;
    const t = times.find((x) => x.time.toISOString() === se.details?.at);
    throw fail(
      se.code ?? 'CERTIFICATE_CHAIN',
      t ? `${se.message} (${timeSource(t.source, subjectOf(options))})` : se.message,
      e,
    );
  }
  const ctlogThreshold = options.ctlogThreshold ?? 1;
  if (ctlogThreshold > 0) {
    const results = verifyEmbeddedScts(leaf, chain.path[1]!.spki, trustedRoot.ctlogs);
    // An SCT counts when its log is trusted and was trusted when it issued the SCT.
    const good = results.filter(
      (r) =>
        r.verified && r.log !== undefined && inRange(r.log.validFor, new Date(r.sct.timestamp)),
    );
    // Several SCTs from one CT log are one witness.
    const logs = distinct(good.map((r) => r.log));
    if (logs < ctlogThreshold)
      throw fail(
        'SCT',
        results.length === 0
          ? 'the certificate carries no signed certificate timestamp (it was never logged in certificate transparency)'
          : logs === 0
            ? `the certificate's signed certificate timestamp${results.length > 1 ? 's do' : ' does'} not verify against a CT log of the trusted root`
            : `the certificate's signed certificate timestamps verify from ${logs} CT log${logs === 1 ? '' : 's'}; ${ctlogThreshold} distinct logs are required`,
      );
  }
  // Exhaustive, failing closed: a policy of no known kind must not read as "any signer".
  if (policy.kind === 'identity') checkIdentity(leaf, policy.identity);
  else if (policy.kind === 'identities') checkAnyIdentity(leaf, policy.identities);
  else if (policy.kind !== 'key' && policy.kind !== 'anyIdentity')
    throw fail(
      'POLICY_INVALID',
      `the signer policy has no known kind (${quoteInput((policy as { kind?: unknown }).kind)})`,
    );
  return {
    kind: 'certificate',
    certificate: leaf,
    identity: certificateIdentities(leaf),
    issuer: fulcioIssuer(leaf),
    chain: chain.path,
  };
}
