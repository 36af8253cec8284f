import type { Bundle } from '../../bundle/bundle.ts';
import { parseTrustedRootJSON, type TrustedRoot } from '../../bundle/trusted-root.ts';
import { SignetError } from '../../core/errors.ts';
import type { Signer } from './signer.ts';
import type { Artifact } from '../verify/verifier.ts';
const { createPublicKey, X509Certificate } = process.getBuiltinModule('node:crypto');

/**
 * Whether the certificate `leaf` (PEM or DER) is issued by (names as issuer, and is signed by)
 * a CA certificate of `root`: a signer's sanity check before it logs anything, not a
 * verification (that is checkNewBundle, and core/x509/chain.ts's issuingAuthority for a
 * verifier). node:crypto's, because a keyless `sign-blob` with a kept signing config runs it on
 * every start and loads nothing of core/x509/chain.ts otherwise (a few ms of start-up).
 */
export function issuedByTrustedCa(leaf: string | Uint8Array, root: TrustedRoot): boolean {
  const cert = new X509Certificate(leaf);
  return root.certificateAuthorities.some((ca) =>
    ca.certChain.some((der) => {
      const c = new X509Certificate(der);
      return cert.checkIssued(c) && cert.verify(c.publicKey);
    }),
  );
}

/**
 * `--trusted-root FILE` when signing, before anything is signed or logged: the certificate the
 * CA just issued must be of a CA that root names. Otherwise the new bundle could never pass
 * checkNewBundle, and the signature would be in the public log with no bundle written (a root
 * of another deployment given by mistake). A key without a certificate has nothing to check yet.
 */
export function checkNewCertificate(
  signer: Signer,
  trustedRootText: string,
  trustedRootName: string,
): void {
  if (signer.material.$case !== 'certificate') return;
  const root = parseTrustedRootJSON(trustedRootText, trustedRootName);
  if (!issuedByTrustedCa(signer.material.certificateDer, root))
    throw new SignetError(
      'verification',
      'NEW_BUNDLE_UNVERIFIED',
      `the signing certificate is not issued by a certificate authority of ${trustedRootName}, so nothing was signed or logged (is it the trusted root of this deployment?)`,
    );
}

/**
 * `--trusted-root FILE` when signing (cosign sign-blob, the conformance protocol): verify the
 * new bundle against that root before calling it done, so a stack whose trust documents do
 * not match its services is caught at signing time, not by the first verifier. The identity
 * is the one the CA just certified; what is checked is everything else (chain, SCT, log
 * entries, timestamps, signature).
 */
export async function checkNewBundle(
  bundle: Bundle,
  artifact: Artifact,
  trustedRootText: string,
  trustedRootName: string,
  signer: Signer,
): Promise<void> {
  const { verifyBundle } = await import('../verify/verifier.ts');
  const root = parseTrustedRootJSON(trustedRootText, trustedRootName);
  const vm = bundle.verificationMaterial;
  const anything = { regexp: /^[\s\S]*$/ };
  verifyBundle(
    bundle,
    artifact,
    root,
    signer.material.$case === 'certificate'
      ? { kind: 'identity', identity: { subjectAlternativeName: anything, issuer: anything } }
      : {
          kind: 'key',
          key: createPublicKey({
            key: Buffer.from(signer.material.publicKeyDer),
            format: 'der',
            type: 'spki',
          }),
        },
    {
      // Every log written to (the verifier counts entries of one log once).
      tlogThreshold: new Set(vm.tlogEntries.map((e) => Buffer.from(e.logId).toString('hex'))).size,
      ctlogThreshold: signer.material.$case === 'certificate' ? 1 : 0,
      timestampThreshold:
        signer.material.$case === 'certificate' ||
        vm.rfc3161Timestamps.length > 0 ||
        vm.tlogEntries.some((e) => e.signedEntryTimestamp)
          ? 1
          : 0,
    },
  );
}
