import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bundleToJSON, bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { MessageSignatureBundleBuilder, TSAWitness, type Signer } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';

/** A key-based signer for sigstore-js's bundle builders (hint "signet-test"). */
export function keySigner(): { signer: Signer; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  return {
    publicKey,
    signer: {
      sign: async (data: Buffer) => ({
        signature: sign('sha256', data, privateKey),
        key: { $case: 'publicKey', publicKey: pem, hint: 'signet-test' },
      }),
    },
  };
}

/** sigstore-js signs `data` with `signer`, timestamped by the TSA at `tsaUrl` (its TSAWitness). */
export async function timestampedBundle(
  signer: Signer,
  tsaUrl: string,
  data: Buffer,
): Promise<unknown> {
  const builder = new MessageSignatureBundleBuilder({
    signer,
    witnesses: [new TSAWitness({ tsaBaseURL: tsaUrl })],
  });
  return bundleToJSON(await builder.create({ data }));
}

/** @sigstore/verify with a trusted root JSON: one RFC 3161 timestamp required, no tlog. */
export function verifyKeyBundle(
  trustedRoot: unknown,
  bundleJson: unknown,
  data: Buffer,
  publicKey: KeyObject,
) {
  const material = toTrustMaterial(TrustedRoot.fromJSON(trustedRoot), () => ({
    publicKey,
    validFor: () => true,
  }));
  const verifier = new Verifier(material, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 1,
  });
  return verifier.verify(toSignedEntity(bundleFromJSON(bundleJson), data));
}
