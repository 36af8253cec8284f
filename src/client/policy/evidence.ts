/**
 * Evidence from Sigstore bundles: a bundle and the artifact it is about become something the
 * engine can verify under each authority's trust and signer policy, through the ONE verifier.
 * A messageSignature bundle, or a DSSE statement of cosign's signature predicate, is a
 * signature; any other DSSE statement is an attestation.
 */
import type { Bundle } from '../../bundle/bundle.ts';
import { INTOTO_PAYLOAD_TYPE, parseStatement } from '../../core/intoto/index.ts';
import { COSIGN_SIGN_PREDICATE } from '../../core/oci/cosign.ts';
import { verifyBundle, type Artifact } from '../verify/verifier.ts';
import type { Evidence } from './engine.ts';

export function evidenceKind(bundle: Bundle): Evidence['kind'] {
  if (bundle.content.$case === 'messageSignature') return 'signature';
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) return 'attestation';
  try {
    const st = parseStatement(env.payload);
    return st.predicateType === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation';
  } catch {
    return 'attestation'; // the verifier will say what is wrong with it
  }
}

export function bundleEvidence(bundle: Bundle, artifact: Artifact, label: string): Evidence {
  return {
    kind: evidenceKind(bundle),
    label,
    verify: (policy, root, options) => verifyBundle(bundle, artifact, root, policy, options),
  };
}
