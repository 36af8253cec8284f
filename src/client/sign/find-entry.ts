/**
 * The log entry that records a detached signature (`signet bundle create` without
 * --ignore-tlog), as cosign's `bundle create` finds it (cosign pkg/cosign/tlog.go
 * FindTlogEntry): first by content, the proposed hashedrekord/dsse 0.0.1 entry through Rekor
 * v1's `POST /api/v1/log/entries/retrieve`; then, for entries another API version wrote (a
 * Rekor v2 hashedrekord/dsse 0.0.2 has a different body, so a different UUID), through the
 * search index by the artifact (or DSSE payload) digest and the signer, each candidate kept
 * only when its body records exactly this signature, signer and artifact (the verifier's own
 * body check).
 */
import type { KeyObject } from 'node:crypto';
import { SignetError } from '../../core/errors.ts';
import { defaultHash, keyDetailsOf, messageHash } from '../../core/crypto/keys.ts';
import { pae } from '../../core/dsse/index.ts';
import { toHex } from '../../core/encoding/hex.ts';
import { assembleBundle, type BundleParts } from '../../bundle/assemble.ts';
import { bundleToJSON, type Bundle } from '../../bundle/bundle.ts';
import type { HttpOptions } from '../../services/http/outbound.ts';
import {
  dsseV001,
  findEntryV1,
  hashedrekordV001,
  searchEntriesV1,
  type TlogEntryJson,
} from '../http/rekor-v1.ts';
import { verifyEntryBody, type EntryExpectation } from '../verify/tlog.ts';
const { createHash } = process.getBuiltinModule('node:crypto');

const HASHES = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' } as const;

/**
 * The entry of the log at `rekorUrl` (its Rekor v1 API) for the bundle `parts` make without a
 * log entry. `key` is the signer's public key (of the certificate when there is one);
 * `verifierPem` the certificate or key PEM as given.
 */
export async function findLogEntry(
  rekorUrl: string,
  parts: BundleParts,
  key: KeyObject,
  verifierPem: string,
  http: HttpOptions = {},
): Promise<TlogEntryJson> {
  const bundle = assembleBundle({ ...parts, tlogEntries: [] });
  const exp = expectation(bundle, key);
  const proposed =
    bundle.content.$case === 'messageSignature'
      ? hashedrekordV001({
          digest: bundle.content.messageSignature.messageDigest!.digest,
          algorithm: messageHash(keyDetailsOf(key, '--key')),
          signature: bundle.content.messageSignature.signature,
          verifierPem,
        })
      : dsseV001({
          envelopeJson: JSON.stringify(
            (bundleToJSON(bundle) as { dsseEnvelope: unknown }).dsseEnvelope,
          ),
          verifierPems: [verifierPem],
        });
  try {
    return await findEntryV1(rekorUrl, proposed, http);
  } catch (e) {
    if (!(e instanceof SignetError && e.code === 'NOT_FOUND')) throw e;
  }
  const hash =
    exp.content.kind === 'message'
      ? `${exp.content.algorithm}:${toHex(exp.content.digest)}`
      : `sha256:${createHash('sha256').update(exp.content.payload).digest('hex')}`;
  for (const candidate of await searchEntriesV1(rekorUrl, { hash, verifierPem }, http)) {
    const entry = assembleBundle({ ...parts, tlogEntries: [candidate] }).verificationMaterial
      .tlogEntries[0]!;
    try {
      verifyEntryBody(entry, exp);
      return candidate;
    } catch (e) {
      // Another signature over the same artifact by the same signer: not this one.
      if (!(e instanceof SignetError && e.kind === 'verification')) throw e;
    }
  }
  throw new SignetError(
    'not-found',
    'NOT_FOUND',
    `the transparency log at ${rekorUrl} has no entry for this signature (searched by content and by ${hash}); give the log it was written to with --rekor-url, or --ignore-tlog`,
  );
}

/** What the entry must record: the verifier's expectation, from the bundle being made. */
function expectation(b: Bundle, key: KeyObject): EntryExpectation {
  const s = b.verificationMaterial.signer;
  const signer: EntryExpectation['signer'] =
    s.$case === 'certificate'
      ? { kind: 'certificate', der: s.certificate }
      : s.$case === 'x509CertificateChain'
        ? { kind: 'certificate', der: s.certificates[0]! }
        : { kind: 'key', spki: new Uint8Array(key.export({ type: 'spki', format: 'der' })) };
  if (b.content.$case === 'messageSignature') {
    const m = b.content.messageSignature;
    return {
      signature: m.signature,
      signer,
      content: {
        kind: 'message',
        algorithm: HASHES[m.messageDigest!.algorithm],
        digest: m.messageDigest!.digest,
      },
    };
  }
  const env = b.content.dsseEnvelope;
  if (env.signatures.length !== 1)
    throw new SignetError(
      'invalid-input',
      'INVALID_INPUT',
      `the envelope has ${env.signatures.length} signatures; a log entry is found for one`,
      { field: '--attestation' },
    );
  return {
    signature: env.signatures[0]!.sig,
    signer,
    content: {
      kind: 'dsse',
      payload: env.payload,
      payloadType: env.payloadType,
      pae: pae(env.payloadType, env.payload),
      keyHash: defaultHash(keyDetailsOf(key, '--key')),
    },
  };
}
