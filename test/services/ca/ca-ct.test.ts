import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { embeddedScts, verifyEmbeddedScts } from '../../../src/core/ct/sct.ts';
import { OID, parseCertificatesPem } from '../../../src/core/x509/certificate.ts';
import type { CtlogServiceModule } from '../../../src/services/ctlog/service.ts';
import { keyRequest, proofBy, startCa, type Harness } from './harness.ts';

let h: Harness;
let ctlog: CtlogServiceModule;
before(async () => {
  h = await startCa({ ctlog: { batchMaxAgeMs: 1 } });
  ctlog = h.services.ctlog!;
});
after(async () => {
  if (h) await h.close();
});

async function treeSize(): Promise<number> {
  return (await ctlog.log.engine.checkpoint()).size;
}

test('the CA logs a precertificate and embeds the SCT; the SCT verifies with the CT key from trust()', async () => {
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const size = await treeSize();
  const res = await h.post(
    keyRequest(kp.publicKey, proofBy(kp.privateKey, 'dev@signet.local'), await h.token('email')),
  );
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const s = res.json['signedCertificateEmbeddedSct'] as { chain: { certificates: string[] } };
  assert.equal(s.chain.certificates.length, 3);
  const [leaf, ica] = s.chain.certificates.map((p) => parseCertificatesPem(p)[0]!);
  assert.equal(leaf!.extensions.at(-1)!.oid, OID.sctList);
  const trust = (await ctlog.trust!()) as {
    ctlogs: Array<{ publicKey: { rawBytes: string }; logId: { keyId: string } }>;
  };
  const logs = trust.ctlogs.map((l) => ({
    logId: new Uint8Array(Buffer.from(l.logId.keyId, 'base64')),
    publicKey: createPublicKey({
      key: Buffer.from(l.publicKey.rawBytes, 'base64'),
      format: 'der',
      type: 'spki',
    }),
  }));
  const r = verifyEmbeddedScts(leaf!, ica!.spki, logs);
  assert.equal(r.length, 1);
  assert.equal(r[0]!.verified, true);
  assert.equal(await treeSize(), size + 1);
  // The SCT's timestamp is inside the certificate's validity.
  const ts = embeddedScts(leaf!)[0]!.timestamp;
  assert.ok(ts >= leaf!.notBefore.getTime() && ts <= leaf!.notAfter.getTime());
  // The log accepts the CA's root: get-roots names it.
  const roots = (await (await fetch(`${h.url}/ctlog/ct/v1/get-roots`)).json()) as {
    certificates: string[];
  };
  const rootDer = parseCertificatesPem(s.chain.certificates[2]!)[0]!.der;
  assert.deepEqual(roots.certificates, [Buffer.from(rootDer).toString('base64')]);
});

test('a failed request logs nothing in the CT log', async () => {
  const size = await treeSize();
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = await h.token('email');
  for (const body of [
    keyRequest(kp.publicKey, proofBy(kp.privateKey, 'wrong@x'), token),
    keyRequest(kp.publicKey, proofBy(kp.privateKey, 'dev@signet.local'), token + 'x'),
    keyRequest(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, 'AAAA', token),
  ]) {
    const res = await h.post(body);
    assert.ok(res.status >= 400 && res.status < 500, JSON.stringify(res.json));
  }
  assert.equal(await treeSize(), size);
});
