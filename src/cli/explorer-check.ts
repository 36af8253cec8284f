import { SignetError } from '../core/errors.ts';
import { toHex } from '../core/encoding/hex.ts';
import { parseStatement } from '../core/intoto/index.ts';
import { parseCertificate } from '../core/x509/certificate.ts';
import { fulcioIssuer } from '../core/x509/fulcio-extensions.ts';
import type { Bundle } from '../bundle/bundle.ts';
import { parseTrustedRootJSON } from '../bundle/trusted-root.ts';
import { inspectBundle } from '../client/verify/inspect.ts';
import { certificateIdentities } from '../client/verify/policy.ts';
import { parseBundleText, parseDigest } from '../client/verify/setup.ts';
import { verifyBundle, type Artifact } from '../client/verify/verifier.ts';
import type { BundleCheck, BundleCheckAnswer } from '../services/explorer/check.ts';
import { describeResult } from './commands/verify-blob.ts';

/**
 * The explorer's "drop a bundle" check, as `signet up` hands it to the stack: the one verifier
 * (client/verify/verifier.ts) against the stack's own trusted root, answered in verify-blob's
 * words ("Verified OK: signed by ..." or "error: ..."). No identity policy is asked for: the
 * answer says who signed instead. Lives in the CLI layer because it speaks verify-blob's wording.
 */
export const explorerBundleCheck: BundleCheck = async (req) => {
  let bundle: Bundle;
  try {
    bundle = await parseBundleText(req.bundle, req.bundleName);
  } catch (e) {
    return { ok: false, verdict: `error: ${(e as Error).message}`, notes: [] };
  }
  const root = parseTrustedRootJSON(new TextDecoder().decode(req.trustedRoot), 'trusted_root.json');
  const notes = inspectBundle(bundle, root);
  const claimed = claimedSigner(bundle);
  let artifact: Artifact;
  try {
    artifact = artifactOf(req, bundle, notes);
  } catch (e) {
    return { ok: false, verdict: `error: ${(e as Error).message}`, signer: claimed, notes };
  }
  let answer: BundleCheckAnswer;
  try {
    // A key-signed bundle is checked against a key the page cannot take: the answer says where.
    const r = verifyBundle(
      bundle,
      artifact,
      root,
      { kind: 'anyIdentity' },
      {
        names: { key: '`signet verify-blob --key PUBLIC_KEY`' },
      },
    );
    answer = {
      ok: true,
      verdict: `Verified OK: ${describeResult(r)}`,
      signer:
        r.signer.kind === 'certificate'
          ? { identities: r.signer.identity, issuer: r.signer.issuer, verified: true }
          : undefined,
      notes,
    };
  } catch (e) {
    if (!(e instanceof SignetError)) throw e;
    answer = { ok: false, verdict: `error: ${e.message}`, signer: claimed, notes };
  }
  return answer;
};

/** Who the bundle says signed (before any check), for the answer to a failed check. */
function claimedSigner(b: Bundle): BundleCheckAnswer['signer'] {
  const s = b.verificationMaterial.signer;
  if (s.$case === 'publicKey') return undefined;
  try {
    const cert = parseCertificate(s.$case === 'certificate' ? s.certificate : s.certificates[0]!);
    return { identities: certificateIdentities(cert), issuer: fulcioIssuer(cert), verified: false };
  } catch {
    return undefined;
  }
}

/**
 * The dropped file, its digest, or (none given) the digest the bundle itself names: then the
 * answer is about that digest, and a note says so.
 */
function artifactOf(req: Parameters<BundleCheck>[0], bundle: Bundle, notes: string[]): Artifact {
  const a = req.artifact;
  if (a?.kind === 'bytes') {
    notes.push(`Artifact:      ${a.name} (${a.data.length} bytes), checked whole`);
    return { kind: 'bytes', data: a.data };
  }
  if (a?.kind === 'digest') {
    notes.push(
      `Artifact:      ${a.name}, checked by its digest ${a.digest} (hashed in the browser)`,
    );
    return parseDigest(a.digest, 'artifact.digest');
  }
  const c = bundle.content;
  if (c.$case === 'messageSignature') {
    const md = c.messageSignature.messageDigest;
    if (!md)
      throw new SignetError(
        'invalid-input',
        'ARTIFACT_REQUIRED',
        'the bundle names no digest of what was signed: drop the signed file too',
      );
    const alg =
      md.algorithm === 'SHA2_384' ? 'sha384' : md.algorithm === 'SHA2_512' ? 'sha512' : 'sha256';
    notes.push(
      `Artifact:      not given; checked against the digest the bundle names (${alg}:${toHex(md.digest)}): drop the file too to check that it is the one signed`,
    );
    return { kind: 'digest', algorithm: alg, digest: md.digest };
  }
  const sha = (() => {
    try {
      return parseStatement(c.dsseEnvelope.payload, 'payload').subject.find((s) => s.digest.sha256)
        ?.digest.sha256;
    } catch {
      return undefined;
    }
  })();
  if (!sha)
    throw new SignetError(
      'invalid-input',
      'ARTIFACT_REQUIRED',
      'the attestation names no sha256 subject: drop the signed file too',
    );
  notes.push(
    `Artifact:      not given; checked against the attestation's subject sha256:${sha}: drop the file too to check that it is the one attested`,
  );
  return parseDigest(`sha256:${sha}`, 'subject');
}
