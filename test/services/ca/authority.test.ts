import assert from 'node:assert/strict';
import { X509Certificate as NodeX509, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { encodePem } from '../../../src/core/encoding/pem.ts';
import { buildCaCertificate } from '../../../src/core/x509/fulcio-profile.ts';
import { parseCertificate } from '../../../src/core/x509/certificate.ts';
import {
  type CaChainVersion,
  type CaVersion,
  loadFileCa,
  openRingCa,
} from '../../../src/services/ca/authority.ts';
import { openCaVersions } from '../../../src/services/ca/history.ts';
import { KeyRing } from '../../../src/services/keyring.ts';

const names = { organization: 'acme', commonName: 'acme' };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ca-auth-'));

test('first start creates root + intermediate next to their keys; later starts reuse them', () => {
  const dir = tmp();
  const a = openRingCa(dir, { curve: 'P-384', names });
  assert.equal(a.length, 1);
  const [ica, root] = a[0]!.chain;
  assert.equal(ica!.subject, 'CN=acme-intermediate, O=acme');
  assert.equal(root!.subject, 'CN=acme, O=acme');
  assert.equal(ica!.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
  assert.ok(fs.existsSync(path.join(dir, 'keys/ca/1.crt')));
  assert.ok(fs.existsSync(path.join(dir, 'keys/ca-root/1.crt')));
  assert.equal(fs.statSync(path.join(dir, 'keys/ca/1.crt')).mode & 0o777, 0o600);
  const b = openRingCa(dir, { curve: 'P-384', names });
  assert.deepEqual(b[0]!.chain[0]!.der, ica!.der);
  assert.deepEqual(b[0]!.chain[1]!.der, root!.der);
});

test('rotating the CA key adds a new intermediate from the same root; the old one stays', () => {
  const dir = tmp();
  const first = openRingCa(dir, { curve: 'P-256', names });
  KeyRing.rotate(dir, 'ca');
  const after = openRingCa(dir, { curve: 'P-256', names });
  assert.equal(after.length, 2);
  assert.deepEqual(after[0]!.chain[0]!.der, first[0]!.chain[0]!.der);
  assert.ok(after[0]!.validTo);
  assert.equal(after[1]!.validTo, undefined);
  assert.notDeepEqual(after[1]!.chain[0]!.der, after[0]!.chain[0]!.der);
  const root = new NodeX509(after[1]!.chain[1]!.der);
  assert.equal(new NodeX509(after[1]!.chain[0]!.der).verify(root.publicKey), true);
});

function writeFileCa(dir: string, passphrase?: string) {
  const rk = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ik = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const spki = (k: typeof rk.publicKey) =>
    new Uint8Array(k.export({ format: 'der', type: 'spki' }));
  const now = new Date();
  const later = new Date(now.getTime() + 86400_000);
  const rootDer = buildCaCertificate({
    organization: 'x',
    commonName: 'x',
    publicKeySpki: spki(rk.publicKey),
    notBefore: now,
    notAfter: later,
    selfKey: rk.privateKey,
  });
  const icaDer = buildCaCertificate({
    organization: 'x',
    commonName: 'x-int',
    publicKeySpki: spki(ik.publicKey),
    notBefore: now,
    notAfter: later,
    issuer: { certificate: parseCertificate(rootDer), key: rk.privateKey },
  });
  fs.writeFileSync(
    path.join(dir, 'chain.pem'),
    encodePem('CERTIFICATE', icaDer) + encodePem('CERTIFICATE', rootDer),
  );
  const keyPem = passphrase
    ? ik.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase })
    : ik.privateKey.export({ format: 'pem', type: 'pkcs8' });
  fs.writeFileSync(path.join(dir, 'key.pem'), keyPem);
  fs.writeFileSync(
    path.join(dir, 'root-key.pem'),
    rk.privateKey.export({ format: 'pem', type: 'pkcs8' }),
  );
  return { icaDer, rootDer };
}

test('a CA from PEM files, the key encrypted with a passphrase', () => {
  const dir = tmp();
  const { icaDer } = writeFileCa(dir, 'hunter2');
  const opts = { certChain: path.join(dir, 'chain.pem'), key: path.join(dir, 'key.pem') };
  const v = loadFileCa({ ...opts, passphrase: 'hunter2' });
  assert.deepEqual(v[0]!.issuing.certificate.der, icaDer);
  assert.equal(v[0]!.chain.length, 2);
  assert.throws(() => loadFileCa({ ...opts, passphrase: 'wrong' }), /wrong passphrase/);
  assert.throws(() => loadFileCa(opts), /ca.keyPassphrase: the CA key .* is encrypted/);
  assert.throws(
    () => loadFileCa({ ...opts, key: path.join(dir, 'root-key.pem') }),
    /ca.key: does not match the public key of the first certificate/,
  );
  assert.throws(
    () => loadFileCa({ ...opts, certChain: path.join(dir, 'nope.pem') }),
    /ca.certChain: cannot read/,
  );
  // Chain in the wrong order: the root first.
  const pems = fs.readFileSync(opts.certChain, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/);
  fs.writeFileSync(path.join(dir, 'rev.pem'), pems[1]! + pems[0]!);
  assert.throws(
    () => loadFileCa({ certChain: path.join(dir, 'rev.pem'), key: path.join(dir, 'root-key.pem') }),
    /ca.certChain\[0\]: is not signed by ca.certChain\[1\]/,
  );
});

test('the CA chains a stack issued under: each distinct chain from files is a version, the one before ends when it starts, the same chain again changes nothing', () => {
  const dir = tmp();
  const data = path.join(dir, 'data');
  const files = (name: string) => {
    const sub = path.join(dir, name);
    fs.mkdirSync(sub);
    writeFileCa(sub);
    const opts = { certChain: path.join(sub, 'chain.pem'), key: path.join(sub, 'key.pem') };
    return { from: 'files' as const, version: loadFileCa(opts)[0]! };
  };
  const a = files('a');
  const b = files('b');
  const t1 = new Date('2031-01-01T00:00:00.250Z');
  const t2 = new Date('2032-01-01T00:00:00Z');
  const windows = (vs: CaChainVersion[]) =>
    vs.map((v) => [v.chain[0]!.der, v.validFrom.toISOString(), v.validTo?.toISOString()]);
  // A stack that never had another CA: the chain from its certificate's start, as before.
  const first = openCaVersions(data, a, t1);
  assert.deepEqual(windows(first), [
    [a.version.chain[0]!.der, a.version.validFrom.toISOString(), undefined],
  ]);
  const renewed = openCaVersions(data, b, t1);
  assert.deepEqual(windows(renewed), [
    [a.version.chain[0]!.der, a.version.validFrom.toISOString(), t1.toISOString()],
    [b.version.chain[0]!.der, t1.toISOString(), undefined],
  ]);
  assert.equal(renewed.at(-1), renewed[1]);
  assert.equal((renewed[1] as CaVersion).issuing, b.version.issuing);
  const record = fs.readFileSync(path.join(data, 'keys/ca-files/chains.json'), 'utf8');
  assert.deepEqual(windows(openCaVersions(data, b, t2)), windows(renewed));
  assert.equal(fs.readFileSync(path.join(data, 'keys/ca-files/chains.json'), 'utf8'), record);
  assert.equal(fs.statSync(path.join(data, 'keys/ca-files/2.crt')).mode & 0o777, 0o600);
  // Back to a chain used before: a new version (its earlier window stays as it was).
  const back = openCaVersions(data, a, t2);
  assert.deepEqual(windows(back).slice(1), [
    [b.version.chain[0]!.der, t1.toISOString(), t2.toISOString()],
    [a.version.chain[0]!.der, t2.toISOString(), undefined],
  ]);
  // A damaged record is named, not taken as empty (which would drop the chains in it).
  fs.writeFileSync(path.join(data, 'keys/ca-files/chains.json'), '{"versions":[{"id":1}]}');
  assert.throws(
    () => openCaVersions(data, a, t2),
    /keys\/ca-files\/chains\.json: versions\[0\]\.validFrom: must be a date/,
  );
});

test('from the built-in CA to files: its version ends when the files take over; back to it, a new version of its key', () => {
  const data = tmp();
  const ring = { from: 'ring' as const, curve: 'P-256' as const, names };
  const [builtIn] = openCaVersions(data, ring);
  const sub = tmp();
  writeFileCa(sub);
  const file = {
    from: 'files' as const,
    version: loadFileCa({
      certChain: path.join(sub, 'chain.pem'),
      key: path.join(sub, 'key.pem'),
    })[0]!,
  };
  const t1 = new Date(Date.now() + 60_000);
  const switched = openCaVersions(data, file, t1);
  assert.equal(switched.length, 2);
  assert.deepEqual(switched[0]!.chain[0]!.der, builtIn!.chain[0]!.der);
  assert.equal(switched[0]!.validTo?.toISOString(), t1.toISOString());
  assert.equal(switched[1]!.validFrom.toISOString(), t1.toISOString());
  assert.equal(switched[1]!.validTo, undefined);
  // The ring itself records the end, as a rotation would.
  assert.equal(
    KeyRing.open(data, 'ca', { type: 'ec', curve: 'P-256' }).current().validTo?.getTime(),
    t1.getTime(),
  );
  const t2 = new Date(t1.getTime() + 60_000);
  const back = openCaVersions(data, ring, t2);
  assert.equal(back.length, 3);
  assert.equal(back[1]!.validTo?.toISOString(), t2.toISOString());
  assert.equal(back[2]!.validFrom.toISOString(), t2.toISOString());
  assert.equal(back[2]!.validTo, undefined);
  assert.notDeepEqual(back[2]!.chain[0]!.der, builtIn!.chain[0]!.der);
  assert.deepEqual(back[2]!.chain[1]!.der, builtIn!.chain[1]!.der, 'from the same root');
});
