import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  chainsToRoots,
  createTrustedRoot,
  parseServiceSpec,
} from '../../../src/client/sign/trusted-root-create.ts';

const files = (m: Record<string, string>) => ({
  read: (f: string) => {
    if (!(f in m)) throw new Error(`no ${f}`);
    return m[f]!;
  },
});
const none = { fulcio: [], rekor: [], ctfe: [], tsa: [] };

test('a Rekor v2 log given by origin is named by its C2SP key ID; a v1 log by SHA-256(SPKI)', () => {
  const ed = generateKeyPairSync('ed25519').publicKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const pem = (k: typeof ed) => k.export({ format: 'pem', type: 'spki' }) as string;
  const root = createTrustedRoot(
    {
      ...none,
      rekor: [
        'url=https://log2025-1.rekor.example,public-key=ed.pub,start-time=2025-01-01T00:00:00Z,origin=log2025-1.rekor.example',
        'url=https://rekor.example,public-key=ec.pub,start-time=2024-01-01T00:00:00Z,end-time=2025-01-01T00:00:00Z',
      ],
    },
    files({ 'ed.pub': pem(ed), 'ec.pub': pem(ec) }),
  ) as any;
  const raw = ed.export({ format: 'der', type: 'spki' }).subarray(-32);
  const want = createHash('sha256')
    .update(Buffer.concat([Buffer.from('log2025-1.rekor.example'), Buffer.from([0x0a, 0x01]), raw]))
    .digest('base64');
  assert.equal(root.tlogs[0].logId.keyId, want);
  assert.equal(root.tlogs[0].checkpointKeyId.keyId, want);
  assert.equal(root.tlogs[0].publicKey.keyDetails, 'PKIX_ED25519');
  assert.equal(
    root.tlogs[1].logId.keyId,
    createHash('sha256')
      .update(ec.export({ format: 'der', type: 'spki' }))
      .digest('base64'),
  );
  assert.equal(root.tlogs[1].checkpointKeyId, undefined);
  assert.deepEqual(root.tlogs[1].publicKey.validFor, {
    start: '2024-01-01T00:00:00Z',
    end: '2025-01-01T00:00:00Z',
  });
});

test('service specs: unknown, repeated and missing keys, bad URLs and times are named', () => {
  assert.deepEqual(
    parseServiceSpec('tsa', 'url=http://t/api/v1/timestamp,certificate-chain=c.pem'),
    {
      url: 'http://t/api/v1/timestamp',
      'certificate-chain': 'c.pem',
    },
  );
  assert.throws(
    () => parseServiceSpec('tsa', 'url=http://t,certificate-chain=c,colour=red'),
    /--tsa: unknown key "colour"/,
  );
  assert.throws(
    () => parseServiceSpec('tsa', 'url=http://t,url=http://u,certificate-chain=c'),
    /key "url" is given twice/,
  );
  assert.throws(
    () => parseServiceSpec('rekor', 'url=http://t,public-key=k'),
    /--rekor: "start-time" is required/,
  );
  assert.throws(
    () => parseServiceSpec('ctfe', 'url=nope,public-key=k,start-time=2020-01-01T00:00:00Z'),
    /--ctfe url: "nope" is not a URL/,
  );
  assert.throws(
    () => parseServiceSpec('ctfe', 'url=http://c,public-key=k,start-time=yesterday'),
    /--ctfe start-time: "yesterday" is not an RFC 3339 time/,
  );
  assert.throws(
    () => parseServiceSpec('fulcio', 'just-a-url'),
    /--fulcio: "just-a-url" is not key=value/,
  );
  assert.throws(
    () =>
      createTrustedRoot(
        { ...none, fulcio: ['url=http://ca,certificate-chain=k.pub'] },
        files({ 'k.pub': '-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n' }),
      ),
    /--fulcio certificate-chain: PEM block 1 is "PUBLIC KEY", not a CERTIFICATE/,
  );
});

test('chainsToRoots: a path from each certificate to a root, each step checked by signature, not only by name', () => {
  // Two roots with the same name (a rotated root keeps its name) and an intermediate the second
  // issued, with no key identifiers to tell them apart: only the signature does. Made by OpenSSL.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-chains-'));
  const openssl = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const r of ['a', 'b'])
    openssl(
      ['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=same root'].concat([
        '-keyout',
        `root-${r}.key`,
        '-out',
        `root-${r}.crt`,
      ]),
    );
  openssl([
    'req',
    '-new',
    ...ec,
    '-subj',
    '/CN=intermediate',
    '-keyout',
    'int.key',
    '-out',
    'int.csr',
  ]);
  fs.writeFileSync(
    path.join(dir, 'ext.cnf'),
    'basicConstraints=critical,CA:true\nauthorityKeyIdentifier=none\nsubjectKeyIdentifier=none\n',
  );
  openssl(
    ['x509', '-req', '-in', 'int.csr', '-CA', 'root-b.crt', '-CAkey', 'root-b.key'].concat([
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
      '-out',
      'int.crt',
    ]),
  );
  const [int, rootA, rootB] = ['int.crt', 'root-a.crt', 'root-b.crt'].map(
    (f) => new X509Certificate(fs.readFileSync(path.join(dir, f))),
  );
  const names = (chain: X509Certificate[]) =>
    chain.map((c) => (c === int ? 'int' : c === rootA ? 'root-a' : 'root-b'));
  assert.deepEqual(chainsToRoots([int!, rootA!, rootB!]).map(names), [
    ['int', 'root-b'],
    ['root-a'],
    ['root-b'],
  ]);
  // Without its root, the intermediate leads nowhere.
  assert.deepEqual(chainsToRoots([int!, rootA!]).map(names), [['root-a']]);
});
