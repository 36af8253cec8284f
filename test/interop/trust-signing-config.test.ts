// sigstore-js's bundleBuilderFromSigningConfig, given nothing but Signet's signing_config.json,
// signs through the stack (Fulcio, Rekor v2, TSA); @sigstore/verify accepts the bundle with
// nothing but Signet's trusted_root.json (fetched through TUF by @sigstore/tuf).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { SigningConfig } from '@sigstore/protobuf-specs';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { getTrustedRoot } from '@sigstore/tuf';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { requireServices, stackToken, tempStack } from '../helpers/stack.ts';

const stack = await tempStack();
after(() => stack.close());
await requireServices(stack.url, ['oidc', 'ca', 'rekor', 'tsa', 'tuf']);
const identity = 'dev@signet.local'; // the built-in provider's default identity

async function token(): Promise<string> {
  return stackToken(stack.url, identity);
}

for (const bundleType of ['messageSignature', 'dsseEnvelope'] as const) {
  test(`bundleBuilderFromSigningConfig (${bundleType}) signs through Fulcio, Rekor v2 and the TSA; @sigstore/verify accepts it`, async () => {
    const cfgJson = await (await fetch(`${stack.url}/signing_config.json`)).json();
    const t = await token();
    const builder = bundleBuilderFromSigningConfig({
      signingConfig: SigningConfig.fromJSON(cfgJson),
      identityProvider: { getToken: async () => t },
      bundleType,
    });
    const data = Buffer.from(`signed through the signing config (${bundleType})\n`);
    const bundle = bundleToJSON(
      await builder.create(bundleType === 'dsseEnvelope' ? { data, type: 'text/plain' } : { data }),
    ) as {
      verificationMaterial: {
        tlogEntries: Array<{ kindVersion: { version: string } }>;
        timestampVerificationData: { rfc3161Timestamps: unknown[] };
      };
    };
    // Rekor v2 was chosen (it is the newest tlog API in the config) and the TSA stamped it.
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
    assert.equal(bundle.verificationMaterial.tlogEntries[0]!.kindVersion.version, '0.0.2');
    assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);

    // The trusted root, through TUF from a pinned 1.root.json.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trust-interop-'));
    fs.writeFileSync(
      path.join(dir, 'root.json'),
      await (await fetch(`${stack.url}/tuf/1.root.json`)).text(),
    );
    const root = await getTrustedRoot({
      mirrorURL: `${stack.url}/tuf`,
      rootPath: path.join(dir, 'root.json'),
      cachePath: path.join(dir, 'c'),
      retry: false,
    });
    const verifier = new Verifier(toTrustMaterial(root), {
      tlogThreshold: 1,
      ctlogThreshold: 1,
      timestampThreshold: 1,
    });
    const entity = toSignedEntity(
      bundleFromJSON(bundle),
      bundleType === 'messageSignature' ? data : undefined,
    );
    const signer = verifier.verify(entity, {
      subjectAlternativeName: identity,
      extensions: { issuer: `${stack.url}/oidc` },
    });
    assert.equal(signer.identity?.subjectAlternativeName, identity);
    assert.throws(
      () => verifier.verify(entity, { subjectAlternativeName: 'mallory@signet.local' }),
      /POLICY|subject/i,
    );
    // Without the TSA in the root there is no time source for a Rekor v2 entry.
    const noTsa = { ...root, timestampAuthorities: [] };
    assert.throws(
      () =>
        new Verifier(toTrustMaterial(noTsa), {
          tlogThreshold: 1,
          ctlogThreshold: 1,
          timestampThreshold: 1,
        }).verify(entity),
      /timestamp/i,
    );
  });
}
