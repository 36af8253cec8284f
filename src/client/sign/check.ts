import type { Bundle } from '../../bundle/bundle.ts';
import { parseTrustedRootJSON } from '../../bundle/trusted-root.ts';
import type { Signer } from './signer.ts';
import type { Artifact } from '../verify/verifier.ts';
const { createPublicKey } = process.getBuiltinModule('node:crypto');

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
