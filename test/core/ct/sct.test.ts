import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  embeddedScts,
  encodeMerkleTreeLeaf,
  encodeSctListExtension,
  issuerKeyHash,
  logIdOf,
  parseMerkleTreeLeaf,
  parseSct,
  parseSctList,
  precertTbs,
  signSct,
  verifyEmbeddedScts,
  verifySct,
  encodeSct,
} from '../../../src/core/ct/sct.ts';
import { extensionOf, OID, parseCertificate } from '../../../src/core/x509/certificate.ts';
import { issuerOf, loadFixture, SCT_CASES } from '../x509/fixtures.ts';

test('verifies the real embedded SCTs of public-good certificates against their CT log keys', () => {
  for (const name of SCT_CASES) {
    const f = loadFixture(name);
    const res = verifyEmbeddedScts(f.leaf, issuerOf(f).spki, f.ctlogs);
    assert.equal(res.length, 1, name);
    assert.equal(res[0]!.verified, true, name);
    assert.ok(res[0]!.log, name);
  }
});

test('an SCT from a log whose key in the trusted root is wrong does not verify', () => {
  const f = loadFixture('invalid-ct-key_fail');
  const res = verifyEmbeddedScts(f.leaf, issuerOf(f).spki, f.ctlogs);
  assert.equal(res.length, 1);
  assert.equal(res[0]!.verified, false);
});

test('wrong issuer key, wrong log key, or a changed byte fail the check', () => {
  const f = loadFixture('happy-path-v0.3');
  const ica = issuerOf(f);
  const root = f.cas.find((c) => c !== ica && c.subject === 'CN=sigstore, O=sigstore.dev')!;
  assert.equal(verifyEmbeddedScts(f.leaf, root.spki, f.ctlogs)[0]!.verified, false);
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const sct = embeddedScts(f.leaf)[0]!;
  const entry = {
    type: 'precert' as const,
    issuerKeyHash: issuerKeyHash(ica.spki),
    tbs: precertTbs(f.leaf),
  };
  const log = f.ctlogs.find((l) => Buffer.from(l.logId).equals(sct.logId))!;
  assert.equal(verifySct(sct, entry, log.publicKey), true);
  assert.equal(verifySct(sct, entry, other), false);
  assert.equal(verifySct({ ...sct, timestamp: sct.timestamp + 1 }, entry, log.publicKey), false);
  const tbs = new Uint8Array(entry.tbs);
  tbs[tbs.length - 1] ^= 1;
  assert.equal(verifySct(sct, { ...entry, tbs }, log.publicKey), false);
  // No log with that ID: reported, not verified.
  const none = verifyEmbeddedScts(f.leaf, ica.spki, []);
  assert.equal(none[0]!.verified, false);
  assert.equal(none[0]!.log, undefined);
});

test('SCT list encoding reproduces the certificate extension byte for byte', () => {
  for (const name of ['happy-path-v0.3', 'bundle-with-sct-with-extensions']) {
    const c = loadFixture(name).leaf;
    const scts = embeddedScts(c);
    assert.deepEqual(encodeSctListExtension(scts), extensionOf(c, OID.sctList)!.value);
    assert.deepEqual(parseSct(encodeSct(scts[0]!)), scts[0]);
  }
  const withExt = embeddedScts(loadFixture('bundle-with-sct-with-extensions').leaf)[0]!;
  // static-ct-api leaf_index extension: type 0, length 5.
  assert.deepEqual([...withExt.extensions.subarray(0, 3)], [0, 0, 5]);
});

test('precert TBS drops exactly the SCT extension', () => {
  const c = loadFixture('happy-path-v0.3').leaf;
  const pre = precertTbs(c);
  const sctExt = extensionOf(c, OID.sctList)!;
  // The extension TLV is 4 (SEQUENCE hdr) + 12 (OID) + 4 (OCTET STRING hdr) + value length.
  assert.ok(pre.length < c.tbs.length - sctExt.value.length);
  assert.ok(pre.length > c.tbs.length - sctExt.value.length - 30);
  assert.equal(Buffer.from(pre).indexOf(Buffer.from(sctExt.value)), -1);
  // A certificate without SCTs has no precert TBS to rebuild.
  const ca = issuerOf(loadFixture('happy-path-v0.3'));
  assert.deepEqual(embeddedScts(ca), []);
  assert.throws(() => precertTbs(ca), /has no SCT list extension/);
});

test('sign + verify round trip for precert and x509 entries, with each key type', () => {
  const c = loadFixture('happy-path-v0.3').leaf;
  for (const kp of [
    generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    generateKeyPairSync('ed25519'),
    generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ]) {
    const spki = new Uint8Array(kp.publicKey.export({ format: 'der', type: 'spki' }));
    const id = logIdOf(spki);
    for (const entry of [
      { type: 'x509' as const, certificate: c.der },
      { type: 'precert' as const, issuerKeyHash: new Uint8Array(32).fill(7), tbs: precertTbs(c) },
    ]) {
      const sct = signSct(kp.privateKey, id, 1700000000123, entry);
      assert.equal(verifySct(parseSct(encodeSct(sct)), entry, kp.publicKey), true);
      const leaf = parseMerkleTreeLeaf(encodeMerkleTreeLeaf(sct.timestamp, entry, sct.extensions));
      assert.equal(leaf.timestamp, 1700000000123);
      assert.deepEqual(leaf.entry, entry);
    }
  }
});

test('malformed SCT bytes are errors naming the field', () => {
  const sct = embeddedScts(loadFixture('happy-path-v0.3').leaf)[0]!;
  const bytes = encodeSct(sct);
  assert.throws(() => parseSct(bytes.subarray(0, 40), 'sct'), /sct: is truncated/);
  assert.throws(() => parseSct(new Uint8Array([...bytes, 1]), 'sct'), /sct: has 1 trailing bytes/);
  const v2 = new Uint8Array(bytes);
  v2[0] = 1;
  assert.throws(() => parseSct(v2, 'sct'), /not v1/);
  assert.throws(() => parseSctList(new Uint8Array([0, 0]), 'list'), /list: is empty/);
  assert.throws(() => parseMerkleTreeLeaf(new Uint8Array([0, 0, 0]), 'leaf'), /leaf: is truncated/);
  const cert = parseCertificate(loadFixture('happy-path-v0.3').leaf.der);
  assert.equal(embeddedScts(cert).length, 1);
});
