// Anyone can log an entry whose certificate they made themselves, naming any identity and any
// OIDC issuer, even from a CA with the stack CA's very names. The explorer must not present
// such a certificate's identity as the signer the way it presents one the stack's CA issued.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempStack, stackToken } from '../../helpers/stack.ts';
import { setupSigning } from '../../../src/client/sign/setup.ts';
import { signArtifact } from '../../../src/client/sign/sign.ts';
import { entryUuid } from '../../../src/core/rekor/index.ts';
import { leafHash } from '../../../src/core/merkle/hash.ts';
import { craftCertificate, emailSan, logCrafted, ownCa } from '../../helpers/crafted-entries.ts';

const WHO = 'dev@signet.local';

let stack: Awaited<ReturnType<typeof tempStack>>;
let genuine: string;
let forged: string;

/** The page's text, tags and whitespace runs gone. */
async function text(path: string): Promise<string> {
  const r = await fetch(`${stack.url}${path}`);
  assert.equal(r.status, 200);
  return (await r.text())
    .replace(/<style>[^<]*<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replaceAll('&#39;', "'");
}

describe('certificates no CA of the trusted root issued', () => {
  before(async () => {
    stack = await tempStack({ config: { oidc: { identities: [{ flavor: 'email', name: WHO }] } } });
    const ctx = await setupSigning({
      server: stack.url,
      identityToken: await stackToken(stack.url, WHO),
      rekorVersion: 1,
      interactive: 'never',
      env: {},
    });
    const bundle = await signArtifact(new TextEncoder().encode('signed through the CA'), ctx);
    genuine = entryUuid(leafHash(bundle.verificationMaterial.tlogEntries[0]!.canonicalizedBody));
    const root = (await (await fetch(`${stack.url}/trusted_root.json`)).json()) as {
      certificateAuthorities: Array<{ subject: { organization: string; commonName: string } }>;
    };
    const issuer = `${stack.url}/oidc`;
    forged = await logCrafted(
      stack.url,
      craftCertificate(ownCa(root.certificateAuthorities[0]!.subject), {
        sans: [emailSan(WHO)],
        extensions: { 1: issuer, 8: issuer },
      }),
      'made by someone else',
    );
  });
  after(async () => stack?.close());

  test('the entry page says the certificate is not from this stack’s CA, and why', async () => {
    const page = await text(`/entry/${forged}`);
    assert.match(page, /Signer \(claimed\)/);
    assert.match(
      page,
      /Issued by not from this stack's CA No CA of this stack's trusted root issued this certificate \([^)]*\S[^)]*\): anyone can make a certificate naming any identity/,
    );
    assert.match(page, new RegExp(`Signed by ${WHO} .*not from this stack's CA`));
    const real = await text(`/entry/${genuine}`);
    assert.match(
      real,
      /Issued by issued by this stack's CA CN=signet-intermediate, O=signet Identity/,
    );
    assert.doesNotMatch(real, /not from this stack's CA|\(claimed\)/);
  });

  test('result lists mark the forged entry, not the genuine one', async () => {
    const list = await text(`/?q=${encodeURIComponent(WHO)}`);
    assert.match(list, /2 entries/);
    const rows = list.split(/ (?=\d+ \d{4}-\d\d-\d\dT)/).slice(1);
    assert.equal(rows.length, 2, list);
    assert.match(rows[0]!, new RegExp(`${WHO} not from this stack's CA`));
    assert.doesNotMatch(rows[1]!, /not from this stack's CA/);
    const api = (await (
      await fetch(`${stack.url}/explorer/api/search?q=${encodeURIComponent(WHO)}`)
    ).json()) as { items: Array<{ uuid: string; issuedByTrustedCa: boolean }> };
    assert.deepEqual(
      api.items.map((i) => [i.uuid, i.issuedByTrustedCa]),
      [
        [forged, false],
        [genuine, true],
      ],
    );
  });
});
