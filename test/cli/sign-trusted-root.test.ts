// `signet trusted-root` against a running stack: prints or saves its trust documents.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempStack } from '../helpers/stack.ts';
import { signet } from '../interop/sign-helpers.ts';

const stack = await tempStack();
after(() => stack.close());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-tr-'));

test('prints the trusted root the stack serves, and saves it with --out', async () => {
  const served = await (await fetch(`${stack.url}/trusted_root.json`)).json();
  const r = await signet(['trusted-root', '--server', stack.url], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), served);
  const s = await signet(['trusted-root', '--server', stack.url, '--out', 'root.json'], {
    cwd: dir,
  });
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'root.json'), 'utf8')), served);
});

test('--signing-config prints the signing config', async () => {
  const served = await (await fetch(`${stack.url}/signing_config.json`)).json();
  const r = await signet(['trusted-root', '--signing-config', '--server', stack.url], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), served);
});

test('a server that is not a Signet stack: a clear error', async () => {
  const r = await signet(['trusted-root', '--server', `${stack.url}/nothing-here`], { cwd: dir });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^error: the trust server at .*\/nothing-here\/trusted_root.json answered HTTP 404/,
  );
});

test('trusted-root create rebuilds the stack’s trusted root from its PEM material (cosign’s spec flags)', async () => {
  const served = (await (await fetch(`${stack.url}/trusted_root.json`)).json()) as any;
  const pem = (label: string, b64: string) =>
    `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
  const chainFile = (name: string, ca: any) => {
    fs.writeFileSync(
      path.join(dir, name),
      ca.certChain.certificates.map((c: any) => pem('CERTIFICATE', c.rawBytes)).join(''),
    );
    return name;
  };
  const keyFile = (name: string, log: any) => {
    fs.writeFileSync(path.join(dir, name), pem('PUBLIC KEY', log.publicKey.rawBytes));
    return name;
  };
  const times = (v: any) => `start-time=${v.start}${v.end ? `,end-time=${v.end}` : ''}`;
  const args = ['trusted-root', 'create', '--out', 'created.json'];
  served.certificateAuthorities.forEach((ca: any, i: number) =>
    args.push(
      '--fulcio',
      `url=${ca.uri},certificate-chain=${chainFile(`ca${i}.pem`, ca)},${times(ca.validFor)}`,
    ),
  );
  served.timestampAuthorities.forEach((ca: any, i: number) =>
    args.push(
      '--tsa',
      `url=${ca.uri},certificate-chain=${chainFile(`tsa${i}.pem`, ca)},${times(ca.validFor)}`,
    ),
  );
  served.tlogs.forEach((l: any, i: number) =>
    args.push(
      '--rekor',
      `url=${l.baseUrl},public-key=${keyFile(`rekor${i}.pub`, l)},${times(l.publicKey.validFor)}${l.checkpointKeyId ? ',origin=log' : ''}`,
    ),
  );
  served.ctlogs.forEach((l: any, i: number) =>
    args.push(
      '--ctfe',
      `url=${l.baseUrl},public-key=${keyFile(`ct${i}.pub`, l)},${times(l.publicKey.validFor)}`,
    ),
  );
  const r = await signet(args, { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const created = JSON.parse(fs.readFileSync(path.join(dir, 'created.json'), 'utf8'));
  const strip = (root: any) =>
    JSON.parse(
      JSON.stringify(root, (k, v) => (k === 'operator' || k === 'subject' ? undefined : v)),
    );
  // operator and CA subject are informational labels the server chooses; all else must match
  assert.deepEqual(strip(created), strip(served));
  assert.equal(created.timestampAuthorities[0].subject.commonName, 'signet-tsa-1');

  const bad = await signet(
    [
      'trusted-root',
      'create',
      '--rekor',
      'url=http://x,public-key=ca0.pem,start-time=2020-01-01T00:00:00Z',
    ],
    { cwd: dir },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: --rekor public-key: is not a PEM public key/);
  const bad2 = await signet(
    ['trusted-root', 'create', '--ctfe', 'url=http://x,public-key=ct0.pub'],
    { cwd: dir },
  );
  assert.equal(bad2.status, 1);
  assert.match(bad2.stderr, /^error: --ctfe: "start-time" is required/);
});
