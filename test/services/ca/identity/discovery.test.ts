import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { SignetError } from '../../../../src/core/errors.ts';
import { createIdentityVerifier } from '../../../../src/services/ca/identity/verifier.ts';
import { parseIssuerConfig } from '../../../../src/services/ca/identity/config.ts';
import { endlessServer } from '../../../helpers/endless-server.ts';

// A small real issuer on loopback whose behaviour each test sets, to watch what the verifier
// fetches: same-origin redirects, a discovery document naming another issuer, JWKS refetches.

let server: http.Server;
let iss: string;
let key: KeyObject;
let hits: string[] = [];
let discoveryIssuer: () => string;
let redirectDiscovery = false;

before(async () => {
  key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  server = http.createServer((req, res) => {
    hits.push(req.url!);
    const json = (v: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    if (req.url === '/.well-known/openid-configuration') {
      if (redirectDiscovery) {
        res.writeHead(301, { location: '/moved/.well-known/openid-configuration' }).end();
        return;
      }
      json({ issuer: discoveryIssuer(), jwks_uri: `${iss}/keys` });
    } else if (req.url === '/moved/.well-known/openid-configuration') {
      json({ issuer: discoveryIssuer(), jwks_uri: `${iss}/keys` });
    } else if (req.url === '/keys') {
      const jwk = key.export({ format: 'jwk' });
      delete jwk.d;
      json({ keys: [{ ...jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] });
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  iss = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  discoveryIssuer = () => iss;
});
after(() => server.close());

const config = () => parseIssuerConfig({ 'oidc-issuers': { [iss]: { type: 'email' } } });
const now = () => Math.floor(Date.now() / 1000);
const token = (kid: string, signer = key) =>
  new SignJWT({
    iss,
    sub: 's',
    aud: 'sigstore',
    iat: now(),
    exp: now() + 60,
    email: 'a@b.example',
    email_verified: true,
  })
    .setProtectedHeader({ alg: 'ES256', kid })
    .sign(signer);

test('a same-origin redirect during discovery is followed', async () => {
  redirectDiscovery = true;
  hits = [];
  try {
    const v = createIdentityVerifier(config());
    assert.equal((await v.verify(await token('k1'))).challenge, 'a@b.example');
    assert.deepEqual(hits, [
      '/.well-known/openid-configuration',
      '/moved/.well-known/openid-configuration',
      '/keys',
    ]);
  } finally {
    redirectDiscovery = false;
  }
});

test('a discovery document naming another issuer is refused', async () => {
  discoveryIssuer = () => 'https://someone-else.example';
  try {
    const v = createIdentityVerifier(config());
    await assert.rejects(v.verify(await token('k1')), (e: SignetError) => {
      assert.equal(e.code, 'ISSUER_UNREACHABLE');
      assert.match(e.message, /names issuer "https:\/\/someone-else.example", not http/);
      return true;
    });
  } finally {
    discoveryIssuer = () => iss;
  }
});

test('keys are cached; unknown kids refetch the JWKS at most once per cooldown', async () => {
  hits = [];
  const v = createIdentityVerifier(config(), { refreshCooldownMs: 60_000 });
  for (let i = 0; i < 5; i++) await v.verify(await token('k1'));
  assert.deepEqual(hits, ['/.well-known/openid-configuration', '/keys']);
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  for (let i = 0; i < 5; i++)
    await assert.rejects(
      v.verify(await token(`unknown-${i}`, other)),
      /does not publish in its JWKS/,
    );
  assert.deepEqual(
    hits,
    ['/.well-known/openid-configuration', '/keys'],
    'no refetch inside the cooldown',
  );
  const eager = createIdentityVerifier(config(), { refreshCooldownMs: 0 });
  hits = [];
  await eager.verify(await token('k1'));
  await assert.rejects(eager.verify(await token('unknown', other)), /does not publish/);
  assert.deepEqual(hits, ['/.well-known/openid-configuration', '/keys', '/keys']);
});

test('an issuer that answers without end is cut off at the limit, not buffered', async () => {
  const endless = await endlessServer('application/json');
  const endlessIss = endless.url;
  try {
    const v = createIdentityVerifier(
      parseIssuerConfig({ 'oidc-issuers': { [endlessIss]: { type: 'email' } } }),
      { timeoutMs: 10_000 },
    );
    const t = await new SignJWT({ iss: endlessIss, sub: 's', aud: 'sigstore', exp: now() + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(key);
    const t0 = Date.now();
    await assert.rejects(v.verify(t), (e: SignetError) => {
      assert.equal(e.code, 'ISSUER_UNREACHABLE');
      assert.match(
        e.message,
        /^cannot get the signing keys of issuer http:\S+: cannot reach the discovery document at \S+\/\.well-known\/openid-configuration: response is too large \(more than the 1048576 byte limit\)$/,
      );
      return true;
    });
    assert.ok(Date.now() - t0 < 5_000, `${Date.now() - t0} ms`);
    assert.ok(endless.streamed() < 16 * 1024 * 1024, `${endless.streamed()} bytes streamed`);
  } finally {
    endless.close();
  }
});
