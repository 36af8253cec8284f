// sigstore-js's own Fulcio client (FulcioSigner in @sigstore/sign) gets a certificate from
// Signet's CA on a real loopback stack, with a token from Signet's built-in identity provider;
// @sigstore/verify accepts the bundle (chain, embedded SCT, identity, issuer) with a trusted root
// naming Signet's CA and CT log and Rekor log.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { FulcioSigner, MessageSignatureBundleBuilder, RekorWitness } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { requireServices, stackToken, tempStack } from '../helpers/stack.ts';
import type { ServiceName } from '../../src/services/types.ts';

type Stack = Awaited<ReturnType<typeof tempStack>>;
let stack: Stack;
before(async () => {
  stack = await tempStack();
  // the bundle is logged and its SCT checked: the stack must have both logs
  await requireServices(stack.url, ['oidc', 'ca', 'ctlog', 'rekor']);
});
after(async () => {
  if (stack) await stack.close();
});

const identity = 'dev@signet.local'; // the built-in provider's default email identity

async function token(): Promise<string> {
  return stackToken(stack.url, identity);
}

async function trustedRoot(opts: { ctlogs?: unknown[] } = {}) {
  const contrib = async (name: ServiceName) => {
    const s = stack.services[name];
    return s?.trust ? ((await s.trust()) as Record<string, unknown[] | undefined>) : {};
  };
  const ca = await contrib('ca');
  const ct = await contrib('ctlog');
  const rekor = await contrib('rekor');
  return TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: rekor.tlogs ?? [],
    certificateAuthorities: ca.certificateAuthorities ?? [],
    ctlogs: opts.ctlogs ?? ct.ctlogs ?? [],
    timestampAuthorities: [],
  });
}

async function signBlob(data: Buffer) {
  const t = await token();
  const signer = new FulcioSigner({
    fulcioBaseURL: `${stack.url}/fulcio`,
    identityProvider: { getToken: async () => t },
  });
  const builder = new MessageSignatureBundleBuilder({
    signer,
    witnesses: [new RekorWitness({ rekorBaseURL: `${stack.url}/rekor` })],
  });
  return { json: bundleToJSON(await builder.create({ data })) };
}

test('FulcioSigner gets a certificate with an embedded SCT; @sigstore/verify accepts chain, SCT, identity and issuer', async () => {
  const data = Buffer.from('signed by sigstore-js through Signet\n');
  const { json } = await signBlob(data);
  const entity = toSignedEntity(bundleFromJSON(json), data);
  const verifier = new Verifier(toTrustMaterial(await trustedRoot()), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
  });
  const signer = verifier.verify(entity, {
    subjectAlternativeName: identity,
    extensions: { issuer: `${stack.url}/oidc` },
  });
  assert.equal(signer.identity?.subjectAlternativeName, identity);
  assert.equal(signer.identity?.extensions?.issuer, `${stack.url}/oidc`);
  // The identity policy is really checked.
  assert.throws(
    () => verifier.verify(entity, { subjectAlternativeName: 'mallory@signet.local' }),
    /POLICY|identity|subject/i,
  );
  assert.throws(
    () =>
      verifier.verify(entity, {
        subjectAlternativeName: identity,
        extensions: { issuer: 'https://accounts.google.com' },
      }),
    /POLICY|issuer|extension/i,
  );
});

test('the SCT is really checked: a trusted root with another CT log key rejects the bundle', async () => {
  const data = Buffer.from('sct check\n');
  const { json } = await signBlob(data);
  const entity = toSignedEntity(bundleFromJSON(json), data);
  const real = (await trustedRoot()).ctlogs[0]!;
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    format: 'der',
    type: 'spki',
  });
  const forged = TrustedRoot.toJSON(await trustedRoot()) as {
    ctlogs: Array<{ publicKey: { rawBytes: string } }>;
  };
  forged.ctlogs[0]!.publicKey.rawBytes = Buffer.from(other).toString('base64');
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON({ ...forged })), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
  });
  assert.ok(real.logId);
  assert.throws(() => verifier.verify(entity), /SCT|signed certificate timestamp|ctlog/i);
  // And a root without the CA does not accept the chain.
  const noCa = TrustedRoot.toJSON(await trustedRoot()) as Record<string, unknown>;
  noCa['certificateAuthorities'] = [];
  assert.throws(
    () =>
      new Verifier(toTrustMaterial(TrustedRoot.fromJSON(noCa)), {
        tlogThreshold: 0,
        ctlogThreshold: 1,
      }).verify(entity),
    /CERTIFICATE|chain/i,
  );
});
