/**
 * Signs a git commit or tag payload the way gitsign does (docs/bundle-cms.md, "sign -> bundle
 * -> CMS"): the artifact is DER(SignedAttrs) of a detached CMS over the payload, so one ordinary
 * Sigstore signing operation (client/sign/sign.ts) makes the signature, the Rekor hashedrekord
 * over SHA-256(DER(SignedAttrs)) and the RFC 3161 timestamp over the signature; they are then
 * packed into the CMS: the timestamp token and the log entry (protobuf, body cleared: gitsign's
 * offline mode, OID 1.3.6.1.4.1.57264.3.1) as unsigned attributes.
 */
import { SignetError } from '../../core/errors.ts';
import { signingAlgorithm } from '../../core/cms/signed-data.ts';
import {
  armorGitSignature,
  assembleGitSignature,
  gitSignedAttributes,
} from '../../core/git/signature.ts';
import { encodeTlogEntryProto } from '../../core/rekor/entry-proto.ts';
import { timestampToken } from '../../core/rfc3161/token.ts';
import { identityView } from '../../core/x509/identity-view.ts';
import type { TransparencyLogEntry } from '../../bundle/bundle.ts';
import { signArtifact, type SignContext } from '../sign/sign.ts';
const { X509Certificate } = process.getBuiltinModule('node:crypto');

export interface GitSignResult {
  /** The armored signature git stores (`-----BEGIN SIGNED MESSAGE-----`). */
  armored: string;
  der: Uint8Array;
  certificate: Uint8Array;
  signingTime: Date;
  /** Index of the log entry, when one was written. */
  logIndex: number | undefined;
}

/** Who git records as the committer (or tagger): `Name <email>`. */
export interface Committer {
  name: string;
  email: string;
}

/**
 * gitsign's matchCommitter (docs/committer-verification.md): the certificate must name the
 * committer, by an email SAN equal to their email or a URI SAN equal to their name (CI
 * identities, whose user.name is the workflow URI). Throws COMMITTER_MISMATCH otherwise.
 */
export function checkCommitter(certificateDer: Uint8Array, committer: Committer): void {
  const sans = identityView(certificateDer, 'certificate').sans;
  const match = sans.some(
    (s) =>
      (s.type === 'email' && s.value === committer.email) ||
      (s.type === 'uri' && s.value === committer.name),
  );
  if (!match)
    throw new SignetError(
      'invalid-input',
      'COMMITTER_MISMATCH',
      `matchCommitter: the certificate is for ${sans.map((s) => s.value).join(', ') || '(no identity)'}, not the committer ${committer.name} <${committer.email}>; sign in as ${committer.email}, or set user.email (user.name for a URI identity) to who you sign as`,
    );
}

export async function signGitPayload(
  payload: Uint8Array,
  ctx: SignContext,
  now: Date = new Date(),
  opts: { committer?: Committer | undefined } = {},
): Promise<GitSignResult> {
  const material = ctx.signer.material;
  if (material.$case !== 'certificate')
    throw new SignetError(
      'invalid-input',
      'NEEDS_CERTIFICATE',
      'git signatures are made keyless, with a certificate from the CA',
    );
  // Before anything is signed or logged: a refused identity leaves no log entry behind.
  if (opts.committer) checkCommitter(material.certificateDer, opts.committer);
  const signedAttrs = gitSignedAttributes(payload, now);
  const bundle = await signArtifact(signedAttrs, ctx);
  if (bundle.content.$case !== 'messageSignature')
    throw new SignetError('internal', 'BAD_BUNDLE', 'expected a message signature');
  const vm = bundle.verificationMaterial;
  if (vm.tlogEntries.length > 1 || vm.rfc3161Timestamps.length > 1)
    throw new SignetError(
      'invalid-input',
      'TOO_MANY_WITNESSES',
      'a git signature carries at most one log entry and one timestamp: the signing config selects more',
    );
  const entry = vm.tlogEntries[0];
  const token = vm.rfc3161Timestamps[0];
  const der = assembleGitSignature({
    certificate: material.certificateDer,
    alg: signingAlgorithm(new X509Certificate(material.certificateDer).publicKey),
    signedAttrs,
    signature: bundle.content.messageSignature.signature,
    ...(token ? { timestampToken: timestampToken(token) } : {}),
    ...(entry ? { tlogEntry: entryProto(entry) } : {}),
  });
  return {
    armored: armorGitSignature(der),
    der,
    certificate: material.certificateDer,
    signingTime: now,
    logIndex: entry?.logIndex,
  };
}

/** The entry as gitsign embeds it: protobuf binary with the canonicalized body cleared. */
function entryProto(e: TransparencyLogEntry): Uint8Array {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return encodeTlogEntryProto({
    logIndex: String(e.logIndex),
    logId: { keyId: b64(e.logId) },
    kindVersion: { kind: e.kind, version: e.kindVersion },
    integratedTime: String(e.integratedTime),
    ...(e.signedEntryTimestamp
      ? { inclusionPromise: { signedEntryTimestamp: b64(e.signedEntryTimestamp) } }
      : {}),
    ...(e.inclusionProof
      ? {
          inclusionProof: {
            logIndex: String(e.inclusionProof.logIndex),
            rootHash: b64(e.inclusionProof.rootHash),
            treeSize: String(e.inclusionProof.treeSize),
            hashes: e.inclusionProof.hashes.map(b64),
            checkpoint: { envelope: e.inclusionProof.checkpoint ?? '' },
          },
        }
      : {}),
    canonicalizedBody: '',
  });
}
