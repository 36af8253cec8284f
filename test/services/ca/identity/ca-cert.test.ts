// Fulcio's `ca-cert` for an issuer (fulcio#1665): an identity provider served over HTTPS with a
// certificate of an internal CA is reached when its issuer entry names that CA, and not
// otherwise. The built-in provider behind a real HTTPS server on loopback, its certificate
// made by OpenSSL; `challenge-claim` is what the configuration API reports.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignetError } from '../../../../src/core/errors.ts';
import { bindServer, createApp } from '../../../../src/services/http/app.ts';
import { oidcService } from '../../../../src/services/oidc/service.ts';
import { createIdentityVerifier } from '../../../../src/services/ca/identity/verifier.ts';
import { parseIssuerConfig } from '../../../../src/services/ca/identity/config.ts';
import { createService, serviceContext } from '../../context.ts';
import { selfSigned } from '../../../helpers/tls.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-ca-cert-'));
const tls = selfSigned(dir, 'IP:127.0.0.1');
const other = selfSigned(dir, 'IP:127.0.0.1', 'other');
let front: https.Server;
let provider: http.Server;
let issuer: string;
let token: string;

before(async () => {
  // The HTTPS front first: its URL is the provider's issuer URL.
  let backend = '';
  front = https.createServer(
    { cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) },
    (q, s) => {
      const r = http.request(
        `${backend}${q.url}`,
        { method: q.method, headers: q.headers },
        (a) => {
          s.writeHead(a.statusCode ?? 502, a.headers);
          a.pipe(s);
        },
      );
      q.pipe(r);
    },
  );
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const { server, url } = await bindServer(0, '127.0.0.1');
  provider = server as http.Server;
  backend = url;
  const app = createApp({}, () => provider);
  const mod = await createService(
    oidcService,
    serviceContext({ dataDir: path.join(dir, 'oidc'), baseUrl: frontUrl }),
    {},
  );
  await app.register(async (s) => mod.register(s), { prefix: mod.prefix });
  await app.ready();
  issuer = `${frontUrl}/oidc`;
  const res = await fetch(`${url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'sigstore',
      subject: 'dev@signet.local',
    }),
  });
  token = ((await res.json()) as { id_token: string }).id_token;
});
after(() => {
  front.closeAllConnections();
  front.close();
  provider.closeAllConnections();
  provider.close();
});

/** A verifier trusting the HTTPS issuer, with `extra` YAML lines in its entry. */
function verifierWith(extra: string) {
  return createIdentityVerifier(
    parseIssuerConfig(
      `oidc-issuers:\n  ${issuer}:\n    issuer-url: ${issuer}\n    client-id: sigstore\n    type: email\n${extra}`,
      'issuers.yaml',
    ),
    { refreshCooldownMs: 0 },
  );
}

/** `ca-cert: |` followed by the PEM file's lines, as an operator writes it. */
const caCert = (file: string) =>
  `    ca-cert: |\n${fs
    .readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}\n`;

test("with the issuer's CA in ca-cert, its keys are fetched over HTTPS and the token verifies", async () => {
  const v = verifierWith(caCert(tls.cert));
  assert.equal((await v.verify(token)).challenge, 'dev@signet.local');
});

test('without it, or with another CA, the HTTPS issuer is not trusted and nothing verifies', async () => {
  for (const extra of ['', caCert(other.cert)])
    await assert.rejects(verifierWith(extra).verify(token), (e: unknown) => {
      assert.ok(e instanceof SignetError, String(e));
      assert.equal(e.code, 'ISSUER_UNREACHABLE');
      assert.match(e.message, /^cannot get the signing keys of issuer https:.*certificate/);
      return true;
    });
});

test("challenge-claim is what the configuration API names (Fulcio's issuerToChallengeClaim)", () => {
  assert.equal(verifierWith('').issuers()[0]!.challengeClaim, 'email');
  assert.equal(verifierWith('    challenge-claim: upn\n').issuers()[0]!.challengeClaim, 'upn');
});
